package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/wasmrt/wasmrt/hostnet"
	"github.com/wasmrt/wasmrt/wasi"
)

// WasmConfig is what the runtime knows when it prepares a module.
type WasmConfig struct {
	Spec    *specs.Spec
	Process *specs.Process
	// CacheDir is the compilation cache's directory as this process can
	// reach it; "" compiles in memory only.
	CacheDir  string
	CacheSize int64
}

// Wasm runs a compiled module in the container's process.
type Wasm struct {
	module    *wasi.Module
	entry     string
	preopens  []wasi.Preopen
	converted *wasi.Converted
}

var _ Executor = (*Wasm)(nil)

// memorySource names the limit in messages to the module's stderr.
const memorySource = "linux.resources.memory.limit"

// hostHeadroom is kept free for the host's own growth (goroutine stacks,
// buffers of WASI calls) below the memory limit, above what the process
// used by the time the module was compiled.
const hostHeadroom = 16 << 20

// PrepareWasm reads and compiles the module at path (program, as
// process.args[0] gave it, may name an export after '#') and works out
// what it will see. It runs while the process may still read the cache,
// before privileges are dropped.
func PrepareWasm(ctx context.Context, cfg WasmConfig, path, program string) (*Wasm, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read module: %w", err)
	}
	opts := wasi.Options{}
	if cfg.CacheDir != "" {
		if opts.Cache, err = wasi.OpenCache(cfg.CacheDir, cfg.CacheSize); err != nil {
			opts.Cache = nil // a cache we cannot use costs a compilation, never the container
		}
	}
	m, err := wasi.New(opts).Compile(ctx, path, wasm)
	if err != nil {
		return nil, err
	}
	w := &Wasm{module: m}
	fail := func(err error) (*Wasm, error) {
		m.Close(ctx)
		return nil, err
	}
	_, w.entry = SplitEntry(program)
	if _, err := m.Entry(w.entry); err != nil {
		return fail(err)
	}
	limit, err := memoryCap(cfg.Spec)
	if err != nil {
		return fail(err)
	}
	if limit != 0 {
		if err := m.LimitMemory(limit, memorySource+" less the runtime's own use"); err != nil {
			return fail(err)
		}
	}
	if w.preopens, err = preopens(cfg.Spec, m.Converted); err != nil {
		return fail(err)
	}
	if m.Converted {
		c := convertedSettings(cfg.Spec, cfg.Process)
		if limit != 0 {
			if c.GuestMemory, err = m.GuestMemoryFor(limit); err != nil {
				return fail(err)
			}
		}
		w.converted = &c
		// Raw before create returns: what is typed after start must
		// not be echoed by the pty as well as by the guest.
		rawTerminal(int(os.Stdin.Fd()))
	}
	return w, nil
}

// memoryCap is the linear memory a module may use under the container's
// memory limit: the limit less what this process holds once the module is
// compiled (the Go runtime and the compiled code; the compiler's garbage is
// returned to the system first), less some headroom. 0 means no limit.
func memoryCap(spec *specs.Spec) (uint64, error) {
	if spec.Linux == nil || spec.Linux.Resources == nil || spec.Linux.Resources.Memory == nil ||
		spec.Linux.Resources.Memory.Limit == nil || *spec.Linux.Resources.Memory.Limit <= 0 {
		return 0, nil
	}
	limit := uint64(*spec.Linux.Resources.Memory.Limit)
	debug.FreeOSMemory()
	used, err := residentBytes()
	if err != nil {
		return 0, err
	}
	used += hostHeadroom
	if limit <= used {
		return 0, fmt.Errorf("%s of %d bytes is below what the WebAssembly host itself needs (%d bytes with the compiled module)",
			memorySource, limit, used)
	}
	return limit - used, nil
}

// residentBytes is the process's resident memory: from /proc/self/statm,
// or the peak so far where /proc is not mounted.
func residentBytes() (uint64, error) {
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if pages, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				return pages * uint64(os.Getpagesize()), nil
			}
		}
	}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return uint64(ru.Maxrss) * 1024, nil
}

// kernelMounts are destinations a converted module's guest provides for
// itself: its own /proc, /sys and /dev.
var kernelMounts = []string{"/proc", "/sys", "/dev"}

// preopens are the directories the module sees (see the package
// documentation).
func preopens(spec *specs.Spec, converted bool) ([]wasi.Preopen, error) {
	if list, ok := spec.Annotations[AnnotationPreopens]; ok {
		var out []wasi.Preopen
		for _, item := range strings.Split(list, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			dir, ro := strings.CutSuffix(item, ":ro")
			if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
				return nil, fmt.Errorf("annotation %s: %q is not a clean absolute path", AnnotationPreopens, dir)
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("annotation %s: %s is not a directory in the container", AnnotationPreopens, dir)
			}
			out = append(out, wasi.Preopen{Host: dir, Guest: dir, ReadOnly: ro})
		}
		return out, nil
	}
	if !converted {
		// Not marked read-only even when root.readonly is set: mounts
		// below it may be writable, and the kernel refuses writes to the
		// read-only root itself.
		return []wasi.Preopen{{Host: "/", Guest: "/"}}, nil
	}
	var out []wasi.Preopen
	for _, m := range spec.Mounts {
		dst := filepath.Clean(m.Destination)
		if dst == "/" || slices.ContainsFunc(kernelMounts, func(k string) bool { return dst == k || strings.HasPrefix(dst, k+"/") }) {
			continue
		}
		// WASI preopens are directories: file mounts (resolv.conf, hosts)
		// stay out of the guest.
		if st, err := os.Stat(dst); err != nil || !st.IsDir() {
			continue
		}
		out = slices.DeleteFunc(out, func(p wasi.Preopen) bool { return p.Guest == dst })
		out = append(out, wasi.Preopen{Host: dst, Guest: dst, ReadOnly: slices.Contains(m.Options, "ro")})
	}
	return out, nil
}

// convertedSettings hands the container's settings to a converted module.
// A working directory of "/" (every runtime's default) keeps the image's
// own; so does uid and gid 0 for the user.
func convertedSettings(spec *specs.Spec, p *specs.Process) wasi.Converted {
	c := wasi.Converted{Env: p.Env, Hostname: spec.Hostname}
	if p.Cwd != "/" {
		c.Workdir = p.Cwd
	}
	if p.User.UID != 0 || p.User.GID != 0 {
		c.User = strconv.FormatUint(uint64(p.User.UID), 10) + ":" + strconv.FormatUint(uint64(p.User.GID), 10)
	}
	return c
}

// Name implements Executor.
func (*Wasm) Name() string { return "wasm" }

// InProcess implements Executor.
func (*Wasm) InProcess() bool { return true }

// Execute implements Executor: it runs the module to its end and exits the
// process with the module's status.
func (w *Wasm) Execute(p Program) error {
	ctx := context.Background()
	// Stop signals end the process from a C handler the init installed
	// (wasi.ExitOnSignal): a module that loops is not interruptible.
	argv0, _ := SplitEntry(p.Args[0])
	args := append([]string{argv0}, p.Args[1:]...)
	env := p.Env
	var listen []string
	var link *hostnet.Prepared
	if w.converted != nil {
		c := *w.converted
		c.Command = p.Args[1:]
		env = append(slices.Clip(env), guestWindow(int(os.Stdin.Fd()))...)
		// The guest's connections are made by this process, so from the
		// container's network namespace, as a native program's are; and
		// the ports its servers listen on are the namespace's.
		var err error
		if link, err = hostnet.Prepare(); err != nil {
			fmt.Fprintf(os.Stderr, "wasmrt: the guest has no network but its loopback: %v\n", err)
		} else {
			c.Network = true
			listen = []string{link.Addr}
			env = append(env, link.Env())
			link.Start(ctx, hostnet.Options{Expose: true})
		}
		args = c.Args(argv0)
	}
	code, err := w.module.Run(ctx, wasi.Process{
		Args: args, Env: env, Dir: p.Cwd, Entry: w.entry, Preopens: w.preopens, Listen: listen,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	})
	if link != nil {
		// What the guest's servers answered just before the end still
		// reaches their clients.
		if lerr := link.Wait(); lerr != nil {
			fmt.Fprintf(os.Stderr, "wasmrt: the guest's network: %v\n", lerr)
		}
	}
	if err != nil {
		return err
	}
	os.Exit(code)
	return nil
}

// rawTerminal makes the container's terminal, if fd is one, pass keys
// through raw: a converted module's guest has a line discipline of its
// own (echo, line editing, ^C to the foreground job).
func rawTerminal(fd int) {
	if term.IsTerminal(fd) {
		_, _ = term.MakeRaw(fd)
	}
}

// guestWindow is the window size of the container's terminal, if fd is
// one, for a converted module: LINES and COLUMNS, which it reads for lack
// of a WASI call.
func guestWindow(fd int) []string {
	if !term.IsTerminal(fd) {
		return nil
	}
	if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil && ws.Row > 0 && ws.Col > 0 {
		return []string{"LINES=" + strconv.Itoa(int(ws.Row)), "COLUMNS=" + strconv.Itoa(int(ws.Col))}
	}
	return nil
}

// Close releases the compiled module of an executor that will not run.
func (w *Wasm) Close() { w.module.Close(context.Background()) }
