package amd64

import (
	"math/bits"
)

// Results of step.
const (
	// stepNext: the instruction retired; continue with the next one.
	stepNext = iota
	// stepJump: the instruction retired and changed RIP; leave the block.
	stepJump
	// stepExit: the instruction raised an exit recorded in c.exit and
	// had no effect.
	stepExit
	// stepAgain: a repeated string instruction did part of its work and
	// must run again (RIP is left at it), so Run can check its budget.
	stepAgain
	// stepTranslated: translated code starts here (opTranslated).
	stepTranslated
)

// step executes in. c.RIP already holds the address of the next
// instruction.
func (c *CPU) step(in *inst) int {
	switch in.op {
	case opNop, opFence:
		return stepNext

	case opTranslated:
		return stepTranslated

	case opAluRmReg, opAluRegRm, opAluRmImm:
		var a, b uint64
		var ok bool
		switch in.op {
		case opAluRmReg:
			a, ok = c.readRM(in)
			b = c.reg(in.reg, in.osz, in.rex)
		case opAluRegRm:
			a = c.reg(in.reg, in.osz, in.rex)
			b, ok = c.readRM(in)
		default:
			a, ok = c.readRM(in)
			b = in.imm
		}
		if !ok {
			return stepExit
		}
		var res, cin uint64
		lop := lazyLogic
		switch in.sub {
		case 0:
			res, lop = a+b, lazyAdd
		case 1:
			res = a | b
		case 2:
			cin = c.carry()
			res, lop = a+b+cin, lazyAdd
		case 3:
			cin = c.carry()
			res, lop = a-b-cin, lazySub
		case 4:
			res = a & b
		case 5, 7:
			res, lop = a-b, lazySub
		case 6:
			res = a ^ b
		}
		if in.sub != 7 {
			if in.op == opAluRegRm {
				c.setReg(in.reg, in.osz, in.rex, res)
			} else if !c.writeRM(in, res) {
				return stepExit
			}
		}
		c.setLazy(lop, in.osz, a, b, res, cin)

	case opTestRmReg, opTestRmImm:
		a, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		b := in.imm
		if in.op == opTestRmReg {
			b = c.reg(in.reg, in.osz, in.rex)
		}
		c.setLazy(lazyLogic, in.osz, a, b, a&b, 0)

	case opIncRm, opDecRm:
		a, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		res, lop := incDec(in.op, a)
		if !c.writeRM(in, res) {
			return stepExit
		}
		c.setLazy(lop, in.osz, a, 1, res, c.carry())

	case opNotRm:
		a, ok := c.readRM(in)
		if !ok || !c.writeRM(in, ^a) {
			return stepExit
		}

	case opNegRm:
		a, ok := c.readRM(in)
		if !ok || !c.writeRM(in, -a) {
			return stepExit
		}
		c.setLazy(lazySub, in.osz, 0, a, -a, 0)

	case opMulRm:
		return c.mul(in)
	case opDivRm:
		return c.div(in)

	case opImulRegRm, opImulRegRmImm:
		b, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		a := c.reg(in.reg, in.osz, in.rex)
		if in.op == opImulRegRmImm {
			a = in.imm
		}
		res, over := imul(a, b, in.osz)
		c.setReg(in.reg, in.osz, in.rex, res)
		c.setLazy(lazyExplicit, in.osz, 0, 0, res, over)

	case opShiftImm, opShiftCL:
		cnt := in.imm
		if in.op == opShiftCL {
			cnt = c.R[RCX]
		}
		return c.shift(in, cnt)
	case opShld, opShrd:
		return c.doubleShift(in)

	case opBtRmReg, opBtRmImm:
		return c.bitTest(in)

	case opBsf, opBsr:
		src, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		c.materialize()
		if src == 0 {
			c.flags |= FlagZF
			return stepNext
		}
		c.flags &^= FlagZF
		var n int
		if in.op == opBsf {
			n = bits.TrailingZeros64(src)
		} else {
			n = 63 - bits.LeadingZeros64(src)
		}
		c.setReg(in.reg, in.osz, in.rex, uint64(n))

	case opPopcnt:
		src, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		c.setReg(in.reg, in.osz, in.rex, uint64(bits.OnesCount64(src)))
		var f uint64
		if src == 0 {
			f = FlagZF
		}
		c.setArith(f)

	case opBswap:
		v := c.R[in.reg]
		switch in.osz {
		case 8:
			c.R[in.reg] = bits.ReverseBytes64(v)
		case 4:
			c.R[in.reg] = uint64(bits.ReverseBytes32(uint32(v)))
		default:
			// bswap of a 16-bit register is undefined; it clears it.
			c.setReg(in.reg, 2, true, 0)
		}

	case opMovRmReg:
		if !c.writeRM(in, c.reg(in.reg, in.osz, in.rex)) {
			return stepExit
		}
	case opMovRegRm:
		v, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		c.setReg(in.reg, in.osz, in.rex, v)
	case opMovRmImm:
		if !c.writeRM(in, in.imm) {
			return stepExit
		}
	case opMovRegImm:
		c.setReg(in.reg, in.osz, in.rex, in.imm)
	case opMovMoffsLoad, opMovMoffsStore:
		addr := in.imm
		switch in.seg {
		case segFS:
			addr += c.FSBase
		case segGS:
			addr += c.GSBase
		}
		if in.op == opMovMoffsStore {
			if !c.store(addr, in.osz, c.R[RAX]) {
				return stepExit
			}
			return stepNext
		}
		v, ok := c.load(addr, in.osz)
		if !ok {
			return stepExit
		}
		c.setReg(RAX, in.osz, true, v)

	case opMovzx, opMovsx:
		var v uint64
		if in.mem {
			var ok bool
			if v, ok = c.load(c.ea(in), in.sub); !ok {
				return stepExit
			}
		} else {
			v = c.reg(in.rm, in.sub, in.rex)
		}
		if in.op == opMovsx {
			v = signExtend(v, in.sub)
		}
		c.setReg(in.reg, in.osz, in.rex, v)

	case opLea:
		seg := in.seg
		in.seg = segNone
		a := c.ea(in)
		in.seg = seg
		c.setReg(in.reg, in.osz, in.rex, a)

	case opXchgRmReg:
		a, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		b := c.reg(in.reg, in.osz, in.rex)
		if !c.writeRM(in, b) {
			return stepExit
		}
		c.setReg(in.reg, in.osz, in.rex, a)

	case opCmpxchg:
		dst, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		acc := c.reg(RAX, in.osz, true)
		if acc&sizeMask(in.osz) == dst {
			if !c.writeRM(in, c.reg(in.reg, in.osz, in.rex)) {
				return stepExit
			}
		} else {
			// The locked cycle writes the old value back.
			if in.mem && !c.writeRM(in, dst) {
				return stepExit
			}
			c.setReg(RAX, in.osz, true, dst)
		}
		c.setLazy(lazySub, in.osz, acc, dst, acc-dst, 0)

	case opCmpxchg16b:
		return c.cmpxchgDouble(in)

	case opXadd:
		dst, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		src := c.reg(in.reg, in.osz, in.rex)
		res := dst + src
		if in.mem && !c.writeRM(in, res) {
			return stepExit
		}
		// The source gets the old value, then the destination the sum:
		// with one register for both, the sum remains.
		c.setReg(in.reg, in.osz, in.rex, dst)
		if !in.mem {
			c.writeRM(in, res)
		}
		c.setLazy(lazyAdd, in.osz, dst, src, res, 0)

	case opCbw:
		half := in.osz / 2
		c.setReg(RAX, in.osz, true, signExtend(c.reg(RAX, half, true), half))
	case opCwd:
		v := uint64(0)
		if c.reg(RAX, in.osz, true)&signBit(in.osz) != 0 {
			v = ^uint64(0)
		}
		c.setReg(RDX, in.osz, true, v)

	case opPushReg:
		if !c.push(c.R[in.reg], in.osz) {
			return stepExit
		}
	case opPushImm:
		if !c.push(in.imm, in.osz) {
			return stepExit
		}
	case opPushRm:
		v, ok := c.readRM(in)
		if !ok || !c.push(v, in.osz) {
			return stepExit
		}
	case opPopReg:
		v, ok := c.peek(in.osz)
		if !ok {
			return stepExit
		}
		c.R[RSP] += uint64(in.osz)
		c.setReg(in.reg, in.osz, true, v)
	case opPopRm:
		v, ok := c.peek(in.osz)
		if !ok {
			return stepExit
		}
		// The destination's address is computed with the new rsp.
		c.R[RSP] += uint64(in.osz)
		if !c.writeRM(in, v) {
			c.R[RSP] -= uint64(in.osz)
			return stepExit
		}
	case opPushf:
		if !c.push(c.Flags(), in.osz) {
			return stepExit
		}
	case opPopf:
		v, ok := c.peek(in.osz)
		if !ok {
			return stepExit
		}
		c.R[RSP] += uint64(in.osz)
		if in.osz == 2 {
			v = c.Flags()&^0xffff | v&0xffff
		}
		c.SetFlags(v)
	case opSahf:
		c.materialize()
		const m = FlagSF | FlagZF | FlagAF | FlagPF | FlagCF
		c.flags = c.flags&^m | (c.R[RAX]>>8)&m
	case opLahf:
		f := c.Flags()&(FlagSF|FlagZF|FlagAF|FlagPF|FlagCF) | 2
		c.R[RAX] = c.R[RAX]&^0xff00 | f<<8
	case opLeave:
		v, ok := c.load(c.R[RBP], in.osz)
		if !ok {
			return stepExit
		}
		c.R[RSP] = c.R[RBP] + uint64(in.osz)
		c.setReg(RBP, in.osz, true, v)
	case opEnter:
		return c.enter(in)

	case opSetcc:
		var v uint64
		if c.cond(in.cond) {
			v = 1
		}
		if !c.writeRM(in, v) {
			return stepExit
		}
	case opCmovcc:
		v, ok := c.readRM(in)
		if !ok {
			return stepExit
		}
		if c.cond(in.cond) {
			c.setReg(in.reg, in.osz, in.rex, v)
		} else if in.osz == 4 {
			c.R[in.reg] &= 0xffffffff
		}

	case opJcc:
		if c.cond(in.cond) {
			c.RIP = in.imm
		}
		return stepJump
	case opJmp:
		c.RIP = in.imm
		return stepJump
	case opJmpRm:
		v, ok := c.readRM(in)
		if !ok || !c.branchTarget(v) {
			return stepExit
		}
		c.RIP = v
		return stepJump
	case opCall:
		if !c.push(c.RIP, 8) {
			return stepExit
		}
		c.RIP = in.imm
		return stepJump
	case opCallRm:
		v, ok := c.readRM(in)
		if !ok || !c.branchTarget(v) || !c.push(c.RIP, 8) {
			return stepExit
		}
		c.RIP = v
		return stepJump
	case opRet:
		v, ok := c.peek(in.osz)
		if !ok || !c.branchTarget(v) {
			return stepExit
		}
		c.R[RSP] += uint64(in.osz) + in.imm
		c.RIP = v
		return stepJump
	case opLoop:
		cnt := c.R[RCX]
		if in.addr32 {
			cnt &= 0xffffffff
		}
		var taken bool
		if in.sub == 3 {
			taken = cnt == 0
		} else {
			cnt--
			if in.addr32 {
				c.R[RCX] = cnt & 0xffffffff
			} else {
				c.R[RCX] = cnt
			}
			taken = cnt != 0
			switch in.sub {
			case 0:
				taken = taken && c.arith()&FlagZF == 0
			case 1:
				taken = taken && c.arith()&FlagZF != 0
			}
		}
		if taken {
			c.RIP = in.imm
		}
		return stepJump

	case opCmc:
		c.materialize()
		c.flags ^= FlagCF
	case opClc:
		c.materialize()
		c.flags &^= FlagCF
	case opStc:
		c.materialize()
		c.flags |= FlagCF
	case opCld:
		c.flags &^= FlagDF
	case opStd:
		c.flags |= FlagDF

	case opMovs, opCmps, opStos, opLods, opScas:
		return c.str(in)

	case opSyscall:
		c.exit = Exit{Reason: ExitSyscall}
		return stepExit
	case opCpuid:
		c.cpuid()
	case opRdtsc, opRdtscp:
		t := c.tsc()
		c.R[RAX], c.R[RDX] = t&0xffffffff, t>>32
		if in.op == opRdtscp {
			c.R[RCX] = 0
		}
	case opInt3:
		c.exit = Exit{Reason: ExitBreakpoint}
		return stepExit
	case opUD:
		c.exit = Exit{Reason: ExitIllegal}
		return stepExit
	case opPrivileged:
		c.exit = Exit{Reason: ExitGeneralProtection}
		return stepExit
	case opFxsave, opFxrstor, opLdmxcsr, opStmxcsr:
		return c.fpState(in)
	case opSSE, opSSE38, opSSE3A:
		return c.sse(in)
	case opX87:
		return c.x87(in)
	default:
		var b []byte
		if in.op == opIllegal {
			b = in.illegalBytes()
		}
		c.exit = Exit{Reason: ExitIllegal, Bytes: b}
		return stepExit
	}
	return stepNext
}

// branchTarget checks the target of an indirect branch: a non-canonical
// one raises #GP at the branch, not a fetch fault at the target.
func (c *CPU) branchTarget(v uint64) bool {
	if uint64(int64(v<<16)>>16) != v {
		c.exit = Exit{Reason: ExitGeneralProtection}
		return false
	}
	return true
}

// signExtend sign-extends a size-byte value to 64 bits.
func signExtend(v uint64, size uint8) uint64 {
	s := 64 - uint(size)*8
	return uint64(int64(v<<s) >> s)
}

// imul multiplies two size-byte values as signed numbers, returning the
// truncated product and CF|OF when it does not fit.
func imul(a, b uint64, size uint8) (uint64, uint64) {
	if size == 8 {
		hi, lo := bits.Mul64(a, b)
		if int64(a) < 0 {
			hi -= b
		}
		if int64(b) < 0 {
			hi -= a
		}
		if hi != uint64(int64(lo)>>63) {
			return lo, FlagCF | FlagOF
		}
		return lo, 0
	}
	p := int64(signExtend(a, size)) * int64(signExtend(b, size))
	res := uint64(p) & sizeMask(size)
	if int64(signExtend(res, size)) != p {
		return res, FlagCF | FlagOF
	}
	return res, 0
}

// mul is the one-operand mul and imul: rdx:rax = rax * r/m.
func (c *CPU) mul(in *inst) int {
	b, ok := c.readRM(in)
	if !ok {
		return stepExit
	}
	size := in.osz
	a := c.reg(RAX, size, true)
	var lo, hi, over uint64
	if in.sub == 4 {
		if size == 8 {
			hi, lo = bits.Mul64(a, b)
		} else {
			p := a * b
			lo, hi = p&sizeMask(size), p>>(uint(size)*8)
		}
		if hi != 0 {
			over = FlagCF | FlagOF
		}
	} else {
		if size == 8 {
			hi, lo = bits.Mul64(a, b)
			if int64(a) < 0 {
				hi -= b
			}
			if int64(b) < 0 {
				hi -= a
			}
		} else {
			p := uint64(int64(signExtend(a, size)) * int64(signExtend(b, size)))
			lo, hi = p&sizeMask(size), (p>>(uint(size)*8))&sizeMask(size)
		}
		if hi&sizeMask(size) != uint64(int64(signExtend(lo, size))>>63)&sizeMask(size) {
			over = FlagCF | FlagOF
		}
	}
	if size == 1 {
		c.setReg(RAX, 2, true, lo|hi<<8)
	} else {
		c.setReg(RAX, size, true, lo)
		c.setReg(RDX, size, true, hi)
	}
	c.setLazy(lazyExplicit, size, 0, 0, lo, over)
	return stepNext
}

// div is div and idiv: rax = rdx:rax / r/m, rdx = the remainder (ax for
// byte operands). A zero divisor or a quotient too wide raise #DE.
func (c *CPU) div(in *inst) int {
	d, ok := c.readRM(in)
	if !ok {
		return stepExit
	}
	size := in.osz
	var lo, hi uint64
	if size == 1 {
		ax := c.reg(RAX, 2, true)
		lo, hi = ax&0xff, ax>>8
	} else {
		lo, hi = c.reg(RAX, size, true), c.reg(RDX, size, true)
	}
	var q, r uint64
	if d == 0 {
		c.exit = Exit{Reason: ExitDivide}
		return stepExit
	}
	if in.sub == 6 {
		if size == 8 {
			if hi >= d {
				c.exit = Exit{Reason: ExitDivide}
				return stepExit
			}
			q, r = bits.Div64(hi, lo, d)
		} else {
			n := hi<<(uint(size)*8) | lo
			q, r = n/d, n%d
			if q > sizeMask(size) {
				c.exit = Exit{Reason: ExitDivide}
				return stepExit
			}
		}
	} else {
		var fits bool
		q, r, fits = idiv(hi, lo, d, size)
		if !fits {
			c.exit = Exit{Reason: ExitDivide}
			return stepExit
		}
	}
	if size == 1 {
		c.setReg(RAX, 2, true, q&0xff|(r&0xff)<<8)
	} else {
		c.setReg(RAX, size, true, q)
		c.setReg(RDX, size, true, r)
	}
	return stepNext
}

// idiv divides the signed 2*size-byte value hi:lo by the signed size-byte
// d, truncating; fits is false when the quotient does not fit in size
// bytes.
func idiv(hi, lo, d uint64, size uint8) (q, r uint64, fits bool) {
	if size < 8 {
		n := int64(signExtend(hi<<(uint(size)*8)|lo, size*2))
		if size == 4 {
			n = int64(hi<<32 | lo)
		}
		dv := int64(signExtend(d, size))
		if dv == -1 && n == -n && n != 0 {
			return 0, 0, false
		}
		qq, rr := n/dv, n%dv
		if int64(signExtend(uint64(qq)&sizeMask(size), size)) != qq {
			return 0, 0, false
		}
		return uint64(qq) & sizeMask(size), uint64(rr) & sizeMask(size), true
	}
	neg := int64(hi) < 0
	if neg {
		// Two's complement of the 128-bit dividend.
		lo = -lo
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	dneg := int64(d) < 0
	ad := d
	if dneg {
		ad = -d
	}
	if hi >= ad {
		return 0, 0, false
	}
	uq, ur := bits.Div64(hi, lo, ad)
	if neg != dneg {
		if uq > 1<<63 {
			return 0, 0, false
		}
		q = -uq
	} else {
		if uq >= 1<<63 {
			return 0, 0, false
		}
		q = uq
	}
	r = ur
	if neg {
		r = -ur
	}
	return q, r, true
}

// shiftSource masks a shift count to the operand size and reads the
// operand. done says the instruction ends there with result ret: a
// fault, or a masked count of 0, which changes no flags but still
// writes a 32-bit register (clearing its upper half).
func (c *CPU) shiftSource(in *inst, cnt uint64) (a, masked uint64, done bool, ret int) {
	if in.osz == 8 {
		cnt &= 63
	} else {
		cnt &= 31
	}
	a, ok := c.readRM(in)
	if !ok {
		return 0, 0, true, stepExit
	}
	if cnt == 0 {
		c.zeroExtendRM(in)
		return 0, 0, true, stepNext
	}
	return a, cnt, false, 0
}

// shift is the rotate and shift group.
func (c *CPU) shift(in *inst, cnt uint64) int {
	size := in.osz
	nbits := uint64(size) * 8
	a, cnt, done, ret := c.shiftSource(in, cnt)
	if done {
		return ret
	}
	mask := sizeMask(size)
	var res, cf, of uint64
	switch in.sub {
	case 0, 1: // rol, ror
		r := cnt % nbits
		if in.sub == 0 {
			res = (a<<r | a>>(nbits-r)) & mask
			cf = res & 1
			of = (res>>(nbits-1))&1 ^ cf
		} else {
			res = (a>>r | a<<(nbits-r)) & mask
			cf = res >> (nbits - 1) & 1
			of = cf ^ (res>>(nbits-2))&1
		}
		if !c.writeRM(in, res) {
			return stepExit
		}
		c.materialize()
		c.flags = c.flags&^(FlagCF|FlagOF) | cf | of<<11
		return stepNext
	case 2, 3: // rcl, rcr
		if size < 4 {
			cnt %= nbits + 1
		}
		res, cf = a, c.carry()
		if in.sub == 2 {
			for i := uint64(0); i < cnt; i++ {
				out := res >> (nbits - 1) & 1
				res = (res<<1 | cf) & mask
				cf = out
			}
			of = (res>>(nbits-1))&1 ^ cf
		} else {
			of = (a>>(nbits-1))&1 ^ cf
			for i := uint64(0); i < cnt; i++ {
				out := res & 1
				res = res>>1 | cf<<(nbits-1)
				cf = out
			}
		}
		if !c.writeRM(in, res) {
			return stepExit
		}
		c.materialize()
		c.flags = c.flags&^(FlagCF|FlagOF) | cf | of<<11
		return stepNext
	case 4, 6: // shl
		res = a << cnt & mask
		if cnt <= nbits {
			cf = a >> (nbits - cnt) & 1
		}
		of = (res>>(nbits-1))&1 ^ cf
	case 5: // shr
		res = a >> cnt
		cf = a >> (cnt - 1) & 1
		of = a >> (nbits - 1) & 1
	case 7: // sar
		s := signExtend(a, size)
		res = uint64(int64(s)>>cnt) & mask
		cf = uint64(int64(s)>>(cnt-1)) & 1
	}
	if !c.writeRM(in, res) {
		return stepExit
	}
	c.setLazy(lazyExplicit, size, 0, 0, res, cf|of<<11)
	return stepNext
}

// zeroExtendRM is the write of a 32-bit register destination that an
// instruction makes even when it leaves the value as it is (a shift by a
// masked count of 0): the upper half is cleared.
func (c *CPU) zeroExtendRM(in *inst) {
	if !in.mem && in.osz == 4 {
		c.R[in.rm] &= 0xffffffff
	}
}

// doubleShift is shld and shrd.
func (c *CPU) doubleShift(in *inst) int {
	cnt := in.imm
	if in.sub == 1 {
		cnt = c.R[RCX]
	}
	size := in.osz
	a, cnt, done, ret := c.shiftSource(in, cnt)
	if done {
		return ret
	}
	b := c.reg(in.reg, size, in.rex)
	nbits := uint64(size) * 8
	mask := sizeMask(size)
	var res, cf uint64
	if size == 2 {
		// The result of a 16-bit shift by more than 16 is undefined.
		if in.op == opShld {
			v := a<<16 | b
			res = v << cnt >> 16 & mask
			cf = v << (cnt - 1) >> 31 & 1
		} else {
			v := b<<16 | a
			res = v >> cnt & mask
			cf = v >> (cnt - 1) & 1
		}
	} else if in.op == opShld {
		res = (a<<cnt | b>>(nbits-cnt)) & mask
		cf = a >> (nbits - cnt) & 1
	} else {
		res = (a>>cnt | b<<(nbits-cnt)) & mask
		cf = a >> (cnt - 1) & 1
	}
	if !c.writeRM(in, res) {
		return stepExit
	}
	of := (res ^ a) >> (nbits - 1) & 1
	c.setLazy(lazyExplicit, size, 0, 0, res, cf|of<<11)
	return stepNext
}

// bitTest is bt, bts, btr and btc. A register bit offset addresses
// memory beyond the operand (signed, in operand-size units).
func (c *CPU) bitTest(in *inst) int {
	size := in.osz
	nbits := uint64(size) * 8
	var off uint64
	if in.op == opBtRmImm {
		off = in.imm & (nbits - 1)
	} else {
		off = c.reg(in.reg, size, in.rex)
	}
	var v, addr uint64
	if in.mem {
		addr = c.ea(in)
		if in.op == opBtRmReg {
			so := int64(signExtend(off, size))
			addr += uint64(so>>(3+bits.TrailingZeros64(nbits/8))) * uint64(size)
			off = uint64(so) & (nbits - 1)
		}
		var ok bool
		if v, ok = c.load(addr, size); !ok {
			return stepExit
		}
	} else {
		off &= nbits - 1
		v = c.reg(in.rm, size, in.rex)
	}
	bit := v >> off & 1
	nv := v
	switch in.sub {
	case 5:
		nv |= 1 << off
	case 6:
		nv &^= 1 << off
	case 7:
		nv ^= 1 << off
	}
	if in.sub != 4 {
		if in.mem {
			if !c.store(addr, size, nv) {
				return stepExit
			}
		} else {
			c.setReg(in.rm, size, in.rex, nv)
		}
	}
	c.materialize()
	c.flags = c.flags&^FlagCF | bit
	return stepNext
}

// cmpxchgDouble is cmpxchg8b and cmpxchg16b.
func (c *CPU) cmpxchgDouble(in *inst) int {
	addr := c.ea(in)
	if in.osz == 16 {
		if addr&15 != 0 {
			c.exit = Exit{Reason: ExitGeneralProtection}
			return stepExit
		}
		lo, ok := c.load(addr, 8)
		if !ok {
			return stepExit
		}
		hi, ok := c.load(addr+8, 8)
		if !ok {
			return stepExit
		}
		c.materialize()
		if lo == c.R[RAX] && hi == c.R[RDX] {
			if !c.store(addr, 8, c.R[RBX]) || !c.store(addr+8, 8, c.R[RCX]) {
				return stepExit
			}
			c.flags |= FlagZF
		} else {
			if !c.store(addr, 8, lo) {
				return stepExit
			}
			c.R[RAX], c.R[RDX] = lo, hi
			c.flags &^= FlagZF
		}
		return stepNext
	}
	v, ok := c.load(addr, 8)
	if !ok {
		return stepExit
	}
	c.materialize()
	if v == c.R[RDX]<<32|c.R[RAX]&0xffffffff {
		if !c.store(addr, 8, c.R[RCX]<<32|c.R[RBX]&0xffffffff) {
			return stepExit
		}
		c.flags |= FlagZF
	} else {
		if !c.store(addr, 8, v) {
			return stepExit
		}
		c.R[RAX], c.R[RDX] = v&0xffffffff, v>>32
		c.flags &^= FlagZF
	}
	return stepNext
}

// enter builds a stack frame: push rbp, copy level-1 frame pointers,
// rbp = the frame, rsp -= imm.
func (c *CPU) enter(in *inst) int {
	size := uint64(in.osz)
	level := uint64(in.level & 31)
	rsp, rbp := c.R[RSP], c.R[RBP]
	rsp -= size
	if !c.store(rsp, in.osz, rbp) {
		return stepExit
	}
	frame := rsp
	for i := uint64(1); i < level; i++ {
		rbp -= size
		v, ok := c.load(rbp, in.osz)
		if !ok {
			return stepExit
		}
		rsp -= size
		if !c.store(rsp, in.osz, v) {
			return stepExit
		}
	}
	if level > 0 {
		rsp -= size
		if !c.store(rsp, in.osz, frame) {
			return stepExit
		}
	}
	c.R[RSP] = rsp - in.imm
	c.setReg(RBP, in.osz, true, frame)
	return stepNext
}

// incDec is inc (opIncRm) or dec of a: the result and the lazy flag kind
// that keeps CF.
func incDec(op uint16, a uint64) (uint64, uint8) {
	if op == opDecRm {
		return a - 1, lazyDec
	}
	return a + 1, lazyInc
}
