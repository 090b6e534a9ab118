package amd64

// Differential tests of SSE4.1 and SSE4.2 (sse4.go): the packed-integer
// instructions, blends, inserts and extracts; round*, whose MXCSR
// exception flags a final stmxcsr stores to memory, where they are
// compared (runDiff leaves MXCSR's flags out); dpps, dppd and the float
// blends; the string compares with every imm8; crc32; and every 16-byte
// memory form on misaligned addresses. The generators also end some cases
// with an encoding that lacks the 66 prefix (#UD), a misaligned 16-byte
// operand (#GP) or an access into a guard page.

import (
	"math"
	"testing"
)

// sse4Ins starts a 66-prefixed instruction of the 0F 38 (m 0x38) or
// 0F 3A (m 0x3a) map.
func sse4Ins(m, op byte, reg int, rm operand) ins {
	return ins{pfx: []byte{0x66}, op: []byte{0x0f, m, op}, modrm: true, reg: reg, rm: rm}
}

// The SSE4 opcodes of the two maps that need the 66 prefix (crc32's F0
// and F1 are not listed: without a prefix they are movbe).
var (
	sse4Ops38 = []byte{0x10, 0x14, 0x15, 0x17, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28, 0x29, 0x2a, 0x2b,
		0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41}
	sse4Ops3A = []byte{0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x14, 0x15, 0x16, 0x17, 0x20, 0x21, 0x22,
		0x40, 0x41, 0x42, 0x60, 0x61, 0x62, 0x63}
)

// sse4BadPrefix emits an SSE4 opcode without its 66 prefix (none, F3 or
// F2, or 66 overridden by F3 or F2): #UD.
func (g *gen) sse4BadPrefix() {
	m, op := byte(0x38), sse4Ops38[g.intn(len(sse4Ops38))]
	if g.chance(2) {
		m, op = 0x3a, sse4Ops3A[g.intn(len(sse4Ops3A))]
	}
	i := sse4Ins(m, op, g.intn(16), g.xmmRM(16, false, 3))
	switch g.intn(5) {
	case 0:
		i.pfx = nil
	case 1:
		i.pfx = []byte{0xf3}
	case 2:
		i.pfx = []byte{0xf2}
	case 3:
		i.pfx = []byte{0x66, byte(g.pick(0xf2, 0xf3))}
	default:
		i.pfx = []byte{byte(g.pick(0xf2, 0xf3)), 0x66}
	}
	if m == 0x3a {
		i.imm = imm8(int64(g.intn(256)))
	}
	g.emit(i)
}

// sse4End ends some cases with a #UD encoding or a faulting access.
func (g *gen) sse4End() {
	switch {
	case g.chance(30):
		g.sse4BadPrefix()
	case g.chance(30):
		g.faultingAccess()
	}
}

// xmmPairs makes some XMM registers copies of others (or with one lane
// changed), so that compares find equal lanes.
func (g *gen) xmmPairs() {
	for n := g.intn(6); n > 0; n-- {
		a, b := g.intn(16), g.intn(16)
		g.in.XMM[a] = g.in.XMM[b]
		if g.chance(2) {
			g.in.XMM[a][g.intn(2)] ^= 1 << g.intn(64)
		}
	}
}

// sse41IntOp emits one of SSE4.1's integer instructions, or pcmpgtq.
func (g *gen) sse41IntOp() {
	x := g.intn(16)
	switch k := g.intn(32); {
	case k < 10: // xmm, xmm/m128 operations of the 0F 38 map
		ops := []byte{0x10, 0x14, 0x15, 0x17, 0x28, 0x29, 0x2b, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41}
		op := ops[g.intn(len(ops))]
		i := sse4Ins(0x38, op, x, g.xmmRM(16, true, 4))
		i.w = g.chance(16) // ignored
		g.emit(i)
		if op == 0x17 {
			g.setFlags(diffArithFlags, 0)
		}
	case k < 15: // pmovsx, pmovzx
		op := byte(g.intn(6))
		if g.chance(2) {
			op += 0x30
		} else {
			op += 0x20
		}
		size := [6]int{8, 4, 2, 8, 4, 8}[op&7]
		g.emit(sse4Ins(0x38, op, x, g.xmmRM(size, false, 3)))
	case k < 16: // movntdqa (a register operand is #UD)
		o := g.mem(16, 16)
		if g.chance(20) {
			o = g.xmmRM(16, true, 1)
		}
		if g.chance(30) {
			o = regOp(g.intn(16))
		}
		g.emit(sse4Ins(0x38, 0x2a, x, o))
	case k < 19: // blendps, blendpd, pblendw, mpsadbw
		i := sse4Ins(0x3a, byte(g.pick(0x0c, 0x0d, 0x0e, 0x42)), x, g.xmmRM(16, true, 4))
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	case k < 24: // pextrb, pextrw, pextrd, pextrq, extractps
		op := byte(0x14 + g.intn(4))
		size := [4]int{1, 2, 4, 4}[op-0x14]
		w := g.chance(3)
		if op == 0x16 && w {
			size = 8
		}
		var dst operand
		if g.chance(3) {
			dst = g.mem(size, g.pick(1, size))
		} else {
			dst = regOp(g.dstReg(8, true))
		}
		i := sse4Ins(0x3a, op, x, dst)
		i.w = w
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	case k < 29: // pinsrb, pinsrd, pinsrq, insertps
		op := byte(g.pick(0x20, 0x21, 0x22))
		size := 1
		w := g.chance(3)
		switch {
		case op == 0x22 && w:
			size = 8
		case op != 0x20:
			size = 4
		}
		var src operand
		switch {
		case op == 0x21:
			src = g.xmmRM(4, false, 3)
		case g.chance(3):
			src = g.mem(size, g.pick(1, size))
		default:
			src = regOp(g.srcReg(8, true))
		}
		i := sse4Ins(0x3a, op, x, src)
		i.w = w
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	default: // the SSSE3 and SSE2 integer instructions around them
		g.sseIntOp()
	}
}

func TestDiffSSE41Int(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.showXMM = true
		for i := range g.in.XMM {
			g.in.XMM[i] = [2]uint64{g.intLanes(), g.intLanes()}
			if g.chance(4) {
				g.in.XMM[i][g.intn(2)] = g.val(8)
			}
		}
		g.xmmPairs()
		for i := 0; i < len(g.in.Mem); i += 8 {
			le.PutUint64(g.in.Mem[i:], g.intLanes())
		}
		g.addPtrs(2, 0)
		for n := 2 + g.intn(5); n > 0; n-- {
			g.sse41IntOp()
		}
		g.sse4End()
	})
}

// f32Round returns a single for round*: halves and values around them,
// the largest non-integers, integers, and the edge values.
func (g *gen) f32Round() uint32 {
	sign := uint32(g.intn(2)) << 31
	switch g.intn(8) {
	case 0, 1:
		v := math.Float32bits(float32(g.intn(1<<g.intn(23))) + 0.5)
		return sign | v + uint32(g.intn(3)) - 1
	case 2:
		return sign | []uint32{0x4affffff, 0x4b000000, 0x4b000001, 0x4a7fffff, 0x3effffff, 0x3f000000, 0x3f000001, 0x3fc00000, 0x40200000}[g.intn(9)]
	case 3:
		return sign | math.Float32bits(float32(g.intn(1000)))
	}
	return g.f32Edge()
}

// f64Round is f32Round for doubles.
func (g *gen) f64Round() uint64 {
	sign := uint64(g.intn(2)) << 63
	switch g.intn(8) {
	case 0, 1:
		v := math.Float64bits(float64(g.r.Uint64N(1<<g.intn(52))) + 0.5)
		return sign | v + uint64(g.intn(3)) - 1
	case 2:
		return sign | []uint64{0x432fffffffffffff, 0x4330000000000000, 0x4330000000000001, 0x431fffffffffffff,
			0x3fdfffffffffffff, 0x3fe0000000000000, 0x3fe0000000000001, 0x3ff8000000000000, 0x4004000000000000}[g.intn(9)]
	case 3:
		return sign | math.Float64bits(float64(g.intn(1000)))
	}
	return g.f64Edge()
}

// roundHalf returns 64 bits for round*'s operands: two singles or one
// double.
func (g *gen) roundHalf() uint64 {
	if g.chance(2) {
		return uint64(g.f32Round()) | uint64(g.f32Round())<<32
	}
	return g.f64Round()
}

// roundOp emits roundps, roundpd, roundss or roundsd with any imm8
// (bits 4-7 are ignored).
func (g *gen) roundOp() {
	op := byte(0x08 + g.intn(4))
	size := [4]int{16, 16, 4, 8}[op-0x08]
	i := sse4Ins(0x3a, op, g.intn(16), g.xmmRM(size, size == 16, 3))
	imm := g.intn(16)
	if g.chance(8) {
		imm = g.intn(256)
	}
	i.imm = imm8(int64(imm))
	i.w = g.chance(16)
	g.emit(i)
}

// TestDiffSSE41Round runs round* under every rounding control and
// compares the exception flags they raise: the code ends with stmxcsr
// to memory.
func TestDiffSSE41Round(t *testing.T) {
	runDiff(t, 4000, func(g *gen) {
		g.showXMM = true
		for i := range g.in.XMM {
			g.in.XMM[i] = [2]uint64{g.roundHalf(), g.roundHalf()}
		}
		for i := 0; i < len(g.in.Mem); i += 8 {
			le.PutUint64(g.in.Mem[i:], g.roundHalf())
		}
		g.in.MXCSR |= uint32(g.intn(4)) << 13
		if g.chance(4) {
			g.in.MXCSR |= uint32(g.intn(64)) // sticky flags
		}
		g.addPtrs(2, 0)
		for n := 1 + g.intn(4); n > 0; n-- {
			g.roundOp()
		}
		// stmxcsr: MXCSR with its exception flags, to memory.
		g.emit(ins{op: []byte{0x0f, 0xae}, modrm: true, reg: 3, rm: g.mem(4, g.pick(1, 4))})
		if g.chance(30) {
			g.sse4BadPrefix()
		}
	})
}

// sse41FloatOp emits dpps, dppd, blendps/pd, blendvps/pd, insertps,
// extractps or round*, or one of the SSE float instructions.
func (g *gen) sse41FloatOp() {
	x := g.intn(16)
	switch k := g.intn(20); {
	case k < 7: // dpps, dppd
		i := sse4Ins(0x3a, byte(g.pick(0x40, 0x41)), x, g.xmmRM(16, true, 4))
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	case k < 9: // blendps, blendpd
		i := sse4Ins(0x3a, byte(g.pick(0x0c, 0x0d)), x, g.xmmRM(16, true, 4))
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	case k < 11: // blendvps, blendvpd
		g.emit(sse4Ins(0x38, byte(g.pick(0x14, 0x15)), x, g.xmmRM(16, true, 4)))
	case k < 13: // insertps
		i := sse4Ins(0x3a, 0x21, x, g.xmmRM(4, false, 3))
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	case k < 14: // extractps
		var dst operand
		if g.chance(3) {
			dst = g.mem(4, g.pick(1, 4))
		} else {
			dst = regOp(g.dstReg(8, true))
		}
		i := sse4Ins(0x3a, 0x17, x, dst)
		i.w = g.chance(3)
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	case k < 16:
		g.roundOp()
	default:
		g.sseFloatOp(false)
	}
}

func TestDiffSSE41Float(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.showXMM = true
		for i := range g.in.XMM {
			g.in.XMM[i] = [2]uint64{g.floatHalf(), g.floatHalf()}
		}
		g.xmmPairs()
		for i := 0; i < len(g.in.Mem); i += 8 {
			le.PutUint64(g.in.Mem[i:], g.floatHalf())
		}
		if g.chance(4) {
			g.in.MXCSR |= uint32(g.intn(64))
		}
		g.addPtrs(2, 0)
		for n := 2 + g.intn(5); n > 0; n-- {
			g.sse41FloatOp()
		}
		g.sse4End()
	})
}

// strAlphabet picks the few element values a string-compare case draws
// its strings from, so that elements match and ranges hold.
func (g *gen) strAlphabet() []uint64 {
	edges := []uint64{0x01, 0x20, 0x41, 0x5a, 0x61, 0x7a, 0x7f, 0x80, 0x81, 0xfe, 0xff,
		0x7fff, 0x8000, 0x8001, 0xff7f, 0xffff, 0x0100, 0x4141, 0x00ff}
	a := make([]uint64, 2+g.intn(6))
	for i := range a {
		if g.chance(3) {
			a[i] = 1 + uint64(g.intn(0xffff))
		} else {
			a[i] = edges[g.intn(len(edges))]
		}
	}
	return a
}

// strHalf returns 64 bits of string elements (bytes or words) from the
// alphabet, with a zero element now and then.
func (g *gen) strHalf(alpha []uint64) uint64 {
	words := g.chance(2)
	var v uint64
	if words {
		for i := 0; i < 4; i++ {
			v |= alpha[g.intn(len(alpha))] & 0xffff << (16 * i)
		}
		if g.chance(4) {
			v &^= 0xffff << (16 * g.intn(4))
		}
	} else {
		for i := 0; i < 8; i++ {
			b := alpha[g.intn(len(alpha))]
			if g.chance(2) {
				b >>= 8
			}
			v |= b & 0xff << (8 * i)
		}
		if g.chance(4) {
			v &^= 0xff << (8 * g.intn(8))
		}
	}
	if g.chance(16) {
		v = 0
	}
	if g.chance(16) {
		v = g.r.Uint64()
	}
	return v
}

// strLen returns an explicit length for pcmpestr*: small, negative,
// past the saturation, or with upper bits that only rex.w reads.
func (g *gen) strLen() uint64 {
	switch g.intn(8) {
	case 0, 1, 2:
		return uint64(g.intn(18))
	case 3, 4:
		return -uint64(g.intn(18))
	case 5:
		return uint64(g.intn(18)) | uint64(g.pick(1, 0xffffffff, 0x80000000))<<32
	case 6:
		return []uint64{0x80000000, 0x7fffffff, 0xffffffff, 0x80000001, 1 << 63, 1<<63 + 1, 1<<63 - 1, 0xfffffff0, 0x100}[g.intn(9)]
	}
	return g.r.Uint64()
}

// pcmpstrOp emits pcmpestrm, pcmpestri, pcmpistrm or pcmpistri with any
// imm8 (and rex.w: 64-bit lengths), sometimes after a new length.
func (g *gen) pcmpstrOp() {
	op := byte(0x60 + g.intn(4))
	if op < 0x62 && g.chance(3) {
		r := g.pick(RAX, RDX)
		v := g.strLen()
		if g.chance(3) {
			g.movImm(r, 4, true, v&0xffffffff)
		} else {
			g.movImm(r, 8, true, v)
		}
	}
	i := sse4Ins(0x3a, op, g.intn(16), g.xmmRM(16, false, 3))
	i.w = g.chance(3)
	i.imm = imm8(int64(g.intn(256)))
	g.emit(i)
	g.setFlags(diffArithFlags, 0)
}

func TestDiffSSE42String(t *testing.T) {
	runDiff(t, 6000, func(g *gen) {
		g.showXMM = true
		alpha := g.strAlphabet()
		for i := range g.in.XMM {
			g.in.XMM[i] = [2]uint64{g.strHalf(alpha), g.strHalf(alpha)}
		}
		g.xmmPairs()
		for i := 0; i < len(g.in.Mem); i += 8 {
			le.PutUint64(g.in.Mem[i:], g.strHalf(alpha))
		}
		g.in.GPR[RAX], g.in.GPR[RDX] = g.strLen(), g.strLen()
		g.addPtrs(2, 0)
		for n := 1 + g.intn(5); n > 0; n-- {
			if g.chance(6) {
				// A flag reader.
				if g.chance(2) {
					g.setccOp()
				} else {
					g.cmovOp()
				}
				continue
			}
			g.pcmpstrOp()
		}
		g.sse4End()
	})
}

// crc32Op emits crc32 r32/r64, r/m8/16/32/64 (F2 0F 38 F0/F1), with the
// prefixes in either order.
func (g *gen) crc32Op() {
	size := g.pick(1, 2, 4, 8)
	rex := g.byteMode(size)
	src := g.rm(size, &rex, false, 3)
	i := ins{op: []byte{0x0f, 0x38, 0xf1}, modrm: true, rm: src, rex: rex}
	i.pfx = []byte{0xf2}
	switch size {
	case 1:
		i.op[2] = 0xf0
		i.w = (rex || src.isMem) && g.chance(2) // a 64-bit destination
		i.noREX = !rex && !src.isMem
		if g.chance(8) {
			i.pfx = append(i.pfx, 0x66) // ignored
		}
	case 2:
		i.pfx = append(i.pfx, 0x66)
		if g.chance(2) {
			i.pfx[0], i.pfx[1] = 0x66, 0xf2
		}
	case 8:
		i.w = true
	}
	i.reg = g.dstReg(4, true)
	for i.noREX && i.reg >= 8 {
		i.reg = g.dstReg(4, true)
	}
	g.emit(i)
}

func TestDiffCRC32(t *testing.T) {
	runDiff(t, 3000, func(g *gen) {
		g.addPtrs(2, 0)
		for n := 2 + g.intn(6); n > 0; n-- {
			g.crc32Op()
		}
		if g.chance(30) {
			g.faultingAccess()
		}
	})
}

// TestDiffSSE4Alignment runs every SSE4 instruction with a 16-byte
// memory operand on a misaligned address (1, 4, 8 or 12 bytes past a
// 16-byte boundary): #GP for the legacy encodings, except the string
// compares, which take any address.
func TestDiffSSE4Alignment(t *testing.T) {
	type form struct{ m, op byte }
	var forms []form
	for _, op := range []byte{0x10, 0x14, 0x15, 0x17, 0x28, 0x29, 0x2a, 0x2b, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41} {
		forms = append(forms, form{0x38, op})
	}
	for _, op := range []byte{0x08, 0x09, 0x0c, 0x0d, 0x0e, 0x40, 0x41, 0x42, 0x60, 0x61, 0x62, 0x63} {
		forms = append(forms, form{0x3a, op})
	}
	offs := []uint64{1, 4, 8, 12}
	k := 0
	runDiff(t, len(forms)*len(offs)*2, func(g *gen) {
		f, off := forms[k/len(offs)%len(forms)], offs[k%len(offs)]
		k++
		g.addPtrs(2, 0)
		i := sse4Ins(f.m, f.op, g.intn(16), g.memAt(g.target(16, 16)+off))
		if f.m == 0x3a {
			i.imm = imm8(int64(g.intn(256)))
		}
		g.emit(i)
	})
}
