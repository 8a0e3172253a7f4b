package postgres_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/storetest"
)

// Within a channel, seq order is apply order, whatever the interleaving of
// batches from two processes, about one channel (a ticket of the channel's
// class) or about more than maxTicketChannels (one ticket of the wide
// class): every line of a shared (channel, ts) replaces the last applied, so
// the stored message is the line with the highest seq, and a rebuild, which
// replays the log in seq order, gives back the rollups ingest wrote (the
// first line of a (channel, ts) is the one that posts).
func TestSeqOrderIsApplyOrder(t *testing.T) {
	ctx := t.Context()
	a, b := openPair(t)
	ts := storetest.TS
	const channels, workers, rounds, shared = 70, 8, 20, 4
	var setup []backchannel.Event
	for c := range channels {
		setup = append(setup, storetest.Channel(fmt.Sprint("C", c), backchannel.KindPublic))
	}
	if _, err := a.Apply(ctx, number(setup...)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := []*postgres.DB{a, b}[w%2]
			for r := range rounds {
				var evs []backchannel.Event
				for k := 1; k <= shared; k++ { // the round's shared keys
					evs = append(evs, storetest.Message("C0", fmt.Sprint("W", w), ts(10*r+k), fmt.Sprintf("w%d r%d", w, r)))
				}
				// New messages of its own, in all channels for one worker
				// in four (a wide batch).
				if w%4 == 3 {
					for c := range channels {
						evs = append(evs, storetest.Message(fmt.Sprint("C", c), fmt.Sprint("W", w), ts(100_000+10_000*w+400*r), "own"))
					}
				} else {
					for i := range 50 * (w%3 + 1) { // COPYs of different lengths
						evs = append(evs, storetest.Message("C0", fmt.Sprint("W", w), ts(100_000+10_000*w+400*r+i), "own"))
					}
				}
				if _, err := db.Apply(ctx, number(evs...)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// The line with the highest seq of each shared key, and what is stored.
	last, err := postgres.QueryString(ctx, a, `SELECT string_agg(ts || ' ' || text, ', ' ORDER BY ts) FROM (
		SELECT DISTINCT ON (r->>'ts') r->>'ts' AS ts, r->>'text' AS text
		FROM (SELECT convert_from(raw, 'UTF8')::jsonb AS r, seq FROM events WHERE type = 'message') AS e
		WHERE r->>'channel' = 'C0' AND r->>'ts' < $1 ORDER BY r->>'ts', seq DESC) AS l`, ts(10*rounds))
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.History(ctx, backchannel.HistoryQuery{Channel: "C0", Hi: mustTS(t, ts(10*rounds)), Limit: 999, Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, m := range p.Messages {
		var got struct{ TS, Text string }
		if err := json.Unmarshal(m, &got); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, got.TS+" "+got.Text)
	}
	slices.Sort(stored) // oldest first, as the query (same-width ts)
	if got := strings.Join(stored, ", "); got != last {
		t.Errorf("stored messages:\n%s\nlines with the highest seq:\n%s", got, last)
	}
	const rollups = `SELECT coalesce(string_agg(user_id || ' ' || day || ' ' || messages, ', ' ORDER BY user_id, day), '') FROM member_days`
	before, err := postgres.QueryString(ctx, a, rollups)
	if err != nil {
		t.Fatal(err)
	}
	day := backchannel.DayOfTS(mustTS(t, ts(1)))
	if err := a.RebuildDays(ctx, day, day); err != nil {
		t.Fatal(err)
	}
	if after, err := postgres.QueryString(ctx, a, rollups); err != nil || after != before {
		t.Errorf("member days after a rebuild from the log:\n%s\nas ingest wrote them:\n%s (%v)", after, before, err)
	}
}
