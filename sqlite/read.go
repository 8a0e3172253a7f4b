package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/backchannel/backchannel"
)

// Apply stores a batch atomically through the writer (see writer.go).
func (db *DB) Apply(ctx context.Context, events []backchannel.Event) (backchannel.ApplyResult, error) {
	wait, err := db.Enqueue(ctx, events)
	if err != nil {
		return backchannel.ApplyResult{}, err
	}
	return wait()
}

// Enqueue is Apply in two steps: it prepares the batch and queues it for
// the writer, and the function it returns waits for the outcome (Apply's
// result). Batches are applied in the order they are queued, so a caller
// with one batch queued behind another, as an import is, keeps the writer
// busy while the first one's commit is synced.
func (db *DB) Enqueue(ctx context.Context, events []backchannel.Event) (func() (backchannel.ApplyResult, error), error) {
	if len(events) == 0 {
		return func() (backchannel.ApplyResult, error) { return backchannel.ApplyResult{}, nil }, nil
	}
	p := prepare(events, db.now().UnixMicro())
	if !db.noPrerollup {
		p.pre = db.dir.prerollup(events, p.idx, db.noActivity)
	}
	r := &writeReq{ctx: ctx, events: events, prep: p, done: make(chan struct{})}
	if err := db.send(ctx, r); err != nil {
		return nil, err
	}
	return func() (backchannel.ApplyResult, error) {
		<-r.done
		if r.err != nil {
			var ee *backchannel.EventError
			if errors.As(r.err, &ee) {
				return backchannel.ApplyResult{}, r.err
			}
			return backchannel.ApplyResult{}, fmt.Errorf("sqlite: apply: %w", r.err)
		}
		return r.res, nil
	}, nil
}

// Empty reports whether the event log is empty.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var any int
	if err := db.rdb.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM event_runs)`).Scan(&any); err != nil {
		return false, fmt.Errorf("sqlite: empty: %w", err)
	}
	return any == 0, nil
}

// Enterprise returns the organisation, or the "0" record of a single
// workspace when none was ingested.
func (db *DB) Enterprise(ctx context.Context) (backchannel.Enterprise, error) {
	var e backchannel.Enterprise
	err := db.rdb.QueryRowContext(ctx, `SELECT id, name, hide_email_addresses, member_analytics_enabled, analytics_start
		FROM enterprise WHERE singleton = 1`).Scan(&e.ID, &e.Name, &e.HideEmailAddresses, &e.MemberAnalyticsEnabled, &e.AnalyticsStart)
	if errors.Is(err, sql.ErrNoRows) {
		return backchannel.Enterprise{ID: "0"}, nil
	}
	if err != nil {
		return e, fmt.Errorf("sqlite: enterprise: %w", err)
	}
	return e, nil
}

// Team returns a workspace.
func (db *DB) Team(ctx context.Context, id string) (backchannel.Team, error) {
	var t backchannel.Team
	err := db.rdb.QueryRowContext(ctx, `SELECT id, name, domain, enterprise_id FROM teams WHERE id = ?`, id).
		Scan(&t.ID, &t.Name, &t.Domain, &t.EnterpriseID)
	if errors.Is(err, sql.ErrNoRows) {
		return t, backchannel.Errorf(backchannel.ENOTFOUND, "team %q not found", id)
	}
	if err != nil {
		return t, fmt.Errorf("sqlite: team: %w", err)
	}
	return t, nil
}

// User returns a user (cached).
func (db *DB) User(ctx context.Context, id string) (backchannel.User, error) {
	c := db.cache
	cur := func() uint64 { return c.dirVer + c.epoch }
	if u, err, ok := lookup(c, c.users, id, cur); ok {
		return u, err
	}
	ver, _ := c.versions()
	var u backchannel.User
	err := db.rdb.QueryRowContext(ctx, `SELECT id, team_id, name, real_name, email, department, employee_number,
		is_guest, guest_type, is_bot, is_admin, is_owner, is_primary_owner, can_manage_public_channels, date_claimed, deleted
		FROM users WHERE id = ?`, id).Scan(&u.ID, &u.TeamID, &u.Name, &u.RealName, &u.Email, &u.Department,
		&u.EmployeeNumber, &u.IsGuest, &u.GuestType, &u.IsBot, &u.IsAdmin, &u.IsOwner, &u.IsPrimaryOwner,
		&u.CanManagePublicChannels, &u.DateClaimed, &u.Deleted)
	if errors.Is(err, sql.ErrNoRows) {
		err = backchannel.Errorf(backchannel.EUserNotFound, "user %q not found", id)
	} else if err != nil {
		return backchannel.User{}, fmt.Errorf("sqlite: user: %w", err)
	}
	store(c, c.users, id, ver, cur, u, err)
	return u, err
}

// Channel returns a conversation with its pin count (cached).
func (db *DB) Channel(ctx context.Context, id string) (backchannel.Channel, error) {
	c := db.cache
	cur := func() uint64 { return c.chanV(id) }
	if ch, err, ok := lookup(c, c.channels, id, cur); ok {
		return copyChannel(ch), err
	}
	ver := c.channelVersion(id)
	var ch backchannel.Channel
	var shared, orgs string
	err := db.rdb.QueryRowContext(ctx, `SELECT id, team_id, name, kind, created, creator, topic, purpose, is_archived,
		shared_team_ids, external_orgs, is_org_wide, pin_count FROM channels WHERE id = ?`, id).Scan(&ch.ID, &ch.TeamID,
		&ch.Name, &ch.Kind, &ch.Created, &ch.Creator, &ch.Topic, &ch.Purpose, &ch.IsArchived, &shared, &orgs,
		&ch.IsOrgWide, &ch.PinCount)
	if errors.Is(err, sql.ErrNoRows) {
		err = backchannel.Errorf(backchannel.EChannelNotFound, "channel %q not found", id)
	} else if err != nil {
		return backchannel.Channel{}, fmt.Errorf("sqlite: channel: %w", err)
	} else {
		if err := errors.Join(json.Unmarshal([]byte(shared), &ch.SharedTeamIDs), json.Unmarshal([]byte(orgs), &ch.ExternalOrgs)); err != nil {
			return backchannel.Channel{}, fmt.Errorf("sqlite: channel %s: %w", id, err)
		}
		if len(ch.SharedTeamIDs) == 0 {
			ch.SharedTeamIDs = nil
		}
		if len(ch.ExternalOrgs) == 0 {
			ch.ExternalOrgs = nil
		}
	}
	store(c, c.channels, id, ver, cur, ch, err)
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

// IsMember reports current membership (cached).
func (db *DB) IsMember(ctx context.Context, channelID, userID string) (bool, error) {
	c := db.cache
	k := [2]string{channelID, userID}
	cur := func() uint64 { return c.chanV(channelID) }
	if ok, err, hit := lookup(c, c.members, k, cur); hit {
		return ok, err
	}
	ver := c.channelVersion(channelID)
	var n int
	err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE channel_id = ? AND user_id = ?`,
		channelID, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: is member: %w", err)
	}
	store(c, c.members, k, ver, cur, n > 0, nil)
	return n > 0, nil
}
