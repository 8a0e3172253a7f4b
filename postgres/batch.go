package postgres

import (
	"encoding/json"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/jsonobj"
	"github.com/jackc/pgx/v5"
)

// msgKey identifies a message.
type msgKey struct {
	ch string
	ts backchannel.TS
}

// msgRow is a message's row as the batch sees it: loaded once from the
// database, changed in memory by the batch's events in order, rendered and
// written back once at the end of the batch.
type msgRow struct {
	key      msgKey
	present  bool // a message event arrived (false: tombstone or placeholder)
	deleted  bool
	threadTS backchannel.TS
	parentTS backchannel.TS // thread_ts of a reply, 0 otherwise
	user     string
	subtype  string
	edited   *backchannel.Edited
	doc      []byte
	body     []byte
	visible  bool

	inDB    bool // the row existed before the batch
	checked bool // looked up in the database (else a placeholder)
	dirty   bool // stored fields changed
	render  bool // body must be recomputed (reactions, pins, replies, doc)
}

func (r *msgRow) isVisible() bool {
	return r.present && !r.deleted && (r.parentTS == 0 || r.subtype == "thread_broadcast")
}

// batch is the state of one Apply request inside its transaction.
type batch struct {
	db     *DB
	tx     pgx.Tx
	events []backchannel.Event
	now    int64
	res    backchannel.ApplyResult

	seq    []int64          // log seq of each event; 0 for duplicates
	first  map[[32]byte]int // index of each key's first event
	keys   [][]byte         // distinct keys, in batch order
	exists map[string]bool  // channels that exist in the database or the batch
	rows   map[msgKey]*msgRow

	lockIDs  []int64            // advisory lock keys, ascending
	channels []string           // the channels the events are about, ascending
	unknown  []string           // channels to check for existence
	spans    map[string]tsRange // the keys each channel's message events name
	readKeys bool               // read which keys are logged before the COPY
	old      map[[32]byte]bool  // keys found logged
	blocks   []int64            // reserved seq blocks
	maxSeq   int64              // the batch's highest seq
	applied  map[string]int64   // the channels' seq high-water marks

	marks     map[string]backchannel.TS // channel marks at the start of the batch
	gaps      map[string]tsRange        // ranges of channels with nothing stored in them
	newMarks  map[string]backchannel.TS // raised by the batch's message events
	decorated map[msgKey]bool           // keys whose reactions or pins this batch wrote
	pinned    map[string]bool           // channels whose pins changed
	touched   map[string]bool           // channels whose version to bump
	directory bool                      // enterprise, teams or users changed
	ru        rollups                   // analytics deltas of the batch (rollup.go)
}

func newBatch(db *DB, events []backchannel.Event) *batch {
	return &batch{
		db: db, events: events, now: db.now().UnixMicro(),
		seq:       make([]int64, len(events)),
		spans:     make(map[string]tsRange),
		old:       make(map[[32]byte]bool),
		applied:   make(map[string]int64),
		first:     make(map[[32]byte]int, len(events)),
		exists:    make(map[string]bool),
		rows:      make(map[msgKey]*msgRow),
		marks:     make(map[string]backchannel.TS),
		gaps:      make(map[string]tsRange),
		newMarks:  make(map[string]backchannel.TS),
		decorated: make(map[msgKey]bool),
		pinned:    make(map[string]bool),
		touched:   make(map[string]bool),
		ru:        newRollups(),
	}
}

func (b *batch) row(k msgKey) *msgRow {
	r := b.rows[k]
	if r == nil {
		r = &msgRow{key: k}
		b.rows[k] = r
	}
	return r
}

// inDB reports whether k may have a row, replies, reactions or pins stored
// before this batch: only at or below its channel's mark, and not in the
// range of the channel's keys that the batch found empty (see gapProbe).
func (b *batch) inDB(k msgKey) bool {
	if g, ok := b.gaps[k.ch]; ok && g.lo <= k.ts && k.ts <= g.hi {
		return false
	}
	m, ok := b.marks[k.ch]
	return !ok || k.ts <= m
}

// tsRange is a closed range of message timestamps.
type tsRange struct{ lo, hi backchannel.TS }

// stored filters keys down to those that may be in the database.
func (b *batch) stored(keys []msgKey, also map[msgKey]bool) []msgKey {
	var out []msgKey
	for _, k := range keys {
		if b.inDB(k) || also[k] {
			out = append(out, k)
		}
	}
	return out
}

// eventKeys lists the messages the new events refer to (and the thread
// parents of replies), each once.
func (b *batch) eventKeys() []msgKey {
	var keys []msgKey
	seen := make(map[msgKey]bool)
	add := func(k msgKey) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for i := range b.events {
		ev := &b.events[i]
		if b.seq[i] == 0 || !isMessageEvent(ev.Type) {
			continue
		}
		add(msgKey{ev.ChannelID, ev.TS})
		if ev.Type == backchannel.EvMessage && ev.ThreadTS != 0 && ev.ThreadTS != ev.TS {
			add(msgKey{ev.ChannelID, ev.ThreadTS})
		}
	}
	return keys
}

// Directory upserts: last write wins. pin_count is the store's own and is
// never overwritten by a channel event.
const (
	upsertEnterprise = `INSERT INTO enterprise (singleton, id, name, hide_email_addresses, member_analytics_enabled, analytics_start)
		VALUES (true, $1, $2, $3, $4, $5) ON CONFLICT (singleton) DO UPDATE SET id = excluded.id, name = excluded.name,
		hide_email_addresses = excluded.hide_email_addresses, member_analytics_enabled = excluded.member_analytics_enabled,
		analytics_start = excluded.analytics_start`
	upsertTeam = `INSERT INTO teams (id, name, domain, enterprise_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, domain = excluded.domain, enterprise_id = excluded.enterprise_id`
	upsertUser = `INSERT INTO users (id, team_id, name, real_name, email, department, employee_number, is_guest, guest_type,
		is_bot, is_admin, is_owner, is_primary_owner, can_manage_public_channels, date_claimed, deleted, created_at, deleted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT (id) DO UPDATE SET
		team_id = excluded.team_id, name = excluded.name, real_name = excluded.real_name, email = excluded.email,
		department = excluded.department, employee_number = excluded.employee_number, is_guest = excluded.is_guest,
		guest_type = excluded.guest_type, is_bot = excluded.is_bot, is_admin = excluded.is_admin, is_owner = excluded.is_owner,
		is_primary_owner = excluded.is_primary_owner, can_manage_public_channels = excluded.can_manage_public_channels,
		date_claimed = excluded.date_claimed, deleted = excluded.deleted,
		created_at = CASE WHEN excluded.date_claimed > 0 THEN excluded.created_at ELSE users.created_at END,
		deleted_at = CASE WHEN NOT excluded.deleted THEN NULL ELSE coalesce(users.deleted_at, excluded.deleted_at) END`
	upsertChannel = `INSERT INTO channels (id, team_id, name, kind, created, creator, topic, purpose, is_archived,
		shared_team_ids, external_orgs, is_org_wide, created_at, archived_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id, name = excluded.name, kind = excluded.kind,
		created = excluded.created, creator = excluded.creator, topic = excluded.topic, purpose = excluded.purpose,
		is_archived = excluded.is_archived, shared_team_ids = excluded.shared_team_ids,
		external_orgs = excluded.external_orgs, is_org_wide = excluded.is_org_wide,
		created_at = CASE WHEN excluded.created > 0 THEN excluded.created_at ELSE channels.created_at END,
		archived_at = CASE WHEN NOT excluded.is_archived THEN NULL ELSE coalesce(channels.archived_at, excluded.archived_at) END`
)

// applyOne applies one new event. Message state changes in memory (b.rows);
// everything keyed by (channel, ts) but not by a message row — reactions,
// pins, stars — and the directory are queued on side, in event order, and
// written before the batch renders, so they are kept even when the message
// has not arrived yet.
func (b *batch) applyOne(side *pgx.Batch, ev *backchannel.Event, seq int64) error {
	if err := b.rollup(ev, seq); err != nil {
		return err
	}
	if ev.Type == backchannel.EvChannel || needsChannel(ev.Type) {
		// Only channels that exist (validate): they join db.known on commit.
		if ch := channelOf(ev); ch != "" {
			b.touched[ch] = true
		}
	}
	if isMessageEvent(ev.Type) {
		b.newMarks[ev.ChannelID] = max(b.newMarks[ev.ChannelID], ev.TS, ev.ThreadTS)
	}
	k := msgKey{ev.ChannelID, ev.TS}
	switch ev.Type {
	case backchannel.EvEnterprise, backchannel.EvTeam, backchannel.EvUser, backchannel.EvChannel:
		return b.upsertDirectory(side, ev)
	case backchannel.EvMemberJoined, backchannel.EvMemberLeft:
		joined := ev.Type == backchannel.EvMemberJoined
		if joined {
			side.Queue(`INSERT INTO memberships (channel_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, ev.ChannelID, ev.UserID)
		} else {
			side.Queue(`DELETE FROM memberships WHERE channel_id = $1 AND user_id = $2`, ev.ChannelID, ev.UserID)
		}
		// With when it took effect, for member counts as of any day's end.
		side.Queue(`INSERT INTO membership_log (channel_id, user_id, at, seq, joined) VALUES ($1, $2, $3, $4, $5)`,
			ev.ChannelID, ev.UserID, b.effective(ev), seq, joined)
	case backchannel.EvMessage:
		b.message(ev)
	case backchannel.EvMessageChanged:
		return b.changed(ev)
	case backchannel.EvMessageDeleted:
		r := b.row(k)
		r.deleted, r.dirty = true, true
		if r.parentTS != 0 {
			b.row(msgKey{ev.ChannelID, r.parentTS}).render = true
		}
	case backchannel.EvReactionAdded:
		b.row(k).render, b.decorated[k] = true, true
		side.Queue(`INSERT INTO reactions (channel_id, ts, name, user_id, seq) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			ev.ChannelID, int64(ev.TS), ev.Reaction, ev.UserID, seq)
	case backchannel.EvReactionRemoved:
		b.row(k).render, b.decorated[k] = true, true
		side.Queue(`DELETE FROM reactions WHERE channel_id = $1 AND ts = $2 AND name = $3 AND user_id = $4`,
			ev.ChannelID, int64(ev.TS), ev.Reaction, ev.UserID)
	case backchannel.EvPinAdded:
		b.row(k).render, b.decorated[k], b.pinned[ev.ChannelID] = true, true, true
		side.Queue(`INSERT INTO pins (channel_id, ts, user_id, seq) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			ev.ChannelID, int64(ev.TS), ev.UserID, seq)
	case backchannel.EvPinRemoved:
		b.row(k).render, b.decorated[k], b.pinned[ev.ChannelID] = true, true, true
		side.Queue(`DELETE FROM pins WHERE channel_id = $1 AND ts = $2`, ev.ChannelID, int64(ev.TS))
	case backchannel.EvStarAdded:
		side.Queue(`INSERT INTO stars (channel_id, user_id, ts) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			ev.ChannelID, ev.UserID, int64(ev.TS))
	case backchannel.EvStarRemoved:
		side.Queue(`DELETE FROM stars WHERE channel_id = $1 AND user_id = $2 AND ts = $3`, ev.ChannelID, ev.UserID, int64(ev.TS))
	}
	// Other types (activity for analytics) live only in the event log.
	return nil
}

func (b *batch) upsertDirectory(side *pgx.Batch, ev *backchannel.Event) error {
	switch {
	case ev.Enterprise != nil:
		e := ev.Enterprise
		b.directory = true
		side.Queue(upsertEnterprise, e.ID, e.Name, e.HideEmailAddresses, e.MemberAnalyticsEnabled, e.AnalyticsStart)
	case ev.Team != nil:
		t := ev.Team
		b.directory = true
		side.Queue(upsertTeam, t.ID, t.Name, t.Domain, t.EnterpriseID)
	case ev.User != nil:
		u := ev.User
		b.directory = true
		b.ru.noteUser(u)
		// When the user came to exist and stopped: analytics list a user
		// only on the days it existed.
		created, deleted := b.effective(ev), (*int64)(nil)
		if u.DateClaimed > 0 {
			created = u.DateClaimed * 1_000_000
		}
		if u.Deleted {
			at := b.effective(ev)
			deleted = &at
		}
		side.Queue(upsertUser, u.ID, u.TeamID, u.Name, u.RealName, u.Email, u.Department, u.EmployeeNumber,
			u.IsGuest, u.GuestType, u.IsBot, u.IsAdmin, u.IsOwner, u.IsPrimaryOwner, u.CanManagePublicChannels,
			u.DateClaimed, u.Deleted, created, deleted)
	case ev.Channel != nil:
		c := ev.Channel
		shared := c.SharedTeamIDs
		if shared == nil {
			shared = []string{}
		}
		orgs := c.ExternalOrgs
		if orgs == nil {
			orgs = []backchannel.ExternalOrg{}
		}
		orgsJSON, err := json.Marshal(orgs)
		if err != nil {
			return fmt.Errorf("channel %s: %w", c.ID, err)
		}
		b.ru.noteChannel(c)
		created, archived := b.effective(ev), (*int64)(nil)
		if c.Created > 0 {
			created = c.Created * 1_000_000
		}
		if c.IsArchived {
			at := b.effective(ev)
			archived = &at
		}
		side.Queue(upsertChannel, c.ID, c.TeamID, c.Name, c.Kind, c.Created, c.Creator, c.Topic, c.Purpose,
			c.IsArchived, shared, string(orgsJSON), c.IsOrgWide, created, archived)
	default:
		return &backchannel.EventError{Line: ev.Line, Detail: ev.Type + " event without its payload"}
	}
	return nil
}

// effective is when a directory or membership event took effect: its
// event_ts, else when it was ingested.
func (b *batch) effective(ev *backchannel.Event) int64 {
	if ev.EventTS != 0 {
		return int64(ev.EventTS)
	}
	return b.now
}

// message stores a message; the same (channel, ts) sent again from another
// line replaces the stored one (last write wins). A delete that arrived
// first (a tombstone) keeps it hidden.
func (b *batch) message(ev *backchannel.Event) {
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
