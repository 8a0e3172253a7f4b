// Package postgres is the PostgreSQL store: pgx over a connection pool, its
// own SQL and embedded migrations, and an in-process read cache that every
// read validates against a versions table in one round trip, so several
// processes can share one database and none serves data older than a write
// another one acknowledged.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	_ backchannel.Store    = (*DB)(nil)
	_ backchannel.Migrator = (*DB)(nil)
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the PostgreSQL store. It is safe for concurrent use, and several
// processes may use the same database at once.
type DB struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	log   *slog.Logger
	cache *cache

	versions versionReader // the cache's version reads, batched

	// known holds channels that exist in committed state. Channels are never
	// deleted, so an entry never goes stale, whichever process created it.
	known sync.Map // string → struct{}

	// replays is set while batches meet keys already logged: Apply then
	// reads which keys are logged before it COPYs.
	replays atomic.Bool

	// noActivity skips the messages.activity counters (benchmarks only:
	// the cost they add to ingest; see export_test.go).
	noActivity bool
}

// Option configures Open.
type Option func(*options)

type options struct {
	now        func() time.Time
	log        *slog.Logger
	cacheBytes int64
	maxConns   int32
}

// WithClock sets the clock used for ingest times and token timestamps.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger for background failures.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithCacheBytes caps the read cache's history pages (approximate bytes of
// message bodies). 0 disables the page cache, e.g. to measure PostgreSQL
// itself.
func WithCacheBytes(n int64) Option { return func(o *options) { o.cacheBytes = n } }

// WithMaxConns sets the size of the connection pool (default: pgxpool's, or
// pool_max_conns in the URL).
func WithMaxConns(n int32) Option { return func(o *options) { o.maxConns = n } }

// Open connects to the database at url (a postgres:// URL or a key=value
// DSN). It does not migrate: call Migrate (or check SchemaVersion) before
// using the store.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	o := options{now: time.Now, log: slog.Default(), cacheBytes: 64 << 20}
	for _, f := range opts {
		f(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db := &DB{pool: pool, now: o.now, log: o.log, cache: newCache(o.cacheBytes)}
	db.versions.db = db
	return db, nil
}

// Close closes the pool. It is safe to call more than once.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// loadMigrations returns the embedded migrations in version order.
func loadMigrations() ([]migrations.Migration, error) {
	ms, err := migrations.Load(migrationFS)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text    NOT NULL,
	applied_at timestamptz NOT NULL
)`

// migrateLockClass is the first key of the advisory lock Migrate holds; the
// second is the schema's hash, so that schemas (e.g. one per test) migrate
// independently while two processes migrating one schema take turns.
const migrateLockClass = 0x6263 // "bc"

// Migrate applies every pending migration, each in its own transaction,
// holding a session advisory lock so that processes migrating at once take
// turns: the second finds the work done.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, migrateLockClass); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		// A lock left behind would block every later migration on this
		// connection's database until the connection closes: on failure to
		// unlock, drop the connection instead of returning it to the pool.
		_, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, migrateLockClass)
		if err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("postgres: migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("apply %s: %w", m.Name, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, db.now())
			if err != nil {
				return fmt.Errorf("record %s: %w", m.Name, err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
	}
	return nil
}

// SchemaVersion reports the highest applied migration (0 for a new schema)
// and the highest embedded one.
func (db *DB) SchemaVersion(ctx context.Context) (have, want int, err error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, 0, err
	}
	if len(ms) > 0 {
		want = ms[len(ms)-1].Version
	}
	err = db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeUndefinedTable {
		return 0, want, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return have, want, nil
}

// SQLSTATE codes the store reacts to.
const (
	codeUndefinedTable       = "42P01"
	codeUniqueViolation      = "23505"
	codeDeadlockDetected     = "40P01"
	codeSerializationFailure = "40001"
)

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
