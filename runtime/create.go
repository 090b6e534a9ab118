package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/runtime/cgroup"
	"github.com/wasmrt/wasmrt/runtime/internal/hooks"
	"github.com/wasmrt/wasmrt/runtime/internal/linux"
	"github.com/wasmrt/wasmrt/runtime/internal/nsexec"
)

// Runtime executes lifecycle operations on the containers of one Store.
type Runtime struct {
	Store Store
	// Log receives warnings (e.g. failed poststart/poststop hooks) and
	// debug messages.
	Log *slog.Logger
	// SystemdCgroup reads cgroupsPath in systemd's slice:prefix:name form.
	SystemdCgroup bool
	// Self is the runtime binary re-executed as the container's init; it
	// must dispatch the "init" argument to RunInit.
	Self string
	// WasmCache is the directory of compiled WebAssembly modules shared by
	// every container (DefaultWasmCache; "" compiles at every start), and
	// WasmCacheSize its bound in bytes (0: wasi.DefaultCacheSize). Only
	// the runtime writes it: a container process reaches it through an
	// inherited descriptor while its module compiles, before it drops its
	// privileges, and closes it before the module runs.
	WasmCache     string
	WasmCacheSize int64
}

// New returns a runtime keeping state under root.
func New(root string, log *slog.Logger) *Runtime {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Runtime{Store: Store{Root: root}, Log: log, Self: "/proc/self/exe", WasmCache: DefaultWasmCache}
}

// Stdio are the standard streams a container process gets. A nil file is
// the runtime's own stream of that number (the CLI's terminal or pipes);
// the shim passes FIFOs and pipes of its own.
type Stdio struct {
	Stdin, Stdout, Stderr *os.File
}

func (s Stdio) files() (stdin, stdout, stderr *os.File) {
	stdin, stdout, stderr = os.Stdin, os.Stdout, os.Stderr
	if s.Stdin != nil {
		stdin = s.Stdin
	}
	if s.Stdout != nil {
		stdout = s.Stdout
	}
	if s.Stderr != nil {
		stderr = s.Stderr
	}
	return stdin, stdout, stderr
}

// CreateOptions are `create`'s flags.
type CreateOptions struct {
	Stdio
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	// NoNewKeyring keeps the caller's session keyring instead of giving
	// the container a fresh one.
	NoNewKeyring bool
	PreserveFDs  int
}

var namespaceFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// procNamespaceNames are the /proc/<pid>/ns entries exec joins.
var procNamespaceNames = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt",
	specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.UserNamespace: "user",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// bootstrap is the namespace plan sent to the nsexec constructor.
type bootstrap struct {
	joins   []string // "J<flag> <path>" records
	unshare uintptr
	offsets []string
	uidMaps []specs.LinuxIDMapping
	gidMaps []specs.LinuxIDMapping
}

func (b *bootstrap) encode() string {
	var sb strings.Builder
	for _, j := range b.joins {
		sb.WriteString(j + "\n")
	}
	if b.unshare != 0 {
		fmt.Fprintf(&sb, "U%x\n", b.unshare)
	}
	for _, o := range b.offsets {
		sb.WriteString("T" + o + "\n")
	}
	sb.WriteString("E\n")
	return sb.String()
}

func planNamespaces(spec *specs.Spec) (*bootstrap, error) {
	b := &bootstrap{}
	for i, ns := range spec.Linux.Namespaces {
		flag := namespaceFlags[ns.Type]
		if ns.Path != "" {
			if strings.ContainsAny(ns.Path, "\n") {
				return nil, cfgErr(fmt.Sprintf("linux.namespaces[%d].path", i), "contains a newline")
			}
			b.joins = append(b.joins, fmt.Sprintf("J%x %s", flag, ns.Path))
			continue
		}
		b.unshare |= flag
	}
	if b.unshare&unix.CLONE_NEWUSER != 0 {
		b.uidMaps, b.gidMaps = spec.Linux.UIDMappings, spec.Linux.GIDMappings
	}
	for clock, off := range spec.Linux.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return nil, cfgErr("linux.timeOffsets."+clock, "unknown clock (monotonic or boottime)")
		}
		b.offsets = append(b.offsets, fmt.Sprintf("%s %d %d", clock, off.Secs, off.Nanosecs))
	}
	return b, nil
}

// child is a bootstrapped process being set up.
type child struct {
	sock *os.File
	dec  *json.Decoder
	pid  int
}

func (c *child) close() {
	if c.sock != nil {
		c.sock.Close()
	}
}

// spawn starts the runtime binary as init with the nsexec bootstrap, places
// it in the cgroup (before any namespace is unshared, so a new cgroup
// namespace is rooted at the container's cgroup), runs the namespace plan
// and returns the final process. With cgroupDir (a unified-hierarchy cgroup
// directory) the process is born inside the cgroup; otherwise, or if the
// kernel refuses that, place moves it there.
func (rt *Runtime) spawn(dir string, b *bootstrap, stdio Stdio, extra []*os.File, cgroupDir *os.File, place func(pid int) error) (*child, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("create sync socket: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "sync-parent")
	childEnd := os.NewFile(uintptr(fds[1]), "sync-child")
	defer childEnd.Close()

	files := append(append([]*os.File{}, extra...), childEnd)
	syncFD := 3 + len(files) - 1
	newCmd := func() *exec.Cmd {
		cmd := exec.Command(rt.Self, "init")
		cmd.Dir = dir
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.files()
		cmd.ExtraFiles = files
		cmd.Env = append(os.Environ(),
			nsexec.EnvFD+"="+strconv.Itoa(syncFD),
			linux.EnvSyncFD+"="+strconv.Itoa(syncFD))
		return cmd
	}
	cmd := newCmd()
	placed := false
	if cgroupDir != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cgroupDir.Fd())}
		if err := cmd.Start(); err == nil {
			placed = true
		} else {
			rt.Log.Debug("starting init inside its cgroup failed; moving it there instead", "cgroup", cgroupDir.Name(), "error", err)
			cmd = newCmd()
		}
	}
	if !placed {
		if err := cmd.Start(); err != nil {
			parent.Close()
			return nil, fmt.Errorf("start init %s: %w", rt.Self, err)
		}
	}
	c := &child{sock: parent}
	fail := func(err error) (*child, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if c.pid > 0 {
			_ = unix.Kill(c.pid, unix.SIGKILL)
		}
		parent.Close()
		return nil, err
	}
	if !placed && place != nil {
		if err := place(cmd.Process.Pid); err != nil {
			return fail(err)
		}
	}
	if _, err := io.WriteString(parent, b.encode()); err != nil {
		return fail(fmt.Errorf("send namespace plan: %w", err))
	}
	for {
		line, err := readLine(parent)
		if err != nil {
			return fail(fmt.Errorf("namespace bootstrap: %w", err))
		}
		switch {
		case line == "M":
			if err := writeIDMaps(cmd.Process.Pid, b.uidMaps, b.gidMaps); err != nil {
				return fail(err)
			}
			if _, err := io.WriteString(parent, "m\n"); err != nil {
				return fail(fmt.Errorf("namespace bootstrap: %w", err))
			}
		case strings.HasPrefix(line, "P"):
			pid, err := strconv.Atoi(line[1:])
			if err != nil || pid <= 0 {
				return fail(fmt.Errorf("namespace bootstrap: bad pid report %q", line))
			}
			c.pid = pid
			if err := cmd.Wait(); err != nil {
				return fail(fmt.Errorf("namespace bootstrap intermediate: %w", err))
			}
			c.dec = json.NewDecoder(parent)
			return c, nil
		case strings.HasPrefix(line, "F"):
			return fail(fmt.Errorf("namespace bootstrap: %s", line[1:]))
		default:
			return fail(fmt.Errorf("namespace bootstrap: unexpected %q", line))
		}
	}
}

// readLine reads one line byte by byte so that nothing after it is
// consumed before the JSON decoder takes over the socket.
func readLine(f *os.File) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := f.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return string(b), nil
			}
			b = append(b, one[0])
			if len(b) > 4096 {
				return "", errors.New("line too long")
			}
			continue
		}
		if err == io.EOF {
			return "", errors.New("the process exited during setup")
		}
		if err != nil {
			return "", err
		}
	}
}

// hostRoot returns the host uid and gid that the container's root maps to
// in a new user namespace (0, 0 without one).
func hostRoot(b *bootstrap) (int, int) {
	find := func(m []specs.LinuxIDMapping) int {
		for _, e := range m {
			if e.ContainerID == 0 && e.Size > 0 {
				return int(e.HostID)
			}
		}
		return 0
	}
	return find(b.uidMaps), find(b.gidMaps)
}

func writeIDMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	format := func(m []specs.LinuxIDMapping) []byte {
		var sb strings.Builder
		for _, e := range m {
			fmt.Fprintf(&sb, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
		}
		return []byte(sb.String())
	}
	base := "/proc/" + strconv.Itoa(pid)
	if err := os.WriteFile(base+"/uid_map", format(uids), 0); err != nil {
		return fmt.Errorf("linux.uidMappings: write %s/uid_map: %w", base, err)
	}
	if err := os.WriteFile(base+"/gid_map", format(gids), 0); err != nil {
		return fmt.Errorf("linux.gidMappings: write %s/gid_map: %w", base, err)
	}
	return nil
}

func dialUnix(path, what string) (*os.File, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("connect to %s %s: %w", what, path, err)
	}
	defer conn.Close()
	f, err := conn.File()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return f, nil
}

// Create sets up a container from a bundle and leaves its init waiting for
// Start. On failure nothing is left behind: no process, cgroup, mount or
// state directory.
func (rt *Runtime) Create(id string, o CreateOptions) (err error) {
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return err
	}
	spec, err := LoadSpec(bundle)
	if err != nil {
		return err
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return cfgErr("root.path", "root filesystem %s is not a directory", rootfs)
	}
	if rootfs, err = filepath.EvalSymlinks(rootfs); err != nil {
		return fmt.Errorf("root.path: %w", err)
	}
	plan, err := planNamespaces(spec)
	if err != nil {
		return err
	}
	if spec.Process != nil && spec.Process.Terminal && o.ConsoleSocket == "" {
		return cfgErr("process.terminal", "true, but no --console-socket was given")
	}

	lock, err := rt.Store.reserve(id)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	rec := &Record{
		ID: id, Bundle: bundle, Rootfs: rootfs, Spec: spec, Created: time.Now().UTC(),
		Owner: "root", Status: specs.StateCreating,
	}
	var cg *cgroup.Manager
	var c *child
	defer func() {
		if err == nil {
			return
		}
		if c != nil {
			_ = unix.Kill(c.pid, unix.SIGKILL)
			waitGone(c.pid, 10*time.Second)
			c.close()
		}
		if cg != nil {
			killCgroup(cg)
			if derr := cg.Destroy(); derr != nil {
				rt.Log.Warn("cleanup after failed create", "id", id, "error", derr)
			}
		}
		if c != nil && spec.Hooks != nil {
			rt.runPoststop(rec)
		}
		_ = rt.Store.remove(id)
	}()
	if err := unix.Mkfifo(rt.Store.fifoPath(id), 0o600); err != nil {
		return fmt.Errorf("create exec fifo: %w", err)
	}
	// The init opens the FIFO as the container's root, which a user
	// namespace maps to another host id.
	if uid, gid := hostRoot(plan); uid != 0 || gid != 0 {
		if err := os.Chown(rt.Store.fifoPath(id), uid, gid); err != nil {
			return fmt.Errorf("hand exec fifo to the container's root: %w", err)
		}
	}
	if cg, err = cgroup.New(id, spec.Linux, rt.SystemdCgroup); err != nil {
		return err
	}
	rec.CgroupPaths = cg.Paths()
	// Record the cgroup before it exists, so that a create killed from
	// here on can still be cleaned by delete --force.
	if err := rt.Store.write(rec); err != nil {
		return err
	}
	if err := cg.Create(); err != nil {
		return err
	}
	rec.CgroupPaths = cg.Paths()
	cgroupDir, err := cg.OpenUnified()
	if err != nil {
		return err
	}
	if cgroupDir != nil {
		defer cgroupDir.Close()
	}

	var extra []*os.File
	for i := 0; i < o.PreserveFDs; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved"))
	}
	cfg := &linux.InitConfig{
		Spec: spec, Rootfs: rootfs, Process: spec.Process, NoPivot: o.NoPivot,
		FifoPath: rt.Store.fifoPath(id), PreserveFDs: o.PreserveFDs, NewKeyring: !o.NoNewKeyring,
	}
	if o.ConsoleSocket != "" {
		f, err := dialUnix(o.ConsoleSocket, "console socket")
		if err != nil {
			return err
		}
		defer f.Close()
		extra = append(extra, f)
		cfg.ConsoleFD = 3 + len(extra) - 1
	}
	if spec.Linux.Seccomp != nil && linux.UsesNotify(spec.Linux.Seccomp) {
		f, err := dialUnix(spec.Linux.Seccomp.ListenerPath, "seccomp listener")
		if err != nil {
			return err
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
	idmapped, err := prepareIDMappedMounts(bundle, spec)
	if err != nil {
		return err
	}
	for _, m := range idmapped {
		defer m.tree.Close()
		extra = append(extra, m.tree)
		if cfg.MountFDs == nil {
			cfg.MountFDs = map[int]int{}
		}
		cfg.MountFDs[m.index] = 3 + len(extra) - 1
	}
	c, err = rt.spawn(bundle, plan, o.Stdio, extra, cgroupDir, cg.AddPid)
	if err != nil {
		return fmt.Errorf("create container %q: %w", id, err)
	}
	rec.Pid = c.pid
	rt.Log.Debug("container init started", "id", id, "pid", c.pid, "cgroup", rec.CgroupPaths)
	if rec.PidStart, err = processStartTime(c.pid); err != nil {
		return fmt.Errorf("container init %d: %w", c.pid, err)
	}
	if err := rt.Store.write(rec); err != nil {
		return err
	}
	cfg.State = rec.ociState(specs.StateCreating)
	if err := linux.Send(c.sock, cfg); err != nil {
		return fmt.Errorf("send configuration to init: %w", err)
	}
	for {
		m, err := linux.Receive(c.dec)
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("container init exited during setup")
			}
			return fmt.Errorf("container init: %w", err)
		}
		switch m.Type {
		case linux.MsgCreateRuntime:
			rt.Log.Debug("running prestart and createRuntime hooks", "id", id)
			if h := spec.Hooks; h != nil {
				state := rec.ociState(specs.StateCreating)
				if err := hooks.Run("prestart", h.Prestart, state); err != nil {
					return err
				}
				if err := hooks.Run("createRuntime", h.CreateRuntime, state); err != nil {
					return err
				}
			}
			if err := linux.Send(c.sock, linux.Message{Type: linux.MsgAck}); err != nil {
				return fmt.Errorf("resume init: %w", err)
			}
		case linux.MsgReady:
			rt.Log.Debug("container created", "id", id, "pid", c.pid)
			c.close()
			rec.Status = specs.StateCreated
			if err := rt.Store.write(rec); err != nil {
				return err
			}
			if o.PidFile != "" {
				if err := writePidFile(o.PidFile, c.pid); err != nil {
					return err
				}
			}
			return nil
		default:
			return fmt.Errorf("container init: unexpected message %q", m.Type)
		}
	}
}

func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// ociState is the state document given to hooks and printed by `state`.
func (r *Record) ociState(status specs.ContainerState) *specs.State {
	s := &specs.State{Version: specs.Version, ID: r.ID, Status: status, Bundle: r.Bundle}
	if r.Spec != nil {
		s.Annotations = r.Spec.Annotations
	}
	if status != specs.StateStopped {
		s.Pid = r.Pid
	}
	return s
}

// killCgroup SIGKILLs every process left in the cgroup, thawing it first
// (a frozen process cannot die).
func killCgroup(cg *cgroup.Manager) {
	if cg.Frozen() {
		_ = cg.Freeze(false)
	}
	for range 50 {
		pids, err := cg.Pids()
		if err != nil || len(pids) == 0 {
			return
		}
		for _, p := range pids {
			_ = unix.Kill(p, unix.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitGone waits until pid has exited (zombies count: their parent reaps
// them).
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if st := processState(pid); st == "" || st == "Z" || st == "X" {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}
