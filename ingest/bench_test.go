package ingest

import (
	"strconv"
	"strings"
	"testing"
)

// benchLine is a typical message event as the demo and exports produce it.
var benchLine = []byte(`{"type":"message","channel":"C04ABCDEF12","user":"W012A3CDE","ts":"1700000000.000100",` +
	`"client":"desktop","client_msg_id":"5f2c2b0e-4c8e-4b0a-9d5b-1c2d3e4f5a6b","team":"T0123ABCD",` +
	`"text":"Shipping the new analytics rollups today, please review the PR before lunch :rocket:",` +
	`"blocks":[{"type":"rich_text","block_id":"b1","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"Shipping"}]}]}],` +
	`"thread_ts":"1700000000.000100","event_id":"Ev0123456789"}`)

func BenchmarkDecodeMessage(b *testing.B) {
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	var d decoder
	for b.Loop() {
		if _, err := d.decode(benchLine, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkReader(b *testing.B) {
	var sb strings.Builder
	const n = 10_000
	for i := range n {
		sb.WriteString(strings.Replace(string(benchLine), "Ev0123456789", "Ev"+strconv.Itoa(i), 1))
		sb.WriteByte('\n')
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(strings.NewReader(in))
		for {
			evs, err := r.NextBatch(1000)
			if err != nil {
				break
			}
			_ = evs
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}
