package demo

import (
	"encoding/json"
	"slices"
	"testing"
)

// Announcements are read org-wide: the median announcement of a month,
// a few days old, was viewed by at least half of the people, on more than
// one kind of client, and by no bot.
func TestAnnouncementsReadOrgWide(t *testing.T) {
	_, lines := generate(t, Config{Seed: 3, Members: 200, Days: 30, Now: testNow})
	var line struct {
		Type, ID, Name, Channel, TS, User, Client string
		IsBot                                     bool `json:"is_bot"`
	}
	announce := ""
	bots := map[string]bool{}
	humans := 0
	viewers := map[string]map[string]bool{}
	clients := map[string]bool{}
	for _, l := range lines {
		if err := json.Unmarshal(l, &line); err != nil {
			t.Fatal(err)
		}
		switch line.Type {
		case "channel":
			if line.Name == "announcements" {
				announce = line.ID
			}
		case "user":
			bots[line.ID] = line.IsBot
			if !line.IsBot {
				humans++
			}
		case "message":
			if line.Channel == announce && line.TS < "1748476800" { // posted before May 29th
				viewers[line.TS] = map[string]bool{}
			}
		case "message_viewed":
			if v := viewers[line.TS]; v != nil && line.Channel == announce {
				if bots[line.User] {
					t.Errorf("bot %s viewed an announcement", line.User)
				}
				v[line.User], clients[line.Client] = true, true
			}
		}
		line.IsBot, line.Name, line.Client = false, "", ""
	}
	var counts []int
	for _, v := range viewers {
		counts = append(counts, len(v))
	}
	if len(counts) < 10 {
		t.Fatalf("%d announcements, want a month's", len(counts))
	}
	slices.Sort(counts)
	if med := counts[len(counts)/2]; med < humans/2 {
		t.Errorf("median announcement viewed by %d of %d people, want at least half (%v)", med, humans, counts)
	}
	if len(clients) < 3 {
		t.Errorf("announcements viewed on %v, want several clients", clients)
	}
}
