package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel"
)

// Group commit bounds: a group is one transaction, one fsync. Big enough to
// amortise the fsync under load, small enough to keep latency bounded.
const (
	maxGroupReqs   = 64
	maxGroupEvents = 20000
)

var errClosed = errors.New("sqlite: store is closed")

// foreignPoll is how often an idle writer looks for commits of other
// processes (checkForeignWrites).
const foreignPoll = time.Second

// writeReq is one unit of work for the writer: a batch of events or a
// function (tokens, migrations). A failing request rolls back alone (see
// commitGroup).
type writeReq struct {
	ctx    context.Context
	events []backchannel.Event
	prep   *prepared // with events: see prepare
	fn     func(context.Context, *writer) error
	alone  bool // fn runs in a transaction of its own (see execAlone)

	res     backchannel.ApplyResult
	err     error
	touched touched
	done    chan struct{}
}

// touched records what a request changed, for cache invalidation after the
// commit.
type touched struct {
	channels  map[string]struct{}
	activity  map[string]struct{} // channels with new views, clicks or shares
	directory bool                // enterprise, teams or users
	tokens    bool
}

func (t *touched) act(id string) {
	if t.activity == nil {
		t.activity = make(map[string]struct{})
	}
	t.activity[id] = struct{}{}
}

func (t *touched) channel(id string) {
	if t.channels == nil {
		t.channels = make(map[string]struct{})
	}
	t.channels[id] = struct{}{}
}

// writer owns the single writer connection; only writeLoop uses it.
type writer struct {
	db    *DB
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	// vstmts finds multi-row statements without building their text.
	vstmts map[valuesKey]*sql.Stmt
	seq    int64 // last event seq handed out; -1 until read from the log
	// legacyKeys: which events' slots from before migrations 0008 and 0012
	// are in event_keys (bits movedActivity, movedOthers); -1 until read.
	legacyKeys int8
	// legacyActs: whether message_user_acts holds bits from before
	// migration 0013 (actruns.go); -1 until read.
	legacyActs int8
	writerState
	dir *dirCache // the rules' directory context (rollup.go)
	// What member_days rows are known to hold (memberflags.go).
	flags *flagCache
	// The distinct users of the channel-days it met (distinct.go).
	distinct *distinctCache
	// dataVersion is SQLite's data_version as of the writer's last look:
	// it changes when another connection — another process — commits.
	dataVersion int64
}

// exec runs fn through the writer (rolled back alone if it fails, see
// commitGroup) and waits for the commit.
func (db *DB) exec(ctx context.Context, fn func(context.Context, *writer) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	if err := db.send(ctx, r); err != nil {
		return err
	}
	<-r.done
	return r.err
}

// execAlone is exec in a transaction of its own: nothing else is written
// in it before fn runs, so connections of the read pool that begin while fn
// runs (the writer holds the write lock) see exactly what fn sees.
func (db *DB) execAlone(ctx context.Context, fn func(context.Context, *writer) error) error {
	r := &writeReq{ctx: ctx, fn: fn, alone: true, done: make(chan struct{})}
	if err := db.send(ctx, r); err != nil {
		return err
	}
	<-r.done
	return r.err
}

// send queues r. Once queued, a request is always answered: callers wait on
// r.done even if their context ends, because the write may already be
// committing and Apply promises to return only after the outcome is known.
func (db *DB) send(ctx context.Context, r *writeReq) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return errClosed
	}
	select {
	case db.reqs <- r:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sqlite: queue write: %w", ctx.Err())
	}
}

func (db *DB) writeLoop(ctx context.Context) {
	defer db.wg.Done()
	w := &writer{db: db, stmts: make(map[string]*sql.Stmt), vstmts: make(map[valuesKey]*sql.Stmt), seq: -1, legacyKeys: -1, legacyActs: -1,
		writerState: writerState{known: make(map[string]bool), marks: make(map[string]backchannel.TS)}, dir: db.dir, flags: newFlagCache(), distinct: newDistinctCache()}
	defer w.close()
	// Committed groups are answered by the syncer once the WAL is on disk,
	// while the writer goes on with the next group (see syncLoop).
	committed := make(chan []*writeReq, 64)
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		db.syncLoop(committed)
	}()
	defer func() {
		close(committed)
		<-syncDone
	}()
	// An idle writer still looks for other processes' writes, so that the
	// read cache does not serve what they replaced for long.
	idle := time.NewTicker(foreignPoll)
	defer idle.Stop()
	var next *writeReq // a request met while gathering a group it cannot join
	for {
		r := next
		if next = nil; r == nil {
			select {
			case r1, ok := <-db.reqs:
				if !ok {
					return
				}
				r = r1
			case <-idle.C:
				if w.conn != nil {
					if err := w.checkForeignWrites(ctx); err != nil && ctx.Err() == nil {
						db.log.Error("sqlite: look for other writers", "err", err)
					}
				}
				continue
			}
		}
		idle.Reset(foreignPoll)
		group := []*writeReq{r}
		n := len(r.events)
	drain:
		for !r.alone && len(group) < maxGroupReqs && n < maxGroupEvents {
			select {
			case r2, ok := <-db.reqs:
				if !ok {
					break drain // closed: commit this group, then the loop ends
				}
				if r2.alone {
					next = r2
					break drain
				}
				group = append(group, r2)
				n += len(r2.events)
			default:
				break drain
			}
		}
		if w.commitGroup(ctx, group) {
			committed <- group
		} else {
			answer(group)
		}
	}
}

func answer(group []*writeReq) {
	for _, r := range group {
		close(r.done)
	}
}

func (w *writer) close() {
	for _, s := range w.stmts {
		s.Close()
	}
	if w.conn != nil {
		w.conn.Close()
	}
}

// stmt returns a prepared statement for query on the writer connection,
// preparing it on first use (lazily, since tables appear only after Migrate).
func (w *writer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := w.stmts[query]; ok {
		return s, nil
	}
	s, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	w.stmts[query] = s
	return s, nil
}

// queryRow runs a one-row query through a statement prepared once per
// writer connection (one per duplicate event otherwise, in resolve).
func (w *writer) queryRow(ctx context.Context, query string, args ...any) *rowOrErr {
	s, err := w.stmt(ctx, query)
	if err != nil {
		return &rowOrErr{err: err}
	}
	return &rowOrErr{row: s.QueryRowContext(ctx, args...)}
}

// rowOrErr is a *sql.Row or the error of preparing its statement.
type rowOrErr struct {
	row *sql.Row
	err error
}

func (r *rowOrErr) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

// commitGroup runs every request of the group in one transaction and
// commits once. It reports whether the group committed; if so, it is
// answered once the commit is durable (syncLoop), else at once. The cache is
// invalidated after the COMMIT and before any answer, so no reader that
// starts after an acknowledged write can be served data older than it.
func (w *writer) commitGroup(ctx context.Context, group []*writeReq) (committed bool) {
	if w.conn == nil {
		conn, err := w.db.wdb.Conn(ctx)
		if err != nil {
			failAll(group, fmt.Errorf("sqlite: writer connection: %w", err))
			return false
		}
		w.conn = conn
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		failAll(group, fmt.Errorf("sqlite: begin: %w", err))
		return false
	}
	if err := w.checkForeignWrites(ctx); err != nil {
		w.rollback(ctx, group, w.seq, err)
		return false
	}
	seq0 := w.seq
	// First without savepoints: SQLite then keeps no sub-journal of every
	// page the group touches (about a tenth of the cost of a big batch). If
	// a request fails, the transaction is rolled back and, unless the request
	// was alone, the group runs again with a savepoint per request so that
	// the failure rolls back alone.
	var failed *writeReq
	for _, r := range group {
		if r.err = r.ctx.Err(); r.err == nil {
			if r.err = w.run(r); r.err != nil {
				failed = r
				break
			}
		}
	}
	if failed != nil && len(group) == 1 {
		w.rollback(ctx, group, seq0, failed.err)
		return false
	}
	if failed != nil {
		if err := w.restart(ctx, seq0); err != nil {
			w.rollback(ctx, group, seq0, err)
			return false
		}
		for _, r := range group {
			r.err, r.res, r.touched = nil, backchannel.ApplyResult{}, touched{}
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			if err := w.runSavepoint(r); err != nil {
				// The transaction is in an unknown state: give it up entirely.
				w.rollback(ctx, group, seq0, err)
				return false
			}
		}
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		w.rollback(ctx, group, seq0, fmt.Errorf("sqlite: commit: %w", err))
		return false
	}
	w.commitCaches()
	w.db.walChanged()
	for _, r := range group {
		if r.err == nil {
			w.db.cache.invalidate(&r.touched)
			// Every channel a successful batch touched exists (validate).
			for ch := range r.touched.channels {
				w.known[ch] = true
			}
		}
	}
	return true
}

// checkForeignWrites drops what the writer and the read cache know when
// another process committed to the database since the writer last looked
// (say `backchannel import` or `token create` beside `serve`): the log's last
// seq, the channels' marks and every cached read. Inside BEGIN IMMEDIATE
// nobody else can commit until the writer does, so what is read afterwards
// is current.
func (w *writer) checkForeignWrites(ctx context.Context) error {
	var v int64
	if err := w.queryRow(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return fmt.Errorf("sqlite: data_version: %w", err)
	}
	foreign := w.dataVersion != 0 && v != w.dataVersion
	if foreign {
		w.seq, w.legacyKeys, w.legacyActs = -1, -1, -1
		clear(w.marks)
		w.db.cache.invalidateAll()
	}
	if foreign || w.cachesPending() { // the latter: a transaction whose end went unseen
		w.resetCaches()
	}
	w.dir.begin(foreign) // also: the previous transaction has ended
	w.dataVersion = v
	return nil
}

// restart rolls the transaction back and begins a new one.
func (w *writer) restart(ctx context.Context, seq0 int64) error {
	w.undoCaches(cachesMark{})
	if _, err := w.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		return fmt.Errorf("sqlite: rollback: %w", err)
	}
	w.seq = seq0
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	return nil
}

// runSavepoint runs r inside SAVEPOINT; r's own failure is recorded in r.err
// and rolled back; an error is returned only if the savepoint itself broke.
func (w *writer) runSavepoint(r *writeReq) error {
	ctx := context.WithoutCancel(r.ctx) // once started, finish: the group depends on it
	if _, err := w.conn.ExecContext(ctx, "SAVEPOINT req"); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	seq, caches := w.seq, w.markCaches()
	r.err = w.run(r)
	if r.err != nil {
		w.seq = seq
		w.undoCaches(caches)
		r.touched = touched{}
		if _, err := w.conn.ExecContext(ctx, "ROLLBACK TO req"); err != nil {
			return fmt.Errorf("sqlite: rollback to savepoint: %w", err)
		}
	}
	if _, err := w.conn.ExecContext(ctx, "RELEASE req"); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}

// run runs r's work in the current transaction.
func (w *writer) run(r *writeReq) error {
	ctx := context.WithoutCancel(r.ctx) // once started, finish: the group depends on it
	var err error
	if r.fn != nil {
		err = r.fn(ctx, w)
	} else {
		r.res, err = w.apply(ctx, r.events, r.prep, &r.touched)
	}
	if err != nil {
		r.touched = touched{}
	}
	return err
}

func (w *writer) rollback(ctx context.Context, group []*writeReq, seq0 int64, err error) {
	w.undoCaches(cachesMark{})
	if _, rerr := w.conn.ExecContext(ctx, "ROLLBACK"); rerr != nil {
		w.resetCaches()
		w.db.log.Error("sqlite: rollback failed", "err", rerr)
		// Start over with a fresh connection rather than reuse a broken one.
		w.close()
		w.conn, w.stmts, w.vstmts = nil, make(map[string]*sql.Stmt), make(map[valuesKey]*sql.Stmt)
	}
	w.seq = seq0
	failAll(group, err)
}

func failAll(group []*writeReq, err error) {
	for _, r := range group {
		r.err = err
		r.res = backchannel.ApplyResult{}
	}
}
