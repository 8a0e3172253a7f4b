package postgres_test

import (
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgrestest"
	"github.com/backchannel/backchannel/storetest"
)

// A batch of messages below the channel's mark skips lookups only when the
// range of its keys holds nothing stored: a reaction, a pin or a reply
// stored earlier inside the range must still reach the message's render,
// whichever of them it is, and a message stored there is replaced.
func TestBatchBelowMarkSeesDecorations(t *testing.T) {
	ctx := t.Context()
	ts := storetest.TS
	for _, c := range []struct {
		name string
		dec  backchannel.Event // stored about ts(500) before the batch
		want string            // in the render of ts(500)
	}{
		{"reaction", storetest.Reaction(true, "C1", ts(500), "W2", "tada", ts(901)), `"reactions":[{"name":"tada","users":["W2"],"count":1}]`},
		{"pin", storetest.Pin(true, "C1", ts(500), "W2", ts(901)), `"pinned_to":["C1"]`},
		{"reply", storetest.Reply("C1", "W2", ts(700), ts(500), "early reply", false), `"reply_count":1`},
		{"message", storetest.Message("C1", "W2", ts(500), "replaced"), `"user":"W1","text":"at 500"`},
		{"none", storetest.Message("C1", "W2", ts(800), "unrelated"), `"text":"at 500"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := postgrestest.Open(t)
			apply := func(evs ...backchannel.Event) {
				t.Helper()
				if _, err := db.Apply(ctx, number(evs...)); err != nil {
					t.Fatal(err)
				}
			}
			// The mark goes to ts(900); the decoration lies below it.
			apply(storetest.Channel("C1", backchannel.KindPublic), storetest.Message("C1", "W1", ts(900), "newest"))
			apply(c.dec)
			// A batch of new messages whose keys span ts(500).
			var evs []backchannel.Event
			for i := 400; i <= 600; i += 50 {
				evs = append(evs, storetest.Message("C1", "W1", ts(i), "at "+strings.TrimLeft(ts(i)[len(ts(i))-3:], "0")))
			}
			apply(evs...)
			p, err := db.History(ctx, backchannel.HistoryQuery{Channel: "C1", Lo: mustTS(t, ts(500)), Hi: mustTS(t, ts(500)),
				Limit: 1})
			if err != nil || len(p.Messages) != 1 {
				t.Fatalf("History: %d messages, %v", len(p.Messages), err)
			}
			if got := string(p.Messages[0]); !strings.Contains(got, c.want) {
				t.Errorf("message at 500: %s, want %s in it", got, c.want)
			}
		})
	}
}
