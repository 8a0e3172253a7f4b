package ingest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
)

const msgLine = `{"type":"message","channel":"C1","user":"U1","ts":"1.000001","text":"hi"}`

func TestReaderLinesAndBatches(t *testing.T) {
	in := "\uFEFF" + msgLine + "\r\n\r\n   \n" + strings.Replace(msgLine, "1.000001", "2", 1) + "\n\n" +
		strings.Replace(msgLine, "1.000001", "3", 1) // no final newline
	r := NewReader(strings.NewReader(in))
	b1, err := r.NextBatch(2)
	if err != nil || len(b1) != 2 {
		t.Fatalf("first batch: %d events, %v", len(b1), err)
	}
	b2, err := r.NextBatch(2)
	if err != nil || len(b2) != 1 {
		t.Fatalf("second batch: %d events, %v", len(b2), err)
	}
	if _, err := r.NextBatch(2); err != io.EOF {
		t.Fatalf("third batch: %v, want io.EOF", err)
	}
	var lines []int
	for _, ev := range append(b1, b2...) {
		lines = append(lines, ev.Line)
	}
	if got, want := lines, []int{1, 4, 6}; !equalInts(got, want) {
		t.Errorf("lines = %v, want %v", got, want)
	}
	if b2[0].TS != 3_000000 {
		t.Errorf("last line without newline: %+v", b2[0])
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReaderLongLine(t *testing.T) {
	long := `{"type":"message","channel":"C1","user":"U1","ts":"1","text":"` + strings.Repeat("x", 200_000) + `"}`
	in := msgLine + "\n" + long + "\n" + msgLine + "\n"
	r := NewReader(strings.NewReader(in))
	r.SetMaxLineBytes(100_000)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	if got, want := errString(err), "line 2: line too long (max 100000 bytes)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	ev, err := r.Next()
	if err != nil || ev.Line != 3 {
		t.Errorf("after a long line: %+v, %v", ev, err)
	}
	// Within the limit, a line longer than the read buffer decodes.
	r = NewReader(strings.NewReader(long))
	if ev, err := r.Next(); err != nil || len(ev.Raw) != len(long) {
		t.Errorf("long line: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestReaderBadLineThenContinue(t *testing.T) {
	r := NewReader(strings.NewReader(msgLine + "\n{bad\n" + msgLine + "\n"))
	evs, err := r.NextBatch(10)
	var ee *backchannel.EventError
	if len(evs) != 1 || !errors.As(err, &ee) || ee.Line != 2 {
		t.Fatalf("got %d events, %v", len(evs), err)
	}
	evs, err = r.NextBatch(10)
	if len(evs) != 1 || err != nil || evs[0].Line != 3 {
		t.Fatalf("after the bad line: %d events, %v", len(evs), err)
	}
}

func TestDecodeAll(t *testing.T) {
	body := msgLine + "\n" + msgLine + "\n"
	evs, err := DecodeAll(strings.NewReader(body), 2)
	if err != nil || len(evs) != 2 {
		t.Fatalf("got %d, %v", len(evs), err)
	}
	_, err = DecodeAll(strings.NewReader(body+msgLine), 2)
	if got, want := errString(err), "line 3: too many events in one request (max 2)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	_, err = DecodeAll(strings.NewReader(body+`{"type":"x"}`), 0)
	if got, want := errString(err), `line 3: type: unknown event type "x"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	evs, err = DecodeAll(strings.NewReader(""), 0)
	if err != nil || len(evs) != 0 {
		t.Errorf("empty body: %d, %v", len(evs), err)
	}
}

// Check reports what Next reports, line for line, and after a bad line
// carries on like Next.
func TestReaderCheckIsNext(t *testing.T) {
	in := "\uFEFF" + msgLine + "\n\n{\"type\":\"mesage\"}\r\n" + strings.Repeat("x", 100) + "\n" + msgLine
	next, check := NewReader(strings.NewReader(in)), NewReader(strings.NewReader(in))
	next.SetMaxLineBytes(64 + len(msgLine))
	check.SetMaxLineBytes(64 + len(msgLine))
	for i := 0; ; i++ {
		_, nerr := next.Next()
		cerr := check.Check()
		if fmt.Sprint(nerr) != fmt.Sprint(cerr) || next.Line() != check.Line() {
			t.Fatalf("event %d: Check %v at line %d, Next %v at line %d", i, cerr, check.Line(), nerr, next.Line())
		}
		if nerr == io.EOF {
			if i != 4 {
				t.Fatalf("%d results, want 4", i)
			}
			return
		}
	}
}
