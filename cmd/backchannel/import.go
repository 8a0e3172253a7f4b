package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
)

// importCmd loads an events NDJSON file (optionally gzipped, or stdin), or a
// Slack export (.zip or its folder; import_export.go).
type importCmd struct{ env *cliEnv }

func (c *importCmd) Name() string { return "import" }
func (c *importCmd) Synopsis() string {
	return "import a Slack export (.zip or folder) or events from FILE.ndjson[.gz] or - (stdin); idempotent"
}

// defaultImportBatch is how many events of an NDJSON file one Store.Apply
// takes (--batch-size): one transaction each. Bigger batches commit less
// often, and a commit writes each page it changed once however many events
// changed it (a batch of the analytics benchmark's day changes thousands,
// most of them by a few events each): that day's import ran 1.14× as fast
// in batches of 50,000 as of 20,000 (docs/BENCHMARKS.md), for about
// 190 MiB more memory. A Slack export keeps its own smaller batches
// (slackexport.DefaultBatchSize) and memory bound.
const defaultImportBatch = 50_000

func (c *importCmd) Run(ctx context.Context, args []string) error {
	fs := newFlagSet(c.env, "import", "import [--db DSN] EXPORT.zip|EXPORT-FOLDER|FILE.ndjson[.gz]|-")
	db := fs.String("db", defaultDB, "database: a SQLite file path or a postgres:// URL")
	ex := exportFlags(fs)
	batch := fs.Int("batch-size", defaultImportBatch, "NDJSON: events stored per transaction (fewer use less memory, more are faster)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *batch < 1 {
		return &usageError{"--batch-size: want a positive number of events"}
	}
	if fs.NArg() != 1 {
		return &usageError{"name one file or folder: a Slack export (EXPORT.zip or its folder), FILE.ndjson, FILE.ndjson.gz or - for stdin"}
	}
	path := fs.Arg(0)
	if strings.HasSuffix(strings.ToLower(path), ".zip") || isDir(path) {
		return c.runExport(ctx, *db, path, ex)
	}
	src, file, cleanup, err := c.spool(path)
	if err != nil {
		return err
	}
	defer cleanup()

	// Pass 1 validates every line, so a bad line fails the import before
	// anything is stored.
	lines, err := validateFile(file, src, path, min(runtime.GOMAXPROCS(0), 4), 16<<20)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	prog := newProgress(c.env.stderr, lines)
	res, err := applyFile(ctx, st, src, path, *batch, prog)
	prog.done()
	if err != nil {
		return err
	}
	if err := compact(ctx, st); err != nil {
		return err
	}
	fmt.Fprintf(c.env.stdout, "imported %d events (%d duplicates) from %s in %s\n",
		res.Accepted, res.Duplicates, path, time.Since(start).Round(time.Millisecond))
	return nil
}

// compact lets a store that logs rollups for later merging (SQLite's
// rollup runs) merge what the import brought, so that its days close
// without doing it.
func compact(ctx context.Context, st backchannel.Store) error {
	if c, ok := st.(interface{ CompactRollups(context.Context) error }); ok {
		return c.CompactRollups(ctx)
	}
	return nil
}

// spool returns a function that opens the input afresh (it is read twice);
// stdin is copied to a temporary file first.
func (c *importCmd) spool(path string) (open func() (io.ReadCloser, error), file string, cleanup func(), err error) {
	cleanup = func() {}
	if path == "-" {
		f, err := os.CreateTemp("", "backchannel-import-*.ndjson")
		if err != nil {
			return nil, "", nil, fmt.Errorf("spool stdin: %w", err)
		}
		cleanup = func() { f.Close(); os.Remove(f.Name()) }
		if _, err := io.Copy(f, c.env.stdin); err != nil {
			cleanup()
			return nil, "", nil, fmt.Errorf("read stdin: %w", err)
		}
		path = f.Name()
	}
	open = func() (io.ReadCloser, error) { return openEvents(path) }
	return open, path, cleanup, nil
}

// openEvents opens an NDJSON file, transparently un-gzipping it.
func openEvents(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var magic [2]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}
	return f, nil
}

// validateFile is validate over parts of a plain (not gzipped) file, up to
// parts of them at once, each at least minPart bytes: pass 1 is about a
// tenth of an import's time, with the writer idle. A part begins at the
// "\n" that ends the line before it, so its first line is blank and a
// byte order mark after it is refused as it is there in the file. On an
// error the file is checked again from its start, so that the error
// reported is the file's first, with its line.
func validateFile(file string, open func() (io.ReadCloser, error), name string, parts int, minPart int64) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	ps, err := lineParts(f, parts, minPart)
	if err != nil || len(ps) < 2 {
		return validate(open, name)
	}
	counts := make([]int, len(ps))
	failed := make([]bool, len(ps))
	var wg sync.WaitGroup
	for i := range counts {
		wg.Go(func() {
			r := ingest.NewReader(io.NewSectionReader(f, ps[i][0], ps[i][1]-ps[i][0]))
			for {
				err := r.Check()
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					failed[i] = true
					return
				}
				counts[i]++
			}
		})
	}
	wg.Wait()
	n := 0
	for i, c := range counts {
		if failed[i] {
			return validate(open, name)
		}
		n += c
	}
	return n, nil
}

// lineParts splits f at line ends into up to n parts of at least minPart
// bytes, returned as [start, end) pairs: every part after the first starts
// with the "\n" that ends the part before it. It returns nil for a gzipped
// file.
func lineParts(f *os.File, n int, minPart int64) ([][2]int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || (magic[0] == 0x1f && magic[1] == 0x8b) {
		return nil, err
	}
	n = int(min(int64(n), size/max(minPart, 1)))
	parts := [][2]int64{{0, size}}
	buf := make([]byte, 64<<10)
	for i := 1; i < n; i++ {
		last := &parts[len(parts)-1]
		off := max(size*int64(i)/int64(n), last[0]+1)
		nl := int64(-1) // the first "\n" at or after off
		for nl < 0 && off < size {
			k, err := f.ReadAt(buf, off)
			if j := bytes.IndexByte(buf[:k], '\n'); j >= 0 {
				nl = off + int64(j)
			} else if err != nil {
				break // io.EOF: the last line runs to the end
			}
			off += int64(k)
		}
		if nl < 0 || nl+1 >= size {
			break
		}
		last[1] = nl + 1
		parts = append(parts, [2]int64{nl, size})
	}
	return parts, nil
}

func validate(open func() (io.ReadCloser, error), name string) (int, error) {
	rc, err := open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	r := ingest.NewReader(rc)
	n := 0
	for {
		err := r.Check()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("%s: %w (nothing was imported)", name, err)
		}
		n++
	}
}

// applyFile applies the events of a checked file in batches of batchSize,
// decoding the next batch while the store commits one.
func applyFile(ctx context.Context, st backchannel.Store, open func() (io.ReadCloser, error), name string, batchSize int, prog *progress) (backchannel.ApplyResult, error) {
	var total backchannel.ApplyResult
	rc, err := open()
	if err != nil {
		return total, err
	}
	defer rc.Close()
	ctx, cancel := context.WithCancel(ctx)
	type decoded struct {
		batch []backchannel.Event
		err   error
	}
	// Unbuffered: the next batch waits, decoded, while one commits.
	batches := make(chan decoded)
	defer func() { // stop the decoder before the file is closed
		cancel()
		for range batches {
		}
	}()
	go func() {
		defer close(batches)
		r := ingest.NewReader(rc)
		for {
			batch, err := r.NextBatch(batchSize)
			if errors.Is(err, io.EOF) {
				err = nil
			}
			if len(batch) > 0 || err != nil {
				select {
				case batches <- decoded{batch, err}:
				case <-ctx.Done():
					return
				}
			}
			if err != nil || len(batch) == 0 {
				return
			}
		}
	}()
	// With a store that queues (SQLite), the next batch is queued while
	// one commits and syncs: the writer never waits for the disk.
	enqueue := func(batch []backchannel.Event) (func() (backchannel.ApplyResult, error), error) {
		if q, ok := st.(interface {
			Enqueue(context.Context, []backchannel.Event) (func() (backchannel.ApplyResult, error), error)
		}); ok {
			return q.Enqueue(ctx, batch)
		}
		res, err := st.Apply(ctx, batch)
		return func() (backchannel.ApplyResult, error) { return res, err }, nil
	}
	var pending func() (backchannel.ApplyResult, error)
	pendingLen := 0
	var failed error // the first batch that failed
	wait := func() {
		if pending == nil {
			return
		}
		res, err := pending()
		pending = nil
		switch {
		case err != nil && failed == nil:
			failed = fmt.Errorf("%s: %w (the %d events before this batch were imported, and the next batch may have been; importing again is safe)",
				name, err, total.Accepted+total.Duplicates)
		case err == nil && failed == nil:
			total.Accepted += res.Accepted
			total.Duplicates += res.Duplicates
			prog.add(pendingLen)
		}
	}
	defer wait() // a batch queued is always waited for
	for d := range batches {
		if len(d.batch) > 0 {
			next, err := enqueue(d.batch)
			wait()
			if err == nil {
				pending, pendingLen = next, len(d.batch)
			} else if failed == nil {
				failed = fmt.Errorf("%s: %w", name, err)
			}
			if failed != nil {
				wait()
				return total, failed
			}
		}
		if d.err != nil {
			wait()
			if failed != nil {
				return total, failed
			}
			return total, fmt.Errorf("%s: %w", name, d.err)
		}
	}
	wait()
	return total, failed
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
