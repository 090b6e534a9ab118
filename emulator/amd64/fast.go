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
	// fastOp: the ALU group and test on registers in one branch-free
	// form: R[out] = R[dst] op ((R[src] + imm) & mask), op an add, a
	// subtraction or a logic operation, flags recorded.
	fastOp
	// fastMove: R[out] = (R[src] + R[base] + R[index]<<scale + imm) &
	// mask: mov r,r; mov r,imm; lea.
	fastMove
	// fastLoad: R[dst] = mem[addr] & mask, 4 or 8 bytes.
	fastLoad
	// fastStore: mem[addr] = R[src], osz bytes (4 or 8).
	fastStore
	// fastCmpLoad: flags of mem[addr] cmp/test (R[src] + imm).
	fastCmpLoad
	// fastJcc: conditional branch to imm.
	fastJcc
	// fastPush, fastPop: 8-byte push of R[src], pop into R[dst].
	fastPush
	fastPop
	// fastMovzxLoad: R[dst] = mem[addr] of sub bytes (1 or 2), zero- or
	// (with imm 1) sign-extended, & mask.
	fastMovzxLoad
	// fastShift: R[dst] shifted or rotated by imm (rol, ror, shl, shr,
	// sar as sub), a count already masked and non-zero.
	fastShift
	// fastCall, fastRet, fastJmp: near call and jmp to imm, ret.
	fastCall
	fastRet
	fastJmp
)

// aluTest is fastAlu's sub for test.
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
)

// scratchReg is the register fast forms write discarded results to.
const scratchReg = 17

// regs views R, the zero register and the scratch register as one array.
func (c *CPU) regs() *[18]uint64 {
	return (*[18]uint64)(unsafe.Pointer(&c.R))
}

// classify sets in.fast and the operands its fast form uses.
func classify(in *inst) {
	if in.lock || in.rep != repNone && in.op != opNop {
		return
	}
	wide := in.osz == 4 || in.osz == 8
	simpleMem := in.mem && !in.addr32 && in.seg == segNone
	in.mask = sizeMask(min(in.osz, 8))
	switch in.op {
	case opMovRmReg, opMovRegRm, opMovRegImm, opMovRmImm:
		if !wide {
			return
		}
		switch {
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
		case in.op == opMovRmReg && simpleMem:
			in.fast, in.src = fastStore, in.reg
		}
		if in.op != opMovRegImm && in.op != opMovRmImm {
			in.imm = 0
		}
	case opAluRmReg, opAluRegRm, opAluRmImm, opTestRmReg, opTestRmImm:
		if !wide || in.sub == 2 || in.sub == 3 {
			return
		}
		sub := in.sub
		if in.op == opTestRmReg || in.op == opTestRmImm {
			sub = aluTest
		}
		src := zeroReg
		switch in.op {
		case opAluRmReg, opTestRmReg:
			src = int(in.reg)
		case opAluRegRm:
			if in.mem {
				return
			}
			src = int(in.rm)
		}
		dst := in.rm
		if in.op == opAluRegRm {
			dst = in.reg
		}
		switch {
		case !in.mem:
			in.fast, in.dst, in.src, in.sub, in.out = fastOp, dst, uint8(src), sub, dst
			if sub >= 7 {
				in.out = scratchReg
			}
		case simpleMem && (sub == 7 || sub == aluTest):
			in.fast, in.src, in.sub = fastCmpLoad, uint8(src), sub
		default:
			return
		}
		// The selectors of Run's branch-free ALU.
		switch sub {
		case 0:
			in.lop = lazyAdd
		case 5, 7:
			in.lop, in.neg = lazySub, ^uint64(0)
		case 1:
			in.lop, in.and, in.xor = lazyLogic, ^uint64(0), ^uint64(0)
		case 4, aluTest:
			in.lop, in.and = lazyLogic, ^uint64(0)
		case 6:
			in.lop, in.xor = lazyLogic, ^uint64(0)
		}
		in.logic = in.lop == lazyLogic
		if in.op == opAluRmReg || in.op == opAluRegRm || in.op == opTestRmReg {
			in.imm = 0
		}
		in.imm &= in.mask
	case opShiftImm:
		cnt := in.imm & 31
		if in.osz == 8 {
			cnt = in.imm & 63
		}
		if wide && !in.mem && cnt != 0 && in.sub != 2 && in.sub != 3 {
			in.fast, in.dst, in.imm = fastShift, in.rm, cnt
		}
	case opJcc:
		in.fast = fastJcc
	case opJmp:
		in.fast = fastJmp
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
			in.fast, in.src = fastPush, in.reg
		}
	case opPopReg:
		if in.osz == 8 {
			in.fast, in.dst = fastPop, in.reg
		}
	case opMovzx, opMovsx:
		if wide && simpleMem && (in.sub == 1 || in.sub == 2) {
			in.fast, in.dst = fastMovzxLoad, in.reg
			in.imm = 0
			if in.op == opMovsx {
				in.imm = 1
			}
		}
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
