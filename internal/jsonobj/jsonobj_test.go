package jsonobj

import "testing"

func TestParseMergeKeepsOrder(t *testing.T) {
	o, err := Parse([]byte(`{"type":"message","text":"a","ts":"1.000001","blocks":[1, 2]}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse([]byte(`{"text":"b","files":[{"id":"F1"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	o.Merge(p)
	got := string(o.Bytes())
	want := `{"type":"message","text":"b","ts":"1.000001","blocks":[1,2],"files":[{"id":"F1"}]}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"a":}`, `{"a":1`, `"x"`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q): no error", in)
		}
	}
}

func TestAppendField(t *testing.T) {
	b := []byte("{")
	b = AppendField(b, "a", []byte("1"))
	b = AppendField(b, "q\"\n", []byte(`"x"`))
	b = append(b, '}')
	if got, want := string(b), `{"a":1,"q\"\n":"x"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
