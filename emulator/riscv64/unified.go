package riscv64

// Branch-free instruction forms. Go's WebAssembly backend has no jump
// tables: a switch compiles to a binary search, and every jump between
// basic blocks goes through the function's br_table dispatch loop, costing
// several native instructions and an indirect jump each (golang/go#65440).
// So WebAssembly builds (unifiedOps, set per target by file suffix) decode
// the common instructions into six operations, each tested with one
// compare (in this order), whose bodies compute the result of every variant and select one
// without branching:
//
//   - opSum: x[rd] = x[rs1] + x[rs2] + imm, sign-extended from bit 31 for
//     the W forms: add, addi, addw, addiw (so mv, li and sext.w), lui,
//     auipc and nop, the most frequent instructions, in a short body of
//     their own;
//   - opLoad: integer loads, through one aligned 8-byte read;
//   - opALU: the other integer register-register and register-immediate
//     operations;
//   - opBranch: conditional branches;
//   - opStore: integer stores, as a read-modify-write of one aligned
//     8-byte word;
//   - opJump: jal and jalr, linking or not.
//
// Their control values are precomputed at decode time into fields the
// forms do not otherwise use (fop, rs3, rm). Native builds keep one switch
// case per instruction: there a switch is a jump table, and the branch-free
// bodies would be slower than the specialised cases.

// opSum and opALU operands: a = x[rs1], b = x[rs2] + imm. Register forms
// decode with imm = 0, immediate forms with rs2 = x0, lui and auipc (imm
// already the result) with rs1 = rs2 = x0. For opALU, fop holds the result
// family and the logic bits below. rs3 is 32 for the 32-bit (W) forms, whose shift amount
// is taken mod 32, whose right shifts see the low word (zero- or
// sign-extended) and whose result is sign-extended from bit 31, and 0
// otherwise. rm is 0xff (a mask once sign-extended) to make aluAdd
// subtract, aluShr shift arithmetically and aluSlt compare signed, and 0
// otherwise.
const (
	// aluAnd and aluXor select the logic result: (a&b if aluAnd) ^
	// (a^b if aluXor); both together give a|b.
	aluAndBit = 5
	aluXorBit = 6
	aluAnd    = 1 << aluAndBit
	aluXor    = 1 << aluXorBit

	// Set in aluControl only, moved to rs3 and rm by unify.
	aluW   = 1 << 3
	aluNeg = 1 << 4
)

// Result families of opALU.
const (
	aluAdd   = iota // a + b, a - b
	aluLogic        // and, or, xor
	aluSll          // a << b
	aluShr          // a >> b, arithmetic when rm is 0xff
	aluSlt          // a < b, signed when rm is 0xff
)

// opLoad and opStore: the access is 1 << fop bytes; rs3 is 64 minus its
// width in bits. For loads rm is 0xff to sign-extend, 0 to zero-extend.

// opBranch: the condition is a == b, or a < b with brLess, inverted by
// brInvert; rs3 is 0x80 for a signed comparison (it becomes the sign bit
// that both operands are flipped by).
const (
	brLess   = 1 << 0
	brInvert = 1 << 1
)

// opJump: target = (x[rs1] + imm) &^ 1, with rs1 = x0 and imm the absolute
// target for jal; the return address goes to rd (x0 when not linking).

// aluControl is the opALU control of each integer operation (unify sends
// the add family to opSum instead).
var aluControl = [...]uint8{
	opAddi: aluAdd, opLui: aluAdd, opAuipc: aluAdd,
	opSlti: aluSlt | aluNeg, opSltiu: aluSlt,
	opXori: aluLogic | aluXor, opOri: aluLogic | aluAnd | aluXor, opAndi: aluLogic | aluAnd,
	opSlli: aluSll, opSrli: aluShr, opSrai: aluShr | aluNeg,
	opAddiw: aluAdd | aluW, opSlliw: aluSll | aluW, opSrliw: aluShr | aluW, opSraiw: aluShr | aluNeg | aluW,
	opAdd: aluAdd, opSub: aluAdd | aluNeg, opSll: aluSll,
	opSlt: aluSlt | aluNeg, opSltu: aluSlt,
	opXor: aluLogic | aluXor, opSrl: aluShr, opSra: aluShr | aluNeg,
	opOr: aluLogic | aluAnd | aluXor, opAnd: aluLogic | aluAnd,
	opAddw: aluAdd | aluW, opSubw: aluAdd | aluNeg | aluW,
	opSllw: aluSll | aluW, opSrlw: aluShr | aluW, opSraw: aluShr | aluNeg | aluW,
}

// unify rewrites a decoded instruction into its branch-free form when
// there is one; other instructions are returned unchanged.
func unify(in inst) inst {
	mask := func(b bool) uint8 {
		if b {
			return 0xff
		}
		return 0
	}
	switch {
	case in.op == opNop:
		return inst{op: opSum, halfword: in.halfword}
	case in.op == opAddi || in.op == opLui || in.op == opAuipc || in.op == opAdd:
		return inst{op: opSum, rd: in.rd, rs1: in.rs1, rs2: in.rs2, imm: in.imm, halfword: in.halfword}
	case in.op == opAddiw || in.op == opAddw:
		return inst{op: opSum, rd: in.rd, rs1: in.rs1, rs2: in.rs2, rs3: 32, imm: in.imm, halfword: in.halfword}
	case in.op >= opAddi && in.op <= opSraw:
		// Immediate forms decode with rs2 = x0, register forms with
		// imm = 0: both read b = x[rs2] + imm.
		ctl := aluControl[in.op]
		out := inst{op: opALU, fop: ctl &^ (aluW | aluNeg), rm: mask(ctl&aluNeg != 0),
			rd: in.rd, rs1: in.rs1, rs2: in.rs2, imm: in.imm, halfword: in.halfword}
		if ctl&aluW != 0 {
			out.rs3 = 32
		}
		return out
	case in.op >= opLb && in.op <= opLwu:
		size := [...]uint8{1, 2, 4, 8, 1, 2, 4}[in.op-opLb]
		signed := in.op <= opLw
		return inst{op: opLoad, fop: log2(size), rs3: 64 - 8*size, rm: mask(signed),
			rd: in.rd, rs1: in.rs1, imm: in.imm, halfword: in.halfword}
	case in.op >= opSb && in.op <= opSd:
		size := uint8(1) << (in.op - opSb)
		return inst{op: opStore, fop: in.op - opSb, rs3: 64 - 8*size,
			rs1: in.rs1, rs2: in.rs2, imm: in.imm, halfword: in.halfword}
	case in.op >= opBeq && in.op <= opBgeu:
		ctl := [...]uint8{0, brInvert, brLess, brLess | brInvert, brLess, brLess | brInvert}[in.op-opBeq]
		signed := in.op == opBlt || in.op == opBge
		return inst{op: opBranch, fop: ctl, rs3: mask(signed) & 0x80,
			rs1: in.rs1, rs2: in.rs2, imm: in.imm, halfword: in.halfword}
	case in.op == opJal || in.op == opJ:
		return inst{op: opJump, rd: in.rd, imm: in.imm, halfword: in.halfword}
	case in.op == opJalr || in.op == opJr:
		return inst{op: opJump, rd: in.rd, rs1: in.rs1, imm: in.imm, halfword: in.halfword}
	}
	return in
}

func log2(size uint8) uint8 {
	n := uint8(0)
	for size > 1 {
		size >>= 1
		n++
	}
	return n
}
