package postgres_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/postgrestest"
)

// benchMessages returns n plain message events for channel ch starting at
// microsecond offset start, shaped like ingest's output.
func benchMessages(ch string, start, n int) []backchannel.Event {
	evs := make([]backchannel.Event, n)
	for i := range evs {
		ts := backchannel.TS(1_700_000_000_000_000 + int64(start+i))
		raw := fmt.Appendf(nil, `{"type":"message","channel":%q,"user":"W%d","text":"message number %d with some text","ts":"%s","client":"desktop"}`,
			ch, i%50, start+i, ts)
		evs[i] = backchannel.Event{
			Type: backchannel.EvMessage, Raw: raw, Key: sha256.Sum256(raw), Line: i + 1,
			ChannelID: ch, UserID: fmt.Sprintf("W%d", i%50), TS: ts, Client: "desktop",
			Doc: fmt.Appendf(nil, `{"type":"message","user":"W%d","text":"message number %d with some text","ts":"%s"}`, i%50, start+i, ts),
		}
	}
	return evs
}

func channelEvent(id string) backchannel.Event {
	raw := []byte(`{"type":"channel","id":"` + id + `"}`)
	return backchannel.Event{Type: backchannel.EvChannel, Raw: raw, Key: sha256.Sum256(raw), Line: 1,
		Channel: &backchannel.Channel{ID: id, Kind: backchannel.KindPublic}}
}

func benchChannels(b *testing.B, db *postgres.DB, n int) {
	b.Helper()
	var evs []backchannel.Event
	for i := range n {
		evs = append(evs, channelEvent(fmt.Sprintf("C%d", i)))
	}
	if _, err := db.Apply(b.Context(), evs); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApplyMessages measures sustained ingest of new messages through
// Apply, in batches spread over 20 channels: sequentially (one client), and
// with 4 concurrent clients on different channels (several ingest streams,
// or several processes).
//
// The last case is bench/ingest.sh's shape: 4 clients sending 2000-event
// batches to one channel, which take turns on the channel's lock.
func BenchmarkApplyMessages(b *testing.B) {
	type shape struct{ size, par, channels int }
	shapes := []shape{{1000, 1, 20}, {1000, 4, 20}, {5000, 1, 20}, {5000, 4, 20}, {2000, 4, 1}}
	for _, sh := range shapes {
		size, par := sh.size, sh.par
		name := fmt.Sprintf("batch=%d/clients=%d", size, par)
		if sh.channels == 1 {
			name += "/one-channel"
		}
		b.Run(name, func(b *testing.B) {
			db := postgrestest.Open(b)
			benchChannels(b, db, sh.channels)
			batches := make([][]backchannel.Event, b.N)
			for i := range batches {
				batches[i] = benchMessages(fmt.Sprintf("C%d", i%sh.channels), i*size, size)
			}
			next := make(chan []backchannel.Event, len(batches))
			for _, bt := range batches {
				next <- bt
			}
			close(next)
			b.ResetTimer()
			start := time.Now()
			errs := make(chan error, par)
			for range par {
				go func() {
					for bt := range next {
						res, err := db.Apply(b.Context(), bt)
						if err == nil && res.Accepted != size {
							err = fmt.Errorf("accepted %d of %d", res.Accepted, size)
						}
						if err != nil {
							errs <- err
							return
						}
					}
					errs <- nil
				}()
			}
			for range par {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkHistoryPage measures a 100-message page: cold is PostgreSQL alone
// (page cache disabled: the primary-key range scan), warm is the read cache
// with Hi = now as the Slack layer sends it (one version round trip).
func BenchmarkHistoryPage(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []postgres.Option
	}{
		{"cold", []postgres.Option{postgres.WithCacheBytes(0)}},
		{"warm", nil},
	} {
		b.Run(mode.name, func(b *testing.B) {
			db := postgrestest.Open(b, mode.opts...)
			benchChannels(b, db, 1)
			for i := 0; i < 10; i++ {
				if _, err := db.Apply(b.Context(), benchMessages("C0", i*1000, 1000)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					q := backchannel.HistoryQuery{Channel: "C0", Hi: backchannel.TSFromTime(time.Now()), Limit: 100, Caller: "W1"}
					p, err := db.History(b.Context(), q)
					if err != nil || len(p.Messages) != 100 {
						b.Fatalf("History: %d messages, %v", len(p.Messages), err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
