package migrations

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0002_more.sql": {Data: []byte("B")},
		"migrations/0001_init.sql": {Data: []byte("A")},
		"migrations/README":        {Data: []byte("not a migration")},
	}
	ms, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0] != (Migration{1, "0001_init.sql", "A"}) || ms[1] != (Migration{2, "0002_more.sql", "B"}) {
		t.Fatalf("got %+v", ms)
	}
	if _, err := Load(fstest.MapFS{"migrations/x_bad.sql": {}}); err == nil {
		t.Fatal("a file without a number loaded")
	}
}
