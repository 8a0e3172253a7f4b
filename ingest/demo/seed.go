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
func Seed(ctx context.Context, store backchannel.Store, cfg Config) (Result, error) {
	var (
		batch []backchannel.Event
		line  int
	)
	apply := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := store.Apply(ctx, batch); err != nil {
			return fmt.Errorf("demo: apply: %w", err)
		}
		batch = batch[:0]
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
				if err := apply(); err != nil {
					return err
				}
			}
		}
		return ctx.Err()
	})
	if err == nil {
		err = apply()
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
