// Command genexport writes a synthetic Slack export for the import
// benchmark (bench/import.sh): users (with guests, bots and a deleted
// user), public and private channels, DMs and MPIMs, and -messages
// messages spread over the -days days before today, with threads,
// reactions, files, edits and pins, in Slack's export layout. It streams:
// memory stays flat however many messages.
//
//	genexport -messages 1000000 -out /tmp/export        # a folder
//	genexport -messages 1000000 -out /tmp/export.zip    # a zip
package main

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	n := flag.Int("messages", 1_000_000, "number of messages")
	users := flag.Int("users", 500, "number of users")
	channels := flag.Int("channels", 60, "number of public channels (plus a sixth as many private ones, DMs and MPIMs)")
	days := flag.Int("days", 30, "days of history, ending yesterday")
	out := flag.String("out", "export", "output folder, or a .zip file")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	g := &gen{r: rand.New(rand.NewPCG(*seed, 7)), users: *users, days: *days}
	g.start = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -*days)
	var err error
	if strings.HasSuffix(*out, ".zip") {
		err = g.writeZip(*out, *n, *channels)
	} else {
		err = g.write(dirSink(*out), *n, *channels)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genexport:", err)
		os.Exit(1)
	}
}

type gen struct {
	r     *rand.Rand
	users int
	days  int
	start time.Time
}

// sink creates the export's files.
type sink func(name string) (io.WriteCloser, error)

func dirSink(root string) sink {
	return func(name string) (io.WriteCloser, error) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		return os.Create(p)
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (g *gen) writeZip(path string, n, channels int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	err = g.write(func(name string) (io.WriteCloser, error) {
		w, err := zw.Create(name)
		return nopCloser{w}, err
	}, n, channels)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func userID(i int) string { return fmt.Sprintf("U%08d", i) }

type convo struct {
	id, name, kind string
	members        []string
}

func (g *gen) write(create sink, n, channels int) error {
	created := g.start.Add(-time.Hour).Unix()
	var us []map[string]any
	for i := 0; i < g.users; i++ {
		u := map[string]any{"id": userID(i), "team_id": "T0GENEXP01", "name": fmt.Sprintf("user%d", i),
			"real_name": fmt.Sprintf("User %d", i), "deleted": i == 3, "is_admin": i == 0, "is_owner": i == 0,
			"is_primary_owner": i == 0, "is_restricted": i%50 == 7 || i%50 == 8, "is_ultra_restricted": i%50 == 8,
			"is_bot": i == 1, "profile": map[string]any{"email": fmt.Sprintf("user%d@example.org", i), "title": "Engineer",
				"real_name": fmt.Sprintf("User %d", i)}}
		us = append(us, u)
	}
	if err := writeJSON(create, "users.json", us); err != nil {
		return err
	}
	kinds := []struct{ file, kind, prefix string }{
		{"channels.json", "public", "C"}, {"groups.json", "private", "G"}, {"mpims.json", "mpim", "G"}, {"dms.json", "im", "D"}}
	counts := []int{channels, max(1, channels/6), max(1, channels/6), max(1, channels/6)}
	var all []convo
	for k, kd := range kinds {
		var recs []map[string]any
		for i := 0; i < counts[k]; i++ {
			c := convo{id: fmt.Sprintf("%s%02d%07d", kd.prefix, k, i), kind: kd.kind}
			size := 2
			if kd.kind == "public" || kd.kind == "private" {
				size = 5 + g.r.IntN(40)
			} else if kd.kind == "mpim" {
				size = 3 + g.r.IntN(4)
			}
			for j := 0; j < size; j++ {
				c.members = append(c.members, userID((i*7+j*13)%g.users))
			}
			c.members = dedupe(c.members)
			rec := map[string]any{"id": c.id, "created": created, "members": c.members}
			switch kd.kind {
			case "im":
				c.name = c.id
				rec["user"] = c.members[1%len(c.members)]
			case "mpim":
				c.name = "mpdm-" + strings.Join(c.members, "--") + "-1"
				rec["name"], rec["creator"] = c.name, c.members[0]
			default:
				c.name = fmt.Sprintf("%s-%d", kd.kind, i)
				rec["name"], rec["creator"] = c.name, c.members[0]
				rec["topic"] = map[string]any{"value": "about " + c.name, "creator": c.members[0], "last_set": created}
				rec["purpose"] = map[string]any{"value": "for " + c.name, "creator": c.members[0], "last_set": created}
			}
			recs = append(recs, rec)
			all = append(all, c)
		}
		if err := writeJSON(create, kd.file, recs); err != nil {
			return err
		}
	}
	// Messages: an even share per conversation and day, ts strictly rising.
	perFile := max(1, n/(len(all)*g.days))
	written := 0
	for ci, c := range all {
		for d := 0; d < g.days && written < n; d++ {
			k := perFile
			if ci == len(all)-1 && d == g.days-1 {
				k = n - written
			}
			k = min(k, n-written)
			if k <= 0 {
				break
			}
			day := g.start.AddDate(0, 0, d)
			if err := g.dayFile(create, c, day, k); err != nil {
				return err
			}
			written += k
		}
	}
	for written < n { // few conversations or days: top up the first one
		k := min(n-written, 100000)
		if err := g.dayFile(create, all[0], g.start.AddDate(0, 0, g.days-1).Add(time.Second), k); err != nil {
			return err
		}
		written += k
	}
	return nil
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// dayFile writes k messages of c on day. A file name already used (the
// top-up) gets the next day's name: exports hold one file per day.
func (g *gen) dayFile(create sink, c convo, day time.Time, k int) error {
	f, err := create(c.name + "/" + day.Format("2006-01-02") + ".json")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	w.WriteString("[\n")
	step := int64(86_000_000_000) / int64(k+1) // microseconds, within the day
	base := day.UnixMicro()
	var parent string
	for i := 0; i < k; i++ {
		us := base + int64(i+1)*max(step, 1)
		ts := fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
		u := c.members[g.r.IntN(len(c.members))]
		m := map[string]any{"type": "message", "user": u, "text": fmt.Sprintf("message %d in %s: %s", i, c.name, lorem[g.r.IntN(len(lorem))]), "ts": ts}
		switch r := g.r.IntN(100); {
		case r < 10 && parent != "":
			m["thread_ts"], m["parent_user_id"] = parent, c.members[0]
		case r < 12:
			m["subtype"], m["files"] = "file_share", []map[string]any{{"id": "F" + strings.ReplaceAll(ts, ".", ""), "name": "report.pdf", "size": 1024}}
		case r < 13:
			m["edited"] = map[string]any{"user": u, "ts": fmt.Sprintf("%d.000000", us/1e6+60)}
		case r < 14:
			m["pinned_to"] = []string{c.id}
		}
		if g.r.IntN(10) == 0 {
			m["reactions"] = []map[string]any{{"name": "thumbsup", "users": c.members[:min(2, len(c.members))], "count": min(2, len(c.members))}}
		}
		if i%50 == 0 {
			parent = ts
		}
		b, _ := json.Marshal(m)
		w.Write(b)
		if i < k-1 {
			w.WriteString(",\n")
		}
	}
	w.WriteString("\n]\n")
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func writeJSON(create sink, name string, v any) error {
	f, err := create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return f.Close()
}

var lorem = []string{"shipping the fix today", "can someone review?", "lunch?", "the build is green again",
	"see the doc for details", "meeting moved to 3pm", "thanks!", "I'll take a look"}
