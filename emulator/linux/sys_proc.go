package linux

import (
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

func sysClone(t *Task, a args) (uint64, error) {
	if t.resume != nil && t.resume.vforkPID != 0 {
		// The vfork child let go: finish the call in the parent.
		return uint64(t.resume.vforkPID), nil
	}
	if t.k.abi.CloneChildTIDBeforeTLS {
		return t.clone(a[0], a[1], a[2], a[4], a[3])
	}
	return t.clone(a[0], a[1], a[2], a[3], a[4])
}

func sysClone3(t *Task, a args) (uint64, error) {
	if t.resume != nil && t.resume.vforkPID != 0 {
		return uint64(t.resume.vforkPID), nil
	}
	var b [88]byte
	size := min(a[1], 88)
	if size < 64 {
		return 0, abi.EINVAL
	}
	if err := t.copyIn(a[0], b[:size]); err != nil {
		return 0, err
	}
	flags, exitSig := le.Uint64(b[0:]), le.Uint64(b[32:])
	stack, stackSize := le.Uint64(b[40:]), le.Uint64(b[48:])
	if flags&abi.CSIGNAL != 0 || exitSig > abi.NSIG {
		return 0, abi.EINVAL
	}
	sp := uint64(0)
	if stack != 0 {
		sp = stack + stackSize
	}
	return t.clone(flags|exitSig, sp, le.Uint64(b[24:]), le.Uint64(b[56:]), le.Uint64(b[16:]))
}

func (t *Task) clone(flags, stack, ptid, tls, ctid uint64) (uint64, error) {
	k, p := t.k, t.proc
	if flags&abi.CLONE_THREAD != 0 && (flags&abi.CLONE_SIGHAND == 0 || flags&abi.CLONE_VM == 0) {
		return 0, abi.EINVAL
	}
	if flags&abi.CLONE_SIGHAND != 0 && flags&abi.CLONE_VM == 0 {
		return 0, abi.EINVAL
	}
	var child *Task
	setTLS := flags&abi.CLONE_SETTLS != 0
	if flags&abi.CLONE_THREAD != 0 {
		child = k.newTask(p, t.ctx.Clone(p.mm.mem, stack, tls, setTLS))
		child.mask = t.mask
	} else {
		mm := p.mm
		if flags&abi.CLONE_VM != 0 {
			mm.users++
		} else {
			var err error
			if mm, err = p.mm.fork(); err != nil {
				return 0, err
			}
		}
		parent := p
		if flags&abi.CLONE_PARENT != 0 && p.parent != nil {
			parent = p.parent
		}
		np := k.newProcess(parent)
		np.mm = mm
		np.exitSignal = int(flags & abi.CSIGNAL)
		np.exe, np.comm, np.args, np.env = p.exe, p.comm, p.args, p.env
		if flags&abi.CLONE_FILES != 0 {
			np.files = p.files
			p.files.users++
		} else {
			np.files = p.files.fork()
		}
		if flags&abi.CLONE_FS != 0 {
			np.fsc = p.fsc
			p.fsc.users++
		} else {
			c := *p.fsc
			c.users = 1
			np.fsc = &c
		}
		if flags&abi.CLONE_SIGHAND != 0 {
			np.sig = p.sig
			p.sig.users++
		} else {
			c := *p.sig
			c.users = 1
			np.sig = &c
		}
		child = k.newTask(np, t.ctx.Clone(mm.mem, stack, tls, setTLS))
		child.mask = t.mask
		child.altSP, child.altSize, child.altFlags = t.altSP, t.altSize, t.altFlags
	}
	if flags&abi.CLONE_PARENT_SETTID != 0 {
		if err := t.writeU32(ptid, uint32(child.tid)); err != nil {
			return 0, err
		}
	}
	if flags&abi.CLONE_CHILD_SETTID != 0 {
		child.proc.mm.copyOut(ctid, le.AppendUint32(nil, uint32(child.tid)))
	}
	if flags&abi.CLONE_CHILD_CLEARTID != 0 {
		child.clearTID = ctid
	}
	if flags&abi.CLONE_VFORK != 0 && flags&abi.CLONE_THREAD == 0 {
		cp := child.proc
		cp.vforkParent = t
		// The parent sleeps until the child execs or exits; the call
		// then returns the child's pid (kept in the wait state).
		t.block(&waitState{ready: func() bool { return cp.vforkParent == nil }, vforkPID: child.tid})
		t.blocked.interruptible = false
		return 0, errBlocked
	}
	return uint64(child.tid), nil
}

func sysExecve(t *Task, a args) (uint64, error) {
	path, err := t.readString(a[0])
	if err != nil {
		return 0, err
	}
	argv, err := t.stringArray(a[1])
	if err != nil {
		return 0, err
	}
	envv, err := t.stringArray(a[2])
	if err != nil {
		return 0, err
	}
	if err := t.k.exec(t, path, argv, envv); err != nil {
		return 0, err
	}
	return 0, errNoReturn
}

// stringArray reads a NULL-terminated array of string pointers.
func (t *Task) stringArray(addr uint64) ([]string, error) {
	var out []string
	total := 0
	for addr != 0 {
		p, err := t.readU64(addr)
		if err != nil {
			return nil, err
		}
		if p == 0 {
			break
		}
		s, err := t.mm().readString(p, maxArgBytes)
		if err != nil {
			return nil, err
		}
		total += len(s) + 1
		if total > maxArgBytes || len(out) > maxArgBytes/8 {
			return nil, abi.E2BIG
		}
		out = append(out, s)
		addr += 8
	}
	return out, nil
}

func sysExit(t *Task, a args) (uint64, error) {
	t.k.exitThread(t, int(a[0]))
	return 0, errNoReturn
}

func sysExitGroup(t *Task, a args) (uint64, error) {
	t.k.exitProcess(t.proc, int(a[0]&0xff)<<8)
	return 0, errNoReturn
}

// waitMatch reports whether child c matches wait4's pid argument.
func waitMatch(p, c *Process, pid int) bool {
	switch {
	case pid > 0:
		return c.pid == pid
	case pid == 0:
		return c.pgid == p.pgid
	case pid == -1:
		return true
	}
	return c.pgid == -pid
}

// waitChild finds a zombie child matching pid; ECHILD if none can ever
// match.
func (t *Task) waitChild(pid int, options uint64) (*waitEvent, error) {
	var any bool
	for _, c := range t.proc.children {
		if !waitMatch(t.proc, c, pid) {
			continue
		}
		any = true
		switch {
		case c.zombie && options&abi.WEXITED != 0:
			ev := &waitEvent{c: c, status: c.waitStatus, code: abi.CLD_EXITED, info: int32(c.waitStatus >> 8 & 0xff), exited: true}
			if c.waitStatus&0x7f != 0 {
				ev.code, ev.info = abi.CLD_KILLED, int32(c.waitStatus&0x7f)
			}
			return ev, nil
		case c.stopReport && options&abi.WUNTRACED != 0:
			return &waitEvent{c: c, status: c.stopSig<<8 | 0x7f, code: abi.CLD_STOPPED, info: int32(c.stopSig)}, nil
		case c.contReport && options&abi.WCONTINUED != 0:
			return &waitEvent{c: c, status: 0xffff, code: abi.CLD_CONTINUED, info: abi.SIGCONT}, nil
		}
	}
	if !any {
		return nil, abi.ECHILD
	}
	return nil, nil
}

// waitEvent is a child's state change as wait4 and waitid report it.
type waitEvent struct {
	c      *Process
	status int   // wait4's status word
	code   int32 // waitid's si_code (CLD_*)
	info   int32 // waitid's si_status
	exited bool
}

// consume marks the event collected: a dead child is reaped, a stop or
// continue report is cleared.
func (k *Kernel) consume(ev *waitEvent) {
	switch {
	case ev.exited:
		k.reap(ev.c)
	case ev.code == abi.CLD_STOPPED:
		ev.c.stopReport = false
	default:
		ev.c.contReport = false
	}
}

func sysWait4(t *Task, a args) (uint64, error) {
	pid, statusAddr, options := int(int32(a[0])), a[1], a[2]
	if options&^(abi.WNOHANG|abi.WUNTRACED|abi.WCONTINUED|0x40000000|0x80000000|0x20000000) != 0 {
		return 0, abi.EINVAL
	}
	options |= abi.WEXITED
	ev, err := t.waitChild(pid, options)
	if err != nil {
		return 0, err
	}
	if ev == nil {
		if options&abi.WNOHANG != 0 {
			return 0, nil
		}
		return 0, t.block(&waitState{ready: func() bool { ev, err := t.waitChild(pid, options); return ev != nil || err != nil }})
	}
	if statusAddr != 0 {
		if err := t.writeU32(statusAddr, uint32(ev.status)); err != nil {
			return 0, err
		}
	}
	if a[3] != 0 {
		if err := t.copyOut(a[3], make([]byte, 144)); err != nil {
			return 0, err
		}
	}
	t.k.consume(ev)
	return uint64(ev.c.pid), nil
}

func sysWaitid(t *Task, a args) (uint64, error) {
	idtype, id, infop, options := a[0], int(int32(a[1])), a[2], a[3]
	pid := -1
	switch idtype {
	case abi.P_ALL:
	case abi.P_PID:
		pid = id
	case abi.P_PGID:
		pid = -id
		if id == 0 {
			pid = 0
		}
	case pPIDFD:
		f, err := t.pidfdProcess(uint64(id))
		if err != nil {
			return 0, err
		}
		if t.k.procs[f.p.pid] != f.p {
			return 0, abi.ECHILD // reaped: the pid may name another process now
		}
		pid = f.p.pid
	default:
		return 0, abi.EINVAL
	}
	if options&(abi.WEXITED|abi.WUNTRACED|abi.WCONTINUED) == 0 {
		return 0, abi.EINVAL
	}
	ev, err := t.waitChild(pid, options)
	if err != nil {
		return 0, err
	}
	if ev == nil {
		if options&abi.WNOHANG != 0 {
			if infop != 0 {
				return 0, t.copyOut(infop, make([]byte, 128))
			}
			return 0, nil
		}
		return 0, t.block(&waitState{ready: func() bool { ev, err := t.waitChild(pid, options); return ev != nil || err != nil }})
	}
	if infop != 0 {
		var b [128]byte
		le.PutUint32(b[0:], abi.SIGCHLD)
		le.PutUint32(b[8:], uint32(ev.code))
		le.PutUint32(b[16:], uint32(ev.c.pid))
		le.PutUint32(b[24:], uint32(ev.info))
		if err := t.copyOut(infop, b[:]); err != nil {
			return 0, err
		}
	}
	if options&abi.WNOWAIT == 0 {
		t.k.consume(ev)
	}
	return 0, nil
}

func sysGetpid(t *Task, a args) (uint64, error) { return uint64(t.proc.pid), nil }
func sysGettid(t *Task, a args) (uint64, error) { return uint64(t.tid), nil }

func sysGetppid(t *Task, a args) (uint64, error) {
	if t.proc.parent == nil {
		return 0, nil
	}
	return uint64(t.proc.parent.pid), nil
}

func (k *Kernel) process(pid int) *Process {
	if p, ok := k.procs[pid]; ok && !p.zombie {
		return p
	}
	return nil
}

func sysSetpgid(t *Task, a args) (uint64, error) {
	pid, pgid := int(int32(a[0])), int(int32(a[1]))
	if pgid < 0 {
		return 0, abi.EINVAL
	}
	p := t.proc
	if pid != 0 && pid != p.pid {
		p = t.k.process(pid)
		if p == nil || p.parent != t.proc {
			return 0, abi.ESRCH
		}
	}
	if pgid == 0 {
		pgid = p.pid
	}
	p.pgid = pgid
	return 0, nil
}

func sysGetpgid(t *Task, a args) (uint64, error) {
	p := t.proc
	if pid := int(int32(a[0])); pid != 0 {
		if p = t.k.process(pid); p == nil {
			return 0, abi.ESRCH
		}
	}
	return uint64(p.pgid), nil
}

func sysGetsid(t *Task, a args) (uint64, error) {
	p := t.proc
	if pid := int(int32(a[0])); pid != 0 {
		if p = t.k.process(pid); p == nil {
			return 0, abi.ESRCH
		}
	}
	return uint64(p.sid), nil
}

func sysSetsid(t *Task, a args) (uint64, error) {
	p := t.proc
	for _, o := range t.k.procs {
		if o.pgid == p.pid && o != p {
			return 0, abi.EPERM
		}
	}
	if p.pgid == p.pid {
		return 0, abi.EPERM
	}
	p.sid, p.pgid = p.pid, p.pid
	return uint64(p.pid), nil
}

func sysSetTidAddress(t *Task, a args) (uint64, error) {
	t.clearTID = a[0]
	return uint64(t.tid), nil
}

func sysSetRobustList(t *Task, a args) (uint64, error) {
	if a[1] != 24 {
		return 0, abi.EINVAL
	}
	return 0, nil
}

func sysPrctl(t *Task, a args) (uint64, error) {
	const (
		prSetPdeathsig = 1
		prGetDumpable  = 3
		prSetDumpable  = 4
		prSetName      = 15
		prGetName      = 16
	)
	switch a[0] {
	case prSetPdeathsig, prSetDumpable, prSetName:
		return 0, nil
	case prGetDumpable:
		return 1, nil
	case prGetName:
		name := make([]byte, 16)
		copy(name, t.proc.comm)
		name[15] = 0
		return 0, t.copyOut(a[1], name)
	}
	return 0, abi.EINVAL
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// futexWake wakes up to n tasks waiting on addr in mm whose bitset
// intersects mask.
func (k *Kernel) futexWake(mm *MM, addr uint64, n int, mask uint32) int {
	woken := 0
	for _, o := range k.tasks {
		if woken >= n {
			break
		}
		w := o.blocked
		if w != nil && w.futexMM == mm && w.futexAddr == addr && !w.woken && w.futexMask&mask != 0 {
			w.woken = true
			woken++
		}
	}
	return woken
}

func sysFutex(t *Task, a args) (uint64, error) {
	addr, op, val := a[0], a[1], a[2]
	mm := t.mm()
	switch op & abi.FUTEX_CMD_MASK {
	case abi.FUTEX_WAIT, abi.FUTEX_WAIT_BITSET:
		mask := uint32(abi.FUTEX_BITSET_MATCHANY)
		if op&abi.FUTEX_CMD_MASK == abi.FUTEX_WAIT_BITSET {
			mask = uint32(a[5])
			if mask == 0 {
				return 0, abi.EINVAL
			}
		}
		if r := t.resume; r != nil {
			if r.woken {
				return 0, nil
			}
			if r.timedOut {
				return 0, abi.ETIMEDOUT
			}
		}
		if addr&3 != 0 {
			return 0, abi.EINVAL
		}
		cur, err := t.readU32(addr)
		if err != nil {
			return 0, err
		}
		if cur != uint32(val) {
			return 0, abi.EAGAIN
		}
		w := &waitState{futexMM: mm, futexAddr: addr, futexMask: mask}
		w.ready = func() bool { return w.woken }
		if t.resume != nil {
			w.deadline = t.resume.deadline
		} else if a[3] != 0 {
			d, err := t.readTimespec(a[3])
			if err != nil {
				return 0, err
			}
			now := t.k.cfg.Clock()
			if op&abi.FUTEX_CMD_MASK == abi.FUTEX_WAIT_BITSET {
				// An absolute time on CLOCK_MONOTONIC or CLOCK_REALTIME.
				base := t.k.monotonicBase()
				if op&abi.FUTEX_CLOCK_REALTIME != 0 {
					base = time.Unix(0, 0)
				}
				w.deadline = base.Add(d)
			} else {
				w.deadline = now.Add(d)
			}
		}
		return 0, t.block(w)
	case abi.FUTEX_WAKE, abi.FUTEX_WAKE_BITSET:
		mask := uint32(abi.FUTEX_BITSET_MATCHANY)
		if op&abi.FUTEX_CMD_MASK == abi.FUTEX_WAKE_BITSET {
			mask = uint32(a[5])
		}
		return uint64(t.k.futexWake(mm, addr, int(int32(val)), mask)), nil
	case abi.FUTEX_REQUEUE, abi.FUTEX_CMP_REQUEUE:
		if op&abi.FUTEX_CMD_MASK == abi.FUTEX_CMP_REQUEUE {
			cur, err := t.readU32(addr)
			if err != nil {
				return 0, err
			}
			if cur != uint32(a[5]) {
				return 0, abi.EAGAIN
			}
		}
		woken := t.k.futexWake(mm, addr, int(int32(val)), abi.FUTEX_BITSET_MATCHANY)
		moved := 0
		for _, o := range t.k.tasks {
			if w := o.blocked; w != nil && w.futexMM == mm && w.futexAddr == addr && !w.woken && moved < int(int32(a[3])) {
				w.futexAddr = a[4]
				moved++
			}
		}
		return uint64(woken + moved), nil
	case abi.FUTEX_WAKE_OP:
		return 0, t.futexWakeOp(addr, int(int32(val)), a[3], a[4], uint32(a[5]))
	}
	return 0, abi.ENOSYS
}

// futexWakeOp implements FUTEX_WAKE_OP: an atomic operation on addr2,
// then wake on addr and, if the old value passes the comparison, addr2.
func (t *Task) futexWakeOp(addr uint64, n int, n2, addr2 uint64, op uint32) error {
	old, err := t.readU32(addr2)
	if err != nil {
		return err
	}
	oparg := op >> 12 & 0xfff
	if op>>28&8 != 0 {
		oparg = 1 << oparg
	}
	var nv uint32
	switch op >> 28 & 7 {
	case 0:
		nv = oparg
	case 1:
		nv = old + oparg
	case 2:
		nv = old | oparg
	case 3:
		nv = old &^ oparg
	case 4:
		nv = old ^ oparg
	default:
		return abi.ENOSYS
	}
	if err := t.writeU32(addr2, nv); err != nil {
		return err
	}
	cmparg := op & 0xfff
	var ok bool
	switch op >> 24 & 0xf {
	case 0:
		ok = old == cmparg
	case 1:
		ok = old != cmparg
	case 2:
		ok = old < cmparg
	case 3:
		ok = old <= cmparg
	case 4:
		ok = old > cmparg
	case 5:
		ok = old >= cmparg
	}
	t.k.futexWake(t.mm(), addr, n, abi.FUTEX_BITSET_MATCHANY)
	if ok {
		t.k.futexWake(t.mm(), addr2, int(int32(n2)), abi.FUTEX_BITSET_MATCHANY)
	}
	return nil
}
