package amd64

import (
	"math"
	"unsafe"

	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// Translated code (docs/translation.md): the converter translates pages of
// the image's x86-64 ELF files into WebAssembly functions linked into the
// module, with riscv64's contract (frame, index, jump cache, dispatcher).
// This file is the CPU's side: marking the blocks where translated code
// starts and calling into it.

// pageEntries returns the entries (unit << 16 | block) of the translated
// unit of the frame mapped at va, by offset in the page, or nil.
func (c *CPU) pageEntries(va uint64) map[uint16]uint32 {
	tp := c.Mem.TranslatedAt(va)
	if tp == nil {
		return nil
	}
	m := make(map[uint16]uint32, len(tp.Slots))
	for i, s := range tp.Slots {
		m[s] = tp.Unit<<16 | uint32(i)
	}
	return m
}

// interpretOne executes the instruction at rip, which translated code
// handed back (an instruction it leaves to the interpreter, a TLB miss, a
// page-crossing access), as Run's step path would, and returns the next
// rip; false means the CPU exits (c.exit, c.RIP and Instret are set).
// Translated code goes on at the next entry after it.
func (c *CPU) interpretOne(rip uint64) (uint64, bool) {
	b := *c.blockSlot(rip)
	if b == nil || b.va != rip || !b.valid() {
		if b = c.lookup(rip); b == nil {
			c.RIP = rip
			return rip, false
		}
	}
	in := &b.insts[0]
	if in.op == opTranslated {
		in = &b.insts[1] // the real instruction after the mark
	}
	c.RIP = rip + uint64(in.len)
	if c.step(in) != stepExit {
		c.Instret++
		return c.RIP, true
	}
	c.exit.PC = rip
	if c.exit.Reason == ExitBreakpoint {
		c.Instret++
	} else {
		c.RIP = rip
	}
	return rip, false
}

// runTranslated runs translated code from the entry of block b at rip
// with the budget left before limit, and returns where to continue and
// the exit code (rv.Translated*). It records the entry in the jump cache
// first, so that translated code that jumps to rip later goes there
// directly.
func (c *CPU) runTranslated(b *block, rip, limit uint64) (uint64, uint32) {
	f := &c.frame
	entry := uint32(b.insts[0].imm) // the opTranslated mark's
	c.Mem.PrepareFrame(f, rip, entry, &b.page.valid)
	f.X = uint64(uintptr(unsafe.Pointer(&c.R)))
	f.Base = rip &^ pageMask
	left := int64(min(limit-c.Instret, math.MaxInt64))
	f.Left = left
	c.TranslatedCalls++
	code := rv.CallTranslated(f, entry)
	c.Instret += uint64(left - f.Left)
	return f.PC, code
}
