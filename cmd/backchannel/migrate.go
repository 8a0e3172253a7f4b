package main

import (
	"context"
	"fmt"

	"github.com/backchannel/backchannel"
)

// migrateCmd applies pending schema migrations.
type migrateCmd struct{ env *cliEnv }

func (c *migrateCmd) Name() string     { return "migrate" }
func (c *migrateCmd) Synopsis() string { return "apply pending schema migrations" }

func (c *migrateCmd) Run(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "migrate", "migrate [--db DSN]")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *db, true)
	if err != nil {
		return err
	}
	defer st.Close()
	have, _, err := st.(backchannel.Migrator).SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.stdout, "schema at version %d\n", have)
	return nil
}
