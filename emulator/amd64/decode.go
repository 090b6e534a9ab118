package amd64

import "encoding/binary"

// maxInstLen is the architectural limit of an instruction's length;
// longer encodings raise #GP, as on hardware.
const maxInstLen = 15

// decoder reads an instruction's bytes. short records a read past the
// bytes available, so the caller can fetch more or report the fault.
type decoder struct {
	b     []byte
	i     int
	short bool
}

func (d *decoder) u8() byte {
	if d.i >= len(d.b) {
		d.short = true
		d.i++
		return 0
	}
	v := d.b[d.i]
	d.i++
	return v
}

func (d *decoder) u16() uint16 {
	return uint16(d.u8()) | uint16(d.u8())<<8
}

func (d *decoder) u32() uint32 {
	return uint32(d.u16()) | uint32(d.u16())<<16
}

func (d *decoder) u64() uint64 {
	return uint64(d.u32()) | uint64(d.u32())<<32
}

// immZ reads an Iz immediate: 16 bits for 16-bit operands, else 32 bits
// sign-extended.
func (d *decoder) immZ(osz uint8) uint64 {
	if osz == 2 {
		return uint64(d.u16())
	}
	return uint64(int64(int32(d.u32())))
}

func (d *decoder) immB() uint64 { return uint64(int64(int8(d.u8()))) }

// modrm decodes a ModRM byte and the SIB byte and displacement it implies.
func (d *decoder) modrm(in *inst, rex byte) (mod, reg byte) {
	m := d.u8()
	mod, reg = m>>6, (m>>3)&7
	rm := m & 7
	in.reg = reg | (rex&4)<<1
	if mod == 3 {
		in.rm = rm | (rex&1)<<3
		return
	}
	in.mem = true
	in.base, in.index = noReg, noReg
	switch {
	case rm == 4:
		sib := d.u8()
		idx := (sib>>3)&7 | (rex&2)<<2
		if idx != 4 {
			in.index, in.scale = idx, sib>>6
		}
		base := sib & 7
		if base == 5 && mod == 0 {
			in.disp = int64(int32(d.u32()))
		} else {
			in.base = base | (rex&1)<<3
		}
	case rm == 5 && mod == 0:
		// rip-relative: made absolute once the length is known.
		in.disp = int64(int32(d.u32()))
		in.base = ripBase
	default:
		in.base = rm | (rex&1)<<3
	}
	switch mod {
	case 1:
		in.disp = int64(int8(d.u8()))
	case 2:
		in.disp = int64(int32(d.u32()))
	}
	return
}

// ripBase marks a rip-relative memory operand during decoding.
const ripBase = 0xfe

// decode decodes the instruction at the start of b, which is at address
// pc. ok is false when b ends before the instruction does (b holds every
// byte up to the end of the executable memory at pc, or 15).
func decode(b []byte, pc uint64) (in inst, ok bool) {
	d := decoder{b: b}
	var rex, op byte
	var opsize16 bool
	for {
		if d.i >= maxInstLen {
			return tooLong(), true
		}
		p := d.u8()
		if d.short {
			return inst{}, false
		}
		if p&0xf0 == 0x40 {
			rex, in.rex = p, true
			continue
		}
		if !isLegacyPrefix(p) {
			op = p
			break
		}
		// A REX prefix only counts right before the opcode.
		rex, in.rex = 0, false
		switch p {
		case 0x66:
			opsize16 = true
		case 0x67:
			in.addr32 = true
		case 0xf0:
			in.lock = true
		case 0xf2:
			in.rep = repF2
		case 0xf3:
			in.rep = repF3
		case 0x64:
			in.seg = segFS
		case 0x65:
			in.seg = segGS
		}
		// es, cs, ss and ds overrides change nothing: their base is 0.
	}
	in.osz = 4
	switch {
	case rex&8 != 0:
		in.osz = 8
	case opsize16:
		in.osz = 2
	}
	switch {
	case in.rep == repF2:
		in.pfx = pfxF2
	case in.rep == repF3:
		in.pfx = pfxF3
	case opsize16:
		in.pfx = pfx66
	}
	if op == 0x0f {
		decode0F(&d, &in, rex, pc)
	} else {
		// REX.W overrides 0x66 for the stack operations' size too.
		decode1(&d, &in, op, rex, opsize16 && rex&8 == 0, pc)
	}
	if d.short {
		if len(b) >= maxInstLen {
			return tooLong(), true
		}
		return inst{}, false
	}
	if d.i > maxInstLen {
		return tooLong(), true
	}
	if in.lock && !lockable(&in) {
		in.op = opIllegal
	}
	in.len = uint8(d.i)
	next := pc + uint64(d.i)
	if in.mem && in.base == ripBase {
		in.base, in.ripRel = noReg, true
		in.disp += int64(next)
	}
	switch in.op {
	case opJcc, opJmp, opCall, opLoop:
		// Relative targets were stored as displacements.
		in.imm += next
		if in.osz == 2 {
			in.imm &= 0xffff
		}
	case opIllegal:
		return illegal(b[:min(len(b), d.i)]), true
	}
	return in, true
}

// lockable reports whether the lock prefix is allowed on in: on the
// read-modify-write instructions with a memory destination; anywhere
// else it raises #UD.
func lockable(in *inst) bool {
	if !in.mem {
		return false
	}
	switch in.op {
	case opAluRmReg, opAluRmImm:
		return in.sub != 7 // not cmp
	case opBtRmReg, opBtRmImm:
		return in.sub != 4 // not bt
	case opIncRm, opDecRm, opNotRm, opNegRm, opXchgRmReg, opXadd, opCmpxchg, opCmpxchg16b:
		return true
	}
	return false
}

func isLegacyPrefix(p byte) bool {
	switch p {
	case 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65:
		return true
	}
	return false
}

// tooLong is an encoding longer than maxInstLen: #GP, like a privileged
// instruction.
func tooLong() inst { return inst{op: opPrivileged, len: maxInstLen} }

// illegal is an undecodable instruction; the exit reports its first
// bytes.
func illegal(b []byte) inst {
	var buf [16]byte
	n := copy(buf[:maxInstLen], b)
	return inst{op: opIllegal, sub: uint8(n), imm: le.Uint64(buf[:]), disp: int64(le.Uint64(buf[8:]))}
}

// stackSize is the operand size of pushes, pops and near branches: 64
// bits unless 0x66 asks for 16.
func stackSize(opsize16 bool) uint8 {
	if opsize16 {
		return 2
	}
	return 8
}

// decode1 decodes the one-byte opcode map.
func decode1(d *decoder, in *inst, op, rex byte, opsize16 bool, pc uint64) {
	switch {
	case op < 0x40 && op&7 <= 5:
		in.sub = op >> 3
		switch op & 7 {
		case 0, 1:
			in.op = opAluRmReg
			d.modrm(in, rex)
		case 2, 3:
			in.op = opAluRegRm
			d.modrm(in, rex)
		case 4:
			in.op, in.rm = opAluRmImm, RAX
			in.osz = 1
			in.imm = d.immB()
		case 5:
			in.op, in.rm = opAluRmImm, RAX
			in.imm = d.immZ(in.osz)
		}
		if op&1 == 0 {
			in.osz = 1
		}
		return
	case op >= 0x50 && op <= 0x57:
		in.op, in.reg, in.osz = opPushReg, op&7|(rex&1)<<3, stackSize(opsize16)
		return
	case op >= 0x58 && op <= 0x5f:
		in.op, in.reg, in.osz = opPopReg, op&7|(rex&1)<<3, stackSize(opsize16)
		return
	case op >= 0x70 && op <= 0x7f:
		in.op, in.cond = opJcc, op&0xf
		in.imm = d.immB()
		in.osz = 8
		return
	case op >= 0x91 && op <= 0x97 || op == 0x90 && rex&1 != 0:
		in.op, in.rm, in.reg = opXchgRmReg, op&7|(rex&1)<<3, RAX
		return
	case op >= 0xb0 && op <= 0xb7:
		in.op, in.reg, in.osz = opMovRegImm, op&7|(rex&1)<<3, 1
		in.imm = uint64(d.u8())
		return
	case op >= 0xb8 && op <= 0xbf:
		in.op, in.reg = opMovRegImm, op&7|(rex&1)<<3
		switch in.osz {
		case 2:
			in.imm = uint64(d.u16())
		case 4:
			in.imm = uint64(d.u32())
		default:
			in.imm = d.u64()
		}
		return
	case op >= 0xd8 && op <= 0xdf:
		in.op, in.sub = opX87, op&7
		start := d.i
		d.modrm(in, rex)
		if start < len(d.b) {
			in.imm = uint64(d.b[start])
		}
		return
	}
	switch op {
	case 0x63:
		in.op, in.sub = opMovsx, 4
		d.modrm(in, rex)
	case 0x68:
		in.op, in.osz = opPushImm, stackSize(opsize16)
		in.imm = d.immZ(in.osz)
	case 0x6a:
		in.op, in.osz = opPushImm, stackSize(opsize16)
		in.imm = d.immB()
	case 0x69:
		in.op = opImulRegRmImm
		d.modrm(in, rex)
		in.imm = d.immZ(in.osz)
	case 0x6b:
		in.op = opImulRegRmImm
		d.modrm(in, rex)
		in.imm = d.immB()
	case 0x6c, 0x6d, 0x6e, 0x6f, 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef, 0xf4, 0xfa, 0xfb, 0xcd, 0xcf, 0xca, 0xcb:
		// Port I/O, hlt, cli/sti, int n, iret, far ret: #GP at CPL 3.
		in.op = opPrivileged
		if op == 0xcd || op >= 0xe4 && op <= 0xe7 {
			d.u8() // int n, in/out with an immediate port
		}
		if op == 0xca {
			d.u16()
		}
	case 0x80, 0x82:
		in.op, in.osz = opAluRmImm, 1
		_, in.sub = d.modrm(in, rex)
		in.imm = d.immB()
		if op == 0x82 {
			in.op = opIllegal
		}
	case 0x81:
		in.op = opAluRmImm
		_, in.sub = d.modrm(in, rex)
		in.imm = d.immZ(in.osz)
	case 0x83:
		in.op = opAluRmImm
		_, in.sub = d.modrm(in, rex)
		in.imm = d.immB()
	case 0x84, 0x85:
		in.op = opTestRmReg
		d.modrm(in, rex)
		if op == 0x84 {
			in.osz = 1
		}
	case 0x86, 0x87:
		in.op = opXchgRmReg
		d.modrm(in, rex)
		if op == 0x86 {
			in.osz = 1
		}
	case 0x88, 0x89:
		in.op = opMovRmReg
		d.modrm(in, rex)
		if op == 0x88 {
			in.osz = 1
		}
	case 0x8a, 0x8b:
		in.op = opMovRegRm
		d.modrm(in, rex)
		if op == 0x8a {
			in.osz = 1
		}
	case 0x8d:
		in.op = opLea
		d.modrm(in, rex)
		if !in.mem {
			in.op = opIllegal
		}
	case 0x8f:
		in.op, in.osz = opPopRm, stackSize(opsize16)
		if _, reg := d.modrm(in, rex); reg != 0 {
			in.op = opIllegal
		}
	case 0x90:
		in.op = opNop
	case 0x98:
		in.op = opCbw
	case 0x99:
		in.op = opCwd
	case 0x9b:
		in.op = opNop // fwait: x87 exceptions are masked
	case 0x9c:
		in.op, in.osz = opPushf, stackSize(opsize16)
	case 0x9d:
		in.op, in.osz = opPopf, stackSize(opsize16)
	case 0x9e:
		in.op = opSahf
	case 0x9f:
		in.op = opLahf
	case 0xa0, 0xa1, 0xa2, 0xa3:
		in.op = opMovMoffsLoad
		if op >= 0xa2 {
			in.op = opMovMoffsStore
		}
		if op&1 == 0 {
			in.osz = 1
		}
		if in.addr32 {
			in.imm = uint64(d.u32())
		} else {
			in.imm = d.u64()
		}
	case 0xa4, 0xa5:
		in.op = opMovs
		if op&1 == 0 {
			in.osz = 1
		}
	case 0xa6, 0xa7:
		in.op = opCmps
		if op&1 == 0 {
			in.osz = 1
		}
	case 0xaa, 0xab:
		in.op = opStos
		if op&1 == 0 {
			in.osz = 1
		}
	case 0xac, 0xad:
		in.op = opLods
		if op&1 == 0 {
			in.osz = 1
		}
	case 0xae, 0xaf:
		in.op = opScas
		if op&1 == 0 {
			in.osz = 1
		}
	case 0xa8:
		in.op, in.rm, in.osz = opTestRmImm, RAX, 1
		in.imm = uint64(d.u8())
	case 0xa9:
		in.op, in.rm = opTestRmImm, RAX
		in.imm = d.immZ(in.osz)
	case 0xc0, 0xc1:
		in.op = opShiftImm
		_, in.sub = d.modrm(in, rex)
		in.imm = uint64(d.u8())
		if op == 0xc0 {
			in.osz = 1
		}
	case 0xd0, 0xd1:
		in.op = opShiftImm
		_, in.sub = d.modrm(in, rex)
		in.imm = 1
		if op == 0xd0 {
			in.osz = 1
		}
	case 0xd2, 0xd3:
		in.op = opShiftCL
		_, in.sub = d.modrm(in, rex)
		if op == 0xd2 {
			in.osz = 1
		}
	case 0xc2:
		in.op, in.osz = opRet, stackSize(opsize16)
		in.imm = uint64(d.u16())
	case 0xc3:
		in.op, in.osz = opRet, stackSize(opsize16)
	case 0xc6, 0xc7:
		in.op = opMovRmImm
		_, reg := d.modrm(in, rex)
		if op == 0xc6 {
			in.osz = 1
			in.imm = uint64(d.u8())
		} else {
			in.imm = d.immZ(in.osz)
		}
		if reg != 0 {
			in.op = opIllegal
		}
	case 0xc8:
		in.op, in.osz = opEnter, stackSize(opsize16)
		in.imm = uint64(d.u16())
		in.level = d.u8()
	case 0xc9:
		in.op, in.osz = opLeave, stackSize(opsize16)
	case 0xcc:
		in.op = opInt3
	case 0xe0, 0xe1, 0xe2, 0xe3:
		in.op, in.sub = opLoop, op&3
		in.imm = d.immB()
		in.osz = 8
	case 0xe8:
		in.op, in.osz = opCall, 8
		in.imm = uint64(int64(int32(d.u32())))
	case 0xe9:
		in.op, in.osz = opJmp, 8
		in.imm = uint64(int64(int32(d.u32())))
	case 0xeb:
		in.op, in.osz = opJmp, 8
		in.imm = d.immB()
	case 0xf5:
		in.op = opCmc
	case 0xf6, 0xf7:
		_, reg := d.modrm(in, rex)
		if op == 0xf6 {
			in.osz = 1
		}
		switch reg {
		case 0, 1:
			in.op = opTestRmImm
			if op == 0xf6 {
				in.imm = uint64(d.u8())
			} else {
				in.imm = d.immZ(in.osz)
			}
		case 2:
			in.op = opNotRm
		case 3:
			in.op = opNegRm
		case 4, 5:
			in.op, in.sub = opMulRm, reg
		case 6, 7:
			in.op, in.sub = opDivRm, reg
		}
	case 0xf8:
		in.op = opClc
	case 0xf9:
		in.op = opStc
	case 0xfc:
		in.op = opCld
	case 0xfd:
		in.op = opStd
	case 0xfe:
		in.osz = 1
		switch _, reg := d.modrm(in, rex); reg {
		case 0:
			in.op = opIncRm
		case 1:
			in.op = opDecRm
		default:
			in.op = opIllegal
		}
	case 0xff:
		switch _, reg := d.modrm(in, rex); reg {
		case 0:
			in.op = opIncRm
		case 1:
			in.op = opDecRm
		case 2:
			in.op, in.osz = opCallRm, 8
		case 4:
			in.op, in.osz = opJmpRm, 8
		case 6:
			in.op, in.osz = opPushRm, stackSize(opsize16)
		default:
			in.op = opIllegal
		}
	default:
		in.op = opIllegal
	}
}

// decode0F decodes the two- and three-byte opcode maps.
func decode0F(d *decoder, in *inst, rex byte, pc uint64) {
	op := d.u8()
	switch {
	case op >= 0x40 && op <= 0x4f:
		in.op, in.cond = opCmovcc, op&0xf
		d.modrm(in, rex)
		return
	case op >= 0x80 && op <= 0x8f:
		in.op, in.cond, in.osz = opJcc, op&0xf, 8
		in.imm = uint64(int64(int32(d.u32())))
		return
	case op >= 0x90 && op <= 0x9f:
		in.op, in.cond, in.osz = opSetcc, op&0xf, 1
		d.modrm(in, rex)
		return
	case op >= 0xc8 && op <= 0xcf:
		in.op, in.reg = opBswap, op&7|(rex&1)<<3
		return
	case op >= 0x18 && op <= 0x1f:
		// Prefetch hints, endbr64 and the multi-byte nops.
		in.op = opNop
		d.modrm(in, rex)
		return
	case sseOpcode(op):
		in.op, in.sub = opSSE, op
		d.modrm(in, rex)
		switch op {
		case 0x70, 0x71, 0x72, 0x73, 0xc2, 0xc4, 0xc5, 0xc6:
			in.imm = uint64(d.u8())
		}
		return
	}
	switch op {
	case 0x01:
		if m := d.u8(); m == 0xf9 {
			in.op = opRdtscp
		} else {
			in.op = opIllegal
		}
	case 0x05:
		in.op = opSyscall
	case 0x0b:
		in.op = opUD
	case 0x0d:
		in.op = opNop // prefetchw
		d.modrm(in, rex)
	case 0x31:
		in.op = opRdtsc
	case 0x38:
		in.op, in.sub = opSSE38, d.u8()
		d.modrm(in, rex)
	case 0x3a:
		in.op, in.sub = opSSE3A, d.u8()
		d.modrm(in, rex)
		in.imm = uint64(d.u8())
	case 0x77:
		in.op = opNop // emms
	case 0xa2:
		in.op = opCpuid
	case 0xa3, 0xab, 0xb3, 0xbb:
		in.op, in.sub = opBtRmReg, 4+(op>>3)&3
		d.modrm(in, rex)
	case 0xba:
		in.op = opBtRmImm
		_, in.sub = d.modrm(in, rex)
		in.imm = uint64(d.u8())
		if in.sub < 4 {
			in.op = opIllegal
		}
	case 0xa4, 0xa5:
		in.op = opShld
		d.modrm(in, rex)
		if op == 0xa4 {
			in.imm = uint64(d.u8())
		} else {
			in.sub = 1
		}
	case 0xac, 0xad:
		in.op = opShrd
		d.modrm(in, rex)
		if op == 0xac {
			in.imm = uint64(d.u8())
		} else {
			in.sub = 1
		}
	case 0xae:
		mod, reg := d.modrm(in, rex)
		switch {
		case mod == 3 && reg >= 5 && in.pfx == pfxNone:
			in.op = opFence
		case mod == 3 && reg == 0 && in.pfx == pfxF3:
			in.op = opIllegal // rdfsbase: FSGSBASE is not advertised
		case mod == 3:
			in.op = opIllegal
		case reg == 0:
			in.op = opFxsave
		case reg == 1:
			in.op = opFxrstor
		case reg == 2:
			in.op = opLdmxcsr
		case reg == 3:
			in.op = opStmxcsr
		case reg == 7:
			in.op = opNop // clflush
		default:
			in.op = opIllegal
		}
	case 0xaf:
		in.op = opImulRegRm
		d.modrm(in, rex)
	case 0xb0, 0xb1:
		in.op = opCmpxchg
		d.modrm(in, rex)
		if op == 0xb0 {
			in.osz = 1
		}
	case 0xb6, 0xb7, 0xbe, 0xbf:
		in.op = opMovzx
		if op >= 0xbe {
			in.op = opMovsx
		}
		in.sub = 1 + op&1
		d.modrm(in, rex)
	case 0xb8:
		in.op = opPopcnt
		d.modrm(in, rex)
		if in.pfx != pfxF3 {
			in.op = opIllegal
		}
	case 0xbc, 0xbd:
		// Without BMI1 and LZCNT advertised, the F3 forms (tzcnt, lzcnt)
		// are bsf and bsr, as on the processors that predate them.
		in.op = opBsf
		if op == 0xbd {
			in.op = opBsr
		}
		d.modrm(in, rex)
	case 0xc0, 0xc1:
		in.op = opXadd
		d.modrm(in, rex)
		if op == 0xc0 {
			in.osz = 1
		}
	case 0xc3:
		in.op = opMovRmReg // movnti
		d.modrm(in, rex)
		if !in.mem {
			in.op = opIllegal
		}
	case 0xc7:
		_, reg := d.modrm(in, rex)
		in.op = opIllegal
		if reg == 1 && in.mem {
			in.op = opCmpxchg16b
			if rex&8 != 0 {
				in.osz = 16
			} else {
				in.osz = 8
			}
		}
	default:
		in.op = opIllegal
	}
}

// sseOpcode reports 0F-map opcodes of the SSE/MMX space that take a
// ModRM operand.
func sseOpcode(op byte) bool {
	switch {
	case op >= 0x10 && op <= 0x17, op >= 0x28 && op <= 0x2f, op >= 0x50 && op <= 0x76,
		op >= 0x7c && op <= 0x7f, op == 0xc2, op >= 0xc4 && op <= 0xc6, op >= 0xd0:
		return true
	}
	return false
}

var le = binary.LittleEndian
