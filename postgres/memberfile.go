package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/jackc/pgx/v5"
)

// The member file is a merge, here, of two cursors read in its order
// (user_id in byte order, which is COLLATE "C" and Go's string order):
// the users existing on the day, and the day's member_days rows. Each is
// one table read through an index in that order (migration 0007), so
// neither waits for a sort or a hash table: the first page arrives at
// once and encoding runs alongside the rest of the read. When closing a
// day (not rebuilding it) the day's rows are read on a second connection,
// so by a second backend (readDaysBeside). Whether a member not active on
// the day was active in any of the 13 days before it (billable) is one
// primary-key probe per such member, a page at a time.

type memberLine struct {
	row       analytics.MemberRow
	guestType string
	created   int64
	active14  bool
}

// memberDay is a member_days row of the day.
type memberDay struct {
	user   string
	counts analytics.MemberCounts
}

const (
	// Planned with enable_sort off (closeDay), so read through the
	// indexes of migration 0007 in C order.
	memberUsersQuery = `SELECT id, email, employee_number, is_guest, guest_type, created_at FROM users
		WHERE NOT is_bot AND created_at < $1::bigint AND (deleted_at IS NULL OR deleted_at >= $2::bigint)
		ORDER BY id COLLATE "C"`
	memberDaysQuery = `SELECT user_id, messages, channel_messages, reactions, files, slack_calls, huddles,
		third_party_calls, searches, flags FROM member_days WHERE day = $1::integer ORDER BY user_id COLLATE "C"`
	// activeBeforeQuery: which of these users were active on one of the
	// 13 days before the day (primary key (user_id, day)).
	activeBeforeQuery = `SELECT DISTINCT user_id FROM member_days
		WHERE user_id = ANY($1::text[]) AND day BETWEEN $2::integer - 13 AND $2::integer - 1 AND flags & 1 <> 0`
)

// members streams the member file: every non-bot user existing on the day,
// by user_id (byte order), with its member-day row and billable status.
func (fb *fileBuilder) members(ctx context.Context, tx pgx.Tx, fw *analytics.FileWriter, store func() error) error {
	users, err := declare(ctx, tx, "analytics_users", memberUsersQuery, []any{dayEnd(fb.day), dayStart(fb.day)},
		func(rows pgx.Rows, l *memberLine) error {
			r := &l.row
			return rows.Scan(&r.UserID, &r.Email, &r.EmployeeNumber, &r.IsGuest, &l.guestType, &l.created)
		})
	if err != nil {
		return err
	}
	mg := &memberMerge{tx: tx, day: fb.day, users: users}
	var stop func() error
	if fb.second != nil {
		mg.days, stop, err = readDaysBeside(ctx, tx, fb.second, fb.day)
	} else {
		var days *cursor[memberDay]
		days, err = declare(ctx, tx, "analytics_member_days", memberDaysQuery, []any{int32(fb.day)}, scanMemberDay)
		if days != nil {
			mg.days, stop = days.next, func() error { return days.close(ctx) }
		}
	}
	if err != nil {
		return err
	}
	err = encodePages(ctx, mg.next, func(l *memberLine) error {
		r := &l.row
		r.EnterpriseID, r.Date = fb.enterprise, fb.day
		// Fair billing: full members and multi-channel guests, active in
		// the last 14 days.
		r.Billable = l.active14 && !(r.IsGuest && l.guestType == "single_channel")
		r.DateClaimed = l.created / 1_000_000
		return fw.Member(r)
	}, store)
	if serr := stop(); err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	return users.close(ctx)
}

func scanMemberDay(rows pgx.Rows, m *memberDay) error {
	c := &m.counts
	var flags int16
	err := rows.Scan(&m.user, &c.Messages, &c.ChannelMessages, &c.Reactions, &c.Files, &c.SlackCalls,
		&c.Huddles, &c.ThirdPartyCalls, &c.Searches, &flags)
	c.Flags = analytics.Flags(flags)
	return err
}

// readDaysBeside reads the day's member_days rows on conn, in a read-only
// transaction of tx's snapshot (pg_export_snapshot), so that a second
// backend reads them while tx's reads the users, and a goroutine fetches
// them a page ahead. The rows are what tx sees: tx has written nothing
// yet, and no batch writes the day while its lock is held. stop reads the
// rest and ends the transaction.
func readDaysBeside(ctx context.Context, tx pgx.Tx, conn *pgx.Conn, d backchannel.Day) (
	next func(context.Context) ([]memberDay, error), stop func() error, err error) {
	var snap string
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snap); err != nil {
		return nil, nil, fmt.Errorf("export snapshot: %w", err)
	}
	rtx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, fmt.Errorf("second connection: %w", err)
	}
	c, err := func() (*cursor[memberDay], error) {
		// A snapshot id is hex digits and dashes.
		if _, err := rtx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+strings.ReplaceAll(snap, "'", "")+`'`); err != nil {
			return nil, fmt.Errorf("import snapshot: %w", err)
		}
		if _, err := rtx.Exec(ctx, fileSettings); err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
		return declare(ctx, rtx, "analytics_member_days", memberDaysQuery, []any{int32(d)}, scanMemberDay)
	}()
	if err != nil {
		rtx.Rollback(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	pages := make(chan []memberDay, 1)
	done := make(chan struct{})
	var rerr error // set before done closes
	go func() {
		defer close(done)
		defer close(pages)
		for {
			page, err := c.next(rctx)
			if err != nil {
				rerr = err
				return
			}
			select {
			case pages <- page:
			case <-rctx.Done():
				rerr = rctx.Err()
				return
			}
			if len(page) == 0 {
				return
			}
		}
	}()
	next = func(ctx context.Context) ([]memberDay, error) {
		select {
		case page, ok := <-pages:
			if !ok {
				<-done
				return nil, rerr
			}
			return page, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	stop = func() error {
		// Read what the merge left (rows of users after the last
		// member): cancelling a fetch in flight would close conn.
		for range pages {
		}
		<-done
		cancel()
		if err := rtx.Rollback(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("second connection: %w", err)
		}
		return nil
	}
	return next, stop, nil
}

// memberMerge joins the pages of users with the day's rows.
type memberMerge struct {
	tx       pgx.Tx
	day      backchannel.Day
	users    *cursor[memberLine]
	days     func(context.Context) ([]memberDay, error) // the next page, empty at the end
	daysDone bool
	pending  []memberDay // read from days, not merged yet
}

// next returns the next page of member lines, with their day's counters
// and whether they were active in the 14 days; empty at the end.
func (mg *memberMerge) next(ctx context.Context) ([]memberLine, error) {
	page, err := mg.users.next(ctx)
	if err != nil || len(page) == 0 {
		return page, err
	}
	var inactive []string
	for i := range page {
		l := &page[i]
		for {
			// Rows of users not in the file (a bot, a user deleted
			// before the day, one the directory does not know) are
			// skipped.
			for len(mg.pending) > 0 && mg.pending[0].user < l.row.UserID {
				mg.pending = mg.pending[1:]
			}
			if len(mg.pending) > 0 || mg.daysDone {
				break
			}
			if mg.pending, err = mg.days(ctx); err != nil {
				return nil, err
			}
			mg.daysDone = len(mg.pending) == 0
		}
		if len(mg.pending) > 0 && mg.pending[0].user == l.row.UserID {
			l.row.Counts = mg.pending[0].counts
			mg.pending = mg.pending[1:]
		}
		if l.row.Counts.Flags&analytics.FlagActive != 0 {
			l.active14 = true
		} else {
			inactive = append(inactive, l.row.UserID)
		}
	}
	if len(inactive) == 0 {
		return page, nil
	}
	active := map[string]bool{}
	err = each(ctx, mg.tx, activeBeforeQuery, []any{inactive, int32(mg.day)}, func(rows pgx.Rows) error {
		var u string
		err := rows.Scan(&u)
		active[u] = true
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("active before: %w", err)
	}
	for i := range page {
		if l := &page[i]; active[l.row.UserID] {
			l.active14 = true
		}
	}
	return page, nil
}
