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
//     parent, reaction or pin of the channel is stored above it. A message
//     newer than its channel's mark has no row, no replies, no reactions and
//     no pins in the database, so there is nothing to read for it. A mark is
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
	coalesce((SELECT max(ts) FROM reactions WHERE channel_id = ?1), 0),
	coalesce((SELECT max(ts) FROM pins WHERE channel_id = ?1), 0))`

// loadMarks snapshots the marks of the channels of the batch's new message
// events (loading those not known yet) into b.marks.
func (b *batch) loadMarks(ctx context.Context, events []backchannel.Event) error {
	w := b.w
	b.marks = make(map[string]backchannel.TS)
	for i := range events {
		ev := &events[i]
		if b.seq[i] == 0 || !isMessageEvent(ev.Type) {
			continue
		}
		if _, ok := b.marks[ev.ChannelID]; ok {
			continue
		}
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
		b.marks[ev.ChannelID] = m
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

// inDB reports whether k may have a row, replies, reactions or pins stored
// before this batch. Channels without a snapshot may.
func (b *batch) inDB(k msgKey) bool {
	m, ok := b.marks[k.ch]
	return !ok || k.ts <= m
}

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
