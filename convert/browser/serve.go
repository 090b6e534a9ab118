package browser

import (
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/hostnet"
)

// NetPath is where a site's page finds the network relay, relative to
// the page.
const NetPath = ".c2w/net"

// ServeOptions tune Handler.
type ServeOptions struct {
	// Network, when set, offers pages a network for their guests: a
	// WebSocket at NetPath carrying the module's network link (the
	// module's --net), whose host side (package hostnet) makes the
	// guest's connections from this machine. Only pages of the server's
	// own origin may open it.
	Network *hostnet.Options
	// Logf, when set, receives what went wrong with a relay.
	Logf func(format string, args ...any)
}

// Handler serves the site in dir as a static site that browsers isolate
// (the headers SharedArrayBuffer needs) and that sends the precompressed
// module to browsers that accept it. Only files under dir are served
// (symbolic links that leave it are refused), with no directory listings.
func Handler(dir string, opts ServeOptions) (http.Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &siteHandler{root: root.FS(), opts: opts}, nil
}

type siteHandler struct {
	root fs.FS
	opts ServeOptions
}

// encodings are the precompressed siblings the handler looks for, in the
// order it prefers them.
var encodings = []struct{ token, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

func (h *siteHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	// Cross-origin isolation: without it browsers give the page no
	// SharedArrayBuffer, and keyboard input cannot reach the worker.
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	hdr.Set("Cross-Origin-Embedder-Policy", "require-corp")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	hdr.Set("X-Content-Type-Options", "nosniff")
	// Revalidate every time: a rebuilt site must not mix with a cached one.
	hdr.Set("Cache-Control", "no-cache")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	if name == NetPath && h.opts.Network != nil {
		h.relay(w, r)
		return
	}
	if !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		hdr.Set("Content-Type", ct)
	}
	hdr.Add("Vary", "Accept-Encoding")
	// Ranges are served from the file itself: a range of a compressed
	// copy means nothing to a client that asked for the file.
	if r.Header.Get("Range") == "" {
		accepted := r.Header.Get("Accept-Encoding")
		for _, e := range encodings {
			if !acceptsEncoding(accepted, e.token) {
				continue
			}
			if h.serveFile(w, r, name+e.suffix, e.token) {
				return
			}
		}
	}
	if !h.serveFile(w, r, name, "") {
		http.NotFound(w, r)
	}
}

// serveFile serves name, with encoding as its Content-Encoding, and
// reports whether it was a file to serve.
func (h *siteHandler) serveFile(w http.ResponseWriter, r *http.Request, name, encoding string) bool {
	f, err := h.root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return false
	}
	if encoding != "" {
		w.Header().Set("Content-Encoding", encoding)
	}
	http.ServeContent(w, r, name, st.ModTime(), rs)
	return true
}

// relay serves one page's network: the WebSocket's binary messages are
// the byte stream of the module's network link.
func (h *siteHandler) relay(w http.ResponseWriter, r *http.Request) {
	// Accept refuses pages of other origins: no other site a visitor has
	// open may use this server's network.
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	// A link frame is at most 4 bytes of length and an MTU of packet.
	ws.SetReadLimit(1 << 20)
	ctx := r.Context()
	link := websocket.NetConn(ctx, ws, websocket.MessageBinary)
	defer link.Close()
	err = inet.OpenLink(link, "")
	if err == nil {
		err = hostnet.Serve(ctx, link, *h.opts.Network)
	}
	if err != nil && ctx.Err() == nil && h.opts.Logf != nil {
		h.opts.Logf("network relay for %s: %v", r.RemoteAddr, err)
	}
}

// acceptsEncoding reports whether an Accept-Encoding header value allows
// token: listed, and not with q=0.
func acceptsEncoding(header, token string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), token) {
			continue
		}
		k, v, found := strings.Cut(strings.ReplaceAll(params, " ", ""), "=")
		if !found || k != "q" {
			return true
		}
		q, err := strconv.ParseFloat(v, 64)
		return err == nil && q > 0
	}
	return false
}

// errNotSite is returned by CheckSite for a directory without a site.
var errNotSite = errors.New("no " + ConfigName + " (not a site c2w wrote)")

// CheckSite reports whether dir holds a site, for commands that serve one.
func CheckSite(dir string) error {
	st, err := os.Stat(filepath.Join(dir, ConfigName))
	if err != nil || !st.Mode().IsRegular() {
		return errNotSite
	}
	return nil
}
