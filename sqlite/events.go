package sqlite

import (
	"context"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/jsonobj"
)

// Directory upserts: last write wins. pin_count is the store's own and is
// never overwritten by a channel event.
const (
	upsertEnterprise = `INSERT INTO enterprise (singleton, id, name, hide_email_addresses, member_analytics_enabled, analytics_start)
		VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (singleton) DO UPDATE SET id = excluded.id, name = excluded.name,
		hide_email_addresses = excluded.hide_email_addresses, member_analytics_enabled = excluded.member_analytics_enabled,
		analytics_start = excluded.analytics_start`
	upsertTeam = `INSERT INTO teams (id, name, domain, enterprise_id) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, domain = excluded.domain, enterprise_id = excluded.enterprise_id`
	upsertUser = `INSERT INTO users (id, team_id, name, real_name, email, department, employee_number, is_guest, guest_type,
		is_bot, is_admin, is_owner, is_primary_owner, can_manage_public_channels, date_claimed, deleted, created_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET
		team_id = excluded.team_id, name = excluded.name, real_name = excluded.real_name, email = excluded.email,
		department = excluded.department, employee_number = excluded.employee_number, is_guest = excluded.is_guest,
		guest_type = excluded.guest_type, is_bot = excluded.is_bot, is_admin = excluded.is_admin, is_owner = excluded.is_owner,
		is_primary_owner = excluded.is_primary_owner, can_manage_public_channels = excluded.can_manage_public_channels,
		date_claimed = excluded.date_claimed, deleted = excluded.deleted,
		created_at = CASE WHEN excluded.date_claimed > 0 THEN excluded.created_at ELSE users.created_at END,
		deleted_at = CASE WHEN excluded.deleted = 0 THEN NULL ELSE coalesce(users.deleted_at, excluded.deleted_at) END`
	upsertChannel = `INSERT INTO channels (id, team_id, name, kind, created, creator, topic, purpose, is_archived,
		shared_team_ids, external_orgs, is_org_wide, created_at, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id, name = excluded.name, kind = excluded.kind,
		created = excluded.created, creator = excluded.creator, topic = excluded.topic, purpose = excluded.purpose,
		is_archived = excluded.is_archived, shared_team_ids = excluded.shared_team_ids,
		external_orgs = excluded.external_orgs, is_org_wide = excluded.is_org_wide,
		created_at = CASE WHEN excluded.created > 0 THEN excluded.created_at ELSE channels.created_at END,
		archived_at = CASE WHEN excluded.is_archived = 0 THEN NULL ELSE coalesce(channels.archived_at, excluded.archived_at) END`
)

// applyOne applies one new event. Message state changes in memory (b.rows);
// everything keyed by (channel, ts) but not by a message row — reactions,
// pins, stars — is written at once, so it is kept even when the message has
// not arrived yet.
func (b *batch) applyOne(ctx context.Context, ev *backchannel.Event, i int, seq int64) error {
	if b.covered == nil || !b.covered[i] { // else prerollup did
		if err := b.rollup(ev, seq); err != nil {
			return err
		}
	}
	switch ev.Type {
	case backchannel.EvEnterprise, backchannel.EvTeam, backchannel.EvUser, backchannel.EvChannel:
		return b.upsertDirectory(ctx, ev)
	case backchannel.EvMemberJoined, backchannel.EvMemberLeft:
		return b.membership(ctx, ev, seq)
	case backchannel.EvMessage:
		b.message(ev)
	case backchannel.EvMessageChanged:
		return b.changed(ev)
	case backchannel.EvMessageDeleted:
		b.t.channel(ev.ChannelID)
		r := b.row(msgKey{ev.ChannelID, ev.TS})
		r.deleted, r.dirty = true, true
		if r.parentTS != 0 {
			b.row(msgKey{ev.ChannelID, r.parentTS}).render = true
		}
	case backchannel.EvReactionAdded, backchannel.EvReactionRemoved:
		b.t.channel(ev.ChannelID)
		b.row(msgKey{ev.ChannelID, ev.TS}).render = true // a body from before 0015 holds its reactions
		if ev.Type == backchannel.EvReactionAdded {
			b.reacts = append(b.reacts, ev.ChannelID, int64(ev.TS), ev.Reaction, ev.UserID, seq)
			return nil
		}
		if err := b.flushReactions(ctx); err != nil { // in event order
			return err
		}
		return b.execOne(ctx, `DELETE FROM reactions WHERE channel_id = ? AND ts = ? AND name = ? AND user_id = ?`,
			ev.ChannelID, int64(ev.TS), ev.Reaction, ev.UserID)
	case backchannel.EvPinAdded, backchannel.EvPinRemoved:
		return b.pin(ctx, ev, seq)
	case backchannel.EvStarAdded:
		b.t.channel(ev.ChannelID)
		return b.execOne(ctx, `INSERT INTO stars (user_id, channel_id, ts) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			ev.UserID, ev.ChannelID, int64(ev.TS))
	case backchannel.EvStarRemoved:
		b.t.channel(ev.ChannelID)
		return b.execOne(ctx, `DELETE FROM stars WHERE user_id = ? AND channel_id = ? AND ts = ?`, ev.UserID, ev.ChannelID, int64(ev.TS))
	case backchannel.EvMessageViewed, backchannel.EvMessageClicked, backchannel.EvMessageShared:
		b.t.act(ev.ChannelID) // cached activity pages (cache_activity.go)
	}
	// Other types (activity for analytics) live only in the event log.
	return nil
}

// flushReactions inserts the reactions added since the last flush, in
// event order, with multi-row statements: what one statement per event
// would do (the first reaction of a user with a name keeps its seq).
func (b *batch) flushReactions(ctx context.Context) error {
	if len(b.reacts) == 0 {
		return nil
	}
	err := b.w.execRows(ctx, `INSERT INTO reactions (channel_id, ts, name, user_id, seq)`, `(?,?,?,?,?)`, `ON CONFLICT DO NOTHING`, nil, 5, b.reacts)
	b.reacts = b.reacts[:0]
	if err != nil {
		return fmt.Errorf("add reactions: %w", err)
	}
	return nil
}

func (b *batch) execOne(ctx context.Context, query string, args ...any) error {
	_, err := b.execN(ctx, query, args...)
	return err
}

func (b *batch) execN(ctx context.Context, query string, args ...any) (int64, error) {
	s, err := b.w.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	return n, nil
}

func (b *batch) upsertDirectory(ctx context.Context, ev *backchannel.Event) error {
	switch {
	case ev.Enterprise != nil:
		e := ev.Enterprise
		b.t.directory = true
		return b.execOne(ctx, upsertEnterprise, e.ID, e.Name, boolInt(e.HideEmailAddresses), boolInt(e.MemberAnalyticsEnabled), e.AnalyticsStart)
	case ev.Team != nil:
		t := ev.Team
		b.t.directory = true
		return b.execOne(ctx, upsertTeam, t.ID, t.Name, t.Domain, t.EnterpriseID)
	case ev.User != nil:
		u := ev.User
		b.t.directory = true
		b.ru.noteUser(u)
		// When the user came to exist and stopped: analytics list a user
		// only on the days it existed.
		created, deleted := b.effective(ev), any(nil)
		if u.DateClaimed > 0 {
			created = u.DateClaimed * 1_000_000
		}
		if u.Deleted {
			deleted = b.effective(ev)
		}
		return b.execOne(ctx, upsertUser, u.ID, u.TeamID, u.Name, u.RealName, u.Email, u.Department, u.EmployeeNumber,
			boolInt(u.IsGuest), u.GuestType, boolInt(u.IsBot), boolInt(u.IsAdmin), boolInt(u.IsOwner),
			boolInt(u.IsPrimaryOwner), boolInt(u.CanManagePublicChannels), u.DateClaimed, boolInt(u.Deleted), created, deleted)
	case ev.Channel != nil:
		c := ev.Channel
		b.t.channel(c.ID)
		shared, err := jsonText(nonNil(c.SharedTeamIDs))
		if err != nil {
			return fmt.Errorf("channel %s: %w", c.ID, err)
		}
		orgs, err := jsonText(nonNil(c.ExternalOrgs))
		if err != nil {
			return fmt.Errorf("channel %s: %w", c.ID, err)
		}
		b.ru.noteChannel(c)
		created, archived := b.effective(ev), any(nil)
		if c.Created > 0 {
			created = c.Created * 1_000_000
		}
		if c.IsArchived {
			archived = b.effective(ev)
		}
		return b.execOne(ctx, upsertChannel, c.ID, c.TeamID, c.Name, c.Kind, c.Created, c.Creator, c.Topic, c.Purpose,
			boolInt(c.IsArchived), shared, orgs, boolInt(c.IsOrgWide), created, archived)
	}
	return &backchannel.EventError{Line: ev.Line, Detail: ev.Type + " event without its payload"}
}

// effective is when a directory event took effect: its event_ts, else
// when it was ingested.
func (b *batch) effective(ev *backchannel.Event) int64 {
	if ev.EventTS != 0 {
		return int64(ev.EventTS)
	}
	return b.now
}

// membership applies a join or leave to the current members and logs it
// with when it took effect, for member counts as of any day's end.
func (b *batch) membership(ctx context.Context, ev *backchannel.Event, seq int64) error {
	b.t.channel(ev.ChannelID)
	q, joined := `DELETE FROM memberships WHERE channel_id = ? AND user_id = ?`, 0
	if ev.Type == backchannel.EvMemberJoined {
		q, joined = `INSERT INTO memberships (channel_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, 1
	}
	if err := b.execOne(ctx, q, ev.ChannelID, ev.UserID); err != nil {
		return err
	}
	return b.execOne(ctx, `INSERT INTO membership_log (channel_id, user_id, at, seq, joined) VALUES (?, ?, ?, ?, ?)`,
		ev.ChannelID, ev.UserID, b.effective(ev), seq, joined)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// message stores a message; the same (channel, ts) sent again from another
// line replaces the stored one (last write wins). A delete that arrived
// first (a tombstone) keeps it hidden.
func (b *batch) message(ev *backchannel.Event) {
	b.t.channel(ev.ChannelID)
	r := b.row(msgKey{ev.ChannelID, ev.TS})
	old := r.parentTS
	r.present, r.dirty, r.render = true, true, true
	r.doc = ev.Doc
	if len(r.doc) < 2 {
		r.doc = []byte("{}")
	}
	r.threadTS, r.parentTS = ev.ThreadTS, 0
	if ev.ThreadTS != 0 && ev.ThreadTS != ev.TS {
		r.parentTS = ev.ThreadTS
		b.row(msgKey{ev.ChannelID, r.parentTS}).render = true
	}
	if old != 0 && old != r.parentTS {
		b.row(msgKey{ev.ChannelID, old}).render = true
	}
	r.user, r.subtype, r.edited = ev.UserID, ev.Subtype, ev.Edited
}

// Keys a message_changed may not change: they identify the message.
var frozenKeys = map[string]bool{"type": true, "ts": true, "thread_ts": true}

// changed merges an edit into the stored Doc. An edit of a message the store
// does not hold changes nothing (it stays in the event log).
func (b *batch) changed(ev *backchannel.Event) error {
	b.t.channel(ev.ChannelID)
	r := b.rows[msgKey{ev.ChannelID, ev.TS}]
	if r == nil || !r.present {
		return nil
	}
	if len(ev.Doc) > 2 {
		doc, err := jsonobj.Parse(r.doc)
		if err != nil {
			return fmt.Errorf("message %s/%s: stored doc: %w", ev.ChannelID, ev.TS, err)
		}
		patch, err := jsonobj.Parse(ev.Doc)
		if err != nil {
			return &backchannel.EventError{Line: ev.Line, Detail: "message_changed: " + err.Error()}
		}
		for i, k := range patch.Keys {
			if !frozenKeys[k] {
				doc.Set(k, patch.Values[i])
			}
		}
		r.doc = doc.Bytes()
	}
	if ev.Edited != nil {
		r.edited = ev.Edited
	}
	r.dirty, r.render = true, true
	return nil
}

// pin keeps the channel's pin_count equal to its number of pins.
func (b *batch) pin(ctx context.Context, ev *backchannel.Event, seq int64) error {
	b.t.channel(ev.ChannelID)
	b.row(msgKey{ev.ChannelID, ev.TS}).render = true
	b.decorated[msgKey{ev.ChannelID, ev.TS}] = true
	var n int64
	var err error
	delta := 1
	if ev.Type == backchannel.EvPinAdded {
		n, err = b.execN(ctx, `INSERT INTO pins (channel_id, ts, user_id, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			ev.ChannelID, int64(ev.TS), ev.UserID, seq)
	} else {
		delta = -1
		n, err = b.execN(ctx, `DELETE FROM pins WHERE channel_id = ? AND ts = ?`, ev.ChannelID, int64(ev.TS))
	}
	if err != nil || n == 0 {
		return err
	}
	return b.execOne(ctx, `UPDATE channels SET pin_count = pin_count + ? WHERE id = ?`, delta, ev.ChannelID)
}
