package riscv64

import (
	"encoding/binary"
	"unsafe"
)

// inst is one decoded instruction. The layout is 16 bytes so that a page of
// them (one per 2-byte slot) is 32 KiB. The branch-free forms (unified.go)
// keep their precomputed control in fop, rs3 and rm.
type inst struct {
	op       uint8
	rd       uint8
	rs1      uint8
	rs2      uint8
	rs3      uint8
	rm       uint8 // rounding mode field of floating-point instructions
	fop      uint8 // sub-operation of opAtomic, opFP, opCSR and the branch-free forms
	halfword uint8 // instruction length in 2-byte units: 1 or 2
	imm      uint64
}

// header returns the eight one-byte fields of in (op to halfword) as one
// little-endian word, for the hottest paths of Run: one memory access
// instead of one per field. Field f is h >> hF & 0xff.
func (in *inst) header() uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Pointer(in))[:])
}

// Bit offsets of the fields in header's word.
const (
	hRd       = 8
	hRs1      = 16
	hRs2      = 24
	hRs3      = 32
	hRm       = 40
	hFop      = 48
	hHalfword = 56
)

func illegal(raw uint32, halfwords uint8) inst {
	return inst{op: opIllegal, imm: uint64(raw), halfword: halfwords}
}

func signExtend(v uint32, bits uint) uint64 {
	return uint64(int64(int32(v<<(32-bits)) >> (32 - bits)))
}

// pureOp reports whether op only computes x[rd], so that with rd = x0 it
// is a no-op.
func pureOp(op uint8) bool {
	return op >= opAddi && op <= opSraw || op >= opMul && op <= opRemuw
}

// decode32 decodes a 32-bit instruction located at pc.
func decode32(raw uint32, pc uint64) inst {
	in := decode32Plain(raw, pc)
	if unifiedOps {
		return unify(in)
	}
	return in
}

// decode32Plain decodes a 32-bit instruction into one operation per
// instruction, never a branch-free form (the translator's view).
func decode32Plain(raw uint32, pc uint64) inst {
	in := decode32Op(raw, pc)
	if in.rd == 0 && pureOp(in.op) {
		in = inst{op: opNop}
	}
	in.halfword = 2
	return in
}

func validRM(rm uint8) bool { return rm <= 4 || rm == 7 }

func decode32Op(raw uint32, pc uint64) inst {
	rd := uint8(raw>>7) & 31
	rs1 := uint8(raw>>15) & 31
	rs2 := uint8(raw>>20) & 31
	funct3 := (raw >> 12) & 7
	funct7 := raw >> 25
	immI := signExtend(raw>>20, 12)
	immS := signExtend((raw>>25)<<5|(raw>>7)&31, 12)
	bad := illegal(raw, 2)
	r := func(op uint8) inst { return inst{op: op, rd: rd, rs1: rs1, rs2: rs2} }
	i := func(op uint8) inst { return inst{op: op, rd: rd, rs1: rs1, imm: immI} }

	switch raw & 0x7f {
	case 0x37: // LUI
		return inst{op: opLui, rd: rd, imm: signExtend(raw&0xfffff000, 32)}
	case 0x17: // AUIPC
		return inst{op: opAuipc, rd: rd, imm: pc + signExtend(raw&0xfffff000, 32)}
	case 0x6f: // JAL
		off := (raw>>31)<<20 | ((raw>>12)&0xff)<<12 | ((raw>>20)&1)<<11 | ((raw>>21)&0x3ff)<<1
		in := inst{op: opJal, rd: rd, imm: pc + signExtend(off, 21)}
		if rd == 0 {
			in.op = opJ
		}
		return in
	case 0x67: // JALR
		if funct3 != 0 {
			return bad
		}
		in := i(opJalr)
		if rd == 0 {
			in.op = opJr
		}
		return in
	case 0x63: // branches
		off := (raw>>31)<<12 | ((raw>>7)&1)<<11 | ((raw>>25)&0x3f)<<5 | ((raw>>8)&0xf)<<1
		ops := [8]uint8{opBeq, opBne, 0, 0, opBlt, opBge, opBltu, opBgeu}
		if ops[funct3] == 0 {
			return bad
		}
		return inst{op: ops[funct3], rs1: rs1, rs2: rs2, imm: pc + signExtend(off, 13)}
	case 0x03: // loads
		ops := [8]uint8{opLb, opLh, opLw, opLd, opLbu, opLhu, opLwu, 0}
		if ops[funct3] == 0 {
			return bad
		}
		return i(ops[funct3])
	case 0x23: // stores
		ops := [8]uint8{opSb, opSh, opSw, opSd}
		if funct3 > 3 {
			return bad
		}
		return inst{op: ops[funct3], rs1: rs1, rs2: rs2, imm: immS}
	case 0x13: // OP-IMM
		switch funct3 {
		case 0:
			return i(opAddi)
		case 2:
			return i(opSlti)
		case 3:
			return i(opSltiu)
		case 4:
			return i(opXori)
		case 6:
			return i(opOri)
		case 7:
			return i(opAndi)
		case 1:
			if raw>>26 != 0 {
				return bad
			}
			return inst{op: opSlli, rd: rd, rs1: rs1, imm: uint64(raw>>20) & 63}
		case 5:
			switch raw >> 26 {
			case 0:
				return inst{op: opSrli, rd: rd, rs1: rs1, imm: uint64(raw>>20) & 63}
			case 0x10:
				return inst{op: opSrai, rd: rd, rs1: rs1, imm: uint64(raw>>20) & 63}
			}
		}
		return bad
	case 0x1b: // OP-IMM-32
		switch funct3 {
		case 0:
			return i(opAddiw)
		case 1:
			if funct7 == 0 {
				return inst{op: opSlliw, rd: rd, rs1: rs1, imm: uint64(rs2)}
			}
		case 5:
			switch funct7 {
			case 0:
				return inst{op: opSrliw, rd: rd, rs1: rs1, imm: uint64(rs2)}
			case 0x20:
				return inst{op: opSraiw, rd: rd, rs1: rs1, imm: uint64(rs2)}
			}
		}
		return bad
	case 0x33: // OP
		switch funct7 {
		case 0:
			return r([8]uint8{opAdd, opSll, opSlt, opSltu, opXor, opSrl, opOr, opAnd}[funct3])
		case 0x20:
			switch funct3 {
			case 0:
				return r(opSub)
			case 5:
				return r(opSra)
			}
		case 1:
			return r([8]uint8{opMul, opMulh, opMulhsu, opMulhu, opDiv, opDivu, opRem, opRemu}[funct3])
		}
		return bad
	case 0x3b: // OP-32
		switch funct7 {
		case 0:
			switch funct3 {
			case 0:
				return r(opAddw)
			case 1:
				return r(opSllw)
			case 5:
				return r(opSrlw)
			}
		case 0x20:
			switch funct3 {
			case 0:
				return r(opSubw)
			case 5:
				return r(opSraw)
			}
		case 1:
			switch funct3 {
			case 0:
				return r(opMulw)
			case 4:
				return r(opDivw)
			case 5:
				return r(opDivuw)
			case 6:
				return r(opRemw)
			case 7:
				return r(opRemuw)
			}
		}
		return bad
	case 0x0f: // MISC-MEM
		switch funct3 {
		case 0:
			return inst{op: opFence}
		case 1:
			return inst{op: opFenceI}
		}
		return bad
	case 0x73: // SYSTEM
		if funct3 == 0 {
			switch raw {
			case 0x00000073:
				return inst{op: opEcall}
			case 0x00100073:
				return inst{op: opEbreak}
			}
			return bad
		}
		if funct3 == 4 {
			return bad
		}
		fop := [8]uint8{0, csrRW, csrRS, csrRC, 0, csrRWI, csrRSI, csrRCI}[funct3]
		return inst{op: opCSR, fop: fop, rd: rd, rs1: rs1, imm: uint64(raw >> 20)}
	case 0x2f: // AMO
		return decodeAtomic(raw, rd, rs1, rs2, funct3)
	case 0x07: // LOAD-FP
		switch funct3 {
		case 2:
			return i(opFlw)
		case 3:
			return i(opFld)
		}
		return bad
	case 0x27: // STORE-FP
		switch funct3 {
		case 2:
			return inst{op: opFsw, rs1: rs1, rs2: rs2, imm: immS}
		case 3:
			return inst{op: opFsd, rs1: rs1, rs2: rs2, imm: immS}
		}
		return bad
	case 0x43, 0x47, 0x4b, 0x4f: // FMADD, FMSUB, FNMSUB, FNMADD
		fmt := (raw >> 25) & 3
		rm := uint8(funct3)
		if fmt > 1 || !validRM(rm) {
			return bad
		}
		base := [4]uint8{fMaddS, fMsubS, fNmsubS, fNmaddS}[(raw>>2)&3]
		return inst{op: opFP, fop: base + uint8(fmt), rd: rd, rs1: rs1, rs2: rs2, rs3: uint8(raw >> 27), rm: rm}
	case 0x53: // OP-FP
		return decodeOpFP(raw, rd, rs1, rs2, funct3, funct7)
	}
	return bad
}

func decodeAtomic(raw uint32, rd, rs1, rs2 uint8, funct3 uint32) inst {
	bad := illegal(raw, 2)
	if funct3 != 2 && funct3 != 3 {
		return bad
	}
	d := uint8(funct3 - 2)
	var a uint8
	switch raw >> 27 {
	case 0x02:
		if rs2 != 0 {
			return bad
		}
		a = aLrW
	case 0x03:
		a = aScW
	case 0x01:
		a = aSwapW
	case 0x00:
		a = aAddW
	case 0x04:
		a = aXorW
	case 0x0c:
		a = aAndW
	case 0x08:
		a = aOrW
	case 0x10:
		a = aMinW
	case 0x14:
		a = aMaxW
	case 0x18:
		a = aMinuW
	case 0x1c:
		a = aMaxuW
	default:
		return bad
	}
	return inst{op: opAtomic, fop: a + d, rd: rd, rs1: rs1, rs2: rs2}
}

func decodeOpFP(raw uint32, rd, rs1, rs2 uint8, funct3, funct7 uint32) inst {
	bad := illegal(raw, 2)
	rm := uint8(funct3)
	d := uint8(funct7 & 1)
	if funct7&2 != 0 {
		return bad // only the S and D formats exist
	}
	in := inst{op: opFP, rd: rd, rs1: rs1, rs2: rs2, rm: rm}
	withRM := func(f uint8) inst {
		if !validRM(rm) {
			return bad
		}
		in.fop = f
		return in
	}
	switch funct7 >> 2 {
	case 0x00:
		return withRM(fAddS + d)
	case 0x01:
		return withRM(fSubS + d)
	case 0x02:
		return withRM(fMulS + d)
	case 0x03:
		return withRM(fDivS + d)
	case 0x0b:
		if rs2 != 0 {
			return bad
		}
		return withRM(fSqrtS + d)
	case 0x04:
		if funct3 > 2 {
			return bad
		}
		in.fop = [3]uint8{fSgnjS, fSgnjnS, fSgnjxS}[funct3] + d
		return in
	case 0x05:
		if funct3 > 1 {
			return bad
		}
		in.fop = [2]uint8{fMinS, fMaxS}[funct3] + d
		return in
	case 0x08: // FCVT.S.D (funct7 0x20) and FCVT.D.S (0x21)
		if d == 0 && rs2 == 1 {
			return withRM(fCvtSD)
		}
		if d == 1 && rs2 == 0 {
			return withRM(fCvtDS)
		}
		return bad
	case 0x14:
		if funct3 > 2 {
			return bad
		}
		in.fop = [3]uint8{fLeS, fLtS, fEqS}[funct3] + d
		return in
	case 0x18: // float to integer
		if rs2 > 3 {
			return bad
		}
		return withRM([4]uint8{fCvtWS, fCvtWuS, fCvtLS, fCvtLuS}[rs2] + d)
	case 0x1a: // integer to float
		if rs2 > 3 {
			return bad
		}
		return withRM([4]uint8{fCvtSW, fCvtSWu, fCvtSL, fCvtSLu}[rs2] + d)
	case 0x1c:
		if rs2 != 0 {
			return bad
		}
		switch funct3 {
		case 0:
			in.fop = fMvXW + d
			return in
		case 1:
			in.fop = fClassS + d
			return in
		}
		return bad
	case 0x1e:
		if rs2 != 0 || funct3 != 0 {
			return bad
		}
		in.fop = fMvWX + d
		return in
	}
	return bad
}

// decode16 decodes a compressed instruction located at pc into the
// operation of its 32-bit expansion.
func decode16(raw uint16, pc uint64) inst {
	in := decode16Plain(raw, pc)
	if unifiedOps {
		return unify(in)
	}
	return in
}

// decode16Plain is decode32Plain for compressed instructions.
func decode16Plain(raw uint16, pc uint64) inst {
	in := decode16Op(uint32(raw), pc)
	if in.rd == 0 && pureOp(in.op) {
		in = inst{op: opNop}
	}
	in.halfword = 1
	return in
}

func decode16Op(c uint32, pc uint64) inst {
	bad := illegal(c, 1)
	bit := func(n uint) uint32 { return (c >> n) & 1 }
	bits := func(hi, lo uint) uint32 { return (c >> lo) & (1<<(hi-lo+1) - 1) }
	rdp := uint8(bits(4, 2)) + 8  // rd' / rs2'
	rs1p := uint8(bits(9, 7)) + 8 // rs1' / rd'
	rd := uint8(bits(11, 7))
	rs2 := uint8(bits(6, 2))
	imm6 := signExtend(bit(12)<<5|bits(6, 2), 6)
	funct3 := bits(15, 13)

	switch c & 3 {
	case 0:
		switch funct3 {
		case 0: // C.ADDI4SPN
			nz := bits(12, 11)<<4 | bits(10, 7)<<6 | bit(6)<<2 | bit(5)<<3
			if nz == 0 {
				return bad
			}
			return inst{op: opAddi, rd: rdp, rs1: 2, imm: uint64(nz)}
		case 1: // C.FLD
			return inst{op: opFld, rd: rdp, rs1: rs1p, imm: uint64(bits(12, 10)<<3 | bits(6, 5)<<6)}
		case 2: // C.LW
			return inst{op: opLw, rd: rdp, rs1: rs1p, imm: uint64(bits(12, 10)<<3 | bit(6)<<2 | bit(5)<<6)}
		case 3: // C.LD
			return inst{op: opLd, rd: rdp, rs1: rs1p, imm: uint64(bits(12, 10)<<3 | bits(6, 5)<<6)}
		case 5: // C.FSD
			return inst{op: opFsd, rs1: rs1p, rs2: rdp, imm: uint64(bits(12, 10)<<3 | bits(6, 5)<<6)}
		case 6: // C.SW
			return inst{op: opSw, rs1: rs1p, rs2: rdp, imm: uint64(bits(12, 10)<<3 | bit(6)<<2 | bit(5)<<6)}
		case 7: // C.SD
			return inst{op: opSd, rs1: rs1p, rs2: rdp, imm: uint64(bits(12, 10)<<3 | bits(6, 5)<<6)}
		}
		return bad
	case 1:
		switch funct3 {
		case 0: // C.ADDI (C.NOP for rd = 0)
			return inst{op: opAddi, rd: rd, rs1: rd, imm: imm6}
		case 1: // C.ADDIW
			if rd == 0 {
				return bad
			}
			return inst{op: opAddiw, rd: rd, rs1: rd, imm: imm6}
		case 2: // C.LI
			return inst{op: opLui, rd: rd, imm: imm6}
		case 3:
			if rd == 2 { // C.ADDI16SP
				nz := bit(12)<<9 | bit(6)<<4 | bit(5)<<6 | bits(4, 3)<<7 | bit(2)<<5
				if nz == 0 {
					return bad
				}
				return inst{op: opAddi, rd: 2, rs1: 2, imm: signExtend(nz, 10)}
			}
			// C.LUI
			nz := bit(12)<<17 | bits(6, 2)<<12
			if nz == 0 {
				return bad
			}
			return inst{op: opLui, rd: rd, imm: signExtend(nz, 18)}
		case 4:
			switch bits(11, 10) {
			case 0: // C.SRLI
				return inst{op: opSrli, rd: rs1p, rs1: rs1p, imm: uint64(bit(12)<<5 | bits(6, 2))}
			case 1: // C.SRAI
				return inst{op: opSrai, rd: rs1p, rs1: rs1p, imm: uint64(bit(12)<<5 | bits(6, 2))}
			case 2: // C.ANDI
				return inst{op: opAndi, rd: rs1p, rs1: rs1p, imm: imm6}
			}
			r := func(op uint8) inst { return inst{op: op, rd: rs1p, rs1: rs1p, rs2: rdp} }
			if bit(12) == 0 {
				return r([4]uint8{opSub, opXor, opOr, opAnd}[bits(6, 5)])
			}
			switch bits(6, 5) {
			case 0:
				return r(opSubw)
			case 1:
				return r(opAddw)
			}
			return bad
		case 5: // C.J
			off := bit(12)<<11 | bit(11)<<4 | bits(10, 9)<<8 | bit(8)<<10 | bit(7)<<6 | bit(6)<<7 | bits(5, 3)<<1 | bit(2)<<5
			return inst{op: opJ, imm: pc + signExtend(off, 12)}
		case 6, 7: // C.BEQZ, C.BNEZ
			off := bit(12)<<8 | bits(11, 10)<<3 | bits(6, 5)<<6 | bits(4, 3)<<1 | bit(2)<<5
			op := opBeq
			if funct3 == 7 {
				op = opBne
			}
			return inst{op: op, rs1: rs1p, rs2: 0, imm: pc + signExtend(off, 9)}
		}
	case 2:
		switch funct3 {
		case 0: // C.SLLI
			return inst{op: opSlli, rd: rd, rs1: rd, imm: uint64(bit(12)<<5 | bits(6, 2))}
		case 1: // C.FLDSP
			return inst{op: opFld, rd: rd, rs1: 2, imm: uint64(bit(12)<<5 | bits(6, 5)<<3 | bits(4, 2)<<6)}
		case 2: // C.LWSP
			if rd == 0 {
				return bad
			}
			return inst{op: opLw, rd: rd, rs1: 2, imm: uint64(bit(12)<<5 | bits(6, 4)<<2 | bits(3, 2)<<6)}
		case 3: // C.LDSP
			if rd == 0 {
				return bad
			}
			return inst{op: opLd, rd: rd, rs1: 2, imm: uint64(bit(12)<<5 | bits(6, 5)<<3 | bits(4, 2)<<6)}
		case 4:
			if bit(12) == 0 {
				if rs2 == 0 { // C.JR
					if rd == 0 {
						return bad
					}
					return inst{op: opJr, rs1: rd}
				}
				return inst{op: opAdd, rd: rd, rs1: 0, rs2: rs2} // C.MV
			}
			if rs2 == 0 {
				if rd == 0 {
					return inst{op: opEbreak} // C.EBREAK
				}
				return inst{op: opJalr, rd: 1, rs1: rd} // C.JALR
			}
			return inst{op: opAdd, rd: rd, rs1: rd, rs2: rs2} // C.ADD
		case 5: // C.FSDSP
			return inst{op: opFsd, rs1: 2, rs2: rs2, imm: uint64(bits(12, 10)<<3 | bits(9, 7)<<6)}
		case 6: // C.SWSP
			return inst{op: opSw, rs1: 2, rs2: rs2, imm: uint64(bits(12, 9)<<2 | bits(8, 7)<<6)}
		case 7: // C.SDSP
			return inst{op: opSd, rs1: 2, rs2: rs2, imm: uint64(bits(12, 10)<<3 | bits(9, 7)<<6)}
		}
	}
	return bad
}
