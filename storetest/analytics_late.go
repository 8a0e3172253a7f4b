package storetest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
)

// closedFiles reads every file of days 1-3.
func closedFiles(t *testing.T, as backchannel.AnalyticsStore) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, d := range []backchannel.Day{day1, day2, day3} {
		for _, k := range []string{backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata} {
			out[k+" "+d.String()] = readFile(t, as, k, d)
		}
	}
	return out
}

func sameFiles(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	for k, w := range want {
		if !bytes.Equal(got[k], w) {
			t.Errorf("%s: file %s changed", what, k)
		}
	}
}

func dump(t *testing.T, s backchannel.Store) []string {
	t.Helper()
	d, ok := s.(RollupDumper)
	if !ok {
		return nil
	}
	rows, err := d.DumpRollups(t.Context())
	if err != nil {
		t.Fatalf("DumpRollups: %v", err)
	}
	return rows
}

func sameRollups(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: rollups differ:\n got %q\nwant %q", what, got, want)
	}
}

// testAnalyticsRebuild: rebuilding every day from the raw event log gives
// exactly the incrementally maintained rollups and byte-identical files;
// a late event leaves closed files alone until a rebuild.
func testAnalyticsRebuild(t *testing.T, s backchannel.Store) {
	as := analyticsStore(t, s)
	ctx := t.Context()
	apply(t, s, analyticsDirectory()...)
	apply(t, s, day1Events()...)
	apply(t, s, day2Events()...)
	if _, err := as.FinalizeDays(ctx, day3); err != nil {
		t.Fatal(err)
	}
	files, rollups := closedFiles(t, as), dump(t, s)
	if err := as.RebuildDays(ctx, day1-5, day3+5); err != nil {
		t.Fatalf("RebuildDays: %v", err)
	}
	sameRollups(t, "rebuild", dump(t, s), rollups)
	sameFiles(t, "rebuild", closedFiles(t, as), files)
	checkFiles(t, as)

	// A late search by W1 on day 1: kept, counted, closed files unchanged.
	late := Act(backchannel.EvSearch, "W1", sec(d1s+9000))
	apply(t, s, late)
	apply(t, s, late) // a replayed late event is a duplicate: not counted twice
	st, err := as.AnalyticsStatus(ctx)
	if err != nil || st.LateEvents != 1 {
		t.Fatalf("status after a late event: %+v, %v; want LateEvents 1", st, err)
	}
	sameFiles(t, "late event", closedFiles(t, as), files)
	incremental := dump(t, s)
	if rollups != nil && slices.Equal(incremental, rollups) {
		t.Errorf("a late event did not update the rollups")
	}

	if err := as.RebuildDays(ctx, day1, day1); err != nil {
		t.Fatalf("RebuildDays: %v", err)
	}
	sameRollups(t, "rebuild after a late event", dump(t, s), incremental)
	got := lines(t, readFile(t, as, backchannel.FileMember, day1))
	w1 := wantMembers()[day1][0]
	w1.search = 1
	if len(got) == 0 || got[0] != w1.String() {
		t.Errorf("day 1 after rebuild:\n got %s\nwant %s", strings.Join(got[:min(1, len(got))], ""), w1)
	}
	after := closedFiles(t, as)
	delete(files, backchannel.FileMember+" "+day1.String())
	sameFiles(t, "rebuild of day 1", after, files)
}

// testReplacedMessageCountsOnce: a message line replaced by another for the
// same (channel, ts) in a later batch (say a later Slack export's version
// of it), then again after its day closed, is posted once — incrementally
// and when the day is rebuilt from the log.
func testReplacedMessageCountsOnce(t *testing.T, s backchannel.Store) {
	as := analyticsStore(t, s)
	ctx := t.Context()
	apply(t, s, analyticsDirectory()...)
	apply(t, s, Post("C1", "W1", "", msg1, "desktop", 1, "hello"))
	if res := apply(t, s, Post("C1", "W1", "", msg1, "desktop", 1, "hello, changed")); res.Accepted != 1 {
		t.Fatalf("replacing line: %+v", res)
	}
	if _, err := as.FinalizeDays(ctx, day1); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		var w1, c1 map[string]any
		for _, l := range lines(t, readFile(t, as, backchannel.FileMember, day1)) {
			if strings.Contains(l, `"user_id":"W1"`) {
				w1 = decodeLine(t, l)
			}
		}
		for _, l := range lines(t, readFile(t, as, backchannel.FilePublicChannel, day1)) {
			if strings.Contains(l, `"channel_id":"C1"`) {
				c1 = decodeLine(t, l)
			}
		}
		if w1["messages_posted_count"] != 1.0 || w1["channel_messages_posted_count"] != 1.0 || w1["files_added_count"] != 1.0 {
			t.Errorf("%s: W1's member line %v: want the message posted once, one file", what, w1)
		}
		if c1["messages_posted_count"] != 1.0 || c1["messages_posted_by_members_count"] != 1.0 {
			t.Errorf("%s: C1's public_channel line %v: want the message posted once", what, c1)
		}
	}
	check("replaced in a later batch")
	apply(t, s, Post("C1", "W1", "", msg1, "desktop", 1, "hello, changed again")) // late
	if err := as.RebuildDays(ctx, day1, day1); err != nil {
		t.Fatalf("RebuildDays: %v", err)
	}
	check("replaced after the day closed, rebuilt")
}

func decodeLine(t *testing.T, l string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(l), &m); err != nil {
		t.Fatalf("%s: %v", l, err)
	}
	return m
}
