package slackapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
)

// argCodes are the only codes argument decoding may produce.
var argCodes = map[string]bool{
	"invalid_arg_name": true, "invalid_array_arg": true, "invalid_charset": true, "invalid_form_data": true,
	"invalid_post_type": true, "missing_post_type": true, "invalid_json": true, "json_not_object": true,
	"request_timeout": true,
}

func FuzzDecodeArgs(f *testing.F) {
	f.Add("a=1&b=2", "c=3", "application/x-www-form-urlencoded", true)
	f.Add("", `{"a":[1,{"b":null}],"c":"\u00e9"}`, "application/json; charset=utf-8", true)
	f.Add("foo[1]=2", "", "", false)
	f.Add("a=%zz", "a=1&a=2", "text/plain; charset=iso-8859-1", true)
	f.Add("", "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--X--\r\n", "multipart/form-data; boundary=X", true)
	f.Add("", "a=1", "application/x-www-form-urlencoded; charset=koi8-r", true)
	f.Fuzz(func(t *testing.T, query, body, contentType string, post bool) {
		verb := http.MethodGet
		if post {
			verb = http.MethodPost
		}
		r := httptest.NewRequest(verb, "/api/api.test", strings.NewReader(body))
		r.URL.RawQuery = query
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		req := &Request{HTTP: r}
		var buf []byte
		m := &method{name: "api.test", json: true}
		_, err := decodeArgs(req, r, m, &buf)
		if err != nil {
			var e *backchannel.Error
			if !errors.As(err, &e) || !argCodes[e.Code] {
				t.Fatalf("error %v is not a Slack argument code", err)
			}
			return
		}
		req.Args.Each(func(name, _ string) {
			if !validName(name) || name == "token" {
				t.Fatalf("decoded bad name %q", name)
			}
		})
		// Whatever was decoded renders as valid JSON.
		b := appendOK(nil, argsResponse{&req.Args}, req.warnings)
		if !jsonValid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
	})
}

func FuzzCursor(f *testing.F) {
	f.Add("bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz", int64(1512085861000543))
	f.Add("dXNlcjpVMDYxTkZUVDI=", int64(0))
	f.Add("", int64(-1))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		if ts, err := DecodeCursor(s); err == nil {
			if ts < 0 {
				t.Fatalf("DecodeCursor(%q) = %d", s, ts)
			}
			if back, err := DecodeCursor(EncodeCursor(ts)); err != nil || back != ts {
				t.Fatalf("re-encode of %d: %d, %v", ts, back, err)
			}
		} else if backchannel.ErrorCode(err) != "invalid_cursor" {
			t.Fatalf("DecodeCursor(%q) error %v", s, err)
		}
		if n < 0 || n > 999_999_999_999_999_999 {
			return
		}
		if got, err := DecodeCursor(EncodeCursor(backchannel.TS(n))); err != nil || got != backchannel.TS(n) {
			t.Fatalf("round trip of %d: %d, %v", n, got, err)
		}
	})
}

// FuzzServe drives whole requests: every reply is one JSON object with
// status 200, and nothing a client sends is an internal error.
func FuzzServe(f *testing.F) {
	f.Add("conversations.history", "channel=C1&limit=2&oldest=1700000001", "", "", tokUser)
	f.Add("conversations.history", "", "channel=G1&cursor=bmV4dF90czoxNzAwMDAwMDA1MDAwMDAw", "application/x-www-form-urlencoded", tokBot)
	f.Add("api.test", "error=x", `{"a":1}`, "application/json", "")
	f.Add("auth.test", "", "token="+tokGone, "text/plain", "")
	api, _ := testAPI(f, historyWorld())
	f.Fuzz(func(t *testing.T, name, query, body, contentType, token string) {
		r := httptest.NewRequest(http.MethodPost, "/api/x", strings.NewReader(body))
		r.URL.Path, r.URL.RawQuery = "/api/"+name, query
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("reply is not an object: %v: %s", err, rec.Body)
		}
		// api.test fails with any code it is asked for, internal_error too.
		if m["error"] == "internal_error" && !strings.Contains(query+body, "internal") {
			t.Fatalf("internal_error for %q %q %q %q", name, query, body, contentType)
		}
	})
}
