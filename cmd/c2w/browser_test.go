package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/convert/browser"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/syncbuf"
)

func TestBrowserCommand(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	site := filepath.Join(t.TempDir(), "site")
	code, _, errOut := run(t, "browser", "--title", "bb", "--net", module, site, "--", "sh", "-c", "echo x")
	if code != 0 || !strings.Contains(errOut, "serve it with: c2w serve "+site) {
		t.Fatalf("c2w browser: %d %s", code, errOut)
	}
	var cfg browser.SiteConfig
	b, _ := os.ReadFile(filepath.Join(site, browser.ConfigName))
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.Title != "bb" || !cfg.Network || strings.Join(cfg.Args, "|") != "sh|-c|echo x" {
		t.Errorf("c2w.json: %+v, %v", cfg, err)
	}
	plain := filepath.Join(t.TempDir(), "plain.wasm")
	os.WriteFile(plain, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"browser", module}, 2, "requires at least 2 arg"},
		{[]string{"browser", module, site, "extra"}, 2, "then -- and the module's arguments"},
		{[]string{"browser", plain, filepath.Join(t.TempDir(), "s")}, 1, "not a converted module"},
		{[]string{"browser", filepath.Join(t.TempDir(), "missing.wasm"), site}, 1, "missing.wasm"},
		{[]string{"serve", t.TempDir()}, 1, "no c2w.json"},
		{[]string{"serve", "--listen", "256.0.0.1:1", site}, 1, "256.0.0.1"},
		{[]string{"serve", "--net", "--dns", "not-an-ip", site}, 2, "not-an-ip"},
	} {
		if code, _, errOut := run(t, tc.args...); code != tc.code || !strings.Contains(errOut, tc.err) {
			t.Errorf("c2w %q: exit %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.err)
		}
	}

	// c2w serve serves the site with its headers until interrupted.
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- doMain(ctx, []string{"serve", "--listen", "127.0.0.1:0", site}, strings.NewReader(""), &stderr, &stderr)
	}()
	addr := regexp.MustCompile(`at (http://[0-9.:]+/)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if m := addr.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("c2w serve did not say where: %q", stderr.String())
		}
	}
	resp, err := http.Get(url + "c2w.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cross-Origin-Embedder-Policy") != "require-corp" {
		t.Errorf("GET c2w.json: %d %v", resp.StatusCode, resp.Header)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("c2w serve ended with %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("c2w serve did not stop when interrupted")
	}
}
