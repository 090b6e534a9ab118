package linux

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"sort"
	"strings"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/arch"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
)

// Address-space layout (a 39-bit user space, like riscv64 Sv39 kernels,
// which every riscv64 program accepts).
const (
	pageSize   = arch.PageSize
	pageMask   = pageSize - 1
	stackTop   = 0x3f_ffff_f000
	stackLimit = 8 << 20
	// vdsoAddr holds the rt_sigreturn trampoline, just above the stack.
	vdsoAddr = stackTop
	// mmapTop is where top-down mmap placement starts, below the stack
	// and its growth room.
	mmapTop     = stackTop - 256<<20
	mmapBottom  = 0x10_0000
	pieBase     = 0x2a_aaaa_a000
	interpBase  = 0x3f_8000_0000
	addressTop  = stackTop + pageSize
	maxMapCount = 65530
)

// vma is one mapping of an address space, as /proc/self/maps lists them.
// Pages are populated on first touch (demand paging), so reserving a large
// region costs nothing until it is used.
type vma struct {
	start, end uint64
	prot       uint32 // PROT_* bits
	shared     bool
	// file, when set, provides the bytes of [start, fileEnd) from offset
	// fileOff (at start); the rest of the mapping reads as zeros.
	file    *vfs.Inode
	fileOff int64
	fileEnd uint64
	name    string
}

func (v *vma) perm() arch.Perm {
	var p arch.Perm
	if v.prot&abi.PROT_READ != 0 {
		p |= arch.PermRead
	}
	if v.prot&abi.PROT_WRITE != 0 {
		p |= arch.PermRead | arch.PermWrite
	}
	if v.prot&abi.PROT_EXEC != 0 {
		p |= arch.PermExec
	}
	return p
}

// MM is a process's address space: the page tables (arch.Memory) and the
// mappings that explain them.
type MM struct {
	k        *Kernel
	mem      *arch.Memory
	vmas     []vma // sorted, non-overlapping
	brkStart uint64
	brk      uint64
	// resident counts the populated pages charged to the memory budget.
	resident uint64
	users    int
}

func newMM(k *Kernel) *MM {
	m := &MM{k: k, users: 1}
	m.setMem(arch.NewMemory())
	return m
}

// setMem makes mem the address space, reporting its executed image pages
// when the configuration asks for a profile.
func (m *MM) setMem(mem *arch.Memory) {
	m.mem = mem
	if m.k.cfg.Profile != nil {
		mem.OnExecuted = m.reportExecuted
	}
}

// reportExecuted reports weight instructions retired from va (a page or
// a block start in it) to Config.Profile when that page holds an image
// file's bytes.
func (m *MM) reportExecuted(va, weight uint64) {
	i := m.find(va)
	if i < 0 {
		return
	}
	if ino, off, ok := m.vmas[i].imagePage(va &^ (pageSize - 1)); ok {
		m.k.cfg.Profile(ino, off+va&(pageSize-1), weight)
	}
}

// imagePage reports the image file and the offset in it of the page at va
// (page aligned) of v, when the whole page is that file's bytes: the
// identity of translated code (docs/translation.md).
func (v *vma) imagePage(va uint64) (ino, off uint64, ok bool) {
	if v.file == nil || va < v.start || va+pageSize > v.fileEnd {
		return 0, 0, false
	}
	ino, ok = v.file.ImageIno()
	if !ok {
		return 0, 0, false
	}
	o := v.fileOff + int64(va-v.start)
	if o < 0 || o%pageSize != 0 {
		return 0, 0, false
	}
	return ino, uint64(o), true
}

// fork returns a copy-on-write copy.
func (m *MM) fork() (*MM, error) {
	if err := m.k.charge(m.resident); err != nil {
		return nil, err
	}
	c := &MM{k: m.k, vmas: append([]vma(nil), m.vmas...), brkStart: m.brkStart, brk: m.brk, resident: m.resident, users: 1}
	c.setMem(m.mem.Fork())
	return c, nil
}

// release drops one user; the last frees the pages from the budget.
func (m *MM) release() {
	m.users--
	if m.users == 0 {
		m.syncShared(0, addressTop)
		m.k.resident -= m.resident
		m.resident = 0
		m.vmas = nil
		m.mem = arch.NewMemory()
	}
}

// find returns the index of the vma containing addr, or -1.
func (m *MM) find(addr uint64) int {
	i := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].end > addr })
	if i < len(m.vmas) && m.vmas[i].start <= addr {
		return i
	}
	return -1
}

// split makes addr a vma boundary if it falls inside one.
func (m *MM) split(addr uint64) {
	i := m.find(addr)
	if i < 0 || m.vmas[i].start == addr {
		return
	}
	left := m.vmas[i]
	right := left
	left.end = addr
	right.start = addr
	if right.file != nil {
		right.fileOff += int64(addr - left.start)
	}
	m.vmas = append(m.vmas[:i+1], m.vmas[i:]...)
	m.vmas[i], m.vmas[i+1] = left, right
}

// unmapRange removes every mapping in [start, end) and frees its pages,
// writing back what stores changed in shared file mappings.
func (m *MM) unmapRange(start, end uint64) {
	m.split(start)
	m.split(end)
	out := m.vmas[:0]
	for _, v := range m.vmas {
		if v.start >= start && v.end <= end {
			if v.shared && v.file != nil {
				v.file.SyncFrames(v.fileOff, v.fileOff+int64(v.end-v.start))
			}
			m.dropPages(v.start, v.end)
			continue
		}
		out = append(out, v)
	}
	m.vmas = out
}

// syncShared writes back what stores through the shared file mappings of
// [start, end) changed: pages of host files (vfs.Inode.SyncFrames); other
// files' frames are their content already.
func (m *MM) syncShared(start, end uint64) error {
	var first error
	for i := range m.vmas {
		v := &m.vmas[i]
		if !v.shared || v.file == nil || v.end <= start || v.start >= end {
			continue
		}
		lo, hi := max(v.start, start), min(v.end, end)
		err := v.file.SyncFrames(v.fileOff+int64(lo-v.start), v.fileOff+int64(hi-v.start))
		if first == nil {
			first = err
		}
	}
	return first
}

// dropPages unmaps the populated pages of [start, end) and uncharges them.
func (m *MM) dropPages(start, end uint64) {
	for a := start; a < end; a += pageSize {
		if _, ok := m.mem.Mapping(a); ok {
			m.mem.Unmap(a, pageSize)
			m.resident--
			m.k.resident--
		}
	}
}

// insert adds v, replacing whatever overlaps it (MAP_FIXED semantics).
func (m *MM) insert(v vma) error {
	m.unmapRange(v.start, v.end)
	if len(m.vmas) >= maxMapCount {
		return abi.ENOMEM
	}
	i := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].start >= v.end })
	m.vmas = append(m.vmas, vma{})
	copy(m.vmas[i+1:], m.vmas[i:])
	m.vmas[i] = v
	if v.shared && v.file == nil {
		// Shared anonymous memory must exist before a fork so that both
		// sides see the same frames.
		n := (v.end - v.start) / pageSize
		if err := m.k.charge(n); err != nil {
			m.unmapRange(v.start, v.end)
			return err
		}
		m.resident += n
		if err := m.mem.MapShared(v.start, v.end-v.start, v.perm()); err != nil {
			return abi.ENOMEM
		}
	}
	return nil
}

// free reports whether [start, end) overlaps no mapping.
func (m *MM) free(start, end uint64) bool {
	i := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].end > start })
	return i == len(m.vmas) || m.vmas[i].start >= end
}

// findGap returns the highest free range of length bytes below top.
func (m *MM) findGap(length, top uint64) (uint64, error) {
	end := top
	for i := len(m.vmas) - 1; i >= -1; i-- {
		var lo uint64 = mmapBottom
		if i >= 0 {
			lo = m.vmas[i].end
			if lo >= end {
				end = min(end, m.vmas[i].start)
				continue
			}
		}
		if end >= length && end-length >= lo {
			return end - length, nil
		}
		if i >= 0 {
			end = min(end, m.vmas[i].start)
		}
	}
	return 0, abi.ENOMEM
}

// protect changes the protection of [start, end), which must be fully
// mapped.
func (m *MM) protect(start, end uint64, prot uint32) error {
	for a := start; a < end; {
		i := m.find(a)
		if i < 0 {
			return abi.ENOMEM
		}
		a = m.vmas[i].end
	}
	m.split(start)
	m.split(end)
	for i := range m.vmas {
		v := &m.vmas[i]
		if v.start >= start && v.end <= end {
			v.prot = prot
			for a := v.start; a < v.end; a += pageSize {
				if _, ok := m.mem.Mapping(a); ok {
					m.mem.Protect(a, pageSize, v.perm())
				}
			}
		}
	}
	return nil
}

var errNoMapping = errors.New("no mapping")

// populate maps the page containing addr from its vma: zeros, or the
// file's bytes. It fails if no vma covers addr or the vma grants no
// access.
func (m *MM) populate(addr uint64) error {
	i := m.find(addr)
	if i < 0 {
		return errNoMapping
	}
	v := &m.vmas[i]
	if v.prot&(abi.PROT_READ|abi.PROT_WRITE|abi.PROT_EXEC) == 0 {
		return errNoMapping
	}
	page := addr &^ pageMask
	if _, ok := m.mem.Mapping(page); ok {
		return errNoMapping
	}
	if v.shared && v.file != nil {
		return m.populateShared(v, page)
	}
	if err := m.k.charge(1); err != nil {
		return err
	}
	if v.prot&abi.PROT_WRITE == 0 {
		if ino, off, ok := v.imagePage(page); ok {
			switch err := m.populateImage(v, page, ino, off); {
			case err == nil:
				m.resident++
				return nil
			case !errors.Is(err, errShortPage):
				m.k.resident--
				return err
			}
		}
	}
	if err := m.mem.Map(page, pageSize, v.perm()); err != nil {
		m.k.resident--
		return err
	}
	m.resident++
	if v.file != nil && page < v.fileEnd {
		lo := max(page, v.start)
		hi := min(page+pageSize, v.fileEnd)
		buf := make([]byte, hi-lo)
		k, err := v.file.ReadAt(buf, v.fileOff+int64(lo-v.start))
		if err != nil && err != io.EOF {
			return err
		}
		if err := m.mem.Poke(lo, buf[:k]); err != nil {
			return err
		}
		if ino, off, ok := v.imagePage(page); ok && k == len(buf) {
			if tp := m.k.cfg.Translations.Lookup(ino, off); tp != nil {
				m.mem.SetTranslated(page, tp)
			}
		}
	}
	return nil
}

// errBeyondEOF is a touch of a shared file mapping's page that lies wholly
// past the file's end: SIGBUS, as on Linux.
var errBeyondEOF = errors.New("shared file mapping past the end of the file")

// populateShared maps the file's own page (vfs.Frame) at page.
func (m *MM) populateShared(v *vma, page uint64) error {
	off := v.fileOff + int64(page-v.start)
	if off >= v.file.CurrentSize() {
		return errBeyondEOF
	}
	f, err := v.file.SharedFrame(off / pageSize)
	if err != nil {
		return err
	}
	if err := m.k.charge(1); err != nil {
		return err
	}
	if err := m.mem.MapFrame(page, &f.Data, &f.Mapping, v.perm()); err != nil {
		m.k.resident--
		return err
	}
	m.resident++
	return nil
}

// sharedMappings yields the shared mappings of file n, in every address
// space once (threads and vfork children share one).
func (k *Kernel) sharedMappings(n *vfs.Inode) iter.Seq2[*MM, *vma] {
	return func(yield func(*MM, *vma) bool) {
		seen := map[*MM]bool{}
		for _, p := range k.procs {
			m := p.mm
			if m == nil || seen[m] {
				continue
			}
			seen[m] = true
			for i := range m.vmas {
				if v := &m.vmas[i]; v.shared && v.file == n && !yield(m, v) {
					return
				}
			}
		}
	}
}

// writablySharedMapped reports whether some address space maps n shared
// and writable (F_SEAL_WRITE refuses to seal such a file).
func (k *Kernel) writablySharedMapped(n *vfs.Inode) bool {
	for _, v := range k.sharedMappings(n) {
		if v.prot&abi.PROT_WRITE != 0 {
			return true
		}
	}
	return false
}

// unmapPastEnd drops, in every address space, the pages of shared
// mappings of n that now lie wholly past its end (size), so that touching
// them faults with SIGBUS as on Linux.
func (k *Kernel) unmapPastEnd(n *vfs.Inode, size int64) {
	for m, v := range k.sharedMappings(n) {
		// The first page whose file offset is at or past the end.
		first := v.start
		if end := (size + pageMask) &^ pageMask; end > v.fileOff {
			first += uint64(end - v.fileOff)
		}
		if first < v.end {
			m.dropPages(first, v.end)
		}
	}
}

// poke writes b at addr, populating pages as needed and ignoring
// permissions (for the loader).
func (m *MM) poke(addr uint64, b []byte) error {
	for a := addr &^ pageMask; a < addr+uint64(len(b)); a += pageSize {
		if _, ok := m.mem.Mapping(a); !ok {
			if err := m.populate(a); err != nil {
				return err
			}
		}
	}
	return m.mem.Poke(addr, b)
}

// copyIn reads guest memory, populating untouched pages; EFAULT if
// unmapped or unreadable.
func (m *MM) copyIn(addr uint64, dst []byte) error {
	for {
		err := m.mem.ReadBytes(addr, dst)
		if err == nil {
			return nil
		}
		var f *riscv64.Fault
		if !errors.As(err, &f) || f.Cause != riscv64.CauseUnmapped || m.populate(f.Addr) != nil {
			return abi.EFAULT
		}
	}
}

// copyOut writes guest memory, populating untouched pages; EFAULT if
// unmapped or read-only.
func (m *MM) copyOut(addr uint64, src []byte) error {
	for {
		err := m.mem.WriteBytes(addr, src)
		if err == nil {
			return nil
		}
		var f *riscv64.Fault
		if !errors.As(err, &f) || f.Cause != riscv64.CauseUnmapped || m.populate(f.Addr) != nil {
			return abi.EFAULT
		}
	}
}

// readString reads a NUL-terminated string of at most max bytes.
func (m *MM) readString(addr uint64, max int) (string, error) {
	for {
		s, err := m.mem.ReadString(addr, max)
		if err == nil {
			return s, nil
		}
		var f *riscv64.Fault
		if errors.As(err, &f) {
			if f.Cause == riscv64.CauseUnmapped && m.populate(f.Addr) == nil {
				continue
			}
			return "", abi.EFAULT
		}
		return "", abi.ENAMETOOLONG
	}
}

// setBrk implements brk(2).
func (m *MM) setBrk(addr uint64) uint64 {
	if addr < m.brkStart || addr > m.brkStart+1<<30 {
		return m.brk
	}
	oldEnd := (m.brk + pageMask) &^ pageMask
	newEnd := (addr + pageMask) &^ pageMask
	switch {
	case newEnd > oldEnd:
		if !m.free(oldEnd, newEnd) {
			return m.brk
		}
		if i := m.find(oldEnd - 1); i >= 0 && m.vmas[i].name == "[heap]" && m.vmas[i].end == oldEnd {
			m.vmas[i].end = newEnd
		} else if err := m.insert(vma{start: oldEnd, end: newEnd, prot: abi.PROT_READ | abi.PROT_WRITE, name: "[heap]"}); err != nil {
			return m.brk
		}
	case newEnd < oldEnd:
		m.unmapRange(newEnd, oldEnd)
	}
	m.brk = addr
	return m.brk
}

// mapsText renders /proc/self/maps.
func (m *MM) mapsText() string {
	var b strings.Builder
	for _, v := range m.vmas {
		p := []byte("---p")
		if v.prot&abi.PROT_READ != 0 {
			p[0] = 'r'
		}
		if v.prot&abi.PROT_WRITE != 0 {
			p[1] = 'w'
		}
		if v.prot&abi.PROT_EXEC != 0 {
			p[2] = 'x'
		}
		if v.shared {
			p[3] = 's'
		}
		var ino uint64
		if v.file != nil {
			ino = v.file.Ino()
		}
		line := fmt.Sprintf("%08x-%08x %s %08x 00:00 %d", v.start, v.end, p, max(v.fileOff, 0), ino)
		if v.name != "" {
			line = fmt.Sprintf("%-72s %s", line, v.name)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
