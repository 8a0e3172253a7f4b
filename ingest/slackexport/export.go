// Package slackexport imports a Slack workspace export — the .zip Slack
// hands out, or its unpacked folder — through the one ingest path: every
// user, conversation, message, reaction, pin and membership change becomes
// an NDJSON event of DESIGN.md, decoded by ingest.Decode and stored by
// Store.Apply (docs/import.md maps each export field to its event).
//
// An import reads the export twice, streaming: a first pass checks every
// file and gathers what the events need (when each user was first and last
// seen, which members joined by message); only when it found nothing wrong
// does the second pass apply anything. Day files are decoded element by
// element, so memory stays flat however large the export.
package slackexport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backchannel/backchannel"
)

// Options tunes an import; the zero value is usable.
type Options struct {
	// MaxUncompressed bounds the export's unpacked size, declared and
	// actually read (0: DefaultMaxUncompressed).
	MaxUncompressed int64
	// TeamName names the workspace; exports do not record it (default: the
	// export's file or folder name without ".zip").
	TeamName string
	// BatchSize is how many events one Store.Apply call takes (0: 20000).
	// Bigger batches commit less often (SQLite rewrites the pages a commit
	// dirtied, and the event keys are spread over all of them) but hold
	// more in memory: two batches are in memory at a time.
	BatchSize int
	// Now and Settle decide which days are closed after the import: every
	// day with data that ended Settle before Now (defaults: time.Now, 1h).
	Now    func() time.Time
	Settle time.Duration
	// Progress, when set, is called after each file of each pass.
	Progress func(Progress)
}

// Progress reports how far an import is.
type Progress struct {
	Phase         string // "checking" (pass 1) or "importing" (pass 2)
	Files         int    // day files done in this phase
	TotalFiles    int
	Messages      int // messages done in this phase
	TotalMessages int // 0 while checking (not known yet)
}

// Summary counts what an export holds.
type Summary struct {
	Users, Channels, Files, Messages int
	// First and Last are the earliest and latest timestamps in it (channel
	// creation times and messages); 0 when it has none.
	First, Last backchannel.TS
}

// Export is an opened export. Check must succeed before Lines or Events.
type Export struct {
	name  string // as given, for errors
	src   source
	opt   Options
	team  string
	users []userRecord
	uoff  []int64 // offset of each user in users.json, for errors
	seen  map[string]*span
	convs []*conv
	sum   Summary
	ok    bool
}

// span is when a user was first and last seen in the export.
type span struct{ first, last backchannel.TS }

// conv is one conversation of the export and what the check learnt of it.
type conv struct {
	rec    convRecord
	kind   string
	from   string // channels.json, groups.json, ...
	index  int    // its element number there
	folder string
	days   []string

	joinMsg        map[string]bool // users with a channel_join message
	firstOldName   string          // old_name of its first channel_name message
	topicChanged   bool
	purposeChanged bool
	first, last    backchannel.TS // its messages' (0 when none)
	messages       int
}

// convFiles are the conversation lists of an export, in import order.
var convFiles = []struct{ file, kind string }{
	{"channels.json", backchannel.KindPublic},
	{"groups.json", backchannel.KindPrivate},
	{"mpims.json", backchannel.KindMPIM},
	{"dms.json", backchannel.KindIM},
}

var dayFile = regexp.MustCompile(`^[^/]+/\d{4}-\d{2}-\d{2}\.json$`)

// Open opens the export at path (a .zip or a folder) and checks its layout;
// Check then reads it all.
func Open(p string, opt Options) (*Export, error) {
	if opt.MaxUncompressed <= 0 {
		opt.MaxUncompressed = DefaultMaxUncompressed
	}
	src, err := openSource(p, opt.MaxUncompressed)
	if err != nil {
		return nil, err
	}
	x := &Export{name: p, src: src, opt: opt, seen: map[string]*span{}}
	if x.opt.TeamName == "" {
		x.opt.TeamName = strings.TrimSuffix(path.Base(strings.ReplaceAll(strings.TrimRight(p, `/\`), `\`, "/")), ".zip")
	}
	have := map[string]bool{}
	for _, e := range src.files() {
		have[e.name] = true
	}
	for _, f := range []string{"users.json", "channels.json"} {
		if !have[f] {
			src.Close()
			return nil, fmt.Errorf("%s: %w: %s is missing", p, ErrNotExport, f)
		}
	}
	return x, nil
}

// Close releases the export's files.
func (x *Export) Close() error { return x.src.Close() }

// Summary is what Check counted.
func (x *Export) Summary() Summary { return x.sum }

// TeamID is the workspace the export is of.
func (x *Export) TeamID() string { return x.team }

// Check reads the whole export once: it parses every file, turns every
// message into its events and decodes them, and gathers what the events
// need. An error names the file and the position (line:column) and means
// nothing may be imported.
func (x *Export) Check(ctx context.Context) (Summary, error) {
	b := &budget{max: x.opt.MaxUncompressed, what: x.name}
	if err := x.readDirectory(b); err != nil {
		return Summary{}, err
	}
	total := x.dayFiles()
	if err := x.checkConvs(ctx, b, total); err != nil {
		return Summary{}, err
	}
	for _, c := range x.convs {
		x.sum.Messages += c.messages
		x.sum.First = minTS(x.sum.First, c.first, backchannel.TS(int64(c.rec.Created)*1_000_000))
		x.sum.Last = max(x.sum.Last, c.last, backchannel.TS(int64(c.rec.Created)*1_000_000))
	}
	x.sum.Files = total
	// The directory lines depend on what the walk learnt; check them too.
	v := &validator{}
	if err := x.directoryLines(v.emit); err != nil {
		return Summary{}, err
	}
	x.ok = true
	return x.sum, nil
}

// checkConvs walks every conversation in check mode, several at once (one
// per CPU): conversations are independent until the directory lines, which
// need every walker's users merged. The error reported is that of the first
// conversation, in the export's order, that has one, as a walk in order
// would report it; conversations after it are abandoned.
func (x *Export) checkConvs(ctx context.Context, b *budget, totalFiles int) error {
	var (
		mu         sync.Mutex // guards the progress counts and the calls
		done, msgs int
		next       atomic.Int64
		failed     atomic.Int64 // index of the first conversation that failed
		errs       = make([]error, len(x.convs))
		wg         sync.WaitGroup
	)
	failed.Store(int64(len(x.convs)))
	fileDone := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		done++
		msgs += n
		x.progress(Progress{Phase: "checking", Files: done, TotalFiles: totalFiles, Messages: msgs})
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(x.convs)))
	walkers := make([]*walker, workers)
	for k := range walkers {
		v := &validator{}
		w := &walker{x: x, emit: v.emit, check: true, seen: map[string]*span{}}
		walkers[k] = w
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= failed.Load() {
					return
				}
				if err := w.conv(ctx, b, x.convs[i], fileDone); err != nil {
					errs[i] = err
					for f := failed.Load(); i < f && !failed.CompareAndSwap(f, i); f = failed.Load() {
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for _, w := range walkers {
		x.merge(w.seen)
	}
	return nil
}

func (x *Export) dayFiles() int {
	n := 0
	for _, c := range x.convs {
		n += len(c.days)
	}
	return n
}

func (x *Export) progress(p Progress) {
	if x.opt.Progress != nil {
		x.opt.Progress(p)
	}
}

// readDirectory reads users.json and the conversation lists, and assigns
// the day files to their conversations.
func (x *Export) readDirectory(b *budget) error {
	teams := map[string]int{}
	err := x.readFile(b, "users.json", func(d *dayReader) error {
		for i := 1; ; i++ {
			raw, off, err := d.next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			u, err := decodeRecord[userRecord](raw, off, i)
			if err != nil {
				return err
			}
			if u.TeamID == "" {
				u.TeamID = u.Profile.Team
			}
			if u.TeamID != "" {
				teams[u.TeamID]++
			}
			x.users = append(x.users, u)
			x.uoff = append(x.uoff, off)
		}
	})
	if err != nil {
		return err
	}
	x.sum.Users = len(x.users)
	for id, n := range teams {
		if x.team == "" || n > teams[x.team] || n == teams[x.team] && id < x.team {
			x.team = id
		}
	}
	if x.team == "" {
		return fmt.Errorf("%s: users.json: no user has a team_id, so the workspace has no ID", x.name)
	}
	byID, byFolder := map[string]*conv{}, map[string]*conv{}
	for _, cf := range convFiles {
		if !x.has(cf.file) {
			continue
		}
		i := 0
		err := x.readFile(b, cf.file, func(d *dayReader) error {
			return readArray(d, func(rec convRecord) error {
				i++
				if rec.ID == "" {
					return errors.New("id: required")
				}
				if byID[rec.ID] != nil {
					return fmt.Errorf("id: conversation %s is listed twice", rec.ID)
				}
				c := &conv{rec: rec, kind: cf.kind, from: cf.file, index: i, joinMsg: map[string]bool{}}
				c.folder = rec.Name
				if cf.kind == backchannel.KindIM || rec.Name == "" {
					c.folder = rec.ID
				}
				byID[rec.ID], byFolder[c.folder] = c, c
				x.convs = append(x.convs, c)
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	x.sum.Channels = len(x.convs)
	for _, e := range x.src.files() {
		if !dayFile.MatchString(e.name) {
			continue
		}
		folder := e.name[:strings.IndexByte(e.name, '/')]
		c := byFolder[folder]
		if c == nil {
			c = byID[folder]
		}
		if c == nil {
			return fmt.Errorf("%s: %s: the folder %q is no conversation of channels.json, groups.json, mpims.json or dms.json", x.name, e.name, folder)
		}
		c.days = append(c.days, e.name)
	}
	for _, c := range x.convs {
		sort.Strings(c.days)
	}
	if x.has("integration_logs.json") {
		// Installs and removals of integrations have no event (docs/import.md):
		// the file is checked, not imported.
		return x.readFile(b, "integration_logs.json", func(d *dayReader) error {
			return readArray(d, func(map[string]any) error { return nil })
		})
	}
	return nil
}

func decodeRecord[T any](raw []byte, off int64, i int) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, &posError{off, fmt.Sprintf("element %d: %s", i, err)}
	}
	return v, nil
}

func (x *Export) has(name string) bool {
	for _, e := range x.src.files() {
		if e.name == name {
			return true
		}
	}
	return false
}

// readFile opens name, passes it to fn as a dayReader and turns a posError
// into "export: name:line:col: message".
func (x *Export) readFile(b *budget, name string, fn func(*dayReader) error) error {
	return x.readFileBuf(b, name, nil, fn)
}

// readFileBuf is readFile reading through *buf, a buffer reused from file
// to file (a walker reads thousands of day files).
func (x *Export) readFileBuf(b *budget, name string, buf *[]byte, fn func(*dayReader) error) error {
	var opened []io.Closer
	defer func() {
		for _, c := range opened {
			c.Close()
		}
	}()
	open := func() (io.Reader, error) {
		rc, err := x.src.open(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.name, err)
		}
		opened = append(opened, rc)
		return b.reader(name, rc), nil
	}
	r, err := open()
	if err != nil {
		return err
	}
	d := newDayReader(r, open)
	if buf != nil {
		d.buf = (*buf)[:0]
		defer func() {
			if cap(d.buf) <= 1<<20 { // a huge element's buffer is not kept
				*buf = d.buf[:0]
			}
		}()
	}
	if err := fn(d); err != nil {
		return x.located(name, -1, err)
	}
	return nil
}

// located prefixes err with the export, the file and the line:column of off
// (of a posError's offset; none when off < 0).
func (x *Export) located(file string, off int64, err error) error {
	var le *locatedError
	if errors.Is(err, ErrTooLarge) || errors.As(err, &le) {
		return err
	}
	var pe *posError
	if errors.As(err, &pe) {
		off, err = pe.offset, errors.New(pe.msg)
	}
	where := file
	if off >= 0 {
		if rc, oerr := x.src.open(file); oerr == nil {
			l, c := lineCol(rc, off)
			rc.Close()
			where = fmt.Sprintf("%s:%d:%d", file, l, c)
		}
	}
	return &locatedError{fmt.Errorf("%s: %s: %w", x.name, where, err)}
}

// locatedError already names its export, file and position.
type locatedError struct{ err error }

func (e *locatedError) Error() string { return e.err.Error() }
func (e *locatedError) Unwrap() error { return e.err }

func minTS(ts ...backchannel.TS) backchannel.TS {
	var m backchannel.TS
	for _, t := range ts {
		if t > 0 && (m == 0 || t < m) {
			m = t
		}
	}
	return m
}

// see notes that user was active at ts.
func (w *walker) see(user string, ts backchannel.TS) {
	if user == "" || ts <= 0 {
		return
	}
	s := w.seen[user]
	if s == nil {
		w.seen[user] = &span{ts, ts}
		return
	}
	s.first, s.last = min(s.first, ts), max(s.last, ts)
}

// merge adds the users seen by one walker to x.seen.
func (x *Export) merge(seen map[string]*span) {
	for u, s := range seen {
		if t := x.seen[u]; t != nil {
			t.first, t.last = min(t.first, s.first), max(t.last, s.last)
		} else {
			x.seen[u] = s
		}
	}
}
