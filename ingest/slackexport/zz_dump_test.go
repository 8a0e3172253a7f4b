package slackexport

import (
	"context"
	"os"
	"testing"
)

func TestDumpLocal(t *testing.T) {
	p, out := os.Getenv("DUMP_EXPORT"), os.Getenv("DUMP_OUT")
	if p == "" {
		t.Skip()
	}
	x, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(out)
	defer f.Close()
	if err := x.Lines(context.Background(), func(l []byte) error { f.Write(l); f.Write([]byte("\n")); return nil }); err != nil {
		t.Fatal(err)
	}
}
