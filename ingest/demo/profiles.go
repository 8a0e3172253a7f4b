package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/backchannel/backchannel"
)

// profile is how one person uses Slack. Profiles are drawn from the
// activity generator's own random stream, so adding or tuning activity
// never changes the directory (IDs, tokens) of a seed.
type profile struct {
	// engagement has a long tail (log-normal, median 1): it scales how
	// often someone is active and how much they read, search and call, so
	// a few heavy users dominate and many are light.
	engagement float64
	activeP    float64 // chance of being active on a weekday
	weekendP   float64 // the same on Saturday and Sunday
	// readOnly people never post or react: they only read (the member
	// file shows them active with zero messages).
	readOnly bool
	// Clients: webOnly people use the browser and nothing else; the
	// others use computer ("desktop" or "web") at work and their phone
	// ("ios", "android" or "" for none) for mobileShare of the work
	// sessions and most of the evening and weekend ones.
	webOnly     bool
	computer    string
	phone       string
	mobileShare float64
	start, span int     // working hours in UTC: from start, span hours long
	apps        float64 // chance of using an app on an active day
	workflows   float64 // chance of running a workflow on an active day
}

// workHours is, per department, when its people work (UTC hours): the
// support desk and operations cover long shifts, sales starts early,
// engineering late.
var workHours = map[string][2]int{
	"Engineering": {9, 10}, "Sales": {7, 10}, "Marketing": {8, 9}, "Support": {6, 15},
	"Finance": {8, 9}, "HR": {8, 9}, "Legal": {9, 8}, "Operations": {5, 14},
	"Product": {8, 10}, "Design": {9, 9}, "": {10, 8},
}

// onCall departments keep some weekend activity.
func onCall(dept string) bool { return dept == "Support" || dept == "Operations" }

func (o *org) profiles(r *rand.Rand) []profile {
	prof := make([]profile, len(o.people))
	for u := range o.people {
		p, pr := &o.people[u], &prof[u]
		if p.IsBot {
			continue
		}
		pr.engagement = math.Min(8, math.Exp(r.NormFloat64()))
		pr.activeP = math.Min(0.95, 0.15+0.4*pr.engagement)
		if u > 1 && r.IntN(100) < 7 { // dormant accounts: billable seats lapse
			pr.activeP, pr.engagement = 0.04, 0.2
		}
		if p.GuestType == "single_channel" {
			pr.engagement *= 0.5
		}
		pr.weekendP = pr.activeP * 0.06
		if onCall(p.Department) {
			pr.weekendP += 0.15
		}
		if pr.engagement > 2.5 {
			pr.weekendP += 0.1 // the heavy users never quite log off
		}
		pr.readOnly = u > 1 && !p.IsGuest && r.IntN(100) < 8
		switch p.client {
		case "web":
			pr.webOnly, pr.computer = true, "web"
		case "ios":
			pr.computer, pr.phone, pr.mobileShare = "desktop", "ios", 0.75
		case "android":
			pr.computer, pr.phone, pr.mobileShare = "web", "android", 0.8
		default: // desktop-heavy; some have no mobile app at all
			pr.computer, pr.mobileShare = "desktop", 0.06
			switch x := r.IntN(100); {
			case x < 45:
				pr.phone = "ios"
			case x < 65:
				pr.phone = "android"
			}
		}
		wh := workHours[p.Department]
		pr.start, pr.span = wh[0]+r.IntN(3)-1, wh[1]
		if r.IntN(100) < 40 {
			pr.apps = 0.05 + 0.25*r.Float64()
		}
		if r.IntN(100) < 20 {
			pr.workflows = 0.05 + 0.3*r.Float64()
		}
	}
	return prof
}

// sessionTime returns when a session of pr on day starts, and whether
// that is outside working hours (when people read on their phones).
func (pr *profile) sessionTime(r *rand.Rand, day time.Time, weekend bool) (backchannel.TS, bool) {
	var h float64
	off := weekend || r.IntN(100) < 12
	switch {
	case weekend:
		h = 8 + 14*r.Float64()
	case off: // early morning or evening check-ins
		h = float64(pr.start+pr.span) + 4*r.Float64()
		if r.IntN(3) == 0 {
			h = float64(pr.start) - 2*r.Float64()
		}
	default:
		h = float64(pr.start) + float64(pr.span)*r.Float64()
	}
	h = math.Mod(h+24, 24)
	return backchannel.TSFromTime(day.Add(time.Duration(h * float64(time.Hour)))), off
}

// client picks the client of one session.
func (pr *profile) client(r *rand.Rand, offHours bool) string {
	if pr.webOnly {
		return "web"
	}
	mobile := pr.mobileShare
	if offHours {
		mobile = 0.8
	}
	if pr.phone != "" && r.Float64() < mobile {
		return pr.phone
	}
	if r.IntN(100) < 5 { // the odd session from a browser (or the app)
		if pr.computer == "web" {
			return "desktop"
		}
		return "web"
	}
	return pr.computer
}

// poisson draws from a Poisson distribution with a small mean.
func poisson(r *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, r.Float64()
	for p > l && k < 50 {
		p *= r.Float64()
		k++
	}
	return k
}
