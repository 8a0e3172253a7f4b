package storetest

import (
	"crypto/sha256"
	"reflect"
	"testing"

	"github.com/backchannel/backchannel"
)

func directoryEvent(typ string, raw string) backchannel.Event {
	return backchannel.Event{Type: typ, Raw: []byte(raw), Key: sha256.Sum256([]byte(raw))}
}

func testDirectory(t *testing.T, s backchannel.Store) {
	ctx := t.Context()

	e, err := s.Enterprise(ctx)
	if err != nil {
		t.Fatalf("Enterprise: %v", err)
	}
	if got, want := e, (backchannel.Enterprise{ID: "0"}); got != want {
		t.Errorf("Enterprise without a record: got %+v, want %+v", got, want)
	}
	_, err = s.User(ctx, "W1")
	wantCode(t, err, backchannel.EUserNotFound)
	_, err = s.Channel(ctx, "C1")
	wantCode(t, err, backchannel.EChannelNotFound)
	_, err = s.Team(ctx, "T1")
	wantCode(t, err, backchannel.ENOTFOUND)

	ent := directoryEvent(backchannel.EvEnterprise, `{"type":"enterprise","id":"E1"}`)
	ent.Enterprise = &backchannel.Enterprise{ID: "E1", Name: "Acme", MemberAnalyticsEnabled: true, AnalyticsStart: "2024-01-01"}
	team := directoryEvent(backchannel.EvTeam, `{"type":"team","id":"T1"}`)
	team.Team = &backchannel.Team{ID: "T1", Name: "Acme HQ", Domain: "acme", EnterpriseID: "E1"}
	u1 := directoryEvent(backchannel.EvUser, `{"type":"user","id":"W1","v":1}`)
	u1.User = &backchannel.User{ID: "W1", TeamID: "T1", Name: "ann", RealName: "Ann", Email: "ann@acme.test",
		Department: "Sales", EmployeeNumber: "7", IsGuest: true, GuestType: "multi_channel", IsAdmin: true,
		IsOwner: true, IsPrimaryOwner: true, CanManagePublicChannels: true, DateClaimed: 1584810430}
	u2 := directoryEvent(backchannel.EvUser, `{"type":"user","id":"W1","v":2}`)
	u2.User = &backchannel.User{ID: "W1", TeamID: "T1", Name: "ann2", IsBot: true, Deleted: true}
	ch := directoryEvent(backchannel.EvChannel, `{"type":"channel","id":"C1"}`)
	ch.Channel = &backchannel.Channel{ID: "C1", TeamID: "T1", Name: "general", Kind: backchannel.KindPublic,
		Created: 1555111593, Creator: "W1", Topic: "t", Purpose: "p", IsArchived: true,
		SharedTeamIDs: []string{"T1", "T2"}, ExternalOrgs: []backchannel.ExternalOrg{{Name: "Ext", Domain: "ext"}}, IsOrgWide: true}
	apply(t, s, ent, team, u1, u2, ch)

	if got, _ := s.Enterprise(ctx); got != *ent.Enterprise {
		t.Errorf("Enterprise: got %+v, want %+v", got, *ent.Enterprise)
	}
	if got, err := s.Team(ctx, "T1"); err != nil || got != *team.Team {
		t.Errorf("Team: got %+v, %v; want %+v", got, err, *team.Team)
	}
	if got, err := s.User(ctx, "W1"); err != nil || got != *u2.User {
		t.Errorf("User (last write wins): got %+v, %v; want %+v", got, err, *u2.User)
	}
	got, err := s.Channel(ctx, "C1")
	if err != nil || !reflect.DeepEqual(got, *ch.Channel) {
		t.Errorf("Channel: got %+v, %v; want %+v", got, err, *ch.Channel)
	}

	// A changed channel replaces every field; the pin count is the store's.
	ch2 := directoryEvent(backchannel.EvChannel, `{"type":"channel","id":"C1","v":2}`)
	ch2.Channel = &backchannel.Channel{ID: "C1", TeamID: "T1", Name: "renamed", Kind: backchannel.KindPrivate}
	apply(t, s, ch2)
	got, err = s.Channel(ctx, "C1")
	if err != nil || !reflect.DeepEqual(got, *ch2.Channel) {
		t.Errorf("Channel after update: got %+v, %v; want %+v", got, err, *ch2.Channel)
	}
}

func testMembership(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	apply(t, s, Channel("C1", backchannel.KindPrivate))
	isMember := func(ch, u string) bool {
		t.Helper()
		ok, err := s.IsMember(ctx, ch, u)
		if err != nil {
			t.Fatalf("IsMember: %v", err)
		}
		return ok
	}
	if isMember("C1", "W1") {
		t.Errorf("W1 member before joining")
	}
	apply(t, s, Member(true, "C1", "W1"), Member(true, "C1", "W2"))
	if !isMember("C1", "W1") || !isMember("C1", "W2") {
		t.Errorf("W1, W2 not members after joining")
	}
	apply(t, s, Member(false, "C1", "W1"))
	if isMember("C1", "W1") || !isMember("C1", "W2") {
		t.Errorf("after W1 left: W1 %v W2 %v, want false true", isMember("C1", "W1"), isMember("C1", "W2"))
	}
	if isMember("C9", "W2") {
		t.Errorf("member of an unknown channel")
	}
	// Rejoin: an identical line would be a duplicate, so vary it.
	rejoin := Member(true, "C1", "W1")
	rejoin.Raw = append(rejoin.Raw, ' ')
	rejoin.Key[0]++
	apply(t, s, rejoin)
	if !isMember("C1", "W1") {
		t.Errorf("W1 not a member after rejoining")
	}
}

func testUnknownChannel(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic))
	for _, ev := range []backchannel.Event{
		Member(true, "C9", "W1"),
		Member(false, "C9", "W1"),
		Message("C9", "W1", TS(1), "hi"),
		Changed("C9", TS(1), "x", "W1", TS(2)),
		Deleted("C9", TS(1)),
		Reaction(true, "C9", TS(1), "W1", "wave", TS(2)),
		Pin(true, "C9", TS(1), "W1", TS(2)),
		Star(true, "C9", TS(1), "W1", TS(2)),
	} {
		t.Run(ev.Type, func(t *testing.T) {
			_, err := s.Apply(t.Context(), number([]backchannel.Event{Message("C1", "W1", TS(5), "ok"), ev}))
			wantEventError(t, err, 2, "channel")
		})
	}
	// A channel created earlier in the same batch exists for later lines.
	apply(t, s, Channel("C2", backchannel.KindPublic), Message("C2", "W1", TS(1), "hi"))
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C2"})
	equal(t, "C2 history", texts(t, msgs), []string{"hi"})
}

func testAtomicBatch(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	bad := []backchannel.Event{
		Channel("C1", backchannel.KindPublic),
		Message("C1", "W1", TS(1), "one"),
		Member(true, "C1", "W1"),
		Message("C9", "W1", TS(2), "bad"),
	}
	_, err := s.Apply(ctx, number(bad))
	wantEventError(t, err, 4, "channel")
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Errorf("after a failed batch: Empty = %v, %v; want true", empty, err)
	}
	_, err = s.Channel(ctx, "C1")
	wantCode(t, err, backchannel.EChannelNotFound)

	// The same good lines apply afterwards: the failed batch left no keys.
	res := apply(t, s, bad[:3]...)
	if got, want := res, (backchannel.ApplyResult{Accepted: 3}); got != want {
		t.Errorf("good part: got %+v, want %+v", got, want)
	}
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "history", msgs, []string{doc("W1", "one", TS(1))})
}

func testIdempotentReplay(t *testing.T, s backchannel.Store) {
	batch := []backchannel.Event{
		Channel("C1", backchannel.KindPublic),
		Message("C1", "W1", TS(1), "one"),
		Message("C1", "W2", TS(2), "two"),
		Reply("C1", "W2", TS(3), TS(1), "r", false),
		Reaction(true, "C1", TS(1), "W2", "wave", TS(4)),
		Reaction(true, "C1", TS(1), "W3", "wave", TS(5)),
		Pin(true, "C1", TS(2), "W1", TS(6)),
		Member(true, "C1", "W1"),
	}
	res := apply(t, s, batch...)
	if got, want := res, (backchannel.ApplyResult{Accepted: len(batch)}); got != want {
		t.Fatalf("first: got %+v, want %+v", got, want)
	}
	before, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	ch1, _ := s.Channel(t.Context(), "C1")

	res = apply(t, s, batch...)
	if got, want := res, (backchannel.ApplyResult{Duplicates: len(batch)}); got != want {
		t.Errorf("replay: got %+v, want %+v", got, want)
	}
	// Duplicates within one batch, and a mix of old and new.
	res = apply(t, s, batch[1], Message("C1", "W1", TS(9), "nine"), Message("C1", "W1", TS(9), "nine"))
	if got, want := res, (backchannel.ApplyResult{Accepted: 1, Duplicates: 2}); got != want {
		t.Errorf("mixed: got %+v, want %+v", got, want)
	}
	after, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "history after replay", after[1:], before)
	if ch2, _ := s.Channel(t.Context(), "C1"); ch2.PinCount != ch1.PinCount || ch1.PinCount != 1 {
		t.Errorf("pin count: %d then %d, want 1", ch1.PinCount, ch2.PinCount)
	}
}
