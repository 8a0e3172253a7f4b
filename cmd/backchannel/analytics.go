package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/slackapi"
)

// analyticsCmd closes days and rebuilds closed days on purpose; serve
// closes days by itself as they pass the settle delay.
type analyticsCmd struct{ env *cliEnv }

func (c *analyticsCmd) Name() string { return "analytics" }
func (c *analyticsCmd) Synopsis() string {
	return "close analytics days now or rebuild closed days (finalize|rebuild)"
}

func (c *analyticsCmd) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return &usageError{"need a subcommand: finalize or rebuild"}
	}
	switch args[0] {
	case "finalize":
		return c.finalize(ctx, args[1:])
	case "rebuild":
		return c.rebuild(ctx, args[1:])
	}
	return &usageError{fmt.Sprintf("unknown subcommand %q: want finalize or rebuild", args[0])}
}

func (c *analyticsCmd) finalize(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "analytics finalize", "analytics finalize [--db DSN] [--through YYYY-MM-DD] [--analytics-settle 1h]")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	through := fs.String("through", "", "close every day with data up to and including this UTC date (default: every day past the settle delay)")
	settle := settleFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	last := slackapi.ClosableThrough(time.Now(), slackapi.SettleOrDefault(*settle))
	day := last
	if *through != "" {
		d, err := backchannel.ParseDay(*through)
		if err != nil {
			return &usageError{fmt.Sprintf("--through: %v", err)}
		}
		// A closed day's files never change: closing one still in
		// progress would freeze a partial day.
		if d > last {
			return &usageError{fmt.Sprintf("--through %s: that day has not ended plus the settle delay yet (the last closable day is %s)", d, last)}
		}
		day = d
	}
	st, as, err := openAnalytics(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	days, err := as.FinalizeDays(ctx, day)
	if err != nil {
		return fmt.Errorf("finalize through %s: %w", day, err)
	}
	switch len(days) {
	case 0:
		fmt.Fprintf(c.env.stdout, "no days to close through %s\n", day)
	case 1:
		fmt.Fprintf(c.env.stdout, "closed 1 day: %s\n", days[0])
	default:
		fmt.Fprintf(c.env.stdout, "closed %d days: %s … %s\n", len(days), days[0], days[len(days)-1])
	}
	return nil
}

func (c *analyticsCmd) rebuild(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "analytics rebuild", "analytics rebuild [--db DSN] --from YYYY-MM-DD --to YYYY-MM-DD")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	from := fs.String("from", "", "first UTC date to rebuild (required)")
	to := fs.String("to", "", "last UTC date to rebuild, inclusive (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return &usageError{"--from and --to are required"}
	}
	lo, err := backchannel.ParseDay(*from)
	if err != nil {
		return &usageError{fmt.Sprintf("--from: %v", err)}
	}
	hi, err := backchannel.ParseDay(*to)
	if err != nil {
		return &usageError{fmt.Sprintf("--to: %v", err)}
	}
	if lo > hi {
		return &usageError{fmt.Sprintf("--from %s is after --to %s", lo, hi)}
	}
	st, as, err := openAnalytics(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := as.RebuildDays(ctx, lo, hi); err != nil {
		return fmt.Errorf("rebuild %s … %s: %w", lo, hi, err)
	}
	fmt.Fprintf(c.env.stdout, "rebuilt %s … %s (%d days)\n", lo, hi, int(hi-lo)+1)
	return nil
}

// openAnalytics opens the store a --db value names and its analytics side.
func openAnalytics(ctx context.Context, dsn string) (backchannel.Store, backchannel.AnalyticsStore, error) {
	st, err := openStore(ctx, dsn, false)
	if err != nil {
		return nil, nil, err
	}
	as, ok := st.(backchannel.AnalyticsStore)
	if !ok {
		st.Close()
		return nil, nil, fmt.Errorf("the store at %s does not support analytics yet", redact(dsn))
	}
	return st, as, nil
}

// settleFlag defines --analytics-settle. On the command line 0 means no
// delay; it returns the value as slackapi.Config.Settle reads it.
func settleFlag(fs *flag.FlagSet) *time.Duration {
	v := &settleValue{d: slackapi.DefaultSettle}
	fs.Var(v, "analytics-settle", "how long after a UTC day ends its analytics files become available and the day is closed (0: at once)")
	return &v.cfg
}

type settleValue struct{ d, cfg time.Duration }

func (v *settleValue) String() string {
	if v == nil {
		return ""
	}
	return v.d.String()
}

func (v *settleValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return fmt.Errorf("want a non-negative duration such as 1h or 30m")
	}
	v.d, v.cfg = d, d
	if d == 0 {
		v.cfg = -1 // Config's "none"; its 0 is the default
	}
	return nil
}

// retentionFlag defines --analytics-retention.
func retentionFlag(fs *flag.FlagSet) *slackapi.Retention {
	v := &retentionValue{r: slackapi.DefaultRetention}
	fs.Var(v, "analytics-retention", "how far back analytics files are served: <N>mo (months), <N>d (days) or 0 (forever) (default 13mo)")
	return &v.r
}

type retentionValue struct{ r slackapi.Retention }

func (v *retentionValue) String() string {
	if v == nil {
		return ""
	}
	return v.r.String()
}

func (v *retentionValue) Set(s string) error {
	r, err := slackapi.ParseRetention(s)
	if err != nil {
		return err
	}
	v.r = r
	return nil
}
