// Package browser turns a converted module into a static web site that
// runs it in a browser, and serves such sites.
//
// The site (Write) is index.html, the page's script, a Web Worker script,
// a style sheet, c2w.json (what to run), the module with gzip and brotli
// copies for servers that send precompressed files, and the rootfs image
// taken out of the module (pack.Detach). The page shows an xterm.js
// terminal; the worker fetches the module, compiles it while it downloads
// (WebAssembly.compileStreaming) and runs it under
// @bjorn3/browser_wasi_shim, giving it the rootfs as a file of a
// preopened directory (--rootfs-file) that it reads with synchronous HTTP
// range requests as the guest touches it. Keystrokes and window sizes cross from the
// page to the worker through a SharedArrayBuffer, which browsers give
// only to cross-origin isolated pages: the server must send
// Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy:
// require-corp, as Handler does. The module reads window sizes with its
// --resize-fd flag.
//
// The scripts come from convert/browser/web: npm packages pinned by its
// package-lock.json, bundled by esbuild at build time
// (scripts/build-web.sh) into dist, which c2w embeds; nothing is fetched
// from elsewhere when the page runs.
package browser
