package linux

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/arch"
)

var signalNames = [...]string{"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
	"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",
	"SIGIO", "SIGPWR", "SIGSYS"}

func signalName(sig int) string {
	if sig > 0 && sig < len(signalNames) {
		return signalNames[sig]
	}
	return fmt.Sprintf("SIGRT%d", sig-abi.SIGRTMIN)
}

// ignored reports whether sig would be discarded by p right now.
func (p *Process) ignored(sig int) bool {
	act := p.sig.act[sig]
	switch act.handler {
	case abi.SIG_IGN:
		return sig != abi.SIGKILL && sig != abi.SIGSTOP
	case abi.SIG_DFL:
		d := abi.DefaultActionOf(sig)
		return d == abi.ActIgnore || d == abi.ActContinue
	}
	return false
}

// stopSignals are the signals whose default action stops a process.
const stopSignals = abi.SigSet(1<<(abi.SIGSTOP-1) | 1<<(abi.SIGTSTP-1) | 1<<(abi.SIGTTIN-1) | 1<<(abi.SIGTTOU-1))

// stopProcess stops every thread of p (a stop signal's default action)
// and tells the parent.
func (k *Kernel) stopProcess(p *Process, sig int) {
	p.stopped, p.stopSig, p.stopReport, p.contReport = true, sig, true, false
	k.notifyParent(p, abi.CLD_STOPPED, int32(sig))
}

// continueProcess resumes a stopped process (SIGCONT, whatever its
// handler) and tells the parent.
func (k *Kernel) continueProcess(p *Process) {
	p.pending &^= stopSignals
	for _, t := range p.threads {
		t.pending &^= stopSignals
	}
	if !p.stopped {
		return
	}
	p.stopped, p.stopReport, p.contReport = false, false, true
	k.notifyParent(p, abi.CLD_CONTINUED, abi.SIGCONT)
}

// notifyParent sends SIGCHLD for a stop or continue, unless the parent
// asked not to hear about those (SA_NOCLDSTOP).
func (k *Kernel) notifyParent(p *Process, code, status int32) {
	parent := p.parent
	if parent == nil || parent.zombie || parent.sig.act[abi.SIGCHLD].flags&abi.SA_NOCLDSTOP != 0 {
		return
	}
	k.sendSignal(parent, abi.SIGCHLD, sigInfo{code: code, pid: int32(p.pid), status: status})
}

// sendSignal queues a process-directed signal. Signals the process
// ignores are dropped at once unless every thread blocks them, like
// Linux. False when a real-time signal finds its queue full.
func (k *Kernel) sendSignal(p *Process, sig int, info sigInfo) bool {
	if p.zombie || p.exiting || sig <= 0 || sig > abi.NSIG {
		return true
	}
	if sig == abi.SIGKILL {
		k.exitProcess(p, abi.SIGKILL)
		return true
	}
	switch {
	case sig == abi.SIGCONT:
		k.continueProcess(p)
	case stopSignals&abi.Bit(sig) != 0:
		p.pending &^= abi.Bit(abi.SIGCONT)
	}
	if p.ignored(sig) && !p.allBlock(sig) {
		return true
	}
	return queueSignal(&p.pending, &p.info, &p.queued, sig, info)
}

func (p *Process) allBlock(sig int) bool {
	for _, t := range p.threads {
		if t.mask&abi.Bit(sig) == 0 {
			return false
		}
	}
	return len(p.threads) > 0
}

// sendThreadSignal queues a signal for one thread (tgkill, faults).
// False when a real-time signal finds its queue full.
func (k *Kernel) sendThreadSignal(t *Task, sig int, info sigInfo) bool {
	p := t.proc
	if p.zombie || p.exiting || t.exited || sig <= 0 || sig > abi.NSIG {
		return true
	}
	if sig == abi.SIGKILL {
		k.exitProcess(p, abi.SIGKILL)
		return true
	}
	if p.ignored(sig) && t.mask&abi.Bit(sig) == 0 {
		return true
	}
	return queueSignal(&t.pending, &t.info, &t.queued, sig, info)
}

// forceSignal raises a synchronous signal (a CPU fault): if the thread
// blocks or ignores it, the default action applies, as in Linux.
func (k *Kernel) forceSignal(t *Task, sig int, info sigInfo) {
	act := &t.proc.sig.act[sig]
	if act.handler == abi.SIG_IGN || t.mask&abi.Bit(sig) != 0 {
		*act = sigAction{}
		t.mask &^= abi.Bit(sig)
	}
	t.info[sig] = info
	t.pending |= abi.Bit(sig)
	k.deliverSignals(t)
}

// deliverable returns the lowest pending signal t does not block, or 0.
func (t *Task) deliverable() int {
	set := (t.pending | t.proc.pending) &^ t.mask
	if set == 0 {
		return 0
	}
	return bits.TrailingZeros64(uint64(set)) + 1
}

// take removes sig from t's pending sets and returns its payload.
func (t *Task) take(sig int) sigInfo {
	if t.pending&abi.Bit(sig) != 0 {
		return dequeueSignal(&t.pending, &t.info, t.queued, sig)
	}
	return dequeueSignal(&t.proc.pending, &t.proc.info, t.proc.queued, sig)
}

// interrupt ends t's blocking system call because a signal arrived: a
// handler installed with SA_RESTART re-executes it afterwards (the
// program counter still points at it), otherwise it fails with EINTR.
func (k *Kernel) interrupt(t *Task) {
	w := t.blocked
	t.abandonWait()
	sig := t.deliverable()
	act := t.proc.sig.act[sig]
	if act.handler == abi.SIG_DFL || act.handler == abi.SIG_IGN {
		return
	}
	if act.flags&abi.SA_RESTART != 0 && w.ready != nil && !w.noRestart {
		return
	}
	t.ctx.SetReturn(errnoReturn(abi.EINTR))
	t.ctx.SkipSyscall()
	if k.cfg.Trace != nil {
		fmt.Fprintf(k.cfg.Trace, "[pid %d] <... interrupted> = -1 EINTR\n", t.tid)
	}
}

// deliverSignals acts on t's deliverable signals: default actions, or a
// frame for the handler.
func (k *Kernel) deliverSignals(t *Task) {
	for !t.exited && t.blocked == nil {
		sig := t.deliverable()
		if sig == 0 {
			return
		}
		info := t.take(sig)
		p := t.proc
		act := p.sig.act[sig]
		switch act.handler {
		case abi.SIG_IGN:
			continue
		case abi.SIG_DFL:
			switch abi.DefaultActionOf(sig) {
			case abi.ActIgnore, abi.ActContinue:
				continue
			case abi.ActStop:
				k.stopProcess(p, sig)
				return
			}
			if k.cfg.Trace != nil {
				fmt.Fprintf(k.cfg.Trace, "[pid %d] +++ killed by %s +++\n", t.tid, signalName(sig))
			}
			k.exitProcess(p, sig)
			return
		}
		if err := k.pushFrame(t, sig, info, act); err != nil {
			k.exitProcess(p, abi.SIGSEGV)
			return
		}
	}
}

// encode returns the siginfo_t of sig carrying info, with the union
// member Linux fills for it: the faulting address, the descriptor and band
// of signal-driven I/O, or the sender (and a child's status).
func (info sigInfo) encode(sig int) [128]byte {
	var b [128]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(sig))
	le.PutUint32(b[8:], uint32(info.code))
	switch {
	case sig == abi.SIGSEGV || sig == abi.SIGBUS || sig == abi.SIGILL || sig == abi.SIGTRAP || sig == abi.SIGFPE:
		le.PutUint64(b[16:], info.addr)
	case info.poll:
		le.PutUint64(b[16:], uint64(info.band))
		le.PutUint32(b[24:], uint32(info.fd))
	default:
		le.PutUint32(b[16:], uint32(info.pid))
		le.PutUint32(b[20:], info.uid)
		if sig == abi.SIGCHLD {
			le.PutUint32(b[24:], uint32(info.status))
		} else {
			le.PutUint64(b[24:], info.value)
		}
	}
	return b
}

func (k *Kernel) pushFrame(t *Task, sig int, info sigInfo, act sigAction) error {
	f := arch.SignalFrame{Signal: sig, Handler: act.handler, Restorer: vdsoAddr, SavedMask: uint64(t.mask),
		AltSP: t.altSP, AltSize: t.altSize, AltFlags: t.altFlags, SigInfo: act.flags&abi.SA_SIGINFO != 0}
	if act.flags&abi.SA_RESTORER != 0 && act.restorer != 0 {
		f.Restorer = act.restorer
	}
	if t.hasSavedMask {
		f.SavedMask = uint64(t.savedMask)
		t.hasSavedMask = false
	}
	sp := t.ctx.StackPointer()
	onAlt := t.altSize != 0 && sp > t.altSP && sp <= t.altSP+t.altSize
	if act.flags&abi.SA_ONSTACK != 0 && t.altFlags&abi.SS_DISABLE == 0 && t.altSize != 0 && !onAlt {
		f.StackTop = t.altSP + t.altSize
		f.AltFlags = 0
	}
	f.Info = info.encode(sig)
	// The frame is written through populate-aware copies: touch its pages
	// first so an untouched stack page does not look like a bad frame.
	top := sp
	if f.StackTop != 0 {
		top = f.StackTop
	}
	for a := (top - 2048) &^ pageMask; a < top; a += pageSize {
		if _, ok := t.proc.mm.mem.Mapping(a); !ok {
			t.proc.mm.populate(a)
		}
	}
	if err := t.ctx.PushSignalFrame(&f); err != nil {
		return err
	}
	t.mask |= act.mask
	if act.flags&abi.SA_NODEFER == 0 {
		t.mask |= abi.Bit(sig)
	}
	t.mask &^= abi.Unblockable
	if act.flags&abi.SA_RESETHAND != 0 {
		t.proc.sig.act[sig] = sigAction{}
	}
	if k.cfg.Trace != nil {
		fmt.Fprintf(k.cfg.Trace, "[pid %d] --- %s {si_code=%d} ---\n", t.tid, signalName(sig), info.code)
	}
	return nil
}

// checkAlarms raises SIGALRM for due alarm(2) timers.
func (k *Kernel) checkAlarms() {
	now := k.cfg.Clock()
	for _, p := range k.procs {
		if !p.alarm.IsZero() && !now.Before(p.alarm) {
			p.alarm = time.Time{}
			k.sendSignal(p, abi.SIGALRM, sigInfo{code: 0x80})
		}
	}
}

// exitProcess ends every thread of p with wait status ws (exit code << 8,
// or the killing signal), makes it a zombie and notifies the parent.
func (k *Kernel) exitProcess(p *Process, ws int) {
	if p.zombie {
		return
	}
	p.exiting = true
	for _, t := range p.threads {
		t.exited = true
		t.abandonWait()
		p.cpuGone.add(t.cpu)
	}
	p.threads = nil
	p.waitStatus = ws
	k.releaseResources(p)
	p.zombie = true
	p.vforkParent = nil
	for _, c := range p.children {
		c.parent = k.init
		if k.init != nil && k.init != p {
			k.init.children = append(k.init.children, c)
		}
	}
	p.children = nil
	if p == k.init {
		k.done = true
		k.status = exitStatus(ws)
		return
	}
	parent := p.parent
	if parent == nil || parent.zombie {
		k.reap(p)
		return
	}
	info := sigInfo{code: abi.CLD_EXITED, pid: int32(p.pid), status: int32(ws >> 8 & 0xff)}
	if ws&0x7f != 0 {
		info.code, info.status = abi.CLD_KILLED, int32(ws&0x7f)
	}
	act := parent.sig.act[abi.SIGCHLD]
	if p.exitSignal == abi.SIGCHLD && (act.handler == abi.SIG_IGN || act.flags&abi.SA_NOCLDWAIT != 0) {
		k.reap(p)
		return
	}
	if p.exitSignal != 0 {
		k.sendSignal(parent, p.exitSignal, info)
	}
}

// releaseResources drops p's address space, files and working directory.
func (k *Kernel) releaseResources(p *Process) {
	if p.mm != nil {
		p.mm.release()
		p.mm = nil
	}
	if p.files != nil {
		p.files.users--
		if p.files.users == 0 {
			p.files.closeAll()
		}
		p.files = nil
	}
}

// reap removes a zombie for good.
func (k *Kernel) reap(p *Process) {
	delete(k.procs, p.pid)
	if p.parent != nil {
		p.parent.cpuChildren.add(p.cpu())
		p.parent.cpuChildren.add(p.cpuChildren)
		cs := p.parent.children
		for i, c := range cs {
			if c == p {
				p.parent.children = append(cs[:i], cs[i+1:]...)
				break
			}
		}
	}
}

// exitThread ends one thread (exit(2)); the last one ends the process.
func (k *Kernel) exitThread(t *Task, code int) {
	p := t.proc
	t.exited = true
	t.abandonWait()
	if t.clearTID != 0 && p.mm != nil {
		var zero [4]byte
		if p.mm.copyOut(t.clearTID, zero[:]) == nil {
			k.futexWake(p.mm, t.clearTID, 1, abi.FUTEX_BITSET_MATCHANY)
		}
	}
	for i, o := range p.threads {
		if o == t {
			p.threads = append(p.threads[:i], p.threads[i+1:]...)
			p.cpuGone.add(t.cpu)
			break
		}
	}
	if len(p.threads) == 0 {
		k.exitProcess(p, (code&0xff)<<8)
	}
}
