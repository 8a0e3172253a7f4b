package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/jackc/pgx/v5"
)

const (
	tokenCols   = `id, hash, user_id, team_id, bot, scopes, created_at, revoked_at`
	bumpVersion = `INSERT INTO versions (key, v) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET v = versions.v + 1`
)

// CreateToken stores a token record (its hash only). CreatedAt defaults to
// the store's clock.
func (db *DB) CreateToken(ctx context.Context, t backchannel.Token) error {
	if t.ID == "" || t.Hash == "" {
		return backchannel.Errorf(backchannel.EInvalidArguments, "token needs an ID and a hash")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	var revoked *int64
	if !t.RevokedAt.IsZero() {
		r := t.RevokedAt.UnixMicro()
		revoked = &r
	}
	scopes := t.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			t.ID, t.Hash, t.UserID, t.TeamID, t.Bot, scopes, t.CreatedAt.UnixMicro(), revoked)
		if pgCode(err) == codeUniqueViolation {
			return backchannel.Errorf(backchannel.EInvalidArguments, "token %s already exists", t.ID)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, bumpVersion, verTokens)
		return err
	})
	return wrapUnlessDomain("create token", err)
}

// RevokeToken marks the token revoked; revoking twice keeps the first time.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	now := db.now().UnixMicro()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, now, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return backchannel.Errorf(backchannel.ETokenNotFound, "token %q not found", id)
		}
		_, err = tx.Exec(ctx, bumpVersion, verTokens)
		return err
	})
	return wrapUnlessDomain("revoke token", err)
}

func wrapUnlessDomain(op string, err error) error {
	var e *backchannel.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// TokenByHash finds a token, revoked or not (cached under the tokens
// version).
func (db *DB) TokenByHash(ctx context.Context, hash string) (backchannel.Token, error) {
	c := db.cache
	ver, err := db.version(ctx, verTokens)
	if err != nil {
		return backchannel.Token{}, err
	}
	if t, err, ok := lookup(c, c.tokens, hash, ver); ok {
		return copyToken(t), err
	}
	t, err := scanToken(db.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		err = backchannel.Errorf(backchannel.ETokenNotFound, "unknown token")
	} else if err != nil {
		return backchannel.Token{}, fmt.Errorf("postgres: token: %w", err)
	}
	store(c, c.tokens, hash, ver, t, err)
	return copyToken(t), err
}

func copyToken(t backchannel.Token) backchannel.Token {
	if t.Scopes != nil {
		t.Scopes = append([]string(nil), t.Scopes...)
	}
	return t
}

// Tokens lists every token, oldest first.
func (db *DB) Tokens(ctx context.Context) ([]backchannel.Token, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: tokens: %w", err)
	}
	defer rows.Close()
	ts := []backchannel.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: tokens: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: tokens: %w", err)
	}
	return ts, nil
}

func scanToken(row pgx.Row) (backchannel.Token, error) {
	var t backchannel.Token
	var created int64
	var revoked *int64
	if err := row.Scan(&t.ID, &t.Hash, &t.UserID, &t.TeamID, &t.Bot, &t.Scopes, &created, &revoked); err != nil {
		return backchannel.Token{}, err
	}
	t.CreatedAt = time.UnixMicro(created).UTC()
	if revoked != nil {
		t.RevokedAt = time.UnixMicro(*revoked).UTC()
	}
	return t, nil
}
