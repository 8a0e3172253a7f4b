package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// buildBinary compiles cmd/backchannel once per test binary run.
var buildOnce struct {
	sync.Once
	path string
	err  error
	out  []byte
}

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "backchannel-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "backchannel")
		cmd := exec.Command("go", "build", "-o", buildOnce.path, "../cmd/backchannel")
		buildOnce.out, buildOnce.err = cmd.CombinedOutput()
	})
	if buildOnce.err != nil {
		t.Fatalf("go build: %v\n%s", buildOnce.err, buildOnce.out)
	}
	return buildOnce.path
}

// runCLI runs the binary to completion and returns its stdout.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("backchannel %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

var listenRE = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

// startProcess runs `backchannel serve` and returns it with its base URL.
func startProcess(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return cmd, u
	case <-time.After(60 * time.Second):
		t.Fatal("server did not print its address within 60s")
	}
	return nil, ""
}

// TestCrashKeepsAcknowledgedEvents ingests in a loop, kills the server with
// SIGKILL mid-stream, restarts it on the same database and checks that every
// acknowledged event is there.
func TestCrashKeepsAcknowledgedEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	db := filepath.Join(t.TempDir(), "crash.db")
	dir := filepath.Join(t.TempDir(), "dir.ndjson")
	os.WriteFile(dir, []byte(strings.Join([]string{
		`{"type":"team","id":"T0CRASH01","name":"Crash","domain":"crash"}`,
		`{"type":"user","id":"W0CRASH01","team_id":"T0CRASH01","name":"writer"}`,
		`{"type":"channel","id":"C0CRASH01","team_id":"T0CRASH01","name":"crash","kind":"public","created":1600000000}`,
	}, "\n")+"\n"), 0o644)
	runCLI(t, "import", "--db", db, dir)
	token := strings.TrimSpace(runCLI(t, "token", "create", "--db", db, "--user", "W0CRASH01",
		"--scopes", "backchannel:ingest,channels:history"))

	cmd, base := startProcess(t, "--db", db, "--rate-limit", "off")
	start := time.Now().Add(-24 * time.Hour).Unix()
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; ctx.Err() == nil; b++ {
				var body bytes.Buffer
				var batch []string
				for i := 0; i < 500; i++ {
					ts := fmt.Sprintf("%d.%06d", start+int64(w*10000+b), i)
					batch = append(batch, ts)
					fmt.Fprintf(&body, `{"type":"message","channel":"C0CRASH01","user":"W0CRASH01","ts":"%s","text":"x"}`+"\n", ts)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/ingest/events", &body)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, batch...)
					mu.Unlock()
				}
			}
		}(w)
	}
	// Let some batches land, then SIGKILL while requests are in flight.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 20*500 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	cancel()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no batch was acknowledged before the kill")
	}

	_, base = startProcess(t, "--db", db, "--rate-limit", "off")
	api := slack.New(token, slack.OptionAPIURL(base+"/api/"))
	have := map[string]bool{}
	cursor := ""
	for {
		res, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0CRASH01", Cursor: cursor, Limit: 999})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			have[m.Timestamp] = true
		}
		if cursor = res.ResponseMetaData.NextCursor; cursor == "" {
			break
		}
	}
	missing := 0
	for _, ts := range acked {
		if !have[ts] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged events are missing after kill -9", missing, len(acked))
	}
	t.Logf("%d acknowledged events all present after kill -9 (%d stored in all)", len(acked), len(have))
}
