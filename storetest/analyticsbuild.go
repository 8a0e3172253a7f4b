package storetest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
)

// RollupDumper is implemented by stores that can list their rollup rows
// (member-day, channel-day, distinct bits) as strings in a stable order:
// the suite compares them before and after RebuildDays.
type RollupDumper interface {
	DumpRollups(ctx context.Context) ([]string, error)
}

// analyticsStore returns s as an AnalyticsStore or skips the test.
func analyticsStore(t *testing.T, s backchannel.Store) backchannel.AnalyticsStore {
	t.Helper()
	as, ok := s.(backchannel.AnalyticsStore)
	if !ok {
		t.Skipf("%T does not implement backchannel.AnalyticsStore", s)
	}
	return as
}

// at is the Slack ts string of t.
func tsStr(t backchannel.TS) string { return t.String() }

func withTS(raw map[string]any, at backchannel.TS) map[string]any {
	raw["event_ts"] = tsStr(at)
	return raw
}

// EnterpriseAt is an enterprise event.
func EnterpriseAt(id, name string) backchannel.Event {
	e := event(backchannel.EvEnterprise, map[string]any{"id": id, "name": name})
	e.Enterprise = &backchannel.Enterprise{ID: id, Name: name, MemberAnalyticsEnabled: true}
	return e
}

// TeamAt is a team event.
func TeamAt(id, name, enterprise string) backchannel.Event {
	e := event(backchannel.EvTeam, map[string]any{"id": id, "name": name, "enterprise_id": enterprise})
	e.Team = &backchannel.Team{ID: id, Name: name, EnterpriseID: enterprise}
	return e
}

// UserAt is a user event that took effect at at.
func UserAt(u backchannel.User, at backchannel.TS) backchannel.Event {
	e := event(backchannel.EvUser, withTS(map[string]any{"id": u.ID, "team_id": u.TeamID, "email": u.Email,
		"employee_number": u.EmployeeNumber, "is_guest": u.IsGuest, "guest_type": u.GuestType, "is_bot": u.IsBot,
		"date_claimed": u.DateClaimed, "deleted": u.Deleted}, at))
	e.User, e.EventTS = &u, at
	return e
}

// ChannelAt is a channel event that took effect at at.
func ChannelAt(c backchannel.Channel, at backchannel.TS) backchannel.Event {
	e := event(backchannel.EvChannel, withTS(map[string]any{"id": c.ID, "team_id": c.TeamID, "name": c.Name,
		"kind": c.Kind, "created": c.Created, "topic": c.Topic, "purpose": c.Purpose, "is_archived": c.IsArchived,
		"shared_team_ids": c.SharedTeamIDs, "external_orgs": c.ExternalOrgs}, at))
	e.Channel, e.EventTS = &c, at
	return e
}

// MemberAt is a join (or leave) that took effect at at.
func MemberAt(join bool, ch, user string, at backchannel.TS) backchannel.Event {
	e := Member(join, ch, user)
	typ := e.Type
	e = event(typ, withTS(map[string]any{"channel": ch, "user": user}, at))
	e.ChannelID, e.UserID, e.EventTS = ch, user, at
	return e
}

// Post is a message by user (a bot's when botID is set) from client with
// files attached.
func Post(ch, user, botID string, ts backchannel.TS, client string, files int, text string) backchannel.Event {
	raw := map[string]any{"channel": ch, "ts": tsStr(ts), "text": text}
	doc := `{"type":"message"`
	if user != "" {
		raw["user"] = user
		doc += fmt.Sprintf(`,"user":%q`, user)
	}
	if botID != "" {
		raw["bot_id"], raw["subtype"] = botID, "bot_message"
		doc += fmt.Sprintf(`,"bot_id":%q,"subtype":"bot_message"`, botID)
	}
	if client != "" {
		raw["client"] = client
	}
	doc += fmt.Sprintf(`,"text":%q,"ts":%q`, text, tsStr(ts))
	if files > 0 {
		fs := make([]map[string]string, files)
		var parts []string
		for i := range fs {
			fs[i] = map[string]string{"id": fmt.Sprintf("F%d", i+1)}
			parts = append(parts, fmt.Sprintf(`{"id":"F%d"}`, i+1))
		}
		raw["files"] = fs
		doc += `,"files":[` + strings.Join(parts, ",") + `]`
	}
	e := event(backchannel.EvMessage, raw)
	e.ChannelID, e.UserID, e.BotID, e.TS, e.Client, e.Files = ch, user, botID, ts, client, files
	if botID != "" {
		e.Subtype = "bot_message"
	}
	e.Doc = []byte(doc + "}")
	return e
}

// Act is an activity event; kv sets channel, ts, client or kind.
func Act(typ, user string, at backchannel.TS, kv ...string) backchannel.Event {
	raw := withTS(map[string]any{"user": user}, at)
	for i := 0; i+1 < len(kv); i += 2 {
		raw[kv[i]] = kv[i+1]
	}
	e := event(typ, raw)
	e.UserID, e.EventTS = user, at
	for i := 0; i+1 < len(kv); i += 2 {
		switch v := kv[i+1]; kv[i] {
		case "channel":
			e.ChannelID = v
		case "ts":
			e.TS = mustTS(v)
		case "client":
			e.Client = v
		case "kind":
			e.Subtype = v
		}
	}
	return e
}

// ReactionAt is a reaction_added (add) or reaction_removed at at.
func ReactionAt(add bool, ch string, ts backchannel.TS, user, name string, at backchannel.TS) backchannel.Event {
	return Reaction(add, ch, tsStr(ts), user, name, tsStr(at))
}

// readFile opens a closed day's file and returns its bytes.
func readFile(t *testing.T, as backchannel.AnalyticsStore, kind string, d backchannel.Day) []byte {
	t.Helper()
	rc, err := as.OpenAnalyticsFile(t.Context(), kind, d)
	if err != nil {
		t.Fatalf("OpenAnalyticsFile(%s, %s): %v", kind, d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s %s: %v", kind, d, err)
	}
	return b
}

// lines decodes a file as the Java SDK does: one gzip member through a plain
// gzip reader, read line by line. Every line must end in "\n"; no line may
// be blank; nothing may follow the gzip member.
func lines(t *testing.T, gz []byte) []string {
	t.Helper()
	br := bytes.NewReader(gz)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	zr.Multistream(false)
	r := bufio.NewReader(zr)
	var out []string
	for {
		l, err := r.ReadString('\n')
		if err == io.EOF {
			if l != "" {
				t.Fatalf("last line not terminated: %q", l)
			}
			break
		}
		if err != nil {
			t.Fatalf("gunzip: %v", err)
		}
		if l == "\n" {
			t.Fatalf("blank line after %d lines", len(out))
		}
		out = append(out, strings.TrimSuffix(l, "\n"))
	}
	if br.Len() != 0 {
		t.Fatalf("%d bytes after the gzip member", br.Len())
	}
	return out
}

func wantLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s line %d:\n got %s\nwant %s", what, i+1, g, w)
		}
	}
}
