// Package jsonobj is a JSON object that keeps its keys in order: Slack
// clients and golden tests compare message objects byte for byte, and
// encoding/json's maps would sort the keys.
package jsonobj

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Object is a JSON object as ordered keys with raw (compact) values.
type Object struct {
	Keys   []string
	Values []json.RawMessage
}

// Parse decodes a JSON object, keeping key order. A repeated key keeps its
// first position and its last value, as a last-write-wins merge would.
func Parse(b []byte) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("jsonobj: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("jsonobj: not an object")
	}
	o := &Object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("jsonobj: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("jsonobj: bad key %v", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("jsonobj: value of %q: %w", key, err)
		}
		if bytes.ContainsAny(v, " \t\r\n") {
			var c bytes.Buffer
			if err := json.Compact(&c, v); err != nil {
				return nil, fmt.Errorf("jsonobj: value of %q: %w", key, err)
			}
			v = c.Bytes()
		}
		o.Set(key, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("jsonobj: %w", err)
	}
	return o, nil
}

// Get returns the value of key, or nil.
func (o *Object) Get(key string) json.RawMessage {
	for i, k := range o.Keys {
		if k == key {
			return o.Values[i]
		}
	}
	return nil
}

// Set replaces the value of key in place, or appends the key.
func (o *Object) Set(key string, v json.RawMessage) {
	for i, k := range o.Keys {
		if k == key {
			o.Values[i] = v
			return
		}
	}
	o.Keys = append(o.Keys, key)
	o.Values = append(o.Values, v)
}

// Merge sets every key of p on o, in p's order.
func (o *Object) Merge(p *Object) {
	for i, k := range p.Keys {
		o.Set(k, p.Values[i])
	}
}

// AppendTo appends the compact encoding of o to b.
func (o *Object) AppendTo(b []byte) []byte {
	b = append(b, '{')
	for i, k := range o.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k)
		b = append(b, ':')
		b = append(b, o.Values[i]...)
	}
	return append(b, '}')
}

// Bytes returns the compact encoding of o.
func (o *Object) Bytes() []byte { return o.AppendTo(nil) }

// AppendString appends s as a JSON string. It escapes what JSON requires and
// nothing more (no HTML escaping), like Slack does for IDs and emoji names.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// AppendField appends `,"key":value` (or `"key":value` when the object being
// built is still empty, i.e. b ends in '{') to b. value must be valid JSON.
func AppendField(b []byte, key string, value []byte) []byte {
	if len(b) > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = AppendString(b, key)
	b = append(b, ':')
	return append(b, value...)
}
