package ingest

import (
	"github.com/backchannel/backchannel"
)

// Directory events upsert a whole record: a field left out takes its zero
// value (except member_analytics_enabled, below). Fields the format does not
// name are ignored, so richer records (Slack exports) pass through.

func enterprise(r *fields) *backchannel.Enterprise {
	return &backchannel.Enterprise{
		ID:                 r.id("id", true, enterpriseID),
		Name:               r.str("name"),
		HideEmailAddresses: r.boolean("hide_email_addresses", false),
		// Slack enables member analytics unless an admin turns them off, so
		// a record that does not say is taken as enabled.
		MemberAnalyticsEnabled: r.boolean("member_analytics_enabled", true),
		AnalyticsStart:         r.date("analytics_start"),
	}
}

func team(r *fields) *backchannel.Team {
	return &backchannel.Team{
		ID:           r.id("id", true, teamID),
		Name:         r.str("name"),
		Domain:       r.str("domain"),
		EnterpriseID: r.id("enterprise_id", false, enterpriseID),
	}
}

func user(r *fields) *backchannel.User {
	u := &backchannel.User{
		ID:                      r.id("id", true, userID),
		TeamID:                  r.id("team_id", true, teamID),
		Name:                    r.str("name"),
		RealName:                r.str("real_name"),
		Email:                   r.str("email"),
		Department:              r.str("department"),
		EmployeeNumber:          r.strOrNum("employee_number"),
		IsGuest:                 r.boolean("is_guest", false),
		GuestType:               r.enum("guest_type", false, "multi_channel", "single_channel"),
		IsBot:                   r.boolean("is_bot", false),
		IsAdmin:                 r.boolean("is_admin", false),
		IsOwner:                 r.boolean("is_owner", false),
		IsPrimaryOwner:          r.boolean("is_primary_owner", false),
		CanManagePublicChannels: r.boolean("can_manage_public_channels", false),
		DateClaimed:             r.integer("date_claimed"),
		Deleted:                 r.boolean("deleted", false),
	}
	if u.GuestType != "" && !u.IsGuest {
		// A guest type alone makes a guest; contradicting is_guest is an error.
		if _, said := r.get("is_guest"); said {
			r.fail("guest_type", "set to %q but is_guest is false", u.GuestType)
		}
		u.IsGuest = true
	}
	return u
}

func channel(r *fields) *backchannel.Channel {
	c := &backchannel.Channel{
		ID:         r.id("id", true, channelID),
		TeamID:     r.id("team_id", true, teamID),
		Name:       r.str("name"),
		Kind:       r.enum("kind", true, backchannel.KindPublic, backchannel.KindPrivate, backchannel.KindIM, backchannel.KindMPIM),
		Created:    r.integer("created"),
		Creator:    r.id("creator", false, userID),
		Topic:      topic(r, "topic"),
		Purpose:    topic(r, "purpose"),
		IsArchived: r.boolean("is_archived", false),
		IsOrgWide:  r.boolean("is_org_wide", false),
	}
	if r.err == nil && c.Name == "" && (c.Kind == backchannel.KindPublic || c.Kind == backchannel.KindPrivate) {
		r.fail("name", "required for a %s channel", c.Kind)
	}
	c.SharedTeamIDs = teamIDs(r, "shared_team_ids")
	c.ExternalOrgs = externalOrgs(r)
	return c
}

// topic reads a topic or purpose given as a string or, as in Slack exports
// and conversations.info, as an object whose "value" is the text.
func topic(r *fields, name string) string {
	v, ok := r.get(name)
	if !ok {
		return ""
	}
	if v[0] != '{' {
		return r.strVal(name, v)
	}
	sub := subObject(r, name, v)
	if sub == nil {
		return ""
	}
	s := sub.str("value")
	r.err = sub.err
	return s
}

// subObject splits a nested object value for reading; nil on error.
func subObject(r *fields, name string, v []byte) *fields {
	fs, err := splitObject(v, nil)
	if err != nil {
		r.fail(name, "must be an object")
		return nil
	}
	return &fields{line: r.line, prefix: r.prefix + name + ".", fs: fs, err: r.err}
}

func teamIDs(r *fields, name string) []string {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	if v[0] != '[' {
		r.fail(name, "must be an array of team IDs, got %s", kindOf(v))
		return nil
	}
	var ids []string
	arrayElems(v, 0, 0, func(e []byte) error {
		ids = append(ids, r.idVal(name, e, teamID))
		return nil
	})
	return ids
}

func externalOrgs(r *fields) []backchannel.ExternalOrg {
	const name = "external_orgs"
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	if v[0] != '[' {
		r.fail(name, "must be an array of objects, got %s", kindOf(v))
		return nil
	}
	var orgs []backchannel.ExternalOrg
	arrayElems(v, 0, 0, func(e []byte) error {
		if e[0] != '{' {
			r.fail(name, "must be an array of objects, got an element that is %s", kindOf(e))
			return nil
		}
		sub := subObject(r, name, e)
		if sub == nil {
			return nil
		}
		o := backchannel.ExternalOrg{Name: sub.reqStr("name"), Domain: sub.str("domain")}
		r.err = sub.err
		orgs = append(orgs, o)
		return nil
	})
	return orgs
}
