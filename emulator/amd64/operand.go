package amd64

import (
	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// reg reads a general-purpose register as a size-byte value. Without a
// REX prefix byte registers 4-7 are ah, ch, dh and bh.
func (c *CPU) reg(n, size uint8, rex bool) uint64 {
	switch size {
	case 1:
		if !rex && n >= 4 && n < 8 {
			return c.R[n-4] >> 8 & 0xff
		}
		return c.R[n] & 0xff
	case 2:
		return c.R[n] & 0xffff
	case 4:
		return c.R[n] & 0xffffffff
	}
	return c.R[n]
}

// setReg writes a size-byte value to a register: 32-bit writes clear the
// upper half, 8- and 16-bit writes keep the rest.
func (c *CPU) setReg(n, size uint8, rex bool, v uint64) {
	switch size {
	case 1:
		if !rex && n >= 4 && n < 8 {
			c.R[n-4] = c.R[n-4]&^0xff00 | (v&0xff)<<8
			return
		}
		c.R[n] = c.R[n]&^0xff | v&0xff
	case 2:
		c.R[n] = c.R[n]&^0xffff | v&0xffff
	case 4:
		c.R[n] = v & 0xffffffff
	default:
		c.R[n] = v
	}
}

// ea computes the effective address of the memory operand.
func (c *CPU) ea(in *inst) uint64 {
	r := c.regs()
	a := uint64(in.disp) + r[in.base] + r[in.index]<<(in.scale&63)
	if in.addr32 {
		a &= 0xffffffff
	}
	switch in.seg {
	case segFS:
		a += c.FSBase
	case segGS:
		a += c.GSBase
	}
	return a
}

// fault records a memory fault of the current instruction.
func (c *CPU) fault(access rv.Access, cause rv.FaultCause, addr uint64) {
	c.exit = Exit{Reason: ExitFault, Access: access, Cause: cause, Addr: addr}
}

// load reads size bytes (1, 2, 4 or 8) at addr.
func (c *CPU) load(addr uint64, size uint8) (uint64, bool) {
	off := addr & pageMask
	if off+uint64(size) <= PageSize {
		p, cause := c.Mem.ReadFrame(addr)
		if cause != rv.CauseNone {
			c.fault(rv.AccessRead, cause, addr)
			return 0, false
		}
		switch size {
		case 1:
			return uint64(p[off]), true
		case 2:
			return uint64(le.Uint16(p[off:])), true
		case 4:
			return uint64(le.Uint32(p[off:])), true
		}
		return le.Uint64(p[off:]), true
	}
	var b [8]byte
	if !c.readSlow(addr, b[:size]) {
		return 0, false
	}
	return le.Uint64(b[:]), true
}

// store writes size bytes of v at addr.
func (c *CPU) store(addr uint64, size uint8, v uint64) bool {
	off := addr & pageMask
	if off+uint64(size) <= PageSize {
		p, cause := c.Mem.WriteFrame(addr)
		if cause != rv.CauseNone {
			c.fault(rv.AccessWrite, cause, addr)
			return false
		}
		switch size {
		case 1:
			p[off] = byte(v)
		case 2:
			le.PutUint16(p[off:], uint16(v))
		case 4:
			le.PutUint32(p[off:], uint32(v))
		default:
			le.PutUint64(p[off:], v)
		}
		return true
	}
	var b [8]byte
	le.PutUint64(b[:], v)
	return c.writeSlow(addr, b[:size])
}

// readSlow reads dst from memory that may cross pages.
func (c *CPU) readSlow(addr uint64, dst []byte) bool {
	for len(dst) > 0 {
		p, cause := c.Mem.ReadFrame(addr)
		if cause != rv.CauseNone {
			c.fault(rv.AccessRead, cause, addr)
			return false
		}
		n := copy(dst, p[addr&pageMask:])
		dst = dst[n:]
		addr += uint64(n)
	}
	return true
}

// writeSlow writes src to memory that may cross pages; it checks every
// page before writing any, so a faulting store changes nothing.
func (c *CPU) writeSlow(addr uint64, src []byte) bool {
	end := addr + uint64(len(src)) - 1
	for a := addr &^ pageMask; ; a += PageSize {
		if _, cause := c.Mem.WriteFrame(a); cause != rv.CauseNone {
			c.fault(rv.AccessWrite, cause, max(a, addr))
			return false
		}
		if a == end&^pageMask {
			break
		}
	}
	for len(src) > 0 {
		p, _ := c.Mem.WriteFrame(addr)
		n := copy(p[addr&pageMask:], src)
		src = src[n:]
		addr += uint64(n)
	}
	return true
}

// readRM reads the r/m operand of in at its operand size.
func (c *CPU) readRM(in *inst) (uint64, bool) {
	if !in.mem {
		return c.reg(in.rm, in.osz, in.rex), true
	}
	return c.load(c.ea(in), in.osz)
}

// writeRM writes the r/m operand of in at its operand size.
func (c *CPU) writeRM(in *inst, v uint64) bool {
	if !in.mem {
		c.setReg(in.rm, in.osz, in.rex, v)
		return true
	}
	return c.store(c.ea(in), in.osz, v)
}

// push pushes a size-byte value.
func (c *CPU) push(v uint64, size uint8) bool {
	sp := c.R[RSP] - uint64(size)
	if !c.store(sp, size, v) {
		return false
	}
	c.R[RSP] = sp
	return true
}

// peek reads the size-byte value on top of the stack; the caller pops
// it (RSP += size) after it
// has used the value.
func (c *CPU) peek(size uint8) (uint64, bool) {
	return c.load(c.R[RSP], size)
}

// readRMInt reads the r/m operand as a size-byte integer; rex false makes
// byte registers 4-7 ah, ch, dh and bh.
func (c *CPU) readRMInt(in *inst, size uint8, rex bool) (uint64, bool) {
	if in.mem {
		return c.load(c.ea(in), size)
	}
	return c.reg(in.rm, size, rex), true
}

// readXMMScalar reads the r/m operand's low size bytes: memory, or the
// low lane of an XMM register.
func (c *CPU) readXMMScalar(in *inst, size uint8) (uint64, bool) {
	if in.mem {
		return c.load(c.ea(in), size)
	}
	return c.XMM[in.rm][0], true
}
