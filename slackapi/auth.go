package slackapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/backchannel/backchannel"
)

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate resolves the caller of a method that needs a token. The
// header wins over a form-body token when both are sent (Node sends the
// same token twice; Slack's precedence when they differ is unknown).
func (a *API) authenticate(ctx context.Context, req *Request, m *method, bodyToken string) error {
	tok := bearer(req.HTTP)
	if tok == "" {
		tok = bodyToken
	}
	if tok == "" {
		return backchannel.Errorf("not_authed", "no token")
	}
	t, err := a.store.TokenByHash(ctx, backchannel.HashToken(tok))
	if err != nil {
		if backchannel.ErrorCode(err) == backchannel.ETokenNotFound {
			return backchannel.Errorf("invalid_auth", "unknown token")
		}
		return internal(fmt.Errorf("token lookup: %w", err))
	}
	if t.Revoked() {
		return backchannel.Errorf("token_revoked", "token %s revoked", t.ID)
	}
	u, err := a.store.User(ctx, t.UserID)
	if err != nil {
		if backchannel.ErrorCode(err) == backchannel.EUserNotFound {
			// A token whose user is not in the directory cannot be
			// validated: invalid_auth, as Slack says for "some aspect".
			return backchannel.Errorf("invalid_auth", "token user %s unknown", t.UserID)
		}
		return internal(fmt.Errorf("token user: %w", err))
	}
	req.Token, req.User = t, u
	if u.Deleted {
		return backchannel.Errorf("account_inactive", "user %s deleted", u.ID)
	}
	return nil
}

// authorize checks the token type and the method's scopes (any one of
// them; a handler may demand a specific one later, as history does).
func authorize(req *Request, m *method) error {
	typ := userToken
	if req.Token.Bot {
		typ = botToken
	}
	if m.tokens&typ == 0 {
		return backchannel.Errorf("not_allowed_token_type", "%s does not accept this token type", m.name)
	}
	if len(m.scopes) == 0 {
		return nil
	}
	for _, s := range m.scopes {
		if req.Token.HasScope(s) {
			return nil
		}
	}
	return missingScope(req, m.acceptedScopes[0])
}

func missingScope(req *Request, needed string) error {
	return &backchannel.Error{
		Code:     "missing_scope",
		Message:  "token lacks " + needed,
		Needed:   needed,
		Provided: strings.Join(req.Token.Scopes, ","),
	}
}
