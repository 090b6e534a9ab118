package amd64

import "math/bits"

// Lazy flag operations: what the last flag-setting instruction did.
const (
	// lazyNone: the arithmetic flags are in CPU.flags.
	lazyNone uint8 = iota
	// lazyAdd: res = a + b + cf (add, adc).
	lazyAdd
	// lazySub: res = a - b - cf (sub, sbb, cmp, neg with a = 0).
	lazySub
	// lazyLogic: and, or, xor, test: CF, OF and AF clear.
	lazyLogic
	// lazyInc and lazyDec: res = a ± 1; cf holds the unchanged CF.
	lazyInc
	lazyDec
	// lazyExplicit: cf holds CF, OF and AF as flag bits; ZF, SF and PF
	// follow res (shifts, multiplications, bit scans).
	lazyExplicit
)

// lazyFlags is what the flags are computed from. a, b and res are
// truncated to size bytes.
type lazyFlags struct {
	op   uint8
	size uint8
	a, b uint64
	res  uint64
	cf   uint64
}

// signBit returns the sign bit of a size-byte value.
func signBit(size uint8) uint64 { return 1 << (uint(size)*8 - 1) }

// sizeMask returns the mask of a size-byte value.
func sizeMask(size uint8) uint64 { return signBit(size)<<1 - 1 }

// szp returns ZF, SF and PF of a size-byte result.
func szp(res uint64, size uint8) uint64 {
	var f uint64
	if res&sizeMask(size) == 0 {
		f |= FlagZF
	}
	if res&signBit(size) != 0 {
		f |= FlagSF
	}
	if bits.OnesCount8(uint8(res))&1 == 0 {
		f |= FlagPF
	}
	return f
}

// arith returns the six arithmetic flags.
func (c *CPU) arith() uint64 {
	l := &c.lazy
	if l.op == lazyNone {
		return c.flags & arithFlags
	}
	sign := signBit(l.size)
	res := l.res
	f := szp(res, l.size)
	switch l.op {
	case lazyAdd:
		if addCarries(l.a, l.b, res)&sign != 0 {
			f |= FlagCF
		}
		if addOverflows(l.a, l.b, res)&sign != 0 {
			f |= FlagOF
		}
		f |= (l.a ^ l.b ^ res) & FlagAF
	case lazySub:
		if subBorrows(l.a, l.b, res)&sign != 0 {
			f |= FlagCF
		}
		if subOverflows(l.a, l.b, res)&sign != 0 {
			f |= FlagOF
		}
		f |= (l.a ^ l.b ^ res) & FlagAF
	case lazyInc:
		if res == sign {
			f |= FlagOF
		}
		f |= (l.a^res)&FlagAF | l.cf&FlagCF
	case lazyDec:
		if l.a == sign {
			f |= FlagOF
		}
		f |= (l.a^res)&FlagAF | l.cf&FlagCF
	case lazyExplicit:
		f |= l.cf & (FlagCF | FlagOF | FlagAF)
	}
	return f
}

// The carries out of every bit position of res = a + b (+ carry in),
// the borrows of res = a - b (- borrow in), and where each overflows as a
// signed operation; the flags are these vectors' sign bits.
func addCarries(a, b, res uint64) uint64   { return a&b | (a|b)&^res }
func addOverflows(a, b, res uint64) uint64 { return (a ^ res) & (b ^ res) }
func subBorrows(a, b, res uint64) uint64   { return ^a&b | (^a|b)&res }
func subOverflows(a, b, res uint64) uint64 { return (a ^ b) & (a ^ res) }

// carry returns CF.
func (c *CPU) carry() uint64 {
	l := &c.lazy
	switch l.op {
	case lazyNone:
		return c.flags & FlagCF
	case lazyLogic:
		return 0
	case lazyInc, lazyDec, lazyExplicit:
		return l.cf & FlagCF
	}
	return c.arith() & FlagCF
}

// setArith replaces the arithmetic flags with f.
func (c *CPU) setArith(f uint64) {
	c.lazy.op = lazyNone
	c.flags = c.flags&^arithFlags | f&arithFlags
}

// materialize moves the lazily computed flags into CPU.flags, for
// instructions that change some flags and keep others.
func (c *CPU) materialize() {
	if c.lazy.op != lazyNone {
		c.setArith(c.arith())
	}
}

// setLazy records a flag-setting operation; a, b and res are truncated to
// size here.
func (c *CPU) setLazy(op, size uint8, a, b, res, cf uint64) {
	m := sizeMask(size)
	c.lazy.set(op, size, a&m, b&m, res&m)
	c.lazy.cf = cf
}

// set records an operation whose carry-in (cf) is 0. It assigns field by
// field: a struct literal here becomes memory.fill and memory.copy in
// WebAssembly, which some runtimes execute out of line.
func (l *lazyFlags) set(op, size uint8, a, b, res uint64) {
	l.op, l.size = op, size
	l.a, l.b, l.res, l.cf = a, b, res, 0
}

// cond evaluates condition code cc (the low nibble of jcc, setcc and
// cmovcc). After a compare it compares the operands directly.
func (c *CPU) cond(cc uint8) bool {
	var r bool
	if l := &c.lazy; l.op == lazySub && l.cf == 0 {
		shift := 64 - uint(l.size)*8
		switch cc >> 1 {
		case 1:
			r = l.a < l.b
		case 2:
			r = l.a == l.b
		case 3:
			r = l.a <= l.b
		case 6:
			r = int64(l.a<<shift) < int64(l.b<<shift)
		case 7:
			r = int64(l.a<<shift) <= int64(l.b<<shift)
		default:
			return c.condFlags(cc)
		}
		return r != (cc&1 != 0)
	}
	return c.condFlags(cc)
}

func (c *CPU) condFlags(cc uint8) bool {
	f := c.arith()
	var r bool
	switch cc >> 1 {
	case 0:
		r = f&FlagOF != 0
	case 1:
		r = f&FlagCF != 0
	case 2:
		r = f&FlagZF != 0
	case 3:
		r = f&(FlagCF|FlagZF) != 0
	case 4:
		r = f&FlagSF != 0
	case 5:
		r = f&FlagPF != 0
	case 6:
		r = (f&FlagSF != 0) != (f&FlagOF != 0)
	case 7:
		r = f&FlagZF != 0 || (f&FlagSF != 0) != (f&FlagOF != 0)
	}
	return r != (cc&1 != 0)
}

// b2u is 1 for true and 0 for false.
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
