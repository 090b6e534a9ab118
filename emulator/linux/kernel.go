package linux

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/arch"
	archamd64 "github.com/wasmrt/wasmrt/emulator/linux/arch/amd64"
	archrv "github.com/wasmrt/wasmrt/emulator/linux/arch/riscv64"
	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// Config describes one run of the machine. The zero value of every field
// but Image and Args has a sensible default.
type Config struct {
	// Image is the root file system.
	Image *rootfs.Image
	// Args is the program's argv. Args[0] is looked up in PATH when it has
	// no slash, like a shell does, unless Path is set.
	Args []string
	// Path is the executable to run; empty means resolve Args[0].
	Path string
	// Env is the initial environment; nil means a minimal PATH, HOME and
	// TERM.
	Env []string
	// Dir is the initial working directory (default "/").
	Dir string
	// Stdin, Stdout and Stderr are the machine's standard streams; nil
	// means empty input and discarded output.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// MemoryLimit bounds the guest memory of all processes together, in
	// bytes (default 2 GiB); exceeding it fails allocations with ENOMEM or
	// kills the process that touched the page.
	MemoryLimit uint64
	// Hostname is the uname nodename (default "localhost").
	Hostname string
	// Trace, when set, receives one strace-style line per system call.
	Trace io.Writer
	// InstructionLimit stops the run with an error after that many guest
	// instructions (0: no limit).
	InstructionLimit uint64
	// Clock returns the wall time the guest sees (default time.Now).
	Clock func() time.Time
	// Arch is the guest architecture (default riscv64; ArchABI names
	// them).
	Arch *arch.ABI
	// Terminal, when set, makes the standard streams a terminal of that
	// window size with the machine's own line discipline: the host must
	// put its terminal in raw mode (no echo, no signals, no output
	// processing) and pass every byte, ^C included, as standard input.
	Terminal *Terminal
	// Publish are host listeners whose connections reach guest TCP ports
	// (docker run -p).
	Publish []Publish
	// Network, when set, is an opened link to the host side of the
	// guest's network (package hostnet; inet.OpenLink opened it): the
	// guest gets eth0 with an address and a default route, and
	// /etc/resolv.conf naming the host's DNS relay. The kernel closes it
	// when the machine stops.
	Network io.ReadWriteCloser
	// Mounts are host directories to show in the guest, read and written
	// in place (on wasip1: the runtime's preopened directories).
	Mounts []Mount
	// Translations indexes the pages of image files whose code the
	// converter translated to WebAssembly (docs/translation.md); nil when
	// none were.
	Translations *arch.TranslationIndex
	// Profile, when set, receives where the guest executes code of image
	// files: the file's rootfs inode number, an offset in it and the
	// number of instructions retired from there: the offset of the page
	// (riscv64, reported each time the CPU leaves the page) or of the
	// block that started there (x86-64, reported per block, so that the
	// translator knows where execution enters code). It is the profile
	// that chooses which pages to translate (docs/translation.md); it
	// slows the interpreter down.
	Profile func(ino, offset, weight uint64)
	// UID, GID and Groups are the credentials of the first process
	// (default root, no supplementary groups). LookupUser resolves an
	// image's USER into them.
	UID, GID uint32
	Groups   []uint32
}

// Terminal describes the host terminal the standard streams are
// attached to.
type Terminal struct {
	Rows, Cols uint16
}

// Publish connects a host listener to a guest TCP port: what the host
// accepts on Listener reaches whatever in the guest listens on Port.
type Publish struct {
	Listener net.Listener
	Port     uint16
}

// Mount maps host directory Host to guest path Guest.
type Mount struct {
	Host, Guest string
}

// DefaultEnv is the environment of a program started without one.
var DefaultEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=xterm"}

// ArchABI returns the Linux ABI of an OCI architecture name ("riscv64",
// "amd64"), or nil when the emulator has no CPU for it.
func ArchABI(name string) *arch.ABI {
	switch name {
	case "riscv64":
		return archrv.ABI
	case "amd64":
		return archamd64.ABI
	}
	return nil
}

// PlatformABI returns the Linux ABI of an image platform
// (os/arch[/variant]), or an error naming the platform when the emulator
// has no CPU for it. An empty platform (modules converted before it was
// recorded) is riscv64.
func PlatformABI(platform string) (*arch.ABI, error) {
	if platform == "" {
		return archrv.ABI, nil
	}
	osName, rest, _ := strings.Cut(platform, "/")
	archName, _, _ := strings.Cut(rest, "/")
	if abi := ArchABI(archName); osName == "linux" && abi != nil {
		return abi, nil
	}
	return nil, fmt.Errorf("the emulator has no CPU for platform %s (it runs linux/riscv64 and linux/amd64)", platform)
}

// Kernel is one emulated Linux machine: its processes, file system and
// scheduler. It is driven by Run on a single goroutine.
type Kernel struct {
	cfg      Config
	abi      *arch.ABI
	fs       *vfs.FS
	table    []syscallEntry
	tasks    []*Task // every live task, in creation order (scheduling order)
	procs    map[int]*Process
	locks    *lockTable
	timerfds map[*timerFile]struct{} // armed timerfds
	nextPID  int
	init     *Process
	resident uint64 // populated guest pages of all address spaces
	frames   frameCache
	limit    uint64 // in pages
	stdio    [3]*vfs.Description
	// stdin is the host's standard input, read by a goroutine (Run
	// blocks on it only when no task can run).
	stdin *vfs.HostInput
	// console is the machine's terminal (Config.Terminal), fed from
	// stdin every scheduling round so signal characters act even when
	// no task reads; cttys are the controlling terminals by session.
	console *vfs.TTY
	cttys   map[int]*vfs.TTY
	boot    time.Time
	// retired counts the instructions of tasks that have exited.
	retired uint64
	done    bool
	status  int
	// unixNames maps bound AF_UNIX addresses to their sockets.
	unixNames map[string]*unixSocket
	// owners are the f_owner records of descriptions that have one;
	// asyncFiles those with O_ASYNC (sys_fasync.go).
	owners     map[*vfs.Description]*fileOwner
	asyncFiles map[*vfs.Description]*fileOwner
	// unixAutobind is the last abstract name autobind gave.
	unixAutobind int
	// net is the IP network stack, made with the first AF_INET or
	// AF_INET6 socket (sys_inet.go).
	net *inet.Stack
	// lastHostPoll is when the machine last let the runtime poll host
	// connections (yieldToNetwork).
	lastHostPoll time.Time
	// resize holds the host's console window sizes (ResizeConsole).
	resize consoleResize
	// current is the task whose system call is being served.
	current *Task
	// unsupported counts the system calls answered with ENOSYS, by name.
	unsupported map[string]int
}

// New boots a machine for cfg and loads its first program; Run starts it.
func New(cfg Config) (*Kernel, error) {
	if cfg.Image == nil {
		return nil, errors.New("linux: no root file system image")
	}
	if len(cfg.Args) == 0 {
		return nil, errors.New("linux: no program arguments")
	}
	if cfg.Env == nil {
		cfg.Env = DefaultEnv
	}
	if cfg.Dir == "" {
		cfg.Dir = "/"
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = 2 << 30
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Arch == nil {
		cfg.Arch = archrv.ABI
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	fs, err := vfs.New(cfg.Image)
	if err != nil {
		return nil, fmt.Errorf("linux: %w", err)
	}
	fs.Clock = cfg.Clock
	if err := writeNetworkFiles(fs, cfg.Hostname, cfg.Network != nil); err != nil {
		return nil, fmt.Errorf("linux: %w", err)
	}
	for _, p := range cfg.Publish {
		if p.Listener == nil || p.Port == 0 {
			return nil, fmt.Errorf("linux: publish: a host listener and a guest port are required")
		}
	}
	for _, m := range cfg.Mounts {
		if err := fs.Mount(m.Guest, m.Host); err != nil {
			return nil, fmt.Errorf("linux: mount host %s at %s: %w", m.Host, m.Guest, err)
		}
	}
	k := &Kernel{
		cfg: cfg, abi: cfg.Arch, fs: fs, procs: make(map[int]*Process), nextPID: 1,
		limit: cfg.MemoryLimit / pageSize, boot: cfg.Clock(), unsupported: make(map[string]int),
		unixNames: make(map[string]*unixSocket), owners: map[*vfs.Description]*fileOwner{}, asyncFiles: map[*vfs.Description]*fileOwner{}, locks: newLockTable(), timerfds: map[*timerFile]struct{}{},
	}
	k.resize.wake = make(chan struct{}, 1)
	k.table = buildTable(k.abi)
	fs.Special = k.procLookup
	fs.Caller = k.caller
	fs.FramesCut = k.unmapPastEnd
	var tty *vfs.TTY
	k.stdin = vfs.NewHostInput(cfg.Stdin)
	// Without a terminal the standard streams are pipes, as under
	// `docker run` without -t.
	streams := [3]*vfs.Stream{{In: k.stdin, Ino: 1}, {W: cfg.Stdout, Ino: 2}, {W: cfg.Stderr, Ino: 3}}
	names := [3]string{"pipe:[1]", "pipe:[2]", "pipe:[3]"}
	if cfg.Terminal != nil {
		tty = vfs.NewTTY(cfg.Terminal.Rows, cfg.Terminal.Cols)
		names = [3]string{"/dev/pts/0", "/dev/pts/0", "/dev/pts/0"}
		in, out, errs, err := fs.AttachConsole(tty, k.stdin, cfg.Stdout, cfg.Stderr)
		if err != nil {
			return nil, fmt.Errorf("linux: terminal: %w", err)
		}
		// The login user owns its terminal.
		in.Node.Chown(cfg.UID, cfg.GID)
		streams = [3]*vfs.Stream{in, out, errs}
	}
	for i, flags := range [3]uint32{abi.O_RDONLY, abi.O_WRONLY, abi.O_WRONLY} {
		k.stdio[i] = vfs.NewDescription(streams[i], flags, names[i])
	}

	if k.hostSockets() {
		st, err := k.inetStack()
		if err != nil {
			return nil, fmt.Errorf("linux: network: %w", err)
		}
		for _, p := range cfg.Publish {
			go st.Publish(p.Listener, p.Port)
		}
		if cfg.Network != nil {
			run, err := st.AttachLink(context.Background(), cfg.Network)
			if err != nil {
				return nil, fmt.Errorf("linux: network: %w", err)
			}
			go run()
		}
	}

	p := k.newProcess(nil)
	cwd, err := fs.Lookup(fs.Root(), cfg.Dir, true)
	if err != nil || !cwd.IsDir() {
		return nil, fmt.Errorf("linux: working directory %q: %v", cfg.Dir, errOrNotDir(err))
	}
	p.fsc = &fsContext{cwd: cwd, umask: 0o022, users: 1}
	p.files = newFDTable()
	p.files.locks = k.locks
	for i, d := range k.stdio {
		d.IncRef()
		p.files.install(i, d, false)
	}
	p.sig = &sigHandlers{users: 1}
	t := k.newTask(p, k.abi.NewContext(arch.NewMemory()))
	path := cfg.Path
	if path == "" {
		path = k.searchPath(cfg.Args[0], cfg.Env)
	}
	k.current = t
	if errno := k.exec(t, path, cfg.Args, cfg.Env); errno != nil {
		return nil, fmt.Errorf("linux: execute %s: %s", path, describeErrno(errno))
	}
	k.init = p
	k.attachTerminals(tty)
	if tty != nil {
		k.setCtty(p, tty)
	}
	return k, nil
}

// caller returns the credentials of the task being served, which the VFS
// checks.
func (k *Kernel) caller() *vfs.Credentials {
	if k.current == nil {
		return nil
	}
	return &k.current.proc.cred.fs
}

func errOrNotDir(err error) error {
	if err == nil {
		return abi.ENOTDIR
	}
	return err
}

func describeErrno(err error) string {
	var e abi.Errno
	if errors.As(err, &e) {
		switch e {
		case abi.ENOENT:
			return "no such file or directory (ENOENT)"
		case abi.EACCES:
			return "permission denied: not an executable regular file (EACCES)"
		case abi.ENOEXEC:
			return "not a riscv64 ELF executable or script (ENOEXEC)"
		}
	}
	return err.Error()
}

// searchPath resolves a command name through PATH the way execvp does.
func (k *Kernel) searchPath(name string, env []string) string {
	if strings.Contains(name, "/") {
		return name
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		cand := dir + "/" + name
		if n, err := k.fs.Lookup(k.fs.Root(), cand, true); err == nil && n.IsRegular() {
			return cand
		}
	}
	return name
}

// charge adds pages to the memory budget.
func (k *Kernel) charge(pages uint64) error {
	if k.resident+pages > k.limit {
		return abi.ENOMEM
	}
	k.resident += pages
	return nil
}

// Instructions returns the guest instructions retired so far by all tasks.
func (k *Kernel) Instructions() uint64 {
	n := k.retired
	for _, t := range k.tasks {
		n += t.retired()
	}
	return n
}

// Unsupported returns the names of system calls answered with ENOSYS and
// how often, for diagnostics.
func (k *Kernel) Unsupported() map[string]int { return k.unsupported }

// sliceBudget is the number of instructions a task runs before the
// scheduler moves on to the next runnable one.
const sliceBudget = 100_000

// Run runs the machine until its first process exits and returns that
// process's exit status the way a shell reports it (128+N for death by
// signal N). An error means the machine itself could not go on: every
// task is blocked forever or the instruction limit was reached.
func (k *Kernel) Run() (int, error) {
	defer k.stdin.Close()
	defer k.closeNetwork()
	for !k.done {
		if k.console != nil {
			k.applyResize()
			k.console.Pump()
		}
		// An alarm due now interrupts tasks that wait (a select, a
		// futex) as well as the running ones.
		k.checkAlarms()
		if len(k.asyncFiles) > 0 {
			k.checkAsync()
		}
		ran := false
		k.yieldToNetwork()
		for i := 0; i < len(k.tasks) && !k.done; i++ {
			t := k.tasks[i]
			if t.exited || t.proc.stopped {
				continue
			}
			if t.blocked != nil && !k.unblock(t) {
				continue
			}
			ran = true
			k.runSlice(t)
		}
		k.reapTasks()
		if k.cfg.InstructionLimit != 0 && k.Instructions() > k.cfg.InstructionLimit {
			return 0, fmt.Errorf("linux: instruction limit of %d reached", k.cfg.InstructionLimit)
		}
		if !ran && !k.done {
			if !k.waitForHost() {
				return 0, fmt.Errorf("linux: deadlock: every task is blocked and none waits for time or input (%s)", k.blockedCalls())
			}
		}
	}
	return k.status, nil
}

// blockedCalls names the system call each task waits in, for the deadlock
// error ("pid 3: read, pid 4: wait4").
func (k *Kernel) blockedCalls() string {
	var b strings.Builder
	for _, t := range k.tasks {
		if t.exited || t.blocked == nil {
			continue
		}
		nr, _ := t.ctx.Syscall()
		name := fmt.Sprintf("syscall_%d", nr)
		if nr < uint64(len(k.table)) && k.table[nr].name != "" {
			name = k.table[nr].name
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "tid %d: %s", t.tid, name)
	}
	return b.String()
}

// reapTasks drops exited tasks from the run list.
func (k *Kernel) reapTasks() {
	out := k.tasks[:0]
	for _, t := range k.tasks {
		if t.exited {
			k.retired += t.retired()
			continue
		}
		out = append(out, t)
	}
	clear(k.tasks[len(out):])
	k.tasks = out
}

// waitForHost blocks on the host while every task waits: until host
// input arrives or the earliest timed wait is due. False when no task
// waits for either (a deadlock).
func (k *Kernel) waitForHost() bool {
	if k.stdin.Arrived() {
		// Input came in after its readers were checked this round (the
		// host reader runs on its own goroutine): go around again.
		return true
	}
	var next time.Time
	for _, t := range k.tasks {
		if t.blocked != nil && !t.blocked.deadline.IsZero() && (next.IsZero() || t.blocked.deadline.Before(next)) {
			next = t.blocked.deadline
		}
	}
	for _, p := range k.procs {
		if !p.alarm.IsZero() && (next.IsZero() || p.alarm.Before(next)) {
			next = p.alarm
		}
	}
	if tf := k.nextTimerfd(); !tf.IsZero() && (next.IsZero() || tf.Before(next)) {
		next = tf
	}
	input := k.stdin.Pending()
	// The network stack wakes the machine when a socket's readiness
	// changes; while one exists, waiting on it is never a deadlock (its
	// timers, such as TCP's retransmissions, run on their own).
	var network <-chan struct{}
	if k.net != nil {
		network = k.net.Wake
	}
	if next.IsZero() && !input && network == nil {
		// Input that came in since Arrived looked (Pending collects it)
		// lets a reader go on: not a deadlock.
		return k.stdin.Arrived()
	}
	wait := time.Duration(-1)
	if !next.IsZero() {
		wait = max(next.Sub(k.cfg.Clock()), 0)
	}
	k.stdin.Wait(wait, input, network, k.resize.wake)
	return true
}

// runSlice runs t until its slice is used up, it blocks or it exits.
func (k *Kernel) runSlice(t *Task) {
	k.checkAlarms()
	k.deliverSignals(t)
	start := t.ctx.Instret()
	// CPU time: one clock reading after each run of guest code (user time
	// since the last reading) and one after each system call (system time).
	mark := k.cfg.Clock()
	for !t.exited && t.blocked == nil && !k.done {
		used := t.ctx.Instret() - start
		if used >= sliceBudget {
			return
		}
		ev := t.ctx.Run(sliceBudget - used)
		now := k.cfg.Clock()
		t.cpu.user += now.Sub(mark)
		mark = now
		switch ev.Kind {
		case arch.EventBudget:
			return
		case arch.EventSyscall:
			k.syscall(t)
			now = k.cfg.Clock()
			t.cpu.sys += now.Sub(mark)
			mark = now
		case arch.EventSignal:
			k.fault(t, ev)
		}
		if !t.exited && t.blocked == nil {
			k.deliverSignals(t)
		}
	}
}

// fault handles a CPU exception: a first touch of a demand-paged page is
// served silently, anything else raises the signal.
func (k *Kernel) fault(t *Task, ev arch.Event) {
	if ev.Signal == abi.SIGSEGV && ev.Code == abi.SEGV_MAPERR {
		err := t.proc.mm.populate(ev.Addr)
		if err == nil {
			return
		}
		if errors.Is(err, abi.ENOMEM) {
			k.exitProcess(t.proc, abi.SIGKILL)
			return
		}
		if errors.Is(err, errBeyondEOF) {
			ev.Signal, ev.Code, ev.Detail = abi.SIGBUS, abi.BUS_ADRERR, arch.Text("access past the end of a shared file mapping")
		}
	}
	if k.cfg.Trace != nil {
		fmt.Fprintf(k.cfg.Trace, "[pid %d] --- %s: %s ---\n", t.tid, signalName(ev.Signal), ev.Detail)
	}
	k.forceSignal(t, ev.Signal, sigInfo{code: int32(ev.Code), addr: ev.Addr})
}

// exitStatus converts a wait status to a shell's $?.
func exitStatus(ws int) int {
	if ws&0x7f == 0 {
		return ws >> 8 & 0xff
	}
	return 128 + ws&0x7f
}

// procList returns the processes in pid order, for /proc listings.
func (k *Kernel) procList() []*Process {
	out := make([]*Process, 0, len(k.procs))
	for _, p := range k.procs {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pid < out[j].pid })
	return out
}

// EtcHosts is the /etc/hosts a container with that host name gets: the
// loopback names as docker writes them, and the host name on loopback.
func EtcHosts(hostname string, network bool) string {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
	switch {
	case hostname == "localhost":
	case network:
		// The container's address names it, as docker's bridge does.
		hosts += inet.GuestAddr.String() + "\t" + hostname + "\n"
	default:
		hosts += "127.0.0.1\t" + hostname + "\n"
	}
	if network {
		// The host, as podman and docker (host-gateway) name it.
		hosts += inet.GatewayAddr.String() + "\thost.containers.internal host.docker.internal\n"
	}
	return hosts
}

// EtcResolvConf is the guest's /etc/resolv.conf when it has a network:
// its one DNS server is the host side's relay.
func EtcResolvConf() string {
	return "nameserver " + inet.DNSAddr.String() + "\n"
}

// writeNetworkFiles gives the guest the /etc/hosts and /etc/hostname that
// `docker run` gives a container (bind mounts over the image's, here
// files of the overlay): the loopback names, and the host name. They
// carry the time of the image's /etc (where docker's carry the container's
// creation), so that listings do not depend on the moment of the start.
// An image without /etc gets none.
func writeNetworkFiles(fs *vfs.FS, hostname string, network bool) error {
	etc, err := fs.Lookup(fs.Root(), "/etc", true)
	if err != nil || !etc.IsDir() {
		return nil
	}
	files := []struct{ name, content string }{{"hosts", EtcHosts(hostname, network)}, {"hostname", hostname + "\n"}}
	if network {
		files = append(files, struct{ name, content string }{"resolv.conf", EtcResolvConf()})
	}
	st := etc.Stat()
	when := time.Unix(st.MtimeSec, st.MtimeNsec)
	for _, f := range files {
		if err := fs.WriteFile(etc, f.name, 0o644, []byte(f.content), when); err != nil {
			return fmt.Errorf("/etc/%s: %w", f.name, err)
		}
	}
	return etc.SetTimes(&when, &when)
}
