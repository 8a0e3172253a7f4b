package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest/slackexport"
)

// The real export of ingest/slackexport/testdata (slack-export-viewer, MIT).
const exportFixture = "../ingest/slackexport/testdata/testarchive"

// exportNow is just after the fixture's last day: the import closes its
// days, not the years since.
func exportNow() time.Time { return time.Date(2016, 4, 2, 0, 0, 0, 0, time.UTC) }

// TestSlackGoReadsImportedExport imports the fixture (zip, then folder) and
// reads every channel back through slack-go: exactly the export's messages,
// thread replies aside, oldest to newest as the day files hold them.
func TestSlackGoReadsImportedExport(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		srv := startServer(t, open, "off")
		res, err := slackexport.Import(ctx, srv.Store, exportFixture+".zip", slackexport.Options{Now: exportNow})
		if err != nil {
			t.Fatal(err)
		}
		if res.Messages != 158 || res.Users != 4 || res.Channels != 2 || res.Accepted != res.Events {
			t.Fatalf("import: %+v", res.Summary)
		}
		again, err := slackexport.Import(ctx, srv.Store, exportFixture, slackexport.Options{Now: exportNow, TeamName: "testarchive"})
		if err != nil || again.Accepted != 0 || again.Duplicates != res.Events {
			t.Fatalf("re-import from the folder: %+v %v", again, err)
		}
		tok := mintToken(t, srv.Store, "U0BMS113R", "T0BMHLSRH", false, "channels:history")
		api := slack.New(tok, slack.OptionAPIURL(srv.APIURL()))
		for id, folder := range map[string]string{"C0JGLMMNX": "enrique", "C0JL6CGQ2": "traveling-sailor"} {
			want := readExportChannel(t, folder)
			var got []slack.Message
			cursor := ""
			for {
				page, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: id, Cursor: cursor, Limit: 50})
				if err != nil {
					t.Fatalf("%s: %v", folder, err)
				}
				got = append(got, page.Messages...)
				if !page.HasMore {
					break
				}
				cursor = page.ResponseMetaData.NextCursor
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d messages through slack-go, %d in the export", folder, len(got), len(want))
			}
			for i, w := range want {
				g := got[len(got)-1-i].Msg // history is newest first
				if g.Timestamp != w.Timestamp || g.Type != w.Type || g.User != w.User || g.Text != w.Text ||
					g.SubType != w.SubType || g.BotID != w.BotID || g.Username != w.Username || g.Inviter != w.Inviter ||
					len(g.Attachments) != len(w.Attachments) || len(g.Files) != len(w.Files) || g.Upload != w.Upload {
					t.Fatalf("%s message %d:\n got %+v\nwant %+v", folder, i, g, w)
				}
			}
		}
		checkPostedCounts(t, srv.Store)
	})
}

// readExportChannel decodes a channel's day files with slack-go's own type.
func readExportChannel(t *testing.T, folder string) []slack.Msg {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(exportFixture, folder, "*.json"))
	sort.Strings(files)
	var all []slack.Msg
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var day []slack.Msg
		if err := json.Unmarshal(b, &day); err != nil {
			t.Fatal(err)
		}
		all = append(all, day...)
	}
	return all
}

// checkPostedCounts compares the member file of 2016-03-26 with the
// messages each person posted that day according to the export.
func checkPostedCounts(t *testing.T, st backchannel.Store) {
	t.Helper()
	as, ok := st.(backchannel.AnalyticsStore)
	if !ok {
		t.Logf("%T does not implement backchannel.AnalyticsStore yet: member file not checked", st)
		return
	}
	day, _ := backchannel.ParseDay("2016-03-26")
	want := map[string]float64{"U0BMYT2FL": 0, "U0BMS113R": 0, "U0BMQB6JE": 0, "U0BMM2FEH": 0}
	for _, folder := range []string{"enrique", "traveling-sailor"} {
		for _, m := range readExportChannel(t, folder) {
			ts, _ := backchannel.ParseTS(m.Timestamp)
			if backchannel.DayOfTS(ts) == day && m.User != "" && m.BotID == "" &&
				m.SubType != "channel_join" && m.SubType != "bot_message" {
				want[m.User]++
			}
		}
	}
	rc, err := as.OpenAnalyticsFile(context.Background(), backchannel.FileMember, day)
	if err != nil {
		t.Fatalf("member file of %s: %v", day, err)
	}
	defer rc.Close()
	got := map[string]float64{}
	for _, l := range gunzipLines(t, rc) {
		got[l["user_id"].(string)] = l["messages_posted_count"].(float64)
	}
	for u, n := range want {
		if got[u] != n {
			t.Errorf("member file %s: %s messages_posted_count %v, want %v (all: %v)", day, u, got[u], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("member file %s: %d members, want %d", day, len(got), len(want))
	}
}

// gunzipLines reads a gzipped NDJSON file.
func gunzipLines(t *testing.T, r io.Reader) []map[string]any {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLaterExportReplacesAndCountsOnce imports the fixture, then a later
// export of it in which one message gained a reaction (its line, without
// the computed fields, is unchanged) and another changed without an edit
// marker (it replaces the stored one): on every store only those two are
// new, the rebuilt day still counts each message once, and history has
// both changes.
func TestLaterExportReplacesAndCountsOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		srv := startServer(t, open, "off")
		first, err := slackexport.Import(ctx, srv.Store, exportFixture, slackexport.Options{Now: exportNow})
		if err != nil {
			t.Fatal(err)
		}
		later := filepath.Join(t.TempDir(), "testarchive")
		if err := os.CopyFS(later, os.DirFS(exportFixture)); err != nil {
			t.Fatal(err)
		}
		const reacted, changed = "1459032936.000002", "1459033252.000003"
		editElements(t, filepath.Join(later, "traveling-sailor", "2016-03-26.json"), map[string]string{
			reacted: `"reactions":[{"name":"eyes","users":["U0BMQB6JE"],"count":1}],`,
			changed: `"client_msg_id":"later-export",`,
		})
		res, err := slackexport.Import(ctx, srv.Store, later, slackexport.Options{Now: exportNow})
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 2 || res.Duplicates != first.Events-1 || res.Rebuilt == nil {
			t.Fatalf("later export: %d accepted, %d duplicates, rebuilt %v (first: %d events)", res.Accepted, res.Duplicates, res.Rebuilt, first.Events)
		}
		page, err := srv.Store.History(ctx, backchannel.HistoryQuery{Channel: "C0JL6CGQ2", Lo: 0, Hi: backchannel.TS(1 << 62), Limit: 999})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]map[string]any{}
		for _, raw := range page.Messages {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			got[m["ts"].(string)] = m
		}
		if got[reacted]["reactions"] == nil || got[changed]["client_msg_id"] != "later-export" {
			t.Fatalf("history after the later export:\n%v\n%v", got[reacted], got[changed])
		}
		checkPostedCounts(t, srv.Store)
	})
}

// editElements rewrites a day file, inserting after the opening brace of
// the element with each ts the given fields; every other element keeps its
// bytes (so its line is the same as before).
func editElements(t *testing.T, path string, insert map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		t.Fatal(err)
	}
	out := []byte("[\n")
	for i, e := range elems {
		var m struct {
			TS string `json:"ts"`
		}
		if err := json.Unmarshal(e, &m); err != nil {
			t.Fatal(err)
		}
		if f, ok := insert[m.TS]; ok {
			e = append([]byte("{"+f), bytes.TrimPrefix(bytes.TrimSpace(e), []byte("{"))...)
			delete(insert, m.TS)
		}
		if i > 0 {
			out = append(out, ",\n"...)
		}
		out = append(out, e...)
	}
	if len(insert) > 0 {
		t.Fatalf("%s: no element with ts %v", path, insert)
	}
	if err := os.WriteFile(path, append(out, "\n]\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
}
