package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/backchannel/backchannel"
)

// tokenCmd mints, lists and revokes API tokens. Only a token's hash is stored.
type tokenCmd struct{ env *cliEnv }

func (c *tokenCmd) Name() string     { return "token" }
func (c *tokenCmd) Synopsis() string { return "create, list or revoke API tokens (create|list|revoke)" }

func (c *tokenCmd) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return &usageError{"need a subcommand: create, list or revoke"}
	}
	switch args[0] {
	case "create":
		return c.create(ctx, args[1:])
	case "list":
		return c.list(ctx, args[1:])
	case "revoke":
		return c.revoke(ctx, args[1:])
	}
	return &usageError{fmt.Sprintf("unknown subcommand %q: want create, list or revoke", args[0])}
}

func (c *tokenCmd) create(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "token create", "token create [--db DSN] --user ID [--bot] --scopes a,b,…")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	user := fs.String("user", "", "the user (or bot user) ID the token acts as (required)")
	bot := fs.Bool("bot", false, "mint a bot token (xoxb-) instead of a user token (xoxp-)")
	scopes := fs.String("scopes", "", "comma-separated OAuth scopes, e.g. channels:history,groups:history (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return &usageError{"--user is required"}
	}
	list := splitScopes(*scopes)
	if len(list) == 0 {
		return &usageError{"--scopes is required (e.g. --scopes channels:history,groups:history,im:history,mpim:history)"}
	}
	st, err := openStore(ctx, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.User(ctx, *user)
	if err != nil {
		if backchannel.ErrorCode(err) == backchannel.EUserNotFound {
			return fmt.Errorf("no user %q in %s: ingest the user first", *user, *db)
		}
		return err
	}
	tok, id := backchannel.NewTokenString(*bot)
	t := backchannel.Token{ID: id, Hash: backchannel.HashToken(tok), UserID: u.ID, TeamID: u.TeamID,
		Bot: *bot, Scopes: list, CreatedAt: time.Now().UTC()}
	if err := st.CreateToken(ctx, t); err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	fmt.Fprintln(c.env.stdout, tok)
	fmt.Fprintf(c.env.stderr, "token %s for %s (%s); it is shown only this once\n", id, u.ID, strings.Join(list, ","))
	return nil
}

func (c *tokenCmd) list(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "token list", "token list [--db DSN]")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	toks, err := st.Tokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tTYPE\tCREATED\tREVOKED\tSCOPES")
	for _, t := range toks {
		typ, revoked := "user", "-"
		if t.Bot {
			typ = "bot"
		}
		if t.Revoked() {
			revoked = t.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UserID, typ, t.CreatedAt.UTC().Format(time.RFC3339), revoked, strings.Join(t.Scopes, ","))
	}
	return tw.Flush()
}

func (c *tokenCmd) revoke(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "token revoke", "token revoke [--db DSN] ID|TOKEN")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{"name one token: its ID (from `token list`) or the token itself"}
	}
	id := fs.Arg(0)
	if strings.HasPrefix(id, "xox") {
		id = backchannel.TokenID(id)
	}
	st, err := openStore(ctx, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RevokeToken(ctx, id); err != nil {
		if backchannel.ErrorCode(err) == backchannel.ETokenNotFound {
			return fmt.Errorf("no token %s", id)
		}
		return err
	}
	fmt.Fprintf(c.env.stdout, "revoked %s\n", id)
	return nil
}

func splitScopes(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
