package linux

import (
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/arch"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// Process is a thread group: the resources its threads share.
type Process struct {
	k        *Kernel
	pid      int
	pgid     int
	sid      int
	parent   *Process
	children []*Process
	threads  []*Task
	mm       *MM
	files    *fdTable
	fsc      *fsContext
	sig      *sigHandlers
	// pending holds process-directed signals; info their payloads, and
	// queued the further instances of real-time signals.
	pending abi.SigSet
	info    [abi.NSIG + 1]sigInfo
	queued  sigQueue
	// cpuGone is the CPU time of threads that exited; cpuChildren that
	// of reaped children and their reaped descendants (RUSAGE_CHILDREN).
	cpuGone, cpuChildren cpuTime
	// exiting is set once exit_group or a fatal signal started; zombie
	// once every thread is gone and the status is waiting for wait4.
	exiting bool
	zombie  bool
	// waitStatus is the wait4 status word.
	waitStatus int
	// exitSignal is sent to the parent at exit (SIGCHLD, or the clone
	// flags' low byte).
	exitSignal int
	// vforkParent is the task blocked in vfork until this process execs
	// or exits.
	vforkParent *Task
	// exe is the resolved executable (/proc/self/exe), comm the name
	// execve was given (/proc/self/comm), args its argv.
	exe  string
	comm string
	args []string
	// env is the environment of the last execve (/proc/PID/environ).
	env []string
	// started is when the process was created (/proc/PID/stat).
	started time.Time
	// stopped is set while a stop signal holds the process; stopSig is
	// that signal. stopReport and contReport are state changes not yet
	// collected by the parent's wait (WUNTRACED, WCONTINUED).
	stopped    bool
	stopSig    int
	stopReport bool
	contReport bool
	alarm      time.Time
	rlimits    [abi.RLIM_NLIMITS][2]uint64
	utime      time.Duration
	// cred are the user and group ids (creds.go).
	cred credentials
}

// Task is one guest thread.
type Task struct {
	k    *Kernel
	tid  int
	proc *Process
	ctx  arch.Context
	// instretBase is the context's instruction count when the task
	// began: a clone copies its parent's.
	instretBase uint64
	// mask is the blocked-signal mask; pending the thread-directed
	// signals.
	mask abi.SigSet
	// noSigpipe is set during a send with MSG_NOSIGNAL.
	noSigpipe bool
	pending   abi.SigSet
	info      [abi.NSIG + 1]sigInfo
	queued    sigQueue
	// savedMask is restored after a handler run by rt_sigsuspend.
	savedMask    abi.SigSet
	hasSavedMask bool
	clearTID     uint64
	altSP        uint64
	altSize      uint64
	altFlags     uint64
	// blocked is set while the task waits inside a system call; the
	// system call is re-executed from the start when blocked.ready says
	// so (its state carries over in blocked).
	blocked *waitState
	// resume is the wait state of a system call being retried after its
	// wait ended; nil on a call's first attempt.
	resume *waitState
	exited bool
	// cpu is the CPU time the thread used.
	cpu cpuTime
}

// waitState describes why a task waits and carries the state a blocking
// system call needs when it is retried.
type waitState struct {
	// ready reports whether retrying the call can make progress.
	ready func() bool
	// deadline, when set, also ends the wait.
	deadline time.Time
	// interruptible waits end with EINTR (or a restart) when a signal
	// arrives.
	interruptible bool
	// futex: the address waited on, and whether a wake arrived.
	futexMM   *MM
	futexAddr uint64
	futexMask uint32
	woken     bool
	// timedOut is set when the deadline ended the wait.
	timedOut bool
	// noRestart marks calls that fail with EINTR even under SA_RESTART
	// (sleeps, rt_sigsuspend, poll), as signal(7) lists.
	noRestart bool
	// vforkPID is the child a vfork parent waits for.
	vforkPID int
	// opened is a fifo description waiting for its peer.
	opened *vfs.Description
}

func (k *Kernel) newProcess(parent *Process) *Process {
	p := &Process{k: k, pid: k.allocPID(), parent: parent, exitSignal: abi.SIGCHLD, started: k.cfg.Clock()}
	if parent != nil {
		p.pgid, p.sid = parent.pgid, parent.sid
		parent.children = append(parent.children, p)
		p.rlimits = parent.rlimits
		p.cred = parent.cred
	} else {
		p.pgid, p.sid = p.pid, p.pid
		for i := range p.rlimits {
			p.rlimits[i] = [2]uint64{abi.RLIM_INFINITY, abi.RLIM_INFINITY}
		}
		p.rlimits[abi.RLIMIT_STACK] = [2]uint64{stackLimit, abi.RLIM_INFINITY}
		p.rlimits[abi.RLIMIT_NOFILE] = [2]uint64{maxFDs, maxFDs}
		p.cred = newCredentials(k.cfg.UID, k.cfg.GID, k.cfg.Groups)
	}
	k.procs[p.pid] = p
	return p
}

// allocPID returns the next unused id; pids and tids share one space.
func (k *Kernel) allocPID() int {
	for {
		id := k.nextPID
		k.nextPID++
		if k.nextPID >= 1<<22 {
			k.nextPID = 2
		}
		if _, used := k.procs[id]; !used && k.taskByTID(id) == nil {
			return id
		}
	}
}

func (k *Kernel) newTask(p *Process, ctx arch.Context) *Task {
	tid := p.pid
	if len(p.threads) > 0 {
		tid = k.allocPID()
	}
	t := &Task{k: k, tid: tid, proc: p, ctx: ctx, instretBase: ctx.Instret()}
	p.threads = append(p.threads, t)
	k.tasks = append(k.tasks, t)
	return t
}

// retired returns the instructions t has retired.
func (t *Task) retired() uint64 { return t.ctx.Instret() - t.instretBase }

func (k *Kernel) taskByTID(tid int) *Task {
	for _, t := range k.tasks {
		if t.tid == tid && !t.exited {
			return t
		}
	}
	return nil
}

// block parks t in the current system call until w.ready.
func (t *Task) block(w *waitState) error {
	w.interruptible = true
	t.blocked, t.resume = w, nil
	return errBlocked
}

// unblock decides whether a blocked task may run again: its wait ended,
// timed out, or a signal interrupts it.
func (k *Kernel) unblock(t *Task) bool {
	w := t.blocked
	// Readiness can depend on who asks (a signalfd's is the asker's
	// pending signals).
	k.current = t
	if w.ready != nil && w.ready() {
		t.blocked, t.resume = nil, w
		return true
	}
	if !w.deadline.IsZero() && !k.cfg.Clock().Before(w.deadline) {
		w.timedOut = true
		t.blocked, t.resume = nil, w
		return true
	}
	if w.interruptible && t.deliverable() != 0 {
		k.interrupt(t)
		return true
	}
	return false
}

// abandonWait ends t's wait without completing its system call,
// releasing what the wait holds.
func (t *Task) abandonWait() {
	if w := t.blocked; w != nil && w.opened != nil {
		w.opened.DecRef()
	}
	t.blocked, t.resume = nil, nil
}

// fsContext is the working directory and umask (shared with CLONE_FS).
type fsContext struct {
	cwd   *vfs.Inode
	umask uint32
	users int
}

// maxFDs is RLIMIT_NOFILE.
const maxFDs = 1024

// fdTable maps descriptors to open file descriptions (shared with
// CLONE_FILES).
type fdTable struct {
	fds   map[int]fdEntry
	users int
	// locks is the kernel's lock table: closing a descriptor releases
	// the record locks this table owns on its file.
	locks *lockTable
}

type fdEntry struct {
	d       *vfs.Description
	cloexec bool
}

func newFDTable() *fdTable { return &fdTable{fds: make(map[int]fdEntry), users: 1} }

func (f *fdTable) get(fd int) (*vfs.Description, error) {
	e, ok := f.fds[fd]
	if !ok {
		return nil, abi.EBADF
	}
	return e.d, nil
}

// install puts d at fd, closing what was there. The table takes d's
// reference.
func (f *fdTable) install(fd int, d *vfs.Description, cloexec bool) {
	if old, ok := f.fds[fd]; ok {
		f.releaseLocks(old.d)
		old.d.DecRef()
	}
	f.fds[fd] = fdEntry{d: d, cloexec: cloexec}
}

// alloc installs d at the lowest free descriptor ≥ min.
func (f *fdTable) alloc(d *vfs.Description, min int, cloexec bool) (int, error) {
	for fd := min; fd < maxFDs; fd++ {
		if _, used := f.fds[fd]; !used {
			f.fds[fd] = fdEntry{d: d, cloexec: cloexec}
			return fd, nil
		}
	}
	d.DecRef()
	return 0, abi.EMFILE
}

func (f *fdTable) close(fd int) error {
	e, ok := f.fds[fd]
	if !ok {
		return abi.EBADF
	}
	delete(f.fds, fd)
	f.releaseLocks(e.d)
	e.d.DecRef()
	return nil
}

// releaseLocks drops the record locks the table holds on d's file, as
// closing any descriptor of the file does.
func (f *fdTable) releaseLocks(d *vfs.Description) {
	if f.locks != nil {
		f.locks.releaseTable(f, lockKey(d))
	}
}

func (f *fdTable) fork() *fdTable {
	c := newFDTable()
	c.locks = f.locks
	for fd, e := range f.fds {
		e.d.IncRef()
		c.fds[fd] = e
	}
	return c
}

func (f *fdTable) closeAll() {
	for fd := range f.fds {
		f.close(fd)
	}
}

func (f *fdTable) closeOnExec() {
	for fd, e := range f.fds {
		if e.cloexec {
			f.close(fd)
		}
	}
}

// sigAction is one signal's disposition.
type sigAction struct {
	handler  uint64
	flags    uint64
	restorer uint64
	mask     abi.SigSet
}

// sigHandlers is the signal disposition table (shared with
// CLONE_SIGHAND).
type sigHandlers struct {
	act   [abi.NSIG + 1]sigAction
	users int
}

// sigInfo is the payload of a pending signal.
type sigInfo struct {
	code   int32
	pid    int32
	uid    uint32
	status int32
	addr   uint64
	// poll marks a signal-driven I/O event (sys_fasync.go): si_band and
	// si_fd instead of the sender.
	poll bool
	band int64
	fd   int32
	// value is si_value of a signal sent with sigqueue.
	value uint64
}

// sigQueue holds the instances of pending real-time signals beyond the
// first (whose payload is in info): Linux queues every real-time signal
// sent, in order, while a standard signal is pending at most once.
type sigQueue map[int][]sigInfo

// maxQueuedSignals bounds the real-time signals queued per process or
// thread (RLIMIT_SIGPENDING's order of magnitude).
const maxQueuedSignals = 1 << 15

// queueSignal makes sig pending in set with payload in, queueing it
// behind the pending one for a real-time signal. False when the queue is
// full.
func queueSignal(set *abi.SigSet, info *[abi.NSIG + 1]sigInfo, q *sigQueue, sig int, in sigInfo) bool {
	if *set&abi.Bit(sig) == 0 {
		info[sig] = in
		*set |= abi.Bit(sig)
		return true
	}
	if sig < abi.SIGRTMIN {
		return true
	}
	if len((*q)[sig]) >= maxQueuedSignals {
		return false
	}
	if *q == nil {
		*q = sigQueue{}
	}
	(*q)[sig] = append((*q)[sig], in)
	return true
}

// dequeueSignal takes the first pending instance of sig from set.
func dequeueSignal(set *abi.SigSet, info *[abi.NSIG + 1]sigInfo, q sigQueue, sig int) sigInfo {
	in := info[sig]
	if more := q[sig]; len(more) > 0 {
		info[sig] = more[0]
		if len(more) == 1 {
			delete(q, sig)
		} else {
			q[sig] = more[1:]
		}
		return in
	}
	*set &^= abi.Bit(sig)
	return in
}

// discardSignal drops every pending instance of sig from set.
func discardSignal(set *abi.SigSet, q sigQueue, sig int) {
	*set &^= abi.Bit(sig)
	delete(q, sig)
}
