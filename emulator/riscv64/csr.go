package riscv64

import "encoding/binary"

// User-level CSR numbers.
const (
	csrFflags  = 0x001
	csrFrm     = 0x002
	csrFcsr    = 0x003
	csrCycle   = 0xc00
	csrTime    = 0xc01
	csrInstret = 0xc02
)

// execCSR executes a Zicsr instruction; retired is the number of
// instructions Run retired so far (for the counters). It returns false for
// an unknown CSR or a write to a read-only one (illegal instruction).
func (c *CPU) execCSR(in *inst, retired uint64) bool {
	var src uint64
	if in.fop >= csrRWI {
		src = uint64(in.rs1)
	} else {
		src = c.X[in.rs1&31]
	}
	// csrrs/csrrc with x0 (or uimm 0) only read.
	writes := in.fop == csrRW || in.fop == csrRWI || in.rs1 != 0

	var old uint64
	switch in.imm {
	case csrFflags:
		old = uint64(c.FCSR & 0x1f)
	case csrFrm:
		old = uint64(c.FCSR>>5) & 7
	case csrFcsr:
		old = uint64(c.FCSR & 0xff)
	case csrCycle, csrInstret:
		if writes {
			return false
		}
		old = c.Instret + retired
	case csrTime:
		if writes {
			return false
		}
		old = c.timeCSR()
	default:
		return false
	}
	if writes {
		v := src
		switch in.fop {
		case csrRS, csrRSI:
			v = old | src
		case csrRC, csrRCI:
			v = old &^ src
		}
		switch in.imm {
		case csrFflags:
			c.FCSR = c.FCSR&^0x1f | uint32(v&0x1f)
		case csrFrm:
			c.FCSR = c.FCSR&^0xe0 | uint32(v&7)<<5
		case csrFcsr:
			c.FCSR = uint32(v & 0xff)
		}
	}
	c.X[in.rd&31] = old
	c.X[0] = 0
	return true
}

// rawInst returns the bits of the instruction at pc for an illegal
// instruction report, or 0 if it cannot be read.
func (c *CPU) rawInst(pc uint64) uint32 {
	var b [4]byte
	e := c.Mem.lookup(pc)
	if e == nil {
		return 0
	}
	n := copy(b[:], e.pg.data[pc&pageMask:])
	if b[0]&3 != 3 {
		return uint32(binary.LittleEndian.Uint16(b[:]))
	}
	if n < 4 {
		if next := c.Mem.lookup(pc + PageSize); next != nil {
			copy(b[n:], next.pg.data[:])
		}
	}
	return binary.LittleEndian.Uint32(b[:])
}
