package postgres_test

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/postgrestest"
)

// The messages.activity benchmarks: an announcement channel of 1,000
// messages, each viewed by 5,000 distinct people (5M message_viewed events
// through Apply), then pages of 100 read back.

const (
	benchActMsgs    = 1000
	benchActViewers = 5000
	benchActBatch   = 5000
)

// benchActDirectory is the channel and the viewers, in 12 departments (one
// in 13 has none) and 3 teams.
func benchActDirectory() []backchannel.Event {
	evs := []backchannel.Event{benchActEvent(`{"type":"channel","id":"CANN"}`, func(e *backchannel.Event) {
		e.Type, e.Channel = backchannel.EvChannel, &backchannel.Channel{ID: "CANN", Kind: backchannel.KindPublic}
	})}
	for u := range benchActViewers {
		dept := ""
		if u%13 != 0 {
			dept = fmt.Sprintf("Dept%02d", u%12)
		}
		team := fmt.Sprintf("T%d", u%3)
		evs = append(evs, benchActEvent(fmt.Sprintf(`{"type":"user","id":"W%05d","team_id":%q,"department":%q}`, u, team, dept),
			func(e *backchannel.Event) {
				e.Type, e.User = backchannel.EvUser, &backchannel.User{ID: fmt.Sprintf("W%05d", u), TeamID: team, Department: dept}
			}))
	}
	return evs
}

func benchActEvent(raw string, set func(*backchannel.Event)) backchannel.Event {
	e := backchannel.Event{Raw: []byte(raw), Key: sha256.Sum256([]byte(raw))}
	set(&e)
	return e
}

var benchActClients = []string{"desktop", "ios", "android", "web"}

// benchViews returns the views of message m by viewers [from, from+n).
func benchViews(ch string, m, from, n int) []backchannel.Event {
	ts := backchannel.TS(1_700_000_000_000_000 + int64(m)*1_000_000)
	evs := make([]backchannel.Event, n)
	for i := range evs {
		u := from + i
		c := benchActClients[(u+m)%4]
		user := fmt.Sprintf("W%05d", u)
		evs[i] = benchActEvent(fmt.Sprintf(`{"type":"message_viewed","channel":%q,"ts":"%s","user":%q,"client":%q,"event_ts":"%s"}`,
			ch, ts, user, c, ts+1), func(e *backchannel.Event) {
			e.Type, e.ChannelID, e.TS, e.UserID, e.Client, e.EventTS, e.Line = backchannel.EvMessageViewed, ch, ts, user, c, ts+1, i+1
		})
	}
	return evs
}

// buildActivityDB ingests the channel's messages and views, reporting the
// view ingest rate.
func buildActivityDB(b *testing.B, db *postgres.DB, msgs int) {
	b.Helper()
	if _, err := db.Apply(b.Context(), benchActDirectory()); err != nil {
		b.Fatal(err)
	}
	var posts []backchannel.Event
	for m := range msgs {
		ts := backchannel.TS(1_700_000_000_000_000 + int64(m)*1_000_000)
		posts = append(posts, benchActEvent(fmt.Sprintf(`{"type":"message","channel":"CANN","user":"W00001","ts":"%s","text":"news %d"}`, ts, m),
			func(e *backchannel.Event) {
				e.Type, e.ChannelID, e.UserID, e.TS = backchannel.EvMessage, "CANN", "W00001", ts
				e.Doc = fmt.Appendf(nil, `{"type":"message","user":"W00001","text":"news %d","ts":"%s"}`, m, ts)
			}))
	}
	if _, err := db.Apply(b.Context(), posts); err != nil {
		b.Fatal(err)
	}
	var took time.Duration
	for m := range msgs {
		for from := 0; from < benchActViewers; from += benchActBatch {
			evs := benchViews("CANN", m, from, benchActBatch)
			start := time.Now()
			if _, err := db.Apply(b.Context(), evs); err != nil {
				b.Fatal(err)
			}
			took += time.Since(start)
		}
	}
	b.ReportMetric(float64(msgs*benchActViewers)/took.Seconds(), "views/s")
}

// BenchmarkApplyViews measures view ingest with and without the
// messages.activity counters: 100 messages × 5,000 viewers.
func BenchmarkApplyViews(b *testing.B) {
	for _, counters := range []bool{true, false} {
		b.Run(fmt.Sprintf("counters=%v", counters), func(b *testing.B) {
			for range b.N {
				db := postgrestest.Open(b)
				if !counters {
					postgres.DisableMessageActivity(db)
				}
				buildActivityDB(b, db, 100)
				db.Close()
			}
		})
	}
}

// BenchmarkMessageActivity reads pages of 100 from 1,000 messages of 5,000
// viewers each, at every offset, and reports p50 and p99.
func BenchmarkMessageActivity(b *testing.B) {
	db := postgrestest.Open(b, postgres.WithCacheBytes(0))
	buildActivityDB(b, db, benchActMsgs)
	first := backchannel.TS(1_700_000_000_000_000)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		hi := first + backchannel.TS((100+i%(benchActMsgs-100))*1_000_000)
		start := time.Now()
		p, err := db.MessageActivity(b.Context(), backchannel.MessageActivityQuery{Channel: "CANN",
			Oldest: first, Latest: hi, Limit: 100})
		lat = append(lat, time.Since(start))
		if err != nil || len(p.Activities) != 100 || p.Activities[0].Views != benchActViewers || p.Next == 0 {
			b.Fatalf("page at %s: %d entries, %v", hi, len(p.Activities), err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
