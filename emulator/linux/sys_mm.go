package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

func pageAlign(n uint64) (uint64, bool) {
	r := (n + pageMask) &^ pageMask
	return r, r >= n
}

func sysBrk(t *Task, a args) (uint64, error) {
	return t.mm().setBrk(a[0]), nil
}

func sysMmap(t *Task, a args) (uint64, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], uint32(a[2]), uint32(a[3]), int32(a[4]), a[5]
	m := t.mm()
	if length == 0 || addr&pageMask != 0 || off&pageMask != 0 || prot&^(abi.PROT_READ|abi.PROT_WRITE|abi.PROT_EXEC) != 0 {
		return 0, abi.EINVAL
	}
	size, ok := pageAlign(length)
	if !ok || size > addressTop {
		return 0, abi.ENOMEM
	}
	typ := flags & abi.MAP_TYPE
	if typ != abi.MAP_SHARED && typ != abi.MAP_PRIVATE && typ != abi.MAP_SHARED_VALIDATE {
		return 0, abi.EINVAL
	}
	v := vma{prot: prot, shared: typ != abi.MAP_PRIVATE}
	if flags&abi.MAP_ANONYMOUS == 0 {
		d, err := t.fd(uint64(uint32(fd)))
		if err != nil {
			return 0, err
		}
		n := d.File.Inode()
		if n == nil || !n.IsRegular() {
			return 0, abi.ENODEV
		}
		if !d.Readable() {
			return 0, abi.EACCES
		}
		if v.shared && prot&abi.PROT_WRITE != 0 && (!d.Writable() || d.Flags&abi.O_APPEND != 0) {
			return 0, abi.EACCES
		}
		if seals, _ := n.Seals(); v.shared && prot&abi.PROT_WRITE != 0 && seals&(vfs.SealWrite|vfs.SealFutureWrite) != 0 {
			return 0, abi.EPERM
		}
		if v.shared && prot&abi.PROT_WRITE == 0 && !n.HasContentInMemory() && !n.IsHost() {
			// A read-only shared mapping of a file still read from the
			// image behaves as a private one (the image cannot change,
			// and its pages are not copied into memory up front).
			v.shared = false
		}
		// Other shared mappings map the file's own pages (vfs.Frame):
		// stores reach the file and every other mapping of it (a host
		// file's when written back: vfs/hostpages.go).
		v.file, v.fileOff, v.name = n, int64(off), d.Path
	}
	fixed := flags&(abi.MAP_FIXED|abi.MAP_FIXED_NOREPLACE) != 0
	switch {
	case fixed:
		if addr+size < addr || addr+size > addressTop || addr < pageSize {
			return 0, abi.ENOMEM
		}
		if flags&abi.MAP_FIXED_NOREPLACE != 0 && flags&abi.MAP_FIXED == 0 && !m.free(addr, addr+size) {
			return 0, abi.EEXIST
		}
	case addr != 0 && addr+size > addr && addr+size <= mmapTop && m.free(addr, addr+size):
		// The hint is free: use it, as Linux does.
	default:
		var err error
		if addr, err = m.findGap(size, mmapTop); err != nil {
			return 0, err
		}
	}
	v.start, v.end = addr, addr+size
	if v.file != nil {
		v.fileEnd = v.start + uint64(max(v.file.Size()-v.fileOff, 0))
		if v.fileEnd > v.end {
			v.fileEnd = v.end
		}
	}
	if err := m.insert(v); err != nil {
		return 0, err
	}
	return addr, nil
}

func sysMunmap(t *Task, a args) (uint64, error) {
	addr := a[0]
	size, ok := pageAlign(a[1])
	if addr&pageMask != 0 || a[1] == 0 || !ok || addr+size < addr || addr+size > addressTop {
		return 0, abi.EINVAL
	}
	t.mm().unmapRange(addr, addr+size)
	return 0, nil
}

func sysMprotect(t *Task, a args) (uint64, error) {
	addr, prot := a[0], uint32(a[2])
	size, ok := pageAlign(a[1])
	if addr&pageMask != 0 || !ok || addr+size < addr || prot&^(abi.PROT_READ|abi.PROT_WRITE|abi.PROT_EXEC|0x01000000|0x02000000) != 0 {
		return 0, abi.EINVAL
	}
	if size == 0 {
		return 0, nil
	}
	return 0, t.mm().protect(addr, addr+size, prot&(abi.PROT_READ|abi.PROT_WRITE|abi.PROT_EXEC))
}

func sysMadvise(t *Task, a args) (uint64, error) {
	addr := a[0]
	size, ok := pageAlign(a[1])
	if addr&pageMask != 0 || !ok {
		return 0, abi.EINVAL
	}
	if a[2] == abi.MADV_DONTNEED && size > 0 {
		// Dropped pages come back as zeros (or the file's bytes) on the
		// next touch, exactly what MADV_DONTNEED promises for private
		// mappings.
		m := t.mm()
		for p := addr; p < addr+size; p += pageSize {
			if i := m.find(p); i >= 0 && !m.vmas[i].shared {
				m.dropPages(p, p+pageSize)
			}
		}
	}
	return 0, nil
}

func sysMremap(t *Task, a args) (uint64, error) {
	oldAddr, flags := a[0], a[3]
	oldSize, ok1 := pageAlign(a[1])
	newSize, ok2 := pageAlign(a[2])
	m := t.mm()
	if oldAddr&pageMask != 0 || !ok1 || !ok2 || newSize == 0 || flags&^(abi.MREMAP_MAYMOVE|abi.MREMAP_FIXED) != 0 {
		return 0, abi.EINVAL
	}
	if newSize > addressTop || oldSize > addressTop || oldAddr > addressTop {
		return 0, abi.ENOMEM
	}
	i := m.find(oldAddr)
	if i < 0 || m.vmas[i].end < oldAddr+oldSize {
		return 0, abi.EFAULT
	}
	if flags&abi.MREMAP_FIXED != 0 {
		return 0, abi.EINVAL
	}
	switch {
	case newSize <= oldSize:
		if newSize < oldSize {
			m.unmapRange(oldAddr+newSize, oldAddr+oldSize)
		}
		return oldAddr, nil
	case m.vmas[i].end == oldAddr+oldSize && m.free(oldAddr+oldSize, oldAddr+newSize) && oldAddr+newSize <= mmapTop:
		m.vmas[i].end = oldAddr + newSize
		return oldAddr, nil
	case flags&abi.MREMAP_MAYMOVE == 0:
		return 0, abi.ENOMEM
	}
	dst, err := m.findGap(newSize, mmapTop)
	if err != nil {
		return 0, err
	}
	v := m.vmas[i]
	nv := v
	nv.start, nv.end = dst, dst+newSize
	if v.file != nil {
		nv.fileOff = v.fileOff + int64(oldAddr-v.start)
		nv.fileEnd = min(dst+(v.fileEnd-oldAddr), nv.end)
		if v.fileEnd < oldAddr {
			nv.fileEnd = dst
		}
	}
	if err := m.insert(nv); err != nil {
		return 0, err
	}
	// Move the populated pages' contents.
	buf := make([]byte, pageSize)
	for off := uint64(0); off < oldSize; off += pageSize {
		if _, ok := m.mem.Mapping(oldAddr + off); !ok {
			continue
		}
		if err := m.mem.ReadBytes(oldAddr+off, buf); err != nil {
			// Unreadable (PROT_NONE or write-only) pages cannot be moved
			// through the bulk copier; remap them empty.
			continue
		}
		if err := m.poke(dst+off, buf); err != nil {
			return 0, err
		}
	}
	m.unmapRange(oldAddr, oldAddr+oldSize)
	return dst, nil
}

// sysMsync writes back the shared file mappings of the range: host files'
// pages that stores changed (other files' frames are their content).
func sysMsync(t *Task, a args) (uint64, error) {
	const msAsync, msInvalidate, msSync = 1, 2, 4
	flags := a[2]
	size, ok := pageAlign(a[1])
	if a[0]&pageMask != 0 || !ok || flags&^(msAsync|msInvalidate|msSync) != 0 || flags&(msAsync|msSync) == msAsync|msSync {
		return 0, abi.EINVAL
	}
	m := t.mm()
	for p := a[0]; p < a[0]+size; {
		i := m.find(p)
		if i < 0 {
			return 0, abi.ENOMEM
		}
		p = m.vmas[i].end
	}
	if err := m.syncShared(a[0], a[0]+size); err != nil {
		return 0, abi.EIO
	}
	return 0, nil
}

func sysMincore(t *Task, a args) (uint64, error) {
	size, ok := pageAlign(a[1])
	if a[0]&pageMask != 0 || !ok {
		return 0, abi.EINVAL
	}
	if size > maxIO*pageSize || a[0]+size < a[0] {
		return 0, abi.ENOMEM
	}
	m := t.mm()
	out := make([]byte, size/pageSize)
	for i := range out {
		p := a[0] + uint64(i)*pageSize
		if m.find(p) < 0 {
			return 0, abi.ENOMEM
		}
		if _, ok := m.mem.Mapping(p); ok {
			out[i] = 1
		}
	}
	return 0, t.copyOut(a[2], out)
}
