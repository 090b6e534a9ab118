package runtime

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/runtime/internal/linux"
)

// RunInit is the entry point of the "init" argument the runtime re-executes
// itself with. It only returns on failure.
func RunInit() error { return linux.Init() }

// ExecOptions are `exec`'s flags.
type ExecOptions struct {
	Stdio
	// Started, when set, gets the process's pid once it is set up and
	// running (for Detach, where Exec returns no pid).
	Started       func(pid int)
	Process       *specs.Process
	PidFile       string
	ConsoleSocket string
	Detach        bool
	PreserveFDs   int
}

// Exec runs an additional process in a running container: the namespace
// bootstrap joins the init's namespaces by /proc path and the process joins
// its cgroup. Without Detach it waits and returns the exit code.
func (rt *Runtime) Exec(id string, o ExecOptions) (int, error) {
	lock, r, cg, err := rt.liveCgroup(id, specs.StateRunning, specs.StateCreated)
	if err != nil {
		return -1, err
	}
	if err := ValidateProcess("process", o.Process); err != nil {
		lock.Unlock()
		return -1, err
	}
	b := &bootstrap{}
	for _, ns := range r.Spec.Linux.Namespaces {
		path := filepath.Join("/proc", fmt.Sprint(r.Pid), "ns", procNamespaceNames[ns.Type])
		b.joins = append(b.joins, fmt.Sprintf("J%x %s", namespaceFlags[ns.Type], path))
	}
	if !o.Detach {
		if err := becomeSubreaper(); err != nil {
			lock.Unlock()
			return -1, err
		}
	}
	var extra []*os.File
	for i := 0; i < o.PreserveFDs; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved"))
	}
	cfg := &linux.InitConfig{Spec: r.Spec, Rootfs: r.Rootfs, Exec: true, Process: o.Process,
		State: r.ociState(specs.StateRunning), PreserveFDs: o.PreserveFDs}
	if o.Process.Terminal {
		if o.ConsoleSocket == "" {
			lock.Unlock()
			return -1, fmt.Errorf("exec: a terminal needs --console-socket")
		}
		f, err := dialUnix(o.ConsoleSocket, "console socket")
		if err != nil {
			lock.Unlock()
			return -1, err
		}
		defer f.Close()
		extra = append(extra, f)
		cfg.ConsoleFD = 3 + len(extra) - 1
	}
	if s := r.Spec.Linux.Seccomp; s != nil && linux.UsesNotify(s) {
		f, err := dialUnix(s.ListenerPath, "seccomp listener")
		if err != nil {
			lock.Unlock()
			return -1, err
		}
		defer f.Close()
		extra = append(extra, f)
		cfg.SeccompFD = 3 + len(extra) - 1
	}
	if wc := rt.openWasmCache(); wc != nil {
		defer rt.closeWasmCache(wc)
		extra = append(extra, wc.dir)
		cfg.WasmCacheFD, cfg.WasmCacheSize = 3+len(extra)-1, rt.WasmCacheSize
	}
	cgroupDir, err := cg.OpenUnified()
	if err != nil {
		lock.Unlock()
		return -1, fmt.Errorf("exec in container %q: %w", id, err)
	}
	c, err := rt.spawn(r.Bundle, b, o.Stdio, extra, cgroupDir, cg.AddPid)
	if cgroupDir != nil {
		cgroupDir.Close()
	}
	lock.Unlock()
	if err != nil {
		return -1, fmt.Errorf("exec in container %q: %w", id, err)
	}
	defer c.close()
	if err := linux.Send(c.sock, cfg); err != nil {
		return -1, fmt.Errorf("exec in container %q: send configuration: %w", id, err)
	}
	m, err := linux.Receive(c.dec)
	if err == nil && m.Type != linux.MsgReady {
		err = fmt.Errorf("unexpected message %q", m.Type)
	}
	if err != nil {
		if err == io.EOF {
			err = fmt.Errorf("the process exited during setup")
		}
		_ = unix.Kill(c.pid, unix.SIGKILL)
		if !o.Detach {
			_, _ = waitExit(c.pid, false)
		}
		return -1, fmt.Errorf("exec in container %q: %w", id, err)
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, c.pid); err != nil {
			return -1, err
		}
	}
	if o.Started != nil {
		o.Started(c.pid)
	}
	if o.Detach {
		return 0, nil
	}
	return waitExit(c.pid, true)
}

// RunOptions are `run`'s flags.
type RunOptions struct {
	CreateOptions
	Detach bool
}

// Run creates and starts a container. Without Detach it waits for the init,
// records its exit status, deletes the container and returns the status.
func (rt *Runtime) Run(id string, o RunOptions) (int, error) {
	if !o.Detach {
		if err := becomeSubreaper(); err != nil {
			return -1, err
		}
	}
	if err := rt.Create(id, o.CreateOptions); err != nil {
		return -1, err
	}
	s, err := rt.State(id)
	if err != nil {
		return -1, err
	}
	if err := rt.Start(id); err != nil {
		_ = rt.Delete(id, true)
		return -1, err
	}
	if o.Detach {
		return 0, nil
	}
	code, err := waitExit(s.Pid, true)
	if err != nil {
		return -1, err
	}
	rt.recordExit(id, code)
	if err := rt.Delete(id, true); err != nil {
		return code, err
	}
	return code, nil
}

func (rt *Runtime) recordExit(id string, code int) {
	lock, r, err := rt.Store.open(id)
	if err != nil {
		return
	}
	defer lock.Unlock()
	r.ExitStatus = &code
	r.Status = specs.StateStopped
	if err := rt.Store.write(r); err != nil {
		rt.Log.Warn("record exit status", "id", id, "error", err)
	}
}

// becomeSubreaper makes orphaned descendants (the container process, whose
// bootstrap parent exits) our children, so we can wait for it and no
// zombie outlives us.
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	return nil
}

// waitExit waits for pid, optionally forwarding our signals to it, and
// reaps any other orphan that is reparented to us meanwhile. It returns the
// shell-style exit code (128+signal for a signal death).
func waitExit(pid int, forward bool) (int, error) {
	sigs := make(chan os.Signal, 16)
	if forward {
		signal.Notify(sigs)
		defer signal.Stop(sigs)
		go func() {
			for s := range sigs {
				if sig, ok := s.(unix.Signal); ok && sig != unix.SIGCHLD && sig != unix.SIGURG {
					_ = unix.Kill(pid, sig)
				}
			}
		}()
	}
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("wait for pid %d: %w", pid, err)
		}
		if got != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ws.ExitStatus(), nil
	}
}
