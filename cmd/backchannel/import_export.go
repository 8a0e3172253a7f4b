package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/backchannel/backchannel/ingest/slackexport"
)

// exportOpts are the import flags that only a Slack export reads.
type exportOpts struct {
	maxUncompressed *string
	teamName        *string
	settle          *time.Duration
}

func exportFlags(fs *flag.FlagSet) exportOpts {
	return exportOpts{
		maxUncompressed: fs.String("max-uncompressed", "20GiB", "Slack export: refuse an export larger than this once unpacked (declared or read), e.g. 500MiB, 20GiB"),
		teamName:        fs.String("team-name", "", "Slack export: the workspace's name (default: the export's file or folder name)"),
		settle:          fs.Duration("analytics-settle", time.Hour, "Slack export: close the analytics days that ended this long ago"),
	}
}

// runExport imports a Slack export: checked whole first, then applied, then
// its finished days' analytics built.
func (c *importCmd) runExport(ctx context.Context, db, path string, o exportOpts) error {
	max, err := parseSize(*o.maxUncompressed)
	if err != nil {
		return &usageError{"--max-uncompressed: " + err.Error()}
	}
	st, err := openStore(ctx, db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	bar := newExportBar(c.env.stdout)
	res, err := slackexport.Import(ctx, st, path, slackexport.Options{
		MaxUncompressed: max, TeamName: *o.teamName, Settle: *o.settle, Progress: bar.draw})
	bar.clear()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.stdout, "imported %d messages, %d users, %d channels in %s\n",
		res.Messages, res.Users, res.Channels, seconds(res.Elapsed))
	if bar.tty {
		fmt.Fprintf(c.env.stdout, "  %d events: %d new, %d already stored; %d day files; analytics: %s\n",
			res.Events, res.Accepted, res.Duplicates, res.Files, analyticsNote(res))
	}
	return nil
}

func analyticsNote(res slackexport.Result) string {
	switch {
	case !res.Analytics:
		return "this store keeps none"
	case len(res.Finalized) == 0 && res.Rebuilt == nil:
		return "no day to close"
	}
	s := fmt.Sprintf("%d days closed", len(res.Finalized))
	if res.Rebuilt != nil {
		s += fmt.Sprintf(", %s..%s rebuilt", res.Rebuilt[0], res.Rebuilt[1])
	}
	return s
}

func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// parseSize reads a byte count with an optional unit (KiB, MiB, GiB, TiB
// and their decimal KB, MB, GB, TB).
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q (want e.g. 20GiB)", s)
	}
	return n * mult, nil
}

// exportBar draws the import's progress on a terminal: the phase, day
// files, messages, rate and ETA.
type exportBar struct {
	w            io.Writer
	tty          bool
	start, drawn time.Time
	phase        string
}

func newExportBar(w io.Writer) *exportBar {
	return &exportBar{w: w, tty: isTerminal(w), start: time.Now()}
}

func (b *exportBar) draw(p slackexport.Progress) {
	if !b.tty {
		return
	}
	if p.Phase != b.phase {
		b.phase, b.start = p.Phase, time.Now()
	}
	last := p.Files == p.TotalFiles
	if !last && time.Since(b.drawn) < 200*time.Millisecond {
		return
	}
	b.drawn = time.Now()
	el := max(time.Since(b.start).Seconds(), 1e-9)
	rate := float64(p.Messages) / el
	eta := "?"
	if p.Files > 0 {
		eta = (time.Duration(el*float64(p.TotalFiles-p.Files)/float64(p.Files)) * time.Second).Round(time.Second).String()
	}
	const width = 24
	filled := 0
	if p.TotalFiles > 0 {
		filled = p.Files * width / p.TotalFiles
	}
	bar := strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
	msgs := strconv.Itoa(p.Messages)
	if p.TotalMessages > 0 {
		msgs += "/" + strconv.Itoa(p.TotalMessages)
	}
	fmt.Fprintf(b.w, "\r\033[K%-9s [%s] %d/%d files  %s messages  %.0f/s  ETA %s", p.Phase, bar, p.Files, p.TotalFiles, msgs, rate, eta)
}

func (b *exportBar) clear() {
	if b.tty && !b.drawn.IsZero() {
		fmt.Fprint(b.w, "\r\033[K")
	}
}
