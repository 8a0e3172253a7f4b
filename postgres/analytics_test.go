package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest/demo"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/postgrestest"
	"github.com/backchannel/backchannel/storetest"
)

// TestAnalyticsDemoRebuild: on the demo organisation, rebuilding every day
// from the raw event log gives exactly the incrementally maintained rollups
// (member counts included).
func TestAnalyticsDemoRebuild(t *testing.T) {
	ctx := t.Context()
	db := postgrestest.Open(t)
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Seed(ctx, db, demo.Config{Seed: 7, Members: 30, Days: 10, Teams: 2, Now: now}); err != nil {
		t.Fatal(err)
	}
	st, err := db.AnalyticsStatus(ctx)
	if err != nil || !st.HasData {
		t.Fatalf("status: %+v, %v", st, err)
	}
	last := backchannel.DayOf(now) - 1
	if _, err := db.FinalizeDays(ctx, last); err != nil {
		t.Fatal(err)
	}
	rollups, err := db.DumpRollups(ctx)
	if err != nil || !slices.ContainsFunc(rollups, func(s string) bool { return strings.HasPrefix(s, "members ") }) {
		t.Fatalf("DumpRollups: %d rows, no member counts, %v", len(rollups), err)
	}
	if err := db.RebuildDays(ctx, st.FirstDay, last); err != nil {
		t.Fatal(err)
	}
	after, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after, rollups) {
		t.Errorf("rollups differ after rebuild:\n got %q\nwant %q", after, rollups)
	}
}

// memberEvents are joins and leaves of a guest, a bot and a user without a
// record, out of order and on the same day (day 20089 is 2025-01-01).
func memberEvents() []backchannel.Event {
	day := func(d int64) backchannel.TS { return backchannel.TS(1_735_689_600_000_000 + d*86_400_000_000) }
	return number(
		storetest.ChannelAt(backchannel.Channel{ID: "CMIG", TeamID: "T1", Name: "mig", Kind: backchannel.KindPublic}, day(0)),
		storetest.UserAt(backchannel.User{ID: "UG", TeamID: "T1", IsGuest: true, GuestType: "multi_channel"}, day(0)),
		storetest.UserAt(backchannel.User{ID: "UB", TeamID: "T1", IsBot: true}, day(0)),
		storetest.MemberAt(true, "CMIG", "UG", day(3)), storetest.MemberAt(true, "CMIG", "UB", day(3)),
		storetest.MemberAt(true, "CMIG", "UX", day(5)), storetest.MemberAt(false, "CMIG", "UG", day(7)),
		storetest.MemberAt(true, "CMIG", "UG", day(1)), storetest.MemberAt(false, "CMIG", "UX", day(5)+1),
		storetest.MemberAt(false, "CMIG", "UG", day(2)), storetest.MemberAt(true, "CMIG", "UX", day(9)),
	)
}

// TestMemberCountsMigration: migration 0005 fills channel_member_days from
// what membership_log holds exactly as ingest keeps it.
func TestMemberCountsMigration(t *testing.T) {
	ctx := t.Context()
	db := postgrestest.Open(t)
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Seed(ctx, db, demo.Config{Seed: 3, Members: 30, Days: 10, Teams: 2, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Apply(ctx, memberEvents()); err != nil {
		t.Fatal(err)
	}
	kept, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"members CMIG 20090 1 1", "members CMIG 20091 -1 -1", "members CMIG 20092 1 1",
		"members CMIG 20096 -1 -1", "members CMIG 20098 1 0"}
	var got []string
	for _, r := range kept {
		if strings.HasPrefix(r, "members CMIG ") {
			got = append(got, r)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("member-count rows of CMIG:\n got %q\nwant %q", got, want)
	}
	// Back to the schema before 0005, then migrate again.
	err = postgres.Exec(ctx, db, `DROP TABLE channel_member_days; DROP INDEX membership_log_user;
		DELETE FROM schema_migrations WHERE version = 5`)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	filled, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(filled, kept) {
		t.Errorf("after migration 0005:\n got %q\nwant %q", filled, kept)
	}
}

// TestConcurrentMemberCounts: two processes apply, at once, joins and
// leaves of shared users and channels and user events that change those
// users' classes (guest, full, bot): the member counts they keep equal a
// rebuild from the membership log.
func TestConcurrentMemberCounts(t *testing.T) {
	ctx := t.Context()
	a, b := openPair(t)
	users := []string{"U0", "U1", "U2", "U3"}
	var setup []backchannel.Event
	for _, c := range []string{"C0", "C1", "C2"} {
		setup = append(setup, storetest.Channel(c, backchannel.KindPublic))
	}
	if _, err := a.Apply(ctx, number(setup...)); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 6, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := []*postgres.DB{a, b}[w%2]
			r := rand.New(rand.NewPCG(uint64(w), 5))
			for i := range rounds {
				var evs []backchannel.Event
				if w%3 == 0 { // class changes
					for _, u := range users {
						evs = append(evs, storetest.UserAt(backchannel.User{ID: u, TeamID: "T1", IsGuest: r.IntN(2) == 0, IsBot: r.IntN(4) == 0},
							backchannel.TS(1_735_689_600_000_000+int64(w*1000+i))))
					}
				} else { // joins and leaves on days 0-4, in any order
					for range 6 {
						at := backchannel.TS(1_735_689_600_000_000 + int64(r.IntN(5))*86_400_000_000 + int64(w*1000+i))
						evs = append(evs, storetest.MemberAt(r.IntN(3) > 0, fmt.Sprint("C", r.IntN(3)), users[r.IntN(len(users))], at))
					}
				}
				if _, err := db.Apply(ctx, number(evs...)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Data on days 0-4, so that the rebuild covers them.
	var days []backchannel.Event
	for d := range 5 {
		days = append(days, storetest.Act(backchannel.EvSearch, "U0", backchannel.TS(1_735_689_600_000_000+int64(d)*86_400_000_000)))
	}
	if _, err := a.Apply(ctx, number(days...)); err != nil {
		t.Fatal(err)
	}
	kept, err := a.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(kept, func(s string) bool { return strings.HasPrefix(s, "members ") }) {
		t.Fatal("no member counts kept")
	}
	if err := a.RebuildDays(ctx, 20089, 20093); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := a.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rebuilt, kept) {
		t.Errorf("member counts kept by concurrent batches differ from a rebuild:\n got %q\nwant %q", kept, rebuilt)
	}
}
