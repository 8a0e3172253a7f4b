package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
)

// A cached activity page is never served after a write that changes it: each
// kind of write is applied between two reads of the same page.
func TestActivityPageCacheIsExact(t *testing.T) {
	ctx := context.Background()
	for _, cacheBytes := range []int64{64 << 20, 0} {
		t.Run(fmt.Sprintf("cache=%d", cacheBytes), func(t *testing.T) {
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), sqlite.WithCacheBytes(cacheBytes))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			n := 0
			apply := func(lines ...string) {
				t.Helper()
				if _, err := db.Apply(ctx, decodeLines(t, &n, lines...)); err != nil {
					t.Fatal(err)
				}
			}
			apply(`{"type":"team","id":"T1","name":"t"}`,
				`{"type":"user","id":"W1","team_id":"T1","department":"Eng"}`,
				`{"type":"user","id":"W2","team_id":"T1"}`,
				`{"type":"channel","id":"C1","team_id":"T1","name":"news","kind":"public"}`,
				`{"type":"message","channel":"C1","user":"W1","ts":"1700000001.000000","text":"a"}`)
			q := backchannel.MessageActivityQuery{Channel: "C1", Oldest: 1700000000000000, Latest: 1700000100000000, Limit: 10}
			read := func() string {
				t.Helper()
				p, err := db.MessageActivity(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				s := ""
				for _, a := range p.Activities {
					s += fmt.Sprintf("%s v%d r%d s%d c%d d%d m%d w%d dept%d;", a.TS, a.Views, a.Reactions, a.Shares, a.Clicks,
						a.ViewsDesktop, a.ViewsMobile, a.ViewsWeb, len(a.ByDepartment))
				}
				return s
			}
			steps := []struct {
				name string
				line string
				want string
			}{
				{"", "", "1700000001.000000 v0 r0 s0 c0 d0 m0 w0 dept0;"},
				{"view", `{"type":"message_viewed","channel":"C1","ts":"1700000001.000000","user":"W1","client":"ios","event_ts":"1700000002"}`, "1700000001.000000 v1 r0 s0 c0 d0 m1 w0 dept1;"},
				{"same user, other client", `{"type":"message_viewed","channel":"C1","ts":"1700000001.000000","user":"W1","client":"web","event_ts":"1700000003"}`, "1700000001.000000 v1 r0 s0 c0 d0 m1 w1 dept1;"},
				{"click", `{"type":"message_clicked","channel":"C1","ts":"1700000001.000000","user":"W2","event_ts":"1700000004"}`, "1700000001.000000 v1 r0 s0 c1 d0 m1 w1 dept1;"},
				{"share", `{"type":"message_shared","channel":"C1","ts":"1700000001.000000","user":"W2","event_ts":"1700000005"}`, "1700000001.000000 v1 r0 s1 c1 d0 m1 w1 dept1;"},
				{"reaction", `{"type":"reaction_added","channel":"C1","ts":"1700000001.000000","user":"W2","reaction":"tada","event_ts":"1700000006"}`, "1700000001.000000 v1 r1 s1 c1 d0 m1 w1 dept1;"},
				{"new message", `{"type":"message","channel":"C1","user":"W2","ts":"1700000007.000000","text":"b"}`, "1700000007.000000 v0 r0 s0 c0 d0 m0 w0 dept0;1700000001.000000 v1 r1 s1 c1 d0 m1 w1 dept1;"},
				{"deletion", `{"type":"message_deleted","channel":"C1","ts":"1700000007.000000"}`, "1700000001.000000 v1 r1 s1 c1 d0 m1 w1 dept1;"},
			}
			for _, s := range steps {
				if s.line != "" {
					apply(s.line)
				}
				for i := 0; i < 2; i++ { // the second read is the cached one
					if got := read(); got != s.want {
						t.Fatalf("after %q (read %d): got %s, want %s", s.name, i+1, got, s.want)
					}
				}
			}
		})
	}
}
