package riscv64

// Operation codes of decoded instructions. Compressed instructions decode to
// the same operations as their 32-bit expansions. Instructions whose only
// effect is writing x0 decode to opNop; jumps that do not link decode to
// the non-linking variants.
const (
	opDecode uint8 = iota // entry not decoded yet
	// Branch-free forms (unified.go); fop is the control.
	opSum
	opALU
	opLoad
	opBranch
	opStore
	opJump

	opIllegal
	opNop

	// Integer register-immediate.
	opAddi
	opLui // rd = imm (also c.li, c.lui)
	opAuipc
	opSlti
	opSltiu
	opXori
	opOri
	opAndi
	opSlli
	opSrli
	opSrai
	opAddiw
	opSlliw
	opSrliw
	opSraiw

	// Integer register-register.
	opAdd
	opSub
	opSll
	opSlt
	opSltu
	opXor
	opSrl
	opSra
	opOr
	opAnd
	opAddw
	opSubw
	opSllw
	opSrlw
	opSraw

	// Conditional branches. imm holds the absolute target.
	opBeq
	opBne
	opBlt
	opBge
	opBltu
	opBgeu

	// Integer loads and stores.
	opLb
	opLh
	opLw
	opLd
	opLbu
	opLhu
	opLwu
	opSb
	opSh
	opSw
	opSd

	// Jumps. imm holds the absolute target of jal.
	opJal
	opJ // jal x0
	opJalr
	opJr // jalr x0

	// Floating-point loads and stores.
	opFlw
	opFld
	opFsw
	opFsd

	// M extension.
	opMul
	opMulh
	opMulhsu
	opMulhu
	opDiv
	opDivu
	opRem
	opRemu
	opMulw
	opDivw
	opDivuw
	opRemw
	opRemuw

	// Rarer instructions, executed out of line.
	opAtomic // A extension; aop says which
	opFP     // F/D computation; fop says which
	opCSR    // Zicsr; imm is the CSR number, rs1 the source or uimm
	opFence
	opFenceI
	opEcall
	opEbreak
	// opTranslated marks the entry of a translated block (translated.go);
	// imm is the entry number to pass to translated code.
	opTranslated
)

// opFirstCommon..opLastCommon are the operations (integer computation,
// conditional branches, integer loads and stores) that native builds
// dispatch first and WebAssembly builds replace by the branch-free forms.
const (
	opFirstCommon = opAddi
	opLastCommon  = opSd
)

// Atomic operations (inst.fop of opAtomic). The low bit selects the
// doubleword form.
const (
	aLrW uint8 = iota
	aLrD
	aScW
	aScD
	aSwapW
	aSwapD
	aAddW
	aAddD
	aXorW
	aXorD
	aAndW
	aAndD
	aOrW
	aOrD
	aMinW
	aMinD
	aMaxW
	aMaxD
	aMinuW
	aMinuD
	aMaxuW
	aMaxuD
)

// Floating-point operations (inst.fop of opFP). The low bit selects
// double precision where both precisions exist.
const (
	fAddS uint8 = iota
	fAddD
	fSubS
	fSubD
	fMulS
	fMulD
	fDivS
	fDivD
	fSqrtS
	fSqrtD
	fMaddS
	fMaddD
	fMsubS
	fMsubD
	fNmsubS
	fNmsubD
	fNmaddS
	fNmaddD
	fSgnjS
	fSgnjD
	fSgnjnS
	fSgnjnD
	fSgnjxS
	fSgnjxD
	fMinS
	fMinD
	fMaxS
	fMaxD
	fEqS
	fEqD
	fLtS
	fLtD
	fLeS
	fLeD
	fClassS
	fClassD
	fCvtWS // float to integer: W, WU, L, LU from S and D
	fCvtWD
	fCvtWuS
	fCvtWuD
	fCvtLS
	fCvtLD
	fCvtLuS
	fCvtLuD
	fCvtSW // integer to float
	fCvtDW
	fCvtSWu
	fCvtDWu
	fCvtSL
	fCvtDL
	fCvtSLu
	fCvtDLu
	fCvtSD
	fCvtDS
	fMvXW
	fMvXD
	fMvWX
	fMvDX
)

// CSR operations (inst.fop of opCSR).
const (
	csrRW uint8 = iota
	csrRS
	csrRC
	csrRWI
	csrRSI
	csrRCI
)
