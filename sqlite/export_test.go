package sqlite

import (
	"context"

	"github.com/backchannel/backchannel"
)

// DisableMessageActivity stops Apply from maintaining the messages.activity
// counters (benchmarks only: what they cost at ingest).
func DisableMessageActivity(db *DB) { db.noActivity = true }

// ExecSQL runs statements on the writer's connection (tests only).
func ExecSQL(ctx context.Context, db *DB, query string) error {
	return db.exec(ctx, func(ctx context.Context, w *writer) error {
		_, err := w.conn.ExecContext(ctx, query)
		return err
	})
}

// SetSegmentRows sets how many users a segment of a member file built by
// parallel readers holds (tests only: many segments from few users).
func SetSegmentRows(n int) { segRows = n }

// ExecArgs runs one statement with arguments on the writer's connection
// (tests only).
func ExecArgs(ctx context.Context, db *DB, query string, args ...any) error {
	return db.exec(ctx, func(ctx context.Context, w *writer) error {
		_, err := w.conn.ExecContext(ctx, query, args...)
		return err
	})
}

// LoggedLines lists the logged lines of the given types in seq order, as
// RebuildDays reads them (tests only).
func LoggedLines(ctx context.Context, db *DB, types []string) ([]string, error) {
	var out []string
	err := db.exec(ctx, func(ctx context.Context, w *writer) error {
		return eachLogged(ctx, w.conn, types, func(raw []byte) error {
			out = append(out, string(raw))
			return nil
		})
	})
	return out, err
}

// SlotOf is where ev starts probing in event_keys (tests only).
func SlotOf(ev *backchannel.Event) int64 { return slotOf(ev) }

// KeySlot is where a key started probing before migration 0008 (tests only).
func KeySlot(k *[32]byte) int64 { return keySlot(k) }

// QueryInt reads one integer on the writer's connection (tests only).
func QueryInt(ctx context.Context, db *DB, query string) (n int64, err error) {
	err = db.exec(ctx, func(ctx context.Context, w *writer) error {
		return w.conn.QueryRowContext(ctx, query).Scan(&n)
	})
	return n, err
}

// LogOnlyMessagesInRuns makes Apply log as before migration 0010, only
// plain messages in event_runs, while on (tests only).
func LogOnlyMessagesInRuns(on bool) { runsOnlyMessages = on }

// SetPreloadMisses sets how many ids a batch must miss in the directory
// context cache for the writer to read the whole directory (tests only).
func SetPreloadMisses(n int) { preloadMisses = n }
