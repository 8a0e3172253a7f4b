package postgres

import "context"

// CountRows runs a count query on db's pool (tests only): how the
// cross-process tests check what is stored.
func CountRows(ctx context.Context, db *DB, query string) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, query).Scan(&n)
	return n, err
}

// Exec runs a statement on db's pool (tests and benchmarks only).
func Exec(ctx context.Context, db *DB, sql string, args ...any) error {
	_, err := db.pool.Exec(ctx, sql, args...)
	return err
}

// DisableMessageActivity stops Apply from maintaining the messages.activity
// counters (benchmarks only: what they cost at ingest).
func DisableMessageActivity(db *DB) { db.noActivity = true }

// QueryString runs a query returning one text value (tests only).
func QueryString(ctx context.Context, db *DB, query string, args ...any) (string, error) {
	var s string
	err := db.pool.QueryRow(ctx, query, args...).Scan(&s)
	return s, err
}
