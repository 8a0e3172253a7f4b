package pagecache

import "testing"

func TestVersionsAndCap(t *testing.T) {
	c := New[string, string](40, func(v string) int64 { return int64(len(v)) })
	c.Put("a", 1, "aaaaaaaa")
	if v, ok := c.Get("a", 1); !ok || v != "aaaaaaaa" {
		t.Fatalf("same version: %q %v", v, ok)
	}
	if _, ok := c.Get("a", 2); ok {
		t.Fatal("served an older version to a newer reader")
	}
	if _, ok := c.Get("a", 1); ok {
		t.Fatal("an entry older than a reader's version was kept")
	}
	c.Put("b", 5, "bbbbbbbb")
	c.Put("b", 4, "old") // a slower reader of an older version
	if v, _ := c.Get("b", 5); v != "bbbbbbbb" {
		t.Fatalf("a newer entry was replaced by an older one: %q", v)
	}
	c.Put("big", 1, "0123456789a") // over a quarter of the cap
	if _, ok := c.Get("big", 1); ok {
		t.Fatal("stored a value over a quarter of the cap")
	}
	for _, k := range []string{"c", "d", "e", "f", "g"} { // 5 × 8 bytes > 40: "b" is evicted
		c.Put(k, 1, "xxxxxxxx")
	}
	if _, ok := c.Get("b", 5); ok {
		t.Fatal("the least recently used entry survived past the cap")
	}
	if d := New[string, string](0, nil); d.Enabled() {
		t.Fatal("a zero-byte cache is enabled")
	}
}
