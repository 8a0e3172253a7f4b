package demo

import (
	"encoding/json"
	"time"

	"github.com/backchannel/backchannel"
)

// The line types below spell out the ingest format (DESIGN.md "Events");
// encoding/json keeps their field order, so lines are deterministic.

type enterpriseLine struct {
	Type string `json:"type"`
	backchannel.Enterprise
	EventTS string `json:"event_ts"`
}

type teamLine struct {
	Type string `json:"type"`
	backchannel.Team
	EventTS string `json:"event_ts"`
}

type userLine struct {
	Type string `json:"type"`
	backchannel.User
	EventTS string `json:"event_ts"`
}

type channelLine struct {
	Type string `json:"type"`
	backchannel.Channel
	EventTS string `json:"event_ts"`
}

type memberLine struct {
	Type    string `json:"type"`
	Channel string `json:"channel"`
	User    string `json:"user"`
	EventTS string `json:"event_ts"`
}

type file struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Title    string `json:"title"`
	Mimetype string `json:"mimetype"`
	Filetype string `json:"filetype"`
	Size     int    `json:"size"`
}

type messageLine struct {
	Type        string `json:"type"`
	Channel     string `json:"channel"`
	User        string `json:"user,omitempty"`
	BotID       string `json:"bot_id,omitempty"`
	Subtype     string `json:"subtype,omitempty"`
	Username    string `json:"username,omitempty"`
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	Text        string `json:"text"`
	Team        string `json:"team,omitempty"`
	ClientMsgID string `json:"client_msg_id,omitempty"`
	Files       []file `json:"files,omitempty"`
	Client      string `json:"client"`
}

type changedLine struct {
	Type    string             `json:"type"`
	Channel string             `json:"channel"`
	TS      string             `json:"ts"`
	Text    string             `json:"text"`
	Edited  backchannel.Edited `json:"edited"`
	EventTS string             `json:"event_ts"`
}

// aboutLine is message_deleted, reaction, pin and star events.
type aboutLine struct {
	Type     string `json:"type"`
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
	User     string `json:"user,omitempty"`
	Reaction string `json:"reaction,omitempty"`
	EventTS  string `json:"event_ts"`
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("demo: marshal: " + err.Error()) // only plain structs of strings and numbers
	}
	return b
}

func tsOf(t time.Time) string { return backchannel.TSFromTime(t).String() }

// directoryLines emits the enterprise, teams, users, conversations and
// memberships, each stamped with when it took effect.
func (o *org) directoryLines(out *batcher) {
	origin := tsOf(o.start.Add(-1000 * 24 * time.Hour))
	out.add(marshal(enterpriseLine{"enterprise", o.enterprise, origin}))
	for _, t := range o.teams {
		out.add(marshal(teamLine{"team", t, origin}))
	}
	for _, p := range o.people {
		out.add(marshal(userLine{"user", p.User, tsOf(p.since)}))
	}
	out.counts.Users = len(o.people)
	for _, c := range o.convs {
		out.add(marshal(channelLine{"channel", c.Channel, tsOf(time.Unix(c.Created, 0))}))
		for _, m := range c.members {
			out.add(marshal(memberLine{backchannel.EvMemberJoined, c.ID, o.people[m.user].ID, tsOf(m.from)}))
		}
	}
	out.counts.Channels = len(o.convs)
}

// activityLine is every activity event; unused fields are left out.
type activityLine struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
	Client  string `json:"client,omitempty"`
	Kind    string `json:"kind,omitempty"`
	EventTS string `json:"event_ts"`
}
