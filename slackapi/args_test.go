package slackapi

import (
	"net/http"
	"strings"
	"testing"
)

// api.test echoes its arguments, so it shows exactly what was decoded.
func TestDecodeArgs(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	long := strings.Repeat("a", maxArgName+1)
	multipart := "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\nfile\r\n--XX--\r\n"
	tests := []struct {
		name string
		c    call
		want string
	}{
		{"no args", call{}, `{"ok":true,"args":{}}`},
		{"query", call{query: "a=1&b=x+y%2Fz"}, `{"ok":true,"args":{"a":"1","b":"x y\/z"}}`},
		{"empty pairs skipped", call{query: "&a=1&&"}, `{"ok":true,"args":{"a":"1"}}`},
		{"name without value", call{query: "a"}, `{"ok":true,"args":{"a":""}}`},
		{"form", call{body: "a=1&b=2", contentType: form}, `{"ok":true,"args":{"a":"1","b":"2"}}`},
		{"body overrides query", call{query: "a=1&c=3", body: "a=2&b=2", contentType: form},
			`{"ok":true,"args":{"a":"2","c":"3","b":"2"}}`},
		{"python async: POST, args in query, empty body", call{verb: "POST", query: "a=1", contentType: form},
			`{"ok":true,"args":{"a":"1"}}`},
		{"POST without body or type", call{verb: "POST", query: "a=1"}, `{"ok":true,"args":{"a":"1"}}`},
		{"token never echoed", call{query: "token=xoxp-q&a=1", body: "token=xoxp-b", contentType: form},
			`{"ok":true,"args":{"a":"1"}}`},
		{"multipart", call{body: multipart, contentType: "multipart/form-data; boundary=XX"},
			`{"ok":true,"args":{"a":"1"}}`},
		{"text/plain is a form", call{body: "a=1", contentType: "text/plain; charset=utf-8"},
			`{"ok":true,"args":{"a":"1"}}`},
		{"json", call{body: `{"a":"x","n":12,"b":true,"z":null,"o":{"k":[1]}}`, contentType: "application/json; charset=utf-8"},
			`{"ok":true,"args":{"a":"x","n":"12","b":"true","o":"{\"k\":[1]}"}}`},
		{"json token ignored", call{body: `{"token":"xoxp-j","a":"1"}`, contentType: "application/json; charset=utf-8"},
			`{"ok":true,"args":{"a":"1"}}`},
		{"empty json body", call{verb: "POST", contentType: "application/json; charset=utf-8"}, `{"ok":true,"args":{}}`},
		{"latin1 form", call{body: "a=caf%E9", contentType: form + "; charset=iso-8859-1"},
			`{"ok":true,"args":{"a":"café"},"warning":"superfluous_charset","response_metadata":{"warnings":["superfluous_charset"]}}`},
		{"escaping", call{query: "a=%22%5C%0A%01%E2%80%A8"}, `{"ok":true,"args":{"a":"\"\\\n\u0001\u2028"}}`},
		{"invalid utf-8", call{query: "a=%FF"}, `{"ok":true,"args":{"a":"\ufffd"}}`},

		// Warnings.
		{"superfluous_charset", call{body: "a=1", contentType: form + "; charset=utf-8"},
			`{"ok":true,"args":{"a":"1"},"warning":"superfluous_charset","response_metadata":{"warnings":["superfluous_charset"]}}`},
		{"missing_charset json", call{body: `{"a":"1"}`, contentType: "application/json"},
			`{"ok":true,"args":{"a":"1"},"warning":"missing_charset","response_metadata":{"warnings":["missing_charset"]}}`},
		{"missing_charset text", call{body: "a=1", contentType: "text/plain"},
			`{"ok":true,"args":{"a":"1"},"warning":"missing_charset","response_metadata":{"warnings":["missing_charset"]}}`},
		{"warning on an error", call{body: "a=1&error=boom", contentType: "text/plain"},
			`{"ok":false,"error":"boom","args":{"a":"1","error":"boom"},"warning":"missing_charset","response_metadata":{"warnings":["missing_charset"]}}`},

		// Errors.
		{"invalid_arg_name chars", call{query: "a-b=1"}, `{"ok":false,"error":"invalid_arg_name"}`},
		{"invalid_arg_name empty", call{query: "=1"}, `{"ok":false,"error":"invalid_arg_name"}`},
		{"invalid_arg_name long", call{query: long + "=1"}, `{"ok":false,"error":"invalid_arg_name"}`},
		{"invalid_arg_name json", call{body: `{"a b":1}`, contentType: "application/json; charset=utf-8"}, `{"ok":false,"error":"invalid_arg_name"}`},
		{"invalid_array_arg", call{query: "foo[7]=1"}, `{"ok":false,"error":"invalid_array_arg"}`},
		{"invalid_array_arg encoded", call{query: "foo%5B%5D=1"}, `{"ok":false,"error":"invalid_array_arg"}`},
		{"invalid_array_arg repeated in query", call{query: "a=1&a=2"}, `{"ok":false,"error":"invalid_array_arg"}`},
		{"invalid_array_arg repeated in body", call{body: "a=1&a=2", contentType: form}, `{"ok":false,"error":"invalid_array_arg"}`},
		{"invalid_array_arg repeated in json", call{body: `{"a":1,"a":2}`, contentType: "application/json; charset=utf-8"}, `{"ok":false,"error":"invalid_array_arg"}`},
		{"invalid_charset", call{body: "a=1", contentType: form + "; charset=koi8-r"}, `{"ok":false,"error":"invalid_charset"}`},
		{"invalid_form_data", call{body: "a=%zz", contentType: form}, `{"ok":false,"error":"invalid_form_data"}`},
		{"invalid_form_data query", call{query: "a=%4"}, `{"ok":false,"error":"invalid_form_data"}`},
		{"invalid_form_data multipart", call{body: "junk", contentType: "multipart/form-data"}, `{"ok":false,"error":"invalid_form_data"}`},
		{"invalid_post_type", call{body: "<a/>", contentType: "application/xml"}, `{"ok":false,"error":"invalid_post_type"}`},
		{"missing_post_type", call{verb: "POST", body: "a=1"}, `{"ok":false,"error":"missing_post_type"}`},
		{"invalid_json", call{body: `{"a":`, contentType: "application/json; charset=utf-8"}, `{"ok":false,"error":"invalid_json"}`},
		{"json_not_object", call{body: `[1,2]`, contentType: "application/json; charset=utf-8"}, `{"ok":false,"error":"json_not_object"}`},
		{"json_not_object string", call{body: `"x"`, contentType: "application/json; charset=utf-8"}, `{"ok":false,"error":"json_not_object"}`},
		{"api.test error arg", call{query: "error=my_error"}, `{"ok":false,"error":"my_error","args":{"error":"my_error"}}`},
	}
	api, _ := testAPI(t, newWorld())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.method = "api.test"
			if c.body == "" && c.verb == "" && c.contentType != "" {
				c.verb = http.MethodPost
			}
			got := do(t, api, c)
			if got.body != tt.want {
				t.Errorf("body\n got %s\nwant %s", got.body, tt.want)
			}
			if got.status != http.StatusOK {
				t.Errorf("status = %d, want 200", got.status)
			}
		})
	}
}

func TestUnknownMethod(t *testing.T) {
	api, _ := testAPI(t, newWorld())
	tests := []struct{ path, want string }{
		{"/api/chat.nope", `{"ok":false,"error":"unknown_method","req_method":"chat.nope"}`},
		{"/api/", `{"ok":false,"error":"unknown_method","req_method":""}`},
		{"/api/a/b", `{"ok":false,"error":"unknown_method","req_method":"a\/b"}`},
		// unknown_method is checked before anything else, arguments included.
		{"/api/x?a[1]=2", `{"ok":false,"error":"unknown_method","req_method":"x"}`},
	}
	for _, tt := range tests {
		path, query, _ := strings.Cut(tt.path, "?")
		got := do(t, api, call{path: path, query: query})
		if got.body != tt.want {
			t.Errorf("%s: got %s, want %s", tt.path, got.body, tt.want)
		}
	}
}

func TestRootPath(t *testing.T) {
	api, _ := testAPI(t, newWorld())
	got := do(t, api, call{path: "/api.test", query: "a=1"})
	if want := `{"ok":true,"args":{"a":"1"}}`; got.body != want {
		t.Errorf("got %s, want %s", got.body, want)
	}
}

func TestVerbNotAllowed(t *testing.T) {
	api, _ := testAPI(t, newWorld())
	got := do(t, api, call{verb: http.MethodPut, method: "api.test"})
	if code := got.errCode(t); code != "method_not_allowed" || got.status != http.StatusOK {
		t.Errorf("got %d %s, want 200 method_not_allowed", got.status, got.body)
	}
}

func TestIntArg(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"20", 20, true}, {" 20", 20, true}, {"20abc", 20, true}, {"-3", -3, true}, {"+4", 4, true},
		{"", 0, false}, {"abc", 0, false}, {"-", 0, false}, {"99999999999999999999999", int(^uint(0) >> 1), true},
	}
	for _, tt := range tests {
		got, ok := intArg(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("intArg(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestJSONNotAccepted(t *testing.T) {
	api, _ := testAPI(t, newWorld())
	m := &method{name: "test.formOnly", verbs: []string{http.MethodPost}, tier: tier4,
		handle: api.apiTest}
	m.prepare()
	api.table[m.name] = m
	got := do(t, api, call{method: m.name, body: `{"a":1}`, contentType: "application/json; charset=utf-8"})
	if code := got.errCode(t); code != "invalid_post_type" {
		t.Errorf("JSON to a form-only method: %s", got.body)
	}
	if got := do(t, api, call{method: m.name, body: "a=1", contentType: "application/x-www-form-urlencoded"}); got.errCode(t) != "" {
		t.Errorf("form to a form-only method: %s", got.body)
	}
}
