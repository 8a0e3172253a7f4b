package slackapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
)

// benchStore serves one channel whose every page is the same 100
// pre-rendered ~300-byte messages, so the benchmark measures the API layer.
func benchStore(b *testing.B) (*fakeStore, string) {
	b.Helper()
	const tok = "xoxp-bench"
	t := backchannel.Token{ID: "tk1", Hash: backchannel.HashToken(tok), UserID: "W1", TeamID: "T1",
		Scopes: []string{"channels:history", "groups:history", "im:history", "mpim:history"}}
	var msgs []json.RawMessage
	for i := range 100 {
		m := fmt.Sprintf(`{"type":"message","user":"W0123456789","text":"%s","ts":"1700000%03d.000100",`+
			`"blocks":[{"type":"rich_text","block_id":"abc%d","elements":[]}],"team":"T1","client_msg_id":"0a1b2c3d-4e5f"}`,
			strings.Repeat("lorem ipsum ", 14), i, i)
		msgs = append(msgs, json.RawMessage(m))
	}
	page := backchannel.HistoryPage{Messages: msgs, Next: 1_699_999_999_000_100}
	user := backchannel.User{ID: "W1", TeamID: "T1", Name: "grace"}
	ch := backchannel.Channel{ID: "C1", TeamID: "T1", Kind: backchannel.KindPublic}
	return &fakeStore{
		TokenByHashFn: func(_ context.Context, h string) (backchannel.Token, error) {
			if h != t.Hash {
				return backchannel.Token{}, backchannel.Errorf(backchannel.ETokenNotFound, "no")
			}
			return t, nil
		},
		UserFn:     func(context.Context, string) (backchannel.User, error) { return user, nil },
		ChannelFn:  func(context.Context, string) (backchannel.Channel, error) { return ch, nil },
		IsMemberFn: func(context.Context, string, string) (bool, error) { return true, nil },
		HistoryFn: func(context.Context, backchannel.HistoryQuery) (backchannel.HistoryPage, error) {
			return page, nil
		},
	}, tok
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// does not measure httptest's buffers.
type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// resettableBody replays the same POST body every iteration.
type resettableBody struct {
	*strings.Reader
	s string
}

func (r *resettableBody) Close() error { r.Reader.Reset(r.s); return nil }

func BenchmarkHistory(b *testing.B) {
	store, tok := benchStore(b)
	api := New(Config{Store: store, RateLimit: RateLimitOff, Logger: discardLogger()})
	b.Run("GET", func(b *testing.B) {
		r, _ := http.NewRequest(http.MethodGet, "/api/conversations.history?channel=C1&limit=100", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		benchServe(b, api, r, nil)
	})
	b.Run("POST_form", func(b *testing.B) { // Node, Java, Python sync, slack-go
		const form = "channel=C1&limit=100&inclusive=0&include_all_metadata=0"
		body := &resettableBody{strings.NewReader(form), form}
		r, _ := http.NewRequest(http.MethodPost, "/api/conversations.history", nil)
		r.Body, r.ContentLength = body, int64(len(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", "Bearer "+tok)
		benchServe(b, api, r, body)
	})
	b.Run("GET_parallel", func(b *testing.B) { // pools and limiter under contention
		api := New(Config{Store: store, RateLimit: RateLimitTimes(1e9), Logger: discardLogger()})
		r, _ := http.NewRequest(http.MethodGet, "/api/conversations.history?channel=C1&limit=100", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				api.ServeHTTP(w, r)
			}
		})
	})
	b.Run("GET_limiter_on", func(b *testing.B) { // limiter on the path
		api := New(Config{Store: store, RateLimit: RateLimitTimes(1e9), Logger: discardLogger()})
		r, _ := http.NewRequest(http.MethodGet, "/api/conversations.history?channel=C1&limit=100", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		benchServe(b, api, r, nil)
	})
}

func benchServe(b *testing.B, api *API, r *http.Request, body *resettableBody) {
	b.Helper()
	w := &discardWriter{h: http.Header{}}
	api.ServeHTTP(w, r)
	if body != nil {
		body.Close()
	}
	if w.n < 30_000 {
		b.Fatalf("reply of %d bytes: not a full page", w.n)
	}
	b.SetBytes(int64(w.n))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		api.ServeHTTP(w, r)
		if body != nil {
			body.Close()
		}
	}
}
