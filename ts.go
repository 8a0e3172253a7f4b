package backchannel

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TS is a Slack timestamp ("1700000000.000100") held as microseconds since
// the Unix epoch. Its integer value is exactly the digits of the string form
// without the dot, which is what Slack's history cursors carry.
type TS int64

// MaxTS is the largest timestamp; used as an open upper bound.
const MaxTS TS = 1<<63 - 1

// ParseTS parses a Slack timestamp: whole seconds optionally followed by a dot
// and up to six digits of fraction ("1700000000", "1700000000.1",
// "1700000000.000100"). Negative values, signs, exponents and anything longer
// than microsecond precision are rejected.
func ParseTS(s string) (TS, error) {
	if s == "" {
		return 0, fmt.Errorf("empty timestamp")
	}
	sec, frac, hasDot := strings.Cut(s, ".")
	if sec == "" || len(sec) > 12 || !allDigits(sec) {
		return 0, fmt.Errorf("invalid timestamp %q", s)
	}
	if hasDot && (len(frac) > 6 || !allDigits(frac)) {
		return 0, fmt.Errorf("invalid timestamp %q", s)
	}
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid timestamp %q", s)
	}
	var micros int64
	if frac != "" {
		micros, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	return TS(secs*1_000_000 + micros), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats t the way Slack does: seconds, a dot, six digits.
func (t TS) String() string {
	return string(t.AppendTo(nil))
}

// AppendTo appends the Slack form of t to b without allocating.
func (t TS) AppendTo(b []byte) []byte {
	b = strconv.AppendInt(b, int64(t)/1_000_000, 10)
	frac := int64(t) % 1_000_000
	b = append(b, '.')
	for d := int64(100_000); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}

// Time converts t to a time.Time in UTC.
func (t TS) Time() time.Time { return time.UnixMicro(int64(t)).UTC() }

// TSFromTime converts a time to a timestamp, truncating to microseconds.
func TSFromTime(tm time.Time) TS { return TS(tm.UnixMicro()) }
