package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"reflect"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
)

var testNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func generate(t *testing.T, cfg Config) (Result, [][]byte) {
	t.Helper()
	var all [][]byte
	res, err := Generate(cfg, func(lines [][]byte) error {
		all = append(all, lines...)
		return nil
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return res, all
}

func digest(lines [][]byte) [32]byte {
	return sha256.Sum256(bytes.Join(lines, []byte("\n")))
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Members: 60, Days: 30, Now: testNow}
	r1, l1 := generate(t, cfg)
	r2, l2 := generate(t, cfg)
	if digest(l1) != digest(l2) || !reflect.DeepEqual(r1, r2) {
		t.Fatal("same seed, different output")
	}
	cfg.Seed = 8
	r3, l3 := generate(t, cfg)
	if digest(l1) == digest(l3) || r1.Tokens["admin"] == r3.Tokens["admin"] || r1.EnterpriseID == r3.EnterpriseID {
		t.Fatal("different seeds, same output")
	}
	d, err := Describe(Config{Seed: 7, Members: 60, Days: 30, Now: testNow})
	r1.Counts = Counts{}
	if err != nil || !reflect.DeepEqual(d, r1) {
		t.Errorf("Describe differs from Generate: %v\n%+v\n%+v", err, d, r1)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{}, {Now: testNow, Members: 3}, {Now: testNow, Days: -1}, {Now: testNow, Teams: 99}} {
		if _, err := Generate(cfg, func([][]byte) error { return nil }); err == nil {
			t.Errorf("Generate(%+v) succeeded", cfg)
		}
	}
}

// world replays decoded events to check what the generator promised.
type world struct {
	channels map[string]*backchannel.Channel
	members  map[string]map[string]bool // channel → user → member now
	messages map[string]map[backchannel.TS]bool
	// per kind: what happened in conversations of that kind
	seen map[string]map[string]int
	act  *activityStats
}

func replay(t *testing.T, lines [][]byte, now time.Time) *world {
	t.Helper()
	w := &world{channels: map[string]*backchannel.Channel{}, members: map[string]map[string]bool{},
		messages: map[string]map[backchannel.TS]bool{}, seen: map[string]map[string]int{}, act: newActivityStats()}
	end := backchannel.TSFromTime(now)
	var last backchannel.TS
	for i, l := range lines {
		ev, err := ingest.Decode(l, i+1)
		if err != nil {
			t.Fatalf("line %d does not decode: %v\n%s", i+1, err, l)
		}
		if ev.TS >= end || ev.EventTS >= end {
			t.Fatalf("line %d is not before Now: %s", i+1, l)
		}
		c := w.channels[ev.ChannelID]
		switch {
		case ev.Type == backchannel.EvChannel:
			w.channels[ev.Channel.ID] = ev.Channel
			w.members[ev.Channel.ID] = map[string]bool{}
			w.messages[ev.Channel.ID] = map[backchannel.TS]bool{}
			continue
		case ev.Type == backchannel.EvMemberJoined || ev.Type == backchannel.EvMemberLeft:
			w.members[ev.ChannelID][ev.UserID] = ev.Type == backchannel.EvMemberJoined
			w.act.membership(&ev)
			continue
		case ev.Type == backchannel.EvUser:
			w.act.users[ev.User.ID] = ev.User
			continue
		case ev.IsDirectory():
			continue
		case backchannel.IsActivity(ev.Type):
			if ev.EventTS < last {
				t.Fatalf("line %d goes back in time: %s", i+1, l)
			}
			last = ev.EventTS
			if err := w.act.add(w, &ev); err != nil {
				t.Fatalf("line %d: %v: %s", i+1, err, l)
			}
			continue
		case c == nil:
			t.Fatalf("line %d names an unknown channel: %s", i+1, l)
		}
		// The history is in time order.
		at := max(ev.TS, ev.EventTS)
		if at < last {
			t.Fatalf("line %d goes back in time: %s", i+1, l)
		}
		last = at
		msgs := w.messages[c.ID]
		what := ev.Type
		switch {
		case ev.Type == backchannel.EvMessage:
			if msgs[ev.TS] {
				t.Fatalf("line %d repeats ts %s in %s", i+1, ev.TS, c.ID)
			}
			if ev.ThreadTS != 0 && !msgs[ev.ThreadTS] {
				t.Fatalf("line %d replies to an unknown parent: %s", i+1, l)
			}
			msgs[ev.TS] = true
			if ev.ThreadTS != 0 {
				what = "reply"
			}
			if ev.Client == "" {
				t.Fatalf("line %d has no client", i+1)
			}
		case !msgs[ev.TS]:
			t.Fatalf("line %d is about an unknown message: %s", i+1, l)
		}
		w.act.history(c, &ev)
		if w.seen[c.Kind] == nil {
			w.seen[c.Kind] = map[string]int{}
		}
		w.seen[c.Kind][what]++
	}
	return w
}

func TestDefaultDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the full default organisation")
	}
	res, lines := generate(t, Config{Seed: 1, Now: testNow})
	// About 180k lines of history and 300k–480k of activity (half of it
	// announcements read org-wide): the default demo must seed in well
	// under 30 seconds.
	if n := len(lines); n < 450_000 || n > 650_000 {
		t.Errorf("default demo has %d lines, want 450k–650k", n)
	}
	if n := res.Counts.Activity; n < 300_000 || n > 480_000 {
		t.Errorf("default demo has %d activity events, want 300k–480k", n)
	}
	w := replay(t, lines, testNow)
	for _, kind := range []string{"public", "private", "im", "mpim"} {
		for _, what := range []string{"message", "reply", "reaction_added", "reaction_removed", "message_changed",
			"message_deleted", "pin_added", "star_added"} {
			if w.seen[kind][what] == 0 {
				t.Errorf("no %s in a %s conversation", what, kind)
			}
		}
	}
	checkShowcase(t, res, w)
	checkActivity(t, res, w)
}

func checkShowcase(t *testing.T, res Result, w *world) {
	t.Helper()
	member, bot := res.TokenRecords[1].UserID, res.TokenRecords[2].UserID
	kinds := map[string]string{"general": "public", "random": "public", "eng-backend": "public",
		"project-phoenix": "private", "shared-globex": "public", "im": "im", "mpim": "mpim"}
	for name, kind := range kinds {
		c := w.channels[res.Channels[name]]
		if c == nil || c.Kind != kind {
			t.Fatalf("channels[%q] = %+v, want a %s conversation", name, c, kind)
		}
	}
	if !w.channels[res.Channels["shared-globex"]].IsExternallyShared() || !w.channels[res.Channels["general"]].IsOrgWide {
		t.Error("shared-globex is not externally shared or general is not org-wide")
	}
	for _, name := range []string{"general", "project-phoenix", "im", "mpim", "shared-globex"} {
		if !w.members[res.Channels[name]][member] {
			t.Errorf("the member is not in %s", name)
		}
	}
	if w.members[res.Channels["random"]][bot] || !w.members[res.Channels["eng-backend"]][bot] {
		t.Error("the bot must be in eng-backend and not in random")
	}
	if got := res.TokenRecords[0].Scopes; !reflect.DeepEqual(got, adminScopes) || res.TokenRecords[0].Bot {
		t.Errorf("admin token record = %+v", res.TokenRecords[0])
	}
	for role, tok := range res.Tokens {
		found := false
		for _, tr := range res.TokenRecords {
			found = found || tr.Hash == backchannel.HashToken(tok) && tr.ID == backchannel.TokenID(tok)
		}
		if !found {
			t.Errorf("token %s has no record", role)
		}
	}
}

// fakeStore records what Seed does; other methods panic (nil interface).
type fakeStore struct {
	backchannel.Store
	events int
	tokens map[string]backchannel.Token
}

func (s *fakeStore) Apply(_ context.Context, evs []backchannel.Event) (backchannel.ApplyResult, error) {
	s.events += len(evs)
	return backchannel.ApplyResult{Accepted: len(evs)}, nil
}

func (s *fakeStore) TokenByHash(_ context.Context, h string) (backchannel.Token, error) {
	if t, ok := s.tokens[h]; ok {
		return t, nil
	}
	return backchannel.Token{}, &backchannel.Error{Code: backchannel.ETokenNotFound}
}

func (s *fakeStore) CreateToken(_ context.Context, t backchannel.Token) error {
	if _, ok := s.tokens[t.Hash]; ok {
		return &backchannel.Error{Code: "duplicate"}
	}
	s.tokens[t.Hash] = t
	return nil
}

func TestSeed(t *testing.T) {
	s := &fakeStore{tokens: map[string]backchannel.Token{}}
	cfg := Config{Seed: 3, Members: 40, Days: 20, Now: testNow}
	res, err := Seed(context.Background(), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.events != res.Counts.Lines || len(s.tokens) != 3 {
		t.Errorf("applied %d of %d events, %d tokens", s.events, res.Counts.Lines, len(s.tokens))
	}
	if _, err := Seed(context.Background(), s, cfg); err != nil {
		t.Errorf("second Seed: %v", err)
	}
}
