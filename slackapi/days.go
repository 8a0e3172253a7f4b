package slackapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/backchannel/backchannel"
)

// DefaultSettle is how long after a UTC day ends its analytics files become
// available: late events (mobile clients sync when they come back online)
// still count, and the day is then closed for good.
const DefaultSettle = time.Hour

// SettleOrDefault resolves a configured settle delay: 0 is DefaultSettle,
// a negative value means no delay at all.
func SettleOrDefault(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultSettle
	case d < 0:
		return 0
	}
	return d
}

// ClosableThrough returns the last day whose end plus settle is at or
// before now: d.End()+settle ≤ now ⇔ d+1 ≤ DayOf(now-settle), since a day
// starts at or before every instant in it.
func ClosableThrough(now time.Time, settle time.Duration) backchannel.Day {
	return backchannel.DayOf(now.Add(-settle)) - 1
}

// Retention is how long analytics files stay available: a number of months
// or of days before today, or forever. The zero value is DefaultRetention.
type Retention struct {
	months, days int
	forever      bool
}

// DefaultRetention is Slack's "rolling 13-month basis".
var DefaultRetention = Retention{months: 13}

// RetentionForever keeps every day available.
var RetentionForever = Retention{forever: true}

// ParseRetention parses --analytics-retention: "13mo" (months), "400d"
// (days) or "0" (forever).
func ParseRetention(s string) (Retention, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "0" || s == "forever" {
		return RetentionForever, nil
	}
	var unit string
	var num string
	switch {
	case strings.HasSuffix(s, "mo"):
		num, unit = strings.TrimSuffix(s, "mo"), "mo"
	case strings.HasSuffix(s, "d"):
		num, unit = strings.TrimSuffix(s, "d"), "d"
	default:
		return Retention{}, fmt.Errorf("retention %q: want <N>mo (months), <N>d (days) or 0 (forever)", s)
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > 100_000 {
		return Retention{}, fmt.Errorf("retention %q: want a positive whole number before %q", s, unit)
	}
	if unit == "mo" {
		return Retention{months: n}, nil
	}
	return Retention{days: n}, nil
}

// String returns the flag form of r.
func (r Retention) String() string {
	switch {
	case r.forever:
		return "0"
	case r.days > 0:
		return strconv.Itoa(r.days) + "d"
	case r.months > 0:
		return strconv.Itoa(r.months) + "mo"
	}
	return DefaultRetention.String()
}

// Oldest returns the oldest day still available on day today, and false
// when every day is.
func (r Retention) Oldest(today backchannel.Day) (backchannel.Day, bool) {
	switch {
	case r.forever:
		return 0, false
	case r.days > 0:
		return today - backchannel.Day(r.days), true
	case r.months == 0:
		r = DefaultRetention
	}
	return monthsBefore(today, r.months), true
}

// monthsBefore returns the same day of the month n months before d,
// clamped to that month's last day (Mar 31 - 1 month = Feb 28 or 29), not
// normalised forward like time.AddDate (which would give Mar 3).
func monthsBefore(d backchannel.Day, n int) backchannel.Day {
	y, m, day := d.Start().Date()
	first := time.Date(y, m-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return backchannel.DayOf(first.AddDate(0, 0, min(day, last)-1))
}
