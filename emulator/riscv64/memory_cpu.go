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

// CodeAt is the decoded code of one frame at each virtual address it is
// executed at, up to four, the most recently made first: processes share
// the frames of programs and libraries (MapPrivateFrame), and a library
// lies at different addresses in processes that load different libraries
// before it (ls and cat in a shell loop). Both CPUs keep their code so.
type CodeAt[C interface {
	comparable
	VA() uint64
	Invalidate()
}] [4]C

// Find returns the code made for va.
func (cs *CodeAt[C]) Find(va uint64) (C, bool) {
	var none C
	for _, c := range cs {
		if c != none && c.VA() == va {
			return c, true
		}
	}
	return none, false
}

// Add makes c the first, invalidating the least recently made when all
// are taken.
func (cs *CodeAt[C]) Add(c C) {
	var none C
	if last := cs[len(cs)-1]; last != none {
		last.Invalidate()
	}
	copy(cs[1:], cs[:len(cs)-1])
	cs[0] = c
}

// Invalidate drops the code at every address (CodeCache).
func (cs *CodeAt[C]) Invalidate() {
	var none C
	for i, c := range cs {
		if c != none {
			c.Invalidate()
			cs[i] = none
		}
	}
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
