package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
	"github.com/backchannel/backchannel/storetest"
)

func openTest(t testing.TB, opts ...sqlite.Option) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "test.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		db.Close()
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) backchannel.Store { return openTest(t) })
}

// The suite again without the page cache: SQLite alone must be right too.
func TestStoreNoCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) backchannel.Store { return openTest(t, sqlite.WithCacheBytes(0)) })
}

func TestSchemaVersion(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	have, want, err := db.SchemaVersion(ctx)
	if err != nil || have != 0 || want < 1 {
		t.Fatalf("new file: have %d want %d err %v; want 0, ≥1, nil", have, want, err)
	}
	for range 2 { // Migrate is idempotent
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	have, want2, err := db.SchemaVersion(ctx)
	if err != nil || have != want || want2 != want {
		t.Fatalf("after Migrate: have %d want %d err %v; want %d, %d", have, want2, err, want, want)
	}
}
