package postgres_test

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/postgrestest"
	"github.com/backchannel/backchannel/storetest"
)

// openPair opens two stores (as two processes would) over one fresh schema,
// migrating both at once: the advisory lock makes them take turns.
func openPair(t *testing.T) (*postgres.DB, *postgres.DB) {
	t.Helper()
	u := postgrestest.URL(t)
	dbs := make([]*postgres.DB, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range dbs {
		db, err := postgres.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = db.Migrate(t.Context()) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	for _, db := range dbs {
		have, want, err := db.SchemaVersion(t.Context())
		if err != nil || have != want {
			t.Fatalf("SchemaVersion: %d, %d, %v", have, want, err)
		}
	}
	return dbs[0], dbs[1]
}

func number(evs ...backchannel.Event) []backchannel.Event {
	for i := range evs {
		evs[i].Line = i + 1
	}
	return evs
}

// A write acknowledged by one process is seen by the next read of the
// other, whatever the other has cached.
func TestCrossProcessReadYourWrites(t *testing.T) {
	ctx := t.Context()
	a, b := openPair(t)
	ts := storetest.TS
	apply := func(db *postgres.DB, evs ...backchannel.Event) {
		t.Helper()
		if _, err := db.Apply(ctx, number(evs...)); err != nil {
			t.Fatal(err)
		}
	}
	page := func(db *postgres.DB, caller string) []string {
		t.Helper()
		return storetest.PageTexts(ctx, t, db, backchannel.HistoryQuery{Channel: "C1", Hi: backchannel.MaxTS, Limit: 10, Caller: caller})
	}
	apply(a, storetest.Channel("C1", backchannel.KindPublic))
	for i := 1; i <= 20; i++ {
		page(b, "W2") // warm b's cache
		b.IsMember(ctx, "C1", "W1")
		b.Channel(ctx, "C1")
		m := storetest.Member(i%2 == 1, "C1", "W1")
		m.Key[0], m.Key[1] = byte(i), 0xfe // a distinct line each time, not a duplicate
		apply(a, storetest.Message("C1", "W1", ts(i), fmt.Sprint(i)), m)
		got := page(b, "W2")
		if len(got) != min(i, 10) {
			t.Fatalf("after message %d: b sees %d messages", i, len(got))
		}
		if m, err := b.IsMember(ctx, "C1", "W1"); err != nil || m != (i%2 == 1) {
			t.Fatalf("after message %d: b IsMember = %v, %v", i, m, err)
		}
	}
	// Decorations written by a re-render what b has cached.
	apply(a, storetest.Star(true, "C1", ts(20), "W2", ts(100)), storetest.Pin(true, "C1", ts(20), "W3", ts(101)))
	want := `{"type":"message","user":"W1","text":"20","ts":"` + ts(20) + `","pinned_to":["C1"],"is_starred":true}`
	if got := page(b, "W2"); got[0] != want {
		t.Errorf("b after star and pin:\n got %s\nwant %s", got[0], want)
	}
	if c, err := b.Channel(ctx, "C1"); err != nil || c.PinCount != 1 {
		t.Errorf("b pin count: %+v, %v", c, err)
	}
	// Tokens and the directory.
	tok, id := backchannel.NewTokenString(false)
	if _, err := b.TokenByHash(ctx, backchannel.HashToken(tok)); err == nil {
		t.Fatal("unknown token found")
	}
	if err := a.CreateToken(ctx, backchannel.Token{ID: id, Hash: backchannel.HashToken(tok), UserID: "W1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.TokenByHash(ctx, backchannel.HashToken(tok)); err != nil {
		t.Fatalf("b TokenByHash after a created it: %v", err)
	}
	if err := a.RevokeToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got, err := b.TokenByHash(ctx, backchannel.HashToken(tok)); err != nil || !got.Revoked() {
		t.Fatalf("b after revoke: %+v, %v", got, err)
	}
	if _, err := b.User(ctx, "W9"); err == nil {
		t.Fatal("unknown user found")
	}
	u := backchannel.Event{Type: backchannel.EvUser, Raw: []byte(`{"type":"user","id":"W9"}`), User: &backchannel.User{ID: "W9", Name: "nine"}}
	u.Key[0] = 9
	apply(a, u)
	if got, err := b.User(ctx, "W9"); err != nil || got.Name != "nine" {
		t.Fatalf("b User after a stored it: %+v, %v", got, err)
	}
}

// Concurrent batches from two processes: overlapping keys are counted once
// in all, and thread stats of one parent updated from both lose nothing.
func TestConcurrentApply(t *testing.T) {
	ctx := t.Context()
	a, b := openPair(t)
	ts := storetest.TS
	if _, err := a.Apply(ctx, number(storetest.Channel("C1", backchannel.KindPublic), storetest.Message("C1", "W0", ts(1), "parent"))); err != nil {
		t.Fatal(err)
	}
	const workers, per = 8, 25
	var mu sync.Mutex
	var total backchannel.ApplyResult
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := []*postgres.DB{a, b}[w%2]
			for i := range per {
				// Every worker sends the shared message i and its own reply.
				evs := number(storetest.Message("C1", "W1", ts(1000+i), fmt.Sprint("shared ", i)),
					storetest.Reply("C1", fmt.Sprint("W", w), ts(10000+w*100+i), ts(1), "r", false))
				res, err := db.Apply(ctx, evs)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total.Accepted += res.Accepted
				total.Duplicates += res.Duplicates
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if want := (backchannel.ApplyResult{Accepted: per + workers*per, Duplicates: (workers - 1) * per}); total != want {
		t.Errorf("results: got %+v, want %+v", total, want)
	}
	p, err := b.History(ctx, backchannel.HistoryQuery{Channel: "C1", Hi: backchannel.MaxTS, Limit: 999, Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Messages) != per+1 {
		t.Fatalf("%d messages, want %d", len(p.Messages), per+1)
	}
	parent := string(p.Messages[len(p.Messages)-1])
	wantCount := fmt.Sprintf(`"reply_count":%d,"reply_users_count":%d`, workers*per, workers)
	if !contains(parent, wantCount) {
		t.Errorf("parent lost replies: %s, want %s", parent, wantCount)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// Analytics across processes: a day closed by one process is served by the
// other at once, byte for byte; two processes closing the same days at once
// produce one set of files (the per-day advisory lock), and a late event
// applied through either is counted once.
func TestCrossProcessAnalytics(t *testing.T) {
	ctx := t.Context()
	a, b := openPair(t)
	ts := storetest.TS
	day := backchannel.DayOfTS(mustTS(t, ts(1)))
	apply := func(db *postgres.DB, evs ...backchannel.Event) {
		t.Helper()
		if _, err := db.Apply(ctx, number(evs...)); err != nil {
			t.Fatal(err)
		}
	}
	apply(a, storetest.Channel("C1", backchannel.KindPublic), storetest.Message("C1", "W1", ts(1), "hi"))
	if _, err := b.OpenAnalyticsFile(ctx, backchannel.FileMember, day); backchannel.ErrorCode(err) != backchannel.ENOTFOUND {
		t.Fatalf("b opens an open day's file: %v", err)
	}

	// Both close the same days at once: together they close each once.
	var wg sync.WaitGroup
	closed := make([][]backchannel.Day, 2)
	errs := make([]error, 2)
	for i, db := range []*postgres.DB{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); closed[i], errs[i] = db.FinalizeDays(ctx, day+2) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all := append(append([]backchannel.Day{}, closed[0]...), closed[1]...)
	slices.Sort(all)
	if want := []backchannel.Day{day, day + 1, day + 2}; !slices.Equal(all, want) {
		t.Fatalf("closed %v and %v, want each of %v once", closed[0], closed[1], want)
	}
	for _, kind := range []string{backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata} {
		fa, fb := readAll(t, a, kind, day), readAll(t, b, kind, day)
		if len(fa) == 0 || !bytes.Equal(fa, fb) {
			t.Errorf("%s: a read %d bytes, b %d, not identical", kind, len(fa), len(fb))
		}
	}
	if n := countRows(t, a, `SELECT count(*) FROM analytics_files`); n != 9 {
		t.Errorf("%d stored files, want 9 (3 days × 3 kinds)", n)
	}

	// A late event through b is counted once, seen by a.
	late := storetest.Message("C1", "W2", ts(2), "late")
	apply(b, late)
	apply(a, late)
	if st, err := a.AnalyticsStatus(ctx); err != nil || st.LateEvents != 1 || st.LastClosed != day+2 {
		t.Fatalf("a status after a late event through b: %+v, %v", st, err)
	}
}

func mustTS(t *testing.T, s string) backchannel.TS {
	t.Helper()
	ts, err := backchannel.ParseTS(s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func readAll(t *testing.T, db *postgres.DB, kind string, d backchannel.Day) []byte {
	t.Helper()
	rc, err := db.OpenAnalyticsFile(t.Context(), kind, d)
	if err != nil {
		t.Fatalf("OpenAnalyticsFile(%s, %s): %v", kind, d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func countRows(t *testing.T, db *postgres.DB, query string) int64 {
	t.Helper()
	n, err := postgres.CountRows(t.Context(), db, query)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
