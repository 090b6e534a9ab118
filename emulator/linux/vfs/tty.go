package vfs

import (
	"encoding/binary"
	"io"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// TTY is the terminal state of the machine's console when the host's
// standard streams are a terminal: the termios settings and window size
// programs query and set, and the foreground process group. The host
// terminal does the line editing and echo (it stays in its own mode), so
// this is the ioctl-visible half of a terminal, without a line
// discipline of its own.
type TTY struct {
	// Termios is the kernel's struct termios (asm-generic layout).
	Termios [TermiosSize]byte
	// Rows and Cols are the window size (TIOCGWINSZ).
	Rows, Cols uint16
	// Foreground is the foreground process group (TIOCGPGRP).
	Foreground int
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
	return t
}

// TTYOf returns the terminal behind a file, if it is one.
func TTYOf(f File) (*TTY, bool) {
	if s, ok := f.(*Stream); ok && s.TTY != nil {
		return s.TTY, true
	}
	return nil, false
}

// AttachConsole makes tty the machine's terminal: /dev/tty and the new
// /dev/pts/0 open it, and the returned streams (standard input, output,
// error, reading r and writing w and e) report /dev/pts/0 in stat.
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
	fs.Console = &Stream{In: r, W: w, TTY: tty, Node: node}
	return &Stream{In: r, TTY: tty, Node: node}, &Stream{W: w, TTY: tty, Node: node}, &Stream{W: e, TTY: tty, Node: node}, nil
}
