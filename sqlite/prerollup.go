package sqlite

import (
	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

// preRollups is the analytics rules run on a batch before the batch is
// queued, on the caller's goroutine: beside the writer, which is the one
// serial stage of ingest, rather than on it. The rules need each event's
// directory context, whether the event is new and, for a message, whether
// its row holds one already; prerollup takes the context from the writer's
// dirCache as it stands and assumes every event and message new, and the
// writer takes the result only if all of that still holds (take). Events
// whose context the cache lacks are left to the writer, which adds them to
// the same aggregates: the rules' aggregation is commutative within a batch
// whose directory does not change. When it covers every event, prerollup
// also sorts the aggregates' keys.
type preRollups struct {
	gen     uint64 // the dirCache's gen the context was read at
	covered []bool // per event of the batch: its rules ran here
	agg     *analytics.Batch
	act     *analytics.ActBatch
	taken   bool // the writer has it: a rerun of the batch runs the rules itself
}

// prerollup runs the rules on the first event of each key (idx) of a batch
// that it can run them on, or returns nil. A batch with directory events is
// left whole to the writer, since its context changes mid-batch.
func (c *dirCache) prerollup(events []backchannel.Event, idx []int, noActivity bool) *preRollups {
	for i := range events {
		switch events[i].Type {
		case backchannel.EvEnterprise, backchannel.EvTeam, backchannel.EvUser, backchannel.EvChannel:
			return nil
		}
	}
	// A message whose (channel, ts) comes twice is not new the second
	// time: the writer decides those.
	var msgs map[msgKey]int
	for _, i := range idx {
		if ev := &events[i]; ev.Type == backchannel.EvMessage {
			if msgs == nil {
				msgs = make(map[msgKey]int)
			}
			msgs[msgKey{ev.ChannelID, ev.TS}]++
		}
	}
	// The cache is read-locked for each lookup, not for the whole batch:
	// the writer adds entries meanwhile, and must not wait for a batch to
	// be done. A change, even in the middle, changes gen.
	c.mu.RLock()
	pr := &preRollups{gen: c.gen, covered: make([]bool, len(events)), agg: analytics.NewBatch(), act: analytics.NewActBatch()}
	c.mu.RUnlock()
	n, left := 0, 0
	for _, i := range idx {
		ev := &events[i]
		if !analytics.HasDay(ev.Type) {
			continue
		}
		c.mu.RLock()
		ci, okC := c.chans[ev.ChannelID]
		u, okU := c.users[ev.UserID]
		c.mu.RUnlock()
		isMsg := ev.Type == backchannel.EvMessage
		if !okC && ev.ChannelID != "" || !okU && ev.UserID != "" || isMsg && msgs[msgKey{ev.ChannelID, ev.TS}] > 1 {
			left++
			continue
		}
		ruleOf(pr.agg, pr.act, ev, ci, u, isMsg, noActivity)
		pr.covered[i] = true
		n++
	}
	if n == 0 {
		return nil
	}
	if left == 0 { // the writer adds nothing: its sorts can be done here
		pr.agg.Presort()
		pr.act.Keys()
	}
	return pr
}

// ruleOf applies the rules to one new event in its context: the one place
// both the writer (rollup) and prerollup do.
func ruleOf(agg *analytics.Batch, act *analytics.ActBatch, ev *backchannel.Event, ci chanInfo, u userInfo, newMessage, noActivity bool) {
	f := analytics.FactOf(ev)
	c := analytics.Context{ChannelKind: ci.kind, Shared: ci.shared, ActorBot: u.bot, NewMessage: newMessage}
	agg.Add(&f, &c)
	if !noActivity {
		act.Add(analytics.ActKey{ActMessage: analytics.ActMessage{Channel: ev.ChannelID, TS: ev.TS}, User: ev.UserID},
			analytics.ActBitsOf(&f, &c), u.Person)
	}
}

// take returns the prerollup of a batch if it holds for the writer now:
// the directory context it read has not changed since (gen), every event
// it ran the rules on is new (seq) and no message it ran them on is stored
// (the batch's rows, as loaded). Else, or if taken before, nil.
func (pr *preRollups) take(c *dirCache, events []backchannel.Event, seq []int64, rows map[msgKey]*msgRow) *preRollups {
	if pr == nil || pr.taken || pr.gen != c.gen {
		return nil
	}
	for i, cov := range pr.covered {
		if !cov {
			continue
		}
		if seq[i] == 0 {
			return nil
		}
		if ev := &events[i]; ev.Type == backchannel.EvMessage {
			if r := rows[msgKey{ev.ChannelID, ev.TS}]; r != nil && r.present {
				return nil
			}
		}
	}
	pr.taken = true
	return pr
}
