// Command ingestload measures sustained ingest: C concurrent clients POST
// batches of B message events to /ingest/events for D seconds; an event
// counts only once its request was acknowledged (HTTP 200 = committed).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
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
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()

	var acked, failed atomic.Int64
	var wg sync.WaitGroup
	base := time.Now().Add(-48 * time.Hour).Unix()
	stop := time.Now().Add(*dur)
	start := time.Now()
	for c := 0; c < *conc; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var body bytes.Buffer
			for b := 0; time.Now().Before(stop); b++ {
				body.Reset()
				sec := base + int64(c)*10_000_000 + int64(b)
				for i := 0; i < *batch; i++ {
					fmt.Fprintf(&body, `{"type":"message","channel":"%s","user":"%s","ts":"%d.%06d","text":"load test message number %d with some ordinary length text","client":"web"}`+"\n",
						*channel, *user, sec, i, i)
				}
				req, _ := http.NewRequest(http.MethodPost, *url, bytes.NewReader(body.Bytes()))
				req.Header.Set("Authorization", "Bearer "+*token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					log.Fatal(err)
				}
				var r struct {
					OK       bool `json:"ok"`
					Accepted int  `json:"accepted"`
				}
				json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if resp.StatusCode == 200 && r.OK {
					acked.Add(int64(r.Accepted))
				} else {
					failed.Add(1)
				}
			}
		}(c)
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("acknowledged %d events in %.1fs: %.0f events/s (%d failed requests; %d clients, %d events/request)\n",
		acked.Load(), el.Seconds(), float64(acked.Load())/el.Seconds(), failed.Load(), *conc, *batch)
}
