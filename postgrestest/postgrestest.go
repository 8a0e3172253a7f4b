// Package postgrestest gives tests a fresh PostgreSQL schema each. The
// server is named by BACKCHANNEL_TEST_POSTGRES (a postgres:// URL); without
// it tests skip, except under CI=true, where a missing or unreachable server
// fails them, so CI can never pass by skipping the PostgreSQL store.
package postgrestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/backchannel/backchannel/postgres"
	"github.com/jackc/pgx/v5"
)

// EnvURL is the variable naming the test server.
const EnvURL = "BACKCHANNEL_TEST_POSTGRES"

// URL creates a fresh, empty schema and returns a URL whose connections use
// it (search_path set through the startup options, which pgx and libpq both
// honour), for tests that start separate processes against one schema. The
// schema is dropped at cleanup.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	ci := os.Getenv("CI") == "true"
	if base == "" {
		if ci {
			t.Fatalf("%s is not set; CI must run the PostgreSQL tests", EnvURL)
		}
		t.Skipf("%s not set: skipping PostgreSQL tests", EnvURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		if ci {
			t.Fatalf("%s: %v", EnvURL, err)
		}
		t.Skipf("%s unreachable, skipping: %v", EnvURL, err)
	}
	defer admin.Close(ctx)
	var b [8]byte
	rand.Read(b[:])
	schema := "bctest_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a store on a fresh schema, migrated; it is closed and the
// schema dropped at cleanup.
func Open(t testing.TB, opts ...postgres.Option) *postgres.DB {
	t.Helper()
	u := URL(t)
	db, err := postgres.Open(context.Background(), u, opts...)
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}
