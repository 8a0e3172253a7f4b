package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/backchannel/backchannel/ingest/demo"
	"github.com/backchannel/backchannel/server"
	"github.com/backchannel/backchannel/slackapi"
)

// serveGCPercent is the server's GOGC unless the environment sets one.
const serveGCPercent = 400

// serveCmd runs the HTTP server.
type serveCmd struct{ env *cliEnv }

func (c *serveCmd) Name() string { return "serve" }
func (c *serveCmd) Synopsis() string {
	return "run the server (Slack Web API under /api/, events at /ingest/events)"
}

func (c *serveCmd) Run(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "serve", "serve [--db DSN] [--addr 127.0.0.1:8080] [--demo] [--rate-limit slack|off|xN] [--analytics-settle 1h] [--analytics-retention 13mo|400d|0]")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	withDemo := fs.Bool("demo", false, "seed the demo organisation into an empty database first and print its tokens")
	seed := fs.Int64("seed", 1, "demo seed (with --demo)")
	rate := fs.String("rate-limit", "slack", "rate limits: slack (Slack's tiers), off, or a multiplier of Slack's tiers such as x10")
	maxBytes := fs.Int64("max-ingest-bytes", 64<<20, "largest /ingest/events body, before and after gzip")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	settle := settleFlag(fs)
	retention := retentionFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rl, err := slackapi.ParseRateLimit(*rate)
	if err != nil {
		return &usageError{fmt.Sprintf("--rate-limit %q: %v", *rate, err)}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return &usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", *logLevel)}
	}
	log := slog.New(slog.NewTextHandler(c.env.stderr, &slog.HandlerOptions{Level: level}))
	if os.Getenv("GOGC") == "" {
		// The server's live heap is small (caches, one group of batches
		// in flight) and its allocation rate high under ingest: collecting
		// at 5x the live heap instead of 2x cuts the GC's share of the
		// CPU several times over for tens of MiB more (docs/BENCHMARKS.md).
		debug.SetGCPercent(serveGCPercent)
	}

	st, err := openStore(ctx, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()

	var demoRes *demo.Result
	if *withDemo {
		res, err := seedDemo(ctx, c.env, st, demoConfig(*seed, 0, 0))
		if err != nil {
			return err
		}
		demoRes = &res
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	api := slackapi.New(slackapi.Config{Store: st, RateLimit: rl, Limiter: limiterFor(st), Now: time.Now, Logger: log,
		Settle: *settle, Retention: *retention})
	srv := server.New(server.Config{Store: st, API: api, Logger: log, MaxIngestBytes: *maxBytes,
		Settle: *settle, Now: time.Now})
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(c.env.stdout, "backchannel listening on %s (store: %s, rate limits: %s)\n", base, redact(*db), *rate)
	if demoRes != nil {
		printDemo(c.env, base, *demoRes)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-errc
}

// printDemo prints the demo tokens and a curl line that works verbatim.
func printDemo(env *cliEnv, base string, res demo.Result) {
	fmt.Fprintf(env.stdout, "\ndemo enterprise %s — tokens:\n", res.EnterpriseID)
	for _, k := range []string{"admin", "member", "bot"} {
		fmt.Fprintf(env.stdout, "  %-7s %s\n", k, res.Tokens[k])
	}
	ch := res.Channels["general"]
	if ch == "" {
		for _, id := range res.Channels {
			ch = id
			break
		}
	}
	q := url.Values{"channel": {ch}, "limit": {"3"}}
	fmt.Fprintf(env.stdout, "\ntry:\n  curl -s -H 'Authorization: Bearer %s' '%s/api/conversations.history?%s'\n\n",
		res.Tokens["member"], base, q.Encode())
	if _, err := os.Stat("docs/api.md"); err == nil {
		fmt.Fprintln(env.stdout, "methods and their deviations from Slack: docs/api.md")
	}
}
