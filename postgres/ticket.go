package postgres

import (
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Channel tickets: the COPY into the event log, outside the channel locks.
//
// Within a channel, seq order must be apply order: a rebuild replays the log
// in seq order (which of two lines of one (channel, ts) came first, and so
// posted), reactions are listed by seq, membership_log breaks ties by seq.
// Reserving seqs under the channel lock gives that for free, but then the
// COPY of the batch's rows into the log — half of the time under the lock
// with four clients writing one channel — has to run under the lock too.
// Instead, a batch about any channel
//
//  1. reserves its seqs and, in the next statement of the same round trip,
//     takes its tickets: transaction-scoped advisory locks keyed (class,
//     its last seq block), held until it commits or rolls back. The class
//     is one per channel for a batch about at most maxTicketChannels
//     channels; a wider batch takes one ticket of the wide class instead
//     (a lock per channel would fill PostgreSQL's shared lock table);
//  2. COPYs its events into the log, holding no channel lock;
//  3. waits for every lower ticket still held of its channels' classes and
//     of the wide class (read from pg_locks: it takes each one shared,
//     which waits until the holder's transaction ends), then takes the
//     channel locks and goes on as before.
//
// So the batches of a channel take its lock in seq order, whichever process
// they run in, and a batch's COPY overlaps the critical section of the one
// before it. A narrow batch also waits for earlier wide batches about other
// channels (the price of their single ticket). Waits only ever go to lower
// tickets, so they add no deadlock; a COPY that waits for a later batch's
// transaction (the same key in both, in flight) can deadlock with it, which
// PostgreSQL detects, and the batch is retried.
//
// Correctness does not depend on the tickets: every batch checks, under its
// channel locks, that no batch with a later seq has been applied to its
// channels (versions.seq, the highest seq applied per channel, bumped with
// the channel's version), and is retried with new seqs and tickets if one
// has (errOutOfOrder). That happens only when a batch is delayed between
// its nextval and its ticket and another's wait ran in between.
//
// Batches about no channel (directory events) take no ticket: their order
// in the log does not matter.

// maxTicketChannels is the most channels a batch takes a ticket for each.
const maxTicketChannels = 64

// errOutOfOrder fails an attempt that found a later batch applied to one of
// its channels first; nothing was committed, and the retry reserves new
// seqs.
var errOutOfOrder = errors.New("a later batch of a channel was applied first")

// ticketClass is the class of the tickets of channel c, per schema;
// wideClass the class of wide batches' tickets.
const (
	ticketClass = `hashtext(current_schema() || ' ticket ' || c)`
	wideClass   = `hashtext(current_schema() || ' wide ticket')`
)

// ticketOf is the batch's ticket: its last seq block, truncated to the 32
// bits of an advisory lock key (compared modulo 2^32 below).
var ticketOf = `(currval('events_seq') / ` + strconv.Itoa(seqBlock) + `)`

// queueTicket queues the ticket locks; queued right after queueSeqs, whose
// nextval currval reads.
func (b *batch) queueTicket(q *pgx.Batch) {
	switch {
	case len(b.channels) == 0:
	case len(b.channels) > maxTicketChannels:
		q.Queue(`SELECT pg_advisory_xact_lock(` + wideClass + `, ` + ticketOf + `::bit(32)::integer)`)
	default:
		q.Queue(`SELECT count(pg_advisory_xact_lock(`+ticketClass+`, `+ticketOf+`::bit(32)::integer))
			FROM unnest($1::text[]) AS c`, b.channels)
	}
}

// queueTicketWait queues the wait for the lower tickets of the batch's
// classes: every one held when the statement runs (a batch that takes its
// ticket later has a higher one, or is caught by checkOrder).
func (b *batch) queueTicketWait(q *pgx.Batch) {
	if len(b.channels) == 0 {
		return
	}
	q.Queue(`SELECT count(pg_advisory_xact_lock_shared(l.classid::bigint::bit(32)::integer, l.objid::bigint::bit(32)::integer))
		FROM pg_locks AS l
		WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.mode = 'ExclusiveLock' AND l.granted
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid::bigint::bit(32)::integer IN (SELECT `+ticketClass+` FROM unnest($1::text[]) AS c UNION ALL SELECT `+wideClass+`)
		AND ((`+ticketOf+` - l.objid::bigint) % 4294967296 + 4294967296) % 4294967296 BETWEEN 1 AND 2147483647`,
		b.channels)
}

// checkOrder fails the attempt if a batch with a later seq was applied to
// one of the batch's channels first.
func (b *batch) checkOrder() error {
	if b.res.Accepted == 0 {
		return nil
	}
	for _, ch := range b.channels {
		if b.applied[ch] >= b.blocks[0] {
			return errOutOfOrder
		}
	}
	return nil
}
