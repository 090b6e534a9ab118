package riscv64

import (
	"encoding/binary"
	"time"
	"unsafe"
)

// CPU is the user-mode state of one RV64GC hart: one per guest thread.
// The Linux layer reads and writes the registers directly between calls to
// Run (system call arguments, signal frames, clone).
type CPU struct {
	// X are the integer registers; X[0] always reads zero.
	X [32]uint64
	// F are the floating-point registers. Single-precision values are
	// NaN-boxed: their upper 32 bits are all ones.
	F [32]uint64
	// PC is the address of the next instruction.
	PC uint64
	// FCSR holds fflags in bits 0-4 and frm in bits 5-7.
	FCSR uint32
	// Instret counts the instructions retired by this CPU; the cycle and
	// instret CSRs read it.
	Instret uint64
	// TranslatedCalls counts the calls into translated code.
	TranslatedCalls uint64
	// Mem is the address space the CPU executes in.
	Mem *Memory
	// Time, when set, is the source of the time CSR (in ticks of the
	// guest timebase). Nil means host monotonic time at 10 MHz, the
	// timebase Linux on riscv64 virtual machines usually advertises.
	Time func() uint64

	reservation reservation

	// itlb caches the decoded pages of recent instruction fetches.
	itlb    [itlbSize]itlbEntry
	itlbMem *Memory
	// budget is the budget of the current Run call.
	budget uint64
	// exit carries the details of a fault from the out-of-line helpers
	// back to Run.
	exit Exit

	// frame is shared with translated code during a call into it.
	frame Frame
	// interpretAt is one more than the pc of an instruction in a marked
	// slot that the interpreter must execute (translated code handed it
	// back), or 0.
	interpretAt uint64

	// profVA and profLeft are the page Run is executing in and the
	// budget left when it entered it, for Memory.OnExecuted.
	profVA   uint64
	profLeft int64
}

// noProfile is a profVA no page has.
const noProfile = 1

// profile reports the instructions retired in the page Run is leaving to
// Memory.OnExecuted and notes the page at pc as the current one.
func (c *CPU) profile(pc uint64, left int64) {
	if c.profVA != noProfile && c.profLeft > left {
		c.Mem.OnExecuted(c.profVA, uint64(c.profLeft-left))
	}
	c.profVA, c.profLeft = pc&^pageMask, left
}

// reservation is the LR/SC reservation: SC succeeds if it targets the
// reserved address and the memory still holds the value LR loaded (which
// also catches stores by other harts of the same address space).
type reservation struct {
	valid bool
	addr  uint64
	value uint64
}

// ClearReservation drops any LR reservation, making the next SC fail. The
// Linux layer calls it when delivering a signal.
func (c *CPU) ClearReservation() { c.reservation.valid = false }

const itlbSize = 64

type itlbEntry struct {
	va uint64
	cp *codePage
}

// Fork returns a copy of the CPU's registers for a new thread or process;
// the copy executes in mem.
func (c *CPU) Fork(mem *Memory) *CPU {
	n := &CPU{X: c.X, F: c.F, PC: c.PC, FCSR: c.FCSR, Instret: c.Instret, Mem: mem, Time: c.Time}
	return n
}

var hostEpoch = time.Now()

func (c *CPU) timeCSR() uint64 {
	if c.Time != nil {
		return c.Time()
	}
	return uint64(time.Since(hostEpoch).Nanoseconds() / 100)
}

// slots is the number of 2-byte instruction slots in a page.
const slots = PageSize / 2

// codePage holds the decoded instructions of one frame as executed at
// virtual page address va, one entry per 2-byte slot, decoded on first
// execution.
type codePage struct {
	insts [slots]inst
	va    uint64
	data  *[PageSize]byte
	valid bool
	// dependents are code pages whose last slot holds an instruction that
	// continues into this page; invalidating this page resets that slot.
	dependents []*codePage
	// alive mirrors valid for the jump cache of translated code, which
	// holds it rather than the page (translated.go); nil on pages without
	// translated code.
	alive *liveness
}

// VA is the virtual address the page was decoded for (CodeAt).
func (cp *codePage) VA() uint64 { return cp.va }

// Invalidate drops the page: CPUs holding it decode again.
func (cp *codePage) Invalidate() {
	cp.valid = false
	if cp.alive != nil {
		cp.alive.valid = false
	}
	for _, d := range cp.dependents {
		d.insts[slots-1] = inst{}
	}
	cp.dependents = nil
}

// FlushCode drops all decoded instructions of the address space, as
// fence.i and the riscv_flush_icache system call require.
func (m *Memory) FlushCode() {
	for _, e := range m.pages {
		e.pg.code.Invalidate()
	}
}

func (c *CPU) flushITLB() {
	c.itlb = [itlbSize]itlbEntry{}
}

// codePageFor returns the decoded page for executing at pc, or nil after
// recording a fetch fault in c.exit.
func (c *CPU) codePageFor(pc uint64) *codePage {
	va := pc &^ pageMask
	slot := &c.itlb[(pc>>pageShift)&(itlbSize-1)]
	if slot.cp != nil && slot.va == va && slot.cp.valid {
		return slot.cp
	}
	if pc&1 != 0 {
		c.exit = Exit{Reason: ExitFault, PC: pc, Access: AccessExec, Cause: CauseMisaligned, Addr: pc}
		return nil
	}
	cp, cause := c.Mem.codePage(va)
	if cause != CauseNone {
		c.exit = Exit{Reason: ExitFault, PC: pc, Access: AccessExec, Cause: cause, Addr: pc}
		return nil
	}
	*slot = itlbEntry{va: va, cp: cp}
	return cp
}

// codePage returns the decoded-instruction cache for the executable page
// at virtual address va, creating it if needed. A frame with a cache is
// kept out of the write TLB so that every store to it drops the cache.
func (m *Memory) codePage(va uint64) (*codePage, FaultCause) {
	e := m.lookup(va)
	if e == nil {
		return nil, CauseUnmapped
	}
	if e.perm&PermExec == 0 {
		return nil, CauseProtection
	}
	pg := e.pg
	if cp, ok := pg.code.Find(va); ok {
		return cp, CauseNone
	}
	cp := &codePage{va: va, data: pg.data, valid: true}
	pg.code.Add(cp)
	if pg.translated != nil {
		cp.markEntries(pg.translated)
	}
	m.flushTLBPage(va >> pageShift)
	return cp, CauseNone
}

// decodeSlot decodes the instruction in slot idx of cp. An instruction in
// the last slot may continue into the next page, which must then be
// executable; otherwise decodeSlot records the fetch fault in c.exit and
// returns false.
func (c *CPU) decodeSlot(cp *codePage, idx uint64) bool {
	in, ok := c.decodeAt(cp, idx)
	if ok {
		cp.insts[idx] = in
	}
	return ok
}

// decodeAt decodes the instruction in slot idx of cp, or records the fetch
// fault of its second half (see decodeSlot).
func (c *CPU) decodeAt(cp *codePage, idx uint64) (inst, bool) {
	off := idx << 1
	lo := uint32(binary.LittleEndian.Uint16(cp.data[off:]))
	pc := cp.va + off
	if lo&3 != 3 {
		return decode16(uint16(lo), pc), true
	}
	if idx < slots-1 {
		return decode32(binary.LittleEndian.Uint32(cp.data[off:]), pc), true
	}
	next, cause := c.Mem.codePage(cp.va + PageSize)
	if cause != CauseNone {
		c.exit = Exit{Reason: ExitFault, PC: pc, Access: AccessExec, Cause: cause, Addr: cp.va + PageSize}
		return inst{}, false
	}
	hi := uint32(binary.LittleEndian.Uint16(next.data[0:]))
	next.dependents = append(next.dependents, cp)
	return decode32(lo|hi<<16, pc), true
}

// Little-endian accessors for aligned offsets within a page frame.

func ld16(p *[PageSize]byte, off uint64) uint64 {
	return uint64(binary.LittleEndian.Uint16((*[2]byte)(unsafe.Pointer(&p[off&pageMask]))[:]))
}

func ld32(p *[PageSize]byte, off uint64) uint64 {
	return uint64(binary.LittleEndian.Uint32((*[4]byte)(unsafe.Pointer(&p[off&pageMask]))[:]))
}

func ld64(p *[PageSize]byte, off uint64) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Pointer(&p[off&pageMask]))[:])
}

func st16(p *[PageSize]byte, off uint64, v uint64) {
	binary.LittleEndian.PutUint16((*[2]byte)(unsafe.Pointer(&p[off&pageMask]))[:], uint16(v))
}

func st32(p *[PageSize]byte, off uint64, v uint64) {
	binary.LittleEndian.PutUint32((*[4]byte)(unsafe.Pointer(&p[off&pageMask]))[:], uint32(v))
}

func st64(p *[PageSize]byte, off uint64, v uint64) {
	binary.LittleEndian.PutUint64((*[8]byte)(unsafe.Pointer(&p[off&pageMask]))[:], v)
}

// loadSlow performs a load of size bytes that missed the read TLB or is
// misaligned (emulated byte by byte). On a fault it records the exit in
// c.exit and returns false.
func (c *CPU) loadSlow(addr uint64, size uint64) (uint64, bool) {
	m := c.Mem
	if addr&(size-1) == 0 {
		data, cause := m.readablePage(addr)
		if cause != CauseNone {
			c.exit = Exit{Reason: ExitFault, Access: AccessRead, Cause: cause, Addr: addr}
			return 0, false
		}
		switch size {
		case 1:
			return uint64(data[addr&pageMask]), true
		case 2:
			return ld16(data, addr), true
		case 4:
			return ld32(data, addr), true
		}
		return ld64(data, addr), true
	}
	var v uint64
	for i := uint64(0); i < size; i++ {
		a := addr + i
		data, cause := m.readablePage(a)
		if cause != CauseNone {
			c.exit = Exit{Reason: ExitFault, Access: AccessRead, Cause: cause, Addr: a}
			return 0, false
		}
		v |= uint64(data[a&pageMask]) << (8 * i)
	}
	return v, true
}

// storeSlow performs a store of size bytes that missed the write TLB or is
// misaligned. A misaligned store checks every page before writing any
// byte, so a faulting store has no effect. On a fault it records the exit
// in c.exit and returns false.
func (c *CPU) storeSlow(addr uint64, size uint64, v uint64) bool {
	m := c.Mem
	if addr&(size-1) == 0 {
		data, cause := m.writablePage(addr)
		if cause != CauseNone {
			c.exit = Exit{Reason: ExitFault, Access: AccessWrite, Cause: cause, Addr: addr}
			return false
		}
		switch size {
		case 1:
			data[addr&pageMask] = byte(v)
		case 2:
			st16(data, addr, v)
		case 4:
			st32(data, addr, v)
		default:
			st64(data, addr, v)
		}
		return true
	}
	for _, a := range [2]uint64{addr, addr + size - 1} {
		e := m.lookup(a)
		switch {
		case e == nil:
			c.exit = Exit{Reason: ExitFault, Access: AccessWrite, Cause: CauseUnmapped, Addr: a}
			return false
		case e.perm&PermWrite == 0:
			c.exit = Exit{Reason: ExitFault, Access: AccessWrite, Cause: CauseProtection, Addr: a}
			return false
		}
	}
	for i := uint64(0); i < size; i++ {
		a := addr + i
		data, _ := m.writablePage(a)
		data[a&pageMask] = byte(v >> (8 * i))
	}
	return true
}
