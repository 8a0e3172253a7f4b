// Command importpipe splits the cost of a Slack export import
// (bench/import.sh) between the importer and the store:
//
//	importpipe EXPORT                      # the importer alone: Apply only counts
//	importpipe -db /tmp/x.db EXPORT        # slackexport.Import into SQLite
//	importpipe -db /tmp/x.db -store-only EXPORT
//	                                       # the store alone: every event decoded
//	                                       # into memory first, then only Apply timed
//
// -cpuprofile writes a CPU profile of the timed part.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest/slackexport"
	"github.com/backchannel/backchannel/sqlite"
)

func main() {
	prof := flag.String("cpuprofile", "", "write a CPU profile to this file")
	db := flag.String("db", "", "a SQLite file to import into (default: a store that only counts)")
	storeOnly := flag.Bool("store-only", false, "with -db: decode every event first, then time only Store.Apply")
	batch := flag.Int("batch", 0, "events per Store.Apply (0: the importer's default)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: importpipe [-db FILE [-store-only]] [-batch N] [-cpuprofile FILE] EXPORT.zip|FOLDER")
		os.Exit(2)
	}
	if err := run(context.Background(), flag.Arg(0), *db, *storeOnly, *batch, *prof); err != nil {
		fmt.Fprintln(os.Stderr, "importpipe:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, path, db string, storeOnly bool, batch int, prof string) error {
	var st backchannel.Store = &countingStore{}
	if db != "" {
		s, err := sqlite.Open(ctx, db)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			return err
		}
		st = &timedStore{DB: s}
	}
	var checked time.Duration // when the check pass ended
	opt := slackexport.Options{BatchSize: batch}
	var evs []backchannel.Event
	if storeOnly {
		x, err := slackexport.Open(path, opt)
		if err != nil {
			return err
		}
		if _, err := x.Check(ctx); err != nil {
			return err
		}
		err = x.Events(ctx, func(ev backchannel.Event) error { evs = append(evs, ev); return nil })
		x.Close()
		if err != nil {
			return err
		}
	}
	if prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	var msgs, events int
	if storeOnly {
		size := batch
		if size <= 0 {
			size = 5000
		}
		for lo := 0; lo < len(evs); lo += size {
			if _, err := st.Apply(ctx, evs[lo:min(lo+size, len(evs))]); err != nil {
				return err
			}
		}
		events = len(evs)
		for i := range evs {
			if evs[i].Type == backchannel.EvMessage {
				msgs++
			}
		}
	} else {
		opt.Progress = func(p slackexport.Progress) {
			if p.Phase != "checking" && checked == 0 {
				checked = time.Since(start)
			}
		}
		res, err := slackexport.Import(ctx, st, path, opt)
		if err != nil {
			return err
		}
		msgs, events = res.Messages, res.Events
	}
	el := time.Since(start).Seconds()
	fmt.Printf("%d messages, %d events in %.2f s: %.0f messages/s, %.0f events/s",
		msgs, events, el, float64(msgs)/el, float64(events)/el)
	if checked > 0 {
		fmt.Printf(" (check pass %.2f s)", checked.Seconds())
	}
	if ts, ok := st.(*timedStore); ok {
		// Apply is called by one goroutine at a time: the rest of the
		// apply pass is the store waiting for the importer's next batch.
		fmt.Printf(" (in Store.Apply %.2f s)", ts.in.Seconds())
	}
	fmt.Println()
	return nil
}

// timedStore adds up the time spent in Apply (still an AnalyticsStore:
// the import closes its days).
type timedStore struct {
	*sqlite.DB
	in time.Duration
}

func (s *timedStore) Apply(ctx context.Context, evs []backchannel.Event) (backchannel.ApplyResult, error) {
	t := time.Now()
	r, err := s.DB.Apply(ctx, evs)
	s.in += time.Since(t)
	return r, err
}

// countingStore accepts every batch and stores nothing.
type countingStore struct {
	backchannel.Store // every other method panics: Import calls only Apply
}

func (s *countingStore) Apply(ctx context.Context, evs []backchannel.Event) (backchannel.ApplyResult, error) {
	if len(evs) == 0 {
		return backchannel.ApplyResult{}, errors.New("empty batch")
	}
	return backchannel.ApplyResult{Accepted: len(evs)}, nil
}

func (s *countingStore) Close() error { return nil }
