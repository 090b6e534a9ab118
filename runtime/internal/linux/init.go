package linux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/runtime/executor"
	"github.com/wasmrt/wasmrt/runtime/internal/hooks"
	"github.com/wasmrt/wasmrt/runtime/internal/threads"
	"github.com/wasmrt/wasmrt/wasi"
)

// Init is the Go side of a bootstrapped container process. It reads the
// InitConfig from the sync socket, prepares the container and hands over to
// the executor that runs its program (see package executor). It only
// returns on failure, after reporting the error to the runtime.
func Init() error {
	// Capabilities, no_new_privs and seccomp are per thread: keep every
	// step and the final execve on this one.
	runtime.LockOSThread()
	// Not dumpable: other processes of the container (same uid) cannot
	// reach this one's /proc/PID/fd, where the runtime's descriptors are
	// open until the program starts. execve of a native program makes it
	// dumpable again as the kernel decides.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("make the init non-dumpable: %w", err)
	}
	// A stop signal ends the init with 128+N in every state, as it ends
	// the program: as pid 1 of its namespace the Go runtime's own handling
	// could not die from it and would exit 2. execve resets the handlers.
	if _, err := wasi.ExitOnSignal(-1); err != nil {
		return err
	}
	fd, err := strconv.Atoi(os.Getenv(EnvSyncFD))
	if err != nil {
		return fmt.Errorf("%s is not set: this command is run by the runtime, not by hand", EnvSyncFD)
	}
	os.Unsetenv(EnvSyncFD)
	sock := os.NewFile(uintptr(fd), "sync")
	dec := json.NewDecoder(sock)
	var cfg InitConfig
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	if err := run(&cfg, sock, dec); err != nil {
		_ = Send(sock, Message{Type: MsgError, Error: err.Error()})
		return err
	}
	return nil
}

func run(cfg *InitConfig, sock *os.File, dec *json.Decoder) error {
	spec := cfg.Spec
	proc := cfg.Process
	if proc == nil && cfg.Exec {
		return errors.New("no process to run")
	}
	if _, err := unix.Setsid(); err != nil && !cfg.Exec {
		return fmt.Errorf("setsid: %w", err)
	}
	// held are the runtime's descriptors the program must not inherit:
	// close-on-exec closes them for a native program, an in-process
	// executor closes them itself.
	held := []int{int(sock.Fd())}
	var fifo int = -1
	if !cfg.Exec {
		if cfg.NewKeyring {
			if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.State.ID); err != nil && !errors.Is(err, unix.ENOSYS) {
				return fmt.Errorf("join a new session keyring: %w", err)
			}
		}
		if err := loopbackUp(spec); err != nil {
			return err
		}
		if err := prepareRootfs(cfg); err != nil {
			return err
		}
		// The idmapped trees are attached now.
		for _, fd := range cfg.MountFDs {
			unix.Close(fd)
		}
		if err := Send(sock, Message{Type: MsgCreateRuntime}); err != nil {
			return fmt.Errorf("ask for createRuntime hooks: %w", err)
		}
		if _, err := Receive(dec); err != nil {
			return err
		}
		if spec.Hooks != nil {
			if err := hooks.Run("createContainer", spec.Hooks.CreateContainer, cfg.State); err != nil {
				return err
			}
		}
		// The FIFO lives in the runtime's state directory, unreachable
		// after pivot_root; hold it by an O_PATH descriptor.
		var err error
		fifo, err = unix.Open(cfg.FifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open exec fifo %s: %w", cfg.FifoPath, err)
		}
		switch {
		case !HasMountNamespace(spec):
			err = chrootRoot(cfg.Rootfs)
		case cfg.NoPivot:
			err = moveRoot(cfg.Rootfs)
		default:
			err = pivotRoot(cfg.Rootfs)
		}
		if err != nil {
			return err
		}
		if spec.Linux != nil {
			if err := writeSysctls(spec.Linux.Sysctl); err != nil {
				return err
			}
		}
		if err := finishRootfs(spec); err != nil {
			return err
		}
		if spec.Hostname != "" {
			if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
				return fmt.Errorf("hostname %q: %w", spec.Hostname, err)
			}
		}
		if spec.Domainname != "" {
			if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
				return fmt.Errorf("domainname %q: %w", spec.Domainname, err)
			}
		}
	}
	// A container created without a process is set up like any other;
	// its start fails and kills the init (runtime-spec: process is
	// optional for create, required for start).
	var prog *program
	if proc != nil {
		var err error
		if prog, err = prepareProcess(cfg); err != nil {
			return err
		}
	}
	// The cache was only for compiling; nothing after this may reach it.
	if cfg.WasmCacheFD != 0 {
		unix.Close(cfg.WasmCacheFD)
	}
	if err := closeExtraFDs(cfg.PreserveFDs); err != nil {
		return err
	}
	if err := Send(sock, Message{Type: MsgReady}); err != nil {
		return fmt.Errorf("report ready: %w", err)
	}
	if fifo >= 0 {
		// Block until `start` opens the FIFO for reading.
		w, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fifo), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open exec fifo for writing: %w", err)
		}
		if _, err := unix.Write(w, []byte{0}); err != nil {
			return fmt.Errorf("write exec fifo: %w", err)
		}
		// w stays open (close-on-exec): `start` waits for its EOF, so
		// it returns only once the program runs or the init died.
		unix.Close(fifo)
		held = append(held, w)
		if proc == nil {
			return errors.New("the container has no process to start")
		}
		if spec.Hooks != nil {
			state := *cfg.State
			state.Status = specs.StateCreated
			if err := hooks.Run("startContainer", spec.Hooks.StartContainer, &state); err != nil {
				return err
			}
		}
	}
	return finalize(cfg, prog, held)
}

// program is the container's program and the executor that runs it.
type program struct {
	path string
	exe  executor.Executor
}

// prepareProcess does the process setup that reports errors to create: the
// console, OOM score, personality, working directory, program lookup and,
// for a WebAssembly module, its compilation.
func prepareProcess(cfg *InitConfig) (*program, error) {
	proc, spec := cfg.Process, cfg.Spec
	if proc.Terminal {
		if cfg.ConsoleFD == 0 {
			return nil, errors.New("process.terminal is true but no --console-socket was given")
		}
		if err := setupConsole(cfg.ConsoleFD, proc.ConsoleSize); err != nil {
			return nil, err
		}
	}
	if cfg.ConsoleFD != 0 {
		unix.Close(cfg.ConsoleFD)
	}
	if err := setOOMScoreAdj(proc.OOMScoreAdj); err != nil {
		return nil, err
	}
	if spec.Linux != nil {
		if err := setPersonality(spec.Linux.Personality); err != nil {
			return nil, err
		}
	}
	if proc.Cwd != "" {
		if err := os.MkdirAll(proc.Cwd, 0o755); err != nil && !cfg.Exec {
			return nil, fmt.Errorf("process.cwd %s: %w", proc.Cwd, err)
		}
	}
	return selectProgram(cfg)
}

// selectProgram resolves process.args[0] and picks its executor (see
// executor.Select). A module is compiled here, through the compilation
// cache while this process still holds it and its privileges.
func selectProgram(cfg *InitConfig) (*program, error) {
	proc := cfg.Process
	file, _ := executor.SplitEntry(proc.Args[0])
	modulePath, _ := findFile(file, proc.Env)
	kind, err := executor.Select(cfg.Spec.Annotations, proc.Args[0], readHeader(modulePath))
	if err != nil {
		return nil, err
	}
	if kind == executor.KindNative {
		path, err := lookPath(proc.Args[0], proc.Env)
		if err != nil {
			return nil, err
		}
		return &program{path: path, exe: executor.Native{}}, nil
	}
	if modulePath == "" {
		return nil, fmt.Errorf("module %s: not found in the container (PATH included)", file)
	}
	wcfg := executor.WasmConfig{Spec: cfg.Spec, Process: proc, CacheSize: cfg.WasmCacheSize}
	if cfg.WasmCacheFD != 0 {
		// Reached through this process's own descriptor: the cache lies
		// outside the container's root.
		if wcfg.CacheDir, err = descriptorPath(cfg.WasmCacheFD); err != nil {
			wcfg.CacheDir = ""
		}
	}
	exe, err := executor.PrepareWasm(context.Background(), wcfg, modulePath, proc.Args[0])
	if err != nil {
		return nil, fmt.Errorf("WebAssembly module %s: %w", modulePath, err)
	}
	return &program{path: modulePath, exe: exe}, nil
}

// findFile resolves name as execvp would, but for any regular file: a
// module need not be executable.
func findFile(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, isRegular(name)
	}
	for _, dir := range filepath.SplitList(searchPath(env)) {
		if dir == "" {
			dir = "."
		}
		if p := filepath.Join(dir, name); isRegular(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in $PATH", name)
}

func isRegular(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", p)
	}
	return nil
}

// readHeader returns the first bytes of the file at path, or nil.
func readHeader(path string) []byte {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, 8)
	n, _ := io.ReadFull(f, b)
	return b[:n]
}

// descriptorPath names an inherited directory descriptor by a path that
// reaches it from inside the container: /proc/self/fd/N, checked to lead
// to that very directory through this process's own procfs, so nothing the
// container's root filesystem holds at /proc can stand in for it.
func descriptorPath(fd int) (string, error) {
	if err := threads.CheckProc(); err != nil {
		return "", err
	}
	p := "/proc/self/fd/" + strconv.Itoa(fd)
	var want, got unix.Stat_t
	if err := unix.Fstat(fd, &want); err != nil {
		return "", err
	}
	if err := unix.Stat(p, &got); err != nil {
		return "", err
	}
	if got.Dev != want.Dev || got.Ino != want.Ino {
		return "", fmt.Errorf("%s does not lead to descriptor %d", p, fd)
	}
	return p, nil
}

// finalize drops privileges in the order the kernel demands and executes
// the program. The seccomp filter is compiled first, while memory is
// unconstrained; then the bounding set while CAP_SETPCAP is held, seccomp
// before the user switch when no_new_privs is off (loading it then needs
// CAP_SYS_ADMIN), rlimits while CAP_SYS_RESOURCE is still held, the user
// switch, the remaining capability sets, no_new_privs, and seccomp as late
// as possible otherwise, so that the filter constrains as little of the
// runtime as possible.
func finalize(cfg *InitConfig, prog *program, held []int) error {
	proc := cfg.Process
	inProcess := prog.exe.InProcess()
	var seccomp *compiledSeccomp
	if cfg.Spec.Linux != nil && cfg.Spec.Linux.Seccomp != nil {
		var err error
		if seccomp, err = compileSeccomp(cfg.Spec.Linux.Seccomp); err != nil {
			return err
		}
		if inProcess {
			// The program runs on this thread, but the others share its
			// memory: the filter covers them all.
			seccomp.syncThreads()
		}
	}
	var listener *os.File
	if cfg.SeccompFD != 0 {
		listener = os.NewFile(uintptr(cfg.SeccompFD), "seccomp-listener")
	}
	if err := setScheduler(proc.Scheduler); err != nil {
		return err
	}
	if err := setIOPriority(proc.IOPriority); err != nil {
		return err
	}
	if err := dropBoundingSet(proc.Capabilities); err != nil {
		return err
	}
	if seccomp != nil && !proc.NoNewPrivileges {
		if err := seccomp.load(cfg.State, listener); err != nil {
			return err
		}
	}
	// Limits go last while CAP_SYS_RESOURCE is still effective (raising a
	// hard limit needs it): a low RLIMIT_AS or RLIMIT_NPROC would make the
	// Go runtime's own memory or thread creation fail, so only a few
	// system calls may follow.
	if err := setRlimits(proc.Rlimits); err != nil {
		return err
	}
	if err := switchUser(proc.User); err != nil {
		return err
	}
	if proc.Cwd != "" {
		if err := unix.Chdir(proc.Cwd); err != nil {
			return fmt.Errorf("chdir to process.cwd %s: %w", proc.Cwd, err)
		}
	}
	if err := applyCapabilities(proc.Capabilities); err != nil {
		return err
	}
	if proc.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
		if seccomp != nil {
			if err := seccomp.load(cfg.State, listener); err != nil {
				return err
			}
		}
	}
	if listener != nil {
		listener.Close()
	}
	if inProcess {
		if err := restrictOtherThreads(proc.Capabilities); err != nil {
			return err
		}
		for _, fd := range held {
			unix.Close(fd)
		}
	}
	return prog.exe.Execute(executor.Program{Path: prog.path, Args: proc.Args, Env: proc.Env, Cwd: proc.Cwd})
}
