package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

func validSignal(sig uint64) bool { return sig >= 1 && sig <= abi.NSIG }

func sysRtSigaction(t *Task, a args) (uint64, error) {
	sig, newAddr, oldAddr, setsize := a[0], a[1], a[2], a[3]
	if !validSignal(sig) || setsize != 8 {
		return 0, abi.EINVAL
	}
	// struct sigaction: handler, flags, [restorer,] mask.
	size := uint64(24)
	if t.k.abi.SigactionRestorer {
		size = 32
	}
	act := &t.proc.sig.act[sig]
	if oldAddr != 0 {
		b := make([]byte, size)
		le.PutUint64(b[0:], act.handler)
		le.PutUint64(b[8:], act.flags)
		if t.k.abi.SigactionRestorer {
			le.PutUint64(b[16:], act.restorer)
		}
		le.PutUint64(b[size-8:], uint64(act.mask))
		if err := t.copyOut(oldAddr, b); err != nil {
			return 0, err
		}
	}
	if newAddr != 0 {
		if sig == abi.SIGKILL || sig == abi.SIGSTOP {
			return 0, abi.EINVAL
		}
		b := make([]byte, size)
		if err := t.copyIn(newAddr, b); err != nil {
			return 0, err
		}
		na := sigAction{handler: le.Uint64(b[0:]), flags: le.Uint64(b[8:]), mask: abi.SigSet(le.Uint64(b[size-8:])) &^ abi.Unblockable}
		if t.k.abi.SigactionRestorer {
			na.restorer = le.Uint64(b[16:])
		}
		*act = na
		// Setting a signal to be ignored discards it if pending.
		if t.proc.ignored(int(sig)) {
			discardSignal(&t.proc.pending, t.proc.queued, int(sig))
			for _, th := range t.proc.threads {
				discardSignal(&th.pending, th.queued, int(sig))
			}
		}
	}
	return 0, nil
}

func sysRtSigprocmask(t *Task, a args) (uint64, error) {
	how, setAddr, oldAddr, setsize := a[0], a[1], a[2], a[3]
	if setsize != 8 {
		return 0, abi.EINVAL
	}
	old := t.mask
	if setAddr != 0 {
		v, err := t.readU64(setAddr)
		if err != nil {
			return 0, err
		}
		set := abi.SigSet(v)
		switch how {
		case abi.SIG_BLOCK:
			t.mask |= set
		case abi.SIG_UNBLOCK:
			t.mask &^= set
		case abi.SIG_SETMASK:
			t.mask = set
		default:
			return 0, abi.EINVAL
		}
		t.mask &^= abi.Unblockable
	}
	if oldAddr != 0 {
		if err := t.writeU64(oldAddr, uint64(old)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysRtSigpending(t *Task, a args) (uint64, error) {
	if a[1] != 8 {
		return 0, abi.EINVAL
	}
	return 0, t.writeU64(a[0], uint64((t.pending|t.proc.pending)&t.mask))
}

func sysRtSigsuspend(t *Task, a args) (uint64, error) {
	if a[1] != 8 {
		return 0, abi.EINVAL
	}
	if t.resume == nil {
		v, err := t.readU64(a[0])
		if err != nil {
			return 0, err
		}
		t.savedMask, t.hasSavedMask = t.mask, true
		t.mask = abi.SigSet(v) &^ abi.Unblockable
	}
	// Only a signal ends the wait: interrupt() answers EINTR and the
	// handler's frame restores the saved mask on return.
	return 0, t.block(&waitState{noRestart: true})
}

func sysRtSigreturn(t *Task, a args) (uint64, error) {
	mask, err := t.ctx.PopSignalFrame()
	if err != nil {
		t.k.forceSignal(t, abi.SIGSEGV, sigInfo{code: abi.SI_USER})
		return 0, errNoReturn
	}
	t.mask = abi.SigSet(mask) &^ abi.Unblockable
	return 0, errNoReturn
}

func sysSigaltstack(t *Task, a args) (uint64, error) {
	if a[1] != 0 {
		var b [24]byte
		le.PutUint64(b[0:], t.altSP)
		flags := t.altFlags
		sp := t.ctx.StackPointer()
		if t.altSize != 0 && sp > t.altSP && sp <= t.altSP+t.altSize {
			flags = abi.SS_ONSTACK
		} else if t.altSize == 0 {
			flags = abi.SS_DISABLE
		}
		le.PutUint32(b[8:], uint32(flags))
		le.PutUint64(b[16:], t.altSize)
		if err := t.copyOut(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	if a[0] != 0 {
		var b [24]byte
		if err := t.copyIn(a[0], b[:]); err != nil {
			return 0, err
		}
		flags := uint64(le.Uint32(b[8:]))
		if flags&^abi.SS_DISABLE != 0 && flags != 1<<31 {
			return 0, abi.EINVAL
		}
		if flags&abi.SS_DISABLE != 0 {
			t.altSP, t.altSize, t.altFlags = 0, 0, abi.SS_DISABLE
			return 0, nil
		}
		size := le.Uint64(b[16:])
		if size < 2048 {
			return 0, abi.ENOMEM
		}
		t.altSP, t.altSize, t.altFlags = le.Uint64(b[0:]), size, 0
	}
	return 0, nil
}

func sysRtSigtimedwait(t *Task, a args) (uint64, error) {
	if a[3] != 8 {
		return 0, abi.EINVAL
	}
	v, err := t.readU64(a[0])
	if err != nil {
		return 0, err
	}
	set := abi.SigSet(v)
	pending := (t.pending | t.proc.pending) & set
	if pending != 0 {
		sig := 1
		for pending&abi.Bit(sig) == 0 {
			sig++
		}
		info := t.take(sig)
		if a[1] != 0 {
			b := info.encode(sig)
			if err := t.copyOut(a[1], b[:]); err != nil {
				return 0, err
			}
		}
		return uint64(sig), nil
	}
	if t.resume != nil && t.resume.timedOut {
		return 0, abi.EAGAIN
	}
	w := &waitState{noRestart: true, ready: func() bool { return (t.pending|t.proc.pending)&set != 0 }}
	if t.resume != nil {
		w.deadline = t.resume.deadline
	} else if a[2] != 0 {
		d, err := t.readTimespec(a[2])
		if err != nil {
			return 0, err
		}
		if d == 0 {
			return 0, abi.EAGAIN
		}
		w.deadline = t.k.cfg.Clock().Add(d)
	}
	return 0, t.block(w)
}

// signalTargets resolves kill's pid argument.
func (t *Task) signalTargets(pid int) []*Process {
	var out []*Process
	for _, p := range t.k.procList() {
		if p.zombie {
			continue
		}
		switch {
		case pid > 0 && p.pid == pid,
			pid == 0 && p.pgid == t.proc.pgid,
			pid == -1 && p.pid != 1 && p != t.proc,
			pid < -1 && p.pgid == -pid:
			out = append(out, p)
		}
	}
	return out
}

func sysKill(t *Task, a args) (uint64, error) {
	pid, sig := int(int32(a[0])), a[1]
	if sig != 0 && !validSignal(sig) {
		return 0, abi.EINVAL
	}
	targets := t.signalTargets(pid)
	if len(targets) == 0 {
		return 0, abi.ESRCH
	}
	// Like kill(2), succeed if any target may be signalled and fail with
	// EPERM only when none may.
	allowed := 0
	for _, p := range targets {
		if !t.proc.cred.maySignal(t.proc, p, int(sig)) {
			continue
		}
		allowed++
		if sig != 0 {
			t.k.sendSignal(p, int(sig), sigInfo{code: abi.SI_USER, pid: int32(t.proc.pid), uid: t.proc.cred.ruid})
		}
	}
	if allowed == 0 {
		return 0, abi.EPERM
	}
	return 0, nil
}

func sysTgkill(t *Task, a args) (uint64, error) {
	return t.tkill(int(int32(a[0])), int(int32(a[1])), a[2])
}

func sysTkill(t *Task, a args) (uint64, error) {
	return t.tkill(-1, int(int32(a[0])), a[1])
}

func (t *Task) tkill(tgid, tid int, sig uint64) (uint64, error) {
	if tid <= 0 || (sig != 0 && !validSignal(sig)) {
		return 0, abi.EINVAL
	}
	target := t.k.taskByTID(tid)
	if target == nil || (tgid > 0 && target.proc.pid != tgid) {
		return 0, abi.ESRCH
	}
	if !t.proc.cred.maySignal(t.proc, target.proc, int(sig)) {
		return 0, abi.EPERM
	}
	if sig != 0 {
		t.k.sendThreadSignal(target, int(sig), sigInfo{code: abi.SI_TKILL, pid: int32(t.proc.pid), uid: t.proc.cred.ruid})
	}
	return 0, nil
}

// sysRtSigqueueinfo sends a signal with the caller's siginfo (sigqueue(3):
// its si_value) to a process.
func sysRtSigqueueinfo(t *Task, a args) (uint64, error) {
	pid, sig := int(int32(a[0])), a[1]
	info, err := t.queuedInfo(pid, sig, a[2])
	if err != nil {
		return 0, err
	}
	p := t.k.process(pid)
	if pid <= 0 || p == nil || p.zombie {
		return 0, abi.ESRCH
	}
	if !t.proc.cred.maySignal(t.proc, p, int(sig)) {
		return 0, abi.EPERM
	}
	if sig != 0 && !t.k.sendSignal(p, int(sig), info) {
		return 0, abi.EAGAIN
	}
	return 0, nil
}

// sysRtTgsigqueueinfo is rt_sigqueueinfo to one thread.
func sysRtTgsigqueueinfo(t *Task, a args) (uint64, error) {
	tgid, tid, sig := int(int32(a[0])), int(int32(a[1])), a[2]
	if tgid <= 0 || tid <= 0 {
		return 0, abi.EINVAL
	}
	info, err := t.queuedInfo(tgid, sig, a[3])
	if err != nil {
		return 0, err
	}
	target := t.k.taskByTID(tid)
	if target == nil || target.proc.pid != tgid {
		return 0, abi.ESRCH
	}
	if !t.proc.cred.maySignal(t.proc, target.proc, int(sig)) {
		return 0, abi.EPERM
	}
	if sig != 0 && !t.k.sendThreadSignal(target, int(sig), info) {
		return 0, abi.EAGAIN
	}
	return 0, nil
}

// queuedInfo reads the siginfo a sigqueue caller gives. Only a process
// signalling itself may claim a code the kernel uses (>= 0, or SI_TKILL);
// the rest (si_pid, si_uid, si_value) is passed on as given.
func (t *Task) queuedInfo(pid int, sig, addr uint64) (sigInfo, error) {
	if sig != 0 && !validSignal(sig) {
		return sigInfo{}, abi.EINVAL
	}
	var b [128]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return sigInfo{}, err
	}
	code := int32(le.Uint32(b[8:]))
	if (code >= 0 || code == abi.SI_TKILL) && pid != t.proc.pid {
		return sigInfo{}, abi.EPERM
	}
	return sigInfo{code: code, pid: int32(le.Uint32(b[16:])), uid: le.Uint32(b[20:]), value: le.Uint64(b[24:])}, nil
}
