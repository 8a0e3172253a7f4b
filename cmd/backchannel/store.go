package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
)

const defaultDB = "./backchannel.db"

// openStore opens the store a --db value names. A brand-new database is
// migrated on the spot; an outdated one is refused (run `backchannel
// migrate`) unless migrate is true.
func openStore(ctx context.Context, dsn string, migrate bool) (backchannel.Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return nil, fmt.Errorf("--db %s: the PostgreSQL store is not available in this build yet; use a SQLite file path", redact(dsn))
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	have, want, err := db.SchemaVersion(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read schema version of %s: %w", path, err)
	}
	if have < want && (have == 0 || migrate) {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate %s: %w", path, err)
		}
	} else if have < want {
		db.Close()
		return nil, fmt.Errorf("the database %s has schema version %d and this backchannel needs %d: run `backchannel migrate --db %s` first", path, have, want, path)
	} else if have > want {
		db.Close()
		return nil, fmt.Errorf("the database %s has schema version %d, newer than this backchannel (%d): upgrade backchannel", path, have, want)
	}
	return db, nil
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
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":***@" + rest[at+1:]
}
