package haproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestReloadKeepsIdleKeepAliveClients runs the real HAProxy (master-worker,
// on loopback) with the rendered defaults, frontend and backend, in front of
// a Go HTTP server. A client makes one request on a keep-alive connection and
// leaves it idle; the master is reloaded (SIGUSR2, what systemctl reload
// sends); then the client sends a POST on the same connection.
//
// With the rendered configuration the old worker answers it (and closes
// afterwards). The control run renders the same configuration without
// "option idle-close-on-response": there the old worker closed the idle
// connection when the reload started, and the POST, which a client does not
// resend, fails. The control proves the test can see the fault it guards.
func TestReloadKeepsIdleKeepAliveClients(t *testing.T) {
	bin := haproxyBinaries(t)[0]

	backend := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = fmt.Fprintf(w, "%s ok\n", r.Method)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = backend.Serve(bl) }()
	t.Cleanup(func() { _ = backend.Close() })
	backendPort := bl.Addr().(*net.TCPAddr).Port

	for _, tc := range []struct {
		name       string
		withOption bool
	}{
		{"rendered", true},
		{"control without idle-close-on-response", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frontPort := freePort(t)
			cfg := Config{
				Frontends: []Frontend{{Name: "www", BindAddress: "127.0.0.1", Port: frontPort, DefaultBackend: "web"}},
				Backends: []Backend{{Name: "web", Servers: []Server{
					{Name: "app", Address: "127.0.0.1", Port: backendPort},
				}}},
			}
			text, err := cfg.Render()
			if err != nil {
				t.Fatal(err)
			}
			const option = "\toption idle-close-on-response\n"
			if !strings.Contains(string(text), option) {
				t.Fatalf("rendered configuration has no %q:\n%s", option, text)
			}
			local := localRunnable(t, string(text))
			if !tc.withOption {
				local = strings.Replace(local, option, "", 1)
			}
			master := startHAProxy(t, bin, local)

			conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(frontPort), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			br := bufio.NewReader(conn)
			if status, err := roundTrip(conn, br, "GET", ""); err != nil || status != 200 {
				t.Fatalf("first GET on the keep-alive connection: status %d, %v", status, err)
			}

			master.reload(t)
			// The old worker acts on the soft stop as it starts; give it
			// the moment it takes to close idle connections.
			time.Sleep(300 * time.Millisecond)

			status, err := roundTrip(conn, br, "POST", "order=1")
			switch {
			case tc.withOption && (err != nil || status != 200):
				t.Fatalf("POST on a keep-alive connection that was idle across a reload: status %d, %v; want 200", status, err)
			case !tc.withOption && err == nil:
				t.Fatalf("control: the POST was answered (%d) without idle-close-on-response; the test no longer sees the fault it guards", status)
			}
			t.Logf("POST after the reload: status %d, err %v", status, err)
		})
	}
}

// localRunnable replaces the rendered global section (Debian's paths, the
// chroot, the haproxy user, daemon mode, the admin socket under /run) with
// one a test can run in the foreground; defaults, frontends and backends are
// left exactly as rendered.
func localRunnable(t *testing.T, text string) string {
	t.Helper()
	i := strings.Index(text, "\ndefaults")
	if i < 0 {
		t.Fatalf("no defaults section in:\n%s", text)
	}
	return "global\n\tmaster-worker\n\tmaxconn 100\n" + text[i:]
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// haproxyProcess is a master-worker HAProxy run in the foreground.
type haproxyProcess struct {
	pid int
	out *syncBuffer
}

// waitLoaded waits until the master has logged "Loading success." n times:
// once at start, once more after each reload. The master handles a reload
// signal only once it has finished loading.
func (p haproxyProcess) waitLoaded(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(p.out.String(), "Loading success.") < n {
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not finish loading (%d) in 10 s:\n%s", n, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reload sends SIGUSR2 (what systemctl reload sends) and waits for the new
// worker. A master that has logged "Loading success." may not yet handle the
// signal (it is lost in its first moments), so it is sent again each second.
func (p haproxyProcess) reload(t *testing.T) {
	t.Helper()
	for i := 0; i < 10; i++ {
		if err := syscall.Kill(p.pid, syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if strings.Count(p.out.String(), "Loading success.") >= 2 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatalf("haproxy did not reload in 10 s:\n%s", p.out.String())
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startHAProxy runs haproxy -W -db (master-worker, foreground) on the
// configuration and waits until it has loaded. Cleanup stops it.
func startHAProxy(t *testing.T, bin, cfg string) haproxyProcess {
	t.Helper()
	dir, err := os.MkdirTemp("", "haproxy-reload-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-W", "-db", "-f", path)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})
	p := haproxyProcess{pid: cmd.Process.Pid, out: out}
	p.waitLoaded(t, 1)
	return p
}

// roundTrip writes one HTTP/1.1 request on conn and reads its response.
func roundTrip(conn net.Conn, br *bufio.Reader, method, body string) (int, error) {
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := method + " / HTTP/1.1\r\nHost: www\r\n"
	if body != "" {
		req += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	req += "\r\n" + body
	if _, err := io.WriteString(conn, req); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}
