package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Checkpoints run on their own connection, off the writer: with SQLite's
// automatic checkpoint (wal_autocheckpoint, on by default) the commit that
// crosses 1000 WAL pages copies them into the database file and fsyncs it
// before Apply can answer, which under sustained ingest is every commit.
const (
	// checkpointEvery spaces checkpoints: pages rewritten by several commits
	// in between (the tails of the log and of each channel) are copied once.
	checkpointEvery = 250 * time.Millisecond
	// restartFrames is the WAL size (pages) past which a checkpoint also
	// waits for readers so that the next commit starts the WAL over: PASSIVE
	// alone cannot reset it while readers keep old snapshots open.
	restartFrames = 16 << 10 // 64 MiB of 4 KiB pages
)

// checkpointLoop checkpoints after commits (db.walSig) until ctx ends.
func (db *DB) checkpointLoop(ctx context.Context, conn *sql.DB) {
	defer db.bg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-db.walSig:
		}
		if err := checkpoint(ctx, conn, "PASSIVE", restartFrames); err != nil && ctx.Err() == nil {
			db.log.Error("sqlite: checkpoint failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// checkpoint runs a checkpoint of mode and, when the WAL is still longer than
// restart pages afterwards, a RESTART one.
func checkpoint(ctx context.Context, conn *sql.DB, mode string, restart int) error {
	var busy, log, done int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &log, &done); err != nil {
		return fmt.Errorf("checkpoint %s: %w", mode, err)
	}
	if log > restart {
		if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &log, &done); err != nil {
			return fmt.Errorf("checkpoint RESTART: %w", err)
		}
	}
	return nil
}

// walChanged tells the checkpointer a commit added to the WAL.
func (db *DB) walChanged() {
	select {
	case db.walSig <- struct{}{}:
	default:
	}
}
