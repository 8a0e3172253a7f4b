package demo

import (
	"context"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
)

// SeedBatch is how many events Seed applies per Store.Apply call.
const SeedBatch = 5000

// Seed generates cfg's organisation into store through the ingest decoder
// and Store.Apply, exactly as real events arrive, then creates the three
// demo tokens (skipping any that exists already). Seeding the same config
// twice stores nothing new: every line is a duplicate.
//
// Batches are applied in order by one goroutine while the next one is
// generated and decoded, so generating and committing overlap.
func Seed(ctx context.Context, store backchannel.Store, cfg Config) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []backchannel.Event, 1)
	applied := make(chan error, 1)
	go func() {
		var err error
		for b := range batches {
			if err != nil {
				continue
			}
			if _, err = store.Apply(ctx, b); err != nil {
				err = fmt.Errorf("demo: apply: %w", err)
				cancel() // stops the generator
			}
		}
		applied <- err
	}()
	var (
		batch []backchannel.Event
		line  int
	)
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch = make([]backchannel.Event, 0, SeedBatch)
		return nil
	}
	res, err := Generate(cfg, func(lines [][]byte) error {
		for _, l := range lines {
			line++
			ev, err := ingest.Decode(l, line)
			if err != nil {
				return fmt.Errorf("demo: generated an invalid event: %w", err)
			}
			batch = append(batch, ev)
			if len(batch) == SeedBatch {
				if err := send(); err != nil {
					return err
				}
			}
		}
		return ctx.Err()
	})
	if err == nil {
		err = send()
	}
	close(batches)
	if aerr := <-applied; aerr != nil {
		return Result{}, aerr
	}
	if err != nil {
		return Result{}, err
	}
	return res, CreateTokens(ctx, store, res)
}

// CreateTokens stores res's token records, skipping those whose hash the
// store already holds.
func CreateTokens(ctx context.Context, store backchannel.Store, res Result) error {
	for _, t := range res.TokenRecords {
		_, err := store.TokenByHash(ctx, t.Hash)
		if err == nil {
			continue
		}
		if backchannel.ErrorCode(err) != backchannel.ETokenNotFound {
			return fmt.Errorf("demo: look up token %s: %w", t.ID, err)
		}
		if err := store.CreateToken(ctx, t); err != nil {
			return fmt.Errorf("demo: create token %s: %w", t.ID, err)
		}
	}
	return nil
}
