package amd64

import "unsafe"

// Fast forms: the instruction shapes that make up most of what programs
// execute (measured on python3's start-up: conditional branches 18 %,
// movs 27 %, the ALU group and test 28 %, push and pop 9 %, lea 4 %,
// movzx/movsx 4 %, calls and returns 3 %), executed inline by Run with
// their operands resolved at decode time, so that the common case takes
// no calls and few branches (Go's WebAssembly backend makes every branch
// between basic blocks a trip through a dispatch loop). Anything a fast
// form cannot finish — a TLB miss, a page-crossing access, an unusual
// operand — falls back to step, which does the whole instruction.
const (
	fastNone uint8 = iota
	// fastMove: R[out] = (R[src] + R[base] + R[index]<<scale + imm) &
	// mask: mov r,r; mov r,imm; lea; nop (out the scratch register).
	fastMove
	// fastOp: the ALU group and test on registers in one branch-free
	// form: R[out] = R[dst] op ((R[src] + imm) & mask), op an add, a
	// subtraction or a logic operation, flags recorded. Byte and word
	// sizes only compare or test (out is the scratch register).
	fastOp
	// fastCond: a condition evaluated from the flags, then by sub a
	// conditional branch to imm (condJump), R[dst]'s low byte set to it
	// (condSet), or R[dst] = R[src] if it holds, & mask (condMove).
	fastCond
	// fastLoad: R[dst] = mem[addr] & mask, 4 or 8 bytes.
	fastLoad
	// fastStore: mem[addr] = R[src] + imm, osz bytes.
	fastStore
	// fastPush, fastPop: 8-byte push of R[src] + imm, pop into R[dst].
	fastPush
	fastPop
	// fastOpLoad: R[out] = R[dst] op mem[addr], as fastOp.
	fastOpLoad
	// fastCmpLoad: flags of mem[addr] cmp/test (R[src] + imm), osz bytes.
	fastCmpLoad
	// fastExtendLoad: R[dst] = mem[addr] of sub bytes (1, 2 or 4), zero-
	// or (with imm 1) sign-extended, & mask.
	fastExtendLoad
	// fastExtend: the same of R[src].
	fastExtend
	// fastShift: R[dst] shifted (shl, shr, sar as sub) by imm, a count
	// already masked and non-zero, or by cl (src RCX); a count of zero,
	// which changes no flags, goes to step.
	fastShift
	// fastCall, fastRet, fastJmp: near call and jmp to imm, ret.
	fastCall
	fastRet
	fastJmp
	// fastJmpInd: jmp or (op opCallRm) call to R[src], or with mem to
	// the 8 bytes at addr.
	fastJmpInd
	// fastVec: the common SSE moves, shuffles and lane-wise integer
	// operations (vecMove, vecStore, vecLogic, vecAdd, vecSub, vecEq, ...
	// in lop):
	// XMM[dst] = XMM[dst] op (XMM[src] or the 16 bytes at addr), or
	// XMM[src] stored to addr; cond is the lane size, logic says a memory
	// operand must be 16-byte aligned, sel holds the logic selectors
	// (selNeg complements XMM[dst] first: andn). The fields step reads
	// (sub, imm) keep their meaning for the slow cases.
	fastVec
	// fastAside: integer instructions rarer than the forms above, or in
	// need of calls, executed out of line by aside, which is far cheaper
	// than step: inc, dec, not, imul, rotates by an immediate (fastShift's
	// operands), cbw/cwd and their wider forms of registers; add, or,
	// and, sub and xor of 4 or 8 bytes of memory with a register or an
	// immediate (as fastOp's); leave.
	fastAside
)

// fastVec's operations (in lop).
const (
	vecMove = iota
	vecStore
	vecLogic
	vecAdd
	vecSub
	vecEq
	// vecMoveLow: XMM[dst] = the low 8 bytes of XMM[src] or memory, the
	// rest zeroed (movq); vecStoreLow stores XMM[src]'s low 8 bytes.
	vecMoveLow
	vecStoreLow
	// vecShift: XMM[dst] shifted by imm, shiftXMM's kind in sel.
	vecShift
	// vecShuffle: pshufd by imm.
	vecShuffle
	// vecUnpack: punpckl/h, the half in sel.
	vecUnpack
	// vecPacked: the other SSE2 packed-integer operations (packedInt).
	vecPacked
	// vecFromGPR: XMM[dst] = R[src] & mask, zero-extended (movd, movq);
	// vecToGPR: R[dst] = XMM[src]'s low bytes & mask; vecMoveMask:
	// R[dst] = the top bits of XMM[src]'s bytes (pmovmskb).
	vecFromGPR
	vecToGPR
	vecMoveMask
)

// fastCond's variants (in sub).
const (
	condJump = iota
	condSet
	condMove
)

// aluTest is the ALU sub classify gives test.
const aluTest = 8

// zeroReg is the always-zero register (CPU.zero, right after R): the
// source of fast forms with only an immediate operand.
const zeroReg = noReg

// Compile-time checks that CPU.zero directly follows CPU.R, so that
// regs() can index it as register 16.
var (
	_ [unsafe.Offsetof(CPU{}.zero) - unsafe.Offsetof(CPU{}.R) - 128]struct{}
	_ [128 - (unsafe.Offsetof(CPU{}.zero) - unsafe.Offsetof(CPU{}.R))]struct{}
	_ [unsafe.Offsetof(CPU{}.scratch) - unsafe.Offsetof(CPU{}.R) - 136]struct{}
	_ [136 - (unsafe.Offsetof(CPU{}.scratch) - unsafe.Offsetof(CPU{}.R))]struct{}
	_ [unsafe.Offsetof(CPU{}.FSBase) - unsafe.Offsetof(CPU{}.R) - fsReg*8]struct{}
	_ [fsReg*8 - (unsafe.Offsetof(CPU{}.FSBase) - unsafe.Offsetof(CPU{}.R))]struct{}
	_ [unsafe.Offsetof(CPU{}.GSBase) - unsafe.Offsetof(CPU{}.R) - gsReg*8]struct{}
	_ [gsReg*8 - (unsafe.Offsetof(CPU{}.GSBase) - unsafe.Offsetof(CPU{}.R))]struct{}
	// classify numbers a segment's register as fsReg + seg - segFS.
	_ [gsReg - fsReg - (segGS - segFS)]struct{}
	_ [segGS - segFS - (gsReg - fsReg)]struct{}
	// regs() covers 32 words of the CPU, none of them pointers.
	_ [unsafe.Offsetof(CPU{}.MXCSR) - unsafe.Offsetof(CPU{}.R) - 256]struct{}
)

// scratchReg is the register fast forms write discarded results to.
const scratchReg = 17

// fsReg and gsReg are the segment bases as registers of regs(): a memory
// operand relative to fs or gs with no index register gets its base as
// the index (classify), so that the fast forms cover thread-local data.
const (
	fsReg = 18
	gsReg = 19
)

// regs views R, the zero register, the scratch register and the segment
// bases as one array, followed by RIP and the first XMM registers: Run
// indexes it with a register number masked to 5 bits, which needs no
// bounds check, and decoded register numbers never pass 19.
func (c *CPU) regs() *[32]uint64 {
	return (*[32]uint64)(unsafe.Pointer(&c.R))
}

// lowByte reports a register whose byte form is its low byte (without
// REX, byte registers 4-7 are ah, ch, dh and bh).
func lowByte(n uint8, rex bool) bool { return rex || n < 4 || n >= 8 }

// classify sets in.fast and the operands its fast form uses.
func classify(in *inst) {
	// A rep prefix makes string instructions loops; on SSE instructions
	// it is the mandatory prefix F2 or F3 (in pfx).
	if in.lock || in.rep != repNone && in.op != opNop && in.op != opSSE {
		return
	}
	if in.mem && in.seg != segNone && in.index == noReg && !in.addr32 && in.op != opLea {
		// Every address computation (ea's too) then adds the base.
		in.index, in.scale = fsReg+in.seg-segFS, 0
		in.seg = segNone
	}
	wide := in.osz == 4 || in.osz == 8
	simpleMem := in.mem && !in.addr32 && in.seg == segNone
	in.mask = sizeMask(min(in.osz, 8))
	switch in.op {
	case opNop, opFence:
		// A move to the scratch register: nothing, without a case of
		// its own in Run's dispatch.
		setMove(in, scratchReg, zeroReg)
	case opMovRmReg, opMovRegRm, opMovRegImm, opMovRmImm:
		switch {
		case (in.op == opMovRmReg || in.op == opMovRmImm) && simpleMem &&
			(wide || in.osz == 2 || in.op == opMovRmImm || lowByte(in.reg, in.rex)):
			in.fast, in.src = fastStore, in.reg
			if in.op == opMovRmImm {
				in.src = zeroReg
			}
		case !wide:
			return
		case in.op == opMovRegImm:
			setMove(in, in.reg, zeroReg)
		case in.op == opMovRmImm && !in.mem:
			setMove(in, in.rm, zeroReg)
		case in.op == opMovRmReg && !in.mem:
			setMove(in, in.rm, in.reg)
		case in.op == opMovRegRm && !in.mem:
			setMove(in, in.reg, in.rm)
		case in.op == opMovRegRm && simpleMem:
			in.fast, in.dst = fastLoad, in.reg
		}
		if in.op != opMovRegImm && in.op != opMovRmImm {
			in.imm = 0
		}
	case opAluRmReg, opAluRegRm, opAluRmImm, opTestRmReg, opTestRmImm:
		if in.sub == 2 || in.sub == 3 {
			return
		}
		sub := in.sub
		if in.op == opTestRmReg || in.op == opTestRmImm {
			sub = aluTest
		}
		compare := sub == 7 || sub == aluTest
		src := uint8(zeroReg)
		switch in.op {
		case opAluRmReg, opTestRmReg:
			src = in.reg
		case opAluRegRm:
			src = in.rm
		}
		dst := in.rm
		if in.op == opAluRegRm {
			dst = in.reg
		}
		// Byte and word operations only compare, on registers whose
		// byte form is the low byte.
		if !wide && (!compare || in.osz == 1 && (src != zeroReg && !lowByte(src, in.rex) || !in.mem && !lowByte(dst, in.rex))) {
			return
		}
		switch {
		case !in.mem:
			in.fast, in.dst, in.src, in.sub, in.out = fastOp, dst, src, sub, dst
		case in.op == opAluRegRm && simpleMem && wide:
			in.fast, in.dst, in.sub, in.out = fastOpLoad, dst, sub, dst
		case in.op != opAluRegRm && simpleMem && compare:
			in.fast, in.src, in.sub = fastCmpLoad, src, sub
		case in.op != opAluRegRm && simpleMem && wide:
			in.fast, in.src, in.sub = fastAside, src, sub
		default:
			return
		}
		if compare {
			in.out = scratchReg
		}
		// The selectors of Run's branch-free ALU.
		switch sub {
		case 0:
			in.lop = lazyAdd
		case 5, 7:
			in.lop, in.sel = lazySub, selNeg
		case 1:
			in.lop, in.sel = lazyLogic, selAnd|selXor
		case 4, aluTest:
			in.lop, in.sel = lazyLogic, selAnd
		case 6:
			in.lop, in.sel = lazyLogic, selXor
		}
		in.logic = in.lop == lazyLogic
		if in.op == opAluRmReg || in.op == opAluRegRm || in.op == opTestRmReg {
			in.imm = 0
		}
		in.imm &= in.mask
	case opNegRm:
		// 0 - R[rm], flags as sub computes them.
		if wide && !in.mem {
			in.fast, in.dst, in.src, in.out, in.imm = fastOp, zeroReg, in.rm, in.rm, 0
			in.lop, in.sel = lazySub, selNeg
		}
	case opNotRm, opIncRm, opDecRm:
		if wide && !in.mem {
			in.fast, in.dst = fastAside, in.rm
		}
	case opImulRegRm, opImulRegRmImm:
		if wide && !in.mem {
			in.fast, in.dst, in.src = fastAside, in.reg, in.rm
		}
	case opShiftImm:
		cnt := in.imm & 31
		if in.osz == 8 {
			cnt = in.imm & 63
		}
		switch {
		case !wide || in.mem || cnt == 0 || in.sub == 2 || in.sub == 3:
		case in.sub <= 1:
			in.fast, in.dst, in.imm = fastAside, in.rm, cnt
		default:
			in.fast, in.dst, in.src, in.imm = fastShift, in.rm, zeroReg, cnt
		}
	case opShiftCL:
		if wide && !in.mem && in.sub >= 4 {
			in.fast, in.dst, in.src, in.imm = fastShift, in.rm, RCX, 0
		}
	case opJcc:
		in.fast, in.sub = fastCond, condJump
		setCompare(in)
	case opSetcc:
		if !in.mem && lowByte(in.rm, in.rex) {
			in.fast, in.sub, in.dst = fastCond, condSet, in.rm
			setCompare(in)
		}
	case opCmovcc:
		if wide && !in.mem {
			in.fast, in.sub, in.dst, in.src = fastCond, condMove, in.reg, in.rm
			setCompare(in)
		}
	case opJmp:
		in.fast = fastJmp
	case opJmpRm, opCallRm:
		if in.osz == 8 && (!in.mem || simpleMem) {
			in.fast, in.src = fastJmpInd, in.rm
		}
	case opCall:
		in.fast = fastCall
	case opRet:
		if in.osz == 8 && in.imm == 0 {
			in.fast = fastRet
		}
	case opLea:
		if wide && !in.addr32 {
			disp := uint64(in.disp)
			setMove(in, in.reg, zeroReg)
			in.imm = disp
		}
	case opPushReg:
		if in.osz == 8 {
			in.fast, in.src, in.imm = fastPush, in.reg, 0
		}
	case opPushImm:
		if in.osz == 8 {
			in.fast, in.src = fastPush, zeroReg
		}
	case opCbw, opCwd:
		if wide {
			in.fast = fastAside
		}
	case opLeave:
		if in.osz == 8 {
			in.fast = fastAside
		}
	case opPopReg:
		if in.osz == 8 {
			in.fast, in.dst = fastPop, in.reg
		}
	case opSSE:
		classifyVec(in, simpleMem)
	case opMovzx, opMovsx:
		if !wide || in.op == opMovzx && in.sub == 4 {
			return
		}
		in.imm = 0
		if in.op == opMovsx {
			in.imm = 1
		}
		switch {
		case simpleMem:
			in.fast, in.dst = fastExtendLoad, in.reg
		case !in.mem && (in.sub != 1 || lowByte(in.rm, in.rex)):
			in.fast, in.dst, in.src = fastExtend, in.reg, in.rm
		}
	}
}

// classifyVec gives the common SSE instructions their fastVec form.
func classifyVec(in *inst, simpleMem bool) {
	if in.mem && !simpleMem {
		return
	}
	op, src, dst, aligned := uint8(vecMove), in.rm, in.reg, true
	p66, pNone := in.pfx == pfx66, in.pfx == pfxNone
	switch sub := in.sub; {
	case (sub == 0x10 || sub == 0x11) && (pNone || p66): // movups, movupd
		aligned = false
		if sub == 0x11 {
			op, src, dst = vecStore, in.reg, in.rm
		}
	case (sub == 0x28 || sub == 0x29) && (pNone || p66): // movaps, movapd
		if sub == 0x29 {
			op, src, dst = vecStore, in.reg, in.rm
		}
	case (sub == 0x6f || sub == 0x7f) && (p66 || in.pfx == pfxF3): // movdqa, movdqu
		aligned = p66
		if sub == 0x7f {
			op, src, dst = vecStore, in.reg, in.rm
		}
	case sub >= 0x54 && sub <= 0x57 && (pNone || p66), (sub == 0xdb || sub == 0xdf || sub == 0xeb || sub == 0xef) && p66:
		op = vecLogic
		switch sub {
		case 0x54, 0xdb: // and
			in.sel = selAnd
		case 0x55, 0xdf: // andn
			in.sel = selAnd | selNeg
		case 0x56, 0xeb: // or
			in.sel = selAnd | selXor
		default: // xor
			in.sel = selXor
		}
	case (sub >= 0xfc && sub <= 0xfe || sub == 0xd4) && p66:
		op, in.cond = vecAdd, 1<<(sub&3)
	case (sub >= 0xf8 && sub <= 0xfb) && p66:
		op, in.cond = vecSub, 1<<(sub&3)
	case sub >= 0x74 && sub <= 0x76 && p66:
		op, in.cond = vecEq, 1<<(sub&3)
	case sub == 0x7e && in.pfx == pfxF3: // movq xmm, xmm/m64
		op, aligned = vecMoveLow, false
	case sub == 0xd6 && p66: // movq xmm/m64, xmm
		op, src, dst, aligned = vecStoreLow, in.reg, in.rm, false
		if !in.mem {
			op = vecMoveLow
		}
	case sub >= 0x71 && sub <= 0x73 && p66 && !in.mem:
		size, kind, ok := shiftImmKind(in)
		if !ok {
			return
		}
		op, src, dst, in.cond, in.sel = vecShift, in.rm, in.rm, uint8(size), uint8(kind)
	case sub == 0x70 && p66: // pshufd
		op = vecShuffle
	case (sub >= 0x60 && sub <= 0x62 || sub >= 0x68 && sub <= 0x6a || sub == 0x6c || sub == 0x6d) && p66:
		op, in.cond, in.sel = vecUnpack, 1<<(sub&3), sub>>3&1 // punpckl*, punpckh*
		if sub >= 0x6c {
			in.cond, in.sel = 8, sub&1
		}
	case p66 && packedIntDefined(sub):
		op = vecPacked
	case (sub == 0x6e || sub == 0x7e) && p66 && !in.mem: // movd, movq
		in.mask = sizeMask(4)
		if in.osz == 8 {
			in.mask = sizeMask(8)
		}
		op, src, dst = vecFromGPR, in.rm, in.reg
		if sub == 0x7e {
			op, src, dst = vecToGPR, in.reg, in.rm
		}
	case sub == 0xd7 && p66 && !in.mem: // pmovmskb
		op = vecMoveMask
	default:
		return
	}
	if op == vecAdd && in.sub == 0xd4 {
		in.cond = 8
	}
	// A store to a register is a move.
	if op == vecStore && !in.mem {
		op = vecMove
	}
	in.fast, in.lop, in.src, in.dst, in.logic = fastVec, op, src, dst, aligned
}

// packedIntDefined reports the 66 0F opcodes packedInt computes (it
// depends on nothing but the opcode whether it does).
func packedIntDefined(op uint8) bool {
	_, ok := packedInt(op, XMM{}, XMM{})
	return ok
}

// alu is the operation of fastOp, fastOpLoad and fastCmpLoad on a and b
// (already masked), branch-free: the selectors classify computed pick an
// add, a subtraction or a logic operation.
func (in *inst) alu(a, b uint64) uint64 {
	neg := -uint64(in.sel & selNeg)
	res := a + (b ^ neg) - neg
	logic := a&b&-uint64(in.sel>>1&1) ^ (a^b)&-uint64(in.sel>>2&1)
	if in.logic {
		res = logic
	}
	return res & in.mask
}

// setCompare prepares fastCond's shortcut for the conditions that compare
// two operands (B, E, BE, L, LE and their negations): compare says the
// condition is one, and sel whether less-than (selAnd) and equality
// (selXor) make it hold; selNeg flips the sign bits for the signed ones.
func setCompare(in *inst) {
	lt, eq, signed := false, false, false
	switch in.cond >> 1 {
	case 1: // B
		lt = true
	case 2: // E
		eq = true
	case 3: // BE
		lt, eq = true, true
	case 6: // L
		lt, signed = true, true
	case 7: // LE
		lt, eq, signed = true, true, true
	default:
		return
	}
	in.compare = true
	if lt {
		in.sel |= selAnd
	}
	if eq {
		in.sel |= selXor
	}
	if signed {
		in.sel |= selNeg
	}
}

// setMove makes in the fastMove R[dst] = R[src] + imm (plus the address
// parts already in in for lea).
func setMove(in *inst, dst, src uint8) {
	in.fast, in.dst, in.src, in.out = fastMove, zeroReg, src, dst
	if !in.mem {
		in.base, in.index, in.scale = noReg, noReg, 0
	}
}

// Little-endian accesses to a frame at an offset the caller checked.

func ld64(p *[PageSize]byte, off uint64) uint64 {
	return *(*uint64)(unsafe.Pointer(&p[off&pageMask]))
}

func st64(p *[PageSize]byte, off, v uint64) {
	*(*uint64)(unsafe.Pointer(&p[off&pageMask])) = v
}

func st32(p *[PageSize]byte, off, v uint64) {
	*(*uint32)(unsafe.Pointer(&p[off&pageMask])) = uint32(v)
}

// canonical reports a user-mode canonical address (bits 63-47 equal).
func canonical(a uint64) bool {
	return a>>47 == 0 || a>>47 == 1<<17-1
}

// vec executes a fastVec instruction, or returns false to leave it to
// step (a memory operand that misses the TLB, crosses a page or is
// misaligned).
func (c *CPU) vec(in *inst) bool {
	x := &c.XMM
	switch in.lop {
	case vecFromGPR:
		x[in.dst&15] = XMM{c.regs()[in.src&31] & in.mask, 0}
		return true
	case vecToGPR:
		c.regs()[in.dst&31] = x[in.src&15][0] & in.mask
		return true
	case vecMoveMask:
		v := x[in.src&15]
		c.regs()[in.dst&31] = byteMask(v[0]) | byteMask(v[1])<<8
		return true
	}
	s := x[in.src&15]
	if in.mem {
		regs := c.regs()
		addr := uint64(in.disp) + regs[in.base] + regs[in.index]<<(in.scale&63)
		off := addr & pageMask
		wide := in.lop != vecMoveLow && in.lop != vecStoreLow
		if off > PageSize-16 && (wide || off > PageSize-8) || in.logic && addr&15 != 0 {
			return false
		}
		if in.lop == vecStore || in.lop == vecStoreLow {
			p := c.Mem.WriteHit(addr)
			if p == nil {
				return false
			}
			st64(p, off, s[0])
			if wide {
				st64(p, off+8, s[1])
			}
			return true
		}
		p := c.Mem.ReadHit(addr)
		if p == nil {
			return false
		}
		s = XMM{ld64(p, off), 0}
		if wide {
			s[1] = ld64(p, off+8)
		}
	}
	d := &x[in.dst&15]
	switch in.lop {
	case vecMove:
		*d = s
	case vecLogic:
		// and, andn, or and xor as fastOp's logic.
		flip := -uint64(in.sel & selNeg)
		and, xor := -uint64(in.sel>>1&1), -uint64(in.sel>>2&1)
		a0, a1 := d[0]^flip, d[1]^flip
		*d = XMM{a0&s[0]&and ^ (a0^s[0])&xor, a1&s[1]&and ^ (a1^s[1])&xor}
	case vecAdd:
		*d = XMM{laneAdd(d[0], s[0], in.cond), laneAdd(d[1], s[1], in.cond)}
	case vecSub:
		*d = XMM{laneSub(d[0], s[0], in.cond), laneSub(d[1], s[1], in.cond)}
	case vecMoveLow:
		*d = XMM{s[0], 0}
	case vecShift:
		*d = shiftXMM(s, int(in.cond), in.imm, int(in.sel))
	case vecShuffle:
		*d = shuffleDwords(s, in.imm)
	case vecUnpack:
		*d = interleave(*d, s, int(in.cond), int(in.sel))
	case vecPacked:
		*d, _ = packedInt(in.sub, *d, s)
	default:
		*d = XMM{laneEq(d[0], s[0], in.cond), laneEq(d[1], s[1], in.cond)}
	}
	return true
}

// aside executes fastAside, or reports that step must.
func (c *CPU) aside(in *inst) bool {
	regs := c.regs()
	switch in.op {
	case opAluRmReg, opAluRmImm:
		return c.rmw(in)
	case opLeave:
		bp := regs[RBP]
		p, off := c.hit8(bp, false)
		if p == nil {
			return false
		}
		regs[RSP] = bp + 8
		regs[RBP] = ld64(p, off)
	case opIncRm, opDecRm:
		a := regs[in.dst&31] & in.mask
		res, lop := incDec(in.op, a)
		regs[in.dst&31] = res & in.mask
		c.setLazy(lop, in.osz, a, 1, res, c.carry())
	case opCbw: // cwde, cdqe
		half := in.osz / 2
		regs[RAX] = signExtend(regs[RAX]&sizeMask(half), half) & in.mask
	case opCwd: // cdq, cqo
		regs[RDX] = -(regs[RAX] >> (in.osz*8 - 1) & 1) & in.mask
	case opNotRm:
		regs[in.dst&31] = ^regs[in.dst&31] & in.mask
	case opShiftImm:
		// Rotates change only CF and OF.
		a := regs[in.dst&31] & in.mask
		n := in.imm
		top := uint(in.osz)*8 - 1
		back := (uint64(top) + 1 - n) & 63
		var res, cf, of uint64
		if in.sub == 0 { // rol
			res = (a<<n | a>>back) & in.mask
			cf = res & 1
			of = res>>top&1 ^ cf
		} else { // ror
			res = (a>>n | a<<back) & in.mask
			cf = res >> top & 1
			of = cf ^ res>>(top-1)&1
		}
		regs[in.dst&31] = res
		c.materialize()
		c.flags = c.flags&^(FlagCF|FlagOF) | cf | of<<11
	default:
		a := regs[in.dst&31]
		if in.op == opImulRegRmImm {
			a = in.imm
		}
		res, over := imul(a&in.mask, regs[in.src&31]&in.mask, in.osz)
		regs[in.dst&31] = res
		c.setLazy(lazyExplicit, in.osz, 0, 0, res, over)
	}
	return true
}

// rmw executes aside's ALU operations on memory, or reports that step
// must.
func (c *CPU) rmw(in *inst) bool {
	regs := c.regs()
	// Writable pages are readable on x86.
	p, off := c.hit8(uint64(in.disp)+regs[in.base&31]+regs[in.index&31]<<(in.scale&63), true)
	if p == nil {
		return false
	}
	m := ld64(p, off)
	a := m & in.mask
	b := (regs[in.src&31] + in.imm) & in.mask
	res := in.alu(a, b)
	st64(p, off, m&^in.mask|res)
	c.lazy.set(in.lop, in.osz, a, b, res)
	return true
}

// hit8 returns the frame holding the 8 bytes at addr and their offset in
// it when the TLB has the page for reading (or writing) and the bytes do
// not cross into the next page; nil sends the instruction to step.
func (c *CPU) hit8(addr uint64, write bool) (*[PageSize]byte, uint64) {
	off := addr & pageMask
	if off > PageSize-8 {
		return nil, 0
	}
	if write {
		return c.Mem.WriteHit(addr), off
	}
	return c.Mem.ReadHit(addr), off
}
