package slackapi

import (
	"testing"
	"time"
)

func TestClosableThrough(t *testing.T) {
	for _, tc := range []struct {
		now    time.Time
		settle time.Duration
		want   string
	}{
		{time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC), time.Hour, "2024-02-29"}, // exactly end+settle
		{time.Date(2024, 3, 1, 0, 59, 59, 0, time.UTC), time.Hour, "2024-02-28"},
		{time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), 0, "2024-02-29"},
		{time.Date(2024, 3, 1, 23, 59, 0, 0, time.UTC), 25 * time.Hour, "2024-02-28"},
		{time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("x", -11*3600)), time.Hour, "2024-02-29"}, // 23:00 UTC Mar 1
	} {
		got := ClosableThrough(tc.now, tc.settle)
		if got.String() != tc.want {
			t.Errorf("ClosableThrough(%v, %v) = %s, want %s", tc.now, tc.settle, got, tc.want)
		}
		// The definition: the last day d with d.End()+settle ≤ now.
		if got.End().Add(tc.settle).After(tc.now) || !(got + 1).End().Add(tc.settle).After(tc.now) {
			t.Errorf("ClosableThrough(%v, %v) = %s breaks its definition", tc.now, tc.settle, got)
		}
	}
}

func TestRetention(t *testing.T) {
	for _, tc := range []struct {
		flag, today, oldest, str string
	}{
		{"13mo", "2024-03-01", "2023-02-01", "13mo"},
		{"1mo", "2024-03-31", "2024-02-29", "1mo"}, // clamped, not Mar 2
		{"13mo", "2025-03-31", "2024-02-29", "13mo"},
		{"400d", "2024-03-01", "2023-01-26", "400d"},
		{" 7D ", "2024-03-01", "2024-02-23", "7d"},
		{"0", "2024-03-01", "", "0"},
		{"forever", "2024-03-01", "", "0"},
	} {
		r, err := ParseRetention(tc.flag)
		if err != nil {
			t.Fatalf("ParseRetention(%q): %v", tc.flag, err)
		}
		oldest, ok := r.Oldest(day(t, tc.today))
		got := ""
		if ok {
			got = oldest.String()
		}
		if got != tc.oldest || r.String() != tc.str {
			t.Errorf("%q on %s: oldest %q (%s), want %q (%s)", tc.flag, tc.today, got, r, tc.oldest, tc.str)
		}
	}
	if o, ok := (Retention{}).Oldest(day(t, "2024-03-01")); !ok || o.String() != "2023-02-01" {
		t.Errorf("zero Retention: %s %v, want the 13-month default", o, ok)
	}
	for _, bad := range []string{"", "13", "13m", "-1d", "0d", "1y", "xmo", "1.5mo"} {
		if _, err := ParseRetention(bad); err == nil {
			t.Errorf("ParseRetention(%q) accepted", bad)
		}
	}
}
