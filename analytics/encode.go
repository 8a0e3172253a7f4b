package analytics

import (
	"strconv"
	"unicode/utf8"

	"github.com/backchannel/backchannel"
)

// The line encoders append one NDJSON line ("\n"-terminated) with the
// fields in the exact order of Slack's examples (seeds/002). They append
// with strconv rather than reflect through encoding/json: a member file may
// hold 100,000 lines and is built while ingest waits. Strings are escaped
// exactly as encoding/json escapes them (tested), HTML characters included.

// MemberRow is one line of a member file.
type MemberRow struct {
	EnterpriseID   string // "0" outside an enterprise
	Date           backchannel.Day
	UserID         string
	Email          string
	EmployeeNumber string // written only when set
	IsGuest        bool
	Billable       bool
	Counts         MemberCounts
	DateClaimed    int64 // Unix seconds
}

// AppendMember appends r's line to b.
func AppendMember(b []byte, r *MemberRow) []byte {
	c := &r.Counts
	b = appendStrField(b, `{"enterprise_id":`, r.EnterpriseID)
	b = appendDate(b, `,"date":"`, r.Date)
	b = appendStrField(b, `,"user_id":`, r.UserID)
	b = appendStrField(b, `,"email_address":`, r.Email)
	if r.EmployeeNumber != "" {
		b = appendStrField(b, `,"enterprise_employee_number":`, r.EmployeeNumber)
	}
	b = appendBool(b, `,"is_guest":`, r.IsGuest)
	b = appendBool(b, `,"is_billable_seat":`, r.Billable)
	b = appendBool(b, `,"is_active":`, c.Flags&FlagActive != 0)
	b = appendBool(b, `,"is_active_ios":`, c.Flags&FlagIOS != 0)
	b = appendBool(b, `,"is_active_android":`, c.Flags&FlagAndroid != 0)
	b = appendBool(b, `,"is_active_desktop":`, c.Flags&FlagDesktop != 0)
	b = appendInt(b, `,"reactions_added_count":`, c.Reactions)
	b = appendInt(b, `,"messages_posted_count":`, c.Messages)
	b = appendInt(b, `,"channel_messages_posted_count":`, c.ChannelMessages)
	b = appendInt(b, `,"files_added_count":`, c.Files)
	b = appendBool(b, `,"is_active_apps":`, c.Flags&FlagApps != 0)
	b = appendBool(b, `,"is_active_workflows":`, c.Flags&FlagWorkflows != 0)
	b = appendBool(b, `,"is_active_slack_connect":`, c.Flags&FlagSlackConnect != 0)
	b = appendInt(b, `,"total_calls_count":`, c.TotalCalls())
	b = appendInt(b, `,"slack_calls_count":`, c.SlackCalls)
	b = appendInt(b, `,"slack_huddles_count":`, c.Huddles)
	b = appendInt(b, `,"search_count":`, c.Searches)
	b = appendInt(b, `,"date_claimed":`, r.DateClaimed)
	return append(b, "}\n"...)
}

// TeamRef is a workspace as the public_channel file names it.
type TeamRef struct {
	ID   string
	Name string
}

// ChannelRow is one line of a public_channel file.
type ChannelRow struct {
	EnterpriseID     string // "0" outside an enterprise
	TeamID           string // Slack writes the enterprise id here in an enterprise
	Originating      TeamRef
	ChannelID        string
	DateCreated      int64 // Unix seconds
	DateLastActive   int64 // Unix seconds; 0 when nothing was ever posted
	TotalMembers     int64
	FullMembers      int64
	GuestMembers     int64
	Counts           ChannelCounts
	ChannelType      string // single_workspace_channel | multi_workspace_channel | org_wide_channel
	SharedExternally bool
	SharedWith       []TeamRef
	ExternalOrgs     []backchannel.ExternalOrg
	Date             backchannel.Day
}

// ChannelType is the channel_type of a public channel.
func ChannelType(c *backchannel.Channel) string {
	switch {
	case c.IsOrgWide:
		return "org_wide_channel"
	case len(c.SharedTeamIDs) > 0:
		return "multi_workspace_channel"
	}
	return "single_workspace_channel"
}

// AppendPublicChannel appends r's line to b.
func AppendPublicChannel(b []byte, r *ChannelRow) []byte {
	c := &r.Counts
	b = appendStrField(b, `{"enterprise_id":`, r.EnterpriseID)
	b = appendStrField(b, `,"team_id":`, r.TeamID)
	b = appendStrField(b, `,"originating_team":{"team_id":`, r.Originating.ID)
	b = appendStrField(b, `,"name":`, r.Originating.Name)
	b = appendStrField(b, `},"channel_id":`, r.ChannelID)
	b = appendInt(b, `,"date_created":`, r.DateCreated)
	b = appendInt(b, `,"date_last_active":`, r.DateLastActive)
	b = appendInt(b, `,"total_members_count":`, r.TotalMembers)
	b = appendInt(b, `,"full_members_count":`, r.FullMembers)
	b = appendInt(b, `,"guest_member_count":`, r.GuestMembers)
	b = appendInt(b, `,"messages_posted_count":`, c.Messages)
	b = appendInt(b, `,"messages_posted_by_members_count":`, c.MemberMessages)
	b = appendInt(b, `,"members_who_viewed_count":`, c.Viewers)
	b = appendInt(b, `,"members_who_posted_count":`, c.Posters)
	b = appendInt(b, `,"reactions_added_count":`, c.Reactions)
	b = append(b, `,"visibility":"public"`...)
	b = appendStrField(b, `,"channel_type":`, r.ChannelType)
	b = appendBool(b, `,"is_shared_externally":`, r.SharedExternally)
	b = append(b, `,"shared_with":[`...)
	for i, t := range r.SharedWith {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStrField(b, `{"team_id":`, t.ID)
		b = appendStrField(b, `,"name":`, t.Name)
		b = append(b, '}')
	}
	b = append(b, `],"externally_shared_with_organizations":[`...)
	for i, o := range r.ExternalOrgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStrField(b, `{"name":`, o.Name)
		b = appendStrField(b, `,"domain":`, o.Domain)
		b = append(b, '}')
	}
	b = appendDate(b, `],"date":"`, r.Date)
	return append(b, "}\n"...)
}

// MetadataRow is one line of a public-channel metadata file.
type MetadataRow struct {
	ChannelID   string
	Name        string
	Topic       string
	Description string // the channel's purpose
	Date        backchannel.Day
}

// AppendMetadata appends r's line to b.
func AppendMetadata(b []byte, r *MetadataRow) []byte {
	b = appendStrField(b, `{"channel_id":`, r.ChannelID)
	b = appendStrField(b, `,"name":`, r.Name)
	b = appendStrField(b, `,"topic":`, r.Topic)
	b = appendStrField(b, `,"description":`, r.Description)
	b = appendDate(b, `,"date":"`, r.Date)
	return append(b, "}\n"...)
}

func appendStrField(b []byte, key, s string) []byte { return AppendString(append(b, key...), s) }

func appendBool(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(append(b, key...), v)
}

func appendInt(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(append(b, key...), v, 10)
}

// appendDate appends key (which ends with the opening quote) and d as
// YYYY-MM-DD without going through time formatting.
func appendDate(b []byte, key string, d backchannel.Day) []byte {
	y, m, dd := d.Start().Date()
	b = append(b, key...)
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+dd/10), byte('0'+dd%10))
	return append(b, '"')
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped byte for byte as
// encoding/json's Marshal does (HTML-safe, invalid UTF-8 as U+FFFD, U+2028
// and U+2029 escaped).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
