package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/backchannel/backchannel"
)

// person is a user of the generated organisation.
type person struct {
	backchannel.User
	botID   string    // bots only
	client  string    // the client this person mostly uses
	since   time.Time // claimed: can act from here on
	deleted time.Time // zero unless deleted during the history
}

// member is one membership of a conversation.
type member struct {
	user     int
	from, to time.Time // to is zero unless the user leaves
}

// conv is a conversation of any kind.
type conv struct {
	backchannel.Channel
	members []member
	weight  float64 // relative message activity
}

// org is the generated directory; the history is generated against it.
type org struct {
	cfg        Config
	rng        *rand.Rand
	ids        *idGen
	start      time.Time // beginning of the history
	enterprise backchannel.Enterprise
	teams      []backchannel.Team
	people     []person
	bots       []int // indexes into people
	convs      []conv
	byName     map[string]int // named conversations
	admin      int            // primary owner, holds the admin token
	member     int            // a regular full member, holds the member token
	bot        int            // the bot whose token is printed
	im, mpim   int            // showcase conversations of admin and member
}

func newOrg(cfg Config) *org {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6261636b6368616e)) // "backchan"
	o := &org{cfg: cfg, rng: rng, ids: newIDGen(rng), byName: map[string]int{}}
	o.start = cfg.Now.Add(-time.Duration(cfg.Days) * 24 * time.Hour)
	o.enterprise = backchannel.Enterprise{
		ID: o.ids.next('E'), Name: "Acme Corporation", MemberAnalyticsEnabled: true,
		AnalyticsStart: o.start.Format(time.DateOnly),
	}
	for i := range cfg.Teams {
		name := teamNames[i%len(teamNames)]
		if i >= len(teamNames) {
			name += " " + strconv.Itoa(i/len(teamNames)+1)
		}
		domain := strings.ReplaceAll(strings.ToLower(name), " ", "-")
		o.teams = append(o.teams, backchannel.Team{ID: o.ids.next('T'), Name: name, Domain: domain, EnterpriseID: o.enterprise.ID})
	}
	o.makePeople()
	o.makeChannels()
	o.makeDMs()
	return o
}

// teamOf spreads people over teams, the first (HQ) holding about half.
func (o *org) teamOf() string {
	if len(o.teams) == 1 || o.rng.IntN(2) == 0 {
		return o.teams[0].ID
	}
	return o.teams[1+o.rng.IntN(len(o.teams)-1)].ID
}

func (o *org) makePeople() {
	used := map[string]bool{}
	hist := time.Duration(o.cfg.Days) * 24 * time.Hour
	for i := range o.cfg.Members {
		first, last := pick(o.rng, firstNames), pick(o.rng, lastNames)
		name := first + "." + last
		for n := 2; used[name]; n++ {
			name = first + "." + last + strconv.Itoa(n)
		}
		used[name] = true
		p := person{client: pickClient(o.rng)}
		p.User = backchannel.User{
			ID: o.ids.next('W'), TeamID: o.teamOf(), Name: name,
			RealName: title(first) + " " + title(last), Email: name + "@acme.example",
			Department: pick(o.rng, departments), EmployeeNumber: "E" + strconv.Itoa(10000+i),
		}
		// Most people predate the history; one in ten joins during it.
		p.since = o.start.Add(-time.Duration(1+o.rng.IntN(900)) * 24 * time.Hour)
		if i >= 10 && o.rng.IntN(10) == 0 {
			p.since = o.start.Add(time.Duration(o.rng.Int64N(int64(hist * 3 / 4))))
		}
		switch r := o.rng.IntN(100); {
		case i == 0:
			p.IsAdmin, p.IsOwner, p.IsPrimaryOwner, p.CanManagePublicChannels = true, true, true, true
		case i == 1: // the member token's user stays a regular full member
		case i < 10 && r < 40 || r < 2:
			p.IsAdmin, p.CanManagePublicChannels = true, true
			p.IsOwner = r < 20
		case i >= 10 && r < 5:
			p.IsGuest, p.GuestType = true, "multi_channel"
			if r < 3 {
				p.GuestType = "single_channel"
			}
			p.Department, p.EmployeeNumber, p.Email = "", "", name+"@partner.example"
		case i >= 10 && r < 6:
			p.deleted = o.start.Add(hist/6 + time.Duration(o.rng.Int64N(int64(hist*2/3))))
		}
		p.DateClaimed = p.since.Unix()
		o.people = append(o.people, p)
	}
	o.admin, o.member = 0, 1
	o.people[1].Department = "Engineering"
	o.addBots()
}

func (o *org) addBots() {
	for _, name := range []string{"deploybot", "helpdesk", "standup", "alerts"} {
		p := person{client: "web", since: o.start.Add(-400 * 24 * time.Hour), botID: o.ids.next('B')}
		p.User = backchannel.User{ID: o.ids.next('U'), TeamID: o.teams[0].ID, Name: name, RealName: title(name), IsBot: true}
		p.DateClaimed = p.since.Unix()
		o.bots = append(o.bots, len(o.people))
		o.people = append(o.people, p)
	}
	o.bot = o.bots[0]
}

func pickClient(r *rand.Rand) string {
	switch n := r.IntN(100); {
	case n < 55:
		return "desktop"
	case n < 70:
		return "web"
	case n < 90:
		return "ios"
	}
	return "android"
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// fullMember reports whether p is a non-guest person.
func (p *person) fullMember() bool { return !p.IsBot && !p.IsGuest }

func (o *org) result() Result {
	res := Result{EnterpriseID: o.enterprise.ID, Tokens: map[string]string{}, Channels: map[string]string{}}
	for _, t := range []struct {
		role string
		user int
		bot  bool
	}{{"admin", o.admin, false}, {"member", o.member, false}, {"bot", o.bot, true}} {
		tok := token(o.cfg.Seed, t.role, t.bot)
		scopes := historyScopes
		if t.role == "admin" {
			scopes = adminScopes
		}
		u := o.people[t.user]
		res.Tokens[t.role] = tok
		res.TokenRecords = append(res.TokenRecords, backchannel.Token{
			ID: backchannel.TokenID(tok), Hash: backchannel.HashToken(tok), UserID: u.ID, TeamID: u.TeamID,
			Bot: t.bot, Scopes: append([]string(nil), scopes...), CreatedAt: o.cfg.Now,
		})
	}
	for _, name := range Showcase {
		switch name {
		case "im":
			res.Channels[name] = o.convs[o.im].ID
		case "mpim":
			res.Channels[name] = o.convs[o.mpim].ID
		default:
			res.Channels[name] = o.convs[o.byName[name]].ID
		}
	}
	return res
}
