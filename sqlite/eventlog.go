package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/backchannel/backchannel"
)

// keySlot is where a key starts probing in event_keys: its first 8 bytes.
func keySlot(k *[32]byte) int64 { return int64(binary.BigEndian.Uint64(k[:8])) }

// slotOf is where ev starts probing in event_keys. An event without
// event_id that has an event_ts starts in the region of its event_ts
// (timeBucket): its key is the hash of its line, which holds event_ts, so a
// replay starts in the same place. Every other event starts at keySlot.
func slotOf(ev *backchannel.Event) int64 {
	if byTime(ev) {
		return int64(ev.EventTS)>>timeBucket<<slotHashBits | keySlot(&ev.Key)&(1<<slotHashBits-1)
	}
	return keySlot(&ev.Key)
}

// byTime reports whether ev's slot starts in the region of its event_ts:
// since migration 0008 for activity events, since 0012 for the others.
// (A `message` without event_id claims no slot: see settleMessages.)
func byTime(ev *backchannel.Event) bool {
	return ev.ID == "" && ev.EventTS > 0 && ev.Type != backchannel.EvMessage
}

// Which events' slots moved to their event_ts region in a migration,
// bits of writer.legacyKeys: a database upgraded with such slots in
// event_keys also looks for each new such event at its old slot.
const (
	movedActivity = 1 << iota // 0008: activity events
	movedOthers               // 0012: every other type
)

// movedIn is the migration bit of a byTime event.
func movedIn(ev *backchannel.Event) int8 {
	if backchannel.IsActivity(ev.Type) {
		return movedActivity
	}
	return movedOthers
}

const (
	timeBucket   = 30 // event_ts (µs) >> 30: regions of ~18 minutes
	slotHashBits = 40
)

// claimKeys gives every distinct event of the batch its seq and marks the
// duplicates (b.seq[i] == 0) among those deduplicated through event_keys: an
// event whose key is earlier in the batch or already in the log. `message`
// events without event_id (p.byRow) are settled later, through their rows
// (settleMessages); until then they hold their provisional seq.
//
// Each event first claims its slot in event_keys with a multi-row
// INSERT … ON CONFLICT DO NOTHING. When every row of a chunk went in (the
// rule: new events), that is all. Otherwise the chunk's slots are read back
// and each event that did not get its slot is resolved exactly (resolve).
func (b *batch) claimKeys(ctx context.Context, events []backchannel.Event, p *prepared) error {
	w := b.w
	if w.seq < 0 {
		var err error
		if w.seq, err = w.lastSeq(ctx); err != nil {
			return fmt.Errorf("read last event seq: %w", err)
		}
	}
	b.seq = make([]int64, len(events))
	b.events, b.p, b.base = events, p, w.seq
	base, idx := w.seq, p.idx
	w.seq += int64(len(idx))
	for j, i := range idx {
		if p.byRow[j] {
			b.seq[i] = base + int64(j) + 1
		}
	}

	skip, err := b.legacyDuplicates(ctx, events, p)
	if err != nil {
		return err
	}
	// The entries that claim a slot, in chunks of up to chunkRows rows that
	// bind (seq, slot): the `message` events between them (one in ten of a
	// stream of activity) claim none, so chunks of consecutive seqs would be
	// a few rows each, one statement per handful of events.
	claim := make([]int, 0, len(idx))
	for j := range idx {
		if !skip[j] {
			claim = append(claim, j)
		}
	}
	args := make([]any, 0, 2*min(len(claim), chunkRows))
	for len(claim) > 0 {
		chunk := claim[:chunkLen(len(claim))]
		claim = claim[len(chunk):]
		args = args[:0]
		for _, j := range chunk {
			args = append(args, base+int64(j)+1, p.slots[j])
		}
		n, err := w.execValues(ctx, `INSERT INTO event_keys (seq, slot)`, `(?,?)`, `ON CONFLICT (slot) DO NOTHING`, 0, len(chunk), args)
		if err != nil {
			return fmt.Errorf("claim event keys: %w", err)
		}
		if int(n) == len(chunk) {
			for _, j := range chunk {
				b.seq[idx[j]] = base + int64(j) + 1
			}
			continue
		}
		if err := b.resolveChunk(ctx, events, chunk); err != nil {
			return err
		}
	}
	return nil
}

// legacyDuplicates returns which entries of p.idx claim no slot: the
// `message` events settled through their rows (p.byRow) and, in a database
// whose event_keys still holds slots from before migration 0008 (activity
// events) or 0012 (other events without event_id), the events of those
// found there: replays of lines logged before the upgrade. Each such event
// is looked for at its old slot, read only.
func (b *batch) legacyDuplicates(ctx context.Context, events []backchannel.Event, p *prepared) ([]bool, error) {
	w := b.w
	if w.legacyKeys < 0 {
		var a, o int64
		if err := w.queryRow(ctx, `SELECT (SELECT count(*) FROM event_keys_legacy), (SELECT count(*) FROM event_keys_moved)`).Scan(&a, &o); err != nil {
			return nil, fmt.Errorf("read event_keys_legacy: %w", err)
		}
		w.legacyKeys = 0
		if a > 0 {
			w.legacyKeys |= movedActivity
		}
		if o > 0 {
			w.legacyKeys |= movedOthers
		}
	}
	if w.legacyKeys == 0 {
		return p.byRow, nil
	}
	var moved []int // entries whose slot moved in 0008 or 0012 after some were claimed
	for j, i := range p.idx {
		if ev := &events[i]; byTime(ev) && w.legacyKeys&movedIn(ev) != 0 {
			moved = append(moved, j)
		}
	}
	if len(moved) == 0 {
		return p.byRow, nil
	}
	skip := slices.Clone(p.byRow)
	for lo := 0; lo < len(moved); lo += chunkRows {
		chunk := moved[lo:min(lo+chunkRows, len(moved))]
		args := make([]any, len(chunk))
		for k, j := range chunk {
			args[k] = keySlot(&events[p.idx[j]].Key)
		}
		held := make(map[int64]bool, len(chunk))
		s, err := w.stmt(ctx, `SELECT slot FROM event_keys WHERE slot IN (?`+strings.Repeat(`,?`, len(chunk)-1)+`)`)
		if err != nil {
			return nil, err
		}
		err = scanAll(ctx, s, args, func(rows *sql.Rows) error {
			var slot int64
			err := rows.Scan(&slot)
			held[slot] = true
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("read event keys: %w", err)
		}
		for k, j := range chunk {
			if slot := args[k].(int64); held[slot] { // else not logged before the upgrade
				if skip[j], _, err = b.findKey(ctx, &events[p.idx[j]].Key, slot); err != nil {
					return nil, err
				}
			}
		}
	}
	return skip, nil
}

// keyOf returns the key of the event logged (or about to be logged by this
// batch) as seq.
func (b *batch) keyOf(ctx context.Context, seq int64) ([]byte, error) {
	if seq > b.base && seq <= b.base+int64(len(b.p.idx)) {
		return b.events[b.p.idx[seq-b.base-1]].Key[:], nil
	}
	for _, r := range b.runKeys {
		if seq >= r.first && seq < r.first+int64(len(r.keys)/32) {
			i := (seq - r.first) * 32
			return r.keys[i : i+32], nil
		}
	}
	var k []byte
	err := b.w.queryRow(ctx, `SELECT key FROM events WHERE seq = ?`, seq).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		// In a run: its keys are read whole, once per batch, since a replay
		// meets the run's other events next.
		var r runKeys
		err = b.w.queryRow(ctx, `SELECT first_seq, keys FROM event_runs
			WHERE first_seq = (SELECT max(first_seq) FROM event_runs WHERE first_seq <= ?1) AND ?1 < first_seq + n`, seq).Scan(&r.first, &r.keys)
		if err == nil {
			if i := (seq - r.first) * 32; i+32 <= int64(len(r.keys)) {
				if len(b.runKeys) == maxRunKeys {
					b.runKeys = b.runKeys[:0]
				}
				b.runKeys = append(b.runKeys, r)
				return r.keys[i : i+32], nil
			}
			err = fmt.Errorf("its run at seq %d holds %d keys", r.first, len(r.keys)/32)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("event %d of slot: %w", seq, err)
	}
	return k, nil
}

// runKeys are the keys of an event_runs row, the first at seq first.
type runKeys struct {
	first int64
	keys  []byte
}

// maxRunKeys bounds the runs a batch keeps the keys of (128 KiB each at
// most).
const maxRunKeys = 16

// lastSeq is the log's last seq (0 when empty).
func (w *writer) lastSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := w.conn.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(seq) FROM events), 0),
		coalesce((SELECT first_seq + n - 1 FROM event_runs ORDER BY first_seq DESC LIMIT 1), 0))`).Scan(&seq)
	return seq, err
}

// settleMessages decides, in batch order, the `message` events without
// event_id, which claimed no slot. Such an event's key is stored with the
// row it writes (messages.holder: its seq and key) instead of in
// event_keys, since an identical line names the same (channel, ts). So:
//
//   - the row's holder has the same key: a duplicate;
//   - no message was stored at (channel, ts) before the batch: new (its key
//     cannot be in event_keys), with no lookup — the common case, a new
//     message, costs nothing here;
//   - else the key may be in event_keys (a line replaced earlier, or stored
//     before holders existed): resolved there, exactly.
//
// A new message event replaces the row (last write wins), so the key of
// the row's previous holder moves into event_keys first: a line sent again
// after being replaced (A, B, A) is still a duplicate.
func (b *batch) settleMessages(ctx context.Context) error {
	for j, i := range b.p.idx {
		ev := &b.events[i]
		if ev.Type != backchannel.EvMessage || b.seq[i] == 0 {
			continue
		}
		r := b.row(msgKey{ev.ChannelID, ev.TS})
		if b.p.byRow[j] && r.keySeq != 0 && bytes.Equal(r.holder, ev.Key[:]) {
			b.seq[i] = 0
			continue
		}
		slotted := !b.p.byRow[j] // its key is in event_keys already
		if !slotted && r.inDB && r.present {
			dup, err := b.resolve(ctx, &ev.Key, keySlot(&ev.Key), b.seq[i])
			if err != nil {
				return err
			}
			if dup {
				b.seq[i] = 0
				continue
			}
			slotted = true // new: resolve gave it a slot
		}
		if r.keySeq != 0 {
			if err := b.release(ctx, r); err != nil {
				return err
			}
		}
		if !slotted {
			r.keySeq, r.holder, r.dirty = b.seq[i], ev.Key[:], true
		}
	}
	return nil
}

// release moves the key of r's holder into event_keys.
func (b *batch) release(ctx context.Context, r *msgRow) error {
	var key [32]byte
	copy(key[:], r.holder)
	dup, err := b.resolve(ctx, &key, keySlot(&key), r.keySeq)
	if err != nil {
		return err
	}
	if dup {
		return fmt.Errorf("message %s/%s: the key of event %d is both in event_keys and its row", r.key.ch, r.key.ts, r.keySeq)
	}
	r.keySeq, r.holder, r.dirty = 0, nil, true
	return nil
}

// runTypes are the event types logged in event_runs (every type), by code:
// a run's types column holds a line's code in one byte (NULL: all 0). The
// codes are stored: append only, never reorder.
var runTypes = [...]string{backchannel.EvMessage, backchannel.EvMessageViewed, backchannel.EvMessageClicked,
	backchannel.EvMessageShared, backchannel.EvClientActive, backchannel.EvFileAdded, backchannel.EvSearch,
	backchannel.EvAppUsed, backchannel.EvWorkflowUsed, backchannel.EvCall,
	backchannel.EvReactionAdded, backchannel.EvReactionRemoved, backchannel.EvMessageChanged, backchannel.EvMessageDeleted,
	backchannel.EvPinAdded, backchannel.EvPinRemoved, backchannel.EvStarAdded, backchannel.EvStarRemoved,
	backchannel.EvMemberJoined, backchannel.EvMemberLeft, backchannel.EvEnterprise, backchannel.EvTeam,
	backchannel.EvUser, backchannel.EvChannel}

// runType is typ's code in event_runs, and whether it has one.
func runType(typ string) (byte, bool) {
	c, ok := runCodes[typ]
	return c, ok
}

var runCodes = func() map[string]byte {
	m := make(map[string]byte, len(runTypes))
	for i, t := range runTypes {
		m[t] = byte(i)
	}
	return m
}()

// Bounds of one event_runs row: a rebuild reads a run whole.
const (
	maxRunEvents = 4096
	maxRunBytes  = 1 << 20
)

// appendLog logs the new events, in runs of consecutive seqs (new events
// consecutive in p.idx): events of the runTypes (p.inRun: all) as rows of
// event_runs, a row per stretch of them, and any other event as a row of
// events, its seq computed rather than bound.
func (b *batch) appendLog(ctx context.Context) error {
	base, p := b.base, b.p
	args := make([]any, 0, 1+chunkRows*5)
	for j := 0; j < len(p.idx); {
		if b.seq[p.idx[j]] == 0 {
			j++
			continue
		}
		end := j + 1
		for end < len(p.idx) && b.seq[p.idx[end]] != 0 && p.inRun[end] == p.inRun[j] {
			end++
		}
		if p.inRun[j] {
			if err := b.appendRuns(ctx, j, end); err != nil {
				return err
			}
			j = end
			continue
		}
		for j < end {
			k := chunkLen(end - j)
			args = append(append(args[:0], base+int64(j)+1), p.logRows[j*5:(j+k)*5]...)
			if _, err := b.w.execValues(ctx, `INSERT INTO events (seq, key, type, event_ts, ingested_at, raw)`, `(@+#,?,?,?,?,?)`, ``, 1, k, args); err != nil {
				return fmt.Errorf("log events: %w", err)
			}
			j += k
		}
	}
	return nil
}

// appendRuns logs the idx entries j..end-1, all inRun and new, as rows of
// event_runs of at most maxRunEvents events and about maxRunBytes.
func (b *batch) appendRuns(ctx context.Context, j, end int) error {
	p := b.p
	for j < end {
		first := p.runPos[j]
		k := 1
		for j+k < end && k < maxRunEvents && p.runOff[first+int32(k)]-p.runOff[first] < maxRunBytes {
			k++
		}
		last := first + int32(k)
		var types any // NULL: only messages
		if slices.ContainsFunc(p.runTypes[first:last], func(c byte) bool { return c != 0 }) {
			types = p.runTypes[first:last]
		}
		if err := b.execOne(ctx, `INSERT INTO event_runs (first_seq, n, ingested_at, keys, raw, types) VALUES (?, ?, ?, ?, ?, ?)`,
			b.base+int64(j)+1, k, p.now, p.runKeys[32*first:32*last], p.runRaw[p.runOff[first]:p.runOff[last]], types); err != nil {
			return fmt.Errorf("log events in runs: %w", err)
		}
		j += k
	}
	return nil
}

// resolveChunk handles a chunk of entries of b.p.idx in which some events
// did not get their slot: those whose slot holds their own seq are new; the
// others are resolved one by one.
func (b *batch) resolveChunk(ctx context.Context, events []backchannel.Event, chunk []int) error {
	w := b.w
	type holder struct {
		seq int64
		key []byte // nil: an event of this batch, not logged yet
	}
	held := make(map[int64]holder, len(chunk))
	args := make([]any, len(chunk))
	for k, j := range chunk {
		args[k] = b.p.slots[j]
	}
	// The holders' keys come along, so that a duplicate (a replay: every
	// event of a chunk) is settled here instead of by two lookups each.
	q := `SELECT k.slot, k.seq, e.key FROM event_keys AS k LEFT JOIN events AS e ON e.seq = k.seq
		WHERE k.slot IN (?` + strings.Repeat(`,?`, len(chunk)-1) + `)`
	s, err := w.stmt(ctx, q)
	if err != nil {
		return err
	}
	err = scanAll(ctx, s, args, func(rows *sql.Rows) error {
		var slot int64
		var h holder
		err := rows.Scan(&slot, &h.seq, &h.key)
		held[slot] = h
		return err
	})
	if err != nil {
		return fmt.Errorf("read event keys: %w", err)
	}
	for k, j := range chunk {
		i, seq := b.p.idx[j], b.base+int64(j)+1
		h := held[args[k].(int64)]
		if h.seq == seq {
			b.seq[i] = seq
			continue
		}
		if h.key == nil && h.seq != 0 {
			if h.key, err = b.keyOf(ctx, h.seq); err != nil {
				return err
			}
		}
		if bytes.Equal(h.key, events[i].Key[:]) {
			continue // a duplicate: its slot holds its key
		}
		dup, err := b.resolve(ctx, &events[i].Key, args[k].(int64), seq)
		if err != nil {
			return err
		}
		if !dup {
			b.seq[i] = seq
		}
	}
	return nil
}

// resolve probes from start, the key's slot: a slot holding the same key
// means a duplicate; one holding another key (a collision of the slots'
// bits) sends it on to the next slot; the first free slot is claimed for
// seq.
func (b *batch) resolve(ctx context.Context, key *[32]byte, start, seq int64) (dup bool, err error) {
	dup, free, err := b.findKey(ctx, key, start)
	if err != nil || dup {
		return dup, err
	}
	if err := b.execOne(ctx, `INSERT INTO event_keys (slot, seq) VALUES (?, ?)`, free, seq); err != nil {
		return false, fmt.Errorf("claim event key: %w", err)
	}
	return false, nil
}

// findKey probes event_keys from start without claiming: whether key is
// logged (or earlier in this batch), else the first free slot on the way.
func (b *batch) findKey(ctx context.Context, key *[32]byte, start int64) (dup bool, free int64, err error) {
	for slot := start; ; slot++ { // wraps around: slots are any int64
		var held sql.NullInt64
		err := b.w.queryRow(ctx, `SELECT seq FROM event_keys WHERE slot = ?`, slot).Scan(&held)
		if errors.Is(err, sql.ErrNoRows) {
			return false, slot, nil
		}
		if err != nil {
			return false, 0, fmt.Errorf("read event key: %w", err)
		}
		if !held.Valid {
			return false, 0, fmt.Errorf("event key slot %d without an event", slot)
		}
		k, err := b.keyOf(ctx, held.Int64)
		if err != nil {
			return false, 0, err
		}
		if bytes.Equal(k, key[:]) {
			return true, 0, nil
		}
	}
}

// eachLogged calls fn with the raw line of every logged event whose type
// is one of types, in seq order: the rows of events merged with the lines
// of event_runs (messages and activity: runTypes), which are read only when
// types holds one of theirs.
func eachLogged(ctx context.Context, q querier, types []string, fn func(raw []byte) error) error {
	var want [len(runTypes)]bool
	inRuns := false
	for _, t := range types {
		if c, ok := runType(t); ok {
			want[c], inRuns = true, true
		}
	}
	list := "'" + strings.Join(types, "','") + "'"
	logged, err := q.QueryContext(ctx, `SELECT seq, raw FROM events WHERE type IN (`+list+`) ORDER BY seq`)
	if err != nil {
		return err
	}
	defer logged.Close()
	var runs *sql.Rows
	if inRuns {
		if runs, err = q.QueryContext(ctx, `SELECT first_seq, n, raw, types FROM event_runs ORDER BY first_seq`); err != nil {
			return err
		}
		defer runs.Close()
	}
	// The current run: its lines from seq on, n of them left.
	var run struct {
		seq   int64
		n     int64
		raw   []byte
		types []byte // nil: all messages
		more  bool
	}
	nextRun := func() error {
		if run.more && len(run.raw) != 0 {
			return fmt.Errorf("event run before seq %d: %d bytes after its last line", run.seq, len(run.raw))
		}
		if run.more = runs != nil && runs.Next(); !run.more {
			if runs != nil {
				return runs.Err()
			}
			return nil
		}
		if err := runs.Scan(&run.seq, &run.n, &run.raw, &run.types); err != nil {
			return err
		}
		if run.types != nil && int64(len(run.types)) != run.n {
			return fmt.Errorf("event run at seq %d: %d types for %d lines", run.seq, len(run.types), run.n)
		}
		return nil
	}
	// emitRuns sends the run lines before seq (every one when seq < 0).
	emitRuns := func(seq int64) error {
		for run.more && (seq < 0 || run.seq < seq) {
			if run.n == 0 {
				if err := nextRun(); err != nil {
					return err
				}
				continue
			}
			size, w := binary.Uvarint(run.raw)
			if w <= 0 || uint64(len(run.raw)-w) < size {
				return fmt.Errorf("event run at seq %d: a malformed line", run.seq)
			}
			var code byte
			if run.types != nil {
				code, run.types = run.types[0], run.types[1:]
			}
			if int(code) >= len(want) {
				return fmt.Errorf("event run at seq %d: unknown type code %d", run.seq, code)
			}
			if want[code] {
				if err := fn(run.raw[w : w+int(size)]); err != nil {
					return err
				}
			}
			run.raw = run.raw[w+int(size):]
			run.seq++
			run.n--
		}
		return nil
	}
	if err := nextRun(); err != nil {
		return err
	}
	for logged.Next() {
		var seq int64
		var raw []byte
		if err := logged.Scan(&seq, &raw); err != nil {
			return err
		}
		if err := emitRuns(seq); err != nil {
			return err
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	if err := logged.Err(); err != nil {
		return err
	}
	return emitRuns(-1)
}
