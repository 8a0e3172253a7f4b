package analytics

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ChunkSize is how much of a stored file one row holds: files are stored and
// streamed in chunks so that neither building nor serving one needs the
// whole file in memory.
const ChunkSize = 256 << 10

// Level is the gzip level of the files: gzip.BestSpeed, Go's fast deflate,
// which closes a day faster than `gzip -1` does on the same bytes (measured
// in BenchmarkFileWriter; see docs/analytics.md).
const Level = gzip.BestSpeed

// FileWriter writes one analytics file: NDJSON lines through a single gzip
// member. Lines are appended into a buffer and compressed in large writes.
type FileWriter struct {
	zw    *gzip.Writer
	buf   []byte
	lines int
	err   error
}

// compressors keeps gzip writers (and line buffers) of closed files for
// the next: a deflate compressor is large to allocate, and closing a
// quiet day builds three small files.
var compressors = sync.Pool{New: func() any {
	zw, err := gzip.NewWriterLevel(nil, Level)
	if err != nil {
		panic(err) // Level is a valid constant
	}
	return &FileWriter{zw: zw, buf: make([]byte, 0, 64<<10)}
}}

// NewFileWriter starts a file that writes its gzip bytes to w.
func NewFileWriter(w io.Writer) *FileWriter {
	f := compressors.Get().(*FileWriter)
	f.zw.Reset(w) // the same bytes as a new writer's (tested)
	return f
}

// Append adds one line: add appends it (with its "\n") to the buffer it is
// given, e.g. func(b []byte) []byte { return AppendMember(b, &row) }.
func (f *FileWriter) Append(add func([]byte) []byte) error {
	if f.err != nil {
		return f.err
	}
	f.buf = add(f.buf)
	f.lines++
	if len(f.buf) >= 60<<10 {
		f.flush()
	}
	return f.err
}

// Member appends a member line.
func (f *FileWriter) Member(r *MemberRow) error {
	return f.Append(func(b []byte) []byte { return AppendMember(b, r) })
}

// PublicChannel appends a public_channel line.
func (f *FileWriter) PublicChannel(r *ChannelRow) error {
	return f.Append(func(b []byte) []byte { return AppendPublicChannel(b, r) })
}

// Metadata appends a metadata line.
func (f *FileWriter) Metadata(r *MetadataRow) error {
	return f.Append(func(b []byte) []byte { return AppendMetadata(b, r) })
}

// Encoded adds lines encoded already (by AppendMember and the like, each
// ending in "\n"): the file's bytes are the same as if each had been
// appended one by one.
func (f *FileWriter) Encoded(b []byte, lines int) error {
	f.flush()
	if f.err == nil && len(b) > 0 {
		if _, err := f.zw.Write(b); err != nil {
			f.err = fmt.Errorf("analytics: compress: %w", err)
		}
	}
	f.lines += lines
	return f.err
}

// Lines is the number of lines appended so far.
func (f *FileWriter) Lines() int { return f.lines }

func (f *FileWriter) flush() {
	if f.err == nil && len(f.buf) > 0 {
		if _, err := f.zw.Write(f.buf); err != nil {
			f.err = fmt.Errorf("analytics: compress: %w", err)
		}
	}
	f.buf = f.buf[:0]
}

// Close writes the rest and the gzip trailer. It does not close the
// underlying writer. The FileWriter may not be used after.
func (f *FileWriter) Close() error {
	f.flush()
	if f.err != nil {
		return f.err
	}
	if err := f.zw.Close(); err != nil {
		return fmt.Errorf("analytics: compress: %w", err)
	}
	f.zw.Reset(nil)
	compressors.Put(&FileWriter{zw: f.zw, buf: f.buf[:0]})
	f.zw, f.buf, f.err = nil, nil, errClosed
	return nil
}

var errClosed = errors.New("analytics: file writer used after Close")

// Chunker is an io.Writer that cuts what it is given into chunks of Size
// bytes (the last may be shorter) and hands each to Store with its index
// (0, 1, …). Store may keep the slice only until it returns.
type Chunker struct {
	Size  int
	Store func(index int, chunk []byte) error
	buf   []byte
	n     int
}

func (c *Chunker) Write(p []byte) (int, error) {
	if c.buf == nil {
		c.buf = make([]byte, 0, c.Size)
	}
	written := len(p)
	for len(p) > 0 {
		k := min(len(p), c.Size-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == c.Size {
			if err := c.emit(); err != nil {
				return 0, err
			}
		}
	}
	return written, nil
}

func (c *Chunker) emit() error {
	if err := c.Store(c.n, c.buf); err != nil {
		return fmt.Errorf("analytics: store chunk %d: %w", c.n, err)
	}
	c.n++
	c.buf = c.buf[:0]
	return nil
}

// Close stores the last, partial chunk. Chunks reports how many were stored.
func (c *Chunker) Close() error {
	if len(c.buf) == 0 {
		return nil
	}
	return c.emit()
}

// Chunks is the number of chunks stored so far.
func (c *Chunker) Chunks() int { return c.n }

// ChunkReader streams a stored file back: Next returns chunk i (io.EOF past
// the last), so only one chunk is in memory at a time.
type ChunkReader struct {
	Next  func(index int) ([]byte, error)
	Done  func() error // called once by Close; may be nil
	cur   []byte
	i     int
	eof   bool
	close bool
}

func (r *ChunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		b, err := r.Next(r.i)
		if err == io.EOF {
			r.eof = true
			continue
		}
		if err != nil {
			return 0, err
		}
		r.cur, r.i = b, r.i+1
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Close releases the reader.
func (r *ChunkReader) Close() error {
	if r.close || r.Done == nil {
		return nil
	}
	r.close = true
	return r.Done()
}
