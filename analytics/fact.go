package analytics

import (
	"encoding/json"
	"fmt"

	"github.com/backchannel/backchannel"
)

// rawFact is the subset of an event line the rules read. json.RawMessage
// keeps ts values literal: they are parsed by backchannel.ParseTS, never
// through a float, exactly as ingest does.
type rawFact struct {
	Type    string          `json:"type"`
	Subtype *string         `json:"subtype"`
	User    *string         `json:"user"`
	Channel *string         `json:"channel"`
	TS      json.RawMessage `json:"ts"`
	EventTS json.RawMessage `json:"event_ts"`
	Client  *string         `json:"client"`
	Kind    *string         `json:"kind"`
	BotID   *string         `json:"bot_id"`
	Files   json.RawMessage `json:"files"`
}

// ParseFact reads the rule inputs from a raw line of the event log, a line
// ingest already validated. It is how a store replays its log through the
// rules (RebuildDays) without depending on the ingest package.
func ParseFact(raw []byte) (Fact, error) {
	var r rawFact
	if err := json.Unmarshal(raw, &r); err != nil {
		return Fact{}, fmt.Errorf("analytics: parse event: %w", err)
	}
	f := Fact{Type: r.Type, User: str(r.User), Channel: str(r.Channel), Client: str(r.Client), BotID: str(r.BotID)}
	var err error
	if f.EventTS, err = literalTS(r.EventTS); err != nil {
		return Fact{}, err
	}
	switch {
	case f.Type == backchannel.EvMessage:
		// Slack's Events API shapes of edits and deletions (ingest turns them
		// into their own types, which move no counters).
		switch sub := str(r.Subtype); sub {
		case backchannel.EvMessageChanged, backchannel.EvMessageDeleted:
			f.Type = sub
			return f, nil
		default:
			f.Subtype = sub
		}
		f.Files = arrayLen(r.Files)
	case f.Type == backchannel.EvCall:
		f.Subtype = str(r.Kind)
	}
	if f.TS, err = literalTS(r.TS); err != nil {
		return Fact{}, err
	}
	return f, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// literalTS parses a ts given as a JSON string or number; null or absent is 0.
func literalTS(v json.RawMessage) (backchannel.TS, error) {
	if len(v) == 0 || string(v) == "null" {
		return 0, nil
	}
	s := string(v)
	if v[0] == '"' {
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, fmt.Errorf("analytics: parse ts: %w", err)
		}
	}
	ts, err := backchannel.ParseTS(s)
	if err != nil {
		return 0, fmt.Errorf("analytics: parse ts: %w", err)
	}
	return ts, nil
}

// arrayLen counts the elements of a JSON array (0 for null or absent).
func arrayLen(v json.RawMessage) int {
	if len(v) == 0 || v[0] != '[' {
		return 0
	}
	var elems []json.RawMessage
	if json.Unmarshal(v, &elems) != nil {
		return 0
	}
	return len(elems)
}
