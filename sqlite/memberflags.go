package sqlite

import "github.com/backchannel/backchannel/analytics"

// flagCache is what the writer knows of member_days flags, so that a
// member-day row whose batch only sets flags it already holds is not
// written at all: after a few events a user's flags for the day are all
// set, and most rows of a day's later batches would be upserts that change
// nothing (views, client_active, apps and workflows set only flags).
//
// Every entry is a lower bound of the flags the row holds in the current
// transaction: flags only grow (the upsert ORs them), so a bound noted when
// a row was written stays one until the row is deleted. Only two things
// delete member_days rows: a rebuild (which resets the cache first) and a
// migration (reset); another process may do either, and its commit resets
// the cache (checkForeignWrites). What a transaction noted is undone if it
// rolls back, and what a request noted inside a savepoint if the request
// fails (mark, undoTo).
type flagCache struct {
	known map[analytics.MemberKey]analytics.Flags
	undo  []flagUndo // what the current transaction changed, oldest first
	gen   int        // bumped by reset: marks of before it undo everything
}

type flagUndo struct {
	k   analytics.MemberKey
	was analytics.Flags // 0: no entry
}

// flagCacheMax bounds the entries kept (about 40 bytes each): past it, the
// cache starts over when a transaction commits.
const flagCacheMax = 1 << 19

func newFlagCache() *flagCache {
	return &flagCache{known: map[analytics.MemberKey]analytics.Flags{}}
}

// holds reports whether k's row is known to hold every flag of f. It is
// false for no flags: writing such a row may create it.
func (c *flagCache) holds(k analytics.MemberKey, f analytics.Flags) bool {
	return f != 0 && c.known[k]&f == f
}

// note records that k's row holds f once the current statement succeeds.
func (c *flagCache) note(k analytics.MemberKey, f analytics.Flags) {
	was := c.known[k]
	if was|f == was {
		return
	}
	c.undo = append(c.undo, flagUndo{k, was})
	c.known[k] = was | f
}

// mark is a point that undoTo can return to.
func (c *flagCache) mark() undoMark { return undoMark{c.gen, len(c.undo)} }

// pending reports whether a transaction noted something and has not ended.
func (c *flagCache) pending() bool { return len(c.undo) > 0 }

// undoTo forgets what was noted since mark m (its statements rolled back).
func (c *flagCache) undoTo(m undoMark) {
	n := m.since(c.gen)
	for i := len(c.undo) - 1; i >= n; i-- {
		u := c.undo[i]
		if u.was == 0 {
			delete(c.known, u.k)
		} else {
			c.known[u.k] = u.was
		}
	}
	c.undo = c.undo[:n]
}

// commit keeps what the transaction noted.
func (c *flagCache) commit() {
	c.undo = c.undo[:0]
	if len(c.known) > flagCacheMax {
		c.reset()
	}
}

// reset forgets everything.
func (c *flagCache) reset() {
	clear(c.known)
	c.undo = c.undo[:0]
	c.gen++
}

// undoMark is a point of a transaction cache's undo log (flagCache,
// distinctCache) that its undoTo returns to; the zero mark is the start
// of the transaction. gen is the cache's count of resets when the mark was
// taken: after a reset since, everything the log holds is newer than the
// mark.
type undoMark struct{ gen, n int }

// since is how much of the undo log of a cache at generation gen is older
// than m.
func (m undoMark) since(gen int) int {
	if m.gen != gen {
		return 0
	}
	return m.n
}

// The writer's transaction caches, kept together: what the database
// holds of member-day flags and of channel-days' distinct users.

// cachesMark is a point of both that undoCaches returns to; the zero
// value is the start of the transaction.
type cachesMark struct{ flags, distinct undoMark }

func (w *writer) markCaches() cachesMark {
	return cachesMark{w.flags.mark(), w.distinct.mark()}
}

// undoCaches forgets what the statements since m did (they rolled back).
func (w *writer) undoCaches(m cachesMark) {
	w.flags.undoTo(m.flags)
	w.distinct.undoTo(m.distinct)
}

// commitCaches keeps what the transaction did.
func (w *writer) commitCaches() {
	w.flags.commit()
	w.distinct.commit()
}

// resetCaches forgets everything (the rows may have changed under them).
func (w *writer) resetCaches() {
	w.flags.reset()
	w.distinct.reset()
}

// cachesPending reports whether a transaction changed them and has not
// ended.
func (w *writer) cachesPending() bool { return w.flags.pending() || w.distinct.pending() }
