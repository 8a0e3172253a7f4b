package sqlite

import (
	"encoding/binary"

	"github.com/backchannel/backchannel"
)

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
	// inRun marks the idx entries logged in event_runs rather than as rows
	// of events: those of the runTypes, which is every type.
	inRun []bool
	// slots holds the event_keys slot of each idx entry, and logRows the
	// five event-log arguments of each entry not inRun (key, type,
	// event_ts, ingested_at, raw; nil for inRun entries, and no logRows at
	// all when every entry is inRun): boxed here so the writer only binds
	// them.
	slots   []any
	logRows []any
	// The inRun entries' log runs, built here so that the writer binds a
	// slice: runKeys holds their keys, runTypes their types' codes and
	// runRaw their lines (each after its length as a uvarint) in idx order;
	// the inRun entry j is the runPos[j]-th of them and its line starts at
	// runOff[runPos[j]] (runOff has one more entry: the end).
	runKeys  []byte
	runTypes []byte
	runRaw   []byte
	runPos   []int32
	runOff   []int32
	// pre is the rules' work on the batch's activity, if done here (see
	// prerollup); the writer takes it at most once.
	pre *preRollups
}

// runsOnlyMessages logs as before migration 0010: only the byRow events in
// event_runs (tests only: a log of both layouts).
var runsOnlyMessages bool

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
	p.inRun = make([]bool, len(p.idx))
	p.runPos = make([]int32, len(p.idx))
	p.runTypes = make([]byte, 0, len(p.idx))
	runs, size := 0, 0
	for j, i := range p.idx {
		ev := &events[i]
		p.slots[j] = slotOf(ev)
		p.byRow[j] = ev.Type == backchannel.EvMessage && ev.ID == ""
		code, ok := runType(ev.Type)
		p.inRun[j] = ok && (!runsOnlyMessages || p.byRow[j])
		if p.inRun[j] {
			runs++
			size += len(ev.Raw) + binary.MaxVarintLen32
			p.runTypes = append(p.runTypes, code) // in idx order, as the runs below
		}
	}
	if runs < len(p.idx) { // rows of events: none unless a type has no run code
		nowArg := any(now)
		p.logRows = make([]any, 0, 5*len(p.idx))
		for j, i := range p.idx {
			if ev := &events[i]; !p.inRun[j] {
				p.logRows = append(p.logRows, ev.Key[:], ev.Type, int64(ev.EventTS), nowArg, ev.Raw)
			} else {
				p.logRows = append(p.logRows, nil, nil, nil, nil, nil)
			}
		}
	}
	if runs == 0 {
		return p
	}
	p.runKeys = make([]byte, 0, 32*runs)
	p.runRaw = make([]byte, 0, size)
	p.runOff = make([]int32, 0, runs+1)
	for j, i := range p.idx {
		if !p.inRun[j] {
			continue
		}
		ev := &events[i]
		p.runPos[j] = int32(len(p.runOff))
		p.runOff = append(p.runOff, int32(len(p.runRaw)))
		p.runKeys = append(p.runKeys, ev.Key[:]...)
		p.runRaw = append(binary.AppendUvarint(p.runRaw, uint64(len(ev.Raw))), ev.Raw...)
	}
	p.runOff = append(p.runOff, int32(len(p.runRaw)))
	return p
}
