package slackapi

import (
	"testing"

	"github.com/backchannel/backchannel"
)

func TestCursorSlackExamples(t *testing.T) {
	tests := []struct {
		cursor string
		ts     string
	}{
		{"bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz", "1512085861.000543"}, // Slack's docs
		{"bmV4dF90czoxNjI1MDMxMTQyMDAwMjAw", "1625031142.000200"}, // a real capture
		{"bmV4dF90czoxNTEyMTU0NDA5MDAwMjU2", "1512154409.000256"},
	}
	for _, tt := range tests {
		want, err := backchannel.ParseTS(tt.ts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeCursor(tt.cursor)
		if err != nil || got != want {
			t.Errorf("DecodeCursor(%q) = %v, %v; want %v", tt.cursor, got, err, want)
		}
		if enc := EncodeCursor(want); enc != tt.cursor {
			t.Errorf("EncodeCursor(%v) = %q, want %q", want, enc, tt.cursor)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, ts := range []backchannel.TS{0, 1, 999_999, 1_700_000_000_000_100, 999_999_999_999_999_999} {
		got, err := DecodeCursor(EncodeCursor(ts))
		if err != nil || got != ts {
			t.Errorf("round trip of %d: got %d, %v", ts, got, err)
		}
	}
}

func TestCursorGarbage(t *testing.T) {
	for _, c := range []string{
		"x",
		"dXNlcjpVMDYxTkZUVDI=", // user:U061NFTT2, another method's cursor
		"bmV4dF90czo=",         // next_ts: with no digits
		"bmV4dF90czoxMmE=",     // next_ts:12a
		"bmV4dF90czotMTI=",     // next_ts:-12
		"!!!!",                 // not base64
		"bmV4dF90czoxMjM0NTY3ODkwMTIzNDU2Nzg5MA==", // 19 digits: overflows
	} {
		if _, err := DecodeCursor(c); backchannel.ErrorCode(err) != "invalid_cursor" {
			t.Errorf("DecodeCursor(%q) error = %v, want invalid_cursor", c, err)
		}
	}
}

// Clients sometimes strip base64 padding; the cursor still decodes.
func TestCursorWithoutPadding(t *testing.T) {
	full := EncodeCursor(12345) // "next_ts:12345" is 13 bytes: padded
	stripped := full[:len(full)-2]
	if got, err := DecodeCursor(stripped); err != nil || got != 12345 {
		t.Errorf("DecodeCursor(%q) = %v, %v", stripped, got, err)
	}
}
