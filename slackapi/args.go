package slackapi

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/backchannel/backchannel"
)

// maxArgName bounds argument names: Slack rejects "very long names" with
// invalid_arg_name without saying how long; its longest names are ~25 bytes.
const maxArgName = 64

// Args are a call's arguments in order of first appearance.
type Args struct {
	kv      []arg
	sources uint8
}

type arg struct {
	name, value string
	src         uint8 // the source that set it
}

// Get returns the value of name and whether it was given.
func (a *Args) Get(name string) (string, bool) {
	for i := range a.kv {
		if a.kv[i].name == name {
			return a.kv[i].value, true
		}
	}
	return "", false
}

// Value returns the value of name, "" when absent.
func (a *Args) Value(name string) string {
	v, _ := a.Get(name)
	return v
}

// Bool reports whether name is a true boolean: Slack's SDKs send 1/0
// (Python, Java, Go) or true/false (Node). Anything else is false.
func (a *Args) Bool(name string) bool {
	switch strings.ToLower(a.Value(name)) {
	case "1", "true":
		return true
	}
	return false
}

// Len returns the number of arguments.
func (a *Args) Len() int { return len(a.kv) }

// Each calls f for each argument in order.
func (a *Args) Each(f func(name, value string)) {
	for _, x := range a.kv {
		f(x.name, x.value)
	}
}

func (a *Args) reset() { a.kv, a.sources = a.kv[:0], 0 }

func (a *Args) del(name string) {
	for i := range a.kv {
		if a.kv[i].name == name {
			a.kv = append(a.kv[:i], a.kv[i+1:]...)
			return
		}
	}
}

// maxArgs bounds the arguments of one call, like PHP's max_input_vars
// (1000), and keeps the linear name lookups below cheap on hostile input.
const maxArgs = 1000

// source collects the arguments of one source (the query string, a form
// body, a JSON object); a later source overrides an earlier one.
type source struct {
	args *Args
	id   uint8
}

func (a *Args) newSource() source {
	a.sources++
	return source{args: a, id: a.sources}
}

// add validates name and stores the pair. A name given twice in one source
// is invalid_array_arg: Slack's docs do not say, but PHP would turn it into
// an array or drop a value, and Slack rejects arrays.
func (s source) add(name, value string) error {
	if err := checkArgName(name); err != nil {
		return err
	}
	a := s.args
	for i := range a.kv {
		if a.kv[i].name != name {
			continue
		}
		if a.kv[i].src == s.id {
			return backchannel.Errorf("invalid_array_arg", "argument %q given more than once", name)
		}
		a.kv[i].value, a.kv[i].src = value, s.id
		return nil
	}
	if len(a.kv) >= maxArgs {
		return backchannel.Errorf("invalid_form_data", "more than %d arguments", maxArgs)
	}
	a.kv = append(a.kv, arg{name, value, s.id})
	return nil
}

// checkArgName applies Slack's name rules: foo[7]-style names are
// invalid_array_arg; anything else outside [A-Za-z0-9_], empty or over-long
// is invalid_arg_name.
func checkArgName(name string) error {
	if i := strings.IndexByte(name, '['); i > 0 && validName(name[:i]) && strings.IndexByte(name[i:], ']') > 0 {
		return backchannel.Errorf("invalid_array_arg", "array argument %q", name)
	}
	if !validName(name) {
		return backchannel.Errorf("invalid_arg_name", "bad argument name %q", clip(name))
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > maxArgName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// parseForm adds the pairs of an application/x-www-form-urlencoded string
// to s. Unlike net/url it keeps values as substrings of raw when they need
// no unescaping, rejects repeated names, and reports Slack codes.
func parseForm(s source, raw string, latin1 bool) error {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, ok1 := unescape(k, latin1)
		value, ok2 := unescape(v, latin1)
		if !ok1 || !ok2 {
			return backchannel.Errorf("invalid_form_data", "malformed percent-encoding in %q", clip(pair))
		}
		if err := s.add(name, value); err != nil {
			return err
		}
	}
	return nil
}

// unescape decodes %XX and '+'. Text in ISO-8859-1 is converted to UTF-8;
// invalid UTF-8 is kept as given and escaped on output.
func unescape(s string, latin1 bool) (string, bool) {
	if strings.IndexAny(s, "%+") < 0 && (!latin1 || isASCII(s)) {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	if latin1 {
		b = latin1ToUTF8(b)
	}
	return string(b), true
}

func latin1ToUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// intArg parses a leading integer the way PHP's intval does ("20", " 20",
// "20abc"); ok is false when there is no number at all.
func intArg(s string) (n int, ok bool) {
	s = strings.TrimSpace(s)
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return 0, false
	}
	v, err := strconv.Atoi(s[start:i])
	if err != nil { // too many digits: saturate
		v = int(^uint(0) >> 1)
	}
	if neg {
		v = -v
	}
	return v, true
}
