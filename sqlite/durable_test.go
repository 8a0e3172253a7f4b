package sqlite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
)

// TestAckWaitsForWALSync: a batch is acknowledged only once the WAL file it
// was committed to is synced. With the WAL file gone from its path, the
// sync cannot happen, so Apply must answer with an error, never success.
func TestAckWaitsForWALSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	benchChannels(t, db, 1)
	if _, err := db.Apply(t.Context(), benchMessages("C0", 0, 10)); err != nil {
		t.Fatalf("Apply with the WAL in place: %v", err)
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	res, err := db.Apply(t.Context(), benchMessages("C0", 10, 10))
	if err == nil || !strings.Contains(err.Error(), "WAL") {
		t.Fatalf("Apply without a WAL file to sync: %+v, %v; want an error naming the WAL", res, err)
	}
	if res != (backchannel.ApplyResult{}) {
		t.Errorf("result with the error: %+v, want none", res)
	}
}
