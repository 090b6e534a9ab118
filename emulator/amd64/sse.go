package amd64

import "math"

// This file is the SSE and SSE2 part of the 0F map: moves, packed and
// scalar float arithmetic with x86's NaN rules, conversions, and the
// packed integer operations. Float results are computed in Go and their
// NaNs replaced by x86's (a NaN operand propagates quieted, the first
// one first; an invalid operation gives the negative "indefinite" NaN),
// because Go's wasm target may change NaN payloads.

func (c *CPU) illegalOp(in *inst) int {
	c.exit = Exit{Reason: ExitIllegal}
	return stepExit
}

// srcXMM reads the r/m operand as 128 bits; aligned memory operands must
// be 16-byte aligned (#GP otherwise).
func (c *CPU) srcXMM(in *inst, aligned bool) (XMM, bool) {
	if !in.mem {
		return c.XMM[in.rm], true
	}
	addr := c.ea(in)
	if aligned && addr&15 != 0 {
		c.exit = Exit{Reason: ExitGeneralProtection}
		return XMM{}, false
	}
	lo, ok := c.load(addr, 8)
	if !ok {
		return XMM{}, false
	}
	hi, ok := c.load(addr+8, 8)
	if !ok {
		return XMM{}, false
	}
	return XMM{lo, hi}, true
}

// storeXMM writes 128 bits to the r/m operand.
func (c *CPU) storeXMM(in *inst, v XMM, aligned bool) bool {
	if !in.mem {
		c.XMM[in.rm] = v
		return true
	}
	addr := c.ea(in)
	if aligned && addr&15 != 0 {
		c.exit = Exit{Reason: ExitGeneralProtection}
		return false
	}
	var b [16]byte
	le.PutUint64(b[:], v[0])
	le.PutUint64(b[8:], v[1])
	if addr&pageMask <= PageSize-16 {
		return c.store(addr, 8, v[0]) && c.store(addr+8, 8, v[1])
	}
	return c.writeSlow(addr, b[:])
}

// srcLow reads size bytes (4 or 8) of the r/m operand: the low lane of
// an XMM register or memory.
func (c *CPU) srcLow(in *inst, size uint8) (uint64, bool) {
	if !in.mem {
		v := c.XMM[in.rm][0]
		if size == 4 {
			v &= 0xffffffff
		}
		return v, true
	}
	return c.load(c.ea(in), size)
}

// sse executes the 0F-map SSE/SSE2 instructions.
func (c *CPU) sse(in *inst) int {
	if in.op == opSSE38 {
		return c.sse38(in)
	}
	if in.op == opSSE3A {
		return c.sse3A(in)
	}
	d := &c.XMM[in.reg]
	switch in.sub {
	case 0x10, 0x11: // movups, movupd, movss, movsd (loads and stores)
		switch in.pfx {
		case pfxNone, pfx66:
			if in.sub == 0x10 {
				v, ok := c.srcXMM(in, false)
				if !ok {
					return stepExit
				}
				*d = v
			} else if !c.storeXMM(in, *d, false) {
				return stepExit
			}
		case pfxF3, pfxF2:
			size := uint8(4)
			if in.pfx == pfxF2 {
				size = 8
			}
			if in.sub == 0x11 {
				if in.mem {
					if !c.store(c.ea(in), size, d[0]) {
						return stepExit
					}
				} else {
					c.XMM[in.rm][0] = merge(c.XMM[in.rm][0], d[0], size)
				}
			} else if in.mem {
				v, ok := c.load(c.ea(in), size)
				if !ok {
					return stepExit
				}
				*d = XMM{v, 0}
			} else {
				d[0] = merge(d[0], c.XMM[in.rm][0], size)
			}
		}
	case 0x12, 0x13, 0x16, 0x17: // movlps/pd, movhlps, movhps/pd, movlhps
		if in.pfx == pfxF2 || in.pfx == pfxF3 {
			return c.sse3Move(in)
		}
		hi := in.sub >= 0x16
		if in.sub&1 == 1 { // store
			if !in.mem {
				return c.illegalOp(in)
			}
			v := d[0]
			if hi {
				v = d[1]
			}
			if !c.store(c.ea(in), 8, v) {
				return stepExit
			}
			break
		}
		var v uint64
		if in.mem {
			var ok bool
			if v, ok = c.load(c.ea(in), 8); !ok {
				return stepExit
			}
		} else {
			if in.pfx == pfx66 {
				return c.illegalOp(in)
			}
			// movhlps takes the source's high half, movlhps its low.
			v = c.XMM[in.rm][1]
			if hi {
				v = c.XMM[in.rm][0]
			}
		}
		if hi {
			d[1] = v
		} else {
			d[0] = v
		}
	case 0x14, 0x15: // unpcklps/pd, unpckhps/pd
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		h := int(in.sub - 0x14)
		if in.pfx == pfx66 {
			*d = XMM{d[h], s[h]}
		} else {
			a, b := d[h], s[h]
			*d = XMM{a&0xffffffff | b<<32, a>>32 | b&^0xffffffff}
		}
	case 0x28, 0x29, 0x2b: // movaps/pd, movntps/pd
		if in.sub == 0x28 {
			v, ok := c.srcXMM(in, true)
			if !ok {
				return stepExit
			}
			*d = v
		} else if (in.sub == 0x2b && !in.mem) || !c.storeXMM(in, *d, true) {
			if !in.mem {
				return c.illegalOp(in)
			}
			return stepExit
		}
	case 0x2a: // cvtsi2ss, cvtsi2sd
		if in.pfx != pfxF3 && in.pfx != pfxF2 {
			return c.illegalOp(in)
		}
		size := uint8(4)
		if in.osz == 8 {
			size = 8
		}
		v, ok := c.readRMInt(in, size, true)
		if !ok {
			return stepExit
		}
		n := int64(signExtend(v, size))
		if in.pfx == pfxF3 {
			d[0] = d[0]&^0xffffffff | uint64(math.Float32bits(c.roundF32(n)))
		} else {
			d[0] = math.Float64bits(c.roundF64(n))
		}
	case 0x2c, 0x2d: // cvttss2si, cvtss2si, cvttsd2si, cvtsd2si
		if in.pfx != pfxF3 && in.pfx != pfxF2 {
			return c.illegalOp(in)
		}
		var f float64
		if in.pfx == pfxF3 {
			v, ok := c.srcLow(in, 4)
			if !ok {
				return stepExit
			}
			f = float64(math.Float32frombits(uint32(v)))
		} else {
			v, ok := c.srcLow(in, 8)
			if !ok {
				return stepExit
			}
			f = math.Float64frombits(v)
		}
		size := uint8(4)
		if in.osz == 8 {
			size = 8
		}
		if in.sub == 0x2d {
			f = c.roundMode(f)
		}
		c.setReg(in.reg, size, true, cvtInt(f, size))
	case 0x2e, 0x2f: // ucomiss/sd, comiss/sd
		var f uint64
		if in.pfx == pfx66 {
			b, ok := c.srcLow(in, 8)
			if !ok {
				return stepExit
			}
			f = compareFlags(math.Float64frombits(d[0]), math.Float64frombits(b))
		} else if in.pfx == pfxNone {
			b, ok := c.srcLow(in, 4)
			if !ok {
				return stepExit
			}
			f = compareFlags(float64(math.Float32frombits(uint32(d[0]))), float64(math.Float32frombits(uint32(b))))
		} else {
			return c.illegalOp(in)
		}
		c.setArith(f)
	case 0x50: // movmskps, movmskpd
		if in.mem {
			return c.illegalOp(in)
		}
		s := c.XMM[in.rm]
		var m uint64
		if in.pfx == pfx66 {
			m = s[0]>>63 | s[1]>>63<<1
		} else {
			m = s[0]>>31&1 | s[0]>>63<<1 | s[1]>>31&1<<2 | s[1]>>63<<3
		}
		c.setReg(in.reg, 4, true, m)
	case 0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f, 0x52, 0x53:
		return c.floatArith(in)
	case 0x54, 0x55, 0x56, 0x57, 0xdb, 0xdf, 0xeb, 0xef: // and, andn, or, xor (ps, pd, and the integer p-forms)
		if in.pfx == pfxF3 || in.pfx == pfxF2 || in.sub >= 0xdb && in.pfx != pfx66 {
			return c.illegalOp(in)
		}
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		switch in.sub {
		case 0x54, 0xdb:
			*d = XMM{d[0] & s[0], d[1] & s[1]}
		case 0x55, 0xdf:
			*d = XMM{^d[0] & s[0], ^d[1] & s[1]}
		case 0x56, 0xeb:
			*d = XMM{d[0] | s[0], d[1] | s[1]}
		default:
			*d = XMM{d[0] ^ s[0], d[1] ^ s[1]}
		}
	case 0x5a, 0x5b, 0xe6:
		return c.convert(in)
	case 0x6e: // movd, movq xmm <- r/m
		if in.pfx != pfx66 {
			return c.illegalOp(in)
		}
		size := uint8(4)
		if in.osz == 8 {
			size = 8
		}
		v, ok := c.readRMInt(in, size, true)
		if !ok {
			return stepExit
		}
		*d = XMM{v, 0}
	case 0x7e:
		switch in.pfx {
		case pfx66: // movd, movq r/m <- xmm
			size := uint8(4)
			if in.osz == 8 {
				size = 8
			}
			if in.mem {
				if !c.store(c.ea(in), size, d[0]) {
					return stepExit
				}
			} else {
				c.setReg(in.rm, size, true, d[0])
			}
		case pfxF3: // movq xmm <- xmm/m64
			v, ok := c.srcLow(in, 8)
			if !ok {
				return stepExit
			}
			*d = XMM{v, 0}
		default:
			return c.illegalOp(in)
		}
	case 0xd6: // movq xmm/m64 <- xmm
		if in.pfx != pfx66 {
			return c.illegalOp(in)
		}
		if in.mem {
			if !c.store(c.ea(in), 8, d[0]) {
				return stepExit
			}
		} else {
			c.XMM[in.rm] = XMM{d[0], 0}
		}
	case 0x6f, 0x7f: // movdqa, movdqu
		if in.pfx != pfx66 && in.pfx != pfxF3 {
			return c.illegalOp(in)
		}
		aligned := in.pfx == pfx66
		if in.sub == 0x6f {
			v, ok := c.srcXMM(in, aligned)
			if !ok {
				return stepExit
			}
			*d = v
		} else if !c.storeXMM(in, *d, aligned) {
			return stepExit
		}
	case 0xe7: // movntdq
		if in.pfx != pfx66 || !in.mem {
			return c.illegalOp(in)
		}
		if !c.storeXMM(in, *d, true) {
			return stepExit
		}
	case 0x70: // pshufd, pshufhw, pshuflw
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		imm := in.imm
		switch in.pfx {
		case pfx66:
			*d = shuffleDwords(s, imm)
		case pfxF2, pfxF3:
			h := 0
			if in.pfx == pfxF3 {
				h = 1
			}
			var r uint64
			for i := 0; i < 4; i++ {
				r |= (s[h] >> (16 * (imm >> (2 * i) & 3)) & 0xffff) << (16 * i)
			}
			s[h] = r
			*d = s
		default:
			return c.illegalOp(in)
		}
	case 0x71, 0x72, 0x73: // shifts by immediate
		if in.pfx != pfx66 || in.mem {
			return c.illegalOp(in)
		}
		size, kind, ok := shiftImmKind(in)
		if !ok {
			return c.illegalOp(in)
		}
		t := &c.XMM[in.rm]
		*t = shiftXMM(*t, size, in.imm, kind)
	case 0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3: // shifts by xmm/m128
		if in.pfx != pfx66 {
			return c.illegalOp(in)
		}
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		size := 2 << (in.sub&0xf - 1)
		kind := 0
		switch in.sub >> 4 {
		case 0xe:
			kind = 2
		case 0xf:
			kind = 1
		}
		// The count is the source's low quadword; the high one is
		// ignored.
		*d = shiftLanes(*d, size, s[0], kind)
	case 0xc2: // cmpps, cmppd, cmpss, cmpsd
		return c.floatCompare(in)
	case 0xc4: // pinsrw
		if in.pfx != pfx66 {
			return c.illegalOp(in)
		}
		var v uint64
		if in.mem {
			var ok bool
			if v, ok = c.load(c.ea(in), 2); !ok {
				return stepExit
			}
		} else {
			v = c.R[in.rm] & 0xffff
		}
		i := in.imm & 7
		h, sh := i/4, 16*(i%4)
		d[h] = d[h]&^(0xffff<<sh) | v<<sh
	case 0xc5: // pextrw
		if in.pfx != pfx66 || in.mem {
			return c.illegalOp(in)
		}
		i := in.imm & 7
		c.setReg(in.reg, 4, true, c.XMM[in.rm][i/4]>>(16*(i%4))&0xffff)
	case 0xc6: // shufps, shufpd
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		imm := in.imm
		switch in.pfx {
		case pfxNone:
			r0, r1 := lane32(*d, int(imm&3)), lane32(*d, int(imm>>2&3))
			r2, r3 := lane32(s, int(imm>>4&3)), lane32(s, int(imm>>6&3))
			*d = XMM{uint64(r0) | uint64(r1)<<32, uint64(r2) | uint64(r3)<<32}
		case pfx66:
			*d = XMM{d[imm&1], s[imm>>1&1]}
		default:
			return c.illegalOp(in)
		}
	case 0xd7: // pmovmskb
		if in.pfx != pfx66 || in.mem {
			return c.illegalOp(in)
		}
		s := c.XMM[in.rm]
		c.setReg(in.reg, 4, true, byteMask(s[0])|byteMask(s[1])<<8)
	case 0xf7: // maskmovdqu
		if in.pfx != pfx66 || in.mem {
			return c.illegalOp(in)
		}
		m := c.XMM[in.rm]
		addr := c.R[RDI]
		if in.addr32 {
			addr &= 0xffffffff
		}
		for i := 0; i < 16; i++ {
			if m[i/8]>>(8*(i%8)+7)&1 != 0 {
				if !c.store(addr+uint64(i), 1, d[i/8]>>(8*(i%8))) {
					return stepExit
				}
			}
		}
	default:
		if in.pfx == pfx66 && (in.sub >= 0x60 && in.sub <= 0x6d || in.sub >= 0x74 && in.sub <= 0x76 || in.sub >= 0xd4) {
			s, ok := c.srcXMM(in, true)
			if !ok {
				return stepExit
			}
			r, ok := packedInt(in.sub, *d, s)
			if !ok {
				return c.illegalOp(in)
			}
			*d = r
			break
		}
		if in.pfx != pfx66 && (in.sub >= 0x60 && in.sub <= 0x7f || in.sub >= 0xd0) && in.pfx == pfxNone {
			// MMX register forms: not implemented, and code written
			// for SSE2 machines does not use them.
			return c.illegalOp(in)
		}
		return c.sse3(in)
	}
	return stepNext
}

// merge replaces the low size bytes of dst with those of src.
func merge(dst, src uint64, size uint8) uint64 {
	m := sizeMask(size)
	return dst&^m | src&m
}

func lane32(v XMM, i int) uint32 { return uint32(v[i/2] >> (32 * (i % 2))) }

// byteMask gathers the top bit of each byte of v.
func byteMask(v uint64) uint64 {
	// The multiplication moves the top bit of byte i to bit 56+i, with
	// no carries (each lands on a different bit).
	return (v & 0x8080808080808080) * 0x0002040810204081 >> 56
}

// shuffleDwords is pshufd: dword i of the result is dword imm>>2i&3 of s.
func shuffleDwords(s XMM, imm uint64) XMM {
	l := func(i int) uint64 { return uint64(lane32(s, int(imm>>(2*i)&3))) }
	return XMM{l(0) | l(1)<<32, l(2) | l(3)<<32}
}

// Kinds of shiftXMM beyond shiftLanes's.
const (
	shiftBytesRight = 3
	shiftBytesLeft  = 4
)

// shiftImmKind decodes the shifts by an immediate (66 0F 71/72/73 /r):
// the lane size and shiftXMM's kind, or false for an undefined one.
func shiftImmKind(in *inst) (int, int, bool) {
	size := 2 << (in.sub - 0x71)
	switch r := in.reg & 7; {
	case r == 2:
		return size, 0, true
	case r == 6:
		return size, 1, true
	case r == 4 && size != 8:
		return size, 2, true
	case r == 3 && size == 8:
		return size, shiftBytesRight, true
	case r == 7 && size == 8:
		return size, shiftBytesLeft, true
	}
	return 0, 0, false
}

// shiftXMM is shiftLanes, or with kind shiftBytesRight or shiftBytesLeft
// psrldq and pslldq of the whole register by cnt bytes.
func shiftXMM(v XMM, size int, cnt uint64, kind int) XMM {
	switch kind {
	case shiftBytesRight:
		return byteShiftRight(v, min(cnt, 16))
	case shiftBytesLeft:
		return byteShiftLeft(v, min(cnt, 16))
	}
	return shiftLanes(v, size, cnt, kind)
}

// shiftLanes shifts each size-byte lane of v by cnt: kind 0 logical
// right, 1 left, 2 arithmetic right. Counts past the lane clear it (or
// fill it with the sign).
func shiftLanes(v XMM, size int, cnt uint64, kind int) XMM {
	nb := uint64(size) * 8
	lane := sizeMask(uint8(size))
	ones := ^uint64(0) / lane
	if kind != 2 {
		// Logical shifts of every lane at once, dropping the bits that
		// cross into a neighbour.
		if cnt >= nb {
			return XMM{}
		}
		if kind == 0 {
			m := lane >> cnt * ones
			return XMM{v[0] >> cnt & m, v[1] >> cnt & m}
		}
		m := lane << cnt & lane * ones
		return XMM{v[0] << cnt & m, v[1] << cnt & m}
	}
	// Arithmetic: the logical shift, then each negative lane's vacated
	// top bits filled (a lane's sign times the fill pattern cannot carry
	// into the next lane).
	cnt = min(cnt, nb-1)
	m := lane >> cnt * ones
	fill := lane &^ (lane >> cnt)
	var r XMM
	for h, x := range v {
		r[h] = x>>cnt&m | (x>>(nb-1)&ones)*fill
	}
	return r
}

func byteShiftRight(v XMM, n uint64) XMM {
	switch {
	case n >= 16:
		return XMM{}
	case n >= 8:
		return XMM{v[1] >> (8 * (n - 8)), 0}
	case n == 0:
		return v
	}
	return XMM{v[0]>>(8*n) | v[1]<<(64-8*n), v[1] >> (8 * n)}
}

func byteShiftLeft(v XMM, n uint64) XMM {
	switch {
	case n >= 16:
		return XMM{}
	case n >= 8:
		return XMM{0, v[0] << (8 * (n - 8))}
	case n == 0:
		return v
	}
	return XMM{v[0] << (8 * n), v[1]<<(8*n) | v[0]>>(64-8*n)}
}

// toBytes and fromBytes convert between an XMM value and its bytes.
func toBytes(v XMM) (b [16]byte) {
	le.PutUint64(b[:], v[0])
	le.PutUint64(b[8:], v[1])
	return
}

func fromBytes(b [16]byte) XMM { return XMM{le.Uint64(b[:]), le.Uint64(b[8:])} }

// lanes splits v into n-byte lanes as unsigned values.
func lanes(v XMM, size int) (out [16]uint64) {
	for i := 0; i < 16/size; i++ {
		out[i] = v[i*size/8] >> (8 * uint(i*size%8)) & sizeMask(uint8(size))
	}
	return
}

// join is the inverse of lanes.
func join(l [16]uint64, size int) XMM {
	var r XMM
	for i := 0; i < 16/size; i++ {
		r[i*size/8] |= (l[i] & sizeMask(uint8(size))) << (8 * uint(i*size%8))
	}
	return r
}

func satS(v int64, size int) uint64 {
	lo, hi := -int64(1)<<(size*8-1), int64(1)<<(size*8-1)-1
	return uint64(max(lo, min(hi, v)))
}

func satU(v int64, size int) uint64 {
	return uint64(max(0, min(int64(1)<<(size*8)-1, v)))
}

// laneAdd, laneSub and laneEq add, subtract and compare for equality the
// size-byte lanes of two words at once, with no carry or borrow crossing
// a lane (laneEq: sizes 1, 2 and 4).
func laneAdd(a, b uint64, size uint8) uint64 {
	hi := laneTops(size)
	return (a&^hi + b&^hi) ^ (a^b)&hi
}

func laneSub(a, b uint64, size uint8) uint64 {
	hi := laneTops(size)
	return (a | hi - b&^hi) ^ (a^^b)&hi
}

func laneEq(a, b uint64, size uint8) uint64 {
	nb := uint(size) * 8 & 63
	ones := ^uint64(0) / sizeMask(size)
	hi := ones << (nb - 1)
	t := a ^ b
	nonzero := ((t&^hi + (hi - ones)) | t) & hi >> (nb - 1)
	return ^(nonzero<<nb - nonzero)
}

// laneTops has the top bit of every size-byte lane set.
func laneTops(size uint8) uint64 {
	return ^uint64(0) / sizeMask(size) << (uint(size)*8 - 1)
}

// packedInt computes the SSE2 packed-integer operation op (the 66 0F
// opcode byte) of d and s.
func packedInt(op byte, d, s XMM) (XMM, bool) {
	switch op {
	case 0xfc, 0xfd, 0xfe, 0xf8, 0xf9, 0xfa, 0x74, 0x75, 0x76:
		// padd, psub and pcmpeq of bytes, words and dwords: on both
		// halves at once, with no carry or borrow crossing a lane.
		size := uint8(1) << (op & 3)
		var r XMM
		for h := range r {
			switch {
			case op >= 0xfc:
				r[h] = laneAdd(d[h], s[h], size)
			case op >= 0xf8:
				r[h] = laneSub(d[h], s[h], size)
			default:
				r[h] = laneEq(d[h], s[h], size)
			}
		}
		return r, true
	case 0x60, 0x61, 0x62, 0x6c: // punpckl*
		size := 1 << (op - 0x60)
		if op == 0x6c {
			size = 8
		}
		return interleave(d, s, size, 0), true
	case 0x68, 0x69, 0x6a, 0x6d: // punpckh*
		size := 1 << (op - 0x68)
		if op == 0x6d {
			size = 8
		}
		return interleave(d, s, size, 1), true
	case 0x63, 0x67, 0x6b: // packsswb, packuswb, packssdw
		size := 2
		if op == 0x6b {
			size = 4
		}
		a, b := lanes(d, size), lanes(s, size)
		n := 16 / size
		var r [16]uint64
		for i := 0; i < n; i++ {
			x, y := int64(signExtend(a[i], uint8(size))), int64(signExtend(b[i], uint8(size)))
			if op == 0x67 {
				r[i], r[i+n] = satU(x, 1), satU(y, 1)
			} else {
				r[i], r[i+n] = satS(x, size/2), satS(y, size/2)
			}
		}
		return join(r, size/2), true
	case 0x64, 0x65, 0x66: // pcmpgt*
		size := 1 << (op & 3)
		a, b := lanes(d, size), lanes(s, size)
		var r [16]uint64
		for i := 0; i < 16/size; i++ {
			if int64(signExtend(a[i], uint8(size))) > int64(signExtend(b[i], uint8(size))) {
				r[i] = ^uint64(0)
			}
		}
		return join(r, size), true
	case 0xd4: // paddq
		return XMM{d[0] + s[0], d[1] + s[1]}, true
	case 0xfb: // psubq
		return XMM{d[0] - s[0], d[1] - s[1]}, true
	case 0xf4: // pmuludq
		return XMM{(d[0] & 0xffffffff) * (s[0] & 0xffffffff), (d[1] & 0xffffffff) * (s[1] & 0xffffffff)}, true
	case 0xf6: // psadbw
		a, b := lanes(d, 1), lanes(s, 1)
		var r XMM
		for h := 0; h < 2; h++ {
			var sum uint64
			for i := 0; i < 8; i++ {
				x, y := a[8*h+i], b[8*h+i]
				sum += max(x, y) - min(x, y)
			}
			r[h] = sum
		}
		return r, true
	case 0xf5: // pmaddwd
		a, b := lanes(d, 2), lanes(s, 2)
		var r [16]uint64
		for i := 0; i < 4; i++ {
			p0 := int64(int16(a[2*i])) * int64(int16(b[2*i]))
			p1 := int64(int16(a[2*i+1])) * int64(int16(b[2*i+1]))
			r[i] = uint64(p0 + p1)
		}
		return join(r, 4), true
	}
	// Lane-wise operations.
	var size int
	switch op {
	case 0xd8, 0xda, 0xdc, 0xde, 0xe0, 0xe8, 0xec:
		size = 1
	case 0xd5, 0xd9, 0xdd, 0xe3, 0xe4, 0xe5, 0xe9, 0xea, 0xed, 0xee:
		size = 2
	default:
		return XMM{}, false
	}
	a, b := lanes(d, size), lanes(s, size)
	var r [16]uint64
	for i := 0; i < 16/size; i++ {
		x, y := a[i], b[i]
		sx, sy := int64(signExtend(x, uint8(size))), int64(signExtend(y, uint8(size)))
		var v uint64
		switch op {
		case 0xdc, 0xdd: // paddus
			v = satU(int64(x+y), size)
		case 0xd8, 0xd9: // psubus
			v = satU(int64(x)-int64(y), size)
		case 0xec, 0xed: // padds
			v = satS(sx+sy, size)
		case 0xe8, 0xe9: // psubs
			v = satS(sx-sy, size)
		case 0xda: // pminub
			v = min(x, y)
		case 0xde: // pmaxub
			v = max(x, y)
		case 0xea: // pminsw
			v = uint64(min(sx, sy))
		case 0xee: // pmaxsw
			v = uint64(max(sx, sy))
		case 0xe0, 0xe3: // pavgb, pavgw
			v = (x + y + 1) >> 1
		case 0xd5: // pmullw
			v = x * y
		case 0xe5: // pmulhw
			v = uint64(sx*sy) >> 16
		case 0xe4: // pmulhuw
			v = x * y >> 16
		}
		r[i] = v
	}
	return join(r, size), true
}

// interleave takes alternating size-byte lanes of the low (half 0) or
// high (half 1) halves of d and s.
func interleave(d, s XMM, size, half int) XMM {
	a, b := d[half&1], s[half&1]
	if size == 8 {
		return XMM{a, b}
	}
	nb := uint(size) * 8
	return XMM{spreadLanes(a, size) | spreadLanes(b, size)<<nb,
		spreadLanes(a>>32, size) | spreadLanes(b>>32, size)<<nb}
}

// spreadLanes moves the size-byte lanes of v's low 32 bits apart, each
// to twice its offset, leaving zeros in between.
func spreadLanes(v uint64, size int) uint64 {
	v &= 0xffffffff
	if size <= 2 {
		v = (v | v<<16) & 0x0000ffff0000ffff
	}
	if size == 1 {
		v = (v | v<<8) & 0x00ff00ff00ff00ff
	}
	return v
}

// Default NaNs: the "indefinite" values x86 returns for invalid
// operations.
const (
	indefinite32 = 0xffc00000
	indefinite64 = 0xfff8000000000000
)

func isNaN32(v uint32) bool { return v&0x7f800000 == 0x7f800000 && v&0x7fffff != 0 }
func isNaN64(v uint64) bool {
	return v&0x7ff0000000000000 == 0x7ff0000000000000 && v&0xfffffffffffff != 0
}

// Float operations of floatArith (the opcode byte).
const (
	fSqrt  = 0x51
	fRsqrt = 0x52
	fRcp   = 0x53
	fAdd   = 0x58
	fMul   = 0x59
	fSub   = 0x5c
	fMin   = 0x5d
	fDiv   = 0x5e
	fMax   = 0x5f
)

// f64op computes a double operation with x86's NaN and min/max rules.
func f64op(op byte, a, b uint64) uint64 {
	if op == fMin || op == fMax {
		x, y := math.Float64frombits(a), math.Float64frombits(b)
		// Unordered or equal (including ±0): the second operand.
		if op == fMin && x < y || op == fMax && x > y {
			return a
		}
		return b
	}
	if op == fSqrt {
		if isNaN64(b) {
			return b | 1<<51
		}
		r := math.Sqrt(math.Float64frombits(b))
		if r != r {
			return indefinite64
		}
		return math.Float64bits(r)
	}
	if isNaN64(a) {
		return a | 1<<51
	}
	if isNaN64(b) {
		return b | 1<<51
	}
	x, y := math.Float64frombits(a), math.Float64frombits(b)
	var r float64
	switch op {
	case fAdd:
		r = x + y
	case fSub:
		r = x - y
	case fMul:
		r = x * y
	case fDiv:
		r = x / y
	}
	if r != r {
		return indefinite64
	}
	return math.Float64bits(r)
}

// f32op is f64op for singles.
func f32op(op byte, a, b uint32) uint32 {
	if op == fMin || op == fMax {
		x, y := math.Float32frombits(a), math.Float32frombits(b)
		if op == fMin && x < y || op == fMax && x > y {
			return a
		}
		return b
	}
	if op == fSqrt || op == fRsqrt || op == fRcp {
		if isNaN32(b) {
			return b | 1<<22
		}
		x := float64(math.Float32frombits(b))
		var r float32
		switch op {
		case fSqrt:
			r = float32(math.Sqrt(x))
		case fRsqrt:
			r = float32(1 / math.Sqrt(x))
		default:
			r = float32(1 / x)
		}
		if r != r {
			return indefinite32
		}
		return math.Float32bits(r)
	}
	if isNaN32(a) {
		return a | 1<<22
	}
	if isNaN32(b) {
		return b | 1<<22
	}
	x, y := math.Float32frombits(a), math.Float32frombits(b)
	var r float32
	switch op {
	case fAdd:
		r = x + y
	case fSub:
		r = x - y
	case fMul:
		r = x * y
	case fDiv:
		r = x / y
	}
	if r != r {
		return indefinite32
	}
	return math.Float32bits(r)
}

// floatArith is sqrt, rsqrt, rcp, add, mul, sub, min, div and max in
// their ps, pd, ss and sd forms.
func (c *CPU) floatArith(in *inst) int {
	d := &c.XMM[in.reg]
	op := in.sub
	if (op == fRsqrt || op == fRcp) && (in.pfx == pfx66 || in.pfx == pfxF2) {
		return c.illegalOp(in)
	}
	switch in.pfx {
	case pfxF3: // ss
		b, ok := c.srcLow(in, 4)
		if !ok {
			return stepExit
		}
		d[0] = d[0]&^0xffffffff | uint64(f32op(op, uint32(d[0]), uint32(b)))
	case pfxF2: // sd
		b, ok := c.srcLow(in, 8)
		if !ok {
			return stepExit
		}
		d[0] = f64op(op, d[0], b)
	case pfx66: // pd
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		*d = XMM{f64op(op, d[0], s[0]), f64op(op, d[1], s[1])}
	default: // ps
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		var r XMM
		for i := 0; i < 4; i++ {
			v := f32op(op, lane32(*d, i), lane32(s, i))
			r[i/2] |= uint64(v) << (32 * (i % 2))
		}
		*d = r
	}
	return stepNext
}

// compareFlags is the ZF, PF, CF result of ucomis/comis.
func compareFlags(a, b float64) uint64 {
	switch {
	case a != a || b != b:
		return FlagZF | FlagPF | FlagCF
	case a < b:
		return FlagCF
	case a == b:
		return FlagZF
	}
	return 0
}

// cmpPredicate evaluates cmpps' predicate p (0-7) on a and b.
func cmpPredicate(p uint64, a, b float64) bool {
	unord := a != a || b != b
	switch p & 7 {
	case 0:
		return a == b
	case 1:
		return a < b
	case 2:
		return a <= b
	case 3:
		return unord
	case 4:
		return !(a == b)
	case 5:
		return !(a < b)
	case 6:
		return !(a <= b)
	}
	return !unord
}

func (c *CPU) floatCompare(in *inst) int {
	d := &c.XMM[in.reg]
	p := in.imm
	switch in.pfx {
	case pfxF3:
		b, ok := c.srcLow(in, 4)
		if !ok {
			return stepExit
		}
		t := cmpPredicate(p, float64(math.Float32frombits(uint32(d[0]))), float64(math.Float32frombits(uint32(b))))
		d[0] = d[0]&^0xffffffff | maskBool(t, 32)
	case pfxF2:
		b, ok := c.srcLow(in, 8)
		if !ok {
			return stepExit
		}
		d[0] = maskBool(cmpPredicate(p, math.Float64frombits(d[0]), math.Float64frombits(b)), 64)
	case pfx66:
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		*d = XMM{
			maskBool(cmpPredicate(p, math.Float64frombits(d[0]), math.Float64frombits(s[0])), 64),
			maskBool(cmpPredicate(p, math.Float64frombits(d[1]), math.Float64frombits(s[1])), 64),
		}
	default:
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		var r XMM
		for i := 0; i < 4; i++ {
			t := cmpPredicate(p, float64(math.Float32frombits(lane32(*d, i))), float64(math.Float32frombits(lane32(s, i))))
			r[i/2] |= maskBool(t, 32) << (32 * (i % 2))
		}
		*d = r
	}
	return stepNext
}

func maskBool(t bool, size uint) uint64 {
	if !t {
		return 0
	}
	if size == 64 {
		return ^uint64(0)
	}
	return 1<<size - 1
}

// cvtInt converts f to a size-byte integer (already rounded or to be
// truncated); NaN and out-of-range values give the "integer indefinite"
// (the most negative value).
func cvtInt(f float64, size uint8) uint64 {
	if size == 4 {
		if f != f || f >= 2147483648 || f <= -2147483649 {
			return 0x80000000
		}
		return uint64(uint32(int32(f)))
	}
	if f != f || f >= 9223372036854775808 || f < -9223372036854775808 {
		return 1 << 63
	}
	return uint64(int64(f))
}

// roundMode rounds f to an integer as MXCSR's rounding control says.
func (c *CPU) roundMode(f float64) float64 {
	return roundIntegral(f, c.MXCSR>>13&3)
}

// roundF64 converts an integer to a double with MXCSR's rounding.
func (c *CPU) roundF64(n int64) float64 {
	f := float64(n)
	if c.MXCSR>>13&3 == 0 || int64(f) == n && f != 9223372036854775808 {
		return f
	}
	return directed(f, n, c.MXCSR>>13&3)
}

// roundF32 converts an integer to a single with MXCSR's rounding.
func (c *CPU) roundF32(n int64) float32 {
	f := float32(n) // rounded once, to nearest even
	g := float64(f) // an integer: exact in a double
	// Compare as integers: float64(n) may be rounded itself.
	above := g >= 9223372036854775808 || int64(g) > n
	below := g < 9223372036854775808 && int64(g) < n
	return directed32(f, above, below, c.MXCSR>>13&3)
}

// directed32 fixes a nearest-rounded single f for rounding mode 1
// (down), 2 (up) or 3 (toward zero), given whether f lies above or below
// the exact value: the result is f or its neighbour in that direction.
func directed32(f float32, above, below bool, mode uint32) float32 {
	switch {
	case mode == 1 && above:
		return math.Nextafter32(f, float32(math.Inf(-1)))
	case mode == 2 && below:
		return math.Nextafter32(f, float32(math.Inf(1)))
	case mode == 3 && (above && f > 0 || below && f < 0):
		return math.Nextafter32(f, 0)
	}
	return f
}

// directed fixes a nearest-rounded conversion f of n for rounding mode
// 1 (down), 2 (up) or 3 (toward zero).
func directed(f float64, n int64, mode uint32) float64 {
	above := f >= 9223372036854775808 || int64(f) > n
	switch mode {
	case 1:
		if above {
			return math.Nextafter(f, math.Inf(-1))
		}
	case 2:
		if !above {
			return math.Nextafter(f, math.Inf(1))
		}
	case 3:
		if n > 0 && above || n < 0 && !above {
			return math.Nextafter(f, 0)
		}
	}
	return f
}

// convert is cvtps2pd, cvtpd2ps, cvtss2sd, cvtsd2ss, cvtdq2ps,
// cvtps2dq, cvttps2dq, cvttpd2dq, cvtdq2pd and cvtpd2dq.
func (c *CPU) convert(in *inst) int {
	d := &c.XMM[in.reg]
	switch {
	case in.sub == 0x5a && in.pfx == pfxF3: // cvtss2sd
		b, ok := c.srcLow(in, 4)
		if !ok {
			return stepExit
		}
		d[0] = f32to64(uint32(b))
		return stepNext
	case in.sub == 0x5a && in.pfx == pfxF2: // cvtsd2ss
		b, ok := c.srcLow(in, 8)
		if !ok {
			return stepExit
		}
		d[0] = d[0]&^0xffffffff | uint64(c.f64to32(b))
		return stepNext
	}
	var s XMM
	var ok bool
	if in.sub == 0x5a && in.pfx == pfxNone || in.sub == 0xe6 && in.pfx == pfxF3 {
		// cvtps2pd and cvtdq2pd read 64 bits.
		var v uint64
		v, ok = c.srcLow(in, 8)
		s = XMM{v, 0}
	} else {
		s, ok = c.srcXMM(in, true)
	}
	if !ok {
		return stepExit
	}
	switch {
	case in.sub == 0x5a && in.pfx == pfxNone: // cvtps2pd
		*d = XMM{f32to64(uint32(s[0])), f32to64(uint32(s[0] >> 32))}
	case in.sub == 0x5a && in.pfx == pfx66: // cvtpd2ps
		*d = XMM{uint64(c.f64to32(s[0])) | uint64(c.f64to32(s[1]))<<32, 0}
	case in.sub == 0x5b && in.pfx == pfxNone: // cvtdq2ps
		var r XMM
		for i := 0; i < 4; i++ {
			f := c.roundF32(int64(int32(lane32(s, i))))
			r[i/2] |= uint64(math.Float32bits(f)) << (32 * (i % 2))
		}
		*d = r
	case in.sub == 0x5b && (in.pfx == pfx66 || in.pfx == pfxF3): // cvtps2dq, cvttps2dq
		var r XMM
		for i := 0; i < 4; i++ {
			f := float64(math.Float32frombits(lane32(s, i)))
			if in.pfx == pfx66 {
				f = c.roundMode(f)
			}
			r[i/2] |= cvtInt(f, 4) << (32 * (i % 2))
		}
		*d = r
	case in.sub == 0xe6 && in.pfx == pfxF3: // cvtdq2pd
		*d = XMM{math.Float64bits(float64(int32(s[0]))), math.Float64bits(float64(int32(s[0] >> 32)))}
	case in.sub == 0xe6 && (in.pfx == pfx66 || in.pfx == pfxF2): // cvttpd2dq, cvtpd2dq
		var r [2]uint64
		for i := range r {
			f := math.Float64frombits(s[i])
			if in.pfx == pfxF2 {
				f = c.roundMode(f)
			}
			r[i] = cvtInt(f, 4)
		}
		*d = XMM{r[0] | r[1]<<32, 0}
	default:
		return c.illegalOp(in)
	}
	return stepNext
}

// f32to64 widens a single, quieting a NaN and keeping its payload.
func f32to64(v uint32) uint64 {
	if isNaN32(v) {
		return uint64(v>>31)<<63 | 0x7ff8000000000000 | uint64(v&0x3fffff)<<29
	}
	return math.Float64bits(float64(math.Float32frombits(v)))
}

// f64to32 narrows a double with MXCSR's rounding, quieting a NaN and
// keeping the top of its payload.
func (c *CPU) f64to32(v uint64) uint32 {
	if isNaN64(v) {
		return uint32(v>>63)<<31 | 0x7fc00000 | uint32(v>>29)&0x3fffff
	}
	x := math.Float64frombits(v)
	f := float32(x) // rounded to nearest even
	g := float64(f)
	return math.Float32bits(directed32(f, g > x, g < x, c.MXCSR>>13&3))
}
