package slackapi_test

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/slackapi"
)

// Mount the API in front of the mux: http.ServeMux would answer unclean
// paths (/api//x, /api/../x) with a redirect, which Slack's SDKs treat as
// an error (Node fetches with redirect: "error").
func ExampleNew() {
	var store backchannel.Store // sqlite.Open(...) in cmd/backchannel
	rl, err := slackapi.ParseRateLimit("x10")
	if err != nil {
		panic(err)
	}
	api := slackapi.New(slackapi.Config{Store: store, RateLimit: rl, Logger: slog.Default()})
	mux := http.NewServeMux() // /ingest/events, /healthz, ...
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	_ = &http.Server{Addr: "127.0.0.1:8080", Handler: handler}
}
