package slackapi

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"

	"github.com/backchannel/backchannel"
)

// messages.activity cursors are URL-safe unpadded base64 of
//
//	activity1:<oldest>:<latest>:<next>:<channel>
//
// with the timestamps as integer microseconds (a ts without its dot). Slack
// documents no format, only that the cursor is opaque. Carrying the window
// and channel lets a walk started without bounds keep its window while the
// clock moves, and lets a cursor replayed against another channel or other
// bounds be refused (invalid_cursor) instead of silently paging the wrong
// set; "activity1" versions the layout. The URL alphabet without padding
// needs no escaping in a query string, so a hand-pasted cursor works too.
const activityCursorPrefix = "activity1:"

// maxActivityCursor bounds what is decoded: three 19-digit numbers and a
// 65-character channel ID encode to about 160 characters.
const maxActivityCursor = 256

// activityCursor is a decoded cursor; next is the ts of the first message
// of the page it resumes at (inclusive), 0 for none.
type activityCursor struct {
	channel        string
	oldest, latest backchannel.TS
	next           backchannel.TS
}

func (c activityCursor) appendTo(b []byte) []byte {
	var raw [128]byte
	p := append(raw[:0], activityCursorPrefix...)
	p = strconv.AppendInt(p, int64(c.oldest), 10)
	p = append(p, ':')
	p = strconv.AppendInt(p, int64(c.latest), 10)
	p = append(p, ':')
	p = strconv.AppendInt(p, int64(c.next), 10)
	p = append(p, ':')
	p = append(p, c.channel...)
	return base64.RawURLEncoding.AppendEncode(b, p)
}

func (c activityCursor) String() string { return string(c.appendTo(nil)) }

// decodeActivityCursor parses a cursor; anything malformed, or a next
// outside its own window, is invalid_cursor. Trailing padding and the
// standard alphabet are tolerated: clients re-encode cursors.
func decodeActivityCursor(s string) (activityCursor, error) {
	var c activityCursor
	if s == "" || len(s) > maxActivityCursor {
		return c, errBadCursor(s)
	}
	enc := base64.RawURLEncoding
	if strings.ContainsAny(s, "+/") {
		enc = base64.RawStdEncoding
	}
	raw, err := enc.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return c, errBadCursor(s)
	}
	rest, ok := strings.CutPrefix(string(raw), activityCursorPrefix)
	if !ok {
		return c, errBadCursor(s)
	}
	parts := strings.SplitN(rest, ":", 4)
	if len(parts) != 4 || parts[3] == "" {
		return c, errBadCursor(s)
	}
	var nums [3]backchannel.TS
	for i, p := range parts[:3] {
		v, ok := cursorInt(p)
		if !ok {
			return c, errBadCursor(s)
		}
		nums[i] = v
	}
	c = activityCursor{channel: parts[3], oldest: nums[0], latest: nums[1], next: nums[2]}
	if c.next == 0 || c.oldest > c.latest || c.next < c.oldest || c.next > c.latest {
		return activityCursor{}, errBadCursor(s)
	}
	return c, nil
}

// cursorInt parses plain decimal digits: no sign, no overflow (a window
// reaching 7 days past the largest ts has 19 digits).
func cursorInt(s string) (backchannel.TS, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		d := int64(s[i] - '0')
		if s[i] < '0' || s[i] > '9' || v > (math.MaxInt64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return backchannel.TS(v), true
}
