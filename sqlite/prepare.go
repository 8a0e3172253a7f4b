package sqlite

import "github.com/backchannel/backchannel"

// prepared is the part of a batch's work that depends on the batch alone,
// done by Apply on the caller's goroutine before the batch is queued: the
// writer is the one serial stage of ingest, so what can run on the request
// goroutines in parallel, does. It is read-only once queued (a group that
// reruns with savepoints uses it again).
type prepared struct {
	now int64 // ingested_at of the batch's events
	// idx lists the first event of each distinct key, in batch order: the
	// batch's candidates for the log; the j-th gets seq base+j+1.
	idx []int
	// byRow marks the idx entries deduplicated through their message row
	// rather than a slot of event_keys: `message` events without event_id
	// (see settleMessages).
	byRow []bool
	// slots holds the event_keys slot of each idx entry, and logRows the
	// five event-log arguments of each (key, type, event_ts, ingested_at,
	// raw): boxed here so the writer only binds them.
	slots   []any
	logRows []any
}

func prepare(events []backchannel.Event, now int64) *prepared {
	p := &prepared{now: now, idx: make([]int, 0, len(events))}
	seen := make(map[[32]byte]struct{}, len(events))
	for i := range events {
		if _, dup := seen[events[i].Key]; dup {
			continue
		}
		seen[events[i].Key] = struct{}{}
		p.idx = append(p.idx, i)
	}
	p.slots = make([]any, len(p.idx))
	p.byRow = make([]bool, len(p.idx))
	p.logRows = make([]any, 0, 5*len(p.idx))
	nowArg := any(now)
	for j, i := range p.idx {
		ev := &events[i]
		p.slots[j] = slotOf(&ev.Key)
		p.byRow[j] = ev.Type == backchannel.EvMessage && ev.ID == ""
		p.logRows = append(p.logRows, ev.Key[:], ev.Type, int64(ev.EventTS), nowArg, ev.Raw)
	}
	return p
}
