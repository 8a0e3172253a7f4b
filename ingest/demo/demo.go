// Package demo generates a deterministic synthetic Enterprise Grid
// organisation as NDJSON ingest lines: teams, departments, guests, bots,
// public, private, IM, MPIM and externally shared conversations, a year of
// messages, threads, reactions, edits, deletions, pins and stars, and the
// activity the analytics count: views (by client), clicks, shares,
// client_active, searches, file uploads, app and workflow use, and calls.
// Activity has a realistic shape (profiles.go, activity.go): quiet
// weekends, working hours by department, a client mix per person, a long
// tail of heavy and light users, people who only read, lurker channels.
// The lines go through ingest.Decode and Store.Apply like real events, so
// the demo exercises exactly the path real data takes.
//
// Everything is derived from Config: the same Seed, Members, Days, Teams and
// Now give byte-identical lines, IDs and tokens.
package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel"
)

// Config selects the organisation to generate. Zero fields take defaults.
type Config struct {
	Seed    int64
	Members int // people (bots come on top); default 500
	Days    int // length of the history ending at Now; default 365
	Teams   int // workspaces; default 3
	// Now is the end of the generated history; every timestamp is before
	// it. Required: the generator never reads the wall clock, so callers
	// pass a fixed, day-aligned time (e.g. today's UTC midnight).
	Now time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.Members == 0 {
		c.Members = 500
	}
	if c.Days == 0 {
		c.Days = 365
	}
	if c.Teams == 0 {
		c.Teams = 3
	}
	switch {
	case c.Now.IsZero():
		return c, errors.New("demo: Config.Now is required")
	case c.Members < 10 || c.Members > 1_000_000:
		return c, fmt.Errorf("demo: members must be between 10 and 1000000, got %d", c.Members)
	case c.Days < 1 || c.Days > 3650:
		return c, fmt.Errorf("demo: days must be between 1 and 3650, got %d", c.Days)
	case c.Teams < 1 || c.Teams > 50:
		return c, fmt.Errorf("demo: teams must be between 1 and 50, got %d", c.Teams)
	}
	c.Now = c.Now.UTC()
	return c, nil
}

// Result describes the generated organisation. Its JSON form is what
// `backchannel demo --json` prints.
type Result struct {
	EnterpriseID string `json:"enterprise_id"`
	// Tokens maps "admin", "member" and "bot" to working tokens.
	Tokens map[string]string `json:"tokens"`
	// TokenRecords are the stored form of Tokens (hashes only), in the
	// order admin, member, bot.
	TokenRecords []backchannel.Token `json:"-"`
	// Channels maps a few conversations to try to their IDs; see Showcase.
	Channels map[string]string `json:"channels"`
	Counts   Counts            `json:"counts"`
}

// Showcase names the keys of Result.Channels:
//
//	general        public, org-wide; everyone is a member
//	random         public; the bot is NOT a member (not_in_channel)
//	eng-backend    public; the bot is a member
//	project-phoenix private; admin and member are members
//	shared-globex  public, externally shared (Slack Connect)
//	im             the IM between the admin and the member
//	mpim           an MPIM of the admin, the member and others
var Showcase = []string{"general", "random", "eng-backend", "project-phoenix", "shared-globex", "im", "mpim"}

// Counts is what was generated, by kind.
type Counts struct {
	Lines     int `json:"lines"`
	Users     int `json:"users"`
	Channels  int `json:"channels"`
	Messages  int `json:"messages"` // including thread replies
	Replies   int `json:"replies"`
	Reactions int `json:"reactions"` // added and removed
	Edits     int `json:"edits"`
	Deletions int `json:"deletions"`
	Activity  int `json:"activity"` // views, clicks, shares, calls, searches, ...
}

// Token scopes of the demo principals.
var (
	historyScopes = []string{"channels:history", "groups:history", "im:history", "mpim:history"}
	adminScopes   = append(append([]string(nil), historyScopes...), "admin.analytics:read", backchannel.ScopeIngest)
)

// token derives a demo token from the seed, so a database seeded earlier
// can print working tokens again (only hashes are stored).
func token(seed int64, role string, bot bool) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "backchannel-demo/%d/%s", seed, role))
	prefix := "xoxp-"
	if bot {
		prefix = "xoxb-"
	}
	return prefix + hex.EncodeToString(sum[:])[:40]
}

// Generate produces the organisation's lines, in batches, to emit:
// directory first, then the history in time order. A batch's slices are
// not reused afterwards.
func Generate(cfg Config, emit func(lines [][]byte) error) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	org := newOrg(cfg)
	out := &batcher{emit: emit}
	org.directoryLines(out)
	newHistory(org, out).run()
	if err := out.flush(); err != nil {
		return Result{}, err
	}
	res := org.result()
	res.Counts = out.counts
	res.Counts.Lines = out.lines
	return res, nil
}

// Describe returns the Result of cfg without generating the history: the
// IDs and tokens only depend on the directory. `serve --demo` uses it to
// print the tokens of a database seeded earlier.
func Describe(cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	return newOrg(cfg).result(), nil
}

// batchLines is how many lines Generate hands to emit at a time.
const batchLines = 1000

type batcher struct {
	emit   func([][]byte) error
	batch  [][]byte
	lines  int
	counts Counts
	err    error
}

func (b *batcher) add(line []byte) {
	if b.err != nil {
		return
	}
	b.batch = append(b.batch, line)
	b.lines++
	if len(b.batch) == batchLines {
		b.err = b.flush()
	}
}

func (b *batcher) flush() error {
	if b.err != nil || len(b.batch) == 0 {
		return b.err
	}
	err := b.emit(b.batch)
	b.batch = make([][]byte, 0, batchLines)
	if err != nil {
		b.err = fmt.Errorf("demo: emit: %w", err)
	}
	return b.err
}
