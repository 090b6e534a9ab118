package wasmbin

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every error that reports a structurally
// invalid module.
var ErrMalformed = errors.New("malformed WebAssembly module")

// FormatError locates a structural problem in a module.
type FormatError struct {
	Section string // "header", or the section's name ("data section")
	Offset  int    // byte offset in the module
	Msg     string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("wasmbin: %s at offset %#x: %s", e.Section, e.Offset, e.Msg)
}

func (e *FormatError) Unwrap() error { return ErrMalformed }

// reader decodes the primitive encodings from a byte slice that starts at
// module offset base. Its first error sticks: later reads return zero
// values, so decoders can check err once per entry.
type reader struct {
	b       []byte
	pos     int
	base    int
	section string
	err     error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = &FormatError{Section: r.section, Offset: r.base + r.pos, Msg: fmt.Sprintf(format, args...)}
	}
}

func (r *reader) offset() int { return r.base + r.pos }
func (r *reader) done() bool  { return r.err != nil || r.pos >= len(r.b) }

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail("unexpected end of %s", r.section)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.pos) {
		r.fail("%d bytes needed, %d left in %s", n, len(r.b)-r.pos, r.section)
		return nil
	}
	b := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b
}

// uleb reads an unsigned LEB128 number of at most bits bits.
func (r *reader) uleb(bits uint) uint64 {
	var v uint64
	start := r.pos
	for shift := uint(0); ; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift+7 > bits && c>>(bits-shift) != 0 {
			// The last byte a bits-bit number may use carries no
			// continuation flag and no bits above the width.
			r.pos = start
			r.fail("unsigned LEB128 integer overflows %d bits", bits)
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
}

// sleb reads a signed LEB128 number of at most bits bits.
func (r *reader) sleb(bits uint) int64 {
	var v int64
	start := r.pos
	for shift := uint(0); ; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift+7 > bits {
			// Last byte: no continuation flag, and every bit from the
			// sign bit up must repeat the sign.
			if hi := int8(c<<1) >> (bits - shift); c&0x80 != 0 || (hi != 0 && hi != -1) {
				r.pos = start
				r.fail("signed LEB128 integer overflows %d bits", bits)
				return 0
			}
		}
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if shift+7 < 64 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v
		}
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// count reads a vector length and rejects one that could not fit in the
// bytes left, assuming each element takes at least minSize bytes.
func (r *reader) count(what string, minSize int) int {
	n := r.u32()
	if r.err == nil && uint64(n)*uint64(minSize) > uint64(len(r.b)-r.pos) {
		r.fail("%d %s declared, but only %d bytes are left", n, what, len(r.b)-r.pos)
		return 0
	}
	return int(n)
}

func (r *reader) name() string {
	n := r.u32()
	b := r.bytes(uint64(n))
	if r.err == nil && !utf8.Valid(b) {
		r.fail("name is not valid UTF-8")
	}
	return string(b)
}
