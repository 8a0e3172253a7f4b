package sqlite

import (
	"fmt"
	"os"
	"syscall"

	"github.com/backchannel/backchannel"
)

// Durability without stalling the writer. The writer connection runs with
// synchronous=NORMAL: a COMMIT writes its WAL frames but does not wait for
// the disk. Apply answers a committed group only after syncLoop has
// fdatasync'ed the WAL file, so an acknowledged batch is on disk exactly as
// with synchronous=FULL (it survives power loss, not only kill -9), while the
// writer already applies the next group instead of idling through the
// fsync. One fdatasync covers every group committed before it began.
//
// A committed group becomes visible to readers at its COMMIT, a moment
// before it is acknowledged; after a power loss, what was visible but never
// acknowledged may be gone (never what was acknowledged).

// syncLoop answers the committed groups from in, in order, each after a
// WAL sync that began after its commit. It returns when in is closed.
func (db *DB) syncLoop(in <-chan []*writeReq) {
	var wal *os.File
	defer func() {
		if wal != nil {
			wal.Close()
		}
	}()
	for g := range in {
		groups := [][]*writeReq{g}
	drain:
		for {
			select {
			case g2, ok := <-in:
				if !ok {
					break drain
				}
				groups = append(groups, g2)
			default:
				break drain
			}
		}
		err := db.syncWAL(&wal)
		if err != nil {
			db.log.Error("sqlite: WAL sync failed; committed batches are answered with an error", "err", err)
		}
		for _, g := range groups {
			for _, r := range g {
				if err != nil && r.err == nil {
					// Committed but maybe not durable: the caller retries,
					// and a retry is deduplicated.
					r.err, r.res = err, backchannel.ApplyResult{}
				}
				close(r.done)
			}
		}
	}
}

// syncWAL fdatasyncs the database's WAL file, opening it (again) when *f
// is not the file at the WAL's path.
func (db *DB) syncWAL(f **os.File) error {
	path := db.path + "-wal"
	if *f != nil {
		a, err1 := (*f).Stat()
		b, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			(*f).Close()
			*f = nil
		}
	}
	if *f == nil {
		wal, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("sqlite: open WAL to sync: %w", err)
		}
		*f = wal
	}
	for {
		err := syscall.Fdatasync(int((*f).Fd()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: sync WAL: %w", err)
		}
		return nil
	}
}
