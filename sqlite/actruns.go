package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/backchannel/backchannel/analytics"
)

// messages.activity's per-(message, user) bits, since migration 0013: a
// message's bits are the OR of its runs in message_user_act_runs (and, in a
// database from before 0013, of its rows in message_user_acts, read only).
// A run packs (user, bits) pairs, each user after its length as a uvarint:
//
//	uvarint(len(user)) user bits
//
// A batch reads the runs of the messages it gives bits to, in one statement,
// and appends to each message that gains a bit one run of what it gained,
// numbered after the message's last. A message has at most compactRuns
// runs: the batch that would add one more replaces them all with one of
// everything. A batch of activity is
// about a few thousand recent messages: a few thousand run rows read and
// written, not a row per (message, user).

// compactRuns is how many runs a message has at most.
const compactRuns = 16

// actRun is what a batch read of one message's bits.
type actRun struct {
	last  int64                        // the message's last run number (0: none)
	runs  int                          // how many runs it has
	users map[string]analytics.ActBits // the OR of its runs and legacy rows, by user
}

// Reads of a batch's messages' runs and legacy rows (see probe).
var (
	probeActRuns = probeQuery{
		one: `SELECT r.channel_id, r.ts, r.seq, r.users FROM message_user_act_runs AS r
			WHERE r.channel_id = ? AND r.ts IN (SELECT value FROM json_each(?))`,
		many: `SELECT r.channel_id, r.ts, r.seq, r.users FROM json_each(?) AS j CROSS JOIN message_user_act_runs AS r
			ON r.ts = j.value->>1 AND r.channel_id = j.value->>0`,
	}
	probeLegacyActs = probeQuery{
		one: `SELECT a.channel_id, a.ts, a.user_id, a.bits FROM message_user_acts AS a
			WHERE a.channel_id = ? AND a.ts IN (SELECT value FROM json_each(?))`,
		many: `SELECT a.channel_id, a.ts, a.user_id, a.bits FROM json_each(?) AS j CROSS JOIN message_user_acts AS a
			ON a.ts = j.value->>1 AND a.channel_id = j.value->>0`,
	}
)

// mergeActBits decides which of the batch's bits are new and logs them: it
// returns the (message, user)s that gained a bit, in key order, with the
// bits each held before.
func (w *writer) mergeActBits(ctx context.Context, act *analytics.ActBatch) ([]analytics.ActKey, []analytics.ActBits, error) {
	keys := act.Keys()
	held, err := w.readActBits(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	var gainedKeys []analytics.ActKey
	var was []analytics.ActBits
	var runArgs []any
	var run []byte
	for lo := 0; lo < len(keys); {
		m := keys[lo].ActMessage
		hi := lo + 1
		for hi < len(keys) && keys[hi].ActMessage == m {
			hi++
		}
		h := held[msgKey{m.Channel, m.TS}]
		compact := h.runs >= compactRuns // this run would be one too many
		run = run[:0]
		n := len(gainedKeys)
		for _, k := range keys[lo:hi] {
			old := h.users[k.User]
			if gained := act.Bits(k) &^ old; gained != 0 {
				gainedKeys, was = append(gainedKeys, k), append(was, old)
				if compact {
					h.users[k.User] = old | gained
				} else {
					run = appendActPair(run, k.User, gained)
				}
			}
		}
		lo = hi
		if len(gainedKeys) == n {
			continue // nothing new: nothing to write
		}
		if compact { // one run of everything replaces them all
			s, err := w.stmt(ctx, `DELETE FROM message_user_act_runs WHERE ts = ? AND channel_id = ? AND seq <= ?`)
			if err == nil {
				_, err = s.ExecContext(ctx, int64(m.TS), m.Channel, h.last)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("merge runs: %w", err)
			}
			for _, u := range slices.Sorted(maps.Keys(h.users)) {
				run = appendActPair(run, u, h.users[u])
			}
		}
		runArgs = append(runArgs, int64(m.TS), m.Channel, h.last+1, append([]byte(nil), run...))
	}
	err = w.execRows(ctx, `INSERT INTO message_user_act_runs (ts, channel_id, seq, users)`, `(?,?,?,?)`, ``, nil, 4, runArgs)
	return gainedKeys, was, err
}

// readActBits reads what the messages of keys (in key order) hold: their
// runs and, when the database has any, legacy rows. Every message of keys
// gets an entry.
func (w *writer) readActBits(ctx context.Context, keys []analytics.ActKey) (map[msgKey]*actRun, error) {
	held := make(map[msgKey]*actRun)
	var msgs []msgKey
	for i, k := range keys {
		if i == 0 || k.ActMessage != keys[i-1].ActMessage {
			mk := msgKey{k.Channel, k.TS}
			msgs = append(msgs, mk)
			held[mk] = &actRun{users: make(map[string]analytics.ActBits)}
		}
	}
	err := w.probe(ctx, probeActRuns, msgs, func(rows *sql.Rows) error {
		var mk msgKey
		var seq int64
		var users []byte
		if err := rows.Scan(&mk.ch, &mk.ts, &seq, &users); err != nil {
			return err
		}
		h := held[mk]
		if h == nil {
			return fmt.Errorf("run of %s/%s read but not asked for", mk.ch, mk.ts)
		}
		h.runs++
		h.last = max(h.last, seq)
		return eachActPair(users, func(user []byte, bits analytics.ActBits) {
			h.users[string(user)] |= bits
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	if w.legacyActs < 0 {
		var n int64
		if err := w.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM message_user_acts)`).Scan(&n); err != nil {
			return nil, fmt.Errorf("read message_user_acts: %w", err)
		}
		w.legacyActs = int8(n)
	}
	if w.legacyActs == 0 {
		return held, nil
	}
	err = w.probe(ctx, probeLegacyActs, msgs, func(rows *sql.Rows) error {
		var mk msgKey
		var user string
		var bits int64
		if err := rows.Scan(&mk.ch, &mk.ts, &user, &bits); err != nil {
			return err
		}
		if h := held[mk]; h != nil {
			h.users[user] |= analytics.ActBits(bits)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read message_user_acts: %w", err)
	}
	return held, nil
}

// appendActPair appends one (user, bits) pair to a run.
func appendActPair(run []byte, user string, bits analytics.ActBits) []byte {
	return append(append(binary.AppendUvarint(run, uint64(len(user))), user...), byte(bits))
}

// errActRun is a run that does not parse: the store is damaged.
var errActRun = errors.New("malformed message_user_act_runs row")

// eachActPair calls fn with every pair of run, in order.
func eachActPair(run []byte, fn func(user []byte, bits analytics.ActBits)) error {
	for len(run) > 0 {
		n, k := binary.Uvarint(run)
		if k <= 0 || n == 0 || uint64(len(run)-k) < n+1 {
			return errActRun
		}
		run = run[k:]
		fn(run[:n], analytics.ActBits(run[n]))
		run = run[n+1:]
	}
	return nil
}
