package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wasmrt/wasmrt/convert/pack"
	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/hostnet"
	"github.com/wasmrt/wasmrt/wasi"
)

func newRunCommand() *cobra.Command {
	var (
		f       convertFlags
		volumes []string
		publish []string
		noCache bool
		network bool
		dns     []string
	)
	cmd := &cobra.Command{
		Use:   "run [FLAGS] IMAGE|MODULE.wasm [MODULE-FLAGS] [COMMAND [ARG...]]",
		Short: "Run an image or a converted module under the embedded WebAssembly runtime",
		Long: `run converts IMAGE in memory (as "c2w IMAGE OUT.wasm" would) or loads an
existing MODULE.wasm, and runs it under the embedded wazero runtime with the
terminal's standard streams. The exit status is the container's.

Flags after IMAGE belong to the module (--env, --entrypoint, --workdir, ...;
see "MODULE.wasm --help"). Compiled code is cached in the user's cache
directory, so the second run of the same module starts in a fraction of the
first.`,
		Example: `  c2w run oci-layout:./busybox:latest sh -c 'uname -a'
  c2w run -v "$PWD:/work" python.wasm --workdir /work python3 script.py
  echo hi | c2w run busybox.wasm cat
  c2w run --net python.wasm python3 -c 'import urllib.request as u; print(u.urlopen("http://10.0.2.2:8000/").status)'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var mounts [][2]string
			for _, v := range volumes {
				host, guest, ok := strings.Cut(v, ":")
				if !ok || host == "" || !strings.HasPrefix(guest, "/") || guest == "/" {
					return usageError{fmt.Errorf("--volume %q: want HOST:GUEST with an absolute GUEST path other than /", v)}
				}
				abs, err := filepath.Abs(host)
				if err != nil {
					return fmt.Errorf("--volume %q: %w", v, err)
				}
				if st, err := os.Stat(abs); err != nil || !st.IsDir() {
					return fmt.Errorf("--volume %q: %s is not a directory", v, abs)
				}
				mounts = append(mounts, [2]string{abs, guest})
			}
			listen, guestPorts, err := parsePublish(publish)
			if err != nil {
				return usageError{err}
			}
			wasm, name, err := loadOrConvert(cmd, &f, args[0])
			if err != nil {
				return err
			}
			cacheDir := ""
			if !noCache {
				cacheDir = compilationCacheDir()
			}
			// A stop signal ends c2w with 128+N, as it would end a process
			// running the guest natively, with the terminal put back as it
			// is now (see wasi.ExitOnSignal).
			stop, err := wasi.ExitOnSignal(terminalFD(cmd.InOrStdin(), cmd.OutOrStdout()))
			if err != nil {
				return err
			}
			defer stop()
			// On a terminal the guest's own line discipline echoes, edits
			// lines and turns ^C into SIGINT for its foreground job, so the
			// host terminal must pass keys through untouched (raw mode).
			restore := rawTerminal(cmd.InOrStdin(), cmd.OutOrStdout())
			defer restore()
			var moduleArgs []string
			for _, p := range guestPorts {
				moduleArgs = append(moduleArgs, "--publish", p)
			}
			env := os.Environ()
			var link *hostnet.Prepared
			if network {
				if _, err := hostnet.Resolvers(dns); err != nil {
					return usageError{err}
				}
				if link, err = hostnet.Prepare(); err != nil {
					return err
				}
				listen = append(listen, link.Addr)
				moduleArgs = append(moduleArgs, "--net")
				env = append(env, link.Env())
			} else if len(dns) > 0 {
				return usageError{fmt.Errorf("--dns needs --net")}
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			if link != nil {
				link.Start(ctx, hostnet.Options{DNS: dns})
			}
			code, err := runModule(ctx, moduleRun{
				wasm: wasm, name: name, args: append(moduleArgs, args[1:]...), mounts: mounts, listen: listen,
				cacheDir: cacheDir, env: env,
				stdin: cmd.InOrStdin(), stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(),
			})
			if link != nil {
				// What the guest sent just before its end still
				// reaches the host's peers.
				if err := link.Wait(); err != nil && ctx.Err() == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "c2w: --net: %v\n", err)
				}
			}
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.StringArrayVarP(&volumes, "volume", "v", nil, "host directory to show in the guest, HOST:GUEST, read-write (repeatable)")
	fl.StringArrayVarP(&publish, "publish", "p", nil, "publish a guest TCP port on the host, [HOST-IP:]HOST-PORT:GUEST-PORT[/tcp] (repeatable; the host IP defaults to 127.0.0.1)")
	fl.BoolVar(&noCache, "no-cache", false, "do not use the compilation cache")
	fl.BoolVar(&network, "net", false, "give the guest a network: its connections are made from the host (10.0.2.2 is the host's loopback, 10.0.2.3 its DNS)")
	fl.StringArrayVar(&dns, "dns", nil, "DNS server the guest's lookups go to, IP or IP:PORT (repeatable; default: the host's /etc/resolv.conf)")
	return cmd
}

// loadOrConvert returns the module to run: arg itself when it is a
// WebAssembly file, otherwise the image arg converted in memory.
func loadOrConvert(cmd *cobra.Command, f *convertFlags, arg string) ([]byte, string, error) {
	if strings.HasSuffix(arg, ".wasm") {
		b, err := readModule(arg)
		return b, filepath.Base(arg), err
	}
	m, err := convertImage(cmd, f, arg)
	if err != nil {
		return nil, "", err
	}
	return m.wasm, m.image, nil
}

// terminalFD is stdin's descriptor when stdin and stdout are both
// terminals (the module then gives the guest a tty), or -1.
func terminalFD(stdin io.Reader, stdout io.Writer) int {
	in, ok := stdin.(*os.File)
	out, ok2 := stdout.(*os.File)
	if !ok || !ok2 || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return -1
	}
	return int(in.Fd())
}

// rawTerminal puts the host terminal in raw mode when stdin and stdout are
// both terminals and returns the function that restores it.
func rawTerminal(stdin io.Reader, stdout io.Writer) (restore func()) {
	fd := terminalFD(stdin, stdout)
	if fd < 0 {
		return func() {}
	}
	state, err := term.MakeRaw(fd)
	if err != nil {
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { term.Restore(fd, state) }) }
}

// compilationCacheDir is where run keeps compiled code, or "" when the
// user has no cache directory.
func compilationCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "c2w", "wazero")
}

// runnable returns the module run compiles and, when it is not the whole
// of wasm, the rootfs image to give it as a file. A converted module with
// a large image runs without it, and the emulator reads the image from
// where it lies in the (mapped) module file instead: the runtime then
// compiles, hashes and copies only the emulator, so start-up and memory
// stop growing with the image (docs/performance-pack.md). Detaching costs
// a rewrite of the module, which small images do not pay back.
func runnable(wasm []byte) (module, image []byte) {
	rest, image, err := pack.DetachInPlace(wasm, container.RootfsBlob, detachRootfsFrom)
	if err != nil || rest == nil {
		return wasm, nil
	}
	return rest, image
}

// detachRootfsFrom is the image size from which run reads the image from
// the module file rather than letting the runtime load it with the module:
// where the two measured the same (~8 MiB, busybox with added data).
const detachRootfsFrom = 8 << 20

// rootfsGuestDir is where run preopens a converted module's rootfs image;
// the module reads it (--rootfs-file) and does not show it to the guest.
const rootfsGuestDir = "/.c2w-rootfs"

// moduleRun describes one run of a module.
type moduleRun struct {
	wasm     []byte
	name     string // argv[0]
	args     []string
	mounts   [][2]string // host, guest
	listen   []string    // host:port listeners to preopen
	cacheDir string
	env      []string
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
}

// runModule runs a WASI module to completion and returns its exit code.
// Errors are the host's: a module that does not compile or instantiate.
func runModule(ctx context.Context, r moduleRun) (int, error) {
	var opts wasi.Options
	if r.cacheDir != "" {
		cache, err := wasi.OpenCache(r.cacheDir, wasi.DefaultCacheSize)
		if err != nil {
			return 0, err
		}
		defer cache.Trim()
		opts.Cache = cache
	}
	wasm, image := runnable(r.wasm)
	args := r.args
	var preopens []wasi.Preopen
	if image != nil {
		args = append([]string{"--rootfs-file", rootfsGuestDir + "/rootfs.img"}, args...)
		preopens = append(preopens, wasi.Preopen{Guest: rootfsGuestDir, FS: wasi.FileFS("rootfs.img", image)})
	}
	mod, err := wasi.New(opts).Compile(ctx, r.name, wasm)
	if err != nil {
		return 0, err
	}
	defer mod.Close(ctx)
	p := wasi.Process{
		Args: append([]string{r.name}, args...), Env: r.env,
		Stdin: r.stdin, Stdout: r.stdout, Stderr: r.stderr,
	}
	for _, m := range r.mounts {
		p.Preopens = append(p.Preopens, wasi.Preopen{Host: m[0], Guest: m[1]})
	}
	p.Preopens = append(p.Preopens, preopens...)
	p.Listen = r.listen
	return mod.Run(ctx, p)
}

// parsePublish reads -p values as docker run does, [HOST-IP:]HOST-PORT:
// GUEST-PORT[/tcp], and returns the host listeners and guest ports. The
// host IP defaults to 127.0.0.1: a converted container is not reachable
// from other machines unless asked (-p 0.0.0.0:8080:80).
func parsePublish(values []string) (listen, guest []string, err error) {
	for _, v := range values {
		spec := strings.TrimSuffix(v, "/tcp")
		if strings.Contains(spec, "/") {
			return nil, nil, fmt.Errorf("--publish %q: only TCP ports can be published", v)
		}
		i := strings.LastIndex(spec, ":")
		if i < 0 {
			return nil, nil, fmt.Errorf("--publish %q: want [HOST-IP:]HOST-PORT:GUEST-PORT", v)
		}
		hostPart, guestPort := spec[:i], spec[i+1:]
		ip, hostPort := "127.0.0.1", hostPart
		if j := strings.LastIndex(hostPart, ":"); j >= 0 {
			ip, hostPort = strings.Trim(hostPart[:j], "[]"), hostPart[j+1:]
		}
		for _, p := range []string{hostPort, guestPort} {
			if n, err := strconv.ParseUint(p, 10, 16); err != nil || (n == 0 && p == guestPort) {
				return nil, nil, fmt.Errorf("--publish %q: %q is not a port", v, p)
			}
		}
		if net.ParseIP(ip) == nil {
			return nil, nil, fmt.Errorf("--publish %q: %q is not an IP address", v, ip)
		}
		listen = append(listen, net.JoinHostPort(ip, hostPort))
		guest = append(guest, guestPort)
	}
	return listen, guest, nil
}
