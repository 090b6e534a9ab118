package amd64

import (
	"math"
	"math/bits"
)

// This file owns SSE4.1 and SSE4.2, the 66-prefixed XMM instructions of
// the 0F 38 and 0F 3A maps that ssex.go's SSSE3 dispatch does not take,
// and crc32 (F2 0F 38 F0/F1): blends, ptest, pmovsx/pmovzx, the new
// packed-integer operations (pmuldq, pmulld, pcmpeqq, pcmpgtq, packusdw,
// the min/max family, phminposuw), movntdqa, roundps/pd/ss/sd (the one
// family here that computes MXCSR's exception flags, IE for a signalling
// NaN and PE unless imm8 bit 3 suppresses it), the element inserts and
// extracts, dpps, dppd, mpsadbw and the string compares pcmpestri/m and
// pcmpistri/m. Other prefixes and opcodes of the two maps raise #UD.

// MXCSR exception flags.
const (
	mxcsrIE = 1 << 0
	mxcsrPE = 1 << 5
)

// sse4x38 executes the SSE4 instructions of the 0F 38 map.
func (c *CPU) sse4x38(in *inst) int {
	if in.pfx == pfxF2 && (in.sub == 0xf0 || in.sub == 0xf1) {
		return c.crc32(in)
	}
	if in.pfx != pfx66 {
		return c.illegalOp(in)
	}
	d := &c.XMM[in.reg]
	switch op := in.sub; {
	case op >= 0x20 && op <= 0x25 || op >= 0x30 && op <= 0x35: // pmovsx, pmovzx
		from := [6]uint8{1, 1, 1, 2, 2, 4}[op&7]
		to := [6]uint8{2, 4, 8, 4, 8, 8}[op&7]
		n := 16 / to
		var v uint64
		if in.mem {
			var ok bool
			if v, ok = c.load(c.ea(in), n*from); !ok {
				return stepExit
			}
		} else {
			v = c.XMM[in.rm][0]
		}
		var r [16]uint64
		for i := uint8(0); i < n; i++ {
			e := v >> (8 * from * i) & sizeMask(from)
			if op < 0x30 {
				e = signExtend(e, from)
			}
			r[i] = e
		}
		*d = join(r, int(to))
	case op == 0x2a: // movntdqa
		if !in.mem {
			return c.illegalOp(in)
		}
		v, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		*d = v
	case op == 0x10 || op == 0x14 || op == 0x15 || op == 0x17 || op == 0x28 || op == 0x29 || op == 0x2b || op >= 0x37 && op <= 0x41:
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		if op == 0x17 { // ptest
			var f uint64
			if d[0]&s[0] == 0 && d[1]&s[1] == 0 {
				f |= FlagZF
			}
			if ^d[0]&s[0] == 0 && ^d[1]&s[1] == 0 {
				f |= FlagCF
			}
			c.setArith(f)
			break
		}
		*d = sse41Int(op, *d, s, c.XMM[0])
	default:
		return c.illegalOp(in)
	}
	return stepNext
}

// sse41Int computes the packed-integer SSE4 operation op (the 66 0F 38
// opcode byte) of d and s; x0 is XMM0, the variable blends' mask.
func sse41Int(op byte, d, s, x0 XMM) XMM {
	switch op {
	case 0x10, 0x14, 0x15: // pblendvb, blendvps, blendvpd
		size := 1
		switch op {
		case 0x14:
			size = 4
		case 0x15:
			size = 8
		}
		a, b, m := lanes(d, size), lanes(s, size), lanes(x0, size)
		top := signBit(uint8(size))
		for i := 0; i < 16/size; i++ {
			if m[i]&top != 0 {
				a[i] = b[i]
			}
		}
		return join(a, size)
	case 0x28: // pmuldq
		return XMM{uint64(int64(int32(d[0])) * int64(int32(s[0]))), uint64(int64(int32(d[1])) * int64(int32(s[1])))}
	case 0x29: // pcmpeqq
		return XMM{maskBool(d[0] == s[0], 64), maskBool(d[1] == s[1], 64)}
	case 0x37: // pcmpgtq
		return XMM{maskBool(int64(d[0]) > int64(s[0]), 64), maskBool(int64(d[1]) > int64(s[1]), 64)}
	case 0x2b: // packusdw
		a, b := lanes(d, 4), lanes(s, 4)
		var r [16]uint64
		for i := 0; i < 4; i++ {
			r[i] = satU(int64(int32(a[i])), 2)
			r[i+4] = satU(int64(int32(b[i])), 2)
		}
		return join(r, 2)
	case 0x41: // phminposuw
		b := lanes(s, 2)
		m, idx := b[0], 0
		for i := 1; i < 8; i++ {
			if b[i] < m {
				m, idx = b[i], i
			}
		}
		return XMM{m | uint64(idx)<<16, 0}
	}
	// pminsb, pminsd, pminuw, pminud, pmaxsb, pmaxsd, pmaxuw, pmaxud,
	// pmulld.
	size := [9]int{1, 4, 2, 4, 1, 4, 2, 4, 4}[op-0x38]
	signed := op&3 <= 1
	a, b := lanes(d, size), lanes(s, size)
	for i := 0; i < 16/size; i++ {
		x, y := a[i], b[i]
		less := x < y
		if signed {
			less = int64(signExtend(x, uint8(size))) < int64(signExtend(y, uint8(size)))
		}
		switch {
		case op == 0x40:
			a[i] = x * y
		case op < 0x3c && !less, op >= 0x3c && less:
			a[i] = y
		}
	}
	return join(a, size)
}

// crc32Table is the byte-at-a-time table of CRC-32C (the Castagnoli
// polynomial 0x1EDC6F41, bit-reflected 0x82F63B78), which crc32 computes.
var crc32Table = func() (t [256]uint32) {
	for i := range t {
		v := uint32(i)
		for k := 0; k < 8; k++ {
			v = v>>1 ^ 0x82f63b78&-(v&1)
		}
		t[i] = v
	}
	return
}()

// crc32 executes crc32 r32/r64, r/m8/16/32/64: the CRC-32C of the
// source's bytes, least significant first, continuing the destination's
// low 32 bits (no inversion before or after); the result is zero-extended.
func (c *CPU) crc32(in *inst) int {
	size := in.osz
	if in.sub == 0xf0 {
		size = 1
	}
	v, ok := c.readRMInt(in, size, in.rex)
	if !ok {
		return stepExit
	}
	crc := uint32(c.R[in.reg])
	for i := uint8(0); i < size; i++ {
		crc = crc32Table[byte(crc)^byte(v)] ^ crc>>8
		v >>= 8
	}
	c.R[in.reg] = uint64(crc)
	return stepNext
}

// sse4x3A executes the SSE4 instructions of the 0F 3A map.
func (c *CPU) sse4x3A(in *inst) int {
	if in.pfx != pfx66 {
		return c.illegalOp(in)
	}
	d := &c.XMM[in.reg]
	imm := in.imm
	switch op := in.sub; op {
	case 0x08, 0x09: // roundps, roundpd
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		mode := c.roundControl(imm)
		var flags uint32
		var r XMM
		if op == 0x08 {
			for i := 0; i < 4; i++ {
				v, f := round32(lane32(s, i), mode)
				r[i/2] |= uint64(v) << (32 * (i % 2))
				flags |= f
			}
		} else {
			for i := range r {
				var f uint32
				r[i], f = round64(s[i], mode)
				flags |= f
			}
		}
		*d = r
		c.roundFlags(flags, imm)
	case 0x0a, 0x0b: // roundss, roundsd
		size := uint8(4)
		if op == 0x0b {
			size = 8
		}
		v, ok := c.readXMMScalar(in, size)
		if !ok {
			return stepExit
		}
		mode := c.roundControl(imm)
		var flags uint32
		if size == 4 {
			var r uint32
			r, flags = round32(uint32(v), mode)
			d[0] = d[0]&^0xffffffff | uint64(r)
		} else {
			d[0], flags = round64(v, mode)
		}
		c.roundFlags(flags, imm)
	case 0x0c, 0x0d, 0x0e, 0x40, 0x41, 0x42: // blendps, blendpd, pblendw, dpps, dppd, mpsadbw
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		switch op {
		case 0x0c, 0x0d, 0x0e:
			size := [3]int{4, 8, 2}[op-0x0c]
			a, b := lanes(*d, size), lanes(s, size)
			for i := 0; i < 16/size; i++ {
				if imm>>i&1 != 0 {
					a[i] = b[i]
				}
			}
			*d = join(a, size)
		case 0x40:
			*d = dpps(*d, s, imm)
		case 0x41:
			*d = dppd(*d, s, imm)
		default:
			*d = mpsadbw(*d, s, imm)
		}
	case 0x14, 0x15, 0x16, 0x17: // pextrb, pextrw, pextrd/q, extractps
		var size uint8
		var v uint64
		switch op {
		case 0x14:
			size, v = 1, d[imm>>3&1]>>(8*(imm&7))
		case 0x15:
			size, v = 2, d[imm>>2&1]>>(16*(imm&3))
		case 0x16:
			if in.osz == 8 {
				size, v = 8, d[imm&1]
				break
			}
			fallthrough
		default:
			size, v = 4, uint64(lane32(*d, int(imm&3)))
		}
		v &= sizeMask(size)
		if in.mem {
			if !c.store(c.ea(in), size, v) {
				return stepExit
			}
		} else {
			c.R[in.rm] = v // zero-extended
		}
	case 0x20, 0x22: // pinsrb, pinsrd/q
		size := uint8(1)
		switch {
		case op == 0x22 && in.osz == 8:
			size = 8
		case op == 0x22:
			size = 4
		}
		v, ok := c.readRMInt(in, size, true)
		if !ok {
			return stepExit
		}
		n := 16 / int(size)
		l := lanes(*d, int(size))
		l[int(imm)&(n-1)] = v
		*d = join(l, int(size))
	case 0x21: // insertps
		var v uint64
		if in.mem {
			var ok bool
			if v, ok = c.load(c.ea(in), 4); !ok {
				return stepExit
			}
		} else {
			v = uint64(lane32(c.XMM[in.rm], int(imm>>6)))
		}
		l := lanes(*d, 4)
		l[imm>>4&3] = v
		for i := 0; i < 4; i++ {
			if imm>>i&1 != 0 {
				l[i] = 0
			}
		}
		*d = join(l, 4)
	case 0x60, 0x61, 0x62, 0x63: // pcmpestrm, pcmpestri, pcmpistrm, pcmpistri
		s, ok := c.srcXMM(in, false)
		if !ok {
			return stepExit
		}
		n := 16
		if imm&1 != 0 {
			n = 8
		}
		var la, lb int
		if op < 0x62 {
			la, lb = explicitLen(c.R[RAX], in.osz == 8, n), explicitLen(c.R[RDX], in.osz == 8, n)
		} else {
			la, lb = implicitLen(*d, n), implicitLen(s, n)
		}
		res := pcmpstr(*d, s, la, lb, imm)
		var f uint64
		if res != 0 {
			f |= FlagCF
		}
		if lb < n {
			f |= FlagZF
		}
		if la < n {
			f |= FlagSF
		}
		if res&1 != 0 {
			f |= FlagOF
		}
		c.setArith(f)
		switch {
		case op&1 != 0: // the index in ecx
			idx := n
			switch {
			case res == 0:
			case imm&0x40 == 0:
				idx = bits.TrailingZeros16(res)
			default:
				idx = 15 - bits.LeadingZeros16(res)
			}
			c.R[RCX] = uint64(idx)
		case imm&0x40 == 0: // the bit mask in xmm0
			c.XMM[0] = XMM{uint64(res), 0}
		default: // the byte or word mask in xmm0
			size := 16 / n
			var l [16]uint64
			for i := 0; i < n; i++ {
				l[i] = -uint64(res >> i & 1)
			}
			c.XMM[0] = join(l, size)
		}
	default:
		return c.illegalOp(in)
	}
	return stepNext
}

// roundControl is the rounding mode of round*'s imm8: bits 0-1, or
// MXCSR's rounding control when bit 2 is set.
func (c *CPU) roundControl(imm uint64) uint32 {
	if imm&4 != 0 {
		return c.MXCSR >> 13 & 3
	}
	return uint32(imm & 3)
}

// roundFlags records round*'s exceptions: invalid (a signalling NaN),
// and precision unless imm8 bit 3 suppresses it. Denormal operands
// raise nothing.
func (c *CPU) roundFlags(flags uint32, imm uint64) {
	if imm&8 != 0 {
		flags &^= mxcsrPE
	}
	c.MXCSR |= flags
}

// roundIntegral rounds x to an integer in mode (0 to nearest even, 1
// down, 2 up, 3 toward zero), keeping the sign of a zero result.
func roundIntegral(x float64, mode uint32) float64 {
	switch mode {
	case 0:
		return math.RoundToEven(x)
	case 1:
		return math.Floor(x)
	case 2:
		return math.Ceil(x)
	}
	return math.Trunc(x)
}

// round64 rounds the double v to an integer as roundpd does and returns
// the exceptions it raises: a NaN is quieted (invalid if it was a
// signalling one), an inexact result raises precision.
func round64(v uint64, mode uint32) (uint64, uint32) {
	if isNaN64(v) {
		if v&(1<<51) == 0 {
			return v | 1<<51, mxcsrIE
		}
		return v, 0
	}
	x := math.Float64frombits(v)
	r := roundIntegral(x, mode)
	if r != x {
		return math.Float64bits(r), mxcsrPE
	}
	return v, 0
}

// round32 is round64 for singles; the double holds a single exactly, and
// the integer a single rounds to is a single.
func round32(v uint32, mode uint32) (uint32, uint32) {
	if isNaN32(v) {
		if v&(1<<22) == 0 {
			return v | 1<<22, mxcsrIE
		}
		return v, 0
	}
	x := float64(math.Float32frombits(v))
	r := roundIntegral(x, mode)
	if r != x {
		return math.Float32bits(float32(r)), mxcsrPE
	}
	return v, 0
}

// dpps is the single dot product: the products the high nibble of imm
// selects (+0 for the others) summed in pairs, then the two sums, and
// the total in the lanes the low nibble selects (+0 elsewhere).
func dpps(d, s XMM, imm uint64) XMM {
	var p [4]uint32
	for i := range p {
		if imm>>(4+i)&1 != 0 {
			p[i] = f32op(fMul, lane32(d, i), lane32(s, i))
		}
	}
	sum := f32op(fAdd, f32op(fAdd, p[0], p[1]), f32op(fAdd, p[2], p[3]))
	var r [16]uint64
	for i := 0; i < 4; i++ {
		if imm>>i&1 != 0 {
			r[i] = uint64(sum)
		}
	}
	return join(r, 4)
}

// dppd is dpps for the two doubles (imm bits 4-5 and 0-1).
func dppd(d, s XMM, imm uint64) XMM {
	var p [2]uint64
	for i := range p {
		if imm>>(4+i)&1 != 0 {
			p[i] = f64op(fMul, d[i], s[i])
		}
	}
	sum := f64op(fAdd, p[0], p[1])
	var r XMM
	for i := range r {
		if imm>>i&1 != 0 {
			r[i] = sum
		}
	}
	return r
}

// mpsadbw sums the absolute differences of the source's four bytes that
// imm bits 0-1 select with eight overlapping four-byte windows of the
// destination, starting at byte 0 or 4 (imm bit 2).
func mpsadbw(d, s XMM, imm uint64) XMM {
	a, b := toBytes(d), toBytes(s)
	so, do := int(imm&3)*4, int(imm>>2&1)*4
	var r [16]uint64
	for i := 0; i < 8; i++ {
		var sum uint64
		for j := 0; j < 4; j++ {
			x, y := a[do+i+j], b[so+j]
			sum += uint64(max(x, y) - min(x, y))
		}
		r[i] = sum
	}
	return join(r, 2)
}

// explicitLen is the length pcmpestr* reads for a string of at most n
// elements from rax or rdx (eax or edx without rex.w): the absolute
// value, saturated to n.
func explicitLen(v uint64, wide bool, n int) int {
	s := int64(v)
	if !wide {
		s = int64(int32(v))
	}
	if s < 0 {
		s = -s // math.MinInt64 stays negative: saturated below
	}
	if s < 0 || s > int64(n) {
		return n
	}
	return int(s)
}

// implicitLen is pcmpistr*'s length of v: the index of its first zero
// element, or n.
func implicitLen(v XMM, n int) int {
	l := lanes(v, 16/n)
	for i := 0; i < n; i++ {
		if l[i] == 0 {
			return i
		}
	}
	return n
}

// pcmpstr compares the string a (the first operand, la elements long)
// with b (the second, lb long) as the pcmpXstrX imm8 says and returns
// IntRes2: bit j of the result for element j of b (or of both, for
// "equal each"), after the polarity.
func pcmpstr(a, b XMM, la, lb int, imm uint64) uint16 {
	n, size := 16, 1
	if imm&1 != 0 {
		n, size = 8, 2
	}
	ua, ub := lanes(a, size), lanes(b, size)
	var x, y [16]int64
	for i := 0; i < n; i++ {
		if imm&2 != 0 {
			x[i], y[i] = int64(signExtend(ua[i], uint8(size))), int64(signExtend(ub[i], uint8(size)))
		} else {
			x[i], y[i] = int64(ua[i]), int64(ub[i])
		}
	}
	var r uint16
	switch imm >> 2 & 3 {
	case 0: // equal any: b[j] is one of a's elements
		for j := 0; j < lb; j++ {
			for i := 0; i < la; i++ {
				if x[i] == y[j] {
					r |= 1 << j
					break
				}
			}
		}
	case 1: // ranges: b[j] is in one of a's ranges [a[i], a[i+1]]
		for j := 0; j < lb; j++ {
			for i := 0; i+1 < la; i += 2 {
				if x[i] <= y[j] && y[j] <= x[i+1] {
					r |= 1 << j
					break
				}
			}
		}
	case 2: // equal each: a[j] == b[j]; two invalid elements are equal
		for j := 0; j < n; j++ {
			if j >= la && j >= lb || j < la && j < lb && x[j] == y[j] {
				r |= 1 << j
			}
		}
	case 3: // equal ordered: a occurs in b at j (a may run past b's end)
		for j := 0; j < n; j++ {
			match := true
			for i := 0; i < n-j && i < la; i++ {
				if j+i >= lb || x[i] != y[j+i] {
					match = false
					break
				}
			}
			if match {
				r |= 1 << j
			}
		}
	}
	all := uint16(1<<n - 1)
	switch imm >> 4 & 3 {
	case 1: // negative
		r = ^r & all
	case 3: // masked negative: only b's valid elements
		r ^= uint16(1<<lb - 1)
	}
	return r
}
