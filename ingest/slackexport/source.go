package slackexport

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// DefaultMaxUncompressed bounds what an export may unpack to: far above any
// real export read here, low enough that a zip bomb cannot fill a disk's
// worth of memory and CPU.
const DefaultMaxUncompressed int64 = 20 << 30

// source is an export's files, from a zip archive or a folder. Names are
// slash-separated and relative to the export's root (where users.json is).
type source interface {
	// files lists the regular files, sorted by name.
	files() []entry
	open(name string) (io.ReadCloser, error)
	Close() error
}

type entry struct {
	name string
	size int64 // declared (zip) or on-disk size
}

// openSource opens path as a zip archive or a folder and refuses what a
// hostile export could use to escape or exhaust: paths leaving the folder,
// absolute paths, links, and more than max bytes once unpacked.
func openSource(p string, max int64) (source, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return openDir(p, max)
	}
	return openZip(p, max)
}

// budget counts the bytes read in one pass over an export against the
// uncompressed limit, so an archive that lies about its sizes is stopped
// while it is being read.
type budget struct {
	max  int64
	used atomic.Int64 // readers of several files add to it at once
	what string
}

func (b *budget) reader(name string, r io.Reader) io.Reader {
	return &countingReader{r: r, b: b, name: name}
}

type countingReader struct {
	r    io.Reader
	b    *budget
	name string
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.b.used.Add(int64(n)) > c.b.max {
		return n, fmt.Errorf("%s: %w: more than %d bytes once unpacked (reading %s; raise --max-uncompressed to allow it)",
			c.b.what, ErrTooLarge, c.b.max, c.name)
	}
	return n, err
}

// Errors a caller may test for with errors.Is.
var (
	ErrNotExport = errors.New("not a Slack export")
	ErrHostile   = errors.New("refused")
	ErrTooLarge  = errors.New("too large")
)

type zipSource struct {
	zr     *zip.ReadCloser
	root   string
	byName map[string]*zip.File
	list   []entry
	budget *budget
}

func openZip(p string, max int64) (source, error) {
	zr, err := zip.OpenReader(p)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%s: %w: not a zip archive or a folder (%w)", p, ErrNotExport, err)
	}
	s := &zipSource{zr: zr, byName: map[string]*zip.File{}}
	var declared uint64
	var names []string
	for _, f := range zr.File {
		clean, err := checkZipName(f.Name)
		if err != nil {
			zr.Close()
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			zr.Close()
			return nil, fmt.Errorf("%s: %w: entry %q is a symbolic link", p, ErrHostile, f.Name)
		}
		if f.Mode().IsDir() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		if !f.Mode().IsRegular() {
			zr.Close()
			return nil, fmt.Errorf("%s: %w: entry %q is not a regular file (mode %s)", p, ErrHostile, f.Name, f.Mode())
		}
		declared += f.UncompressedSize64
		if declared > uint64(max) {
			zr.Close()
			return nil, fmt.Errorf("%s: %w: its entries declare more than %d bytes once unpacked (raise --max-uncompressed to allow it)", p, ErrTooLarge, max)
		}
		names = append(names, clean)
		s.byName[clean] = f
	}
	s.root = exportRoot(names)
	for _, n := range names {
		if rel, ok := strings.CutPrefix(n, s.root); ok {
			s.list = append(s.list, entry{name: rel, size: int64(s.byName[n].UncompressedSize64)})
		}
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].name < s.list[j].name })
	return s, nil
}

// checkZipName refuses entry names that are absolute or leave the archive's
// folder once cleaned, and returns the name to use (slash-separated, clean).
func checkZipName(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(n, "/") || len(n) >= 2 && n[1] == ':' {
		return "", fmt.Errorf("%w: entry %q has an absolute path", ErrHostile, name)
	}
	c := path.Clean(n)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%w: entry %q escapes the export folder", ErrHostile, name)
	}
	return c, nil
}

// exportRoot finds the folder holding users.json: the archive's root, or a
// single folder the export was zipped in. Without users.json it is the root
// (and the scan reports users.json missing).
func exportRoot(names []string) string {
	best := ""
	found := false
	for _, n := range names {
		if path.Base(n) != "users.json" {
			continue
		}
		dir := path.Dir(n)
		if dir == "." {
			return ""
		}
		if !found || len(dir) < len(best)-1 {
			best, found = dir+"/", true
		}
	}
	return best
}

func (s *zipSource) files() []entry { return s.list }

func (s *zipSource) open(name string) (io.ReadCloser, error) {
	f, ok := s.byName[s.root+name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rc, nil
}

func (s *zipSource) Close() error { return s.zr.Close() }

type dirSource struct {
	root string
	list []entry
}

func openDir(p string, max int64) (source, error) {
	root, err := filepath.EvalSymlinks(p) // the folder named is the user's choice
	if err != nil {
		return nil, err
	}
	s := &dirSource{root: root}
	var total int64
	err = filepath.WalkDir(root, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, fp)
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s is a symbolic link", ErrHostile, filepath.ToSlash(rel))
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%w: %s is not a regular file", ErrHostile, filepath.ToSlash(rel))
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += fi.Size()
		if total > max {
			return fmt.Errorf("%w: its files hold more than %d bytes (raise --max-uncompressed to allow it)", ErrTooLarge, max)
		}
		s.list = append(s.list, entry{name: filepath.ToSlash(rel), size: fi.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].name < s.list[j].name })
	return s, nil
}

func (s *dirSource) files() []entry { return s.list }

func (s *dirSource) open(name string) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(s.root, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	// A file swapped for a link after the walk is refused too.
	fi, err := os.Lstat(filepath.Join(s.root, filepath.FromSlash(name)))
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is no longer a regular file", ErrHostile, name)
	}
	return f, nil
}

func (s *dirSource) Close() error { return nil }
