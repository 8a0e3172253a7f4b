package sqlite

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/backchannel/backchannel/ingest/demo"
)

func TestRollupRunRoundTrip(t *testing.T) {
	type member struct {
		user string
		c    analytics.MemberCounts
	}
	type channel struct {
		ch string
		c  analytics.ChannelCounts
	}
	members := []member{
		{"U1", analytics.MemberCounts{Flags: 3}},
		{"", analytics.MemberCounts{}},
		{"W0123456789", analytics.MemberCounts{Messages: 1, ChannelMessages: -2, Reactions: math.MaxInt64, Files: math.MinInt64,
			SlackCalls: 5, Huddles: 6, ThirdPartyCalls: 7, Searches: 300, Flags: 255}},
	}
	channels := []channel{
		{"C1", analytics.ChannelCounts{LastTS: 1_795_824_060_123_456}},
		{"C2", analytics.ChannelCounts{Messages: 1, MemberMessages: 2, Reactions: 3, Viewers: 4, Posters: -5, LastTS: math.MaxInt64}},
		{"C3", analytics.ChannelCounts{}},
	}
	var mrun, crun []byte
	mends, cends := map[int]bool{}, map[int]bool{} // where an entry ends
	for _, m := range members {
		mrun = appendMemberDelta(mrun, m.user, &m.c)
		mends[len(mrun)] = true
	}
	for _, c := range channels {
		crun = appendChannelDelta(crun, c.ch, &c.c)
		cends[len(crun)] = true
	}
	var gotM []member
	if err := decodeMembers(mrun, func(u []byte, c *analytics.MemberCounts) { gotM = append(gotM, member{string(u), *c}) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotM, members) {
		t.Errorf("members: got %+v, want %+v", gotM, members)
	}
	var gotC []channel
	if err := decodeChannels(crun, func(ch []byte, c *analytics.ChannelCounts) { gotC = append(gotC, channel{string(ch), *c}) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotC, channels) {
		t.Errorf("channels: got %+v, want %+v", gotC, channels)
	}
	// A run cut inside an entry is malformed, and so are a mask past the
	// counters and flags past a byte: an error, never a panic.
	for i := 1; i < len(mrun); i++ {
		err := decodeMembers(mrun[:i], func([]byte, *analytics.MemberCounts) {})
		if mends[i] != (err == nil) || err != nil && !errors.Is(err, errBadRollupRun) {
			t.Errorf("members cut at %d of %d (an entry's end: %v): %v", i, len(mrun), mends[i], err)
		}
	}
	for i := 1; i < len(crun); i++ {
		err := decodeChannels(crun[:i], func([]byte, *analytics.ChannelCounts) {})
		if cends[i] != (err == nil) || err != nil && !errors.Is(err, errBadRollupRun) {
			t.Errorf("channels cut at %d of %d (an entry's end: %v): %v", i, len(crun), cends[i], err)
		}
	}
	for _, bad := range [][]byte{{1, 'U', 0, 0x80, 0x02}, {1, 'U', 0x80, 0x02, 0}} {
		if err := decodeMembers(bad, func([]byte, *analytics.MemberCounts) {}); !errors.Is(err, errBadRollupRun) {
			t.Errorf("members %x: %v", bad, err)
		}
	}
	if err := decodeChannels([]byte{1, 'C', 0x40}, func([]byte, *analytics.ChannelCounts) {}); !errors.Is(err, errBadRollupRun) {
		t.Errorf("channel mask past the counters: %v", err)
	}
}

// TestRollupRunsCompaction: ingest logs member-days and channel-days in
// rollup runs; what the rollups hold is the same before and after they
// are compacted; and a close that finds runs compacts them in its own
// transaction and reads the files on the writer's connection, giving the
// same bytes as a close after FinalizeDays compacted them first (with the
// member file read in parallel).
func TestRollupRunsCompaction(t *testing.T) {
	ctx := t.Context()
	defer func(n int) { segRows = n }(segRows)
	segRows = 4 // the member file of 30 read in segments, in parallel
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	last := backchannel.DayOf(now) - 1
	seeded := func() *DB {
		db := openMigrated(t)
		if _, err := demo.Seed(ctx, db, demo.Config{Seed: 3, Members: 30, Days: 6, Teams: 2, Now: now}); err != nil {
			t.Fatal(err)
		}
		return db
	}
	runs := func(db *DB) int64 {
		t.Helper()
		var n int64
		if err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM rollup_runs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b := seeded(), seeded()
	if runs(a) == 0 {
		t.Fatal("ingest logged no rollup runs")
	}
	before, err := a.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.FinalizeDays(ctx, last); err != nil {
		t.Fatal(err)
	}
	if n := runs(a); n != 0 {
		t.Fatalf("%d rollup runs after FinalizeDays", n)
	}
	after, err := a.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, after) {
		t.Fatalf("rollups changed by compaction:\n%q\nthen\n%q", before, after)
	}

	st, err := b.AnalyticsStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = b.execAlone(ctx, func(ctx context.Context, w *writer) error {
		wrote := false
		for d := st.FirstDay; d <= last; d++ {
			if _, _, err := w.closeDay(ctx, d, false, &wrote); err != nil {
				return err
			}
		}
		if !wrote {
			return errors.New("the closes compacted nothing")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := runs(b); n != 0 {
		t.Fatalf("%d rollup runs after closing", n)
	}
	for d := st.FirstDay; d <= last; d++ {
		for _, k := range []string{backchannel.FileMember, backchannel.FilePublicChannel} {
			fa, fb := readFile(t, a, k, d), readFile(t, b, k, d)
			if !bytes.Equal(fa, fb) {
				t.Errorf("%s file of %s: %d bytes closed after FinalizeDays compacted, %d closed compacting", k, d, len(fa), len(fb))
			}
		}
	}
}

func readFile(t *testing.T, db *DB, kind string, d backchannel.Day) []byte {
	t.Helper()
	rc, err := db.OpenAnalyticsFile(t.Context(), kind, d)
	if err != nil {
		t.Fatalf("open %s %s: %v", kind, d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
