package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel"
)

const tokenCols = `id, hash, user_id, team_id, bot, scopes, created_at, revoked_at`

// CreateToken stores a token record (its hash only). CreatedAt defaults to
// the store's clock.
func (db *DB) CreateToken(ctx context.Context, t backchannel.Token) error {
	if t.ID == "" || t.Hash == "" {
		return backchannel.Errorf(backchannel.EInvalidArguments, "token needs an ID and a hash")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	scopes, err := json.Marshal(nonNil(t.Scopes))
	if err != nil {
		return fmt.Errorf("sqlite: create token: %w", err)
	}
	var revoked any
	if !t.RevokedAt.IsZero() {
		revoked = t.RevokedAt.UnixMicro()
	}
	err = db.exec(ctx, func(ctx context.Context, w *writer) error {
		var n int
		if err := w.conn.QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE id = ? OR hash = ?`, t.ID, t.Hash).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return backchannel.Errorf(backchannel.EInvalidArguments, "token %s already exists", t.ID)
		}
		_, err := w.conn.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Hash, t.UserID, t.TeamID, boolInt(t.Bot), string(scopes), t.CreatedAt.UnixMicro(), revoked)
		return err
	})
	if err != nil {
		return wrapUnlessDomain("create token", err)
	}
	db.invalidateTokens(ctx)
	return nil
}

// RevokeToken marks the token revoked; revoking twice keeps the first time.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	now := db.now().UnixMicro()
	err := db.exec(ctx, func(ctx context.Context, w *writer) error {
		res, err := w.conn.ExecContext(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, now, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return backchannel.Errorf(backchannel.ETokenNotFound, "token %q not found", id)
		}
		return nil
	})
	if err != nil {
		return wrapUnlessDomain("revoke token", err)
	}
	db.invalidateTokens(ctx)
	return nil
}

// invalidateTokens runs after the writer answered, which is after the
// commit. Token writes are rare, so a global token version is enough.
func (db *DB) invalidateTokens(context.Context) {
	db.cache.invalidate(&touched{tokens: true})
}

func wrapUnlessDomain(op string, err error) error {
	var e *backchannel.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// TokenByHash finds a token, revoked or not (cached).
func (db *DB) TokenByHash(ctx context.Context, hash string) (backchannel.Token, error) {
	c := db.cache
	cur := func() uint64 { return c.tokenVer + c.epoch }
	if t, err, ok := lookup(c, c.tokens, hash, cur); ok {
		return copyToken(t), err
	}
	_, ver := c.versions()
	t, err := scanToken(db.rdb.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		err = backchannel.Errorf(backchannel.ETokenNotFound, "unknown token")
	} else if err != nil {
		return backchannel.Token{}, fmt.Errorf("sqlite: token: %w", err)
	}
	store(c, c.tokens, hash, ver, cur, t, err)
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
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tokens: %w", err)
	}
	defer rows.Close()
	ts := []backchannel.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: tokens: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: tokens: %w", err)
	}
	return ts, nil
}

func scanToken(row interface{ Scan(...any) error }) (backchannel.Token, error) {
	var t backchannel.Token
	var scopes string
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.Hash, &t.UserID, &t.TeamID, &t.Bot, &scopes, &created, &revoked); err != nil {
		return backchannel.Token{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return backchannel.Token{}, fmt.Errorf("token %s scopes: %w", t.ID, err)
	}
	t.CreatedAt = time.UnixMicro(created).UTC()
	if revoked.Valid {
		t.RevokedAt = time.UnixMicro(revoked.Int64).UTC()
	}
	return t, nil
}
