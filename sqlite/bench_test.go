package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
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

func benchChannels(b testing.TB, db *sqlite.DB, n int) {
	b.Helper()
	var evs []backchannel.Event
	for i := range n {
		id := fmt.Sprintf("C%d", i)
		raw := []byte(`{"type":"channel","id":"` + id + `"}`)
		evs = append(evs, backchannel.Event{Type: backchannel.EvChannel, Raw: raw, Key: sha256.Sum256(raw),
			Channel: &backchannel.Channel{ID: id, Kind: backchannel.KindPublic}})
	}
	if _, err := db.Apply(b.Context(), evs); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the process's user+system CPU time so far: per event, a
// steadier measure than events/s on a machine shared with other work.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRate reports events/s and CPU µs per event since start and cpu0.
func reportRate(b *testing.B, events int, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(events), "cpu-µs/event")
}

// BenchmarkApplyMessages measures sustained ingest of new messages through
// Apply, in batches spread over 20 channels.
func BenchmarkApplyMessages(b *testing.B) {
	for _, size := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			db := openTest(b)
			defer db.Close()
			benchChannels(b, db, 20)
			batches := make([][]backchannel.Event, b.N)
			for i := range batches {
				batches[i] = benchMessages(fmt.Sprintf("C%d", i%20), i*size, size)
			}
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime(b)
			for i := 0; i < b.N; i++ {
				res, err := db.Apply(b.Context(), batches[i])
				if err != nil || res.Accepted != size {
					b.Fatalf("Apply: %+v, %v", res, err)
				}
			}
			reportRate(b, b.N*size, start, cpu0)
		})
	}
}

// BenchmarkApplyStreams is BenchmarkApplyConcurrent from one goroutine:
// the same four stretches of one channel in turn, so that the work per
// event is deterministic (for instruction counts under callgrind).
func BenchmarkApplyStreams(b *testing.B) {
	const streams, size = 4, 2000
	db := openTest(b)
	defer db.Close()
	benchChannels(b, db, 1)
	batches := make([][]backchannel.Event, b.N)
	for i := range batches {
		batches[i] = benchMessages("C0", (i%streams)*1_000_000_000+(i/streams)*size, size)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	for i := range batches {
		if res, err := db.Apply(b.Context(), batches[i]); err != nil || res.Accepted != size {
			b.Fatalf("Apply: %+v, %v", res, err)
		}
	}
	reportRate(b, b.N*size, start, cpu0)
}

// BenchmarkHistoryPage measures a 100-message page: cold is SQLite alone
// (cache disabled), warm is the read cache with Hi = now as the Slack layer
// sends it.
func BenchmarkHistoryPage(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []sqlite.Option
	}{
		{"cold", []sqlite.Option{sqlite.WithCacheBytes(0)}},
		{"warm", nil},
	} {
		b.Run(mode.name, func(b *testing.B) {
			db := openTest(b, mode.opts...)
			defer db.Close()
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

// BenchmarkApplyConcurrent is bench/ingest.sh without HTTP: 4 senders of
// 2000-message batches into one channel, each its own stretch of time (so
// three of them write below the channel's newest message), grouped into
// shared commits by the writer.
func BenchmarkApplyConcurrent(b *testing.B) {
	const senders, size = 4, 2000
	db := openTest(b)
	defer db.Close()
	benchChannels(b, db, 1)
	batches := make([][]backchannel.Event, b.N)
	for i := range batches {
		batches[i] = benchMessages("C0", (i%senders)*1_000_000_000+(i/senders)*size, size)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := s; i < b.N; i += senders {
				if res, err := db.Apply(b.Context(), batches[i]); err != nil || res.Accepted != size {
					b.Errorf("Apply: %+v, %v", res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	reportRate(b, b.N*size, start, cpu0)
}
