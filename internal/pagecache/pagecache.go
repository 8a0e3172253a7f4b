// Package pagecache is the stores' byte-capped LRU of read results (history
// pages), each tagged with the version of the data it was read at. Versions
// only grow: an entry is served only to a reader of the same version, and an
// entry older than a reader's version can never be served again, so it is
// dropped.
package pagecache

import (
	"container/list"
	"sync"
)

// Cache maps keys to values tagged with versions, holding at most maxBytes
// (by size) of values.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]*list.Element
	lru     *list.List // of *entry[K, V], most recent first
	bytes   int64
	max     int64
	size    func(V) int64
}

type entry[K comparable, V any] struct {
	key  K
	ver  int64
	val  V
	size int64
}

// New returns a cache of at most maxBytes; 0 or less disables it.
func New[K comparable, V any](maxBytes int64, size func(V) int64) *Cache[K, V] {
	return &Cache[K, V]{entries: make(map[K]*list.Element), lru: list.New(), max: maxBytes, size: size}
}

// Enabled reports whether the cache keeps anything.
func (c *Cache[K, V]) Enabled() bool { return c.max > 0 }

// Get returns the value stored for k at version ver.
func (c *Cache[K, V]) Get(k K, ver int64) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.entries[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[K, V])
	if e.ver != ver {
		if e.ver < ver {
			c.remove(el)
		}
		return zero, false
	}
	c.lru.MoveToFront(el)
	return e.val, true
}

// Put stores v for k at version ver, unless a newer version is stored or v
// is larger than a quarter of the cache.
func (c *Cache[K, V]) Put(k K, ver int64, v V) {
	size := c.size(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.max/4 {
		return
	}
	if el, ok := c.entries[k]; ok {
		if el.Value.(*entry[K, V]).ver > ver {
			return
		}
		c.remove(el)
	}
	c.entries[k] = c.lru.PushFront(&entry[K, V]{key: k, ver: ver, val: v, size: size})
	c.bytes += size
	for c.bytes > c.max {
		c.remove(c.lru.Back())
	}
}

func (c *Cache[K, V]) remove(el *list.Element) {
	e := el.Value.(*entry[K, V])
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.bytes -= e.size
}
