package postgres_test

import (
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/postgrestest"
	"github.com/backchannel/backchannel/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) backchannel.Store { return postgrestest.Open(t) })
}

// The suite again without the page cache: PostgreSQL alone must be right too.
func TestStoreNoCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) backchannel.Store { return postgrestest.Open(t, postgres.WithCacheBytes(0)) })
}
