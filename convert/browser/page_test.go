package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/hostnet"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// pageRun is what web/test/e2e.mjs reports.
type pageRun struct {
	Error string `json:"error"`
	Steps struct {
		Boot struct {
			Lines    []string `json:"lines"`
			Rows     int      `json:"rows"`
			Cols     int      `json:"cols"`
			Isolated bool     `json:"isolated"`
			MS       int      `json:"ms"`
		} `json:"boot"`
		Echo, Ls, Net struct {
			Lines []string `json:"lines"`
		}
		Interrupt struct {
			InterruptMS int      `json:"interruptMs"`
			Lines       []string `json:"lines"`
		} `json:"interrupt"`
		Resize struct {
			Rows  int      `json:"rows"`
			Cols  int      `json:"cols"`
			Lines []string `json:"lines"`
		} `json:"resize"`
		Reload struct {
			MS int `json:"ms"`
		} `json:"reload"`
		Bad struct {
			State  string `json:"state"`
			Status string `json:"status"`
		} `json:"bad"`
	} `json:"steps"`
	Transfers []struct {
		Status    int    `json:"status"`
		Encoding  string `json:"encoding"`
		BodyBytes int64  `json:"bodyBytes"`
	} `json:"transfers"`
	RootfsReads []struct {
		Status int    `json:"status"`
		Range  string `json:"range"`
		Bytes  int64  `json:"bytes"`
	} `json:"rootfsReads"`
	ConsoleErrors []string `json:"consoleErrors"`
}

// TestPageInChromium serves a site for the busybox fixture and uses it in
// headless Chromium as a person would (web/test/e2e.mjs): the prompt
// appears, commands run, ^C interrupts, the window's size reaches the
// guest, the guest fetches from a server on the host's loopback through
// the page's network relay; a site whose module is broken says so on the
// page. The screenshot is kept in .cache/test-artifacts.
func TestPageInChromium(t *testing.T) {
	requireAssets(t)
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium is not installed (make test installs it)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (make test installs it)")
	}
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(root, ".cache", "web")
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core")); err != nil {
		t.Skip("playwright-core is not installed: run scripts/build-web.sh (make does)")
	}
	module := convertedBusybox(t)
	site := filepath.Join(t.TempDir(), "site")
	if err := Write(site, module, Options{Network: true}); err != nil {
		t.Fatal(err)
	}
	// The broken site: a module cut short, served as it is.
	bad := filepath.Join(t.TempDir(), "bad")
	if err := Write(bad, module, Options{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bad, ModuleName), module[:len(module)/2], 0o644)
	os.Remove(filepath.Join(bad, ModuleName+".br"))
	os.Remove(filepath.Join(bad, ModuleName+".gz"))
	// What the guest fetches: a server on the host's loopback, 10.0.2.2
	// to the guest.
	body := fmt.Sprintf("from-the-host-%d", time.Now().UnixNano())
	hostSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, body) }))
	defer hostSrv.Close()
	_, hostPort, _ := net.SplitHostPort(hostSrv.Listener.Addr().String())
	mux := http.NewServeMux()
	for prefix, dir := range map[string]string{"/": site, "/bad/": bad} {
		h, err := Handler(dir, ServeOptions{Network: &hostnet.Options{}, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle(prefix, http.StripPrefix(strings.TrimSuffix(prefix, "/"), h))
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The script imports playwright-core from .cache/web's node_modules.
	script, err := os.CreateTemp(web, "e2e-*.mjs")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(script.Name())
	src, err := os.ReadFile("web/test/e2e.mjs")
	if err != nil {
		t.Fatal(err)
	}
	script.Write(src)
	script.Close()
	artifacts := filepath.Join(root, ".cache", "test-artifacts")
	os.MkdirAll(artifacts, 0o755)
	shot := filepath.Join(artifacts, "browser-page.png")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script.Name(), srv.URL+"/", shot, srv.URL+"/bad/")
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "E2E_GUEST_URL=http://10.0.2.2:"+hostPort+"/")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("e2e.mjs: %v\n%s", err, out)
	}
	var r pageRun
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("e2e.mjs output: %v\n%s", err, out)
	}
	if r.Error != "" {
		t.Fatalf("in the page: %s", r.Error)
	}
	s := r.Steps
	if !s.Boot.Isolated || !slices.ContainsFunc(s.Boot.Lines, func(l string) bool { return strings.Contains(l, "BusyBox") }) {
		t.Errorf("boot: isolated %v, screen %q", s.Boot.Isolated, s.Boot.Lines)
	}
	if !slices.Contains(s.Echo.Lines, "hello-42") {
		t.Errorf("echo hello-$((6*7)): %q", s.Echo.Lines)
	}
	if len(s.Ls.Lines) < 2 {
		t.Errorf("ls /: %q", s.Ls.Lines)
	} else if names := strings.Fields(strings.Join(s.Ls.Lines[1:len(s.Ls.Lines)-1], " ")); !containsAll(names, "bin", "etc", "proc", "usr", "tmp") {
		t.Errorf("ls / listed %q", names)
	}
	if !slices.Contains(s.Net.Lines, body) || !slices.Contains(s.Net.Lines, "wget=0") {
		t.Errorf("the guest's wget of the host's server through the relay: %q (want %q)", s.Net.Lines, body)
	}
	if !slices.Contains(s.Interrupt.Lines, "status=130") {
		t.Errorf("after ^C of sleep 100: %q (want status=130, SIGINT)", s.Interrupt.Lines)
	}
	if s.Resize.Rows == s.Boot.Rows || !slices.Contains(s.Resize.Lines, strconv.Itoa(s.Resize.Rows)+" "+strconv.Itoa(s.Resize.Cols)) {
		t.Errorf("resized from %dx%d to %dx%d, stty size says %q", s.Boot.Rows, s.Boot.Cols, s.Resize.Rows, s.Resize.Cols, s.Resize.Lines)
	}
	if s.Bad.State != "error" || !strings.Contains(s.Bad.Status, "module.wasm") {
		t.Errorf("broken module: page %s, %q (want a readable error naming module.wasm)", s.Bad.State, s.Bad.Status)
	}
	var wire int64
	for _, tr := range r.Transfers {
		if tr.Encoding == "br" && tr.BodyBytes > wire {
			wire = tr.BodyBytes
		}
	}
	if wire == 0 || wire >= int64(len(module)) {
		t.Errorf("module transfers: %+v (want a brotli body smaller than the module)", r.Transfers)
	}
	// The guest's files came by range requests of the rootfs image.
	var fetched int64
	for _, rd := range r.RootfsReads {
		if rd.Status != http.StatusPartialContent || !strings.HasPrefix(rd.Range, "bytes=") {
			t.Errorf("rootfs read %+v: want a range request answered 206", rd)
		}
		fetched += rd.Bytes
	}
	if len(r.RootfsReads) == 0 {
		t.Errorf("the page read no rootfs.img")
	}
	if len(r.ConsoleErrors) > 0 {
		t.Errorf("the page logged errors: %q", r.ConsoleErrors)
	}
	t.Logf("the broken site says: %s", s.Bad.Status)
	t.Logf("load to prompt %d ms cold, %d ms on reload; ^C to prompt %d ms; module %d bytes, %d over the wire (brotli); rootfs %d bytes in %d range requests; screenshot %s",
		s.Boot.MS, s.Reload.MS, s.Interrupt.InterruptMS, len(module), wire, fetched, len(r.RootfsReads), shot)
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(list, w) {
			return false
		}
	}
	return true
}
