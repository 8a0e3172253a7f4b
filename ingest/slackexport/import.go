package slackexport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
)

// Lines emits every event of a checked export as an NDJSON line (without
// its "\n"; the bytes are valid until emit returns): the team and users,
// then each conversation — its record, members, messages with their
// reactions, pins, joins, leaves and channel changes, in the export's order.
func (x *Export) Lines(ctx context.Context, emit func(line []byte) error) error {
	if !x.ok {
		return errors.New("slackexport: Lines before a successful Check")
	}
	b := &budget{max: x.opt.MaxUncompressed, what: x.name}
	if err := x.directoryLines(emit); err != nil {
		return err
	}
	w := &walker{x: x, emit: emit}
	total, done, msgs := x.dayFiles(), 0, 0
	for _, c := range x.convs {
		err := w.conv(ctx, b, c, func(n int) {
			done++
			msgs += n
			x.progress(Progress{Phase: "importing", Files: done, TotalFiles: total, Messages: msgs, TotalMessages: x.sum.Messages})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Events is Lines decoded by ingest.Decode: the events Store.Apply takes.
func (x *Export) Events(ctx context.Context, fn func(backchannel.Event) error) error {
	n := 0
	var d ingest.Decoder
	return x.Lines(ctx, func(line []byte) error {
		n++
		ev, err := d.Decode(line, n)
		if err != nil {
			return fmt.Errorf("slackexport: generated an invalid event: %w", err)
		}
		return fn(ev)
	})
}

// Result is what Import did.
type Result struct {
	Summary
	Events     int // events applied (accepted + duplicates)
	Accepted   int
	Duplicates int
	// Finalized are the analytics days closed after the import; Rebuilt
	// the closed days recomputed because the import added to them: [from,
	// to], nil when none.
	Finalized []backchannel.Day
	Rebuilt   []backchannel.Day
	// Analytics is false when the store keeps no analytics.
	Analytics bool
	Elapsed   time.Duration
}

// DefaultBatchSize is Options.BatchSize's default.
const DefaultBatchSize = 20000

// Import checks the export at path, and only when it is sound applies its
// events to st in batches (the next batch is decoded while one commits),
// then closes the analytics days it covers that are past settle.
//
// Importing the same export again stores nothing new; a later export of the
// same workspace adds what it has that the earlier did not (docs/import.md).
func Import(ctx context.Context, st backchannel.Store, path string, opt Options) (Result, error) {
	start := time.Now()
	x, err := Open(path, opt)
	if err != nil {
		return Result{}, err
	}
	defer x.Close()
	sum, err := x.Check(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("%w (nothing was imported)", err)
	}
	res := Result{Summary: sum}
	as, hasAnalytics := st.(backchannel.AnalyticsStore)
	var lateBefore int64
	if hasAnalytics {
		s, err := as.AnalyticsStatus(ctx)
		if err != nil {
			return res, fmt.Errorf("analytics status: %w", err)
		}
		lateBefore = s.LateEvents
	}
	if err := x.apply(ctx, st, &res); err != nil {
		return res, err
	}
	if hasAnalytics {
		res.Analytics = true
		if err := x.backfill(ctx, as, lateBefore, &res); err != nil {
			return res, err
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func (x *Export) apply(ctx context.Context, st backchannel.Store, res *Result) error {
	size := x.opt.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Unbuffered: the next batch waits, built, while one commits — and
	// no third one is held in memory.
	batches := make(chan []backchannel.Event)
	applied := make(chan error, 1)
	go func() {
		var err error
		for b := range batches {
			if err != nil {
				continue
			}
			var r backchannel.ApplyResult
			if r, err = st.Apply(ctx, b); err != nil {
				err = fmt.Errorf("%s: store: %w (%d events before this batch were imported; importing again is safe)",
					x.name, err, res.Accepted+res.Duplicates)
				cancel()
				continue
			}
			res.Accepted += r.Accepted
			res.Duplicates += r.Duplicates
		}
		applied <- err
	}()
	batch := make([]backchannel.Event, 0, size)
	err := x.Events(ctx, func(ev backchannel.Event) error {
		batch = append(batch, ev)
		res.Events++
		if len(batch) < size {
			return nil
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch = make([]backchannel.Event, 0, size)
		return nil
	})
	if err == nil && len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	if aerr := <-applied; aerr != nil {
		return aerr
	}
	return err
}

// backfill closes the export's days that are over, after recomputing those
// already closed that this import added to (a later export).
func (x *Export) backfill(ctx context.Context, as backchannel.AnalyticsStore, lateBefore int64, res *Result) error {
	now, settle := time.Now, time.Hour
	if x.opt.Now != nil {
		now = x.opt.Now
	}
	if x.opt.Settle > 0 {
		settle = x.opt.Settle
	}
	through := backchannel.DayOf(now().Add(-settle)) - 1
	if x.sum.First == 0 {
		return nil
	}
	s, err := as.AnalyticsStatus(ctx)
	if err != nil {
		return fmt.Errorf("analytics status: %w", err)
	}
	from, to := backchannel.DayOfTS(x.sum.First), min(backchannel.DayOfTS(x.sum.Last), s.LastClosed)
	if s.LateEvents > lateBefore && from <= to {
		if err := as.RebuildDays(ctx, from, to); err != nil {
			return fmt.Errorf("analytics rebuild %s..%s: %w", from, to, err)
		}
		res.Rebuilt = []backchannel.Day{from, to}
	}
	days, err := as.FinalizeDays(ctx, through)
	if err != nil {
		return fmt.Errorf("analytics finalize through %s: %w", through, err)
	}
	res.Finalized = days
	return nil
}
