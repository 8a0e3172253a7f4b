package slackapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/backchannel/backchannel"
)

// maxBody bounds a request body; Slack's own limits are undocumented.
const maxBody = 4 << 20

// Content types Slack accepts for POST bodies.
const (
	ctForm      = "application/x-www-form-urlencoded"
	ctMultipart = "multipart/form-data"
	ctText      = "text/plain"
	ctJSON      = "application/json"
)

// decodeArgs fills req.Args from the query string and, for POST, the body,
// and returns a token given in a form body (the only place besides the
// Authorization header Slack takes one from). buf is scratch space for the
// body.
func decodeArgs(req *Request, r *http.Request, m *method, buf *[]byte) (bodyToken string, err error) {
	if err := parseForm(req.Args.newSource(), r.URL.RawQuery, false); err != nil {
		return "", err
	}
	// Tokens may not travel in the query string (apps created since
	// 2021); drop it so it is neither used nor echoed.
	req.Args.del("token")
	if r.Method != http.MethodPost {
		return "", nil
	}
	body, err := readBody(r, buf)
	if err != nil {
		return "", err
	}
	header := r.Header.Get("Content-Type")
	if header == "" {
		if len(body) > 0 {
			return "", backchannel.Errorf("missing_post_type", "POST body without a Content-Type")
		}
		return "", nil
	}
	ct, err := parseContentType(header)
	if err != nil {
		return "", err
	}
	switch ct.media {
	case ctForm, ctMultipart:
		if ct.charset != "" {
			req.warnings = append(req.warnings, "superfluous_charset")
		}
	case ctText, ctJSON:
		if ct.charset == "" {
			req.warnings = append(req.warnings, "missing_charset")
		}
	}
	if ct.media == ctJSON && !m.json {
		return "", backchannel.Errorf("invalid_post_type", "%s does not accept JSON", m.name)
	}
	if len(body) == 0 {
		return "", nil
	}
	return parseBody(req, ct, header, body)
}

func parseBody(req *Request, ct contentType, header string, body []byte) (bodyToken string, err error) {
	src := req.Args.newSource()
	latin1 := ct.charset == "iso-8859-1"
	switch ct.media {
	case ctForm, ctText:
		err = parseForm(src, string(body), latin1)
	case ctMultipart:
		err = parseMultipart(src, header, body, latin1)
	case ctJSON:
		if latin1 {
			body = latin1ToUTF8(body)
		}
		err = parseJSON(src, body)
		// Slack ignores a token inside JSON: it must be a bearer token.
		req.Args.del("token")
		return "", err
	}
	if err != nil {
		return "", err
	}
	bodyToken = req.Args.Value("token")
	req.Args.del("token")
	return bodyToken, nil
}

// readBody reads the whole body into *buf (grown as needed, kept for reuse).
func readBody(r *http.Request, buf *[]byte) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > maxBody {
		return nil, backchannel.Errorf("invalid_form_data", "body over %d bytes", maxBody)
	}
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > maxBody {
			*buf = b[:0]
			return nil, backchannel.Errorf("invalid_form_data", "body over %d bytes", maxBody)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			*buf = b[:0]
			return nil, backchannel.Errorf("request_timeout", "reading body: %v", err)
		}
	}
	*buf = b
	return b, nil
}

type contentType struct {
	media   string // one of the ct* constants, or the lower-cased type
	charset string // lower-cased; "" when absent
}

// parseContentType extracts the media type and charset without allocating
// for the usual headers. Charsets other than Slack's two are invalid_charset;
// an unknown media type is invalid_post_type.
func parseContentType(h string) (contentType, error) {
	media, params, _ := strings.Cut(h, ";")
	var ct contentType
	media = strings.TrimSpace(media)
	for _, known := range [...]string{ctForm, ctMultipart, ctText, ctJSON} {
		if strings.EqualFold(media, known) {
			ct.media = known
		}
	}
	if ct.media == "" {
		return ct, backchannel.Errorf("invalid_post_type", "unsupported Content-Type %q", clip(h))
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "charset") {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch {
		case strings.EqualFold(v, "utf-8"):
			ct.charset = "utf-8"
		case strings.EqualFold(v, "iso-8859-1"):
			ct.charset = "iso-8859-1"
		default:
			return ct, backchannel.Errorf("invalid_charset", "charset %q", clip(v))
		}
	}
	return ct, nil
}

func parseMultipart(src source, header string, body []byte, latin1 bool) error {
	_, params, err := mime.ParseMediaType(header)
	if err != nil || params["boundary"] == "" {
		return backchannel.Errorf("invalid_form_data", "multipart without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return backchannel.Errorf("invalid_form_data", "multipart: %v", err)
		}
		// File parts are uploads, not arguments.
		if p.FormName() == "" || p.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(p)
		if err != nil {
			return backchannel.Errorf("invalid_form_data", "multipart: %v", err)
		}
		if latin1 {
			v = latin1ToUTF8(v)
		}
		if err := src.add(p.FormName(), string(v)); err != nil {
			return err
		}
	}
}

// parseJSON adds the members of a JSON object body. Strings are unquoted,
// null means "not given", anything else keeps its JSON text (numbers,
// booleans, and objects or arrays such as blocks).
func parseJSON(src source, body []byte) error {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		return backchannel.Errorf("invalid_json", "body is not JSON")
	}
	if body[0] != '{' {
		return backchannel.Errorf("json_not_object", "body is JSON but not an object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return backchannel.Errorf("invalid_json", "%v", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return backchannel.Errorf("invalid_json", "%v", err)
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return backchannel.Errorf("invalid_json", "%v", err)
		}
		value := string(raw)
		switch raw[0] {
		case 'n':
			continue
		case '"':
			if err := json.Unmarshal(raw, &value); err != nil {
				return backchannel.Errorf("invalid_json", "%v", err)
			}
		}
		if err := src.add(name, value); err != nil {
			return err
		}
	}
	return nil
}
