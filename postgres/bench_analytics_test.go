package postgres_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/postgrestest"
	"github.com/jackc/pgx/v5"
)

// benchDay is the day of the benchmarks' activity (2023-11-14).
const benchDay = backchannel.Day(19675)

func benchEvent(typ string, raw []byte) backchannel.Event {
	return backchannel.Event{Type: typ, Raw: raw, Key: sha256.Sum256(raw), Line: 1}
}

// benchOrg applies users W0… and public channels C0… (every tenth user a
// guest, every fiftieth channel shared), each user a member of per channels.
func benchOrg(b *testing.B, db *postgres.DB, users, channels, per int) {
	b.Helper()
	var evs []backchannel.Event
	for i := range channels {
		c := &backchannel.Channel{ID: fmt.Sprintf("C%d", i), TeamID: "T1", Name: fmt.Sprintf("channel-%d", i),
			Kind: backchannel.KindPublic, Created: 1600000000, Topic: "topic", Purpose: "purpose"}
		if i%50 == 0 {
			c.ExternalOrgs = []backchannel.ExternalOrg{{Name: "Partner", Domain: "partner.slack.com"}}
		}
		ev := benchEvent(backchannel.EvChannel, fmt.Appendf(nil, `{"type":"channel","id":"C%d"}`, i))
		ev.Channel = c
		evs = append(evs, ev)
	}
	for i := range users {
		u := &backchannel.User{ID: fmt.Sprintf("W%d", i), TeamID: "T1", Email: fmt.Sprintf("w%d@example.org", i),
			IsGuest: i%10 == 0, DateClaimed: 1600000000}
		ev := benchEvent(backchannel.EvUser, fmt.Appendf(nil, `{"type":"user","id":"W%d"}`, i))
		ev.User = u
		evs = append(evs, ev)
		for k := range per {
			ch := (i*7 + k*channels/per) % channels
			m := benchEvent(backchannel.EvMemberJoined, fmt.Appendf(nil, `{"type":"member_joined_channel","channel":"C%d","user":"W%d"}`, ch, i))
			m.ChannelID, m.UserID = fmt.Sprintf("C%d", ch), u.ID
			evs = append(evs, m)
		}
	}
	for len(evs) > 0 {
		n := min(len(evs), 5000)
		if _, err := db.Apply(b.Context(), evs[:n]); err != nil {
			b.Fatal(err)
		}
		evs = evs[n:]
	}
}

var benchClients = []string{"desktop", "ios", "android", "web"}

// benchActivity returns n activity events of benchDay, numbered from start:
// mostly views (as in a real day), client_active, searches, calls, files.
func benchActivity(start, n, users, channels int) []backchannel.Event {
	evs := make([]backchannel.Event, n)
	base := int64(benchDay) * 86_400_000_000
	for i := range evs {
		k := start + i
		at := backchannel.TS(base + int64(k%86_400_000)*1000)
		user := fmt.Sprintf("W%d", (k*7919)%users)
		ch := fmt.Sprintf("C%d", (k*31)%channels)
		client := benchClients[k%4]
		var ev backchannel.Event
		switch k % 10 {
		case 0:
			ev = benchEvent(backchannel.EvClientActive, fmt.Appendf(nil, `{"type":"client_active","user":%q,"client":%q,"event_ts":"%s","n":%d}`, user, client, at, k))
			ev.Client = client
		case 1:
			ev = benchEvent(backchannel.EvSearch, fmt.Appendf(nil, `{"type":"search","user":%q,"event_ts":"%s","n":%d}`, user, at, k))
		case 2:
			ev = benchEvent(backchannel.EvCall, fmt.Appendf(nil, `{"type":"call","user":%q,"kind":"huddle","event_ts":"%s","n":%d}`, user, at, k))
			ev.Subtype = "huddle"
		default:
			ev = benchEvent(backchannel.EvMessageViewed, fmt.Appendf(nil, `{"type":"message_viewed","user":%q,"channel":%q,"ts":"%s","client":%q,"event_ts":"%s","n":%d}`,
				user, ch, at, client, at, k))
			ev.ChannelID, ev.TS, ev.Client = ch, at, client
		}
		ev.UserID, ev.EventTS, ev.Line = user, at, i+1
		evs[i] = ev
	}
	return evs
}

// BenchmarkApplyActivity measures sustained ingest of activity events
// (views, client_active, searches, calls) of one day by 20,000 users in 500
// public channels, in 5000-event batches: rollups (member-day,
// channel-day, distinct viewers) are written in each batch's transaction.
func BenchmarkApplyActivity(b *testing.B) {
	const users, channels, size = 20_000, 500, 5000
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("batch=%d/clients=%d", size, par), func(b *testing.B) {
			db := postgrestest.Open(b)
			benchOrg(b, db, users, channels, 1)
			next := make(chan []backchannel.Event, b.N)
			for i := range b.N {
				next <- benchActivity(i*size, size, users, channels)
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

// BenchmarkFinalizeDay measures closing one day of the issue's
// organisation: 100,000 members and 5,000 public channels, 1,000,000
// memberships (ten each) and 1,000,000 activity events: building,
// compressing and storing its three files. Each round reopens the day
// first. It reports gzip -1 of the same NDJSON bytes (the three files,
// decompressed) measured in the same run. BENCH_FINALIZE_SCHEMA keeps the
// built organisation in that schema and reuses it.
func BenchmarkFinalizeDay(b *testing.B) {
	const users, channels, per, events = 100_000, 5_000, 10, 1_000_000
	db, built := benchFinalizeDB(b, events)
	if !built {
		benchOrg(b, db, users, channels, per)
		for i := 0; i < events; i += 10_000 {
			if _, err := db.Apply(b.Context(), benchActivity(i, 10_000, users, channels)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := postgres.Exec(b.Context(), db, `UPDATE analytics_days SET closed_at = NULL`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		closed, err := db.FinalizeDays(b.Context(), benchDay)
		if err != nil || len(closed) != 1 {
			b.Fatalf("FinalizeDays: %v, %v", closed, err)
		}
	}
	b.StopTimer()
	var raw []byte
	for _, k := range []string{backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata} {
		rc, err := db.OpenAnalyticsFile(b.Context(), k, benchDay)
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(rc)
		if err != nil {
			b.Fatal(err)
		}
		f, err := io.ReadAll(zr)
		rc.Close()
		if err != nil {
			b.Fatal(err)
		}
		raw = append(raw, f...)
	}
	b.ReportMetric(float64(len(raw))/1e6, "ndjson-MB")
	if _, err := exec.LookPath("gzip"); err == nil {
		cmd := exec.Command("gzip", "-1", "-c")
		cmd.Stdin, cmd.Stdout = bytes.NewReader(raw), io.Discard
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(t0).Milliseconds()), "gzip1-ms")
	}
}

// benchFinalizeDB opens a store on a fresh schema or, with
// BENCH_FINALIZE_SCHEMA set, on that schema (created if absent, kept
// afterwards); built reports whether it holds the whole organisation and
// day already (a build cut short is not reused: drop the schema).
func benchFinalizeDB(b *testing.B, events int64) (db *postgres.DB, built bool) {
	b.Helper()
	schema := os.Getenv("BENCH_FINALIZE_SCHEMA")
	if schema == "" {
		return postgrestest.Open(b), false
	}
	base := os.Getenv(postgrestest.EnvURL)
	if base == "" {
		b.Skipf("%s not set", postgrestest.EnvURL)
	}
	admin, err := pgx.Connect(b.Context(), base)
	if err != nil {
		b.Fatal(err)
	}
	_, err = admin.Exec(b.Context(), `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize())
	admin.Close(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	if db, err = postgres.Open(b.Context(), u.String()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	n, err := postgres.CountRows(b.Context(), db, `SELECT coalesce(sum(events), 0) FROM analytics_days`)
	if err != nil {
		b.Fatal(err)
	}
	if n > 0 && n < events {
		b.Fatalf("schema %s holds %d of the day's %d events: drop it", schema, n, events)
	}
	return db, n > 0
}
