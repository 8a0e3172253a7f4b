package slackexport

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
)

// fixtureNow is a clock just after the fixture's last day, so an import
// closes its days without closing the decade since.
func fixtureNow() time.Time { return time.Date(2016, 4, 2, 0, 0, 0, 0, time.UTC) }

func TestFixtureZipAndFolderAgree(t *testing.T) {
	zl, dl := lines(t, fixtureZip, Options{}), lines(t, fixtureDir, Options{TeamName: "testarchive"})
	if !reflect.DeepEqual(zl, dl) {
		t.Fatalf("zip and folder give different events (%d vs %d lines)", len(zl), len(dl))
	}
	x, err := Open(fixtureZip, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	got, err := x.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Users: 4, Channels: 2, Files: 17, Messages: 158,
		First: backchannel.TS(1452837318_000000), Last: backchannel.TS(1459254786_000027)}
	if got != want {
		t.Fatalf("summary %+v, want %+v", got, want)
	}
}

// exportMessages reads a fixture channel's day files: its messages in order.
func exportMessages(t *testing.T, folder string) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(fixtureDir, folder, "*.json"))
	sort.Strings(files)
	var all []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var day []map[string]any
		if err := json.Unmarshal(b, &day); err != nil {
			t.Fatal(err)
		}
		all = append(all, day...)
	}
	return all
}

func TestFixtureImportHistoryAndReimport(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	res, err := Import(ctx, st, fixtureZip, Options{Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != res.Events || res.Duplicates != 0 || res.Messages != 158 {
		t.Fatalf("first import: %+v", res)
	}
	for ch, folder := range map[string]string{"C0JGLMMNX": "enrique", "C0JL6CGQ2": "traveling-sailor"} {
		want := exportMessages(t, folder)
		got := history(t, st, ch)
		if len(got) != len(want) {
			t.Fatalf("%s: %d messages in history, %d in the export", folder, len(got), len(want))
		}
		for i := range want {
			g := got[len(got)-1-i] // history is newest first
			if !reflect.DeepEqual(g, want[i]) {
				t.Fatalf("%s message %d:\n got %v\nwant %v", folder, i, g, want[i])
			}
		}
	}
	u, err := st.User(ctx, "U0BMQB6JE")
	if err != nil || !u.IsPrimaryOwner || !u.IsAdmin || u.RealName != "Hamza Faran" || u.TeamID != "T0BMHLSRH" {
		t.Fatalf("user: %+v %v", u, err)
	}
	for _, p := range []string{fixtureZip, fixtureDir} {
		again, err := Import(ctx, st, p, Options{Now: fixtureNow, TeamName: "testarchive"})
		if err != nil {
			t.Fatal(err)
		}
		if again.Accepted != 0 || again.Duplicates != res.Events || len(again.Finalized) != 0 || again.Rebuilt != nil {
			t.Fatalf("re-import of %s: %+v", p, again)
		}
	}
}

func TestFixtureMemberFile(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	as, ok := any(st).(backchannel.AnalyticsStore)
	if !ok {
		t.Skip("the SQLite store does not implement backchannel.AnalyticsStore yet")
	}
	res, err := Import(ctx, st, fixtureDir, Options{Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	day, _ := backchannel.ParseDay("2016-03-26")
	if !containsDay(res.Finalized, day) {
		t.Fatalf("2016-03-26 not closed: %v", res.Finalized)
	}
	want := postedOn(t, day, "enrique", "traveling-sailor")
	got := memberCounts(t, as, day)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("messages_posted_count on %s: got %v, want %v", day, got, want)
	}
	before := fileBytes(t, as, day)
	if _, err := Import(ctx, st, fixtureZip, Options{Now: fixtureNow, TeamName: "testarchive"}); err != nil {
		t.Fatal(err)
	}
	if after := fileBytes(t, as, day); string(after) != string(before) {
		t.Fatal("re-import changed the closed member file")
	}
}

func containsDay(ds []backchannel.Day, d backchannel.Day) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// postedOn counts, from the export files themselves, the messages each
// person posted on day (not system messages, not bots), every user of
// users.json present with 0.
func postedOn(t *testing.T, day backchannel.Day, folders ...string) map[string]float64 {
	t.Helper()
	system := map[string]bool{"channel_join": true, "channel_leave": true, "channel_topic": true,
		"channel_purpose": true, "channel_name": true, "channel_archive": true, "channel_unarchive": true, "bot_message": true}
	want := map[string]float64{"U0BMYT2FL": 0, "U0BMS113R": 0, "U0BMQB6JE": 0, "U0BMM2FEH": 0}
	for _, f := range folders {
		for _, m := range exportMessages(t, f) {
			ts, _ := backchannel.ParseTS(m["ts"].(string))
			sub, _ := m["subtype"].(string)
			user, _ := m["user"].(string)
			if backchannel.DayOfTS(ts) != day || system[sub] || m["bot_id"] != nil || user == "" {
				continue
			}
			want[user]++
		}
	}
	return want
}

func fileBytes(t *testing.T, as backchannel.AnalyticsStore, day backchannel.Day) []byte {
	t.Helper()
	rc, err := as.OpenAnalyticsFile(context.Background(), backchannel.FileMember, day)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var b strings.Builder
	if _, err := copyAll(&b, rc); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}
