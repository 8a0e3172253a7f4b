package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
)

func testTokens(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	tokens := func() []backchannel.Token {
		t.Helper()
		ts, err := s.Tokens(ctx)
		if err != nil {
			t.Fatalf("Tokens: %v", err)
		}
		return ts
	}
	if got := tokens(); len(got) != 0 {
		t.Errorf("new store has tokens: %+v", got)
	}
	_, err := s.TokenByHash(ctx, backchannel.HashToken("xoxp-nope"))
	wantCode(t, err, backchannel.ETokenNotFound)
	wantCode(t, s.RevokeToken(ctx, "tknope"), backchannel.ETokenNotFound)

	created := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	tok1, id1 := backchannel.NewTokenString(false)
	tok2, id2 := backchannel.NewTokenString(true)
	t1 := backchannel.Token{ID: id1, Hash: backchannel.HashToken(tok1), UserID: "W1", TeamID: "T1",
		Scopes: []string{"channels:history", "admin.analytics:read"}, CreatedAt: created}
	t2 := backchannel.Token{ID: id2, Hash: backchannel.HashToken(tok2), UserID: "B1", TeamID: "T1", Bot: true,
		Scopes: []string{backchannel.ScopeIngest}, CreatedAt: created.Add(time.Second)}
	for _, tk := range []backchannel.Token{t1, t2} {
		if err := s.CreateToken(ctx, tk); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
	}
	if err := s.CreateToken(ctx, t1); err == nil {
		t.Errorf("CreateToken of an existing ID: no error")
	}
	got, err := s.TokenByHash(ctx, backchannel.HashToken(tok1))
	if err != nil || !reflect.DeepEqual(got, t1) {
		t.Errorf("TokenByHash: got %+v, %v; want %+v", got, err, t1)
	}
	if got := tokens(); !reflect.DeepEqual(got, []backchannel.Token{t1, t2}) {
		t.Errorf("Tokens: got %+v, want %+v", got, []backchannel.Token{t1, t2})
	}

	if err := s.RevokeToken(ctx, id1); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	got, err = s.TokenByHash(ctx, backchannel.HashToken(tok1))
	if err != nil || !got.Revoked() {
		t.Fatalf("after revoke: got %+v, %v; want revoked", got, err)
	}
	first := got.RevokedAt
	if err := s.RevokeToken(ctx, id1); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if got, _ := s.TokenByHash(ctx, backchannel.HashToken(tok1)); !got.RevokedAt.Equal(first) {
		t.Errorf("revoking twice moved RevokedAt from %v to %v", first, got.RevokedAt)
	}
	if got, _ := s.TokenByHash(ctx, backchannel.HashToken(tok2)); got.Revoked() {
		t.Errorf("revoking one token revoked another")
	}
	// Tokens are not events.
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Errorf("Empty with tokens only = %v, %v; want true", empty, err)
	}
}
