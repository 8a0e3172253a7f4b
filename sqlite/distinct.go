package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

// The distinct users of channel-days (members_who_viewed_count and
// members_who_posted_count): a batch bumps a channel-day's Viewers or
// Posters only for the (kind, user) pairs the day does not hold yet.
//
// They are logged in channel_day_user_runs (migration 0011): each batch
// appends, per day, one row holding the pairs that were new, packed by
// channel. A B-tree keyed by (day, channel, kind, user) — the
// channel_day_users of 0002, whose rows 0011 packed into runs — puts a
// batch's new pairs on as many pages as it has channels: with 5,000
// channels, about half of every batch's page writes. A run is a few pages.
//
// Whether a pair is new is decided in memory: the writer holds the sets of
// the days it met (distinctCache), read from the runs the first time a
// transaction needs a day. Like member-day flags (memberflags.go), a set is
// exact for the current transaction: what a transaction adds is undone if
// it rolls back, and a request's additions if its savepoint does; a day
// read inside a transaction or savepoint that rolls back is dropped too
// (it may have seen writes that are gone). Rebuilds, migrations and
// another process's commits drop everything.

// distinctCache is the writer's copy of the distinct sets of the days it
// holds. Ids are interned: a pair is one uint64 (key).
type distinctCache struct {
	days  map[backchannel.Day]*daySet
	chans map[string]uint32
	users map[string]uint32
	undo  []distinctUndo // what the current transaction changed, oldest first
	gen   int            // bumped by reset: marks of before it undo everything
	size  int            // pairs held, over every day
	clock uint64         // for dropping the least recently used days
}

type daySet struct {
	has  u64set
	used uint64
}

// distinctUndo is one change of a transaction: a pair added to day, or
// (loaded) the day read.
type distinctUndo struct {
	day    backchannel.Day
	key    uint64
	loaded bool
}

// distinctMax bounds the pairs held (about 16 bytes each) once a
// transaction commits: past it, the least recently used days are dropped,
// but never the last one used (a day alone past the bound stays).
const distinctMax = 1 << 23

// Interned ids: a key packs kind (1 bit), channel (31) and user (32).
const (
	maxInternedChans = 1 << 31
	maxInternedUsers = 1 << 32
)

func newDistinctCache() *distinctCache {
	return &distinctCache{days: map[backchannel.Day]*daySet{}, chans: map[string]uint32{}, users: map[string]uint32{}}
}

// intern returns s's id, from 1 (so that no key is 0). A new id's string
// is a copy: s may share memory with a run or a request.
func intern[S ~string | ~[]byte](m map[string]uint32, s S) uint32 {
	if id, ok := m[string(s)]; ok {
		return id
	}
	id := uint32(len(m) + 1)
	m[strings.Clone(string(s))] = id
	return id
}

// key packs a pair: kind (1 bit), channel (31) and user (32).
func key(kind uint8, ch, user uint32) uint64 {
	return uint64(kind-1)<<63 | uint64(ch)<<32 | uint64(user)
}

// set returns day d's set, reading it (through q, in the current
// transaction) if the cache does not hold it.
func (c *distinctCache) set(ctx context.Context, q *sql.Conn, d backchannel.Day) (*daySet, error) {
	c.clock++
	if s := c.days[d]; s != nil {
		s.used = c.clock
		return s, nil
	}
	s := &daySet{used: c.clock}
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(sum(n), 0) FROM channel_day_user_runs WHERE day = ?`, int64(d)).Scan(&n); err != nil {
		return nil, fmt.Errorf("count distinct users of day %s: %w", d, err)
	}
	s.has.reserve(int(n))
	var last []byte
	var chID uint32
	err := eachDistinct(ctx, q, d, d, func(_ backchannel.Day, ch []byte, kind uint8, user []byte) error {
		if kind != analytics.Viewed && kind != analytics.Posted {
			return fmt.Errorf("distinct users of day %s: kind %d", d, kind)
		}
		if chID == 0 || string(ch) != string(last) {
			chID, last = intern(c.chans, ch), append(last[:0], ch...)
		}
		s.has.add(key(kind, chID, intern(c.users, user)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.days[d] = s
	c.size += s.has.len()
	c.undo = append(c.undo, distinctUndo{day: d, loaded: true})
	return s, nil
}

// add adds a pair to s (day d's set) and reports whether it was new.
func (c *distinctCache) add(s *daySet, d backchannel.Day, ch string, kind uint8, user string) bool {
	k := key(kind, intern(c.chans, ch), intern(c.users, user))
	if !s.has.add(k) {
		return false
	}
	c.size++
	c.undo = append(c.undo, distinctUndo{day: d, key: k})
	return true
}

func (c *distinctCache) mark() undoMark { return undoMark{c.gen, len(c.undo)} }

// undoTo forgets what was added and read since m (its statements rolled
// back).
func (c *distinctCache) undoTo(m undoMark) {
	n := m.since(c.gen)
	for i := len(c.undo) - 1; i >= n; i-- {
		u := c.undo[i]
		s := c.days[u.day]
		if s == nil {
			continue
		}
		if u.loaded {
			c.size -= s.has.len()
			delete(c.days, u.day)
			continue
		}
		s.has.remove(u.key)
		c.size--
	}
	c.undo = c.undo[:n]
}

// pending reports whether a transaction changed the cache and has not
// ended.
func (c *distinctCache) pending() bool { return len(c.undo) > 0 }

// commit keeps what the transaction did, and drops the least recently
// used days past distinctMax.
func (c *distinctCache) commit() {
	c.undo = c.undo[:0]
	if len(c.chans) >= maxInternedChans/2 || len(c.users) >= maxInternedUsers/2 {
		c.reset()
		c.chans, c.users = map[string]uint32{}, map[string]uint32{}
		return
	}
	for c.size > distinctMax && len(c.days) > 1 {
		var old backchannel.Day
		var oldest uint64 = 1<<64 - 1
		for d, s := range c.days {
			if s.used < oldest {
				old, oldest = d, s.used
			}
		}
		c.size -= c.days[old].has.len()
		delete(c.days, old)
	}
}

// reset forgets every day (ids stay interned).
func (c *distinctCache) reset() {
	clear(c.days)
	c.size = 0
	c.undo = c.undo[:0]
	c.gen++
}

// eachDistinct calls fn for every stored pair of the days from..to, in log
// order. The bytes it passes are valid only during the call.
func eachDistinct(ctx context.Context, q querier, from, to backchannel.Day, fn func(d backchannel.Day, ch []byte, kind uint8, user []byte) error) error {
	err := each(ctx, q, `SELECT day, users FROM channel_day_user_runs WHERE day BETWEEN ? AND ? ORDER BY day, id`,
		[]any{int64(from), int64(to)}, func(rows *sql.Rows) error {
			var d int64
			var run sql.RawBytes
			if err := rows.Scan(&d, &run); err != nil {
				return err
			}
			return decodeDistinct(run, func(ch []byte, kind uint8, user []byte) error {
				return fn(backchannel.Day(d), ch, kind, user)
			})
		})
	if err != nil {
		return fmt.Errorf("read distinct user runs: %w", err)
	}
	return nil
}

// A run packs its pairs by channel: for each channel, uvarint length and
// bytes of its id, then for each of its pairs the kind (1 or 2) and the
// user id (uvarint length, bytes), then a 0 byte.

func appendDistinctChannel(run []byte, ch string) []byte { return appendLenString(run, ch) }

func appendDistinctUser(run []byte, kind uint8, user string) []byte {
	return appendLenString(append(run, kind), user)
}

func endDistinctChannel(run []byte) []byte { return append(run, 0) }

var errBadRun = errors.New("malformed distinct-user run")

// decodeDistinct calls fn for every pair of run, with slices of run.
func decodeDistinct(run []byte, fn func(ch []byte, kind uint8, user []byte) error) error {
	for len(run) > 0 {
		var ch []byte
		var ok bool
		if ch, run, ok = cutLenString(run); !ok {
			return errBadRun
		}
		for {
			if len(run) == 0 {
				return errBadRun
			}
			kind := run[0]
			run = run[1:]
			if kind == 0 {
				break
			}
			var user []byte
			if user, run, ok = cutLenString(run); !ok {
				return errBadRun
			}
			if err := fn(ch, kind, user); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeDistinct decides which of the batch's distinct pairs are new, bumps
// Viewers or Posters for those, and logs them: one run per day.
func (w *writer) writeDistinct(ctx context.Context, agg *analytics.Batch) error {
	ks := agg.SortedDistinct() // by day, channel, kind, user
	var run []byte
	ch, pairs := "", 0
	flush := func(d backchannel.Day) error {
		if len(run) == 0 {
			return nil
		}
		run = endDistinctChannel(run)
		s, err := w.stmt(ctx, `INSERT INTO channel_day_user_runs (day, n, users) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		if _, err := s.ExecContext(ctx, int64(d), pairs, run); err != nil {
			return fmt.Errorf("analytics: distinct users: %w", err)
		}
		run, ch, pairs = run[:0], "", 0
		return nil
	}
	for i := 0; i < len(ks); {
		d := ks[i].Day
		set, err := w.distinct.set(ctx, w.conn, d)
		if err != nil {
			return fmt.Errorf("analytics: %w", err)
		}
		for ; i < len(ks) && ks[i].Day == d; i++ {
			k := &ks[i]
			if !w.distinct.add(set, d, k.Channel, k.Kind, k.User) {
				continue
			}
			c := agg.Channel(d, k.Channel)
			if k.Kind == analytics.Viewed {
				c.Viewers++
			} else {
				c.Posters++
			}
			if len(run) == 0 || k.Channel != ch {
				if len(run) > 0 {
					run = endDistinctChannel(run)
				}
				run, ch = appendDistinctChannel(run, k.Channel), k.Channel
			}
			run = appendDistinctUser(run, k.Kind, k.User)
			pairs++
		}
		if err := flush(d); err != nil {
			return err
		}
	}
	return nil
}

// dumpDistinct lists every stored pair as DumpRollups does, in key order.
func dumpDistinct(ctx context.Context, q querier) ([]string, error) {
	type pair struct {
		d        backchannel.Day
		ch, user string
		kind     uint8
	}
	var ps []pair
	err := eachDistinct(ctx, q, backchannel.Day(math.MinInt32), backchannel.Day(math.MaxInt32), func(d backchannel.Day, ch []byte, kind uint8, user []byte) error {
		ps = append(ps, pair{d, string(ch), string(user), kind})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ps, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.ch, b.ch), cmp.Compare(a.kind, b.kind), cmp.Compare(a.user, b.user))
	})
	out := make([]string, 0, len(ps))
	for i, p := range ps {
		if i > 0 && p == ps[i-1] {
			return nil, fmt.Errorf("distinct pair %v stored twice", p)
		}
		out = append(out, fmt.Sprintf("[distinct %s %d %d %s]", p.ch, p.d, p.kind, p.user))
	}
	return out, nil
}
