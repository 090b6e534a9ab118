package amd64

import (
	"math"
	"math/bits"

	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// maxBlock bounds the instructions of one decoded block.
const maxBlock = 64

// blockCacheSize is the number of entries of the CPU's direct-mapped
// cache of blocks by address.
const blockCacheSize = 1 << 15

// block is a run of decoded instructions that starts at va and ends with
// an unconditional control transfer, an exit, the page's end or maxBlock
// instructions; a taken conditional branch leaves it early.
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
	// entries are where translated code of the frame starts, by offset
	// (translated.go); nil without translated code.
	entries map[uint16]uint32
}

// Invalidate drops the page's blocks.
func (cp *codePage) Invalidate() {
	cp.valid = false
	cp.blocks = nil
}

// VA is the virtual address the page was decoded for (rv.CodeAt).
func (cp *codePage) VA() uint64 { return cp.va }

// codePages is the frame's code at each address it is executed at, the
// code-cache slot's content.
type codePages = rv.CodeAt[*codePage]

var _ rv.CodeCache = (*codePages)(nil)

// codePageAt returns the decoded code of the executable page va and its
// frame, or records the fetch fault.
func (c *CPU) codePageAt(va uint64) (*codePage, *[PageSize]byte, bool) {
	data, slot, cause := c.Mem.ExecFrame(va)
	if cause != rv.CauseNone {
		c.exit = Exit{Reason: ExitFault, Access: rv.AccessExec, Cause: cause, Addr: va}
		return nil, nil, false
	}
	cs, _ := (*slot).(*codePages)
	if cs == nil {
		if *slot != nil {
			(*slot).Invalidate()
		}
		cs = new(codePages)
		*slot = cs
	}
	if cp, ok := cs.Find(va); ok {
		return cp, data, true
	}
	cp := &codePage{va: va, valid: true, blocks: make(map[uint64]*block), entries: c.pageEntries(va)}
	cs.Add(cp)
	return cp, data, true
}

// blockSlot returns the block cache entry for rip.
func (c *CPU) blockSlot(rip uint64) **block {
	return &c.blocks[(rip^rip>>12)&(blockCacheSize-1)]
}

// lookup returns the block at rip from its code page, decoding it if
// needed, and caches it; Run probes the cache first. It returns nil after
// recording a fetch fault in c.exit.
func (c *CPU) lookup(rip uint64) *block {
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
	*c.blockSlot(rip) = b
	return b
}

// decodeBlock decodes the block at rip in the page cp (frame data).
func (c *CPU) decodeBlock(cp *codePage, data *[PageSize]byte, rip uint64) *block {
	b := &block{va: rip, page: cp}
	pc := rip
	var buf [maxInstLen]byte
	// The instructions are collected here and copied once, at their
	// final size: blocks are many, and what they occupy is what the
	// host's caches must hold.
	var insts [maxBlock]inst
	n := 0
	for n < maxBlock && pc&^pageMask == cp.va {
		off := pc & pageMask
		if _, entry := cp.entries[uint16(off)]; entry && n > 0 {
			// Translated code starts here: the interpreter, which ran
			// what translated code handed back, gives control back.
			break
		}
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
					if n > 0 {
						// Run what precedes; the fault comes when
						// execution reaches this instruction.
						c.exit = Exit{}
						break
					}
					c.exit.PC = pc
					return nil
				}
				k := copy(buf[:], code)
				copy(buf[k:], ndata[:])
				in, ok = decode(buf[:], pc)
				b.next = next
			}
		}
		if !ok {
			in = illegal(code)
		}
		classify(&in)
		insts[n] = in
		n++
		pc += uint64(in.len)
		if endsBlock(in.op) || b.next != nil {
			break
		}
	}
	if e, ok := cp.entries[uint16(rip&pageMask)]; ok {
		// Translated code starts here: a mark first, holding the entry,
		// which Run meets on its slow path (the interpreter pays nothing
		// per block).
		b.insts = append([]inst{{op: opTranslated, imm: uint64(e)}}, insts[:n]...)
		return b
	}
	b.insts = append([]inst(nil), insts[:n]...)
	return b
}

// endsBlock reports instructions after which a block ends: control
// transfers and instructions that exit or may change what comes next.
func endsBlock(op uint16) bool {
	switch op {
	case opJmp, opJmpRm, opCall, opCallRm, opRet, opLoop,
		opSyscall, opInt3, opUD, opIllegal, opPrivileged:
		return true
	}
	return false
}

// Run executes instructions until an exit or until about budget
// instructions have retired.
func (c *CPU) Run(budget uint64) Exit {
	if c.Mem.OnExecuted == nil {
		return c.run(budget)
	}
	// Profiling (conversion-time training: which pages to translate and
	// where their blocks start) runs one block at a time and reports its
	// start and instructions, which keeps the check out of run's loop.
	limit := c.Instret + min(budget, math.MaxUint64-c.Instret)
	for {
		pc, n := c.RIP, c.Instret
		exit := c.run(1)
		if c.Instret > n {
			c.Mem.OnExecuted(pc, c.Instret-n)
		}
		if exit.Reason != ExitBudget || c.Instret >= limit {
			return exit
		}
	}
}

// run is Run without profiling. Its loop is shaped by measurement under
// wazero: the fast forms spell out their address computations and memory
// probes instead of sharing helpers, and the bodies of fastVec and
// fastAside are calls, because every value or helper added to this
// function slows all of its forms (an inlined address helper cost 20 ns
// per register add; XMM temporaries here, 15 %). Each instruction's form,
// length and register operands come from one load (header).
func (c *CPU) run(budget uint64) Exit {
	limit := c.Instret + budget
	regs := c.regs()
	mem := c.Mem
	rip := c.RIP
	// done counts the instructions retired since Instret was last
	// updated.
	var done uint64
	for c.Instret+done < limit {
		b := *c.blockSlot(rip)
		if b == nil || b.va != rip || !b.valid() {
			if b = c.lookup(rip); b == nil {
				c.Instret += done
				c.RIP = rip
				return c.exit
			}
		}
		insts := b.insts
	block:
		for i := range insts {
			in := &insts[i]
			h := in.header()
			next := rip + h>>hLen&0xff
			f := uint8(h)
			// The most frequent fast form first, then the others by a
			// binary search (Go's WebAssembly backend has no jump
			// tables): every failed test is a trip through the
			// function's dispatch loop.
			if f == fastMove {
				regs[h>>hOut&31] = (regs[h>>hSrc&31] + regs[h>>hBase&31] + regs[h>>hIndex&31]<<(h>>hScale&63) + in.imm) & in.mask
				rip = next
				done++
				continue
			}
			switch f {
			case fastOp:
				// Cmp and test write the scratch register.
				a := regs[h>>hDst&31] & in.mask
				bv := (regs[h>>hSrc&31] + in.imm) & in.mask
				res := in.alu(a, bv)
				regs[h>>hOut&31] = res
				c.lazy.set(in.lop, in.osz, a, bv, res)
				rip = next
				done++
				continue
			case fastCond:
				done++
				var taken bool
				l := &c.lazy
				if in.compare && (l.op == lazySub && l.cf == 0 || l.op == lazyLogic) {
					// The conditions of a comparison (B, E, BE, L, LE)
					// after cmp or sub, or of a comparison of the
					// result with zero after a logic operation: one
					// unsigned compare of the operands moved to the
					// top bits, with their sign bits flipped for the
					// signed conditions.
					a, b := l.a, l.b
					if l.op == lazyLogic {
						a, b = l.res, 0
					}
					sh := (64 - uint(l.size)*8) & 63
					flip := uint64(in.sel&selNeg) << 63
					x, y := a<<sh^flip, b<<sh^flip
					hit := b2u(x < y)&uint64(in.sel>>1&1) | b2u(x == y)&uint64(in.sel>>2&1)
					taken = hit != uint64(in.cond&1)
				} else if l.op != lazyNone {
					// The eight conditions (O, B, E, BE, S, P, L, LE:
					// bit cc>>1; odd codes negate them) after an add,
					// sub or logic operation, without branches or
					// calls. Carry and overflow as add computes them;
					// sub's come from the complemented subtrahend;
					// logic has neither.
					top := (uint(l.size)*8 - 1) & 63
					a, b, res := l.a, l.b, l.res
					cf := addCarries(a, b, res) >> top & 1
					of := addOverflows(a, b, res) >> top & 1
					if l.op == lazySub {
						cf = subBorrows(a, b, res) >> top & 1
						of = subOverflows(a, b, res) >> top & 1
					}
					if l.op == lazyLogic {
						cf, of = 0, 0
					}
					// inc and dec keep CF (in l.cf) and overflow at the
					// sign boundary; shifts, multiplications and bit
					// scans record CF and OF in l.cf.
					if l.op >= lazyInc {
						cf = l.cf & 1
						of = l.cf >> 11 & 1
					}
					if l.op == lazyInc {
						of = b2u(res == 1<<top)
					}
					if l.op == lazyDec {
						of = b2u(a == 1<<top)
					}
					zf := b2u(res == 0)
					sf := res >> top & 1
					pf := uint64(^bits.OnesCount8(uint8(res))) & 1
					lt := sf ^ of
					conds := of | cf<<1 | zf<<2 | (cf|zf)<<3 | sf<<4 | pf<<5 | lt<<6 | (zf|lt)<<7
					taken = conds>>(in.cond>>1)&1 != uint64(in.cond&1)
				} else {
					taken = c.cond(in.cond)
				}
				rip = next
				if in.sub == condJump {
					// Blocks run on past conditional branches: only a
					// taken one leaves.
					if taken {
						rip = in.imm
						break block
					}
					continue
				}
				if in.sub == condSet {
					regs[h>>hDst&31] = regs[h>>hDst&31]&^0xff | b2u(taken)
					continue
				}
				v := regs[h>>hDst&31]
				if taken {
					v = regs[h>>hSrc&31]
				}
				regs[h>>hDst&31] = v & in.mask
				continue
			case fastLoad:
				addr := uint64(in.disp) + regs[h>>hBase&31] + regs[h>>hIndex&31]<<(h>>hScale&63)
				if off := addr & pageMask; off <= PageSize-8 {
					if p := mem.ReadHit(addr); p != nil {
						regs[h>>hDst&31] = ld64(p, off) & in.mask
						rip = next
						done++
						continue
					}
				}
			case fastStore:
				addr := uint64(in.disp) + regs[h>>hBase&31] + regs[h>>hIndex&31]<<(h>>hScale&63)
				if off := addr & pageMask; off <= PageSize-8 {
					if p := mem.WriteHit(addr); p != nil {
						// One 8-byte write keeps the bytes after a
						// narrower store (nothing runs concurrently).
						st64(p, off, ld64(p, off)&^in.mask|(regs[h>>hSrc&31]+in.imm)&in.mask)
						rip = next
						done++
						continue
					}
				}
			case fastPush:
				sp := regs[RSP] - 8
				if off := sp & pageMask; off <= PageSize-8 {
					if p := mem.WriteHit(sp); p != nil {
						st64(p, off, regs[h>>hSrc&31]+in.imm)
						regs[RSP] = sp
						rip = next
						done++
						continue
					}
				}
			case fastPop:
				sp := regs[RSP]
				if off := sp & pageMask; off <= PageSize-8 {
					if p := mem.ReadHit(sp); p != nil {
						v := ld64(p, off)
						regs[RSP] = sp + 8
						regs[h>>hDst&31] = v
						rip = next
						done++
						continue
					}
				}
			case fastOpLoad, fastCmpLoad:
				addr := uint64(in.disp) + regs[h>>hBase&31] + regs[h>>hIndex&31]<<(h>>hScale&63)
				if off := addr & pageMask; off <= PageSize-8 {
					if p := mem.ReadHit(addr); p != nil {
						// fastCmpLoad compares memory with a register or
						// an immediate, fastOpLoad a register with memory.
						m := ld64(p, off) & in.mask
						a := m
						bv := (regs[h>>hSrc&31] + in.imm) & in.mask
						if f == fastOpLoad {
							a, bv = regs[h>>hDst&31]&in.mask, m
						}
						res := in.alu(a, bv)
						regs[h>>hOut&31] = res
						c.lazy.set(in.lop, in.osz, a, bv, res)
						rip = next
						done++
						continue
					}
				}
			case fastExtendLoad, fastExtend:
				v := regs[h>>hSrc&31]
				if f == fastExtendLoad {
					addr := uint64(in.disp) + regs[h>>hBase&31] + regs[h>>hIndex&31]<<(h>>hScale&63)
					off := addr & pageMask
					if off > PageSize-8 {
						break
					}
					p := mem.ReadHit(addr)
					if p == nil {
						break
					}
					v = ld64(p, off)
				}
				sh := (64 - uint(in.sub)*8) & 63
				v <<= sh
				r := v >> sh
				if in.imm != 0 {
					r = uint64(int64(v) >> sh)
				}
				regs[h>>hDst&31] = r & in.mask
				rip = next
				done++
				continue
			case fastShift:
				// Every shift computed, the one sub names selected:
				// the ifs below become selects, not branches.
				a := regs[h>>hDst&31] & in.mask
				n := (regs[h>>hSrc&31] + in.imm) & (uint64(in.osz)*8 - 1 | 31)
				if n == 0 {
					break
				}
				top := (uint(in.osz)*8 - 1) & 63
				back := (uint64(top) + 1 - n) & 63
				sub := in.sub
				res := a << n & in.mask // shl, sal
				cf := a >> back & 1
				of := res>>top&1 ^ cf
				shr, shrCF, shrOF := a>>n, a>>((n-1)&63)&1, a>>top&1
				s := int64(a<<(63-top)) >> (63 - top)
				sar, sarCF := uint64(s>>n)&in.mask, uint64(s>>((n-1)&63))&1
				if sub == 5 {
					res, cf, of = shr, shrCF, shrOF
				}
				if sub == 7 {
					res, cf, of = sar, sarCF, 0
				}
				regs[h>>hDst&31] = res
				c.lazy.set(lazyExplicit, in.osz, 0, 0, res)
				c.lazy.cf = cf | of<<11
				rip = next
				done++
				continue
			case fastCall:
				sp := regs[RSP] - 8
				if off := sp & pageMask; off <= PageSize-8 {
					if p := mem.WriteHit(sp); p != nil {
						st64(p, off, next)
						regs[RSP] = sp
						rip = in.imm
						done++
						break block
					}
				}
			case fastRet:
				sp := regs[RSP]
				if off := sp & pageMask; off <= PageSize-8 {
					if p := mem.ReadHit(sp); p != nil {
						if v := ld64(p, off); canonical(v) {
							regs[RSP] = sp + 8
							rip = v
							done++
							break block
						}
					}
				}
			case fastJmp:
				rip = in.imm
				done++
				break block
			case fastJmpInd:
				v := regs[h>>hSrc&31]
				if in.mem {
					addr := uint64(in.disp) + regs[h>>hBase&31] + regs[h>>hIndex&31]<<(h>>hScale&63)
					off := addr & pageMask
					if off > PageSize-8 {
						break
					}
					p := mem.ReadHit(addr)
					if p == nil {
						break
					}
					v = ld64(p, off)
				}
				if !canonical(v) {
					break
				}
				if in.op == opCallRm {
					// The target was read with the old rsp.
					sp := regs[RSP] - 8
					off := sp & pageMask
					if off > PageSize-8 {
						break
					}
					p := mem.WriteHit(sp)
					if p == nil {
						break
					}
					st64(p, off, next)
					regs[RSP] = sp
				}
				rip = v
				done++
				break block
			case fastAside:
				if c.aside(in) {
					rip = next
					done++
					continue
				}
			case fastVec:
				// Out of line: its XMM values live in memory, which
				// would weigh on the rest of the loop.
				if c.vec(in) {
					rip = next
					done++
					continue
				}
			}
			// Everything else, and the fast forms' slow cases.
			c.RIP = next
			switch c.step(in) {
			case stepNext:
				done++
				rip = c.RIP
				if b.page.valid {
					continue
				}
				// The instruction wrote to its own page: decode again.
				break block
			case stepJump, stepAgain:
				done++
				rip = c.RIP
				break block
			case stepTranslated:
				c.Instret += done
				done = 0
				var code uint32
				if rip, code = c.runTranslated(b, rip, limit); code == rv.TranslatedInterpret {
					var ok bool
					if rip, ok = c.interpretOne(rip); !ok {
						return c.exit
					}
				}
				break block
			case stepExit:
				if c.exit.Reason == ExitBreakpoint {
					done++
					rip = c.RIP
				}
				c.Instret += done
				c.RIP = rip
				c.exit.PC = rip
				if c.exit.Reason == ExitBreakpoint {
					c.exit.PC = rip - uint64(in.len)
				}
				return c.exit
			}
		}
	}
	c.Instret += done
	c.RIP = rip
	return Exit{Reason: ExitBudget, PC: rip}
}
