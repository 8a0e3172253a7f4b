package sqlite

import (
	"sync"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/pagecache"
)

// cache is an exact read cache in front of SQLite: a history page costs
// ~130µs in SQLite and a few hundred nanoseconds here.
//
// Exactness comes from versions. Every channel has a version, and the
// directory (enterprise, teams, users) and tokens have one each. A reader
// notes the version before it reads from the database and stores its result
// tagged with that version; an entry is served only while its version is
// current. The writer bumps the versions of everything a request touched
// after the COMMIT and before it answers Apply, so once a write is
// acknowledged no entry older than it can be served. A reader that raced the
// commit tags its result with the old version, so at worst the entry is
// never served.
//
// History pages are the only unbounded part and live in a byte-capped LRU.
// The rest (one record per channel, user, membership and token) is as large
// as the directory itself.
type cache struct {
	mu       sync.Mutex
	chanVer  map[string]uint64
	dirVer   uint64
	tokenVer uint64
	// epoch is added to every version: invalidateAll bumps it when another
	// process wrote to the database, which makes every entry stale at once.
	epoch uint64

	channels map[string]cached[backchannel.Channel]
	members  map[[2]string]cached[bool]
	users    map[string]cached[backchannel.User]
	tokens   map[string]cached[backchannel.Token]
	maxVis   map[string]cached[backchannel.TS] // channel → newest visible ts (0: none)
	stars    map[[2]string]cached[map[backchannel.TS]bool]

	actVer   map[string]uint64 // per channel, bumped by views, clicks and shares
	actPages map[actKey]actEntry

	pages *pagecache.Cache[pageKey, page]
}

type cached[T any] struct {
	ver uint64
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
		chanVer:  make(map[string]uint64),
		channels: make(map[string]cached[backchannel.Channel]),
		members:  make(map[[2]string]cached[bool]),
		users:    make(map[string]cached[backchannel.User]),
		tokens:   make(map[string]cached[backchannel.Token]),
		maxVis:   make(map[string]cached[backchannel.TS]),
		stars:    make(map[[2]string]cached[map[backchannel.TS]bool]),
		actVer:   make(map[string]uint64),
		actPages: make(map[actKey]actEntry),
		pages:    pagecache.New[pageKey](maxBytes, pageSize),
	}
}

// invalidate bumps the versions of everything t touched. Stale entries are
// dropped here too, so memory does not hold data nobody can be served.
func (c *cache) invalidate(t *touched) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range t.channels {
		c.chanVer[ch]++
		delete(c.channels, ch)
		delete(c.maxVis, ch)
	}
	for ch := range t.activity {
		c.actVer[ch]++
	}
	if t.directory {
		c.dirVer++
		clear(c.users)
	}
	if t.tokens {
		c.tokenVer++
		clear(c.tokens)
	}
}

// invalidateAll makes every entry stale: another process wrote to the
// database (see writer.checkForeignWrites), so nothing cached is known good.
func (c *cache) invalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.channels)
	clear(c.maxVis)
	clear(c.users)
	clear(c.tokens)
	clear(c.members)
	clear(c.stars)
	clear(c.actPages)
}

// chanV and actV are a channel's versions (c.mu held).
func (c *cache) chanV(ch string) uint64 { return c.chanVer[ch] + c.epoch }
func (c *cache) actV(ch string) uint64  { return c.actVer[ch] + c.epoch }

func (c *cache) channelVersion(ch string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chanV(ch)
}

func (c *cache) versions() (dir, tok uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dirVer + c.epoch, c.tokenVer + c.epoch
}

// lookup and store are the generic halves of every cached read.
func lookup[K comparable, T any](c *cache, m map[K]cached[T], k K, ver func() uint64) (T, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := m[k]
	if !ok || e.ver != ver() {
		var zero T
		return zero, nil, false
	}
	return e.val, e.err, true
}

func store[K comparable, T any](c *cache, m map[K]cached[T], k K, ver uint64, cur func() uint64, val T, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ver == cur() { // else the read raced a write: do not keep it
		m[k] = cached[T]{ver: ver, val: val, err: err}
	}
}

// pageSize is a page's approximate cost in the cache.
func pageSize(p page) int64 {
	size := int64(64 + len(p.ts)*40)
	for _, b := range p.bodies {
		size += int64(len(b))
	}
	return size
}
