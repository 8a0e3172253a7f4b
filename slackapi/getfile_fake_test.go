package slackapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"

	"github.com/backchannel/backchannel"
)

// analyticsFake is a Store that also implements AnalyticsStore over an
// in-memory set of closed days. A day is closed by FinalizeDays when it is
// pending; a closed day serves files[kind] (or a generated stream).
type analyticsFake struct {
	*fakeStore

	mu        sync.Mutex
	status    backchannel.AnalyticsStatus
	closed    map[backchannel.Day]bool
	finalized []backchannel.Day // the through argument of every FinalizeDays call
	files     map[string][]byte // kind → body of every closed day
	metaAsOf  []backchannel.Day
	// open, when set, replaces the stored files (a generated stream).
	open     func(kind string, day backchannel.Day) (io.ReadCloser, error)
	metadata func(w io.Writer, asOf backchannel.Day) error
}

var _ backchannel.AnalyticsStore = (*analyticsFake)(nil)

func newAnalyticsFake(fs *fakeStore) *analyticsFake {
	return &analyticsFake{
		fakeStore: fs,
		closed:    map[backchannel.Day]bool{},
		files: map[string][]byte{
			backchannel.FileMember:        []byte("member-gzip-bytes"),
			backchannel.FilePublicChannel: []byte("channel-gzip-bytes"),
		},
	}
}

func (f *analyticsFake) AnalyticsStatus(context.Context) (backchannel.AnalyticsStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func (f *analyticsFake) FinalizeDays(_ context.Context, through backchannel.Day) ([]backchannel.Day, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finalized = append(f.finalized, through)
	var done, rest []backchannel.Day
	for _, d := range f.status.Pending {
		if d <= through {
			f.closed[d] = true
			done = append(done, d)
			f.status.LastClosed = max(f.status.LastClosed, d)
		} else {
			rest = append(rest, d)
		}
	}
	f.status.Pending = rest
	return done, nil
}

func (f *analyticsFake) RebuildDays(context.Context, backchannel.Day, backchannel.Day) error {
	return errors.New("not used")
}

func (f *analyticsFake) OpenAnalyticsFile(_ context.Context, kind string, day backchannel.Day) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed[day] {
		return nil, backchannel.Errorf(backchannel.ENOTFOUND, "day %s not closed", day)
	}
	if f.open != nil {
		return f.open(kind, day)
	}
	return io.NopCloser(bytes.NewReader(f.files[kind])), nil
}

func (f *analyticsFake) WriteMetadataFile(_ context.Context, w io.Writer, asOf backchannel.Day) error {
	f.mu.Lock()
	f.metaAsOf = append(f.metaAsOf, asOf)
	fn := f.metadata
	f.mu.Unlock()
	if fn != nil {
		return fn(w, asOf)
	}
	_, err := io.WriteString(w, "metadata-gzip-bytes")
	return err
}

func (f *analyticsFake) finalizeCalls() []backchannel.Day {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.finalized)
}
