package demo

import (
	"math"
	"strings"
	"time"

	"github.com/backchannel/backchannel"
)

type chanSpec struct {
	name, dept, purpose string
	share               int     // percent of the other full members who join
	weight              float64 // activity factor
}

var publicSpecs = []chanSpec{
	{"general", "", "Company-wide announcements and work-based matters", 100, 0.6},
	{"random", "", "Non-work banter and water cooler conversation", 70, 1.2},
	{"announcements", "", "Official news, read-only for most", 100, 0.1},
	{"eng-backend", "Engineering", "APIs, services and databases", 8, 1},
	{"eng-frontend", "Engineering", "Web client", 8, 1},
	{"eng-infra", "Engineering", "Infrastructure and deploys", 8, 1},
	{"eng-mobile", "Engineering", "iOS and Android apps", 8, 0.8},
	{"sales-emea", "Sales", "Deals in Europe, Middle East and Africa", 5, 1},
	{"sales-na", "Sales", "Deals in North America", 5, 1},
	{"marketing-campaigns", "Marketing", "Campaign planning", 8, 0.8},
	{"support-escalations", "Support", "Tickets that need engineering", 10, 1},
	{"finance-ops", "Finance", "Invoices, budgets, expenses", 5, 0.6},
	{"hr-people", "HR", "People team", 10, 0.5},
	{"legal-requests", "Legal", "Contract and policy questions", 8, 0.5},
	{"ops-incidents", "Operations", "Incident coordination", 15, 0.9},
	{"product-roadmap", "Product", "What we build next", 15, 0.7},
	{"design-crit", "Design", "Design reviews", 8, 0.6},
	{"help-it", "", "Laptops, accounts and access", 40, 0.5},
	{"watercooler", "", "Pets, hobbies and weekend plans", 35, 0.7},
	{"shared-globex", "", "Joint project with Globex (Slack Connect)", 6, 0.8},
}

var privateSpecs = []chanSpec{
	{"leadership", "", "Leadership team", 0, 0.6},
	{"project-phoenix", "Engineering", "Skunkworks rewrite", 0, 1},
	{"eng-oncall", "Engineering", "On-call handover", 0, 0.8},
	{"sales-deals", "Sales", "Deal desk", 0, 0.8},
	{"hr-confidential", "HR", "Personnel matters", 0, 0.4},
	{"finance-payroll", "Finance", "Payroll", 0, 0.4},
	{"legal-private", "Legal", "Privileged discussions", 0, 0.3},
}

// botHomes lists, per bot (in addBots order), the channels it is in. The
// showcase bot (deploybot) is deliberately not in random.
var botHomes = [][]string{
	{"general", "eng-backend", "eng-frontend", "eng-infra", "eng-mobile", "ops-incidents", "project-phoenix"},
	{"help-it", "support-escalations"},
	{"eng-backend", "eng-frontend", "eng-mobile"},
	{"ops-incidents", "eng-infra", "eng-oncall"},
}

func (o *org) newConv(id byte, team, name, kind, purpose string, weight float64) int {
	c := conv{weight: weight}
	c.Channel = backchannel.Channel{
		ID: o.ids.next(id), TeamID: team, Name: name, Kind: kind, Purpose: purpose,
		Creator: o.people[o.admin].ID,
		Created: o.start.Add(-time.Duration(30+o.rng.IntN(900)) * 24 * time.Hour).Unix(),
	}
	o.convs = append(o.convs, c)
	if name != "" {
		o.byName[name] = len(o.convs) - 1
	}
	return len(o.convs) - 1
}

// join adds user to conversation ci from when both exist.
func (o *org) join(ci, user int) {
	c := &o.convs[ci]
	for _, m := range c.members {
		if m.user == user {
			return
		}
	}
	from := o.people[user].since
	if created := time.Unix(c.Created, 0).UTC(); created.After(from) {
		from = created
	}
	c.members = append(c.members, member{user: user, from: from.Add(time.Duration(1+o.rng.IntN(3600)) * time.Second)})
}

func (o *org) makeChannels() {
	for i, s := range publicSpecs {
		ci := o.newConv('C', o.teams[i%len(o.teams)].ID, s.name, backchannel.KindPublic, s.purpose, s.weight)
		c := &o.convs[ci]
		c.Topic = strings.ToUpper(s.name[:1]) + strings.ReplaceAll(s.name[1:], "-", " ")
		switch s.name {
		case "general":
			c.TeamID, c.IsOrgWide = o.teams[0].ID, true
			for _, t := range o.teams {
				c.SharedTeamIDs = append(c.SharedTeamIDs, t.ID)
			}
		case "watercooler":
			// Shared by all the workspaces without being org-wide: the
			// one multi_workspace_channel of the analytics files.
			if len(o.teams) > 1 {
				for _, t := range o.teams {
					c.SharedTeamIDs = append(c.SharedTeamIDs, t.ID)
				}
			}
		case "shared-globex":
			c.TeamID = o.teams[0].ID
			c.SharedTeamIDs = []string{o.teams[0].ID, o.ids.next('T')}
			c.ExternalOrgs = []backchannel.ExternalOrg{{Name: "Globex Corporation", Domain: "globex"}}
		}
		o.fill(ci, s)
	}
	for i, s := range privateSpecs {
		ci := o.newConv('C', o.teams[i%len(o.teams)].ID, s.name, backchannel.KindPrivate, s.purpose, s.weight)
		o.fill(ci, s)
	}
	o.joinGuests()
	for b, homes := range botHomes {
		for _, name := range homes {
			o.join(o.byName[name], o.bots[b])
		}
	}
	o.addLeaves()
	for i := range o.convs {
		o.convs[i].weight *= math.Sqrt(float64(len(o.convs[i].members)))
	}
}

// fill adds a channel's full members: its department mostly, others by
// the spec's share; the admin and the member are in the showcase ones.
func (o *org) fill(ci int, s chanSpec) {
	for u := range o.people {
		p := &o.people[u]
		if !p.fullMember() {
			continue
		}
		in := o.rng.IntN(100) < s.share
		switch {
		case s.name == "leadership":
			in = p.IsAdmin || p.IsOwner
		case s.dept != "" && p.Department == s.dept:
			in = o.rng.IntN(100) < 80
		case s.dept != "" && o.convs[ci].Kind == backchannel.KindPrivate:
			in = false
		}
		if u == o.admin || u == o.member && (s.share >= 70 || s.name == "project-phoenix" || s.name == "shared-globex" || s.name == "eng-backend") {
			in = true
		}
		if in {
			o.join(ci, u)
		}
	}
}

// joinGuests puts single-channel guests in one channel, multi-channel
// guests in two to four, never in general.
func (o *org) joinGuests() {
	pool := []string{"shared-globex", "project-phoenix", "eng-backend", "sales-emea", "marketing-campaigns", "support-escalations"}
	for u := range o.people {
		p := &o.people[u]
		if !p.IsGuest {
			continue
		}
		n := 2 + o.rng.IntN(3)
		if p.GuestType == "single_channel" {
			n = 1
		}
		for _, k := range o.rng.Perm(len(pool))[:n] {
			o.join(o.byName[pool[k]], u)
		}
	}
}

// addLeaves makes a few people leave non-general channels during the
// history; the showcase principals never leave.
func (o *org) addLeaves() {
	hist := int64(o.cfg.Days) * int64(24*time.Hour)
	for ci := range o.convs {
		c := &o.convs[ci]
		if c.IsOrgWide {
			continue
		}
		for k := range c.members {
			m := &c.members[k]
			if m.user == o.admin || m.user == o.member || o.people[m.user].IsBot || o.rng.IntN(100) >= 3 {
				continue
			}
			to := o.start.Add(time.Duration(hist/3 + o.rng.Int64N(hist/2)))
			if to.After(m.from) {
				m.to = to
			}
		}
	}
}

// makeDMs creates IMs (about one per person) and MPIMs (one per ten),
// including the showcase ones of the admin and the member.
func (o *org) makeDMs() {
	team := func(u int) string { return o.people[u].TeamID }
	humans := o.cfg.Members
	seen := map[[2]int]bool{}
	addIM := func(a, b int) int {
		if a > b {
			a, b = b, a
		}
		if a == b || seen[[2]int{a, b}] {
			return -1
		}
		seen[[2]int{a, b}] = true
		ci := o.newConv('D', team(a), "", backchannel.KindIM, "", 1)
		o.join(ci, a)
		o.join(ci, b)
		return ci
	}
	o.im = addIM(o.admin, o.member)
	for a := range humans {
		addIM(a, o.rng.IntN(humans))
	}
	o.mpim = o.addMPIM([]int{o.admin, o.member, 2 + o.rng.IntN(humans-2)})
	for range humans / 10 {
		o.addMPIM(o.sample(3+o.rng.IntN(3), humans))
	}
}

func (o *org) addMPIM(us []int) int {
	names := make([]string, len(us))
	for i, u := range us {
		names[i] = o.people[u].Name
	}
	ci := o.newConv('G', o.people[us[0]].TeamID, "mpdm-"+strings.Join(names, "--")+"-1", backchannel.KindMPIM, "", 1)
	for _, u := range us {
		o.join(ci, u)
	}
	return ci
}

// sample returns n distinct people among the first max.
func (o *org) sample(n, max int) []int {
	var us []int
	for len(us) < n {
		u := o.rng.IntN(max)
		dup := false
		for _, x := range us {
			dup = dup || x == u
		}
		if !dup {
			us = append(us, u)
		}
	}
	return us
}
