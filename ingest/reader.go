package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/backchannel/backchannel"
)

// DefaultMaxLineBytes bounds one line. Slack caps a message's text at 40,000
// characters; blocks and attachments can add as much again, several times.
const DefaultMaxLineBytes = 1 << 20

// Reader decodes a stream of NDJSON events. Blank lines are skipped (but
// counted, so line numbers match the input); "\r\n" endings and a leading
// UTF-8 byte order mark are accepted.
//
// A bad line yields an *backchannel.EventError and the Reader moves on to
// the next line, so a caller may report and continue; a read error is
// returned as is and repeats.
type Reader struct {
	br      *bufio.Reader
	d       decoder
	line    int
	max     int
	long    []byte // assembles lines longer than the bufio buffer
	readErr error
	// scratch collects NextBatch's events, which it returns in a slice of
	// their exact number: a batch grown by append would allocate about
	// twice its size (an Event is ~300 bytes; a 20,000-event batch 6 MB).
	scratch []backchannel.Event
}

// NewReader returns a Reader of r with DefaultMaxLineBytes.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), max: DefaultMaxLineBytes}
}

// SetMaxLineBytes changes the longest accepted line (n > 0).
func (r *Reader) SetMaxLineBytes(n int) { r.max = n }

// Line returns the number of the last line read.
func (r *Reader) Line() int { return r.line }

// Next returns the next event, or io.EOF after the last.
func (r *Reader) Next() (backchannel.Event, error) {
	r.d.check = false
	return r.next()
}

// Check reads the next event and validates it exactly as Next would,
// returning the same error, but builds nothing (Decoder.Check): how an
// importer checks a whole input cheaply before applying any of it. It
// returns io.EOF after the last event.
func (r *Reader) Check() error {
	r.d.check = true
	_, err := r.next()
	return err
}

func (r *Reader) next() (backchannel.Event, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return backchannel.Event{}, err
		}
		if r.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return r.d.decode(line, r.line)
	}
}

// NextBatch returns up to max events. At the end of the input it returns
// the last events with a nil error, then nil, io.EOF. On a bad line it
// returns the events decoded before it together with the error.
func (r *Reader) NextBatch(max int) ([]backchannel.Event, error) {
	if max <= 0 {
		max = 1
	}
	evs := r.scratch[:0]
	defer func() {
		clear(evs) // nothing kept alive by the scratch slice
		r.scratch = evs[:0]
	}()
	exact := func() []backchannel.Event {
		if len(evs) == 0 {
			return nil
		}
		return append([]backchannel.Event(nil), evs...)
	}
	for len(evs) < max {
		ev, err := r.Next()
		if err == io.EOF && len(evs) > 0 {
			return exact(), nil
		}
		if err != nil {
			return exact(), err
		}
		evs = append(evs, ev)
	}
	return exact(), nil
}

// readLine returns the next line without its "\n"; the bytes are valid
// until the next call.
func (r *Reader) readLine() ([]byte, error) {
	if r.readErr != nil {
		return nil, r.readErr
	}
	r.long = r.long[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(r.long)+len(chunk) > r.max {
				return nil, r.skipLong()
			}
			r.long = append(r.long, chunk...)
			continue
		}
		if err != nil && err != io.EOF {
			r.readErr = fmt.Errorf("ingest: read line %d: %w", r.line+1, err)
			return nil, r.readErr
		}
		if err == io.EOF {
			if len(chunk) == 0 && len(r.long) == 0 {
				r.readErr = io.EOF
				return nil, io.EOF
			}
			r.readErr = io.EOF // the last line had no "\n"
		}
		r.line++
		line := chunk
		if len(r.long) > 0 {
			r.long = append(r.long, chunk...)
			line = r.long
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) > r.max {
			return nil, r.tooLong()
		}
		return line, nil
	}
}

// skipLong discards the rest of an over-long line and reports it.
func (r *Reader) skipLong() error {
	for {
		_, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			r.readErr = fmt.Errorf("ingest: read line %d: %w", r.line+1, err)
			return r.readErr
		}
		if err == io.EOF {
			r.readErr = io.EOF
		}
		r.line++
		return r.tooLong()
	}
}

func (r *Reader) tooLong() error {
	return &backchannel.EventError{Line: r.line, Detail: fmt.Sprintf("line too long (max %d bytes)", r.max)}
}

// DecodeAll decodes a whole request body. It fails on the first bad line
// (the request is atomic) and when the body holds more than maxEvents
// events (maxEvents <= 0: no limit).
func DecodeAll(body io.Reader, maxEvents int) ([]backchannel.Event, error) {
	r := NewReader(body)
	var evs []backchannel.Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return nil, err
		}
		if maxEvents > 0 && len(evs) == maxEvents {
			return nil, &backchannel.EventError{Line: r.Line(), Detail: fmt.Sprintf("too many events in one request (max %d)", maxEvents)}
		}
		evs = append(evs, ev)
	}
}
