package backchannel

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Day is a UTC calendar date counted in days since 1970-01-01: the unit of
// every analytics rollup and file.
type Day int32

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day { return Day(t.UTC().Unix() / 86400) }

// DayOfTS returns the UTC day of a Slack timestamp.
func DayOfTS(ts TS) Day {
	us := int64(ts)
	if us < 0 {
		return Day((us+1)/86_400_000_000 - 1)
	}
	return Day(us / 86_400_000_000)
}

// ParseDay parses a real calendar date written YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("invalid date %q: %w", s, err)
	}
	return DayOf(t), nil
}

// String formats d as YYYY-MM-DD.
func (d Day) String() string { return d.Start().Format("2006-01-02") }

// Start is 00:00:00 UTC of d.
func (d Day) Start() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// End is 00:00:00 UTC of the day after d: a day is [Start, End).
func (d Day) End() time.Time { return d.Start().Add(24 * time.Hour) }

// The files admin.analytics.getFile serves; a closed day stores all three.
const (
	FileMember        = "member"
	FilePublicChannel = "public_channel"
	FileMetadata      = "public_channel_metadata"
)

// AnalyticsStore is the analytics side of a store. Rollups are maintained
// by Apply, in the same transaction as the events that cause them; these
// methods close days and serve their files.
type AnalyticsStore interface {
	// AnalyticsStatus reports which days have data and how fresh it is.
	AnalyticsStatus(ctx context.Context) (AnalyticsStatus, error)

	// FinalizeDays closes every day up to and including through that holds
	// data and is not closed yet: it builds the day's three files from the
	// rollups and stores them once; a closed day's files never change
	// except through RebuildDays. It returns the days it closed. Where
	// several processes share a store, only one closes a given day.
	FinalizeDays(ctx context.Context, through Day) ([]Day, error)

	// RebuildDays recomputes the rollups of the days in [from, to] from the
	// raw event log and rewrites the files of those days already closed.
	RebuildDays(ctx context.Context, from, to Day) error

	// OpenAnalyticsFile streams the stored file (gzip bytes) of a closed
	// day; a day that is not closed is an *Error with Code ENOTFOUND.
	OpenAnalyticsFile(ctx context.Context, kind string, day Day) (io.ReadCloser, error)

	// WriteMetadataFile writes the current public-channel metadata file
	// (gzip of NDJSON lines, "date" = asOf) to w, streaming.
	WriteMetadataFile(ctx context.Context, w io.Writer, asOf Day) error
}

// AnalyticsStatus describes a store's analytics days.
type AnalyticsStatus struct {
	HasData    bool
	FirstDay   Day   // earliest day with any data (valid when HasData)
	LastDay    Day   // latest day with any data (valid when HasData)
	LastClosed Day   // latest closed day; -1 when none
	Pending    []Day // days with data, not closed, in order
	// LateEvents counts events that arrived for a day already closed: they
	// are kept and change the files only through RebuildDays.
	LateEvents int64
}
