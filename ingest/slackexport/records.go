package slackexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// userRecord is what the importer reads of a users.json entry.
type userRecord struct {
	ID                string `json:"id"`
	TeamID            string `json:"team_id"`
	Name              string `json:"name"`
	RealName          string `json:"real_name"`
	Deleted           bool   `json:"deleted"`
	IsBot             bool   `json:"is_bot"`
	IsAppUser         bool   `json:"is_app_user"`
	IsAdmin           bool   `json:"is_admin"`
	IsOwner           bool   `json:"is_owner"`
	IsPrimaryOwner    bool   `json:"is_primary_owner"`
	IsRestricted      bool   `json:"is_restricted"`
	IsUltraRestricted bool   `json:"is_ultra_restricted"`
	Profile           struct {
		Email    string `json:"email"`
		RealName string `json:"real_name"`
		Team     string `json:"team"`
	} `json:"profile"`
}

// convRecord is a channels.json, groups.json, dms.json or mpims.json entry.
type convRecord struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Created    flexInt   `json:"created"`
	Creator    string    `json:"creator"`
	IsArchived bool      `json:"is_archived"`
	Members    *[]string `json:"members"`
	Topic      flexText  `json:"topic"`
	Purpose    flexText  `json:"purpose"`
}

// flexInt is an integer written as a number or, in older exports, as a
// string ("created": "1452837318").
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a non-negative integer, got %s", b)
	}
	*f = flexInt(n)
	return nil
}

// flexText is a topic or purpose: Slack's {"value":…} object or a string.
type flexText string

func (f *flexText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*f = flexText(o.Value)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*f = flexText(s)
	return nil
}

// readArray streams a JSON array file, decoding each element into a fresh
// T and passing it to fn; errors carry the element's offset.
func readArray[T any](d *dayReader, fn func(T) error) error {
	for i := 1; ; i++ {
		raw, off, err := d.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return &posError{off, fmt.Sprintf("element %d: %s", i, err)}
		}
		if err := fn(v); err != nil {
			return &posError{off, fmt.Sprintf("element %d: %s", i, err)}
		}
	}
}

// messageInfo is what the importer reads of one exported message, found
// without decoding the rest of it.
type messageInfo struct {
	subtype, user        string
	typ, channel         []byte // raw values
	ts                   []byte
	reactions, pinnedTo  []byte
	pinnedInfo           []byte
	topic, purpose, name []byte
	oldName              string
	// computed counts the fields the store computes (ingest.Computed),
	// which the message's line leaves out; computedTwice is set when one
	// of them occurs twice (the line is then left whole, for the decoder
	// to report the duplicate key).
	computed      int
	computedTwice bool
	seen          uint16
}

func readMessage(raw []byte) messageInfo {
	var m messageInfo
	topFields(raw, func(k, v []byte) {
		switch string(k) {
		case "type":
			m.typ = v
		case "subtype":
			m.subtype = str(v)
		case "user":
			m.user = str(v)
		case "channel":
			m.channel = v
		case "ts":
			m.ts = v
		case "reactions":
			m.reactions = v
			m.noteComputed(computedReactions)
		case "pinned_to":
			m.pinnedTo = v
			m.noteComputed(computedPinnedTo)
		case "is_starred":
			m.noteComputed(computedIsStarred)
		case "reply_count":
			m.noteComputed(computedReplyCount)
		case "reply_users_count":
			m.noteComputed(computedReplyUsersCount)
		case "latest_reply":
			m.noteComputed(computedLatestReply)
		case "reply_users":
			m.noteComputed(computedReplyUsers)
		case "replies":
			m.noteComputed(computedReplies)
		case "subscribed":
			m.noteComputed(computedSubscribed)
		case "last_read":
			m.noteComputed(computedLastRead)
		case "pinned_info":
			m.pinnedInfo = v
		case "topic":
			m.topic = v
		case "purpose":
			m.purpose = v
		case "name":
			m.name = v
		case "old_name":
			m.oldName = str(v)
		}
	})
	return m
}

// The keys of ingest.Computed, as bits of messageInfo.seen.
const (
	computedReactions = 1 << iota
	computedPinnedTo
	computedIsStarred
	computedReplyCount
	computedReplyUsersCount
	computedLatestReply
	computedReplyUsers
	computedReplies
	computedSubscribed
	computedLastRead
)

func (m *messageInfo) noteComputed(bit uint16) {
	m.computed++
	m.computedTwice = m.computedTwice || m.seen&bit != 0
	m.seen |= bit
}

// reaction is one entry of a message's reactions.
type reaction struct {
	Name  string   `json:"name"`
	Users []string `json:"users"`
}

// parseReactions decodes a message's reactions (valid JSON) as
// json.Unmarshal into []reaction would, appending to rs: by hand when every
// entry has the usual shape — objects whose "name" is a string and "users"
// an array of strings, with no escapes, no key twice and no other key that
// encoding/json would match case-insensitively — and through
// json.Unmarshal otherwise.
func parseReactions(v []byte, rs []reaction) ([]reaction, error) {
	if out, ok := fastReactions(v, rs); ok {
		return out, nil
	}
	var out []reaction
	err := json.Unmarshal(v, &out)
	return out, err
}

func fastReactions(v []byte, rs []reaction) ([]reaction, bool) {
	if len(v) == 0 || v[0] != '[' {
		return nil, false
	}
	i := skipWS(v, 1)
	if i < len(v) && v[i] == ']' {
		return rs, true
	}
	for i < len(v) && v[i] == '{' {
		end := skipValue(v, i)
		r, ok := fastReaction(v[i:end])
		if !ok {
			return nil, false
		}
		rs = append(rs, r)
		i = skipWS(v, end)
		switch {
		case i < len(v) && v[i] == ',':
			i = skipWS(v, i+1)
		case i < len(v) && v[i] == ']':
			return rs, true
		default:
			return nil, false
		}
	}
	return nil, false
}

func fastReaction(obj []byte) (r reaction, ok bool) {
	ok = true
	var haveName, haveUsers bool
	topFields(obj, func(k, v []byte) {
		switch {
		case !ok:
		case string(k) == "name":
			ok = !haveName && plainString(v)
			if ok {
				r.Name, haveName = string(v[1:len(v)-1]), true
			}
		case string(k) == "users":
			ok = !haveUsers && len(v) > 0 && v[0] == '['
			haveUsers = true
			for i := skipWS(v, 1); ok && i < len(v) && v[i] != ']'; {
				end := skipValue(v, i)
				if ok = plainString(v[i:end]); ok {
					r.Users = append(r.Users, string(v[i+1:end-1]))
				}
				if i = skipWS(v, end); i < len(v) && v[i] == ',' {
					i = skipWS(v, i+1)
				}
			}
		default:
			// encoding/json matches keys case-insensitively, after
			// unescaping, with Unicode folding.
			ok = bytes.IndexByte(k, '\\') < 0 && isASCII(k) && !bytes.EqualFold(k, []byte("name")) && !bytes.EqualFold(k, []byte("users"))
		}
	})
	return r, ok
}

// plainString reports whether v is a JSON string that json.Unmarshal would
// return byte for byte: no escapes, valid UTF-8.
func plainString(v []byte) bool {
	return len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v[1:len(v)-1], '\\') < 0 && utf8.Valid(v)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
