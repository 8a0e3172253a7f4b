package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/jackc/pgx/v5"
)

// Empty reports whether the event log is empty.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var empty bool
	if err := db.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM events)`).Scan(&empty); err != nil {
		return false, fmt.Errorf("postgres: empty: %w", err)
	}
	return empty, nil
}

// Enterprise returns the organisation, or the "0" record of a single
// workspace when none was ingested.
func (db *DB) Enterprise(ctx context.Context) (backchannel.Enterprise, error) {
	var e backchannel.Enterprise
	err := db.pool.QueryRow(ctx, `SELECT id, name, hide_email_addresses, member_analytics_enabled, analytics_start
		FROM enterprise`).Scan(&e.ID, &e.Name, &e.HideEmailAddresses, &e.MemberAnalyticsEnabled, &e.AnalyticsStart)
	if errors.Is(err, pgx.ErrNoRows) {
		return backchannel.Enterprise{ID: "0"}, nil
	}
	if err != nil {
		return backchannel.Enterprise{}, fmt.Errorf("postgres: enterprise: %w", err)
	}
	return e, nil
}

// Team returns a workspace.
func (db *DB) Team(ctx context.Context, id string) (backchannel.Team, error) {
	var t backchannel.Team
	err := db.pool.QueryRow(ctx, `SELECT id, name, domain, enterprise_id FROM teams WHERE id = $1`, id).
		Scan(&t.ID, &t.Name, &t.Domain, &t.EnterpriseID)
	if errors.Is(err, pgx.ErrNoRows) {
		return backchannel.Team{}, backchannel.Errorf(backchannel.ENOTFOUND, "team %q not found", id)
	}
	if err != nil {
		return backchannel.Team{}, fmt.Errorf("postgres: team: %w", err)
	}
	return t, nil
}

// User returns a user (cached under the directory version).
func (db *DB) User(ctx context.Context, id string) (backchannel.User, error) {
	c := db.cache
	ver, err := db.version(ctx, verDirectory)
	if err != nil {
		return backchannel.User{}, err
	}
	if u, err, ok := lookup(c, c.users, id, ver); ok {
		return u, err
	}
	var u backchannel.User
	err = db.pool.QueryRow(ctx, `SELECT id, team_id, name, real_name, email, department, employee_number,
		is_guest, guest_type, is_bot, is_admin, is_owner, is_primary_owner, can_manage_public_channels, date_claimed, deleted
		FROM users WHERE id = $1`, id).Scan(&u.ID, &u.TeamID, &u.Name, &u.RealName, &u.Email, &u.Department,
		&u.EmployeeNumber, &u.IsGuest, &u.GuestType, &u.IsBot, &u.IsAdmin, &u.IsOwner, &u.IsPrimaryOwner,
		&u.CanManagePublicChannels, &u.DateClaimed, &u.Deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		u, err = backchannel.User{}, backchannel.Errorf(backchannel.EUserNotFound, "user %q not found", id)
	} else if err != nil {
		return backchannel.User{}, fmt.Errorf("postgres: user: %w", err)
	}
	store(c, c.users, id, ver, u, err)
	return u, err
}

// Channel returns a conversation with its pin count (cached under the
// channel's version).
func (db *DB) Channel(ctx context.Context, id string) (backchannel.Channel, error) {
	c := db.cache
	ver, err := db.version(ctx, chanKey(id))
	if err != nil {
		return backchannel.Channel{}, err
	}
	if ch, err, ok := lookup(c, c.channels, id, ver); ok {
		return copyChannel(ch), err
	}
	var ch backchannel.Channel
	var orgs []byte
	err = db.pool.QueryRow(ctx, `SELECT id, team_id, name, kind, created, creator, topic, purpose, is_archived,
		shared_team_ids, external_orgs, is_org_wide, pin_count FROM channels WHERE id = $1`, id).Scan(&ch.ID, &ch.TeamID,
		&ch.Name, &ch.Kind, &ch.Created, &ch.Creator, &ch.Topic, &ch.Purpose, &ch.IsArchived, &ch.SharedTeamIDs, &orgs,
		&ch.IsOrgWide, &ch.PinCount)
	if errors.Is(err, pgx.ErrNoRows) {
		ch, err = backchannel.Channel{}, backchannel.Errorf(backchannel.EChannelNotFound, "channel %q not found", id)
	} else if err != nil {
		return backchannel.Channel{}, fmt.Errorf("postgres: channel: %w", err)
	} else {
		if err := json.Unmarshal(orgs, &ch.ExternalOrgs); err != nil {
			return backchannel.Channel{}, fmt.Errorf("postgres: channel %s: %w", id, err)
		}
		if len(ch.SharedTeamIDs) == 0 {
			ch.SharedTeamIDs = nil
		}
		if len(ch.ExternalOrgs) == 0 {
			ch.ExternalOrgs = nil
		}
	}
	store(c, c.channels, id, ver, ch, err)
	return copyChannel(ch), err
}

// copyChannel keeps callers from changing the cached slices.
func copyChannel(c backchannel.Channel) backchannel.Channel {
	if c.SharedTeamIDs != nil {
		c.SharedTeamIDs = append([]string(nil), c.SharedTeamIDs...)
	}
	if c.ExternalOrgs != nil {
		c.ExternalOrgs = append([]backchannel.ExternalOrg(nil), c.ExternalOrgs...)
	}
	return c
}

// IsMember reports current membership (cached under the channel's version).
func (db *DB) IsMember(ctx context.Context, channelID, userID string) (bool, error) {
	c := db.cache
	ver, err := db.version(ctx, chanKey(channelID))
	if err != nil {
		return false, err
	}
	k := [2]string{channelID, userID}
	if ok, err, hit := lookup(c, c.members, k, ver); hit {
		return ok, err
	}
	var ok bool
	err = db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE channel_id = $1 AND user_id = $2)`,
		channelID, userID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("postgres: is member: %w", err)
	}
	store(c, c.members, k, ver, ok, nil)
	return ok, nil
}
