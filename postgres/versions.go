package postgres

import (
	"context"
	"fmt"
	"sync"
)

// versionReader answers the cache's version reads, sending the reads of
// concurrent callers together as one query: at most one query is in flight,
// and callers that arrive meanwhile join the next round, sent as soon as the
// one in flight returns. Under load a round serves dozens of reads in one
// round trip, instead of one round trip (and one pooled connection) each.
//
// Exactness is unchanged: a caller is answered only by a query sent after it
// arrived (it either starts a round or joins one not yet sent), so it sees
// every write committed — and so every write acknowledged, by any process —
// before its read began.
type versionReader struct {
	db *DB

	mu       sync.Mutex
	next     *versionRound // the round being gathered, not yet sent
	inFlight bool
}

// versionRound is one query's keys and, once done is closed, its results.
type versionRound struct {
	keys []string
	seen map[string]bool
	done chan struct{}
	vals map[string]int64
	err  error
}

// version returns the current version of key (0 if never written).
func (db *DB) version(ctx context.Context, key string) (int64, error) {
	vr := &db.versions
	vr.mu.Lock()
	r := vr.next
	if r == nil {
		r = &versionRound{seen: make(map[string]bool), done: make(chan struct{})}
		vr.next = r
	}
	if !r.seen[key] {
		r.seen[key] = true
		r.keys = append(r.keys, key)
	}
	lead := !vr.inFlight
	if lead {
		vr.inFlight, vr.next = true, nil
	}
	vr.mu.Unlock()
	if lead {
		// The round serves other callers too: one caller's cancellation
		// must not fail theirs.
		vr.run(context.WithoutCancel(ctx), r)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return 0, fmt.Errorf("postgres: version of %s: %w", key, ctx.Err())
	}
	if r.err != nil {
		return 0, fmt.Errorf("postgres: version of %s: %w", key, r.err)
	}
	return r.vals[key], nil
}

// run sends r and then, while callers gathered meanwhile, their rounds,
// each on a new goroutine so that no caller serves others for long.
func (vr *versionReader) run(ctx context.Context, r *versionRound) {
	r.vals, r.err = vr.read(ctx, r.keys)
	close(r.done)
	vr.mu.Lock()
	next := vr.next
	vr.next = nil
	vr.inFlight = next != nil
	vr.mu.Unlock()
	if next != nil {
		go vr.run(ctx, next)
	}
}

func (vr *versionReader) read(ctx context.Context, keys []string) (map[string]int64, error) {
	vals := make(map[string]int64, len(keys))
	if len(keys) == 1 {
		var v int64
		err := vr.db.pool.QueryRow(ctx, `SELECT coalesce(max(v), 0) FROM versions WHERE key = $1`, keys[0]).Scan(&v)
		vals[keys[0]] = v
		return vals, err
	}
	rows, err := vr.db.pool.Query(ctx, `SELECT key, v FROM versions WHERE key = ANY($1)`, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		vals[k] = v
	}
	return vals, rows.Err()
}
