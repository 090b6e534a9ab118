package amd64

import "unsafe"

// inst is one decoded instruction. The decoder resolves everything that
// does not depend on register values: operand size, the register
// operands, the memory operand's parts (a rip-relative displacement is
// made absolute), immediates, prefixes, and the operation in op (with
// sub selecting a variant within a group).
type inst struct {
	// The fields the fast forms read most come first, so that Run loads
	// the register operands in one word (header) rather than one by one.
	//
	// fast is the instruction's fast form (fast.go), or fastNone; dst,
	// src, base, index and scale its register operands, len its length
	// in bytes. out is where fastOp and fastOpLoad write: dst, or the
	// scratch register for cmp and test.
	fast  uint8
	len   uint8
	out   uint8
	src   uint8
	base  uint8
	index uint8
	scale uint8
	dst   uint8

	// lop, logic and sel select fastOp's operation without branches: the
	// lazy flag kind; the logic result instead of the sum; and the
	// selector bits (selNeg: subtract; selAnd, selXor: keep a&b and a^b
	// in the logic result, a|b being their xor).
	lop uint8
	// osz is the operand size in bytes: 1, 2, 4 or 8 (16 for whole XMM
	// operands).
	osz   uint8
	sel   uint8
	logic bool
	// cond is the condition code of jcc, setcc and cmovcc.
	cond uint8
	sub  uint8
	// compare marks a fastCond whose condition compares two operands
	// (setCompare), which reuses sel.
	compare bool
	// mem says the r/m operand is in memory at base+index<<scale+disp
	// (plus the fs or gs base).
	mem bool

	op uint16
	// reg is ModRM.reg extended by REX.R, or the register an opcode
	// names in its low bits (extended by REX.B).
	reg uint8
	// rm is ModRM.rm extended by REX.B when the operand is a register.
	rm  uint8
	seg uint8
	// rex says a REX prefix was present: byte registers 4-7 are then
	// spl, bpl, sil, dil instead of ah, ch, dh, bh.
	rex bool
	// addr32 is the 0x67 prefix: effective addresses wrap at 32 bits.
	addr32 bool
	// rep is the F3 (repF3) or F2 (repF2) prefix of string instructions.
	rep uint8
	// pfx is the mandatory prefix of SSE instructions (pfxNone, pfx66,
	// pfxF3, pfxF2).
	pfx  uint8
	lock bool
	// level is enter's nesting level.
	level uint8
	// ripRel says the memory operand was rip-relative: disp includes
	// the address of the next instruction (the translator, which decodes
	// at page offsets, adds the page's address at run time).
	ripRel bool
	// disp and imm also keep an illegal instruction's bytes (with their
	// count in sub) for the exit.
	disp int64
	imm  uint64
	mask uint64
}

// header returns the first eight one-byte fields of in (fast to dst) as
// one little-endian word: one memory access instead of one per field.
// Field f is h >> hF & 0xff.
func (in *inst) header() uint64 {
	return *(*uint64)(unsafe.Pointer(in))
}

// The fields header reads must stay where they are.
var (
	_ [unsafe.Offsetof(inst{}.dst) - 7]struct{}
	_ [7 - unsafe.Offsetof(inst{}.dst)]struct{}
)

// Bit offsets of the fields in header's word.
const (
	hLen   = 8
	hOut   = 16
	hSrc   = 24
	hBase  = 32
	hIndex = 40
	hScale = 48
	hDst   = 56
)

// Bits of inst.sel.
const (
	selNeg = 1 << iota
	selAnd
	selXor
)

// illegalBytes returns the bytes illegal kept.
func (in *inst) illegalBytes() []byte {
	var b [16]byte
	le.PutUint64(b[:], in.imm)
	le.PutUint64(b[8:], uint64(in.disp))
	return append([]byte(nil), b[:min(in.sub, maxInstLen)]...)
}

const (
	// noReg marks a missing base or index register. It is CPU.zero's
	// index in CPU.regs(), so effective addresses need no test for it.
	noReg = 16

	segNone = 0
	segFS   = 1
	segGS   = 2

	repNone = 0
	repF3   = 1
	repF2   = 2

	pfxNone = 0
	pfx66   = 1
	pfxF3   = 2
	pfxF2   = 3
)

// Operations. Groups share an op and tell their members apart by sub.
const (
	opIllegal uint16 = iota
	opNop
	// ALU group (sub: 0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp).
	opAluRmReg // E op= G
	opAluRegRm // G op= E
	opAluRmImm // E op= imm (also the accumulator forms)
	opTestRmReg
	opTestRmImm
	opIncRm
	opDecRm
	opNotRm
	opNegRm
	opMulRm // sub: 4 mul, 5 imul (one operand, rdx:rax)
	opDivRm // sub: 6 div, 7 idiv
	opImulRegRm
	opImulRegRmImm
	// Shift group (sub: 0 rol, 1 ror, 2 rcl, 3 rcr, 4 shl, 5 shr, 6 sal, 7 sar);
	// the count is imm (opShiftImm), 1 or cl.
	opShiftImm
	opShiftCL
	opShld // imm count; sub 1: cl count
	opShrd
	opBtRmReg // sub: 4 bt, 5 bts, 6 btr, 7 btc
	opBtRmImm
	opBsf
	opBsr
	opPopcnt
	opBswap
	opMovRmReg
	opMovRegRm
	opMovRmImm
	opMovRegImm
	opMovMoffsLoad  // al/ax/eax/rax <- [imm]
	opMovMoffsStore // [imm] <- al/ax/eax/rax
	opMovzx         // sub: source size
	opMovsx         // sub: source size (movsxd: 4)
	opLea
	opXchgRmReg
	opCmpxchg
	opCmpxchg16b // osz 8: cmpxchg8b, 16: cmpxchg16b
	opXadd
	opCbw // cbw/cwde/cdqe by osz
	opCwd // cwd/cdq/cqo by osz
	opPushReg
	opPushRm
	opPushImm
	opPopReg
	opPopRm
	opPushf
	opPopf
	opSahf
	opLahf
	opLeave
	opEnter
	opSetcc
	opCmovcc
	opJcc
	opJmp    // imm holds the absolute target
	opJmpRm  // indirect
	opCall   // imm holds the absolute target
	opCallRm // indirect
	opRet    // imm: bytes to release after the return address
	opLoop   // sub: 0 loopne, 1 loope, 2 loop, 3 jrcxz
	opCmc
	opClc
	opStc
	opCld
	opStd
	opMovs
	opCmps
	opStos
	opLods
	opScas
	opSyscall
	opCpuid
	opRdtsc
	opRdtscp
	opInt3
	opUD
	opPrivileged // and encodings longer than 15 bytes: #GP
	opFence
	opFxsave
	opFxrstor
	opLdmxcsr
	opStmxcsr
	opX87 // x87 escape (D8-DF): sub is the opcode's low 3 bits, imm the ModRM byte

	// SSE and MMX-space instructions of the 0F map: sub is the opcode
	// byte after 0F, pfx the mandatory prefix (sse.go).
	opSSE
	// The 0F 38 and 0F 3A maps (SSSE3, SSE4): sub is the third opcode byte.
	opSSE38
	opSSE3A
	// opTranslated is no instruction: it starts a decoded block where
	// translated code starts (translated.go), with no length.
	opTranslated
)

// The decoded instruction stays 56 bytes (ripRel took padding).
var _ [56 - unsafe.Sizeof(inst{})]struct{}
