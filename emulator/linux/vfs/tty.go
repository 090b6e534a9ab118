package vfs

import (
	"encoding/binary"
	"io"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// TTY is a terminal: its termios settings, window size, foreground
// process group and controlling session, and the N_TTY line discipline
// between the keyboard (Receive) and the reader (Read), and between the
// writer (Write) and the screen (Screen). The machine's console and
// every pseudo-terminal slave is one.
type TTY struct {
	// Termios is the kernel's struct termios (asm-generic layout); change
	// it with SetTermios so pending input follows ICANON.
	Termios [TermiosSize]byte
	// Rows and Cols are the window size (TIOCGWINSZ).
	Rows, Cols uint16
	// Foreground is the foreground process group (TIOCGPGRP).
	Foreground int
	// Session is the session the terminal controls, 0 for none.
	Session int
	// Screen receives output-processed bytes: program output and echo.
	Screen func([]byte)
	// Signal asks the kernel to send sig to the foreground process
	// group (signal characters); SIGHUP means the terminal hung up and
	// goes to the controlling session's leader.
	Signal func(sig int)
	// Index is the pts number (/dev/pts/Index).
	Index int
	// HungUp is set once the terminal's other side is gone.
	HungUp bool
	// Stopped is set while output is suspended (tcflow TCOOFF, or IXON's
	// VSTOP character typed): writers wait until TCOON or VSTART.
	Stopped bool

	ld lineDiscipline
	// source, for the console, is the host input typed at it.
	source *HostInput
	// pty is the pseudo-terminal pair a slave belongs to.
	pty *PTY
}

// TermiosSize is the size of struct termios.
const TermiosSize = 36

// NewTTY returns a terminal in the state Linux gives a fresh pty: cooked
// mode with echo and signals, 8-bit characters, the usual control keys.
func NewTTY(rows, cols uint16) *TTY {
	t := &TTY{Rows: rows, Cols: cols}
	le := binary.LittleEndian
	const (
		icrnl, ixon, iutf8             = 0o400, 0o2000, 0o40000
		opost, onlcr                   = 0o1, 0o4
		b38400, cs8, cread             = 0o17, 0o60, 0o200
		isig, icanon, echo, echoe      = 0o1, 0o2, 0o10, 0o20
		echok, echoctl, echoke, iexten = 0o40, 0o1000, 0o4000, 0o100000
	)
	le.PutUint32(t.Termios[0:], icrnl|ixon|iutf8)
	le.PutUint32(t.Termios[4:], opost|onlcr)
	le.PutUint32(t.Termios[8:], b38400|cs8|cread)
	le.PutUint32(t.Termios[12:], isig|icanon|echo|echoe|echok|echoctl|echoke|iexten)
	// c_cc after c_line: VINTR ^C, VQUIT ^\, VERASE DEL, VKILL ^U, VEOF ^D,
	// VTIME 0, VMIN 1, VSWTC 0, VSTART ^Q, VSTOP ^S, VSUSP ^Z, VEOL 0,
	// VREPRINT ^R, VDISCARD ^O, VWERASE ^W, VLNEXT ^V.
	copy(t.Termios[17:], []byte{3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16})
	t.ld.canonical = true
	return t
}

// TTYOf returns the terminal behind a file, if it is one: the console,
// a pty slave, or a pty master (whose termios and window requests act on
// its slave, as on Linux; PTYMaster tells it apart).
func TTYOf(f File) (*TTY, bool) {
	switch s := f.(type) {
	case *Stream:
		return s.TTY, s.TTY != nil
	case *ptySlave:
		return s.p.tty, true
	case *ptyMaster:
		return s.p.tty, true
	}
	return nil, false
}

// Pump feeds host input received so far through the console's line
// discipline, without waiting; signal characters take effect at once.
func (t *TTY) Pump() {
	h := t.source
	if h == nil {
		return
	}
	h.drain()
	if len(h.buf) > 0 {
		t.Receive(h.buf)
		h.buf = nil
	}
}

// consoleRead reads the console's input: end of file once the host input
// ended and nothing is left.
func (t *TTY) consoleRead(p []byte) (int, error) {
	t.Pump()
	n, err := t.Read(p)
	if h := t.source; err == ErrWouldBlock && (h == nil || h.r == nil || h.ended) {
		if h != nil && h.failed {
			h.failed = false
			return 0, abi.EIO
		}
		return t.ReadAvailable(p), nil
	}
	return n, err
}

// AttachConsole makes tty the machine's terminal: /dev/tty and the new
// /dev/pts/0 open it, typed input comes from r and the screen is w. The
// returned streams (standard input, output, error) report /dev/pts/0 in
// stat; output to all of them, standard error included, goes through
// the terminal's output processing onto w, as with a real terminal.
func (fs *FS) AttachConsole(tty *TTY, r *HostInput, w, e io.Writer) (in, out, errs *Stream, err error) {
	pts, err := fs.Lookup(fs.root, "/dev/pts", false)
	if err != nil {
		return nil, nil, nil, err
	}
	node, err := fs.Create(pts, "0", abi.S_IFCHR|0o620)
	if err != nil {
		return nil, nil, nil, err
	}
	node.rdev = devPTS0
	tty.source = r
	tty.Screen = func(b []byte) { w.Write(b) }
	fs.Console = &Stream{In: r, W: w, TTY: tty, Node: node}
	return &Stream{In: r, TTY: tty, Node: node}, &Stream{W: w, TTY: tty, Node: node}, &Stream{W: e, TTY: tty, Node: node}, nil
}
