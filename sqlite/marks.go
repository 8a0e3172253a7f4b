package sqlite

import (
	"context"
	"fmt"

	"github.com/backchannel/backchannel"
)

// What the writer knows between batches, so that a batch of new messages
// needs no lookups at all. Both are exact or on the safe side:
//
//   - known holds channels that exist in committed state. Channels are never
//     deleted, so an entry never goes stale; entries are added only after
//     the COMMIT that made them true (see commitGroup).
//   - marks holds, per channel, a high-water mark: no message row, reply
//     parent or pin of the channel is stored above it. A message newer than
//     its channel's mark has no row, no replies and no pins in the
//     database, so there is nothing to read for it. (Reactions may be
//     stored above it, ahead of their message: the writer never reads them,
//     since a body is rendered without them and history adds them; see
//     migration 0015.) A mark is
//     loaded from the database on first use and raised by every batch; a
//     batch that rolls back leaves it too high, which only costs a lookup.
type writerState struct {
	known map[string]bool
	marks map[string]backchannel.TS
}

const loadMark = `SELECT max(
	coalesce((SELECT max(ts) FROM messages WHERE channel_id = ?1), 0),
	coalesce((SELECT max(parent_ts) FROM messages INDEXED BY messages_replies
		WHERE channel_id = ?1 AND parent_ts IS NOT NULL), 0),
	coalesce((SELECT max(ts) FROM pins WHERE channel_id = ?1), 0))`

// What a batch may find stored for a (channel, ts), by kind.
const (
	kindRow   = iota // a messages row at ts
	kindReply        // a reply whose parent_ts is ts
	kindPin          // a pin at ts
	kinds
)

// snap is what the batch knows of a channel before it writes: nothing is
// stored above mark, and where none[kind], nothing of that kind is stored
// in [lo, hi] either. The range covers the batch's own keys at or below the
// mark, so streams interleaved in one channel (several senders, an import
// next to live traffic) cost one probe per channel instead of a lookup per
// message.
type snap struct {
	mark   backchannel.TS
	lo, hi backchannel.TS
	none   [kinds]bool
}

const probeRange = `SELECT
	NOT EXISTS (SELECT 1 FROM messages WHERE channel_id = ?1 AND ts BETWEEN ?2 AND ?3),
	NOT EXISTS (SELECT 1 FROM messages INDEXED BY messages_replies
		WHERE channel_id = ?1 AND parent_ts BETWEEN ?2 AND ?3 AND parent_ts IS NOT NULL),
	NOT EXISTS (SELECT 1 FROM pins WHERE channel_id = ?1 AND ts BETWEEN ?2 AND ?3)`

// loadMarks snapshots the channels of the batch's new message events
// (loading marks not known yet) into b.snaps.
func (b *batch) loadMarks(ctx context.Context, events []backchannel.Event) error {
	w := b.w
	b.snaps = make(map[string]*snap)
	for i := range events {
		ev := &events[i]
		if b.seq[i] == 0 || !isMessageEvent(ev.Type) {
			continue
		}
		sn := b.snaps[ev.ChannelID]
		if sn == nil {
			m, ok := w.marks[ev.ChannelID]
			if !ok {
				s, err := w.stmt(ctx, loadMark)
				if err != nil {
					return err
				}
				if err := s.QueryRowContext(ctx, ev.ChannelID).Scan(&m); err != nil {
					return fmt.Errorf("load mark of %s: %w", ev.ChannelID, err)
				}
				w.marks[ev.ChannelID] = m
			}
			sn = &snap{mark: m, lo: backchannel.MaxTS}
			b.snaps[ev.ChannelID] = sn
		}
		for _, ts := range [2]backchannel.TS{ev.TS, ev.ThreadTS} {
			if ts != 0 && ts <= sn.mark {
				sn.lo, sn.hi = min(sn.lo, ts), max(sn.hi, ts)
			}
		}
	}
	for ch, sn := range b.snaps {
		if sn.lo > sn.hi {
			continue
		}
		s, err := w.stmt(ctx, probeRange)
		if err != nil {
			return err
		}
		n := &sn.none
		if err := s.QueryRowContext(ctx, ch, int64(sn.lo), int64(sn.hi)).Scan(&n[0], &n[1], &n[2]); err != nil {
			return fmt.Errorf("probe %s: %w", ch, err)
		}
	}
	return nil
}

// raiseMarks raises the marks of the channels of the batch's new events past
// every (channel, ts) the batch may have stored.
func (b *batch) raiseMarks(events []backchannel.Event) {
	for i := range events {
		ev := &events[i]
		if b.seq[i] == 0 || !isMessageEvent(ev.Type) {
			continue
		}
		m, ok := b.w.marks[ev.ChannelID]
		if !ok {
			continue // loaded from the database when next needed
		}
		b.w.marks[ev.ChannelID] = max(m, ev.TS, ev.ThreadTS)
	}
}

// mayHave reports whether something of kind may be stored for k from before
// this batch. Channels without a snapshot may have anything.
func (b *batch) mayHave(k msgKey, kind int) bool {
	sn, ok := b.snaps[k.ch]
	switch {
	case !ok:
		return true
	case k.ts > sn.mark:
		return false
	case sn.lo <= k.ts && k.ts <= sn.hi && sn.none[kind]:
		return false
	}
	return true
}

// stored filters keys down to those that may have something of kind stored
// (or that are in also: written by this batch).
func (b *batch) stored(keys []msgKey, kind int, also map[msgKey]bool) []msgKey {
	var out []msgKey
	for _, k := range keys {
		if b.mayHave(k, kind) || also[k] {
			out = append(out, k)
		}
	}
	return out
}
