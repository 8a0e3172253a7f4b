package sqlite_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest/demo"
	"github.com/backchannel/backchannel/sqlite"
	"github.com/backchannel/backchannel/storetest"
)

func allFiles(t testing.TB, db *sqlite.DB, first, last backchannel.Day) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for d := first; d <= last; d++ {
		for _, k := range []string{backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata} {
			rc, err := db.OpenAnalyticsFile(t.Context(), k, d)
			if err != nil {
				t.Fatalf("open %s %s: %v", k, d, err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[k+" "+d.String()] = b
		}
	}
	return out
}

// TestAnalyticsDemoRebuild: on the demo organisation, rebuilding every day
// from the raw event log gives exactly the incrementally maintained rollups
// and byte-identical files.
func TestAnalyticsDemoRebuild(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	defer db.Close()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Seed(ctx, db, demo.Config{Seed: 7, Members: 30, Days: 10, Teams: 2, Now: now}); err != nil {
		t.Fatal(err)
	}
	st, err := db.AnalyticsStatus(ctx)
	if err != nil || !st.HasData {
		t.Fatalf("status: %+v, %v", st, err)
	}
	last := backchannel.DayOf(now) - 1
	if _, err := db.FinalizeDays(ctx, last); err != nil {
		t.Fatal(err)
	}
	files := allFiles(t, db, st.FirstDay, last)
	rollups, err := db.DumpRollups(ctx)
	if err != nil || len(rollups) == 0 {
		t.Fatalf("DumpRollups: %d rows, %v", len(rollups), err)
	}
	if err := db.RebuildDays(ctx, st.FirstDay, last); err != nil {
		t.Fatal(err)
	}
	after, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after, rollups) {
		for i := range min(len(after), len(rollups)) {
			if after[i] != rollups[i] {
				t.Fatalf("rollups differ after rebuild (%d vs %d rows); first at %d:\n got %s\nwant %s",
					len(after), len(rollups), i, after[i], rollups[i])
			}
		}
		t.Fatalf("rollups differ after rebuild: %d rows, want %d", len(after), len(rollups))
	}
	for k, b := range allFiles(t, db, st.FirstDay, last) {
		if !bytes.Equal(b, files[k]) {
			t.Errorf("file %s changed by rebuild", k)
		}
	}
}

// activityEvents returns n activity events of one day by 1,000 users over
// 20 channels, shaped like ingest's output.
func activityEvents(start, n int) []backchannel.Event {
	day := int64(1_700_000_000_000_000)
	evs := make([]backchannel.Event, n)
	for i := range evs {
		j := start + i
		at := backchannel.TS(day + int64(j))
		user, ch := fmt.Sprintf("W%d", j%1000), fmt.Sprintf("C%d", j%20)
		var ev backchannel.Event
		switch j % 5 {
		case 0, 1:
			ev = backchannel.Event{Type: backchannel.EvMessageViewed, ChannelID: ch, TS: backchannel.TS(day), Client: "desktop"}
		case 2:
			ev = backchannel.Event{Type: backchannel.EvClientActive, Client: "ios"}
		case 3:
			ev = backchannel.Event{Type: backchannel.EvSearch}
		case 4:
			ev = backchannel.Event{Type: backchannel.EvCall, Subtype: "huddle"}
		}
		ev.UserID, ev.EventTS, ev.Line = user, at, i+1
		ev.Raw = fmt.Appendf(nil, `{"type":%q,"user":%q,"channel":%q,"client":%q,"event_ts":"%s"}`, ev.Type, user, ev.ChannelID, ev.Client, at)
		ev.Key = sha256.Sum256(ev.Raw)
		evs[i] = ev
	}
	return evs
}

// BenchmarkApplyActivity measures sustained ingest of activity events with
// their rollups, in batches of 5,000.
func BenchmarkApplyActivity(b *testing.B) {
	const size = 5000
	db := openTest(b)
	defer db.Close()
	benchChannels(b, db, 20)
	batches := make([][]backchannel.Event, b.N)
	for i := range batches {
		batches[i] = activityEvents(i*size, size)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := db.Apply(b.Context(), batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkFinalizeDay closes one day of the organisation: 100,000
// members (every fiftieth a guest), 5,000 public channels, 1,000,000
// memberships (ten each, from the day before) and each member active once
// that day: three files, streamed from SQL through the encoder and gzip
// into chunks. Each round after the first reopens the day (RebuildDays
// rewrites a closed day's files, which recomputes its rollups too). It
// reports gzip -1 of the same NDJSON bytes (the three files, decompressed)
// measured in the same run. BENCH_FINALIZE_DB keeps the built database
// there and reuses it.
func BenchmarkFinalizeDay(b *testing.B) {
	const members, channels, per = 100_000, 5_000, 10
	day := backchannel.DayOfTS(1_700_000_000_000_000)
	db := benchFinalizeDB(b, members, channels, per)
	defer db.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if i > 0 { // reopen the day: RebuildDays rewrites a closed day's files
			b.StartTimer()
			if err := db.RebuildDays(b.Context(), day, day); err != nil {
				b.Fatal(err)
			}
			continue
		}
		b.StartTimer()
		if _, err := db.FinalizeDays(b.Context(), day); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var raw []byte
	for _, k := range []string{backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata} {
		raw = append(raw, gunzipFile(b, db, k, day)...)
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

// benchFinalizeDB builds (or, with BENCH_FINALIZE_DB set and built, opens)
// the organisation of BenchmarkFinalizeDay with the day's activity; the day
// is not closed.
func benchFinalizeDB(b *testing.B, members, channels, per int) *sqlite.DB {
	b.Helper()
	path := os.Getenv("BENCH_FINALIZE_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "finalize.db")
	}
	if _, err := os.Stat(path); err == nil {
		db, err := sqlite.Open(b.Context(), path)
		if err != nil {
			b.Fatal(err)
		}
		if err := sqlite.ExecSQL(b.Context(), db, `UPDATE analytics_days SET closed_at = NULL; DELETE FROM analytics_files`); err != nil {
			b.Fatal(err)
		}
		return db
	}
	db, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	var evs []backchannel.Event
	flush := func() {
		if _, err := db.Apply(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
		evs = evs[:0]
	}
	// add appends an event to the batch, applying the batch first when
	// full; the event is the caller's to fill in until the next add.
	add := func(typ string, raw []byte) *backchannel.Event {
		if len(evs) == 5000 {
			flush()
		}
		evs = append(evs, backchannel.Event{Type: typ, Raw: raw, Key: sha256.Sum256(raw), Line: len(evs) + 1})
		return &evs[len(evs)-1]
	}
	// Everything from the day before (1699920000 is 2023-11-14 00:00 UTC).
	const before = 1_699_920_000
	for i := range channels {
		id := fmt.Sprintf("C%07d", i)
		ev := add(backchannel.EvChannel, fmt.Appendf(nil, `{"type":"channel","id":%q}`, id))
		ev.Channel = &backchannel.Channel{ID: id, TeamID: "T1", Name: fmt.Sprintf("channel-%d", i), Kind: backchannel.KindPublic,
			Created: before, Topic: fmt.Sprintf("Topic %d", i), Purpose: fmt.Sprintf("Purpose of channel %d", i)}
	}
	flush()
	for i := range members {
		id := fmt.Sprintf("W%07d", i)
		ev := add(backchannel.EvUser, fmt.Appendf(nil, `{"type":"user","id":%q}`, id))
		ev.User = &backchannel.User{ID: id, TeamID: "T1", Email: id + "@example.org", DateClaimed: before,
			EmployeeNumber: fmt.Sprint(100000 + i), IsGuest: i%50 == 0, GuestType: map[bool]string{true: "multi_channel"}[i%50 == 0]}
	}
	for i := range members {
		for k := range per {
			ch, u := fmt.Sprintf("C%07d", (i*7+k*channels/per)%channels), fmt.Sprintf("W%07d", i)
			ev := add(backchannel.EvMemberJoined, fmt.Appendf(nil, `{"type":"member_joined_channel","channel":%q,"user":%q}`, ch, u))
			ev.ChannelID, ev.UserID, ev.EventTS = ch, u, backchannel.TS((before+60)*1_000_000)
		}
	}
	flush()
	// The day: each member once, as in activityEvents.
	day := int64(1_700_000_000_000_000)
	for i := range members {
		at := backchannel.TS(day + int64(i))
		user, ch := fmt.Sprintf("W%07d", i), fmt.Sprintf("C%07d", (i*7)%channels)
		var ev *backchannel.Event
		switch i % 5 {
		case 0, 1:
			ev = add(backchannel.EvMessageViewed, fmt.Appendf(nil, `{"type":"message_viewed","user":%q,"channel":%q,"ts":"%s","client":"desktop","event_ts":"%s"}`,
				user, ch, backchannel.TS(day), at))
			ev.ChannelID, ev.TS, ev.Client = ch, backchannel.TS(day), "desktop"
		case 2:
			ev = add(backchannel.EvClientActive, fmt.Appendf(nil, `{"type":"client_active","user":%q,"client":"ios","event_ts":"%s"}`, user, at))
			ev.Client = "ios"
		case 3:
			ev = add(backchannel.EvSearch, fmt.Appendf(nil, `{"type":"search","user":%q,"event_ts":"%s"}`, user, at))
		case 4:
			ev = add(backchannel.EvCall, fmt.Appendf(nil, `{"type":"call","user":%q,"kind":"huddle","event_ts":"%s"}`, user, at))
			ev.Subtype = "huddle"
		}
		ev.UserID, ev.EventTS = user, at
	}
	flush()
	return db
}

// gunzipFile reads a closed day's file, decompressed.
func gunzipFile(b *testing.B, db *sqlite.DB, kind string, d backchannel.Day) []byte {
	b.Helper()
	rc, err := db.OpenAnalyticsFile(b.Context(), kind, d)
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// TestMemberCountsMigration: migration 0004 fills channel_member_days from
// what membership_log holds exactly as ingest keeps it (demo organisation:
// joins and leaves over ten days, guests and bots).
func TestMemberCountsMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Seed(ctx, db, demo.Config{Seed: 3, Members: 30, Days: 10, Teams: 2, Now: now}); err != nil {
		t.Fatal(err)
	}
	// Guests, a bot, a user without a record, leaves, changes out of order
	// and on the same day (day 20089 is 2025-01-01; UG is a guest).
	day := func(d int64) backchannel.TS { return backchannel.TS(1_735_689_600_000_000 + d*86_400_000_000) } // 2025-01-01
	extra := []backchannel.Event{
		storetest.ChannelAt(backchannel.Channel{ID: "CMIG", TeamID: "T1", Name: "mig", Kind: backchannel.KindPublic}, day(0)),
		storetest.UserAt(backchannel.User{ID: "UG", TeamID: "T1", IsGuest: true, GuestType: "multi_channel"}, day(0)),
		storetest.UserAt(backchannel.User{ID: "UB", TeamID: "T1", IsBot: true}, day(0)),
		storetest.MemberAt(true, "CMIG", "UG", day(3)), storetest.MemberAt(true, "CMIG", "UB", day(3)),
		storetest.MemberAt(true, "CMIG", "UX", day(5)), storetest.MemberAt(false, "CMIG", "UG", day(7)),
		storetest.MemberAt(true, "CMIG", "UG", day(1)), storetest.MemberAt(false, "CMIG", "UX", day(5)+1),
		storetest.MemberAt(false, "CMIG", "UG", day(2)), storetest.MemberAt(true, "CMIG", "UX", day(9)),
	}
	for i := range extra {
		extra[i].Line = i + 1
	}
	if _, err := db.Apply(ctx, extra); err != nil {
		t.Fatal(err)
	}
	kept, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[members CMIG 20090 1 1]", "[members CMIG 20091 -1 -1]", "[members CMIG 20092 1 1]",
		"[members CMIG 20096 -1 -1]", "[members CMIG 20098 1 0]"}
	var got []string
	for _, r := range kept {
		if strings.HasPrefix(r, "[members CMIG ") {
			got = append(got, r)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("member-count rows of CMIG:\n got %q\nwant %q", got, want)
	}
	// Back to the schema before 0004, then migrate again.
	err = sqlite.ExecSQL(ctx, db, `DROP TABLE channel_member_days; DROP INDEX membership_log_user;
		DELETE FROM schema_migrations WHERE version = 4`)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	filled, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(filled, kept) {
		t.Errorf("after migration 0004:\n got %q\nwant %q", filled, kept)
	}
	db.Close()
}

// TestMemberFileReaders: a member file read by parallel readers in many
// segments (three users each) is byte for byte the file one connection
// reads.
func TestMemberFileReaders(t *testing.T) {
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	build := func(opts ...sqlite.Option) map[string][]byte {
		db := openTest(t, opts...)
		defer db.Close()
		if _, err := demo.Seed(t.Context(), db, demo.Config{Seed: 5, Members: 40, Days: 4, Teams: 2, Now: now}); err != nil {
			t.Fatal(err)
		}
		st, err := db.AnalyticsStatus(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		last := backchannel.DayOf(now) - 1
		if _, err := db.FinalizeDays(t.Context(), last); err != nil {
			t.Fatal(err)
		}
		return allFiles(t, db, st.FirstDay, last)
	}
	one := build(sqlite.WithReadConns(1))
	sqlite.SetSegmentRows(3)
	defer sqlite.SetSegmentRows(2048)
	parallel := build()
	if len(one) == 0 || len(one) != len(parallel) {
		t.Fatalf("%d files from one reader, %d from parallel readers", len(one), len(parallel))
	}
	for k, b := range one {
		if !bytes.Equal(parallel[k], b) {
			t.Errorf("file %s differs between one reader and parallel readers", k)
		}
	}
	if lines := bytes.Count(gunzip(t, one[backchannel.FileMember+" "+(backchannel.DayOf(now)-1).String()]), []byte("\n")); lines < 30 {
		t.Errorf("the last day's member file has %d lines, want the demo's members", lines)
	}
}

func gunzip(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
