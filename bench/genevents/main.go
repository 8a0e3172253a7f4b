// Command genevents writes an NDJSON event file for benchmarks: one team, a
// few users, one public channel and N messages in it, one millisecond apart,
// ending a day before -end (default now).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"time"
)

func main() {
	n := flag.Int("messages", 1_000_000, "number of messages")
	channel := flag.String("channel", "C0BENCH001", "channel id")
	dirOnly := flag.Bool("directory-only", false, "write only the team, users and channel")
	skipDir := flag.Bool("skip-directory", false, "write only messages")
	offset := flag.Int("offset", 0, "first message number (for disjoint runs)")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	users := []string{"W0BENCH001", "W0BENCH002", "W0BENCH003", "W0BENCH004"}
	if !*skipDir {
		fmt.Fprintln(w, `{"type":"team","id":"T0BENCH001","name":"Bench","domain":"bench"}`)
		for _, u := range users {
			fmt.Fprintf(w, `{"type":"user","id":"%s","team_id":"T0BENCH001","name":"%s","real_name":"Bench User","department":"Engineering"}`+"\n", u, u)
		}
		fmt.Fprintf(w, `{"type":"channel","id":"%s","team_id":"T0BENCH001","name":"bench","kind":"public","created":1600000000}`+"\n", *channel)
		for _, u := range users {
			fmt.Fprintf(w, `{"type":"member_joined_channel","channel":"%s","user":"%s","event_ts":"1600000000.000001"}`+"\n", *channel, u)
		}
	}
	if *dirOnly {
		return
	}
	end := time.Now().Add(-24 * time.Hour).UnixMicro()
	start := end - int64(*n+*offset)*1000
	for i := *offset; i < *offset+*n; i++ {
		ts := start + int64(i)*1000
		fmt.Fprintf(w, `{"type":"message","channel":"%s","user":"%s","ts":"%d.%06d","text":"Message %d: the quarterly numbers are in and the dashboard is updated, see the thread for details","client":"desktop"}`+"\n",
			*channel, users[i%len(users)], ts/1_000_000, ts%1_000_000, i)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}
