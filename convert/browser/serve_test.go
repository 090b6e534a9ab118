package browser

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmrt/wasmrt/hostnet"
)

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"index.html": "<p>page", "c2w.json": "{}", "module.wasm": "\x00asm-identity",
		"module.wasm.br": "brotli-bytes", "module.wasm.gz": "gzip-bytes", "c2w-page.js": "js",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("secret"), 0o644)
	os.Symlink(secret, filepath.Join(dir, "escape"))
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	h, err := Handler(dir, ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(method, path string, header map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		// The transport would ask for gzip itself and decode it.
		req.Header.Set("Accept-Encoding", header["Accept-Encoding"])
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, tc := range []struct {
		path, acceptEncoding, rng string
		status                    int
		body, contentType, enc    string
	}{
		{path: "/", status: 200, body: "<p>page", contentType: "text/html; charset=utf-8"},
		{path: "/index.html", status: 200, body: "<p>page"},
		{path: "/c2w-page.js", status: 200, body: "js", contentType: "text/javascript; charset=utf-8"},
		{path: "/module.wasm", status: 200, body: "\x00asm-identity", contentType: "application/wasm"},
		{path: "/module.wasm", acceptEncoding: "gzip, deflate, br", status: 200, body: "brotli-bytes", contentType: "application/wasm", enc: "br"},
		{path: "/module.wasm", acceptEncoding: "gzip", status: 200, body: "gzip-bytes", contentType: "application/wasm", enc: "gzip"},
		{path: "/module.wasm", acceptEncoding: "br;q=0, gzip;q=0.5", status: 200, body: "gzip-bytes", enc: "gzip"},
		{path: "/module.wasm", acceptEncoding: "br;q=0", status: 200, body: "\x00asm-identity"},
		// A range is of the file itself, never of a compressed copy.
		{path: "/module.wasm", acceptEncoding: "br, gzip", rng: "bytes=1-3", status: 206, body: "asm"},
		{path: "/missing", status: 404},
		{path: "/escape", status: 404},
		{path: "/../secret", status: 404},
		{path: "/sub/", status: 404},
		{path: "/sub", status: 404},
	} {
		resp, body := get(http.MethodGet, tc.path, map[string]string{"Accept-Encoding": tc.acceptEncoding, "Range": tc.rng})
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s (Accept-Encoding %q, Range %q): %d, want %d", tc.path, tc.acceptEncoding, tc.rng, resp.StatusCode, tc.status)
			continue
		}
		if resp.Header.Get("Cross-Origin-Opener-Policy") != "same-origin" || resp.Header.Get("Cross-Origin-Embedder-Policy") != "require-corp" {
			t.Errorf("GET %s: no cross-origin isolation headers: %v", tc.path, resp.Header)
		}
		if tc.status >= 300 {
			if strings.Contains(body, "secret") {
				t.Errorf("GET %s served the file outside the site", tc.path)
			}
			continue
		}
		if body != tc.body || resp.Header.Get("Content-Encoding") != tc.enc ||
			tc.contentType != "" && resp.Header.Get("Content-Type") != tc.contentType {
			t.Errorf("GET %s (Accept-Encoding %q, Range %q): %q, Content-Encoding %q, Content-Type %q; want %q, %q, %q", tc.path, tc.acceptEncoding, tc.rng,
				body, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"), tc.body, tc.enc, tc.contentType)
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("GET %s: no Vary: Accept-Encoding", tc.path)
		}
	}
	if resp, _ := get(http.MethodPost, "/", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	if resp, body := get(http.MethodHead, "/module.wasm", nil); resp.StatusCode != 200 || body != "" || resp.ContentLength != int64(len(files["module.wasm"])) {
		t.Errorf("HEAD: %d %q %d", resp.StatusCode, body, resp.ContentLength)
	}
	// No relay unless asked for.
	if resp, _ := get(http.MethodGet, "/"+NetPath, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s without a network: %d", NetPath, resp.StatusCode)
	}
	if err := CheckSite(dir); err != nil {
		t.Errorf("CheckSite(site) = %v", err)
	}
	if err := CheckSite(t.TempDir()); err == nil {
		t.Errorf("CheckSite(empty dir) = nil")
	}
}

// TestRelayOrigin: the network relay answers pages of its own origin
// only, so that other sites a visitor has open cannot use the server's
// network; a page of its origin gets the link's opening.
func TestRelayOrigin(t *testing.T) {
	h, err := Handler(t.TempDir(), ServeOptions{Network: &hostnet.Options{DNS: []string{"127.0.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/" + NetPath
	_, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://elsewhere.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a page of another origin: %v, %v (want 403)", resp, err)
	}
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {srv.URL}}})
	if err != nil {
		t.Fatalf("a page of the same origin: %v", err)
	}
	defer ws.CloseNow()
	// The relay opens the link as a network helper does.
	_, msg, err := ws.Read(ctx)
	if err != nil || !strings.HasPrefix(string(msg), "c2w-net/1") {
		t.Errorf("first message %q, %v; want the link's hello", msg, err)
	}
}
