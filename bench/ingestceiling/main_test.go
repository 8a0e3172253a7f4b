package main

import (
	"testing"
	"time"
)

func TestParseImportLine(t *testing.T) {
	// As cmd/backchannel's import prints it.
	events, took, err := parseImportLine("imported 10000000 events (0 duplicates) from /tmp/a b/act.ndjson in 1m5.481s\n")
	if err != nil || events != 10_000_000 || took != 65481*time.Millisecond {
		t.Fatalf("got %d, %s, %v", events, took, err)
	}
	for _, bad := range []string{"", "closed 1 day", "imported 5 events (0 duplicates) from x", "imported 5 events from x in soon"} {
		if _, _, err := parseImportLine(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
