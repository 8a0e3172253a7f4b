package slackexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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
func readArray[T any](r io.Reader, fn func(T) error) error {
	d := newDayReader(r)
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
	typ, subtype, user, channel string
	ts, editedTS                []byte // raw values
	reactions, pinnedTo         []byte
	pinnedInfo                  []byte
	topic, purpose, name        []byte
	oldName                     string
}

func readMessage(raw []byte) messageInfo {
	var m messageInfo
	topFields(raw, func(k, v []byte) {
		switch string(k) {
		case "type":
			m.typ = str(v)
		case "subtype":
			m.subtype = str(v)
		case "user":
			m.user = str(v)
		case "channel":
			m.channel = str(v)
		case "ts":
			m.ts = v
		case "edited":
			if len(v) > 0 && v[0] == '{' {
				topFields(v, func(k, v []byte) {
					if string(k) == "ts" {
						m.editedTS = v
					}
				})
			}
		case "reactions":
			m.reactions = v
		case "pinned_to":
			m.pinnedTo = v
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

// reaction is one entry of a message's reactions.
type reaction struct {
	Name  string   `json:"name"`
	Users []string `json:"users"`
}
