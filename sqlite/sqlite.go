// Package sqlite is the embedded default store: one SQLite file in WAL mode,
// one writer goroutine that group-commits batches, a read pool, and an exact
// in-process read cache in front of the hot read paths.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/migrations"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var (
	_ backchannel.Store    = (*DB)(nil)
	_ backchannel.Migrator = (*DB)(nil)
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the SQLite store. Writes go through one goroutine (see writer.go);
// reads use a separate pool of query-only connections.
type DB struct {
	path  string
	now   func() time.Time
	log   *slog.Logger
	cache *cache
	dir   *dirCache // the writer's directory context, read by prerollup too

	wdb *sql.DB // the one writer connection
	rdb *sql.DB // read pool, query_only
	cdb *sql.DB // the checkpointer's connection

	reqs   chan *writeReq
	cancel context.CancelFunc
	wg     sync.WaitGroup // the writer
	walSig chan struct{}  // a commit grew the WAL (see checkpoint.go)
	bg     sync.WaitGroup // the checkpointer

	stmtMu    sync.Mutex
	rstmts    map[string]*sql.Stmt // read pool statements, see readStmt
	readConns int                  // the read pool's size

	// noActivity skips the messages.activity counters (benchmarks only:
	// the cost they add to ingest; see export_test.go).
	noActivity bool
	// noPrerollup leaves every rule to the writer (tests only).
	noPrerollup bool

	closeOnce sync.Once
	closeErr  error
	mu        sync.RWMutex // guards closed against Apply racing Close
	closed    bool
}

// Option configures Open.
type Option func(*options)

type options struct {
	now        func() time.Time
	log        *slog.Logger
	cacheBytes int64
	readConns  int
}

// WithClock sets the clock used for ingest times and token timestamps.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger for background failures.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithCacheBytes caps the read cache's history pages (approximate bytes of
// message bodies). 0 disables the page cache, e.g. to measure SQLite itself.
func WithCacheBytes(n int64) Option { return func(o *options) { o.cacheBytes = n } }

// WithReadConns sets the size of the read pool.
func WithReadConns(n int) Option { return func(o *options) { o.readConns = n } }

// Open opens or creates the database file at path. It does not migrate:
// call Migrate (or check SchemaVersion) before using the store.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	o := options{now: time.Now, log: slog.Default(), cacheBytes: 64 << 20, readConns: 4}
	for _, f := range opts {
		f(&o)
	}
	if path == "" || strings.HasPrefix(path, ":memory:") {
		// A pool of :memory: connections would be several different databases.
		return nil, fmt.Errorf("sqlite: open: a file path is required")
	}
	// An acknowledged batch survives power loss, not only a crash of the
	// process: the writer commits with synchronous=NORMAL and Apply answers
	// only after the WAL file is synced (durable.go), which lets the writer
	// apply the next group during the sync instead of waiting for it.
	base := []string{"busy_timeout(10000)", "foreign_keys(0)", "cache_size(-65536)"}
	// Checkpoints are the checkpointer's job (checkpoint.go), not the
	// commit's; journal_size_limit gives back the disk of a WAL that grew
	// while readers held it.
	wdb, err := sql.Open("sqlite", dsn(path, append(base, "journal_mode(WAL)", "synchronous(NORMAL)",
		"wal_autocheckpoint(0)", "journal_size_limit(67108864)", "temp_store(MEMORY)")))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rdb, err := sql.Open("sqlite", dsn(path, append(base, "query_only(1)")))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	rdb.SetMaxOpenConns(o.readConns)
	rdb.SetMaxIdleConns(o.readConns)
	rdb.SetConnMaxLifetime(0)
	cdb, err := sql.Open("sqlite", dsn(path, append(base, "synchronous(FULL)")))
	if err != nil {
		wdb.Close()
		rdb.Close()
		return nil, fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	cdb.SetMaxOpenConns(1)
	cdb.SetMaxIdleConns(1)
	cdb.SetConnMaxLifetime(0)

	wctx, cancel := context.WithCancel(context.Background())
	db := &DB{
		path: path, now: o.now, log: o.log,
		cache: newCache(o.cacheBytes), dir: newDirCache(),
		wdb: wdb, rdb: rdb, cdb: cdb,
		reqs:   make(chan *writeReq, 256),
		walSig: make(chan struct{}, 1),
		rstmts: make(map[string]*sql.Stmt),
		cancel: cancel, readConns: o.readConns,
	}
	db.wg.Add(1)
	go db.writeLoop(wctx)
	db.bg.Add(1)
	go db.checkpointLoop(wctx, cdb)
	return db, nil
}

func dsn(path string, pragmas []string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

// Close stops the writer once every queued write is answered and closes both
// pools. It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.mu.Lock()
		db.closed = true
		close(db.reqs) // the writer drains what is queued, then exits
		db.mu.Unlock()
		db.wg.Wait()
		db.cancel()
		db.bg.Wait()
		db.stmtMu.Lock()
		for _, s := range db.rstmts {
			s.Close()
		}
		db.stmtMu.Unlock()
		db.closeErr = errors.Join(db.cdb.Close(), db.rdb.Close(), db.wdb.Close())
	})
	return db.closeErr
}

// loadMigrations returns the embedded migrations in version order.
func loadMigrations() ([]migrations.Migration, error) {
	ms, err := migrations.Load(migrationFS)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
)`

// Migrate applies every pending migration, each atomically (one request of
// the writer, rolled back alone if it fails). It runs through the writer
// goroutine, so it never races a batch.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := db.exec(ctx, func(ctx context.Context, w *writer) error {
			if _, err := w.conn.ExecContext(ctx, createMigrationsTable); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			var n int
			if err := w.conn.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			if n > 0 {
				return nil
			}
			if _, err := w.conn.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %s: %w", m.Name, err)
			}
			w.dir.reset() // a migration may change what it holds
			w.resetCaches()
			_, err := w.conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, db.now().UnixMicro())
			if err != nil {
				return fmt.Errorf("record %s: %w", m.Name, err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
	}
	return nil
}

// SchemaVersion reports the highest applied migration (0 for a new file) and
// the highest embedded one. serve migrates when have == 0 on an empty
// database and refuses to start when have < want otherwise.
func (db *DB) SchemaVersion(ctx context.Context) (have, want int, err error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, 0, err
	}
	if len(ms) > 0 {
		want = ms[len(ms)-1].Version
	}
	var exists int
	err = db.rdb.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	if exists == 0 {
		return 0, want, nil
	}
	if err := db.rdb.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return 0, 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return have, want, nil
}
