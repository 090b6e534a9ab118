package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// Exit codes of the module itself, as docker run uses them; any other
// status is the container's.
const (
	exitModuleError = 125 // the machine could not start or failed
)

// moduleEnv is everything the module mode reads from its host.
type moduleEnv struct {
	// rootfs opens the container's file system image; nil when the module
	// carries none (--rootfs-file names it then).
	rootfs func() (*rootfs.Image, error)
	// translations is the encoded index of translated pages, or nil.
	translations []byte
	config       []byte
	args         []string
	hostEnv      []string
	// mounts are the host directories the WASI host preopened.
	mounts []linux.Mount
	// listeners returns the listening sockets the WASI host preopened.
	listeners func() ([]net.Listener, error)
	// hostFile opens one of the host's other descriptors for reading
	// (--resize-fd).
	hostFile       func(fd int) (io.Reader, error)
	stdin          io.Reader
	stdout, stderr io.Writer
}

// moduleMain runs the embedded container and returns its exit status.
func moduleMain(m moduleEnv) int {
	// With a host terminal in raw mode (c2w run -t, the browser page), the
	// module's own messages need CR LF line ends like the guest's.
	term := hostTerminal(m.stdin, m.stdout)
	msgs := m.stderr
	if term != nil {
		msgs = crlfWriter{m.stderr}
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(msgs, "c2w: "+format+"\n", a...)
		return exitModuleError
	}
	cfg, err := container.Parse(m.config)
	if err != nil {
		return fail("embedded %v", err)
	}
	fl := flag.NewFlagSet("module", flag.ContinueOnError)
	fl.SetOutput(msgs)
	var (
		env         stringList
		publish     stringList
		entrypoint  optionalString
		workdir     = fl.String("workdir", "", "working directory in the guest (default: the image's)")
		user        = fl.String("user", "", "user to run as: name, uid, name:group or uid:gid (default: the image's USER)")
		hostname    = fl.String("hostname", "localhost", "guest host name")
		memory      = fl.String("memory", "2GiB", "guest memory budget of all processes together, e.g. 512MiB")
		noStdin     = fl.Bool("no-stdin", false, "give the container empty standard input")
		envFromHost = fl.Bool("env-from-host", false, "pass the host's environment (WASI env) into the container")
		rootfsFile  = fl.String("rootfs-file", "", "read the container's root file system image from this file (of a preopened directory, which is then not mounted in the guest) instead of the module: for modules whose rootfs was detached, such as c2w browser's sites")
		resizeFD    = fl.Int("resize-fd", -1, "read the terminal's window sizes from this WASI descriptor, one `ROWS COLS` line per change (hosts that can resize, such as c2w's browser page, open it)")
		network     = fl.Bool("net", false, "give the guest a network: the preopened listening socket after the --publish ones waits for `c2w net` (c2w run --net does both); "+inet.LinkTokenEnv+" in the WASI environment is the token it must give")
	)
	fl.Var(&env, "env", "set NAME=VALUE in the container, or copy NAME from the host (repeatable)")
	fl.Var(&publish, "publish", "guest TCP port the next preopened listening socket reaches (repeatable, in the order of the sockets)")
	fl.Var(&entrypoint, "entrypoint", "replace the image's entrypoint (\"\" clears it; the image's cmd is dropped)")
	fl.Usage = func() { moduleUsage(msgs, cfg, fl) }
	if err := fl.Parse(m.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitModuleError
	}
	token, hostEnv := takeEnv(m.hostEnv, inet.LinkTokenEnv)
	limit, err := container.ParseSize(*memory)
	if err != nil {
		return fail("--memory: %v", err)
	}
	if *noStdin {
		term = nil
	}
	proc, err := cfg.Process(container.Overrides{
		Entrypoint: entrypoint.value(), Args: fl.Args(),
		HostEnv: hostEnv, InheritHostEnv: *envFromHost, Env: env,
		WorkingDir: *workdir, User: *user, Terminal: term != nil,
	})
	if err != nil {
		return fail("%s: %v", imageName(cfg), err)
	}
	var img *rootfs.Image
	switch {
	case *rootfsFile != "":
		if img, err = openRootfsFile(*rootfsFile); err != nil {
			return fail("--rootfs-file: %v", err)
		}
		m.mounts = mountsWithout(m.mounts, *rootfsFile)
	case m.rootfs == nil:
		return fail("the module carries no root file system image: give --rootfs-file PATH")
	default:
		if img, err = m.rootfs(); err != nil {
			return fail("embedded rootfs image: %v", err)
		}
	}
	abi, err := linux.PlatformABI(cfg.Platform)
	if err != nil {
		return fail("%s: %v", imageName(cfg), err)
	}
	kcfg := linux.Config{
		Image: img, Args: proc.Args, Env: proc.Env, Dir: proc.Dir,
		Stdin: m.stdin, Stdout: m.stdout, Stderr: m.stderr,
		MemoryLimit: uint64(limit), Hostname: *hostname, Terminal: term, Mounts: m.mounts,
		Arch: abi,
	}
	if *noStdin {
		kcfg.Stdin = nil
	}
	var listeners []net.Listener
	if len(publish) > 0 || *network {
		if m.listeners != nil {
			if listeners, err = m.listeners(); err != nil {
				return fail("preopened sockets: %v", err)
			}
		}
		if kcfg.Publish, err = publishedPorts(publish, listeners, *network); err != nil {
			return fail("--publish: %v", err)
		}
	}
	if *network {
		if len(listeners) <= len(publish) {
			return fail("--net: the host preopened no listening socket for the network after the %d published ports (c2w run --net makes it; or wazero run -listen 127.0.0.1:PORT, wasmtime run -S tcplisten=127.0.0.1:PORT, then c2w net 127.0.0.1:PORT)", len(publish))
		}
		if kcfg.Network, err = networkLink(listeners[len(publish)], token, networkWait); err != nil {
			return fail("--net: %v", err)
		}
	}
	if len(m.translations) > 0 {
		ix, err := riscv64.ParseTranslationIndex(m.translations)
		if err != nil {
			return fail("embedded translation index: %v", err)
		}
		kcfg.Translations = ix
	}
	if proc.User != "" {
		// Resolved against the image's /etc/passwd and /etc/group as
		// docker does; HOME comes from passwd unless the env sets it.
		u, err := linux.LookupUser(img, proc.User)
		if err != nil {
			return fail("%s: %v", imageName(cfg), err)
		}
		u.Apply(&kcfg)
	}
	if os.Getenv("C2W_TRACE") == "syscalls" {
		kcfg.Trace = msgs
	}
	var resizes io.Reader
	if *resizeFD >= 0 {
		if *resizeFD <= 2 || m.hostFile == nil {
			return fail("--resize-fd %d: not a descriptor the host can open besides the standard streams", *resizeFD)
		}
		if resizes, err = m.hostFile(*resizeFD); err != nil {
			return fail("--resize-fd %d: %v", *resizeFD, err)
		}
	}
	k, err := linux.New(kcfg)
	if err != nil {
		return fail("%s: %v", imageName(cfg), err)
	}
	if resizes != nil {
		go followResizes(resizes, k, msgs)
	}
	status, err := k.Run()
	if err != nil {
		return fail("%s: %v", imageName(cfg), err)
	}
	return status
}

func imageName(cfg *container.Config) string {
	if cfg.Image != "" {
		return cfg.Image
	}
	return "container"
}

func moduleUsage(w io.Writer, cfg *container.Config, fl *flag.FlagSet) {
	fmt.Fprintf(w, "usage: MODULE.wasm [FLAGS] [COMMAND [ARG...]]\n\n")
	fmt.Fprintf(w, "Runs %s", imageName(cfg))
	if cfg.Platform != "" {
		fmt.Fprintf(w, " (%s)", cfg.Platform)
	}
	fmt.Fprintf(w, " in an emulated Linux machine.\n")
	fmt.Fprintf(w, "  entrypoint: %s\n  cmd:        %s\n", quoteList(cfg.Entrypoint), quoteList(cfg.Cmd))
	fmt.Fprintf(w, `
COMMAND replaces the image's cmd and keeps its entrypoint, as docker run does.
Directories the WASI host preopens appear in the guest at their preopen
names, read-write, e.g.:
  wazero run -mount /srv/data:/data MODULE.wasm ls /data
  wasmtime run --dir /srv/data::/data MODULE.wasm ls /data

flags:
`)
	fl.PrintDefaults()
}

func quoteList(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// crlfWriter ends lines with CR LF, as a terminal's output processing
// would.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// stringList collects a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// optionalString is a string flag that remembers whether it was given, so
// that an explicit empty value differs from an absent one.
type optionalString struct {
	s   string
	set bool
}

func (o *optionalString) String() string     { return o.s }
func (o *optionalString) Set(v string) error { o.s, o.set = v, true; return nil }
func (o *optionalString) value() *string {
	if !o.set {
		return nil
	}
	return &o.s
}

// publishedPorts pairs the --publish ports with the host's preopened
// listening sockets, in order; with network, one more socket follows them.
func publishedPorts(ports []string, ls []net.Listener, network bool) ([]linux.Publish, error) {
	if network && len(ls) > len(ports) {
		ls = ls[:len(ports)]
	}
	if len(ls) != len(ports) {
		return nil, fmt.Errorf("%d guest ports but the host preopened %d listening sockets (wazero run -listen HOST:PORT, wasmtime run -S tcplisten=HOST:PORT; c2w run -p does both)", len(ports), len(ls))
	}
	out := make([]linux.Publish, len(ports))
	for i, p := range ports {
		n, err := strconv.ParseUint(strings.TrimSuffix(p, "/tcp"), 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not a TCP port (1-65535)", p)
		}
		out[i] = linux.Publish{Listener: ls[i], Port: uint16(n)}
	}
	return out, nil
}

// openRootfsFile opens a rootfs image file, read on demand.
func openRootfsFile(name string) (*rootfs.Image, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	img, err := rootfs.OpenSource(fileSource{f, st.Size()})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return img, nil
}

// fileSource reads a rootfs image from a file.
type fileSource struct {
	f    *os.File
	size int64
}

func (s fileSource) Size() int64 { return s.size }

func (s fileSource) ReadAt(p []byte, off int64) error {
	_, err := s.f.ReadAt(p, off)
	return err
}

// mountsWithout drops the mounts holding file: the directory the host
// opened for the rootfs is not the guest's.
func mountsWithout(mounts []linux.Mount, file string) []linux.Mount {
	file = path.Clean(file)
	var out []linux.Mount
	for _, mt := range mounts {
		if file == mt.Host || strings.HasPrefix(file, strings.TrimSuffix(mt.Host, "/")+"/") {
			continue
		}
		out = append(out, mt)
	}
	return out
}

// followResizes applies the window sizes the host writes to r, one
// "ROWS COLS" line each, to k's console until r ends.
func followResizes(r io.Reader, k *linux.Kernel, stderr io.Writer) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rows, cols, ok := parseWindowSize(sc.Text())
		if !ok {
			fmt.Fprintf(stderr, "c2w: --resize-fd: ignoring %q: want \"ROWS COLS\", each 1-65535\n", sc.Text())
			continue
		}
		k.ResizeConsole(rows, cols)
	}
}

// parseWindowSize parses a "ROWS COLS" line.
func parseWindowSize(line string) (rows, cols uint16, ok bool) {
	f := strings.Fields(line)
	if len(f) != 2 {
		return 0, 0, false
	}
	r, err1 := strconv.ParseUint(f[0], 10, 16)
	c, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || r == 0 || c == 0 {
		return 0, 0, false
	}
	return uint16(r), uint16(c), true
}

// networkWait is how long the module waits for its network helper.
const networkWait = 30 * time.Second

// takeEnv returns the value of name in env and env without it.
func takeEnv(env []string, name string) (string, []string) {
	var value string
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			value = v
			continue
		}
		out = append(out, kv)
	}
	return value, out
}

// networkLink waits, at most wait, for the network helper to connect on
// l and open the link with token; connections that do not are closed and
// the wait goes on. l is closed: the guest has one link.
func networkLink(l net.Listener, token string, wait time.Duration) (net.Conn, error) {
	defer l.Close()
	deadline := time.Now().Add(wait)
	type deadliner interface{ SetDeadline(time.Time) error }
	if d, ok := l.(deadliner); ok {
		d.SetDeadline(deadline)
	}
	var last error
	for {
		c, err := l.Accept()
		if err != nil {
			if last != nil {
				return nil, last
			}
			return nil, fmt.Errorf("no network helper connected to %s within %s (c2w net %s)", l.Addr(), wait, l.Addr())
		}
		c = inet.HostConn(c)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if last = inet.AcceptLink(c, token); last == nil {
			c.SetDeadline(time.Time{})
			return c, nil
		}
		c.Close()
		if time.Now().After(deadline) {
			return nil, last
		}
	}
}
