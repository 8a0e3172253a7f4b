package slackapi

import (
	"encoding/base64"
	"strconv"

	"github.com/backchannel/backchannel"
)

// History cursors are exactly Slack's: standard base64 of "next_ts:" and
// the digits of the next page's first ts without its dot
// ("bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz" is "next_ts:1512085861000543").
const cursorPrefix = "next_ts:"

// appendCursor appends the cursor for ts without allocating.
func appendCursor(b []byte, ts backchannel.TS) []byte {
	var raw [len(cursorPrefix) + 20]byte
	n := copy(raw[:], cursorPrefix)
	plain := strconv.AppendInt(raw[:n], int64(ts), 10)
	return base64.StdEncoding.AppendEncode(b, plain)
}

// EncodeCursor returns the history cursor that resumes at ts.
func EncodeCursor(ts backchannel.TS) string { return string(appendCursor(nil, ts)) }

// DecodeCursor parses a history cursor. Padding is optional, as clients
// sometimes strip it; anything else malformed is invalid_cursor.
func DecodeCursor(s string) (backchannel.TS, error) {
	// A real cursor is at most 36 characters ("next_ts:" and 18 digits).
	var raw [48]byte
	if len(s) == 0 || len(s) > 48 {
		return 0, errBadCursor(s)
	}
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.StdEncoding.WithPadding(base64.NoPadding)
	}
	n, err := enc.Decode(raw[:], []byte(s))
	if err != nil {
		return 0, errBadCursor(s)
	}
	plain := raw[:n]
	if len(plain) <= len(cursorPrefix) || string(plain[:len(cursorPrefix)]) != cursorPrefix {
		return 0, errBadCursor(s)
	}
	digits := plain[len(cursorPrefix):]
	if len(digits) > 18 {
		return 0, errBadCursor(s)
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, errBadCursor(s)
		}
		v = v*10 + int64(c-'0')
	}
	return backchannel.TS(v), nil
}

func errBadCursor(s string) error {
	return backchannel.Errorf("invalid_cursor", "cursor %q", clip(s))
}
