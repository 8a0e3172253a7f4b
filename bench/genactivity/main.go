// Command genactivity writes the analytics benchmark's events as NDJSON: an
// enterprise of -members people in 4 workspaces with -channels public
// channels (each person a member of -per channels), then one UTC day of
// -events events: messages posted and activity (views, clicks, shares,
// reactions, client_active, searches, files, apps, workflows, calls).
//
//	genactivity -part directory > dir.ndjson
//	genactivity -part day       > day.ndjson
//
// With -only, -part day writes a part of a longer day, one holding -events
// activity events (DESIGN.md's: views, clicks, shares, client_active,
// searches, files, apps, workflows, calls): -only messages its message
// events (the messages posted and the reactions), -only activity the rest.
// Imported in that order they measure activity ingest alone, about
// messages already stored.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	part := flag.String("part", "directory", "directory or day")
	members := flag.Int("members", 100_000, "people")
	channels := flag.Int("channels", 5_000, "public channels")
	per := flag.Int("per", 10, "channels per person")
	events := flag.Int("events", 10_000_000, "events in the day (-part day)")
	only := flag.String("only", "", "with -part day: messages or activity (see above)")
	dayFlag := flag.String("day", time.Now().UTC().AddDate(0, 0, -3).Format("2006-01-02"), "the UTC day")
	flag.Parse()
	day, err := time.Parse("2006-01-02", *dayFlag)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	g := gen{w: w, members: *members, channels: *channels, per: *per, day: day, r: rand.New(rand.NewPCG(1, 2))}
	switch *part {
	case "directory":
		g.directory()
	case "day":
		if *only != "" && *only != "messages" && *only != "activity" {
			log.Fatalf("-only %q: want messages or activity", *only)
		}
		g.activity(*events, *only)
	default:
		log.Fatalf("-part %q: want directory or day", *part)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

type gen struct {
	w                      *bufio.Writer
	members, channels, per int
	day                    time.Time
	r                      *rand.Rand
}

func user(i int) string    { return fmt.Sprintf("W%08d", i) }
func team(i int) string    { return fmt.Sprintf("T%07d", i%4) }
func channel(i int) string { return fmt.Sprintf("C%08d", i) }

var departments = []string{"Engineering", "Sales", "Marketing", "Support", "Finance", "HR", "Legal", "Operations", ""}

func (g *gen) directory() {
	// Everything exists from the day before, so that day is the first with
	// data and closing the benchmark day closes one day.
	created := g.day.AddDate(0, 0, -1).Unix()
	fmt.Fprintln(g.w, `{"type":"enterprise","id":"E0BENCH01","name":"Bench Corp","member_analytics_enabled":true}`)
	for t := 0; t < 4; t++ {
		fmt.Fprintf(g.w, `{"type":"team","id":"%s","name":"Bench %d","domain":"bench%d","enterprise_id":"E0BENCH01"}`+"\n", team(t), t, t)
	}
	for i := 0; i < g.members; i++ {
		guest := ""
		if i == 0 { // the admin whose token reads the files
			guest = `,"is_admin":true,"is_owner":true,"is_primary_owner":true,"can_manage_public_channels":true`
		} else if i%50 == 0 {
			guest = `,"is_guest":true,"guest_type":"multi_channel"`
		}
		fmt.Fprintf(g.w, `{"type":"user","id":"%s","team_id":"%s","name":"user%d","real_name":"User %d","email":"user%d@bench.example","department":"%s","employee_number":"%d","date_claimed":%d%s}`+"\n",
			user(i), team(i), i, i, i, departments[i%len(departments)], 100000+i, created, guest)
	}
	for c := 0; c < g.channels; c++ {
		fmt.Fprintf(g.w, `{"type":"channel","id":"%s","team_id":"%s","name":"channel-%d","kind":"public","created":%d,"creator":"%s","topic":"Topic %d","purpose":"Purpose of channel %d"}`+"\n",
			channel(c), team(c), c, created, user(c%g.members), c, c)
	}
	joined := fmt.Sprintf("%d.000000", created+60)
	for i := 0; i < g.members; i++ {
		for k := 0; k < g.per; k++ {
			c := (i*7 + k*g.channels/g.per) % g.channels
			fmt.Fprintf(g.w, `{"type":"member_joined_channel","channel":"%s","user":"%s","event_ts":"%s"}`+"\n", channel(c), user(i), joined)
		}
	}
}

// activity writes n events spread over the day in time order: one in ten
// is a posted message, the rest activity about recent messages. With only,
// the day is as long as it takes to hold n activity events (in 100 events:
// 10 messages, 7.2 reactions, 82.8 activity), and only that part is
// written ("messages" or "activity"; "" writes the whole day of n events).
func (g *gen) activity(n int, only string) {
	total, acts := n, 0
	if only != "" {
		total = n*1000/828 + n/50 + 10 // ~2% more than the mix needs
	}
	out := func(message bool) io.Writer {
		if only == "" || (only == "messages") == message {
			return g.w
		}
		return io.Discard
	}
	start := g.day.UnixMicro()
	step := int64(86_400_000_000) / int64(total)
	clients := []string{"desktop", "desktop", "desktop", "ios", "android", "web"}
	var posted []string // recent messages as "channel ts"
	for i := 0; i < total && (only == "" || acts < n); i++ {
		us := start + int64(i)*step
		ts := fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
		u := g.r.IntN(g.members)
		c := (u*7 + g.r.IntN(g.per)*g.channels/g.per) % g.channels // one of u's channels
		if i%10 == 0 || len(posted) == 0 {
			fmt.Fprintf(out(true), `{"type":"message","channel":"%s","user":"%s","ts":"%s","text":"status update %d","client":"%s"}`+"\n",
				channel(c), user(u), ts, i, clients[g.r.IntN(len(clients))])
			if len(posted) < 1000 {
				posted = append(posted, channel(c)+" "+ts)
			} else {
				posted[g.r.IntN(len(posted))] = channel(c) + " " + ts
			}
			continue
		}
		m := posted[g.r.IntN(len(posted))]
		mc, mts := m[:9], m[10:]
		k := g.r.IntN(100)
		if k < 67 || k >= 75 {
			acts++
		}
		w := out(k >= 67 && k < 75) // a reaction is a message event
		switch {
		case k < 60:
			fmt.Fprintf(w, `{"type":"message_viewed","channel":"%s","ts":"%s","user":"%s","client":"%s","event_ts":"%s"}`+"\n", mc, mts, user(u), clients[g.r.IntN(len(clients))], ts)
		case k < 65:
			fmt.Fprintf(w, `{"type":"message_clicked","channel":"%s","ts":"%s","user":"%s","event_ts":"%s"}`+"\n", mc, mts, user(u), ts)
		case k < 67:
			fmt.Fprintf(w, `{"type":"message_shared","channel":"%s","ts":"%s","user":"%s","event_ts":"%s"}`+"\n", mc, mts, user(u), ts)
		case k < 75:
			fmt.Fprintf(w, `{"type":"reaction_added","channel":"%s","ts":"%s","user":"%s","reaction":"thumbsup","event_ts":"%s"}`+"\n", mc, mts, user(u), ts)
		case k < 85:
			fmt.Fprintf(w, `{"type":"client_active","user":"%s","client":"%s","event_ts":"%s"}`+"\n", user(u), clients[g.r.IntN(len(clients))], ts)
		case k < 91:
			fmt.Fprintf(w, `{"type":"search","user":"%s","event_ts":"%s"}`+"\n", user(u), ts)
		case k < 93:
			fmt.Fprintf(w, `{"type":"file_added","user":"%s","channel":"%s","event_ts":"%s"}`+"\n", user(u), channel(c), ts)
		case k < 96:
			fmt.Fprintf(w, `{"type":"app_used","user":"%s","event_ts":"%s"}`+"\n", user(u), ts)
		case k < 97:
			fmt.Fprintf(w, `{"type":"workflow_used","user":"%s","event_ts":"%s"}`+"\n", user(u), ts)
		default:
			kinds := []string{"slack", "huddle", "third_party"}
			fmt.Fprintf(w, `{"type":"call","kind":"%s","user":"%s","event_ts":"%s"}`+"\n", kinds[g.r.IntN(3)], user(u), ts)
		}
	}
}
