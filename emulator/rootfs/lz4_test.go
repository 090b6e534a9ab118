package rootfs

import (
	"bytes"
	"strings"
	"testing"
)

// Hand-assembled LZ4 blocks, so the decoder is checked against the format
// itself; convert/rootfs checks it against the lz4 library's encoder.
var lz4Blocks = []struct {
	name   string
	block  []byte
	out    string
	outLen int // for invalid blocks: the destination length tried
	ok     bool
}{
	{"literals only", []byte("\x50hello"), "hello", 0, true},
	// "abcd" then a match of 4+4=8 at offset 4 ("abcdabcd"), then literals "xyz".
	{"match", append([]byte("\x44abcd\x04\x00"), "\x30xyz"...), "abcdabcdabcdxyz", 0, true},
	// Offset 1 repeats the last byte: run-length encoding.
	{"overlapping match", []byte("\x1fa\x01\x00\x00\x10b"), "a" + strings.Repeat("a", 19) + "b", 0, true},
	// 15 + 255 + 3 = 273 literal bytes.
	{"long literals", append([]byte("\xf0\xff\x03"), bytes.Repeat([]byte("x"), 273)...), strings.Repeat("x", 273), 0, true},
	{"empty source", nil, "", 1, false},
	{"literals past the source", []byte("\x50hell"), "", 5, false},
	{"literals past the destination", []byte("\x50hello"), "", 4, false},
	{"block shorter than the chunk", []byte("\x50hello"), "", 6, false},
	{"zero offset", []byte("\x14abcd\x00\x00"), "", 8, false},
	{"offset before the start", []byte("\x14abcd\x05\x00"), "", 8, false},
	{"truncated offset", []byte("\x14abcd\x04"), "", 8, false},
	{"match past the destination", []byte("\x14abcd\x04\x00"), "", 7, false},
	{"unterminated length", []byte("\xf0\xff\xff"), "", 1000, false},
	{"trailing bytes", []byte("\x50hello\x00"), "", 5, false},
}

func TestDecodeLZ4(t *testing.T) {
	for _, c := range lz4Blocks {
		n := len(c.out)
		if !c.ok {
			n = c.outLen
		}
		dst := make([]byte, n)
		ok := DecodeLZ4(c.block, dst)
		if ok != c.ok || (ok && string(dst) != c.out) {
			t.Errorf("%s: ok=%v %q, want ok=%v %q", c.name, ok, dst, c.ok, c.out)
		}
	}
}

// FuzzDecodeLZ4 feeds arbitrary blocks: the decoder must never panic, and
// whatever it accepts it must fill exactly.
func FuzzDecodeLZ4(f *testing.F) {
	for _, c := range lz4Blocks {
		f.Add(c.block, uint16(len(c.out)+c.outLen))
	}
	f.Fuzz(func(t *testing.T, block []byte, n uint16) {
		dst := bytes.Repeat([]byte{0xaa}, int(n))
		if DecodeLZ4(block, dst[:n:n]) && len(dst) != int(n) {
			t.Fatal("accepted with a wrong length")
		}
	})
}
