package amd64

import (
	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// maxBlock bounds the instructions of one decoded block.
const maxBlock = 64

// blockCacheSize is the number of entries of the CPU's direct-mapped
// cache of blocks by address.
const blockCacheSize = 4096

// block is a run of decoded instructions that starts at va and ends with
// a control transfer, an exit, the page's end or maxBlock instructions.
type block struct {
	va    uint64
	insts []inst
	// pages are the code pages the block's bytes come from (a second one
	// when the last instruction crosses into the next page).
	page, next *codePage
}

func (b *block) valid() bool {
	return b.page.valid && (b.next == nil || b.next.valid)
}

// codePage is the decoded code of one frame executed at virtual address
// va. Memory invalidates it when the frame is written (rv.CodeCache).
type codePage struct {
	va     uint64
	valid  bool
	blocks map[uint64]*block
}

// Invalidate drops the page's blocks.
func (cp *codePage) Invalidate() {
	cp.valid = false
	cp.blocks = nil
}

var _ rv.CodeCache = (*codePage)(nil)

// codePageAt returns the decoded code of the executable page va and its
// frame, or records the fetch fault.
func (c *CPU) codePageAt(va uint64) (*codePage, *[PageSize]byte, bool) {
	data, slot, cause := c.Mem.ExecFrame(va)
	if cause != rv.CauseNone {
		c.exit = Exit{Reason: ExitFault, Access: rv.AccessExec, Cause: cause, Addr: va}
		return nil, nil, false
	}
	if cp, ok := (*slot).(*codePage); ok && cp.valid && cp.va == va {
		return cp, data, true
	}
	if *slot != nil {
		(*slot).Invalidate()
	}
	cp := &codePage{va: va, valid: true, blocks: make(map[uint64]*block)}
	*slot = cp
	return cp, data, true
}

// lookup returns the block at rip, decoding it if needed, or nil after
// recording a fetch fault in c.exit.
func (c *CPU) lookup(rip uint64) *block {
	slot := &c.blocks[(rip^rip>>12)&(blockCacheSize-1)]
	if b := *slot; b != nil && b.va == rip && b.valid() {
		return b
	}
	va := rip &^ pageMask
	cp, data, ok := c.codePageAt(va)
	if !ok {
		c.exit.PC = rip
		return nil
	}
	b := cp.blocks[rip]
	if b == nil || !b.valid() {
		if b = c.decodeBlock(cp, data, rip); b == nil {
			return nil
		}
		cp.blocks[rip] = b
	}
	*slot = b
	return b
}

// decodeBlock decodes the block at rip in the page cp (frame data).
func (c *CPU) decodeBlock(cp *codePage, data *[PageSize]byte, rip uint64) *block {
	b := &block{va: rip, page: cp}
	pc := rip
	var buf [maxInstLen]byte
	for len(b.insts) < maxBlock && pc&^pageMask == cp.va {
		off := pc & pageMask
		code := data[off:]
		var in inst
		var ok bool
		if len(code) >= maxInstLen {
			in, ok = decode(code[:maxInstLen], pc)
		} else {
			in, ok = decode(code, pc)
			if !ok {
				// The instruction continues into the next page.
				next, ndata, fetched := c.codePageAt(cp.va + PageSize)
				if !fetched {
					if len(b.insts) > 0 {
						// Run what precedes; the fault comes when
						// execution reaches this instruction.
						c.exit = Exit{}
						break
					}
					c.exit.PC = pc
					return nil
				}
				n := copy(buf[:], code)
				copy(buf[n:], ndata[:])
				in, ok = decode(buf[:], pc)
				b.next = next
			}
		}
		if !ok {
			in = illegal(code)
		}
		b.insts = append(b.insts, in)
		pc += uint64(in.len)
		if endsBlock(in.op) || b.next != nil {
			break
		}
	}
	return b
}

// endsBlock reports instructions after which a block ends: control
// transfers and instructions that exit or may change what comes next.
func endsBlock(op uint16) bool {
	switch op {
	case opJcc, opJmp, opJmpRm, opCall, opCallRm, opRet, opLoop,
		opSyscall, opInt3, opUD, opIllegal, opPrivileged:
		return true
	}
	return false
}

// Run executes instructions until an exit or until about budget
// instructions have retired.
func (c *CPU) Run(budget uint64) Exit {
	limit := c.Instret + budget
	for c.Instret < limit {
		rip := c.RIP
		b := c.lookup(rip)
		if b == nil {
			return c.exit
		}
		for i := range b.insts {
			in := &b.insts[i]
			c.RIP = rip + uint64(in.len)
			switch c.step(in) {
			case stepNext:
				c.Instret++
				rip = c.RIP
				if b.page.valid {
					continue
				}
				// The instruction wrote to its own page: decode again.
			case stepJump:
				c.Instret++
			case stepAgain:
				c.Instret++
			case stepExit:
				if c.exit.Reason == ExitBreakpoint {
					c.Instret++
				} else {
					c.RIP = rip
				}
				c.exit.PC = rip
				return c.exit
			}
			break
		}
	}
	return Exit{Reason: ExitBudget, PC: c.RIP}
}
