package linux

import (
	"sync"
	"sync/atomic"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// This file holds the kernel's half of terminals: controlling terminals
// of sessions, job-control signals from the line discipline, and the
// terminal ioctls. The line discipline and ptys live in vfs.

// attachTerminals wires the namespace's terminal hooks to the kernel.
func (k *Kernel) attachTerminals(console *vfs.TTY) {
	k.cttys = make(map[int]*vfs.TTY)
	k.fs.TerminalSignal = k.terminalSignal
	k.fs.ControllingTerminal = func() *vfs.TTY {
		if k.current == nil {
			return nil
		}
		return k.ctty(k.current.proc)
	}
	if console != nil {
		k.console = console
		console.Signal = func(sig int) { k.terminalSignal(console, sig) }
	}
}

// ctty returns p's controlling terminal, nil for none.
func (k *Kernel) ctty(p *Process) *vfs.TTY {
	if tty := k.cttys[p.sid]; tty != nil && tty.Session == p.sid {
		return tty
	}
	return nil
}

// setCtty makes tty the controlling terminal of p's session, with p's
// group in the foreground.
func (k *Kernel) setCtty(p *Process, tty *vfs.TTY) {
	if old := k.cttys[tty.Session]; old == tty {
		delete(k.cttys, tty.Session)
	}
	k.cttys[p.sid] = tty
	tty.Session, tty.Foreground = p.sid, p.pgid
}

// openedTerminal applies open(2)'s rule: a session leader without a
// controlling terminal acquires a terminal it opens without O_NOCTTY
// that no other session has.
func (k *Kernel) openedTerminal(p *Process, d *vfs.Description, flags uint32) {
	tty, ok := vfs.TTYOf(d.File)
	if !ok || flags&abi.O_NOCTTY != 0 || p.sid != p.pid || tty.Session != 0 || k.ctty(p) != nil {
		return
	}
	if _, master := vfs.PTYMaster(d.File); master {
		return
	}
	k.setCtty(p, tty)
}

// terminalSignal sends a line discipline's signal: to the foreground
// group, or at hangup SIGHUP and SIGCONT to the controlling session's
// leader, which loses the terminal.
func (k *Kernel) terminalSignal(tty *vfs.TTY, sig int) {
	info := sigInfo{code: abi.SI_KERNEL}
	if sig == abi.SIGHUP {
		if tty.Session == 0 {
			return
		}
		if leader := k.procs[tty.Session]; leader != nil && leader.sid == tty.Session {
			k.sendSignal(leader, abi.SIGHUP, info)
			k.sendSignal(leader, abi.SIGCONT, info)
		}
		delete(k.cttys, tty.Session)
		tty.Session, tty.Foreground = 0, 0
		return
	}
	k.signalGroup(tty.Foreground, sig, info)
}

// setWindow gives tty a window size; a change sends SIGWINCH to its
// foreground group.
func (k *Kernel) setWindow(tty *vfs.TTY, rows, cols uint16) {
	if rows != tty.Rows || cols != tty.Cols {
		tty.Rows, tty.Cols = rows, cols
		k.signalGroup(tty.Foreground, abi.SIGWINCH, sigInfo{code: abi.SI_KERNEL})
	}
}

// consoleResize carries window sizes from the host to the machine's
// goroutine.
type consoleResize struct {
	pending    atomic.Bool
	mu         sync.Mutex
	rows, cols uint16
	// wake ends a wait for the host (waitForHost) when a size arrives.
	wake chan struct{}
}

// ResizeConsole gives the console a new window size, as a host terminal's
// resize does: when the size changed, the foreground process group gets
// SIGWINCH. It may be called from any goroutine while the machine runs;
// the size takes effect at the next scheduling round. Without a console
// (Config.Terminal) it has no effect.
func (k *Kernel) ResizeConsole(rows, cols uint16) {
	r := &k.resize
	r.mu.Lock()
	r.rows, r.cols = rows, cols
	r.pending.Store(true)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// applyResize applies the host's latest window size, if one came.
func (k *Kernel) applyResize() {
	r := &k.resize
	if !r.pending.Load() {
		return
	}
	r.mu.Lock()
	rows, cols := r.rows, r.cols
	r.pending.Store(false)
	r.mu.Unlock()
	if k.console != nil {
		k.setWindow(k.console, rows, cols)
	}
}

func (k *Kernel) signalGroup(pgid, sig int, info sigInfo) {
	if pgid <= 0 {
		return
	}
	for _, p := range k.procs {
		if p.pgid == pgid {
			k.sendSignal(p, sig, info)
		}
	}
}

// ttyIoctl serves terminal requests on a console, pty slave or pty
// master (f), acting on tty, the terminal behind it.
func (t *Task) ttyIoctl(f vfs.File, tty *vfs.TTY, req, arg uint64) (uint64, error) {
	k, p := t.k, t.proc
	pty, master := vfs.PTYMaster(f)
	isCtty := k.ctty(p) == tty
	switch req {
	case abi.TCGETS:
		return 0, t.copyOut(arg, tty.Termios[:])
	case abi.TCSETS, abi.TCSETSW, abi.TCSETSF:
		var b [vfs.TermiosSize]byte
		if err := t.copyIn(arg, b[:]); err != nil {
			return 0, err
		}
		if req == abi.TCSETSF {
			tty.FlushInput()
		}
		tty.SetTermios(b)
		return 0, nil
	case abi.TIOCGWINSZ:
		var b [8]byte
		le.PutUint16(b[0:], tty.Rows)
		le.PutUint16(b[2:], tty.Cols)
		return 0, t.copyOut(arg, b[:])
	case abi.TIOCSWINSZ:
		var b [8]byte
		if err := t.copyIn(arg, b[:]); err != nil {
			return 0, err
		}
		k.setWindow(tty, le.Uint16(b[0:]), le.Uint16(b[2:]))
		return 0, nil
	case abi.TIOCGPGRP:
		if !master && !isCtty {
			return 0, abi.ENOTTY
		}
		return 0, t.writeU32(arg, uint32(tty.Foreground))
	case abi.TIOCSPGRP:
		if !isCtty || tty.Session != p.sid {
			return 0, abi.ENOTTY
		}
		v, err := t.readU32(arg)
		if err != nil {
			return 0, err
		}
		pgid := int(int32(v))
		if pgid < 0 {
			return 0, abi.EINVAL
		}
		var member *Process
		for _, o := range k.procs {
			if o.pgid == pgid && !o.zombie {
				member = o
				break
			}
		}
		if member == nil {
			return 0, abi.ESRCH
		}
		if member.sid != p.sid {
			return 0, abi.EPERM
		}
		tty.Foreground = pgid
		return 0, nil
	case abi.TIOCSCTTY:
		if isCtty {
			return 0, nil
		}
		if p.sid != p.pid || k.ctty(p) != nil {
			return 0, abi.EPERM
		}
		if tty.Session != 0 {
			// Stealing another session's terminal takes root and arg 1.
			if arg != 1 || p.cred.euid != 0 {
				return 0, abi.EPERM
			}
			delete(k.cttys, tty.Session)
		}
		k.setCtty(p, tty)
		return 0, nil
	case abi.TIOCNOTTY:
		if !isCtty {
			return 0, abi.ENOTTY
		}
		if p.sid == p.pid {
			info := sigInfo{code: abi.SI_KERNEL}
			k.signalGroup(tty.Foreground, abi.SIGHUP, info)
			k.signalGroup(tty.Foreground, abi.SIGCONT, info)
			delete(k.cttys, p.sid)
			tty.Session, tty.Foreground = 0, 0
		}
		return 0, nil
	case abi.TIOCGSID:
		if !isCtty && !master {
			return 0, abi.ENOTTY
		}
		if tty.Session == 0 {
			return 0, abi.ENOTTY
		}
		return 0, t.writeU32(arg, uint32(tty.Session))
	case abi.TCFLSH:
		in, out := arg == abi.TCIFLUSH || arg == abi.TCIOFLUSH, arg == abi.TCOFLUSH || arg == abi.TCIOFLUSH
		if arg > abi.TCIOFLUSH {
			return 0, abi.EINVAL
		}
		if master {
			// The master's input is the slave's output and vice versa.
			in, out = out, in
		}
		if in {
			tty.FlushInput()
		}
		if out && pty != nil {
			pty.FlushScreen()
		} else if out && !master {
			if sp, ok := vfs.PTYOfSlave(f); ok {
				sp.FlushScreen()
			}
		}
		return 0, nil
	case abi.TIOCOUTQ:
		return 0, t.writeU32(arg, 0)
	case abi.TCSBRK, abi.TCSBRKP, abi.TIOCSBRK, abi.TIOCCBRK:
		// A break is a serial line's; a pty or the console has none.
		return 0, nil
	case abi.TCXONC:
		switch arg {
		case abi.TCOOFF, abi.TCOON:
			if !master {
				tty.Stopped = arg == abi.TCOOFF
			}
		case abi.TCIOFF, abi.TCION:
			// Transmit the STOP or START character to the other side.
			if !master {
				slot := vfs.CCStop
				if arg == abi.TCION {
					slot = vfs.CCStart
				}
				tty.Transmit(slot)
			}
		default:
			return 0, abi.EINVAL
		}
		return 0, nil
	case abi.TIOCGPTN, abi.TIOCSPTLCK, abi.TIOCGPTLCK:
		if !master {
			return 0, abi.ENOTTY
		}
		switch req {
		case abi.TIOCGPTN:
			return 0, t.writeU32(arg, uint32(tty.Index))
		case abi.TIOCGPTLCK:
			return 0, t.writeU32(arg, boolU32(pty.Locked))
		}
		v, err := t.readU32(arg)
		if err != nil {
			return 0, err
		}
		pty.Locked = v != 0
		return 0, nil
	}
	return 0, abi.ENOTTY
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
