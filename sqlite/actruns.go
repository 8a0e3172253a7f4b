package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

// messages.activity since migration 0013 is logged in runs: rows of
// message_act_runs, keyed (ts, channel_id, seq). A message's bits per user
// are the OR of its runs' users (and, in a database from before 0013, of
// its rows in message_user_acts); its counters are the sum of its runs'
// counts (and of its rows in message_acts and message_group_acts). Those
// tables are read only.
//
// A batch reads the runs of the messages it gives bits to, in one
// statement, and appends to each message that gains a bit one run: the
// (user, bits) pairs it gained and the counts they add. Runs are numbered
// after the message's last. A message has at most compactRuns runs: the
// batch that would add one more replaces them all with one of everything.
// A batch of the benchmark day touches a few thousand recent messages, so
// it reads and writes a few thousand rows, not a row per (message, user)
// and per (message, department or team).
//
// users packs pairs, each user after its length as a uvarint:
//
//	uvarint(len(user)) user bits
//
// counts is the message's counters, then its group rows:
//
//	uvarint(views reactions shares clicks desktop mobile web)
//	{ kind uvarint(len(name)) name uvarint(views reactions shares clicks) }

// compactRuns is how many runs a message has at most.
const compactRuns = 16

// actRun is what a batch read of one message.
type actRun struct {
	last   int64                        // the message's last run number (0: none)
	users  map[string]analytics.ActBits // the OR of its runs and legacy rows, by user
	counts [][]byte                     // its runs' counts
	runs   [][]byte                     // its runs' users, until parsed
}

// actWrite is the run a batch appends to a message.
type actWrite struct {
	m     analytics.ActMessage
	h     *actRun
	users []byte // the pairs gained, or all of them when merging
}

// Reads of a batch's messages' runs and legacy rows (see probe).
var (
	probeActRuns = probeQuery{
		one: `SELECT r.channel_id, r.ts, r.seq, r.counts, r.users FROM message_act_runs AS r
			WHERE r.channel_id = ? AND r.ts IN (SELECT value FROM json_each(?))`,
		many: `SELECT r.channel_id, r.ts, r.seq, r.counts, r.users FROM json_each(?) AS j CROSS JOIN message_act_runs AS r
			ON r.ts = j.value->>1 AND r.channel_id = j.value->>0`,
	}
	probeLegacyActs = probeQuery{
		one: `SELECT a.channel_id, a.ts, a.user_id, a.bits FROM message_user_acts AS a
			WHERE a.channel_id = ? AND a.ts IN (SELECT value FROM json_each(?))`,
		many: `SELECT a.channel_id, a.ts, a.user_id, a.bits FROM json_each(?) AS j CROSS JOIN message_user_acts AS a
			ON a.ts = j.value->>1 AND a.channel_id = j.value->>0`,
	}
)

// writeActivity writes a batch's activity: it learns which bits are new
// (mergeActBits), computes what they add (analytics.ActBatch.DeltasOf) and
// appends the runs. The one writer connection makes that atomic: a bit is
// new exactly once.
func (w *writer) writeActivity(ctx context.Context, act *analytics.ActBatch) error {
	if act.Empty() {
		return nil
	}
	gained, was, writes, err := w.mergeActBits(ctx, act)
	if err != nil {
		return fmt.Errorf("activity: bits: %w", err)
	}
	d := act.DeltasOf(gained, was)
	if len(d.Messages) != len(writes) {
		return fmt.Errorf("activity: %d messages gained bits, %d have counts", len(writes), len(d.Messages))
	}
	args := make([]any, 0, 5*len(writes))
	var counts []byte
	g := 0 // d.Groups of the message
	for i, wr := range writes {
		if d.Messages[i] != wr.m {
			return fmt.Errorf("activity: message %s/%s gained bits, %s/%s has counts", wr.m.Channel, wr.m.TS, d.Messages[i].Channel, d.Messages[i].TS)
		}
		end := g
		for end < len(d.Groups) && d.Groups[end].ActMessage == wr.m {
			end++
		}
		if len(wr.h.counts) >= compactRuns {
			if counts, err = mergeCounts(append(wr.h.counts, encodeCounts(nil, &d.Counts[i], d.Groups[g:end], d.Group[g:end]))); err != nil {
				return fmt.Errorf("activity: message %s/%s: %w", wr.m.Channel, wr.m.TS, err)
			}
			s, err := w.stmt(ctx, `DELETE FROM message_act_runs WHERE ts = ? AND channel_id = ? AND seq <= ?`)
			if err == nil {
				_, err = s.ExecContext(ctx, int64(wr.m.TS), wr.m.Channel, wr.h.last)
			}
			if err != nil {
				return fmt.Errorf("activity: merge runs: %w", err)
			}
		} else {
			counts = encodeCounts(nil, &d.Counts[i], d.Groups[g:end], d.Group[g:end])
		}
		g = end
		args = append(args, int64(wr.m.TS), wr.m.Channel, wr.h.last+1, counts, wr.users)
	}
	if err := w.execRows(ctx, `INSERT INTO message_act_runs (ts, channel_id, seq, counts, users)`, `(?,?,?,?,?)`, ``, nil, 5, args); err != nil {
		return fmt.Errorf("activity: runs: %w", err)
	}
	return nil
}

// mergeActBits decides which of the batch's bits are new: it returns the
// (message, user)s that gained a bit, in key order, with the bits each held
// before, and the run each message that gained one gets (in the same
// order).
func (w *writer) mergeActBits(ctx context.Context, act *analytics.ActBatch) ([]analytics.ActKey, []analytics.ActBits, []actWrite, error) {
	keys := act.Keys()
	held, err := w.readActBits(ctx, keys)
	if err != nil {
		return nil, nil, nil, err
	}
	var gainedKeys []analytics.ActKey
	var was []analytics.ActBits
	var writes []actWrite
	var run []byte // the runs' pairs, back to back
	for lo := 0; lo < len(keys); {
		m := keys[lo].ActMessage
		hi := lo + 1
		for hi < len(keys) && keys[hi].ActMessage == m {
			hi++
		}
		h := held[msgKey{m.Channel, m.TS}]
		merge := len(h.counts) >= compactRuns // this run would be one too many
		n, start := len(gainedKeys), len(run)
		for _, k := range keys[lo:hi] {
			old := h.users[k.User]
			if gained := act.Bits(k) &^ old; gained != 0 {
				gainedKeys, was = append(gainedKeys, k), append(was, old)
				if merge {
					h.users[k.User] = old | gained
				} else {
					run = appendActPair(run, k.User, gained)
				}
			}
		}
		lo = hi
		if len(gainedKeys) == n {
			continue // nothing new: nothing to write
		}
		if merge { // one run of everything
			for _, u := range slices.Sorted(maps.Keys(h.users)) {
				if bits := h.users[u]; bits != 0 {
					run = appendActPair(run, u, bits)
				}
			}
		}
		writes = append(writes, actWrite{m: m, h: h, users: run[start:len(run):len(run)]})
	}
	return gainedKeys, was, writes, nil
}

// readActBits reads what the messages of keys (in key order) hold: their
// runs and, when the database has any, legacy rows. Every message of keys
// gets an entry, whose users are the batch's users of the message; only a
// message whose runs are about to be merged gets every user of its runs.
// (A message read by many has a run of thousands of users: a batch that
// brings it a few views only looks theirs up.)
func (w *writer) readActBits(ctx context.Context, keys []analytics.ActKey) (map[msgKey]*actRun, error) {
	held := make(map[msgKey]*actRun)
	var msgs []msgKey
	var h *actRun
	for i, k := range keys {
		if i == 0 || k.ActMessage != keys[i-1].ActMessage {
			mk := msgKey{k.Channel, k.TS}
			msgs = append(msgs, mk)
			h = &actRun{users: make(map[string]analytics.ActBits)}
			held[mk] = h
		}
		h.users[k.User] = 0
	}
	err := w.probe(ctx, probeActRuns, msgs, func(rows *sql.Rows) error {
		var mk msgKey
		var seq int64
		var counts, users []byte
		if err := rows.Scan(&mk.ch, &mk.ts, &seq, &counts, &users); err != nil {
			return err
		}
		h := held[mk]
		if h == nil {
			return fmt.Errorf("run of %s/%s read but not asked for", mk.ch, mk.ts)
		}
		h.counts = append(h.counts, counts)
		h.last = max(h.last, seq)
		h.runs = append(h.runs, users)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read message_act_runs: %w", err)
	}
	for _, h := range held {
		all := len(h.counts) >= compactRuns // merged by this batch (mergeActBits)
		for _, users := range h.runs {
			err := eachActPair(users, func(user []byte, bits analytics.ActBits) {
				if _, ok := h.users[string(user)]; ok || all {
					h.users[string(user)] |= bits
				}
			})
			if err != nil {
				return nil, fmt.Errorf("read message_act_runs: %w", err)
			}
		}
		h.runs = nil
	}
	if w.legacyActs < 0 {
		var n int64
		if err := w.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM message_user_acts)`).Scan(&n); err != nil {
			return nil, fmt.Errorf("read message_user_acts: %w", err)
		}
		w.legacyActs = int8(n)
	}
	if w.legacyActs == 0 {
		return held, nil
	}
	err = w.probe(ctx, probeLegacyActs, msgs, func(rows *sql.Rows) error {
		var mk msgKey
		var user string
		var bits int64
		if err := rows.Scan(&mk.ch, &mk.ts, &user, &bits); err != nil {
			return err
		}
		if h := held[mk]; h != nil {
			h.users[user] |= analytics.ActBits(bits)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read message_user_acts: %w", err)
	}
	return held, nil
}

// appendActPair appends one (user, bits) pair to a run.
func appendActPair(run []byte, user string, bits analytics.ActBits) []byte {
	return append(appendLenString(run, user), byte(bits))
}

// errActRun is a run that does not parse: the store is damaged.
var errActRun = errors.New("malformed message_act_runs row")

// eachActPair calls fn with every pair of run, in order.
func eachActPair(run []byte, fn func(user []byte, bits analytics.ActBits)) error {
	for len(run) > 0 {
		user, rest, ok := cutLenString(run)
		if !ok || len(user) == 0 || len(rest) == 0 {
			return errActRun
		}
		fn(user, analytics.ActBits(rest[0]))
		run = rest[1:]
	}
	return nil
}

// actGroup keys a message's department or team counts.
type actGroup struct {
	kind uint8
	name string
}

// actTotals is a message's counters summed over runs (and legacy rows).
type actTotals struct {
	analytics.MessageCounts
	groups map[actGroup]*backchannel.ActivityCounts
}

// encodeCounts appends a run's counts: c, then the groups.
func encodeCounts(b []byte, c *analytics.MessageCounts, groups []analytics.ActGroup, gc []backchannel.ActivityCounts) []byte {
	for _, v := range [...]int64{c.Views, c.Reactions, c.Shares, c.Clicks, c.Desktop, c.Mobile, c.Web} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	for i, g := range groups {
		b = appendLenString(append(b, g.Kind), g.Name)
		for _, v := range [...]int64{gc[i].Views, gc[i].Reactions, gc[i].Shares, gc[i].Clicks} {
			b = binary.AppendUvarint(b, uint64(v))
		}
	}
	return b
}

// addCounts adds a run's counts to t.
func (t *actTotals) addCounts(b []byte) error {
	var v [7]uint64
	read := func(n int) bool {
		for i := range n {
			x, k := binary.Uvarint(b)
			if k <= 0 {
				return false
			}
			v[i], b = x, b[k:]
		}
		return true
	}
	if !read(7) {
		return errActRun
	}
	c := &t.MessageCounts
	for i, p := range [...]*int64{&c.Views, &c.Reactions, &c.Shares, &c.Clicks, &c.Desktop, &c.Mobile, &c.Web} {
		*p += int64(v[i])
	}
	for len(b) > 0 {
		kind := b[0]
		name, rest, ok := cutLenString(b[1:])
		if (kind != analytics.GroupDepartment && kind != analytics.GroupTeam) || !ok {
			return errActRun
		}
		g := actGroup{kind, string(name)}
		b = rest
		if !read(4) {
			return errActRun
		}
		t.addGroup(g, backchannel.ActivityCounts{Views: int64(v[0]), Reactions: int64(v[1]), Shares: int64(v[2]), Clicks: int64(v[3])})
	}
	return nil
}

func (t *actTotals) addGroup(g actGroup, c backchannel.ActivityCounts) {
	if t.groups == nil {
		t.groups = make(map[actGroup]*backchannel.ActivityCounts)
	}
	s := t.groups[g]
	if s == nil {
		s = &backchannel.ActivityCounts{}
		t.groups[g] = s
	}
	s.Views, s.Reactions, s.Shares, s.Clicks = s.Views+c.Views, s.Reactions+c.Reactions, s.Shares+c.Shares, s.Clicks+c.Clicks
}

// sortedGroups lists t's groups by kind, then name.
func (t *actTotals) sortedGroups() ([]analytics.ActGroup, []backchannel.ActivityCounts) {
	keys := slices.SortedFunc(maps.Keys(t.groups), func(a, b actGroup) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.name, b.name))
	})
	gs := make([]analytics.ActGroup, len(keys))
	cs := make([]backchannel.ActivityCounts, len(keys))
	for i, k := range keys {
		gs[i], cs[i] = analytics.ActGroup{Kind: k.kind, Name: k.name}, *t.groups[k]
	}
	return gs, cs
}

// mergeCounts sums runs' counts into the counts of one run.
func mergeCounts(runs [][]byte) ([]byte, error) {
	var t actTotals
	for _, r := range runs {
		if err := t.addCounts(r); err != nil {
			return nil, err
		}
	}
	gs, cs := t.sortedGroups()
	return encodeCounts(nil, &t.MessageCounts, gs, cs), nil
}
