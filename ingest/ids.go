package ingest

import "strings"

// idKind describes a family of Slack IDs: an uppercase letter that names
// the kind followed by uppercase letters and digits. Real exports hold short
// and odd IDs ("U0ABC", "USLACKBOT"), so the length is checked loosely.
type idKind struct {
	what     string // "channel", "user", ...
	prefixes string // allowed first letters
}

var (
	channelID    = idKind{"channel", "CGD"}
	userID       = idKind{"user", "UW"}
	teamID       = idKind{"team", "T"}
	enterpriseID = idKind{"enterprise", "E"}
	botID        = idKind{"bot", "B"}
)

// maxIDLen is far above any real Slack ID (they are 9 to 11 characters).
const maxIDLen = 64

func (k idKind) valid(s string) bool {
	if len(s) < 2 || len(s) > maxIDLen || !strings.Contains(k.prefixes, s[:1]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (k idKind) want() string {
	var b strings.Builder
	for i := 0; i < len(k.prefixes); i++ {
		if i > 0 {
			if i == len(k.prefixes)-1 {
				b.WriteString(" or ")
			} else {
				b.WriteString(", ")
			}
		}
		b.WriteString(k.prefixes[i:i+1] + "…")
	}
	return b.String()
}

// idVal validates an ID value.
func (r *fields) idVal(name string, v []byte, k idKind) string {
	s := r.idStr(name, v)
	if r.err == nil && !k.valid(s) {
		r.fail(name, "invalid %s ID %q (want %s: an uppercase letter and then uppercase letters and digits)", k.what, s, k.want())
	}
	return s
}

// id returns an ID field; "" when absent and not required.
func (r *fields) id(name string, required bool, k idKind) string {
	v, ok := r.get(name)
	if !ok {
		if required {
			r.fail(name, "required")
		}
		return ""
	}
	return r.idVal(name, v, k)
}
