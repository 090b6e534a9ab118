package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/wasi"
)

// DefaultWasmCache is where compiled WebAssembly modules are kept for every
// container of the host (see Runtime.WasmCache).
const DefaultWasmCache = "/var/cache/wasmrt"

// wasmCache is the compilation cache as a container process inherits it.
type wasmCache struct {
	dir *os.File
	// mtime is the directory's modification time when opened: a module
	// compiled for the first time adds an entry and changes it.
	mtime unix.Timespec
}

// openWasmCache opens the compilation cache's directory for a container
// process to inherit, or returns nil when there is no usable cache. The
// directory must belong to root and be writable by nobody else: compiled
// code read from it runs in containers.
func (rt *Runtime) openWasmCache() *wasmCache {
	if rt.WasmCache == "" {
		return nil
	}
	if _, err := wasi.OpenCache(rt.WasmCache, rt.WasmCacheSize); err != nil {
		rt.Log.Warn("WebAssembly compilation cache unusable; modules compile at every start", "error", err)
		return nil
	}
	f, err := os.OpenFile(rt.WasmCache, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		rt.Log.Warn("WebAssembly compilation cache unusable; modules compile at every start", "error", err)
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Uid != 0 || st.Mode&0o022 != 0 {
		f.Close()
		rt.Log.Warn("WebAssembly compilation cache not used: it must be a directory owned by root and writable by no one else",
			"dir", rt.WasmCache, "uid", st.Uid, "mode", fmt.Sprintf("%#o", st.Mode&0o7777))
		return nil
	}
	return &wasmCache{dir: f, mtime: st.Mtim}
}

// close releases the directory and, when a module was added to the cache
// meanwhile, trims it to its size.
func (rt *Runtime) closeWasmCache(c *wasmCache) {
	if c == nil {
		return
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(c.dir.Fd()), &st); err == nil && st.Mtim != c.mtime {
		rt.trimWasmCache()
	}
	c.dir.Close()
}

// trimWasmCache keeps the cache within its size.
func (rt *Runtime) trimWasmCache() {
	if rt.WasmCache == "" {
		return
	}
	c, err := wasi.OpenCache(rt.WasmCache, rt.WasmCacheSize)
	if err == nil {
		_, err = c.Trim()
	}
	if err != nil {
		rt.Log.Warn("trim the WebAssembly compilation cache", "error", err)
	}
}
