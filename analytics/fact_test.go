package analytics_test

import (
	"testing"
	"time"

	"github.com/backchannel/backchannel/analytics"
	"github.com/backchannel/backchannel/ingest"
	"github.com/backchannel/backchannel/ingest/demo"
)

// ParseFact (rebuilds) must read exactly what FactOf takes from ingest's
// decoding (ingest), or a rebuild would differ from the incremental rows.
func TestParseFactAgreesWithIngest(t *testing.T) {
	lines := []string{
		`{"type":"message","channel":"C1","user":"W1","ts":"1700000000.000100","client":"ios","files":[{"id":"F1"},{"id":"F2"}]}`,
		`{"type":"message","channel":"C1","bot_id":"B1","subtype":"bot_message","ts":1700000000.5,"text":"x"}`,
		`{"type":"message","channel":"C1","user":null,"subtype":"channel_join","ts":"1700000001","event_ts":"1700000002.000001"}`,
		`{"type":"message","subtype":"message_changed","channel":"C1","message":{"ts":"1700000000.000100","text":"y"}}`,
		`{"type":"message","subtype":"message_deleted","channel":"C1","deleted_ts":"1700000000.000100","ts":"1700000009.000000"}`,
		`{"type":"reaction_added","channel":"C1","ts":"1700000000.000100","user":"W2","reaction":"+1"}`,
		`{"type":"message_viewed","channel":"C1","ts":"1700000000.000100","user":"W2","client":"web","event_ts":"1700000050.000000"}`,
		`{"type":"client_active","user":"W2","client":"desktop","event_ts":1700000051}`,
		`{"type":"call","user":"W2","kind":"huddle","event_ts":"1700000052.000000"}`,
		`{"type":"file_added","user":"W2","channel":"C1","event_ts":"1700000053.000000"}`,
		`{"type":"member_joined_channel","user":"W2","channel":"C1","event_ts":"1700000054.000000"}`,
	}
	for i, l := range lines {
		check(t, []byte(l), i+1)
	}
}

func check(t *testing.T, line []byte, n int) {
	t.Helper()
	ev, err := ingest.Decode(line, n)
	if err != nil {
		t.Fatalf("line %d: %v", n, err)
	}
	got, err := analytics.ParseFact(ev.Raw)
	if err != nil {
		t.Fatalf("line %d: ParseFact: %v", n, err)
	}
	want := analytics.FactOf(&ev)
	gd, gok := analytics.DayOf(&got)
	wd, wok := analytics.DayOf(&want)
	if gd != wd || gok != wok {
		t.Errorf("line %d: day %d/%v, want %d/%v", n, gd, gok, wd, wok)
	}
	if !analytics.HasDay(want.Type) {
		return // only events with a day move counters
	}
	if got != want {
		t.Errorf("line %d %s:\n got %+v\nwant %+v", n, line, got, want)
	}
}

func TestParseFactOnDemo(t *testing.T) {
	cfg := demo.Config{Seed: 1, Members: 20, Days: 3, Teams: 2, Now: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	n := 0
	_, err := demo.Generate(cfg, func(lines [][]byte) error {
		for _, line := range lines {
			n++
			check(t, line, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
