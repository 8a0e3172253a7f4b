package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/sqlite"
)

const defaultDB = "./backchannel.db"

// migratingStore is what every store provides.
type migratingStore interface {
	backchannel.Store
	backchannel.Migrator
}

// isPostgres reports whether a --db value names a PostgreSQL database.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openStore opens the store a --db value names: a postgres:// URL selects
// PostgreSQL, anything else is a SQLite file. A brand-new database is
// migrated on the spot; an outdated one is refused (run `backchannel
// migrate`) unless migrate is true.
func openStore(ctx context.Context, dsn string, migrate bool) (backchannel.Store, error) {
	var (
		st   migratingStore
		name string
		err  error
	)
	if isPostgres(dsn) {
		name = redact(dsn)
		st, err = postgres.Open(ctx, dsn)
	} else {
		name = strings.TrimPrefix(dsn, "sqlite://")
		st, err = sqlite.Open(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if err := checkSchema(ctx, st, name, migrate); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func checkSchema(ctx context.Context, st migratingStore, name string, migrate bool) error {
	have, want, err := st.SchemaVersion(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("read schema version of %s: %w", name, err)
	case have < want && (have == 0 || migrate):
		if err := st.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	case have < want:
		return fmt.Errorf("the database %s has schema version %d and this backchannel needs %d: run `backchannel migrate --db %s` first", name, have, want, name)
	case have > want:
		return fmt.Errorf("the database %s has schema version %d, newer than this backchannel (%d): upgrade backchannel", name, have, want)
	}
	return nil
}

// limiterFor returns the rate limiter a store shares across processes, or
// nil for the in-process default.
func limiterFor(st backchannel.Store) backchannel.Limiter {
	if pg, ok := st.(*postgres.DB); ok {
		return pg.Limiter()
	}
	return nil
}

// redact hides a password in a URL-style DSN.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return dsn
	}
	return scheme + "://" + user + ":***@" + rest[at+1:]
}
