package postgres

import (
	"sync"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/pagecache"
)

// cache is an in-process read cache that stays exact while other processes
// write to the same database.
//
// Exactness comes from the versions table. Every write bumps, in its own
// transaction, the version of each channel it touched ('c:' || id), of the
// directory or of the tokens. A read first fetches the current version of
// what it needs (an indexed SELECT, which concurrent reads share: see
// versionReader) and is served from memory only if the entry was stored
// under that very version. A miss reads
// the data after the version, so an entry is never tagged newer than its
// data: a write that commits in between only makes the entry unservable.
// Since a write is acknowledged only after its COMMIT, any read that starts
// later sees the bumped version, whichever process wrote.
//
// History pages are the only unbounded part and live in a byte-capped LRU.
type cache struct {
	mu sync.Mutex

	channels map[string]cached[backchannel.Channel]
	members  map[[2]string]cached[bool]
	users    map[string]cached[backchannel.User]
	tokens   map[string]cached[backchannel.Token]
	maxVis   map[string]cached[backchannel.TS] // channel → newest visible ts (0: none)
	stars    map[[2]string]cached[map[backchannel.TS]bool]

	pages *pagecache.Cache[pageKey, page]
}

type cached[T any] struct {
	ver int64
	val T
	err error // a not-found *backchannel.Error is cached too
}

// pageKey identifies a history page. openHi marks a page computed with Hi at
// or after the channel's newest visible message: the Slack layer sends
// Hi = now, which differs on every request, yet every such Hi selects the
// same messages until the channel changes (which bumps its version).
type pageKey struct {
	channel   string
	lo, hi    backchannel.TS // hi is 0 when openHi
	openHi    bool
	limit     int
	ascending bool
}

// page is a history page as cached: bodies without is_starred, with their ts
// so that the caller's stars can be patched in.
type page struct {
	ts     []backchannel.TS
	bodies [][]byte
	next   backchannel.TS
}

func newCache(maxBytes int64) *cache {
	return &cache{
		channels: make(map[string]cached[backchannel.Channel]),
		members:  make(map[[2]string]cached[bool]),
		users:    make(map[string]cached[backchannel.User]),
		tokens:   make(map[string]cached[backchannel.Token]),
		maxVis:   make(map[string]cached[backchannel.TS]),
		stars:    make(map[[2]string]cached[map[backchannel.TS]bool]),
		pages:    pagecache.New[pageKey](maxBytes, pageSize),
	}
}

// Version keys.
const (
	verDirectory = "directory"
	verTokens    = "tokens"
)

func chanKey(id string) string { return "c:" + id }

// lookup and store are the generic halves of every cached read.
func lookup[K comparable, T any](c *cache, m map[K]cached[T], k K, ver int64) (T, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := m[k]
	if !ok || e.ver != ver {
		var zero T
		return zero, nil, false
	}
	return e.val, e.err, true
}

func store[K comparable, T any](c *cache, m map[K]cached[T], k K, ver int64, val T, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := m[k]; ok && e.ver > ver {
		return // a concurrent reader stored a newer one
	}
	m[k] = cached[T]{ver: ver, val: val, err: err}
}

// pageSize is a page's approximate cost in the cache.
func pageSize(p page) int64 {
	size := int64(64 + len(p.ts)*40)
	for _, b := range p.bodies {
		size += int64(len(b))
	}
	return size
}
