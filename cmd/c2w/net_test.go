package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/testdns"
)

// hostServices are what the guests of the --net tests reach: an HTTP
// server and a DNS resolver, both on the host's loopback.
type hostServices struct {
	http *httptest.Server
	dns  *testdns.Server
	port string // the HTTP server's
}

func startHostServices(t *testing.T) hostServices {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from the host\n", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	dns, err := testdns.Start(map[string]netip.Addr{"web.test": netip.MustParseAddr("192.0.2.7")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dns.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return hostServices{http: srv, dns: dns, port: port}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// TestRunNet: with --net, busybox in the guest fetches from a host HTTP
// server on loopback (10.0.2.2), resolves a name the test's resolver
// serves, and sees a refusal for a closed port; without --net it has no
// route out.
func TestRunNet(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	h := startHostServices(t)
	script := fmt.Sprintf(`wget -q -O- http://10.0.2.2:%s/a; wget -q -O- http://host.containers.internal:%s/b
nslookup web.test | grep -A1 '^Name:'
nslookup missing.test >/dev/null 2>&1 || echo missing-not-found
wget -q -O- http://10.0.2.2:%s/ 2>&1; echo closed-exit=$?
grep nameserver /etc/resolv.conf`, h.port, h.port, closedPort(t))
	code, out, errOut := run(t, "run", "--net", "--dns", h.dns.Addr, module, "sh", "-c", script)
	want := "hello /a from the host\nhello /b from the host\nName:\tweb.test\nAddress: 192.0.2.7\nmissing-not-found\n" +
		"wget: can't connect to remote host (10.0.2.2): Connection refused\nclosed-exit=1\nnameserver 10.0.2.3\n"
	if code != 0 || out != want {
		t.Errorf("c2w run --net: exit %d, stderr %q\nstdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
	code, out, _ = run(t, "run", module, "sh", "-c", fmt.Sprintf("wget -q -O- http://10.0.2.2:%s/ 2>&1; echo exit=$?", h.port))
	if code != 0 || out != "wget: can't connect to remote host (10.0.2.2): Network is unreachable\nexit=1\n" {
		t.Errorf("c2w run without --net: exit %d, stdout %q", code, out)
	}
	if code, _, errOut := run(t, "run", "--dns", "not-an-ip", "--net", module, "true"); code != 2 || !strings.Contains(errOut, `"not-an-ip"`) {
		t.Errorf("--dns not-an-ip: exit %d, %q", code, errOut)
	}
}

// TestNetHelper: a module run by another host (here the wasi package,
// as wazero's CLI would with -listen) gets its network from `c2w net`,
// which must present the module's token.
func TestNetHelper(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	wasm, err := os.ReadFile(module)
	if err != nil {
		t.Fatal(err)
	}
	h := startHostServices(t)
	linkAddr := "127.0.0.1:" + closedPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// A helper with the wrong token is turned away; the module waits on
	// for the right one.
	var wrongErr bytes.Buffer
	wrong := make(chan int, 1)
	go func() {
		wrong <- doMain(ctx, []string{"net", "--token", "wrong", linkAddr}, strings.NewReader(""), &bytes.Buffer{}, &wrongErr)
	}()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code, err := runModule(ctx, moduleRun{
			wasm: wasm, name: filepath.Base(module), listen: []string{linkAddr}, cacheDir: compilationCacheDir(),
			env:   []string{inet.LinkTokenEnv + "=right"},
			args:  []string{"--net", "sh", "-c", "wget -q -O- http://10.0.2.2:" + h.port + "/helper; env | grep -c C2W_NET_TOKEN"},
			stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		})
		if err != nil {
			stderr.WriteString(err.Error())
			code = -1
		}
		done <- code
	}()
	select {
	case code := <-wrong:
		if code == 0 || !strings.Contains(wrongErr.String(), "did not accept the link") {
			t.Errorf("c2w net --token wrong: exit %d, %q", code, wrongErr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("c2w net with the wrong token goes on")
	}
	helper := make(chan int, 1)
	go func() {
		helper <- doMain(ctx, []string{"net", "--token", "right", linkAddr}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	}()
	select {
	case code := <-done:
		// The guest never sees the token.
		if code != 1 || stdout.String() != "hello /helper from the host\n0\n" {
			t.Errorf("module: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the module did not end")
	}
	select {
	case code := <-helper:
		if code != 0 {
			t.Errorf("c2w net: exit %d after the module ended", code)
		}
	case <-time.After(30 * time.Second):
		t.Error("c2w net goes on after the module ended")
	}
}

// TestRunNetPython: python's resolver and urllib in the guest reach the
// host through --net, and python's http.server in the guest is then
// reached from the host through -p, in one run.
func TestRunNetPython(t *testing.T) {
	if testing.Short() {
		t.Skip("converts the python-tests image")
	}
	module := convertFixture(t, fixtures.ImagePythonTests)
	h := startHostServices(t)
	port := closedPort(t)
	program := fmt.Sprintf(`
import os, socket, urllib.request, http.server
print(socket.getaddrinfo("web.test", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4])
print(urllib.request.urlopen("http://10.0.2.2:%s/urllib").read().decode(), end="")
try:
    socket.getaddrinfo("missing.test", 80)
except socket.gaierror as e:
    print("missing:", e.errno == socket.EAI_NONAME)
os.makedirs("/srv", exist_ok=True); os.chdir("/srv")
open("page", "w").write("served-by-guest\n")
print("serving", flush=True)
http.server.HTTPServer(("", 8000), http.server.SimpleHTTPRequestHandler).handle_request()
`, h.port)
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- doMain(context.Background(), []string{"run", "--net", "--dns", h.dns.Addr, "-p", port + ":8000", module, "python3", "-c", program},
			strings.NewReader(""), &stdout, &stderr)
	}()
	var body []byte
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://127.0.0.1:" + port + "/page")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(body) > 0 {
				break
			}
		}
	}
	if string(body) != "served-by-guest\n" {
		t.Errorf("host fetched %q from the guest's http.server", body)
	}
	select {
	case code := <-done:
		want := "('192.0.2.7', 80)\nhello /urllib from the host\nmissing: True\nserving\n"
		if code != 0 || stdout.String() != want {
			t.Errorf("c2w run: exit %d, stdout %q, want %q; stderr %s", code, stdout.String(), want, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Errorf("the guest's server did not end after one request; stderr %s", stderr.String())
	}
}
