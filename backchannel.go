// Package backchannel holds the domain of a self-hosted server that speaks
// Slack's Web API for conversation history and enterprise analytics: the
// types every layer shares, the error type, and the store contract.
//
// Data flows one way: events in (package ingest) → a Store (package sqlite,
// later postgres) → the Slack API out (package slackapi). Wiring happens in
// cmd/backchannel; this package imports only the standard library.
package backchannel

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Enterprise is an Enterprise Grid organisation. An organisation without an
// enterprise record is a single workspace whose enterprise_id is "0".
type Enterprise struct {
	ID                     string `json:"id"`
	Name                   string `json:"name"`
	HideEmailAddresses     bool   `json:"hide_email_addresses"`
	MemberAnalyticsEnabled bool   `json:"member_analytics_enabled"`
	AnalyticsStart         string `json:"analytics_start,omitempty"` // YYYY-MM-DD
}

// Team is a workspace.
type Team struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Domain       string `json:"domain"`
	EnterpriseID string `json:"enterprise_id,omitempty"`
}

// User is a member of a team: a person, a guest or a bot user.
type User struct {
	ID                      string `json:"id"`
	TeamID                  string `json:"team_id"`
	Name                    string `json:"name"`
	RealName                string `json:"real_name"`
	Email                   string `json:"email"`
	Department              string `json:"department"`
	EmployeeNumber          string `json:"employee_number"`
	IsGuest                 bool   `json:"is_guest"`
	GuestType               string `json:"guest_type,omitempty"` // multi_channel | single_channel
	IsBot                   bool   `json:"is_bot"`
	IsAdmin                 bool   `json:"is_admin"`
	IsOwner                 bool   `json:"is_owner"`
	IsPrimaryOwner          bool   `json:"is_primary_owner"`
	CanManagePublicChannels bool   `json:"can_manage_public_channels"`
	DateClaimed             int64  `json:"date_claimed"` // Unix seconds
	Deleted                 bool   `json:"deleted"`
}

// Channel kinds, as the events name them.
const (
	KindPublic  = "public"
	KindPrivate = "private"
	KindIM      = "im"
	KindMPIM    = "mpim"
)

// HistoryScope returns the OAuth scope that reads history of a conversation
// of the given kind ("" for an unknown kind).
func HistoryScope(kind string) string {
	switch kind {
	case KindPublic:
		return "channels:history"
	case KindPrivate:
		return "groups:history"
	case KindIM:
		return "im:history"
	case KindMPIM:
		return "mpim:history"
	}
	return ""
}

// ExternalOrg is an organisation a channel is shared with over Slack Connect.
type ExternalOrg struct {
	Name   string `json:"name"`
	Domain string `json:"domain"`
}

// Channel is a conversation of any kind.
type Channel struct {
	ID            string        `json:"id"`
	TeamID        string        `json:"team_id"`
	Name          string        `json:"name"`
	Kind          string        `json:"kind"` // public | private | im | mpim
	Created       int64         `json:"created"`
	Creator       string        `json:"creator"`
	Topic         string        `json:"topic"`
	Purpose       string        `json:"purpose"`
	IsArchived    bool          `json:"is_archived"`
	SharedTeamIDs []string      `json:"shared_team_ids,omitempty"`
	ExternalOrgs  []ExternalOrg `json:"external_orgs,omitempty"`
	IsOrgWide     bool          `json:"is_org_wide"`

	// Maintained by the store, not given by events.
	PinCount int `json:"-"`
}

// IsExternallyShared reports whether the channel is shared with another
// organisation (Slack Connect).
func (c Channel) IsExternallyShared() bool { return len(c.ExternalOrgs) > 0 }

// Token is an API token's record. The token itself is never stored: only
// HashToken of it.
type Token struct {
	ID        string    // short public handle, for `token list` and `token revoke`
	Hash      string    // HashToken(token)
	UserID    string    // the user (or bot user) the token acts as
	TeamID    string    // the user's team
	Bot       bool      // xoxb (bot) rather than xoxp (user)
	Scopes    []string  // granted OAuth scopes, in grant order
	CreatedAt time.Time //
	RevokedAt time.Time // zero unless revoked
}

// Revoked reports whether the token has been revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// HasScope reports whether the token was granted scope s.
func (t Token) HasScope(s string) bool {
	for _, x := range t.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// ScopeIngest lets a token post to /ingest/events.
const ScopeIngest = "backchannel:ingest"

// HashToken returns the stored form of a token: hex SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewTokenString mints a random token with Slack's prefix for its type
// ("xoxb-" for bots, "xoxp-" for users) and returns it with its public ID.
func NewTokenString(bot bool) (token, id string) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	prefix := "xoxp-"
	if bot {
		prefix = "xoxb-"
	}
	token = prefix + hex.EncodeToString(b[:])
	return token, TokenID(token)
}

// TokenID derives a token's public handle from the token (first 12 hex
// digits of its hash), so a token printed once can be found again.
func TokenID(token string) string { return "tk" + HashToken(token)[:12] }
