// Package mailpittest runs a real Mailpit (the project's pinned Go tool,
// `go tool mailpit`) for tests and reads its inbox through its HTTP API.
package mailpittest

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mailpit is a running Mailpit on loopback ports.
type Mailpit struct {
	SMTP string // smtp://127.0.0.1:port, for SMTP_URL
	API  string // http://127.0.0.1:port/api/v1
}

// Message is a message as Mailpit's API returns it.
type Message struct {
	ID        string `json:"ID"`
	MessageID string `json:"MessageID"`
	Subject   string `json:"Subject"`
	To        []struct {
		Address string `json:"Address"`
	} `json:"To"`
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

var bin struct {
	once sync.Once
	path string
	err  error
}

// FreeAddr is a loopback address nothing listens on (yet).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs Mailpit until the test ends (built once per test binary).
func Start(t testing.TB) Mailpit {
	t.Helper()
	bin.once.Do(func() {
		out, err := exec.Command("go", "tool", "-n", "mailpit").Output()
		bin.path, bin.err = strings.TrimSpace(string(out)), err
	})
	if bin.err != nil {
		t.Fatalf("go tool -n mailpit: %v", bin.err)
	}
	smtpAddr, httpAddr := FreeAddr(t), FreeAddr(t)
	cmd := exec.Command(bin.path, "--smtp", smtpAddr, "--listen", httpAddr, "--quiet",
		"--database", filepath.Join(t.TempDir(), "mailpit.db"), "--disable-version-check")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	mp := Mailpit{SMTP: "smtp://" + smtpAddr, API: "http://" + httpAddr + "/api/v1"}
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(mp.API + "/info"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return mp
			}
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("Mailpit did not start")
		}
	}
}

// Messages lists the inbox, each message with its text and HTML.
func (mp Mailpit) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []Message `json:"messages"`
	}
	get(t, mp.API+"/messages", &list)
	for i := range list.Messages {
		get(t, mp.API+"/message/"+list.Messages[i].ID, &list.Messages[i])
	}
	return list.Messages
}

func get(t testing.TB, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}
