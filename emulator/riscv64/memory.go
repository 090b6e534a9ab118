package riscv64

import (
	"errors"
	"fmt"
)

// PageSize is the guest page size. Linux on riscv64 uses 4 KiB pages.
const PageSize = 4096

const (
	pageShift = 12
	pageMask  = PageSize - 1
	// MaxAddress is the first address past the user address space (Sv48:
	// 47 bits of user addresses). Map refuses anything at or above it.
	MaxAddress = uint64(1) << 47
)

// tlbSize is the number of entries of each software TLB. A power of two so
// that the index is a mask. 4096 (64 KiB per TLB and address space): with
// 1024, translated node's start-up left translated code 773 K times for
// TLB misses, pages 4 MiB apart evicting each other (114 K with 4096,
// 0.7-1 s of 9.3); the CPU benchmarks and a fork loop did not move.
const tlbSize = 4096

// Perm is a set of page permissions.
type Perm uint8

// Page permissions, combinable with |.
const (
	PermRead Perm = 1 << iota
	PermWrite
	PermExec
)

func (p Perm) String() string {
	b := []byte("---")
	if p&PermRead != 0 {
		b[0] = 'r'
	}
	if p&PermWrite != 0 {
		b[1] = 'w'
	}
	if p&PermExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// page is one 4 KiB frame of host memory. A frame can be referenced by
// several address spaces: after Fork (copy-on-write, refs counts the
// references) or when mapped shared.
type page struct {
	data *[PageSize]byte
	// refs counts the page table entries, across all address spaces, that
	// point at this frame. A private frame with refs > 1 is copied on write.
	refs int32
	// shared frames stay shared across Fork and are never copied on write.
	shared bool
	// code is the decoded-instruction cache of this frame at each virtual
	// address it was executed at since it was last written.
	code CodeAt[*codePage]
	// translated is the translated unit of the frame's bytes, set by the
	// loader that filled the frame from an image file and dropped by the
	// first write (translated.go).
	translated *TranslatedPage
	// foreign is the decoded code another architecture's CPU keeps for
	// the frame (ExecFrame), dropped like code.
	foreign CodeCache
}

// dropCode invalidates and forgets the decoded code of the frame.
func (pg *page) dropCode() {
	pg.code.Invalidate()
	if pg.foreign != nil {
		pg.foreign.Invalidate()
		pg.foreign = nil
	}
}

// pte is a page table entry of one address space.
type pte struct {
	pg   *page
	perm Perm
	// cow is set on private frames that other address spaces still
	// reference; the first write copies the frame.
	cow bool
}

// tlbEntry caches the translation of one virtual page for the CPU's fast
// load and store paths. tag is the page's virtual base address, or
// invalidTag; read entries only exist for readable pages, write entries
// only for writable, unshared, unreferenced-by-others frames without
// decoded code (so a hit never needs a copy-on-write or a cache flush).
type tlbEntry struct {
	tag  uint64
	data *[PageSize]byte
}

// invalidTag can never equal an aligned virtual page base, and has its low
// bits set so that masked-address comparisons never match it either.
const invalidTag = ^uint64(0)

// Memory is a guest virtual address space: pages with permissions backed
// by host memory. It is not safe for concurrent use; the CPUs of all tasks
// that share it must be run by one goroutine at a time.
type Memory struct {
	pages map[uint64]*pte // keyed by virtual page number

	rtlb [tlbSize]tlbEntry
	wtlb [tlbSize]tlbEntry

	brkBase, brk uint64

	// OnExecuted, when set, receives how many instructions CPUs retired:
	// the riscv64 CPU in the page at va each time it leaves it, the
	// x86-64 CPU from va, the start of each block (a profile; it costs a
	// call per page transition or block).
	OnExecuted func(va, instructions uint64)

	// jumps caches where translated code of this address space starts,
	// for translated code's jumps between units (translated.go);
	// allocated on the first call into translated code.
	jumps *[jumpCacheSize]jumpEntry
}

// NewMemory returns an empty address space.
func NewMemory() *Memory {
	m := &Memory{pages: make(map[uint64]*pte)}
	m.flushTLB()
	return m
}

func (m *Memory) flushTLB() {
	for i := range m.rtlb {
		m.rtlb[i] = tlbEntry{tag: invalidTag}
		m.wtlb[i] = tlbEntry{tag: invalidTag}
	}
}

func (m *Memory) flushTLBPage(vpn uint64) {
	i := vpn & (tlbSize - 1)
	if m.rtlb[i].tag == vpn<<pageShift {
		m.rtlb[i] = tlbEntry{tag: invalidTag}
	}
	if m.wtlb[i].tag == vpn<<pageShift {
		m.wtlb[i] = tlbEntry{tag: invalidTag}
	}
}

// ErrRange reports an address range that is misaligned, empty, wraps, or
// leaves the user address space.
var ErrRange = errors.New("address range outside the user address space or not page aligned")

func checkRange(addr, length uint64) (first, end uint64, err error) {
	if addr&pageMask != 0 || length == 0 || addr >= MaxAddress || length > MaxAddress-addr {
		return 0, 0, fmt.Errorf("range %#x+%#x: %w", addr, length, ErrRange)
	}
	return addr >> pageShift, (addr + length + pageMask) >> pageShift, nil
}

// Map maps fresh zero-filled private pages over [addr, addr+length),
// replacing whatever was mapped there (like mmap with MAP_FIXED|
// MAP_PRIVATE|MAP_ANONYMOUS). addr must be page aligned; length is
// rounded up to whole pages.
func (m *Memory) Map(addr, length uint64, perm Perm) error {
	return m.mapPages(addr, length, perm, false)
}

// MapShared is Map for MAP_SHARED anonymous memory: the pages stay shared
// with the address spaces created from this one by Fork.
func (m *Memory) MapShared(addr, length uint64, perm Perm) error {
	return m.mapPages(addr, length, perm, true)
}

func (m *Memory) mapPages(addr, length uint64, perm Perm, shared bool) error {
	first, end, err := checkRange(addr, length)
	if err != nil {
		return err
	}
	for vpn := first; vpn < end; vpn++ {
		m.dropPage(vpn)
		m.pages[vpn] = &pte{pg: &page{data: new([PageSize]byte), refs: 1, shared: shared}, perm: perm}
	}
	return nil
}

// MapFrame maps the host frame data at the page addr as shared memory (a
// MAP_SHARED file mapping). Every address space that maps the same frame
// shares one page record, kept in *slot (opaque to the caller), so that
// decoded code and writes stay coherent among them.
func (m *Memory) MapFrame(addr uint64, data *[PageSize]byte, slot *any, perm Perm) error {
	first, _, err := checkRange(addr, PageSize)
	if err != nil {
		return err
	}
	pg, _ := (*slot).(*page)
	if pg == nil {
		pg = &page{data: data, shared: true}
		*slot = pg
	}
	m.dropPage(first)
	pg.refs++
	m.pages[first] = &pte{pg: pg, perm: perm}
	return nil
}

// MapPrivateFrame maps at the page addr, private and copy-on-write, the
// frame whose page record *slot holds: an entry of a cache the caller
// keeps (opaque to it) of frames with a file's bytes. An empty slot gets a
// new frame that fill fills; filled reports that. The slot holds a
// reference of its own, so a write from any address space copies the
// frame and every later mapping sees the file's bytes; decoded code, kept
// per frame and virtual address, serves every process that maps the
// frame at the same address. ReleaseFrame drops the slot's reference.
func (m *Memory) MapPrivateFrame(addr uint64, slot *any, perm Perm, fill func(*[PageSize]byte) error) (filled bool, err error) {
	first, _, err := checkRange(addr, PageSize)
	if err != nil {
		return false, err
	}
	pg, _ := (*slot).(*page)
	if pg == nil {
		data := new([PageSize]byte)
		if err := fill(data); err != nil {
			return false, err
		}
		pg = &page{data: data, refs: 1}
		*slot, filled = pg, true
	}
	m.dropPage(first)
	pg.refs++
	m.pages[first] = &pte{pg: pg, perm: perm, cow: true}
	return filled, nil
}

// ReleaseFrame drops the reference of a MapPrivateFrame slot and empties
// it: the address spaces that map the frame keep it.
func ReleaseFrame(slot *any) {
	if pg, ok := (*slot).(*page); ok {
		pg.refs--
		*slot = nil
	}
}

// Unmap removes the mappings in [addr, addr+length). Unmapped holes in the
// range are not an error.
func (m *Memory) Unmap(addr, length uint64) error {
	first, end, err := checkRange(addr, length)
	if err != nil {
		return err
	}
	for vpn := first; vpn < end; vpn++ {
		m.dropPage(vpn)
	}
	return nil
}

func (m *Memory) dropPage(vpn uint64) {
	e, ok := m.pages[vpn]
	if !ok {
		return
	}
	e.pg.refs--
	e.pg.dropCode()
	delete(m.pages, vpn)
	m.flushTLBPage(vpn)
}

// Protect changes the permissions of the mapped pages in
// [addr, addr+length). Like mprotect it fails with ErrNotMapped, changing
// nothing, if any page of the range is unmapped.
func (m *Memory) Protect(addr, length uint64, perm Perm) error {
	first, end, err := checkRange(addr, length)
	if err != nil {
		return err
	}
	for vpn := first; vpn < end; vpn++ {
		if _, ok := m.pages[vpn]; !ok {
			return fmt.Errorf("protect %#x: %w", vpn<<pageShift, ErrNotMapped)
		}
	}
	for vpn := first; vpn < end; vpn++ {
		e := m.pages[vpn]
		e.perm = perm
		if perm&PermExec == 0 {
			e.pg.dropCode()
		}
		m.flushTLBPage(vpn)
	}
	return nil
}

// ErrNotMapped reports an operation on an address without a mapping.
var ErrNotMapped = errors.New("address not mapped")

// Mapping reports the permissions of the page containing addr, and whether
// it is mapped at all.
func (m *Memory) Mapping(addr uint64) (Perm, bool) {
	e, ok := m.pages[addr>>pageShift]
	if !ok {
		return 0, false
	}
	return e.perm, true
}

// Fork returns a copy of the address space. Private pages are shared
// copy-on-write: the first write from either side copies the page. Shared
// pages (MapShared) stay shared. Decoded code is not carried over; the new
// address space decodes on first execution.
func (m *Memory) Fork() *Memory {
	c := &Memory{pages: make(map[uint64]*pte, len(m.pages)), brkBase: m.brkBase, brk: m.brk}
	for vpn, e := range m.pages {
		e.pg.refs++
		if !e.pg.shared {
			e.cow = true
		}
		c.pages[vpn] = &pte{pg: e.pg, perm: e.perm, cow: e.cow}
	}
	// The parent's write TLB may hold pages that just became copy-on-write.
	m.flushTLB()
	c.flushTLB()
	return c
}

// SetBrk sets the program break's base (the end of the loaded image,
// rounded up to a page) and its current value. The Linux layer calls it
// after loading a program.
func (m *Memory) SetBrk(base uint64) {
	m.brkBase, m.brk = base, base
}

// Brk implements brk(2): it moves the program break to newBrk, mapping or
// unmapping read-write pages as needed, and returns the resulting break.
// Requests below the base, beyond limit, or over existing mappings leave
// the break unchanged (the Linux layer reports that as the old value, just
// like the kernel).
func (m *Memory) Brk(newBrk, limit uint64) uint64 {
	if newBrk < m.brkBase || newBrk > limit || newBrk >= MaxAddress {
		return m.brk
	}
	oldEnd := (m.brk + pageMask) &^ pageMask
	newEnd := (newBrk + pageMask) &^ pageMask
	switch {
	case newEnd > oldEnd:
		for vpn := oldEnd >> pageShift; vpn < newEnd>>pageShift; vpn++ {
			if _, ok := m.pages[vpn]; ok {
				return m.brk
			}
		}
		if err := m.Map(oldEnd, newEnd-oldEnd, PermRead|PermWrite); err != nil {
			return m.brk
		}
	case newEnd < oldEnd:
		if err := m.Unmap(newEnd, oldEnd-newEnd); err != nil {
			return m.brk
		}
	}
	m.brk = newBrk
	return m.brk
}

// lookup returns the page table entry for the page of addr.
func (m *Memory) lookup(addr uint64) *pte {
	return m.pages[addr>>pageShift]
}

// readablePage returns the frame for a load from addr, filling the read
// TLB, or a fault.
func (m *Memory) readablePage(addr uint64) (*[PageSize]byte, FaultCause) {
	e := m.lookup(addr)
	if e == nil {
		return nil, CauseUnmapped
	}
	if e.perm&PermRead == 0 {
		return nil, CauseProtection
	}
	vpn := addr >> pageShift
	m.rtlb[vpn&(tlbSize-1)] = tlbEntry{tag: vpn << pageShift, data: e.pg.data}
	return e.pg.data, CauseNone
}

// writablePage returns the frame for a store to addr, resolving
// copy-on-write and dropping decoded code of the frame, or a fault. It
// fills the write TLB when later stores can take the fast path.
func (m *Memory) writablePage(addr uint64) (*[PageSize]byte, FaultCause) {
	e := m.lookup(addr)
	if e == nil {
		return nil, CauseUnmapped
	}
	if e.perm&PermWrite == 0 {
		return nil, CauseProtection
	}
	m.makeWritable(e, addr>>pageShift)
	return e.pg.data, CauseNone
}

// makeWritable prepares the frame of e for a write: copies it if it is a
// copy-on-write frame still referenced elsewhere, and drops its decoded
// code. It caches the translation in the write TLB when possible.
func (m *Memory) makeWritable(e *pte, vpn uint64) {
	if e.cow {
		if e.pg.refs > 1 {
			e.pg.refs--
			// CPUs of this address space may still hold the shared
			// frame's decoded code in their instruction TLBs: drop it
			// (the other sharers decode the frame again).
			e.pg.dropCode()
			cp := new([PageSize]byte)
			*cp = *e.pg.data
			e.pg = &page{data: cp, refs: 1}
			// The read TLB may still point at the old frame.
			m.flushTLBPage(vpn)
		}
		e.cow = false
	}
	e.pg.translated = nil
	e.pg.dropCode()
	if !e.pg.shared {
		m.wtlb[vpn&(tlbSize-1)] = tlbEntry{tag: vpn << pageShift, data: e.pg.data}
	}
}

// ReadBytes copies guest memory at addr into dst, as a read by the guest:
// every page must be mapped readable. On failure it returns a *Fault and
// dst holds the bytes before the faulting page.
func (m *Memory) ReadBytes(addr uint64, dst []byte) error {
	for len(dst) > 0 {
		data, cause := m.readablePage(addr)
		if cause != CauseNone {
			return &Fault{Access: AccessRead, Cause: cause, Addr: addr}
		}
		n := copy(dst, data[addr&pageMask:])
		dst = dst[n:]
		addr += uint64(n)
	}
	return nil
}

// WriteBytes copies src into guest memory at addr, as a write by the
// guest: every page must be mapped writable. Decoded code of the written
// pages is dropped. On failure it returns a *Fault; the pages before the
// faulting one were written.
func (m *Memory) WriteBytes(addr uint64, src []byte) error {
	for len(src) > 0 {
		data, cause := m.writablePage(addr)
		if cause != CauseNone {
			return &Fault{Access: AccessWrite, Cause: cause, Addr: addr}
		}
		n := copy(data[addr&pageMask:], src)
		src = src[n:]
		addr += uint64(n)
	}
	return nil
}

// Poke writes src at addr ignoring page permissions (but not mappings),
// for loaders that fill read-only or execute-only segments.
func (m *Memory) Poke(addr uint64, src []byte) error {
	for len(src) > 0 {
		e := m.lookup(addr)
		if e == nil {
			return &Fault{Access: AccessWrite, Cause: CauseUnmapped, Addr: addr}
		}
		m.makeWritable(e, addr>>pageShift)
		if e.perm&PermWrite == 0 {
			m.flushTLBPage(addr >> pageShift)
		}
		n := copy(e.pg.data[addr&pageMask:], src)
		src = src[n:]
		addr += uint64(n)
	}
	return nil
}

// ReadString reads a NUL-terminated string of at most max bytes (without
// the NUL) from guest memory, as the kernel does for path arguments. It
// reports ErrStringTooLong when no NUL is found within max bytes.
func (m *Memory) ReadString(addr uint64, max int) (string, error) {
	var out []byte
	for len(out) <= max {
		data, cause := m.readablePage(addr)
		if cause != CauseNone {
			return "", &Fault{Access: AccessRead, Cause: cause, Addr: addr}
		}
		chunk := data[addr&pageMask:]
		for i, b := range chunk {
			if b == 0 {
				out = append(out, chunk[:i]...)
				if len(out) > max {
					break
				}
				return string(out), nil
			}
		}
		out = append(out, chunk...)
		addr += uint64(len(chunk))
	}
	return "", fmt.Errorf("string at %#x: %w", addr, ErrStringTooLong)
}

// ErrStringTooLong reports a guest string without a terminating NUL within
// the allowed length.
var ErrStringTooLong = errors.New("string longer than allowed")
