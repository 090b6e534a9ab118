package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// envList collects a repeatable flag.
type envList []string

func (e *envList) String() string     { return strings.Join(*e, ",") }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

// nativeMain runs the development command line and returns the exit code: the guest's status,
// or 125 when the machine could not start or failed.
func nativeMain(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("c2w-emulator", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var env envList
	dir := fl.String("dir", "/", "initial working directory in the guest")
	memory := fl.Uint64("memory", 2048, "guest memory budget in MiB")
	hostname := fl.String("hostname", "localhost", "guest host name")
	archName := fl.String("arch", "riscv64", "guest architecture of the image's programs: riscv64 or amd64")
	stats := fl.Bool("stats", false, "print guest instructions and unsupported system calls to stderr at exit")
	var mounts envList
	fl.Var(&env, "env", "guest environment variable NAME=VALUE (repeatable; default PATH, HOME, TERM)")
	fl.Var(&mounts, "mount", "host directory to show in the guest, HOST:GUEST (repeatable)")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: c2w-emulator [flags] ROOTFS.img PROGRAM [ARG...]\n\nexample: c2w-emulator busybox.img sh -c 'echo hello'\n\nflags:\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(argv); err != nil {
		return 125
	}
	if fl.NArg() < 2 {
		fl.Usage()
		return 125
	}
	data, err := os.ReadFile(fl.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "c2w-emulator: %v\n", err)
		return 125
	}
	img, err := rootfs.Open(data)
	if err != nil {
		fmt.Fprintf(stderr, "c2w-emulator: rootfs image %s: %v\n", fl.Arg(0), err)
		return 125
	}
	abi := linux.ArchABI(*archName)
	if abi == nil {
		fmt.Fprintf(stderr, "c2w-emulator: -arch %q: want riscv64 or amd64\n", *archName)
		return 125
	}
	cfg := linux.Config{
		Image: img, Args: fl.Args()[1:], Dir: *dir, Stdin: stdin, Stdout: stdout, Stderr: stderr,
		MemoryLimit: *memory << 20, Hostname: *hostname, Arch: abi,
	}
	if len(env) > 0 {
		cfg.Env = env
	}
	for _, m := range mounts {
		host, guest, ok := strings.Cut(m, ":")
		if !ok || host == "" || !strings.HasPrefix(guest, "/") {
			fmt.Fprintf(stderr, "c2w-emulator: -mount %q: want HOST:GUEST with an absolute GUEST path\n", m)
			return 125
		}
		cfg.Mounts = append(cfg.Mounts, linux.Mount{Host: host, Guest: guest})
	}
	cfg.Terminal = hostTerminal(stdin, stdout)
	if os.Getenv("C2W_TRACE") == "syscalls" {
		cfg.Trace = stderr
	}
	k, err := linux.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "c2w-emulator: %v\n", err)
		return 125
	}
	status, err := k.Run()
	if *stats {
		fmt.Fprintf(stderr, "c2w-emulator: %d guest instructions\n", k.Instructions())
		for name, n := range k.Unsupported() {
			fmt.Fprintf(stderr, "c2w-emulator: unsupported system call %s ×%d\n", name, n)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "c2w-emulator: %v\n", err)
		return 125
	}
	return status
}

// hostTerminal reports the host terminal the machine's standard input and
// output are attached to, if they are: the guest then sees a tty. The
// window size comes from $LINES and $COLUMNS when set.
func hostTerminal(stdin io.Reader, stdout io.Writer) *linux.Terminal {
	in, ok1 := stdin.(*os.File)
	out, ok2 := stdout.(*os.File)
	if !ok1 || !ok2 || !isCharDevice(in) || !isCharDevice(out) {
		return nil
	}
	term := &linux.Terminal{Rows: 24, Cols: 80}
	if n, err := strconv.ParseUint(os.Getenv("LINES"), 10, 16); err == nil && n > 0 {
		term.Rows = uint16(n)
	}
	if n, err := strconv.ParseUint(os.Getenv("COLUMNS"), 10, 16); err == nil && n > 0 {
		term.Cols = uint16(n)
	}
	return term
}

func isCharDevice(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && st.Mode()&os.ModeDevice != 0
}
