package vfs

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// ldiscRig is a terminal with its screen and signals recorded.
type ldiscRig struct {
	tty    *TTY
	screen []byte
	sigs   []int
}

func newRig(edit func(t *TTY)) *ldiscRig {
	r := &ldiscRig{tty: NewTTY(24, 80)}
	r.tty.Screen = func(b []byte) { r.screen = append(r.screen, b...) }
	r.tty.Signal = func(sig int) { r.sigs = append(r.sigs, sig) }
	if edit != nil {
		b := r.tty.Termios
		t := &TTY{Termios: b}
		edit(t)
		r.tty.SetTermios(t.Termios)
	}
	return r
}

func (r *ldiscRig) readAll() []string {
	var reads []string
	for {
		b := make([]byte, 256)
		n, err := r.tty.Read(b)
		if err != nil {
			return reads
		}
		reads = append(reads, string(b[:n]))
		if n == 0 {
			return reads
		}
	}
}

func setFlag(off int, set, clear uint32) func(t *TTY) {
	return func(t *TTY) {
		v := binary.LittleEndian.Uint32(t.Termios[off:])
		binary.LittleEndian.PutUint32(t.Termios[off:], (v|set)&^clear)
	}
}

func setCC(i int, v byte) func(t *TTY) { return func(t *TTY) { t.Termios[ccOffset+i] = v } }

func both(fs ...func(t *TTY)) func(t *TTY) {
	return func(t *TTY) {
		for _, f := range fs {
			f(t)
		}
	}
}

// TestLineDiscipline: bytes typed in, what the reader gets, what the
// screen shows and which signals go out, against Linux's n_tty (the
// expected screens were taken from a Linux pty with the same settings).
func TestLineDiscipline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(t *TTY)
		in     string
		reads  []string
		screen string
		sigs   []int
	}{
		{name: "cooked line with erase", in: "ab\x7fc\n", reads: []string{"ac\n"}, screen: "ab\b \bc\r\n"},
		{name: "CR becomes NL", in: "hi\r", reads: []string{"hi\n"}, screen: "hi\r\n"},
		{name: "kill line ECHOKE", in: "abc\x15x\n", reads: []string{"x\n"}, screen: "abc\b \b\b \b\b \bx\r\n"},
		{name: "kill line ECHOK without ECHOKE", edit: setFlag(12, 0, tECHOKE), in: "ab\x15x\n", reads: []string{"x\n"}, screen: "ab^U\r\nx\r\n"},
		{name: "word erase", in: "one two\x17z\n", reads: []string{"one z\n"}, screen: "one two\b \b\b \b\b \bz\r\n"},
		{name: "erase control echo", in: "a\x01\x7f\n", reads: []string{"a\n"}, screen: "a^A\b \b\b \b\r\n"},
		{name: "erase UTF-8 character", in: "é\x7f\n", reads: []string{"\n"}, screen: "é\b \b\r\n"},
		{name: "EOF on empty line", in: "\x04", reads: []string{""}, screen: ""},
		{name: "EOF ends a partial line", in: "ab\x04", reads: []string{"ab"}, screen: "ab"},
		{name: "two lines, one per read", in: "a\nb\n", reads: []string{"a\n", "b\n"}, screen: "a\r\nb\r\n"},
		{name: "VEOL", edit: setCC(vEOL, ';'), in: "x;y", reads: []string{"x;"}, screen: "x;y"},
		{name: "ECHONL without ECHO", edit: setFlag(12, tECHONL, tECHO), in: "pw\n", reads: []string{"pw\n"}, screen: "\r\n"},
		{name: "no echo", edit: setFlag(12, 0, tECHO), in: "pw\n", reads: []string{"pw\n"}, screen: ""},
		{name: "literal next", in: "\x16\x03\n", reads: []string{"\x03\n"}, screen: "^\b^C\r\n"},
		{name: "interrupt flushes", in: "abc\x03d\n", reads: []string{"d\n"}, screen: "abc^Cd\r\n", sigs: []int{abi.SIGINT}},
		{name: "NOFLSH keeps input", edit: setFlag(12, tNOFLSH, 0), in: "ab\x1cc\n", reads: []string{"abc\n"}, screen: "ab^\\c\r\n", sigs: []int{abi.SIGQUIT}},
		{name: "suspend", in: "\x1a", screen: "^Z", sigs: []int{abi.SIGTSTP}},
		{name: "no ISIG", edit: setFlag(12, 0, tISIG), in: "\x03\n", reads: []string{"\x03\n"}, screen: "^C\r\n"},
		{name: "IGNCR", edit: setFlag(0, tIGNCR, 0), in: "a\rb\n", reads: []string{"ab\n"}, screen: "ab\r\n"},
		{name: "INLCR without ICRNL", edit: setFlag(0, tINLCR, tICRNL), in: "a\nb\r", reads: nil, screen: "a^Mb^M"},
		{name: "raw mode", edit: both(setFlag(12, 0, tICANON|tECHO|tISIG), setFlag(0, 0, tICRNL)), in: "a\x03\r\x7f", reads: []string{"a\x03\r\x7f"}, screen: ""},
		{name: "noncanonical echo", edit: setFlag(12, 0, tICANON), in: "q\x7f", reads: []string{"q\x7f"}, screen: "q^?"},
		{name: "VMIN 3 waits", edit: both(setFlag(12, 0, tICANON), setCC(vMIN, 3)), in: "ab", reads: nil, screen: "ab"},
		{name: "no OPOST", edit: setFlag(4, 0, tOPOST), in: "x\n", reads: []string{"x\n"}, screen: "x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(tc.edit)
			r.tty.Receive([]byte(tc.in))
			if got := r.readAll(); !slices.Equal(got, tc.reads) {
				t.Errorf("reads %q, want %q", got, tc.reads)
			}
			if string(r.screen) != tc.screen {
				t.Errorf("screen %q, want %q", r.screen, tc.screen)
			}
			if !slices.Equal(r.sigs, tc.sigs) {
				t.Errorf("signals %v, want %v", r.sigs, tc.sigs)
			}
		})
	}
}

// TestOutputProcessing: ONLCR, OCRNL, ONOCR on what programs write.
func TestOutputProcessing(t *testing.T) {
	for _, tc := range []struct {
		edit      func(t *TTY)
		in, there string
	}{
		{nil, "a\nb", "a\r\nb"},
		{setFlag(4, tOCRNL, tONLCR), "a\rb", "a\nb"},
		{setFlag(4, tONOCR, 0), "\rab\r", "ab\r"},
	} {
		r := newRig(tc.edit)
		r.tty.Write([]byte(tc.in))
		if string(r.screen) != tc.there {
			t.Errorf("write %q: screen %q, want %q", tc.in, r.screen, tc.there)
		}
	}
}

// TestCanonicalSwitch: input typed in raw mode stays readable when the
// program goes back to canonical mode, and a partial line reaches a
// program that leaves it.
func TestCanonicalSwitch(t *testing.T) {
	r := newRig(nil)
	r.tty.Receive([]byte("part"))
	tmp := &TTY{Termios: r.tty.Termios}
	setFlag(12, 0, tICANON)(tmp)
	r.tty.SetTermios(tmp.Termios)
	if !r.tty.Readable() || r.tty.Buffered() != 4 {
		t.Fatalf("partial line not readable after leaving canonical mode: buffered %d", r.tty.Buffered())
	}
	b := make([]byte, 10)
	if n, err := r.tty.Read(b); err != nil || string(b[:n]) != "part" {
		t.Errorf("read %q, %v", b[:n], err)
	}
}
