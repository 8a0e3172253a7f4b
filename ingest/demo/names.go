package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

var (
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "wendy",
		"amara", "bruno", "chen", "dmitri", "elena", "farah", "goran", "hana", "ines", "jamal",
		"kenji", "lucia", "mateo", "nadia", "omar", "priya", "quinn", "rosa", "sven", "tomas",
		"uma", "vikram", "yara", "zoe", "aiko", "bjorn", "chioma", "diego", "esther", "felix"}
	lastNames = []string{"smith", "garcia", "mueller", "rossi", "kowalski", "nguyen", "okafor", "tanaka", "silva", "dubois",
		"jensen", "novak", "haddad", "kim", "patel", "ivanova", "lopez", "andersen", "moreau", "costa",
		"bauer", "fischer", "ricci", "santos", "yilmaz", "ahmed", "sato", "larsen", "klein", "walsh"}
	departments = []string{"Engineering", "Engineering", "Engineering", "Sales", "Sales", "Marketing", "Support",
		"Support", "Finance", "HR", "Legal", "Operations", "Product", "Design"}
	teamNames = []string{"Acme HQ", "Acme Sales", "Acme Labs", "Acme Support", "Acme EMEA", "Acme APAC"}
	emojis    = []string{"+1", "thumbsup", "heart", "tada", "eyes", "joy", "white_check_mark", "rocket", "pray",
		"fire", "100", "raised_hands", "thinking_face", "thumbsup::skin-tone-3", "slightly_smiling_face"}
	sentences = []string{
		"Can someone take a look at this when they get a chance?",
		"Shipping the new build this afternoon, shout if anything looks off.",
		"Thanks, that fixed it!",
		"I'll follow up with the customer tomorrow morning.",
		"Reminder: the quarterly review is on Thursday.",
		"Does anyone have the latest version of the deck?",
		"The dashboard numbers look much better this week.",
		"Let's move this to a thread so we don't flood the channel.",
		"Pushed a fix, should be live in ten minutes.",
		"Who owns the renewal for this account?",
		"Lunch order is in, it'll be here at noon.",
		"Great work on the launch, everyone.",
		"I'm out tomorrow, back on Monday.",
		"Can we get a quick sync on this before the call?",
		"Updated the doc with the new numbers.",
		"Is the staging environment down for anyone else?",
		"Approved, go ahead and merge.",
		"Let me check with legal and get back to you.",
		"Ticket is filed, linking it here for visibility.",
		"Happy Friday! Any plans for the weekend?",
		"The incident is resolved, postmortem to follow.",
		"Welcome to the team!",
		"Please review the contract redlines by end of day.",
		"Payroll runs on the 25th this month.",
	}
	replies = []string{"+1", "Agreed.", "On it.", "Thanks!", "Looks good to me.", "Done.", "Good catch.",
		"I can take this one.", "Let's discuss at standup.", "Same here.", "Will do.", "Nice!"}
	botTexts = []string{"Deploy to production finished: 42 services healthy.", "New ticket opened: SUP-%d.",
		"Nightly build passed.", "Reminder: standup in 5 minutes.", "Alert resolved: API latency back to normal."}
)

// idGen mints Slack-looking IDs: a kind letter, then 10 uppercase base-36
// characters. The counter goes through a bijection modulo 2^50 (< 36^10), so
// IDs look random, differ per seed and never collide.
type idGen struct {
	offset uint64
	n      uint64
}

func newIDGen(r *rand.Rand) *idGen { return &idGen{offset: r.Uint64()} }

func (g *idGen) next(prefix byte) string {
	g.n++
	const mask = 1<<50 - 1
	x := (g.n*0x9E3779B97F4A7C15 + g.offset) & mask
	s := strings.ToUpper(strconv.FormatUint(x, 36))
	return string(prefix) + strings.Repeat("0", 10-len(s)) + s
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
