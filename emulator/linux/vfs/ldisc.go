package vfs

import (
	"encoding/binary"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// Termios flag bits and control character slots (asm-generic/termbits.h)
// the line discipline acts on.
const (
	tIGNBRK, tISTRIP, tINLCR, tIGNCR, tICRNL, tIXON, tIUTF8 = 0o1, 0o40, 0o100, 0o200, 0o400, 0o2000, 0o40000
	tOPOST, tONLCR, tOCRNL, tONOCR, tONLRET                 = 0o1, 0o4, 0o10, 0o20, 0o40
	tISIG, tICANON, tECHO, tECHOE, tECHOK, tECHONL          = 0o1, 0o2, 0o10, 0o20, 0o40, 0o100
	tNOFLSH, tECHOCTL, tECHOKE, tIEXTEN                     = 0o200, 0o1000, 0o4000, 0o100000
)

const (
	vINTR, vQUIT, vERASE, vKILL, vEOF, vTIME, vMIN = 0, 1, 2, 3, 4, 5, 6
	vSTART, vSTOP, vSUSP, vEOL, vREPRINT           = 8, 9, 10, 11, 12
	vWERASE, vLNEXT, vEOL2                         = 14, 15, 16
	// ccOffset is where c_cc starts in struct termios (after c_line).
	ccOffset = 17
)

// InputCapacity is how many received bytes a terminal holds for its
// reader (N_TTY_BUF_SIZE); a canonical line is at most one less, so a
// newline always fits.
const InputCapacity = 4096

// lineDiscipline is the N_TTY state of a terminal: the line being edited
// and the input its reader has not taken yet.
type lineDiscipline struct {
	// line is the canonical line being edited.
	line []byte
	// lines are finished canonical lines, each with its terminator (none
	// for VEOF, so an empty one reads as end of file).
	lines [][]byte
	// raw is non-canonical input.
	raw []byte
	// literal is set after VLNEXT: the next byte is taken as is.
	literal bool
	// column is the output column, for ONOCR and erasing tabs;
	// lineColumn the column the edited line started at.
	column, lineColumn int
	// canonical remembers ICANON as last seen, to move input over when
	// it changes.
	canonical bool
}

func (t *TTY) flag(off int) uint32 { return binary.LittleEndian.Uint32(t.Termios[off:]) }
func (t *TTY) iflag() uint32       { return t.flag(0) }
func (t *TTY) oflag() uint32       { return t.flag(4) }
func (t *TTY) lflag() uint32       { return t.flag(12) }
func (t *TTY) cc(i int) byte       { return t.Termios[ccOffset+i] }

// isCC reports whether c is the enabled control character in slot i (a
// slot holding 0, _POSIX_VDISABLE, matches nothing).
func (t *TTY) isCC(c byte, i int) bool { return c != 0 && t.cc(i) == c }

// SetTermios installs new settings, moving pending input between the
// canonical and raw queues when ICANON changes, as n_tty_set_termios
// does.
func (t *TTY) SetTermios(b [TermiosSize]byte) {
	t.Termios = b
	t.syncMode()
}

func (t *TTY) syncMode() {
	canon := t.lflag()&tICANON != 0
	if canon == t.ld.canonical {
		return
	}
	t.ld.canonical = canon
	if canon {
		// Input already received stays readable as one line.
		if len(t.ld.raw) > 0 {
			t.ld.lines = append(t.ld.lines, t.ld.raw)
			t.ld.raw = nil
		}
		return
	}
	for _, l := range t.ld.lines {
		t.ld.raw = append(t.ld.raw, l...)
	}
	t.ld.raw = append(t.ld.raw, t.ld.line...)
	t.ld.lines, t.ld.line = nil, nil
}

// FlushInput discards input not read yet (TCIFLUSH).
func (t *TTY) FlushInput() {
	t.ld.line, t.ld.lines, t.ld.raw, t.ld.literal = nil, nil, nil, false
}

// Buffered returns how many bytes a read could return now (FIONREAD).
func (t *TTY) Buffered() int {
	n := len(t.ld.raw)
	for _, l := range t.ld.lines {
		n += len(l)
	}
	return n
}

// inputRoom is how many more bytes the reader's queue accepts.
func (t *TTY) inputRoom() int { return max(InputCapacity-t.Buffered()-len(t.ld.line), 0) }

// Receive runs bytes typed at the terminal (host input, or a pty
// master's writes) through input processing: translation, signals, line
// editing and echo.
func (t *TTY) Receive(b []byte) {
	t.syncMode()
	for _, c := range b {
		t.receiveByte(c)
	}
}

func (t *TTY) receiveByte(c byte) {
	in, l := t.iflag(), t.lflag()
	if in&tISTRIP != 0 {
		c &= 0x7f
	}
	if t.ld.literal {
		t.ld.literal = false
		t.store(c, true)
		return
	}
	switch c {
	case '\r':
		if in&tIGNCR != 0 {
			return
		}
		if in&tICRNL != 0 {
			c = '\n'
		}
	case '\n':
		if in&tINLCR != 0 {
			c = '\r'
		}
	}
	if l&tISIG != 0 {
		for _, s := range [...]struct {
			slot, sig int
		}{{vINTR, abi.SIGINT}, {vQUIT, abi.SIGQUIT}, {vSUSP, abi.SIGTSTP}} {
			if t.isCC(c, s.slot) {
				t.interrupt(c, s.sig)
				return
			}
		}
	}
	// Flow control characters suspend and resume output.
	if in&tIXON != 0 && (t.isCC(c, vSTOP) || t.isCC(c, vSTART)) {
		t.Stopped = t.isCC(c, vSTOP)
		return
	}
	if l&tICANON == 0 {
		if t.inputRoom() > 0 {
			t.ld.raw = append(t.ld.raw, c)
		}
		if l&tECHO != 0 {
			t.echo(c)
		}
		return
	}
	t.canonicalByte(c)
}

// interrupt handles a signal character: flush (unless NOFLSH), echo,
// then tell the foreground process group.
func (t *TTY) interrupt(c byte, sig int) {
	if t.lflag()&tNOFLSH == 0 {
		t.FlushInput()
		// Output not yet taken by the other side goes too (a pty
		// master's unread bytes; a host screen has taken everything).
		if t.pty != nil {
			t.pty.FlushScreen()
		}
	}
	if t.lflag()&tECHO != 0 {
		t.echo(c)
	}
	if t.Signal != nil {
		t.Signal(sig)
	}
}

func (t *TTY) canonicalByte(c byte) {
	l := t.lflag()
	ext := l&tIEXTEN != 0
	switch {
	case t.isCC(c, vERASE), ext && t.isCC(c, vWERASE), t.isCC(c, vKILL):
		t.erase(c)
	case ext && t.isCC(c, vLNEXT):
		t.ld.literal = true
		if l&tECHO != 0 && l&tECHOCTL != 0 {
			t.output([]byte("^\b"))
		}
	case ext && t.isCC(c, vREPRINT):
		if l&tECHO != 0 {
			t.echo(c)
			t.output([]byte{'\n'})
			for _, b := range t.ld.line {
				t.echo(b)
			}
		}
	case t.isCC(c, vEOF):
		t.finishLine(nil)
	case c == '\n':
		if l&(tECHO|tECHONL) != 0 {
			t.output([]byte{'\n'})
		}
		t.finishLine([]byte{c})
	case t.isCC(c, vEOL), ext && t.isCC(c, vEOL2):
		if l&tECHO != 0 {
			t.echo(c)
		}
		t.finishLine([]byte{c})
	default:
		t.store(c, false)
	}
}

// store adds an ordinary byte to the line (canonical) or queue.
func (t *TTY) store(c byte, literal bool) {
	if t.lflag()&tICANON == 0 {
		if t.inputRoom() > 0 {
			t.ld.raw = append(t.ld.raw, c)
		}
	} else {
		if len(t.ld.line) >= InputCapacity-1 || t.inputRoom() <= 1 {
			return
		}
		if len(t.ld.line) == 0 {
			t.ld.lineColumn = t.ld.column
		}
		t.ld.line = append(t.ld.line, c)
	}
	if t.lflag()&tECHO != 0 {
		t.echo(c)
	}
}

func (t *TTY) finishLine(term []byte) {
	t.ld.lines = append(t.ld.lines, append(t.ld.line, term...))
	t.ld.line = nil
}

// erase handles VERASE (one character), VWERASE (a word) and VKILL (the
// line), echoing as ECHOE, ECHOK and ECHOKE ask.
func (t *TTY) erase(c byte) {
	l := t.lflag()
	kill, word := t.isCC(c, vKILL), t.isCC(c, vWERASE) && !t.isCC(c, vERASE)
	if len(t.ld.line) == 0 {
		return
	}
	if kill && l&tECHO != 0 && l&tECHOKE == 0 {
		// Without ECHOKE the line is not wiped visually: echo the kill
		// character and, with ECHOK, start a new line.
		t.ld.line = nil
		if l&tECHOK != 0 || l&tECHOE == 0 {
			t.echo(c)
		}
		if l&tECHOK != 0 {
			t.output([]byte{'\n'})
		}
		return
	}
	seenWord := false
	for len(t.ld.line) > 0 {
		i := len(t.ld.line) - 1
		if t.iflag()&tIUTF8 != 0 {
			for i > 0 && t.ld.line[i]&0xc0 == 0x80 {
				i--
			}
		}
		ch := t.ld.line[i]
		if word {
			isSpace := ch == ' ' || ch == '\t'
			if isSpace && seenWord {
				break
			}
			seenWord = seenWord || !isSpace
		}
		t.ld.line = t.ld.line[:i]
		if l&tECHO != 0 {
			if l&tECHOE != 0 {
				t.rubout(ch)
			} else {
				t.echo(c)
			}
		}
		if !kill && !word {
			break
		}
	}
}

// rubout wipes the echo of ch from the screen.
func (t *TTY) rubout(ch byte) {
	width := 1
	switch {
	case ch == '\t':
		// A tab's width depends on what precedes it: back up to where
		// the rest of the line ends.
		col := t.ld.lineColumn
		for _, b := range t.ld.line {
			switch {
			case b == '\t':
				col = (col | 7) + 1
			case (b < 0x20 || b == 0x7f) && t.lflag()&tECHOCTL != 0:
				col += 2
			case b&0xc0 != 0x80:
				col++
			}
		}
		for n := t.ld.column - col; n > 0; n-- {
			t.output([]byte{'\b'})
		}
		return
	case ch < 0x20 || ch == 0x7f:
		if t.lflag()&tECHOCTL != 0 {
			width = 2
		}
	}
	for i := 0; i < width; i++ {
		t.output([]byte("\b \b"))
	}
}

// echo echoes one input byte, control characters as ^X under ECHOCTL.
func (t *TTY) echo(c byte) {
	if t.lflag()&tECHOCTL != 0 && (c < 0x20 || c == 0x7f) && c != '\t' && c != '\n' {
		t.output([]byte{'^', c ^ 0o100})
		return
	}
	t.output([]byte{c})
}

// output runs bytes through output processing (OPOST) and hands them to
// the terminal's screen.
func (t *TTY) output(b []byte) {
	if t.Screen == nil {
		return
	}
	if t.oflag()&tOPOST == 0 {
		t.Screen(b)
		return
	}
	o := t.oflag()
	out := make([]byte, 0, len(b)+8)
	for _, c := range b {
		switch c {
		case '\n':
			if o&tONLRET != 0 {
				t.ld.column = 0
			}
			if o&tONLCR != 0 {
				out = append(out, '\r', '\n')
				t.ld.column = 0
				continue
			}
		case '\r':
			if o&tONOCR != 0 && t.ld.column == 0 {
				continue
			}
			if o&tOCRNL != 0 {
				c = '\n'
				if o&tONLRET != 0 {
					t.ld.column = 0
				}
				break
			}
			t.ld.column = 0
		case '\t':
			t.ld.column = (t.ld.column | 7) + 1
		case '\b':
			if t.ld.column > 0 {
				t.ld.column--
			}
		default:
			if c >= 0x20 && c != 0x7f && c&0xc0 != 0x80 {
				t.ld.column++
			}
		}
		out = append(out, c)
	}
	t.Screen(out)
}

// Write is what a program writes to the terminal: output-processed onto
// the screen.
func (t *TTY) Write(b []byte) int {
	t.output(b)
	return len(b)
}

// Read takes input for the terminal's reader: one line at most in
// canonical mode (an empty one at VEOF), otherwise what VMIN asks for.
// ErrWouldBlock means waiting; ReadTimeout says how long VTIME lets a
// non-canonical read wait before ReadAvailable ends it.
func (t *TTY) Read(p []byte) (int, error) {
	t.syncMode()
	if len(p) == 0 {
		return 0, nil
	}
	if t.ld.canonical {
		if len(t.ld.lines) == 0 {
			return 0, ErrWouldBlock
		}
		l := t.ld.lines[0]
		n := copy(p, l)
		if n < len(l) {
			t.ld.lines[0] = l[n:]
		} else {
			t.ld.lines = t.ld.lines[1:]
		}
		return n, nil
	}
	vmin, vtime := int(t.cc(vMIN)), t.cc(vTIME)
	switch {
	case vmin == 0 && vtime == 0:
		return t.ReadAvailable(p), nil
	case vmin == 0:
		if len(t.ld.raw) == 0 {
			return 0, ErrWouldBlock
		}
	case len(t.ld.raw) < min(vmin, len(p)):
		return 0, ErrWouldBlock
	}
	return t.ReadAvailable(p), nil
}

// ReadWouldComplete reports whether a read of n bytes would return
// without waiting.
func (t *TTY) ReadWouldComplete(n int) bool {
	t.syncMode()
	if t.ld.canonical {
		return len(t.ld.lines) > 0
	}
	vmin := int(t.cc(vMIN))
	if vmin == 0 {
		return len(t.ld.raw) > 0 || t.cc(vTIME) == 0
	}
	return len(t.ld.raw) >= min(vmin, n)
}

// ReadAvailable takes whatever non-canonical input there is.
func (t *TTY) ReadAvailable(p []byte) int {
	n := copy(p, t.ld.raw)
	t.ld.raw = t.ld.raw[n:]
	if len(t.ld.raw) == 0 {
		t.ld.raw = nil
	}
	return n
}

// ReadTimeout is how long a blocked non-canonical read may wait (VTIME
// tenths of a second), 0 for no limit.
func (t *TTY) ReadTimeout() time.Duration {
	if t.lflag()&tICANON != 0 {
		return 0
	}
	return time.Duration(t.cc(vTIME)) * 100 * time.Millisecond
}

// Readable reports whether a poll sees input (input_available_p): a
// finished line, or VMIN bytes (one when VTIME is set or VMIN is 0).
func (t *TTY) Readable() bool {
	t.syncMode()
	if t.ld.canonical {
		return len(t.ld.lines) > 0
	}
	need := 1
	if vmin := int(t.cc(vMIN)); t.cc(vTIME) == 0 && vmin > 0 {
		need = vmin
	}
	return len(t.ld.raw) >= need
}

// CCStop and CCStart name the VSTOP and VSTART control characters for
// Transmit.
const (
	CCStop  = vSTOP
	CCStart = vSTART
)

// Transmit sends the control character in slot (CCStop, CCStart) to the
// terminal's other side, as tcflow's TCIOFF and TCION do; nothing when
// the slot is disabled.
func (t *TTY) Transmit(slot int) {
	if c := t.cc(slot); c != 0 && t.Screen != nil {
		t.Screen([]byte{c})
	}
}
