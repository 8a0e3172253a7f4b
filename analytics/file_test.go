package analytics

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

func memberRows(n int) []MemberRow {
	rows := make([]MemberRow, n)
	for i := range rows {
		rows[i] = MemberRow{EnterpriseID: "E0123456789", Date: 19700, UserID: fmt.Sprintf("W%010d", i),
			Email: fmt.Sprintf("person%d@example.org", i), DateClaimed: 1584810430 + int64(i),
			Billable: i%3 != 0, Counts: MemberCounts{Messages: int64(i % 17), Reactions: int64(i % 5), Searches: int64(i % 11), Flags: Flags(i % 128)}}
	}
	return rows
}

// writeFile builds a file of rows through a Chunker, as a store does.
func writeFile(t testing.TB, rows []MemberRow, size int) [][]byte {
	var chunks [][]byte
	ck := &Chunker{Size: size, Store: func(i int, b []byte) error {
		if i != len(chunks) {
			return fmt.Errorf("chunk %d out of order", i)
		}
		chunks = append(chunks, bytes.Clone(b))
		return nil
	}}
	fw := NewFileWriter(ck)
	for i := range rows {
		if err := fw.Member(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ck.Close(); err != nil {
		t.Fatal(err)
	}
	return chunks
}

func TestFileRoundTrip(t *testing.T) {
	rows := memberRows(5000)
	chunks := writeFile(t, rows, 4096)
	if len(chunks) < 2 {
		t.Fatalf("want several chunks, got %d", len(chunks))
	}
	for i, c := range chunks[:len(chunks)-1] {
		if len(c) != 4096 {
			t.Fatalf("chunk %d: %d bytes, want 4096", i, len(c))
		}
	}
	r := &ChunkReader{Next: func(i int) ([]byte, error) {
		if i >= len(chunks) {
			return nil, io.EOF
		}
		return chunks[i], nil
	}}
	// Read it the way the Java SDK does: one gzip stream, line by line.
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	sc := bufio.NewScanner(zr)
	n := 0
	for sc.Scan() {
		if want := string(AppendMember(nil, &rows[n])); sc.Text()+"\n" != want {
			t.Fatalf("line %d: got %s want %s", n, sc.Text(), want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(rows) {
		t.Fatalf("got %d lines, want %d", n, len(rows))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestEncodedSameBytes: lines encoded elsewhere and added in runs of any
// length (Encoded), mixed with lines appended one by one, give the same
// gzip bytes as appending every line.
func TestEncodedSameBytes(t *testing.T) {
	rows := memberRows(20000)
	var want bytes.Buffer
	fw := NewFileWriter(&want)
	for i := range rows {
		if err := fw.Member(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	fw = NewFileWriter(&got)
	for i := 0; i < len(rows); {
		n := min(len(rows)-i, 1+i%3001)
		if i%2 == 0 {
			var b []byte
			for _, r := range rows[i : i+n] {
				b = AppendMember(b, &r)
			}
			if err := fw.Encoded(b, n); err != nil {
				t.Fatal(err)
			}
		} else {
			for j := i; j < i+n; j++ {
				if err := fw.Member(&rows[j]); err != nil {
					t.Fatal(err)
				}
			}
		}
		i += n
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if fw.Lines() != len(rows) {
		t.Errorf("Lines = %d, want %d", fw.Lines(), len(rows))
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("gzip bytes differ: %d vs %d bytes", got.Len(), want.Len())
	}
}

// TestReusedCompressor: a file written after others (its compressor comes
// from a closed file) has the bytes of the same file written first.
func TestReusedCompressor(t *testing.T) {
	write := func(rows []MemberRow) []byte {
		var b bytes.Buffer
		fw := NewFileWriter(&b)
		for i := range rows {
			if err := fw.Member(&rows[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := fw.Member(&rows[0]); err == nil {
			t.Error("Member after Close: no error")
		}
		return b.Bytes()
	}
	first := write(memberRows(3000))
	for range 3 {
		write(memberRows(7000)[4000:])
		if again := write(memberRows(3000)); !bytes.Equal(again, first) {
			t.Fatalf("the same file again: %d bytes differ from the first %d", len(again), len(first))
		}
	}
}

func TestEmptyFileIsValidGzip(t *testing.T) {
	chunks := writeFile(t, nil, ChunkSize)
	zr, err := gzip.NewReader(bytes.NewReader(bytes.Join(chunks, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(zr); err != nil || len(b) != 0 {
		t.Fatalf("empty file: %q, %v", b, err)
	}
}

// BenchmarkFileWriter builds a 100,000-member file (encoding, compression,
// chunking). Compare with BenchmarkGzip1, `gzip -1` of the same bytes.
func BenchmarkFileWriter(b *testing.B) {
	rows := memberRows(100_000)
	var raw int
	for i := range rows {
		raw += len(AppendMember(nil, &rows[i]))
	}
	b.SetBytes(int64(raw))
	for b.Loop() {
		writeFile(b, rows, ChunkSize)
	}
}

func BenchmarkGzip1(b *testing.B) {
	if _, err := exec.LookPath("gzip"); err != nil {
		b.Skip("no gzip")
	}
	rows := memberRows(100_000)
	var buf []byte
	for i := range rows {
		buf = AppendMember(buf, &rows[i])
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		cmd := exec.Command("gzip", "-1", "-c")
		cmd.Stdin = bytes.NewReader(buf)
		var out strings.Builder
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}
