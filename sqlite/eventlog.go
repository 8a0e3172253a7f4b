package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/backchannel/backchannel"
)

// slotOf is where a key starts probing in event_keys: its first 8 bytes.
func slotOf(k *[32]byte) int64 { return int64(binary.BigEndian.Uint64(k[:8])) }

// logEvents appends the batch's new events to the log and marks the
// duplicates (b.seq[i] == 0): an event whose key is earlier in the batch or
// already in the log.
//
// Each distinct event first claims its slot in event_keys with a multi-row
// INSERT … ON CONFLICT DO NOTHING. When every row of a chunk went in (the
// rule: new events), that is all. Otherwise the chunk's slots are read back
// and each event that did not get its slot is resolved exactly (resolve).
func (b *batch) logEvents(ctx context.Context, events []backchannel.Event, p *prepared) error {
	w := b.w
	if w.seq < 0 {
		if err := w.conn.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&w.seq); err != nil {
			return fmt.Errorf("read last event seq: %w", err)
		}
	}
	b.seq = make([]int64, len(events))
	base := w.seq
	idx := p.idx // event index of seq base+1+j
	w.seq += int64(len(idx))
	keyOf := func(seq int64) ([]byte, error) {
		if seq > base && seq <= base+int64(len(idx)) {
			return events[idx[seq-base-1]].Key[:], nil
		}
		var k []byte
		if err := w.conn.QueryRowContext(ctx, `SELECT key FROM events WHERE seq = ?`, seq).Scan(&k); err != nil {
			return nil, fmt.Errorf("event %d of slot: %w", seq, err)
		}
		return k, nil
	}

	args := make([]any, 0, 1+chunkRows)
	for lo, k := 0, 0; lo < len(idx); lo += k {
		k = chunkLen(len(idx) - lo)
		chunk := idx[lo : lo+k]
		args = append(append(args[:0], base+int64(lo)+1), p.slots[lo:lo+k]...) // seq of the chunk's first row, slots
		n, err := w.execValues(ctx, `INSERT INTO event_keys (seq, slot)`, `(@+#,?)`, `ON CONFLICT (slot) DO NOTHING`, 1, len(chunk), args)
		if err != nil {
			return fmt.Errorf("claim event keys: %w", err)
		}
		if int(n) == len(chunk) {
			for j, i := range chunk {
				b.seq[i] = base + int64(lo+j) + 1
			}
			continue
		}
		if err := b.resolveChunk(ctx, events, chunk, base+int64(lo), keyOf); err != nil {
			return err
		}
	}
	return b.appendLog(ctx, base, p)
}

// appendLog inserts the new events into the log, in runs of consecutive seqs
// (new events consecutive in p.idx) so that seq is computed rather than bound.
func (b *batch) appendLog(ctx context.Context, base int64, p *prepared) error {
	args := make([]any, 0, 1+chunkRows*5)
	for j := 0; j < len(p.idx); {
		if b.seq[p.idx[j]] == 0 {
			j++
			continue
		}
		end := j + 1
		for end < len(p.idx) && b.seq[p.idx[end]] != 0 {
			end++
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

// resolveChunk handles a chunk in which some events did not get their slot:
// those whose slot holds their own seq are new; the others are resolved one
// by one.
func (b *batch) resolveChunk(ctx context.Context, events []backchannel.Event, chunk []int, seq0 int64, keyOf func(int64) ([]byte, error)) error {
	w := b.w
	held := make(map[int64]int64, len(chunk))
	args := make([]any, len(chunk))
	for j, i := range chunk {
		args[j] = slotOf(&events[i].Key)
	}
	q := `SELECT slot, seq FROM event_keys WHERE slot IN (?` + strings.Repeat(`,?`, len(chunk)-1) + `)`
	s, err := w.stmt(ctx, q)
	if err != nil {
		return err
	}
	err = scanAll(ctx, s, args, func(rows *sql.Rows) error {
		var slot, seq int64
		err := rows.Scan(&slot, &seq)
		held[slot] = seq
		return err
	})
	if err != nil {
		return fmt.Errorf("read event keys: %w", err)
	}
	for j, i := range chunk {
		seq := seq0 + int64(j) + 1
		if held[args[j].(int64)] == seq {
			b.seq[i] = seq
			continue
		}
		dup, err := b.resolve(ctx, &events[i].Key, seq, keyOf)
		if err != nil {
			return err
		}
		if !dup {
			b.seq[i] = seq
		}
	}
	return nil
}

// resolve probes from key's slot: a slot holding the same key means a
// duplicate; one holding another key (a 64-bit collision) sends it on to the
// next slot; the first free slot is claimed for seq.
func (b *batch) resolve(ctx context.Context, key *[32]byte, seq int64, keyOf func(int64) ([]byte, error)) (dup bool, err error) {
	w := b.w
	for slot := slotOf(key); ; slot++ { // wraps around: slots are any int64
		var held sql.NullInt64
		err := w.conn.QueryRowContext(ctx, `SELECT seq FROM event_keys WHERE slot = ?`, slot).Scan(&held)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := w.conn.ExecContext(ctx, `INSERT INTO event_keys (slot, seq) VALUES (?, ?)`, slot, seq); err != nil {
				return false, fmt.Errorf("claim event key: %w", err)
			}
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read event key: %w", err)
		}
		if !held.Valid {
			return false, fmt.Errorf("event key slot %d without an event", slot)
		}
		k, err := keyOf(held.Int64)
		if err != nil {
			return false, err
		}
		if bytes.Equal(k, key[:]) {
			return true, nil
		}
	}
}
