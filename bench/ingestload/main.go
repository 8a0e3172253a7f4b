// Command ingestload measures sustained ingest: C concurrent clients POST
// batches of B message events to /ingest/events for D seconds; an event
// counts only once its request was acknowledged (HTTP 200 with
// {"ok":true,"accepted":B}: committed, none a duplicate).
//
// Every request body is built before the clock starts, so that the load
// generator does not take CPU from the server during the timed window (on
// a small machine formatting 100k events/s costs a good share of a core).
// Every body holds new events: each request has its own second of ts.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/ingest/events", "ingest endpoint")
	token := flag.String("token", "", "token with backchannel:ingest")
	channel := flag.String("channel", "C0BENCH001", "channel id (must exist)")
	user := flag.String("user", "W0BENCH001", "author")
	conc := flag.Int("c", 4, "concurrent clients")
	batch := flag.Int("batch", 2000, "events per request")
	total := flag.Int("events", 3_000_000, "events to pre-build (the run ends early if they run out)")
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()

	// Each client sends its own stretch of time (as before: three of the
	// four write below the channel's newest message), one second per body.
	perClient := max(*total / *batch / *conc, 1)
	base := time.Now().Add(-48 * time.Hour).Unix()
	bodies := make([][][]byte, *conc)
	for c := range bodies {
		bodies[c] = make([][]byte, perClient)
		for b := range bodies[c] {
			bodies[c][b] = buildBody(*channel, *user, base+int64(c)*10_000_000+int64(b), *batch)
		}
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, DisableCompression: true}}
	var acked, failed, dups, sent atomic.Int64
	var exhausted atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(*dur)
	for c := 0; c < *conc; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for b := 0; time.Now().Before(stop); b++ {
				if b == len(bodies[c]) {
					exhausted.Store(true)
					return
				}
				req, _ := http.NewRequest(http.MethodPost, *url, bytes.NewReader(bodies[c][b]))
				req.Header.Set("Authorization", "Bearer "+*token)
				req.Header.Set("Content-Type", "application/x-ndjson")
				resp, err := client.Do(req)
				if err != nil {
					log.Fatal(err)
				}
				var r struct {
					OK         bool `json:"ok"`
					Accepted   int  `json:"accepted"`
					Duplicates int  `json:"duplicates"`
				}
				err = json.NewDecoder(resp.Body).Decode(&r)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(int64(*batch))
				dups.Add(int64(r.Duplicates))
				if err == nil && resp.StatusCode == 200 && r.OK && r.Accepted == *batch && r.Duplicates == 0 {
					acked.Add(int64(r.Accepted))
				} else {
					failed.Add(1)
				}
			}
		}(c)
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("acknowledged %d events in %.1fs: %.0f events/s (%d failed requests, %d duplicates; %d clients, %d events/request, bodies pre-built)\n",
		acked.Load(), el.Seconds(), float64(acked.Load())/el.Seconds(), failed.Load(), dups.Load(), *conc, *batch)
	if exhausted.Load() {
		fmt.Printf("warning: the %d pre-built events ran out before %s; raise -events\n", *total, *dur)
	}
	if failed.Load() != 0 || dups.Load() != 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d failed requests, %d duplicates (every event sent is new)\n", failed.Load(), dups.Load())
		os.Exit(1)
	}
}

// buildBody returns n message lines, all in second sec.
func buildBody(channel, user string, sec int64, n int) []byte {
	b := make([]byte, 0, n*180)
	for i := 0; i < n; i++ {
		b = append(b, `{"type":"message","channel":"`...)
		b = append(b, channel...)
		b = append(b, `","user":"`...)
		b = append(b, user...)
		b = append(b, `","ts":"`...)
		b = strconv.AppendInt(b, sec, 10)
		b = fmt.Appendf(b, ".%06d", i)
		b = append(b, `","text":"load test message number `...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ` with some ordinary length text","client":"web"}`+"\n"...)
	}
	return b
}
