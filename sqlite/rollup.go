package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

// rollups is a batch's analytics state: the rule context it reads and the
// deltas of its events, aggregated in memory (analytics.Batch) and written
// once per batch with multi-row upserts.
type rollups struct {
	agg *analytics.Batch
	// The directory context of the rules: channels (kind, shared) and users
	// (bot, department, team) as of each event's place in the batch. chans
	// and users hold what the batch read or wrote itself; the rest comes
	// from the writer's dirCache (nil in rebuilds).
	chans map[string]chanInfo
	users map[string]userInfo
	cache *dirCache

	act *analytics.ActBatch    // the batch's messages.activity bits (activity.go)
	mem *analytics.Memberships // member counts: what joins, leaves and user events change (members.go)
}

type chanInfo struct {
	kind   string
	shared bool
}

// userInfo is what the rules need of a user: whether a bot, and who for
// messages.activity's breakdowns.
type userInfo struct {
	bot bool
	analytics.Person
}

func newRollups(cache *dirCache) rollups {
	agg := analytics.NewBatch()
	return rollups{agg: agg, chans: map[string]chanInfo{}, users: map[string]userInfo{}, cache: cache,
		act: analytics.NewActBatch(), mem: analytics.NewMemberships(agg.Membership)}
}

// channel is the context of channel id at this point of the batch (zero if
// the store has no such channel).
func (ru *rollups) channel(id string) chanInfo {
	if c, ok := ru.chans[id]; ok || ru.cache == nil {
		return c
	}
	return ru.cache.chans[id]
}

// user is the context of user id at this point of the batch (zero if the
// store has no such user).
func (ru *rollups) user(id string) userInfo {
	if u, ok := ru.users[id]; ok || ru.cache == nil {
		return u
	}
	return ru.cache.users[id]
}

// dirCache is the writer's copy of the committed directory context, so
// that a batch reads from the database only the channels and users it has
// not met before (with 100,000 users, most of a batch's).
//
// It is exact: an entry is the committed row (or the zero value for an id
// with no row). Entries are added only from reads of ids that no directory
// event of the current transaction wrote, which see committed state: the
// writer holds the write lock. A directory event drops its id's entry and
// marks it written until the transaction ends (begin, called at the start
// of every transaction and when another process's commit is noticed, which
// drops everything). Batches see their own directory writes through
// rollups' maps.
type dirCache struct {
	// mu guards the maps and gen against the goroutines that read them
	// for prerollup; the writer, their only mutator, reads without it.
	mu sync.RWMutex
	// gen counts the changes and removals of entries (not additions): a
	// prerollup made at one gen holds for the writer at the same gen.
	gen   uint64
	chans map[string]chanInfo
	users map[string]userInfo
	// Ids written by directory events of the current transaction.
	wroteChans, wroteUsers map[string]bool
	// full: the cache holds every committed row (preloadDirectory), so an
	// id it lacks that the transaction did not write has no row. Any
	// change of a row (drop, a transaction that wrote one, another
	// process) ends it.
	full bool
}

// dirCacheMax bounds the entries kept: past it, the cache starts over.
const dirCacheMax = 1 << 20

func newDirCache() *dirCache {
	return &dirCache{chans: map[string]chanInfo{}, users: map[string]userInfo{},
		wroteChans: map[string]bool{}, wroteUsers: map[string]bool{}}
}

// begin is called when a transaction may begin: the previous one ended
// (committed or rolled back), and with foreign another process committed.
func (c *dirCache) begin(foreign bool) {
	if len(c.wroteChans)+len(c.wroteUsers) > 0 {
		c.full = false // their rows are committed now, or rolled back
	}
	clear(c.wroteChans)
	clear(c.wroteUsers)
	if foreign || len(c.chans)+len(c.users) > dirCacheMax {
		c.reset()
	}
}

// reset drops every entry (say, after a migration).
func (c *dirCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.full = false
	clear(c.chans)
	clear(c.users)
}

// putChannel and putUser add committed entries; drop removes the entries
// of a directory event's ids.
func (c *dirCache) putChannel(id string, ci chanInfo) {
	c.mu.Lock()
	c.chans[id] = ci
	c.mu.Unlock()
}

func (c *dirCache) putUser(id string, u userInfo) {
	c.mu.Lock()
	c.users[id] = u
	c.mu.Unlock()
}

func (c *dirCache) drop(chanID, userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.full = false
	if chanID != "" {
		c.wroteChans[chanID] = true
		delete(c.chans, chanID)
	}
	if userID != "" {
		c.wroteUsers[userID] = true
		delete(c.users, userID)
	}
}

// loadRollupContext reads, in two statements, the channel and user records
// the batch's new events with a day refer to that the writer's cache does
// not hold. Directory events of the batch then update them in order
// (noteChannel, noteUser), so every event sees the directory as of its
// place in the batch. It also reads what member counts need
// (loadMemberships).
func (b *batch) loadRollupContext(ctx context.Context, events []backchannel.Event) error {
	c := b.w.dir
	b.ru = newRollups(c)
	if pr := b.p.pre.take(c, events, b.seq, b.rows); pr != nil {
		b.ru.agg, b.ru.act, b.ru.mem = pr.agg, pr.act, analytics.NewMemberships(pr.agg.Membership)
		b.covered = pr.covered
	}
	var chs, users []string
	seenC, seenU := map[string]bool{}, map[string]bool{}
	for i := range events {
		ev := &events[i]
		if b.seq[i] == 0 || !analytics.HasDay(ev.Type) || b.covered != nil && b.covered[i] {
			continue
		}
		// Most ids are cached: only the others are noted (once each).
		if id := ev.ChannelID; id != "" {
			if _, ok := c.chans[id]; !ok && !seenC[id] {
				seenC[id] = true
				chs = append(chs, id)
			}
		}
		if id := ev.UserID; id != "" {
			if _, ok := c.users[id]; !ok && !seenU[id] {
				seenU[id] = true
				users = append(users, id)
			}
		}
	}
	// A batch that meets many ids the cache lacks (the first ones after a
	// start) reads the whole directory instead, once: then the cache can
	// tell ids without a row from the rest.
	if !c.full && len(chs)+len(users) >= preloadMisses {
		if err := b.preloadDirectory(ctx); err != nil {
			return err
		}
		chs = slices.DeleteFunc(chs, func(id string) bool { _, ok := b.ru.chans[id]; _, in := c.chans[id]; return ok || in })
		users = slices.DeleteFunc(users, func(id string) bool { _, ok := b.ru.users[id]; _, in := c.users[id]; return ok || in })
	}
	// What is not found has no row: its zero value is exact too. (Cloned:
	// an id of an event may share the memory of its whole request.)
	for _, id := range chs {
		b.ru.putChannel(strings.Clone(id), chanInfo{})
	}
	for _, id := range users {
		b.ru.putUser(strings.Clone(id), userInfo{})
	}
	if c.full { // only what this transaction wrote may have a row
		chs = slices.DeleteFunc(chs, func(id string) bool { return !c.wroteChans[id] })
		users = slices.DeleteFunc(users, func(id string) bool { return !c.wroteUsers[id] })
	}
	if err := loadContext(ctx, b.w.stmt, chs, users, false, &b.ru); err != nil {
		return err
	}
	return b.loadMemberships(ctx, events)
}

// preloadMisses is how many ids a batch must miss in the dirCache for the
// writer to read the whole directory; preloadMax is the most rows it reads.
var preloadMisses = 1024 // a variable for tests

const preloadMax = dirCacheMax / 2

// preloadDirectory reads every channel and user into the cache (those this
// transaction wrote into the batch's maps, as putChannel does) and marks
// it full, unless the directory has more than preloadMax rows.
func (b *batch) preloadDirectory(ctx context.Context) error {
	var n int64
	if err := b.w.queryRow(ctx, `SELECT (SELECT count(*) FROM channels) + (SELECT count(*) FROM users)`).Scan(&n); err != nil {
		return fmt.Errorf("analytics: count the directory: %w", err)
	}
	if n > preloadMax {
		return nil
	}
	if err := loadContext(ctx, b.w.stmt, nil, nil, true, &b.ru); err != nil {
		return err
	}
	b.w.dir.full = true
	return nil
}

// putChannel records a channel's stored context: in the writer's cache
// unless this transaction wrote the channel.
func (ru *rollups) putChannel(id string, ci chanInfo) {
	if ru.cache == nil || ru.cache.wroteChans[id] {
		ru.chans[id] = ci
		return
	}
	ru.cache.putChannel(id, ci)
}

// putUser records a user's stored context, as putChannel.
func (ru *rollups) putUser(id string, u userInfo) {
	if ru.cache == nil || ru.cache.wroteUsers[id] {
		ru.users[id] = u
		return
	}
	ru.cache.putUser(id, u)
}

// loadContext reads channels and users from the database into ru: those
// of chs and users, or with all every one.
func loadContext(ctx context.Context, stmt func(context.Context, string) (*sql.Stmt, error), chs, users []string, all bool, ru *rollups) error {
	if len(chs) > 0 || all {
		q, args := `SELECT id, kind, external_orgs != '[]' FROM channels WHERE id IN (SELECT value FROM json_each(?))`, []any{stringList(chs)}
		if all {
			q, args = `SELECT id, kind, external_orgs != '[]' FROM channels`, nil
		}
		s, err := stmt(ctx, q)
		if err != nil {
			return err
		}
		err = scanAll(ctx, s, args, func(rows *sql.Rows) error {
			var id string
			var ci chanInfo
			err := rows.Scan(&id, &ci.kind, &ci.shared)
			ru.putChannel(id, ci)
			return err
		})
		if err != nil {
			return fmt.Errorf("analytics: load channels: %w", err)
		}
	}
	if len(users) > 0 || all {
		q, args := `SELECT id, is_bot, department, team_id FROM users WHERE id IN (SELECT value FROM json_each(?))`, []any{stringList(users)}
		if all {
			q, args = `SELECT id, is_bot, department, team_id FROM users`, nil
		}
		s, err := stmt(ctx, q)
		if err != nil {
			return err
		}
		err = scanAll(ctx, s, args, func(rows *sql.Rows) error {
			var id string
			var u userInfo
			err := rows.Scan(&id, &u.bot, &u.Department, &u.Team)
			ru.putUser(id, u)
			return err
		})
		if err != nil {
			return fmt.Errorf("analytics: load users: %w", err)
		}
	}
	return nil
}

// noteChannel and noteUser record a directory event's new record for the
// rest of the batch, and keep it out of the writer's cache until its
// transaction ends.
func (ru *rollups) noteChannel(c *backchannel.Channel) {
	ru.chans[c.ID] = chanInfo{kind: c.Kind, shared: c.IsExternallyShared()}
	if ru.cache != nil {
		ru.cache.drop(c.ID, "")
	}
}

func (ru *rollups) noteUser(u *backchannel.User) {
	ru.users[u.ID] = userInfo{bot: u.IsBot, Person: analytics.Person{Department: u.Department, Team: u.TeamID}}
	if ru.cache != nil {
		ru.cache.drop("", u.ID)
	}
}

// rollup applies the rules to one new event, seq its log seq. It runs
// before the event changes any state, so a message's row still says
// whether it is new.
func (b *batch) rollup(ev *backchannel.Event, seq int64) error {
	if !analytics.HasDay(ev.Type) {
		return b.countMembership(ev, seq)
	}
	newMessage := ev.Type == backchannel.EvMessage && !b.row(msgKey{ev.ChannelID, ev.TS}).present
	ruleOf(b.ru.agg, b.ru.act, ev, b.ru.channel(ev.ChannelID), b.ru.user(ev.UserID), newMessage, b.w.db.noActivity)
	return nil
}

// Rollup upserts: the merge rules of analytics.MemberCounts and
// analytics.ChannelCounts, in SQL.
const (
	upsertMemberDays     = `INSERT INTO member_days (user_id, day, messages, channel_messages, reactions, files, slack_calls, huddles, third_party_calls, searches, flags)`
	upsertMemberDaysTail = `ON CONFLICT (user_id, day) DO UPDATE SET messages = messages + excluded.messages,
		channel_messages = channel_messages + excluded.channel_messages, reactions = reactions + excluded.reactions,
		files = files + excluded.files, slack_calls = slack_calls + excluded.slack_calls, huddles = huddles + excluded.huddles,
		third_party_calls = third_party_calls + excluded.third_party_calls, searches = searches + excluded.searches,
		flags = flags | excluded.flags`
	upsertChannelDays     = `INSERT INTO channel_days (channel_id, day, messages, member_messages, reactions, viewers, posters, last_ts)`
	upsertChannelDaysTail = `ON CONFLICT (channel_id, day) DO UPDATE SET messages = messages + excluded.messages,
		member_messages = member_messages + excluded.member_messages, reactions = reactions + excluded.reactions,
		viewers = viewers + excluded.viewers, posters = posters + excluded.posters, last_ts = max(last_ts, excluded.last_ts)`
	upsertDays     = `INSERT INTO analytics_days (day, events)`
	upsertDaysTail = `ON CONFLICT (day) DO UPDATE SET events = events + excluded.events,
		late = late + CASE WHEN closed_at IS NULL THEN 0 ELSE excluded.events END`
)

// writeRollups writes an aggregated batch: distinct bits first (only the
// new ones bump the channel-day's distinct counters), then channel member
// counts, and the channel-days and member-days: with ingest logged as
// rollup runs (rollruns.go) beside the per-day event counts, else (a
// rebuild) upserted into their rows.
func (w *writer) writeRollups(ctx context.Context, agg *analytics.Batch, ingest bool) error {
	if err := w.writeMembership(ctx, agg); err != nil {
		return err
	}
	if err := w.writeDistinct(ctx, agg); err != nil {
		return err
	}
	members, chans := w.memberDeltas(agg), agg.SortedChannels()
	if !ingest {
		return w.upsertRollups(ctx, agg, members, chans)
	}
	if err := w.logRollups(ctx, agg, members, chans); err != nil {
		return err
	}
	var args []any
	for d, n := range agg.Days {
		args = append(args, int64(d), n)
	}
	if err := w.execRows(ctx, upsertDays, `(?,?)`, upsertDaysTail, nil, 2, args); err != nil {
		return fmt.Errorf("analytics: days: %w", err)
	}
	return nil
}

// memberDeltas lists the batch's member-days to write, in key order. Most
// of a batch's only set flags (views, client_active, apps, workflows):
// those are left out when the day is known to hold them (memberflags.go).
func (w *writer) memberDeltas(agg *analytics.Batch) []memberDelta {
	var out []memberDelta
	for _, k := range agg.SortedMembers() {
		m := agg.Members[k]
		if (*m == analytics.MemberCounts{Flags: m.Flags}) && w.flags.holds(k, m.Flags) {
			continue
		}
		w.flags.note(k, m.Flags)
		out = append(out, memberDelta{k, m})
	}
	return out
}

// upsertRollups merges channel-days and member-days (each in key order)
// into their rows. A member-day that only sets flags binds 3 arguments
// instead of 11.
func (w *writer) upsertRollups(ctx context.Context, agg *analytics.Batch, members []memberDelta, chans []analytics.ChannelKey) error {
	var args []any
	for _, k := range chans {
		c := agg.Channels[k]
		args = append(args, k.Channel, int64(k.Day), c.Messages, c.MemberMessages, c.Reactions, c.Viewers, c.Posters, int64(c.LastTS))
	}
	if err := w.execRows(ctx, upsertChannelDays, `(?,?,?,?,?,?,?,?)`, upsertChannelDaysTail, nil, 8, args); err != nil {
		return fmt.Errorf("analytics: channel days: %w", err)
	}
	args = args[:0]
	var flagsOnly []any
	for _, md := range members {
		k, m := md.k, md.c
		if (*m == analytics.MemberCounts{Flags: m.Flags}) {
			flagsOnly = append(flagsOnly, k.User, int64(k.Day), int64(m.Flags))
			continue
		}
		args = append(args, k.User, int64(k.Day), m.Messages, m.ChannelMessages, m.Reactions, m.Files,
			m.SlackCalls, m.Huddles, m.ThirdPartyCalls, m.Searches, int64(m.Flags))
	}
	if err := w.execRows(ctx, upsertMemberDays, `(?,?,0,0,0,0,0,0,0,0,?)`, upsertMemberDaysTail, nil, 3, flagsOnly); err != nil {
		return fmt.Errorf("analytics: member days: %w", err)
	}
	if err := w.execRows(ctx, upsertMemberDays, `(?,?,?,?,?,?,?,?,?,?,?)`, upsertMemberDaysTail, nil, 11, args); err != nil {
		return fmt.Errorf("analytics: member days: %w", err)
	}
	return nil
}

// valuesStmt prepares (once) the multi-row statement of n rows.
func (w *writer) valuesStmt(ctx context.Context, head, tmpl, tail string, n int) (*sql.Stmt, error) {
	k := valuesKey{head, tmpl, tail, 0, n}
	if s, ok := w.vstmts[k]; ok {
		return s, nil
	}
	s, err := w.stmt(ctx, values(head, tmpl, 0, n, tail))
	if err != nil {
		return nil, err
	}
	w.vstmts[k] = s
	return s, nil
}
