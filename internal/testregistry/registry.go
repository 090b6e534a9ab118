package testregistry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wasmrt/wasmrt/internal/syncbuf"
)

// Binary is where Debian's docker-registry package installs the server.
const Binary = "/usr/bin/docker-registry"

// startTimeout bounds how long the server may take to answer /v2/; it
// guards against a hung server, it is not a performance assertion.
const startTimeout = 60 * time.Second

// stopTimeout bounds the graceful shutdown before the server is killed.
const stopTimeout = 10 * time.Second

// config is the server configuration: filesystem storage, plain HTTP on
// loopback, no authentication, quiet logs.
const config = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
`

// authConfig turns on htpasswd authentication (basic auth with bcrypt
// hashes), as a private registry asks for it.
const authConfig = `auth:
  htpasswd:
    realm: test-registry
    path: %s
`

// Start runs a docker-registry server for the duration of the test and
// returns its address as "127.0.0.1:PORT", ready to prefix repository names
// (plain HTTP: use name.Insecure with go-containerregistry). The test is
// skipped when the server is not installed.
func Start(t testing.TB) string {
	t.Helper()
	return start(t, "", "")
}

// StartWithAuth is Start with a registry that serves only user, who logs
// in with password.
func StartWithAuth(t testing.TB, user, password string) string {
	t.Helper()
	return start(t, user, password)
}

func start(t testing.TB, user, password string) string {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Skipf("docker-registry not installed (%v): install the Debian package docker-registry", err)
	}
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	if err := os.Mkdir(storage, 0o700); err != nil {
		t.Fatal(err)
	}
	// The port is picked by the kernel and released for the server to
	// take; if another process grabs it in between, the server exits and
	// Start tries again with a new port.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		cfg := filepath.Join(dir, fmt.Sprintf("config-%d.yml", attempt))
		text := fmt.Sprintf(config, storage, addr)
		if user != "" {
			hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			htpasswd := filepath.Join(dir, "htpasswd")
			if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			text += fmt.Sprintf(authConfig, htpasswd)
		}
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		srv, err := startServer(cfg)
		if err != nil {
			t.Fatalf("starting %s: %v", Binary, err)
		}
		if lastErr = srv.waitReady(addr); lastErr == nil {
			t.Cleanup(func() {
				if err := srv.stop(); err != nil {
					t.Errorf("stopping docker-registry: %v", err)
				}
			})
			return addr
		}
		_ = srv.stop()
	}
	t.Fatalf("docker-registry did not start: %v", lastErr)
	return ""
}

// server is a running docker-registry process.
type server struct {
	cmd    *exec.Cmd
	output *syncbuf.Buffer
	exited chan struct{}
	err    error // set before exited is closed
}

func startServer(configFile string) (*server, error) {
	s := &server{output: &syncbuf.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(Binary, "serve", configFile)
	s.cmd.Stdout = s.output
	s.cmd.Stderr = s.output
	// Own process group, so a stop signal cannot reach the test binary.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// waitReady polls GET /v2/ until the API answers 200, the process exits,
// or startTimeout passes.
func (s *server) waitReady(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + addr + "/v2/"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			// 401: up, and asking for credentials.
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited (%v) before answering %s:\n%s", s.err, url, s.output.String())
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer within %v:\n%s", url, startTimeout, s.output.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop asks the server to shut down and kills it if it does not.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("did not stop within %v of SIGTERM; killed it", stopTimeout)
	}
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
