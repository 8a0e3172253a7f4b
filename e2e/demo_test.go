package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeDemoCurlLine keeps the README's promise: `serve --demo` on a new
// database seeds the demo, prints the tokens and a curl line, and that line,
// run verbatim by a shell, answers ok with messages.
func TestServeDemoCurlLine(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the full default demo")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is not installed")
		}
		t.Skip("curl is not installed")
	}
	db := filepath.Join(t.TempDir(), "demo.db")
	cmd := exec.Command(binary(t), "serve", "--demo", "--db", db, "--addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var curl string
	var tokens []string
	timeout := time.After(3 * time.Minute)
	for curl == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve --demo exited before printing a curl line")
			}
			if f := strings.Fields(l); len(f) == 2 && (f[0] == "admin" || f[0] == "member" || f[0] == "bot") {
				tokens = append(tokens, f[1])
			}
			if s := strings.TrimSpace(l); strings.HasPrefix(s, "curl ") {
				curl = s
			}
		case <-timeout:
			t.Fatal("serve --demo printed no curl line within 3 minutes")
		}
	}
	go func() {
		for range lines {
		}
	}()
	if len(tokens) != 3 {
		t.Errorf("printed tokens: %v, want admin, member and bot", tokens)
	}
	out, err := exec.Command("sh", "-c", curl).Output()
	if err != nil {
		t.Fatalf("%s: %v", curl, err)
	}
	var res struct {
		OK       bool              `json:"ok"`
		Messages []json.RawMessage `json:"messages"`
		Error    string            `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil || !res.OK || len(res.Messages) == 0 {
		t.Fatalf("%s\nanswered %s (err %v)", curl, out, err)
	}
}
