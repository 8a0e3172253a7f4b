// Command ceiling is the yardstick for the history benchmark: the fastest a
// Go HTTP server on this machine can answer, returning a pre-encoded body of
// a given size with the same headers as conversations.history. backchannel's
// req/s is reported as a fraction of this ceiling measured in the same run.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	size := flag.Int("size", 30000, "body size in bytes")
	body := flag.String("body", "", "serve this file's bytes instead of -size filler")
	flag.Parse()
	b := make([]byte, *size)
	for i := range b {
		b[i] = 'x'
	}
	if *body != "" {
		var err error
		if b, err = os.ReadFile(*body); err != nil {
			log.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s (%d-byte body)\n", ln.Addr(), len(b))
	n := strconv.Itoa(len(b))
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Content-Length"] = []string{n}
		w.Write(b)
	})))
}
