package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest/demo"
)

// demoCmd seeds the deterministic demo organisation.
type demoCmd struct{ env *cliEnv }

func (c *demoCmd) Name() string { return "demo" }
func (c *demoCmd) Synopsis() string {
	return "seed a deterministic demo enterprise through the ingest path"
}

func (c *demoCmd) Run(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "demo", "demo [--db DSN] [--members N] [--days N] [--seed N] [--json]")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	members := fs.Int("members", 500, "number of members across the workspaces")
	days := fs.Int("days", 365, "days of history, ending today (UTC)")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same organisation")
	asJSON := fs.Bool("json", false, "print the enterprise id, tokens and channels as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *members < 10 || *days < 1 {
		return &usageError{"--members must be at least 10 and --days at least 1"}
	}
	st, err := openStore(ctx, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := seedDemo(ctx, c.env, st, demoConfig(*seed, *members, *days))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printDemo(c.env, "http://127.0.0.1:8080", res)
	return nil
}

// demoConfig fixes the demo's "now" to today's UTC midnight, so a seed gives
// the same organisation all day long.
func demoConfig(seed int64, members, days int) demo.Config {
	return demo.Config{Seed: seed, Members: members, Days: days,
		Now: time.Now().UTC().Truncate(24 * time.Hour)}
}

// seedDemo seeds the demo into an empty store; into a non-empty one it only
// makes sure the demo tokens exist (they are derived from the seed).
func seedDemo(ctx context.Context, env *cliEnv, st backchannel.Store, cfg demo.Config) (demo.Result, error) {
	empty, err := st.Empty(ctx)
	if err != nil {
		return demo.Result{}, err
	}
	if !empty {
		res, err := demo.Describe(cfg)
		if err != nil {
			return res, err
		}
		if _, err := st.TokenByHash(ctx, backchannel.HashToken(res.Tokens["member"])); err != nil {
			return res, fmt.Errorf("the database already holds data that is not the demo of seed %d: use an empty --db for --demo", cfg.Seed)
		}
		fmt.Fprintln(env.stderr, "database already seeded; using its demo data")
		return res, nil
	}
	start := time.Now()
	fmt.Fprintln(env.stderr, "seeding the demo organisation…")
	res, err := demo.Seed(ctx, st, cfg)
	if err != nil {
		return res, fmt.Errorf("seed demo: %w", err)
	}
	fmt.Fprintf(env.stderr, "seeded in %s\n", time.Since(start).Round(100*time.Millisecond))
	return res, nil
}
