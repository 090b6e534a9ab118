package linux

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/runtime/executor"
	"github.com/wasmrt/wasmrt/runtime/internal/hooks"
)

// Init is the Go side of a bootstrapped container process. It reads the
// InitConfig from the sync socket, prepares the container and hands over to
// exe. It only returns on failure, after reporting the error to the runtime.
func Init(exe executor.Executor) error {
	// Capabilities, no_new_privs and seccomp are per thread: keep every
	// step and the final execve on this one.
	runtime.LockOSThread()
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
	if err := run(&cfg, sock, dec, exe); err != nil {
		_ = Send(sock, Message{Type: MsgError, Error: err.Error()})
		return err
	}
	return nil
}

func run(cfg *InitConfig, sock *os.File, dec *json.Decoder, exe executor.Executor) error {
	spec := cfg.Spec
	proc := cfg.Process
	if proc == nil && cfg.Exec {
		return errors.New("no process to run")
	}
	if _, err := unix.Setsid(); err != nil && !cfg.Exec {
		return fmt.Errorf("setsid: %w", err)
	}
	var fifo int = -1
	if !cfg.Exec {
		if cfg.NewKeyring {
			if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.State.ID); err != nil && !errors.Is(err, unix.ENOSYS) {
				return fmt.Errorf("join a new session keyring: %w", err)
			}
		}
		if err := prepareRootfs(cfg); err != nil {
			return err
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
	var path string
	if proc != nil {
		var err error
		if path, err = prepareProcess(cfg); err != nil {
			return err
		}
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
	return finalize(cfg, path, exe)
}

// prepareProcess does the process setup that reports errors to create: the
// console, OOM score, personality, working directory and program lookup.
func prepareProcess(cfg *InitConfig) (string, error) {
	proc, spec := cfg.Process, cfg.Spec
	if proc.Terminal {
		if cfg.ConsoleFD == 0 {
			return "", errors.New("process.terminal is true but no --console-socket was given")
		}
		if err := setupConsole(cfg.ConsoleFD, proc.ConsoleSize); err != nil {
			return "", err
		}
	}
	if err := setOOMScoreAdj(proc.OOMScoreAdj); err != nil {
		return "", err
	}
	if spec.Linux != nil {
		if err := setPersonality(spec.Linux.Personality); err != nil {
			return "", err
		}
	}
	if proc.Cwd != "" {
		if err := os.MkdirAll(proc.Cwd, 0o755); err != nil && !cfg.Exec {
			return "", fmt.Errorf("process.cwd %s: %w", proc.Cwd, err)
		}
	}
	return lookPath(proc.Args[0], proc.Env)
}

// finalize drops privileges in the order the kernel demands and executes
// the program. The seccomp filter is compiled first, while memory is
// unconstrained; then the bounding set while CAP_SETPCAP is held, seccomp
// before the user switch when no_new_privs is off (loading it then needs
// CAP_SYS_ADMIN), rlimits while CAP_SYS_RESOURCE is still held, the user
// switch, the remaining capability sets, no_new_privs, and seccomp as late
// as possible otherwise, so that the filter constrains as little of the
// runtime as possible.
func finalize(cfg *InitConfig, path string, exe executor.Executor) error {
	proc := cfg.Process
	var seccomp *compiledSeccomp
	if cfg.Spec.Linux != nil && cfg.Spec.Linux.Seccomp != nil {
		var err error
		if seccomp, err = compileSeccomp(cfg.Spec.Linux.Seccomp); err != nil {
			return err
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
	return exe.Execute(path, proc.Args, proc.Env)
}
