package slackexport

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
)

const (
	gTeam    = "T0GEN0001"
	gAdmin   = "U0ADMIN01"
	gMulti   = "U0GUESTM1"
	gSingle  = "U0GUESTS1"
	gBot     = "U0BOT0001"
	gGone    = "U0GONE001"
	gPlain   = "W0PLAIN01"
	gGeneral = "C0GENERAL"
	gSecret  = "G0SECRET1"
	gMPIM    = "G0MPIM001"
	gDM      = "D0DIRECT1"
)

// t0 is 2021-03-01 00:00 UTC; at(h) is h hours later as a Slack ts.
const t0 = 1614556800

// gOpts closes the days up to 2021-03-09 only.
var gOpts = Options{Now: func() time.Time { return time.Date(2021, 3, 10, 12, 0, 0, 0, time.UTC) }}

func at(h int, us int) string { return fmt.Sprintf("%d.%06d", t0+h*3600, us) }

// generatedExport writes an export with every kind of conversation,
// guests, a bot and a deleted user, threads, reactions, files, pins, an
// edit, joins and leaves, and topic, name and archive changes.
func generatedExport(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "acme-export")
	user := func(id string, extra map[string]any) map[string]any {
		u := map[string]any{"id": id, "team_id": gTeam, "name": id, "real_name": "Real " + id,
			"profile": map[string]any{"email": id + "@example.org", "title": "Title " + id, "real_name": "Real " + id}}
		for k, v := range extra {
			u[k] = v
		}
		return u
	}
	writeFiles(t, d, map[string]any{
		"users.json": []any{
			user(gAdmin, map[string]any{"is_admin": true, "is_owner": true}),
			user(gMulti, map[string]any{"is_restricted": true}),
			user(gSingle, map[string]any{"is_restricted": true, "is_ultra_restricted": true}),
			user(gBot, map[string]any{"is_bot": true}),
			user(gGone, map[string]any{"deleted": true}),
			user(gPlain, nil),
		},
		"channels.json": []any{map[string]any{"id": gGeneral, "name": "general", "created": t0, "creator": gAdmin,
			"members": []string{gAdmin, gMulti, gPlain, gBot},
			"topic":   map[string]any{"value": "second topic"},
			"purpose": map[string]any{"value": "all hands"}}},
		"groups.json": []any{map[string]any{"id": gSecret, "name": "secret-renamed", "created": t0, "creator": gAdmin,
			"is_archived": true, "members": []string{gAdmin, gSingle}}},
		"mpims.json": []any{map[string]any{"id": gMPIM, "name": "mpdm-a--b--c-1", "created": t0, "creator": gAdmin,
			"members": []string{gAdmin, gMulti, gPlain}}},
		"dms.json": []any{map[string]any{"id": gDM, "created": t0, "members": []string{gAdmin, gPlain}}},
		"general/2021-03-01.json": []any{
			map[string]any{"type": "message", "subtype": "channel_join", "user": gMulti, "text": "<@U0GUESTM1> has joined the channel", "ts": at(1, 0)},
			map[string]any{"type": "message", "subtype": "channel_topic", "user": gAdmin, "topic": "first topic", "text": "set the channel topic: first topic", "ts": at(1, 1)},
			map[string]any{"type": "message", "user": gAdmin, "text": "parent", "ts": at(2, 0), "thread_ts": at(2, 0),
				"reply_count": 2, "reply_users_count": 2, "latest_reply": at(3, 1), "reply_users": []string{gMulti, gPlain},
				"reactions": []any{map[string]any{"name": "tada", "users": []string{gMulti, gPlain}, "count": 2}},
				"pinned_to": []string{gGeneral}},
			map[string]any{"type": "message", "user": gMulti, "text": "reply one", "ts": at(3, 0), "thread_ts": at(2, 0), "parent_user_id": gAdmin},
			map[string]any{"type": "message", "user": gPlain, "text": "reply two", "ts": at(3, 1), "thread_ts": at(2, 0), "parent_user_id": gAdmin},
			map[string]any{"type": "message", "subtype": "file_share", "user": gPlain, "text": "a file", "ts": at(4, 0),
				"files": []any{map[string]any{"id": "F0001", "name": "a.pdf"}, map[string]any{"id": "F0002", "name": "b.pdf"}}},
			map[string]any{"type": "message", "subtype": "bot_message", "bot_id": "B0BOT0001", "username": "ci", "text": "build ok", "ts": at(5, 0)},
			map[string]any{"type": "message", "user": gGone, "text": "bye all", "ts": at(6, 0), "edited": map[string]any{"user": gGone, "ts": at(6, 5)}},
			map[string]any{"type": "message", "subtype": "channel_leave", "user": gGone, "text": "<@U0GONE001> has left the channel", "ts": at(7, 0)},
			map[string]any{"type": "message", "subtype": "made_up_subtype", "user": gPlain, "text": "kept", "ts": at(8, 0)},
		},
		"general/2021-03-02.json": []any{
			map[string]any{"type": "message", "subtype": "channel_topic", "user": gAdmin, "topic": "second topic", "text": "set the channel topic: second topic", "ts": at(25, 0)},
		},
		"secret-renamed/2021-03-01.json": []any{
			map[string]any{"type": "message", "user": gSingle, "text": "psst", "ts": at(2, 0)},
			map[string]any{"type": "message", "subtype": "group_name", "user": gAdmin, "name": "secret-renamed", "old_name": "secret", "ts": at(9, 0)},
			map[string]any{"type": "message", "subtype": "group_archive", "user": gAdmin, "ts": at(10, 0)},
		},
		"mpdm-a--b--c-1/2021-03-01.json": []any{map[string]any{"type": "message", "user": gMulti, "text": "group dm", "ts": at(2, 0)}},
		"D0DIRECT1/2021-03-01.json":      []any{map[string]any{"type": "message", "user": gPlain, "text": "dm", "ts": at(2, 0)}},
	})
	return d
}

func TestGeneratedExport(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	p := generatedExport(t)
	res, err := Import(ctx, st, p, gOpts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Users != 6 || res.Channels != 4 || res.Messages != 16 || res.Files != 5 {
		t.Fatalf("summary %+v", res.Summary)
	}
	team, err := st.Team(ctx, gTeam)
	if err != nil || team.Name != "acme-export" {
		t.Fatalf("team %+v %v", team, err)
	}
	for id, want := range map[string]backchannel.User{
		gAdmin:  {IsAdmin: true, IsOwner: true, CanManagePublicChannels: true},
		gMulti:  {IsGuest: true, GuestType: "multi_channel"},
		gSingle: {IsGuest: true, GuestType: "single_channel"},
		gBot:    {IsBot: true},
		gGone:   {Deleted: true},
		gPlain:  {},
	} {
		u, err := st.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want.ID, want.TeamID, want.Name, want.RealName, want.Email = id, gTeam, id, "Real "+id, id+"@example.org"
		if u != want {
			t.Errorf("user %s:\n got %+v\nwant %+v", id, u, want)
		}
	}
	for id, want := range map[string]backchannel.Channel{
		gGeneral: {Name: "general", Kind: "public", Topic: "second topic", Purpose: "all hands"},
		gSecret:  {Name: "secret-renamed", Kind: "private", IsArchived: true},
		gMPIM:    {Name: "mpdm-a--b--c-1", Kind: "mpim"},
		gDM:      {Kind: "im"},
	} {
		c, err := st.Channel(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != want.Name || c.Kind != want.Kind || c.Topic != want.Topic || c.Purpose != want.Purpose ||
			c.IsArchived != want.IsArchived || c.Created != t0 || c.TeamID != gTeam {
			t.Errorf("channel %s: %+v", id, c)
		}
	}
	for _, m := range []struct {
		ch, user string
		in       bool
	}{{gGeneral, gMulti, true}, {gGeneral, gAdmin, true}, {gGeneral, gGone, false}, {gSecret, gSingle, true},
		{gDM, gPlain, true}, {gDM, gMulti, false}, {gMPIM, gMulti, true}} {
		if in, err := st.IsMember(ctx, m.ch, m.user); err != nil || in != m.in {
			t.Errorf("%s member of %s: %v, want %v (%v)", m.user, m.ch, in, m.in, err)
		}
	}
	h := history(t, st, gGeneral)
	if len(h) != 9 { // 11 messages minus 2 replies
		t.Fatalf("general: %d messages in history", len(h))
	}
	byTS := byTSOf(h)
	checkParent(t, byTS[at(2, 0)], 2, at(3, 1), 2)
	if e, _ := byTS[at(6, 0)]["edited"].(map[string]any); e["ts"] != at(6, 5) {
		t.Errorf("edited: %v", byTS[at(6, 0)])
	}
	if byTS[at(8, 0)]["subtype"] != "made_up_subtype" || len(byTS[at(4, 0)]["files"].([]any)) != 2 {
		t.Errorf("unknown subtype or files lost")
	}
	for _, ch := range []string{gSecret, gMPIM, gDM} {
		if len(history(t, st, ch)) == 0 {
			t.Errorf("%s: no history", ch)
		}
	}
	again, err := Import(ctx, st, p, gOpts)
	if err != nil || again.Accepted != 0 {
		t.Fatalf("re-import: %+v %v", again, err)
	}
}

// A later export of the same workspace adds only what is new: here one
// more day, a new reaction and an edit of an old message.
func TestLaterExportAddsOnlyNew(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	p := generatedExport(t)
	first, err := Import(ctx, st, p, gOpts)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, p, map[string]any{
		"general/2021-03-03.json": []any{map[string]any{"type": "message", "user": gPlain, "text": "new day", "ts": at(49, 0)}},
		"D0DIRECT1/2021-03-01.json": []any{map[string]any{"type": "message", "user": gPlain, "text": "dm, edited", "ts": at(2, 0),
			"edited":    map[string]any{"user": gPlain, "ts": at(30, 0)},
			"reactions": []any{map[string]any{"name": "eyes", "users": []string{gAdmin}, "count": 1}}}},
	})
	later, err := Import(ctx, st, p, gOpts)
	if err != nil {
		t.Fatal(err)
	}
	// New: the message of the new day, the edited DM and its reaction; every
	// other event is the first import's (the DM's old version aside).
	if later.Accepted != 3 || later.Duplicates != first.Events-1 || later.Rebuilt == nil {
		t.Fatalf("later import: %+v (first %+v)", later.Summary, first.Summary)
	}
	dm := history(t, st, gDM)
	if dm[0]["text"] != "dm, edited" || dm[0]["reactions"] == nil {
		t.Fatalf("dm: %v", dm)
	}
}

// Message lines carry no event_id (they are deduplicated through the
// message's row) and leave out the fields the store computes, so that a
// later export whose thread grew and whose reactions changed repeats the
// parent's line byte for byte.
func TestMessageLines(t *testing.T) {
	p := generatedExport(t)
	first := lines(t, p, gOpts)
	for _, l := range first {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["type"] != "message" {
			continue
		}
		if m["event_id"] != nil {
			t.Errorf("message line with an event_id: %s", l)
		}
		for k := range m {
			if ingest.Computed([]byte(k)) {
				t.Errorf("message line with %q: %s", k, l)
			}
		}
	}
	growThread(t, p)
	later := lines(t, p, gOpts)
	parent := func(ls []string) string {
		for _, l := range ls {
			if strings.Contains(l, `"text":"parent"`) {
				return l
			}
		}
		t.Fatal("no parent line")
		return ""
	}
	if a, b := parent(first), parent(later); a != b {
		t.Errorf("the parent's line changed with its thread:\n%s\n%s", a, b)
	}
	if !strings.Contains(parent(first), `"thread_ts":"`+at(2, 0)+`"`) {
		t.Errorf("parent line lost its thread_ts: %s", parent(first))
	}
}

// growThread rewrites general/2021-03-01.json of the generated export as a
// later export of it would be: a third reply (the parent's reply fields
// change), one more user on the parent's reaction, and the file message
// changed without an edit (a file's URL, as exports sign them anew).
func growThread(t *testing.T, p string) {
	t.Helper()
	f := filepath.Join(p, "general", "2021-03-01.json")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var day []map[string]any
	if err := json.Unmarshal(b, &day); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, m := range day {
		switch m["ts"] {
		case at(2, 0):
			m["reply_count"], m["latest_reply"], m["reply_users"] = 3, at(3, 2), []string{gMulti, gPlain, gAdmin}
			m["reply_users_count"] = 3
			m["reactions"] = []any{map[string]any{"name": "tada", "users": []string{gMulti, gPlain, gAdmin}, "count": 3}}
		case at(4, 0):
			m["files"] = []any{map[string]any{"id": "F0001", "name": "a.pdf", "url_private": "https://files/a.pdf?t=2"},
				map[string]any{"id": "F0002", "name": "b.pdf"}}
		}
		out = append(out, m)
		if m["ts"] == at(3, 1) {
			out = append(out, map[string]any{"type": "message", "user": gAdmin, "text": "reply three", "ts": at(3, 2),
				"thread_ts": at(2, 0), "parent_user_id": gAdmin})
		}
	}
	writeFiles(t, p, map[string]any{"general/2021-03-01.json": out})
}

// A later export in which a thread grew, a reaction was added and a message
// changed without an edit marker: the new reply and reaction are added, the
// changed message replaces the stored one, the parent's line is a
// duplicate, and the rebuilt day counts every message once.
func TestLaterExportGrownThread(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	p := generatedExport(t)
	first, err := Import(ctx, st, p, gOpts)
	if err != nil {
		t.Fatal(err)
	}
	day, _ := backchannel.ParseDay("2021-03-01")
	posted, files := memberCounts(t, st, day), memberField(t, st, day, "files_added_count")
	if posted[gPlain] == 0 || files[gPlain] != 2 {
		t.Fatalf("first import: posted %v, files %v", posted, files)
	}
	growThread(t, p)
	later, err := Import(ctx, st, p, gOpts)
	if err != nil {
		t.Fatal(err)
	}
	// New: the reply, the reaction and the changed file message.
	if later.Accepted != 3 || later.Duplicates != first.Events-1 || later.Rebuilt == nil {
		t.Fatalf("later import: %+v %d/%d (first %d events)", later.Summary, later.Accepted, later.Duplicates, first.Events)
	}
	byTS := byTSOf(history(t, st, gGeneral))
	checkParent(t, byTS[at(2, 0)], 3, at(3, 2), 3)
	if fs, _ := byTS[at(4, 0)]["files"].([]any); len(fs) != 2 || fs[0].(map[string]any)["url_private"] == nil {
		t.Errorf("file message not replaced: %v", byTS[at(4, 0)])
	}
	posted[gAdmin]++ // the new reply
	if got := memberCounts(t, st, day); !reflect.DeepEqual(got, posted) {
		t.Errorf("messages_posted_count after the later export: %v, want %v", got, posted)
	}
	if got := memberField(t, st, day, "files_added_count"); !reflect.DeepEqual(got, files) {
		t.Errorf("files_added_count after the later export: %v, want %v", got, files)
	}
	again, err := Import(ctx, st, p, gOpts)
	if err != nil || again.Accepted != 0 || again.Duplicates != later.Events {
		t.Fatalf("re-import of the later export: %+v %v", again, err)
	}
}

// byTSOf indexes history messages by ts.
func byTSOf(h []map[string]any) map[string]map[string]any {
	byTS := map[string]map[string]any{}
	for _, m := range h {
		byTS[m["ts"].(string)] = m
	}
	return byTS
}

// checkParent checks the generated export's pinned thread parent: its
// replies, latest reply and the count of its one reaction.
func checkParent(t *testing.T, parent map[string]any, replies float64, latest string, reacted float64) {
	t.Helper()
	if parent["reply_count"] != replies || parent["latest_reply"] != latest || parent["pinned_to"] == nil {
		t.Errorf("parent: %v", parent)
	}
	if rs, _ := parent["reactions"].([]any); len(rs) != 1 || rs[0].(map[string]any)["count"] != reacted {
		t.Errorf("parent reactions: %v", parent["reactions"])
	}
}
