package riscv64

// This file is the address space's interface for the CPUs of other guest
// architectures (emulator/amd64): the same pages, TLBs and copy-on-write,
// with decoded code kept by the CPU and dropped by Memory on writes.

// CodeCache is decoded code a CPU keeps for one frame. Memory calls
// Invalidate when the frame is written, unmapped or loses execute
// permission, and forgets the cache.
type CodeCache interface {
	Invalidate()
}

// ExecFrame returns the frame of the executable page at va (page
// aligned) and its code-cache slot, or the fault of fetching from it.
// The frame is kept out of the write TLB while the slot holds a cache,
// so every store to it goes through the slow path that drops the cache.
func (m *Memory) ExecFrame(va uint64) (*[PageSize]byte, *CodeCache, FaultCause) {
	e := m.lookup(va)
	if e == nil {
		return nil, nil, CauseUnmapped
	}
	if e.perm&PermExec == 0 {
		return nil, nil, CauseProtection
	}
	m.flushTLBPage(va >> pageShift)
	return e.pg.data, &e.pg.foreign, CauseNone
}

// ReadFrame returns the frame of the readable page of addr for a load, or
// the fault: a read-TLB hit is a compare and an index.
func (m *Memory) ReadFrame(addr uint64) (*[PageSize]byte, FaultCause) {
	if p := m.ReadHit(addr); p != nil {
		return p, CauseNone
	}
	return m.readablePage(addr)
}

// WriteFrame returns the frame of the writable page of addr for a store,
// resolving copy-on-write and dropping decoded code, or the fault.
func (m *Memory) WriteFrame(addr uint64) (*[PageSize]byte, FaultCause) {
	if p := m.WriteHit(addr); p != nil {
		return p, CauseNone
	}
	return m.writablePage(addr)
}

// ReadHit returns the frame of addr's page when the read TLB holds it,
// else nil: the inline fast path of another CPU's loads (ReadFrame is
// the full one).
func (m *Memory) ReadHit(addr uint64) *[PageSize]byte {
	e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
	if e.tag == addr&^pageMask {
		return e.data
	}
	return nil
}

// WriteHit is ReadHit for stores.
func (m *Memory) WriteHit(addr uint64) *[PageSize]byte {
	e := &m.wtlb[(addr>>pageShift)&(tlbSize-1)]
	if e.tag == addr&^pageMask {
		return e.data
	}
	return nil
}
