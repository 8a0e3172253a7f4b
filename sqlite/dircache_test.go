package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
)

// The writer keeps the rules' directory context (a user's department and
// bot flag, a channel's kind) between batches. Every event must still see
// the directory as of its place in the stream: after a change in the same
// batch, in a later batch, not after a change that was rolled back, and
// after a change written by another process. Also when the writer reads the
// whole directory at the first id it has not met (preloadDirectory).
func TestDirectoryContextCacheIsExact(t *testing.T) {
	t.Run("by id", testDirectoryContextCache)
	t.Run("preloaded", func(t *testing.T) {
		sqlite.SetPreloadMisses(1)
		defer sqlite.SetPreloadMisses(1024)
		testDirectoryContextCache(t)
	})
}

func testDirectoryContextCache(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db, other := openPath(t, path), openPath(t, path)
	n := 0
	events := func(lines ...string) []backchannel.Event { return decodeLines(t, &n, lines...) }
	apply := func(db *sqlite.DB, lines ...string) {
		t.Helper()
		if _, err := db.Apply(ctx, events(lines...)); err != nil {
			t.Fatal(err)
		}
	}
	user := func(dept string) string {
		return fmt.Sprintf(`{"type":"user","id":"W1","team_id":"T1","department":%q}`, dept)
	}
	ts := func(m int) string { return fmt.Sprintf("1700000%03d.000000", m) }
	view := func(ch string, m int) string {
		return fmt.Sprintf(`{"type":"message_viewed","channel":%q,"ts":%q,"user":"W1","client":"web","event_ts":"1700000500"}`, ch, ts(m))
	}
	apply(db, `{"type":"team","id":"T1","name":"t"}`, user("Eng"),
		`{"type":"channel","id":"C1","team_id":"T1","name":"news","kind":"public"}`,
		`{"type":"channel","id":"C2","team_id":"T1","name":"secret","kind":"private"}`)
	var posts []string
	for m := 1; m <= 6; m++ {
		posts = append(posts, fmt.Sprintf(`{"type":"message","channel":"C1","user":"W2","ts":%q,"text":"m"}`, ts(m)))
	}
	apply(db, posts...)

	apply(db, view("C1", 1), view("C2", 1)) // W1 is Eng; C2 is private
	apply(db, user("Sales"), view("C1", 2)) // changed earlier in the batch
	apply(db, view("C1", 3))                // changed in an earlier batch
	apply(db, `{"type":"channel","id":"C2","team_id":"T1","name":"secret","kind":"public"}`)
	apply(db, view("C2", 2)) // C2 is public now: counted
	failed := append(events(user("Ops"), view("C1", 6)), backchannel.Event{Type: backchannel.EvUser, Raw: []byte(`{}`)})
	failed[len(failed)-1].Key = sha256.Sum256([]byte("a user event without its user"))
	if _, err := db.Apply(ctx, failed); err == nil {
		t.Fatal("a batch with a user event without its user was applied")
	}
	apply(db, view("C1", 4))    // the rolled-back Ops was never stored
	apply(other, user("Legal")) // another process
	apply(db, view("C1", 5))

	p, err := db.MessageActivity(ctx, backchannel.MessageActivityQuery{Channel: "C1", Oldest: 1, Latest: backchannel.MaxTS, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range p.Activities {
		var ds []string
		for _, d := range a.ByDepartment {
			ds = append(ds, d.Department)
		}
		got = append(got, fmt.Sprintf("%s:%s", a.TS, strings.Join(ds, ",")))
	}
	slices.Reverse(got)
	want := []string{ts(1) + ":Eng", ts(2) + ":Sales", ts(3) + ":Sales", ts(4) + ":Sales", ts(5) + ":Legal", ts(6) + ":"}
	if !slices.Equal(got, want) {
		t.Errorf("departments of the views:\n got %v\nwant %v", got, want)
	}
	rows, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var c2 []string
	for _, r := range rows {
		if strings.HasPrefix(r, "[channel C2 ") {
			c2 = append(c2, r)
		}
	}
	// One channel-day of C2, with one viewer: the view after it became public.
	if len(c2) != 1 || !strings.HasSuffix(c2[0], " 0 0 0 1 0 0]") {
		t.Errorf("C2's channel rows: %v, want one with one viewer", c2)
	}
}
