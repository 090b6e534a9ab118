package wasi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sock"
	"github.com/tetratelabs/wazero/sys"
)

// ExitTrap is the exit status of a module that trapped: that of a native
// program killed by SIGABRT.
const ExitTrap = 128 + 6

// Preopen is a host directory the module sees at Guest.
type Preopen struct {
	Host, Guest string
	ReadOnly    bool
	// FS, when set, is mounted read-only at Guest instead of Host: files
	// the host serves from memory (c2w run's rootfs image, read where it
	// lies in the mapped module).
	FS fs.FS
}

// Process is one run of a module.
type Process struct {
	// Args is argv, argv[0] first.
	Args []string
	// Env holds NAME=VALUE entries; others are skipped.
	Env []string
	// Dir is the working directory. WASI has no such notion; programs
	// built with Go and wasi-libc's shells read it from PWD, which is set
	// to Dir unless Env has it.
	Dir string
	// Stdin, Stdout and Stderr are the standard streams; nil is empty
	// input or discarded output. An *os.File that is a terminal stays
	// one for the module.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Preopens       []Preopen
	// Listen are TCP listeners the host opens and preopens for the
	// module, after the directories, as host:port (port 0 picks one).
	Listen []string
	// Entry is the exported function to call: "" is _start. A module
	// exporting _initialize (a reactor) has it called first.
	Entry string
}

// Run instantiates the module and calls its entry. It returns the exit
// status (see the package documentation); the error is the host's: the
// module could not be instantiated or the entry is wrong.
func (m *Module) Run(ctx context.Context, p Process) (int, error) {
	entry, err := m.Entry(p.Entry)
	if err != nil {
		return 0, err
	}
	stderr := p.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	fsc := wazero.NewFSConfig()
	for _, po := range p.Preopens {
		if po.FS != nil {
			fsc = fsc.WithFSMount(po.FS, po.Guest)
		} else if po.ReadOnly {
			fsc = fsc.WithReadOnlyDirMount(po.Host, po.Guest)
		} else {
			fsc = fsc.WithDirMount(po.Host, po.Guest)
		}
	}
	mc := wazero.NewModuleConfig().WithName("").WithArgs(p.Args...).
		WithFSConfig(fsc).WithRandSource(rand.Reader).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithStartFunctions()
	if p.Stdin != nil {
		mc = mc.WithStdin(p.Stdin)
	}
	if p.Stdout != nil {
		mc = mc.WithStdout(p.Stdout)
	}
	mc = mc.WithStderr(stderr)
	hasPWD := false
	for _, kv := range p.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			mc = mc.WithEnv(k, v)
			hasPWD = hasPWD || k == "PWD"
		}
	}
	if p.Dir != "" && !hasPWD {
		mc = mc.WithEnv("PWD", p.Dir)
	}
	if len(p.Listen) > 0 {
		sc := sock.NewConfig()
		for _, hp := range p.Listen {
			host, port, err := net.SplitHostPort(hp)
			if err != nil {
				return 0, fmt.Errorf("listen %q: %w", hp, err)
			}
			n, err := strconv.ParseUint(port, 10, 16)
			if err != nil {
				return 0, fmt.Errorf("listen %q: bad port", hp)
			}
			sc = sc.WithTCPListener(host, int(n))
		}
		ctx = sock.WithConfig(ctx, sc)
	}
	alloc := &limitedAllocator{limit: m.memoryLimit}
	ctx = experimental.WithMemoryAllocator(ctx, alloc)
	mod, err := m.rt.InstantiateModule(ctx, m.compiled, mc)
	if err != nil {
		return 0, fmt.Errorf("module %s: instantiate: %w", m.Name, err)
	}
	defer mod.Close(context.WithoutCancel(ctx))
	if entry != "_start" && exportsFunc(mod, "_initialize") {
		if _, err := mod.ExportedFunction("_initialize").Call(ctx); err != nil {
			return m.exitStatus(err, alloc, stderr, "_initialize")
		}
	}
	_, err = mod.ExportedFunction(entry).Call(ctx)
	return m.exitStatus(err, alloc, stderr, entry)
}

// exitStatus maps the entry's outcome to an exit status, telling the
// module's stderr why when it trapped or ran out of its memory cap.
func (m *Module) exitStatus(err error, alloc *limitedAllocator, stderr io.Writer, entry string) (int, error) {
	if wanted := alloc.wanted.Load(); wanted != 0 {
		fmt.Fprintf(stderr, "wasm: module %s reached its linear memory limit of %s%s: growing to %s was refused\n",
			m.Name, formatSize(alloc.limit), sourceSuffix(m.memoryLimitSource), formatSize(wanted))
	}
	var exit *sys.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		return int(exit.ExitCode()), nil
	default:
		fmt.Fprintf(stderr, "wasm: module %s trapped in %s: %s\n", m.Name, entry, trapMessage(err))
		return ExitTrap, nil
	}
}

// trapMessage keeps the trap's first line; wazero appends a stack trace.
func trapMessage(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
