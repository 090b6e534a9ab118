package vfs

import "github.com/wasmrt/wasmrt/emulator/linux/abi"

// PageSize is the size of a Frame: the guest's page size.
const PageSize = 4096

// Frame is one page of an in-memory file's content that MAP_SHARED
// mappings map directly, so that stores through any mapping, in any
// process, and read(2)/write(2) of the file all see the same bytes, as
// with Linux's page cache. Once a page has a frame the frame is its
// content: reads prefer it, writes update it too.
type Frame struct {
	Data [PageSize]byte
	// Mapping is the memory layer's record of the frame, opaque here:
	// every address space maps one and the same page through it.
	Mapping any
}

// SharedFrame returns the frame of page idx (the file's bytes from
// idx*PageSize), making one from the file's content on first use.
func (n *Inode) SharedFrame(idx int64) (*Frame, error) {
	if !n.IsRegular() {
		return nil, abi.ENODEV
	}
	if n.host != "" {
		return n.hostFrame(idx)
	}
	if err := n.copyUp(); err != nil {
		return nil, err
	}
	return n.data.frame(idx), nil
}

// HasContentInMemory reports whether a regular file's content is held in
// memory (written at run time or copied up) rather than read from the
// image or a host directory.
func (n *Inode) HasContentInMemory() bool { return n.IsRegular() && n.host == "" && n.copied }

// frame returns the frame of page idx, creating it from the chunks.
func (d *fileData) frame(idx int64) *Frame {
	if f := d.frames[idx]; f != nil {
		return f
	}
	f := new(Frame)
	d.readChunks(f.Data[:], idx*PageSize)
	if d.frames == nil {
		d.frames = make(map[int64]*Frame)
	}
	d.frames[idx] = f
	return f
}

// pageSpans calls fn for each page idx that the n bytes at off touch, with
// the part [lo, hi) of them in that page.
func pageSpans(off int64, n int, fn func(idx, lo, hi int64)) {
	for idx := off / PageSize; idx*PageSize < off+int64(n); idx++ {
		fn(idx, max(idx*PageSize, off), min((idx+1)*PageSize, off+int64(n)))
	}
}

// overlayFrames copies into p, which holds the content at off, the bytes
// of the pages that have frames.
func (d *fileData) overlayFrames(p []byte, off int64) {
	pageSpans(off, len(p), func(idx, lo, hi int64) {
		if f := d.frames[idx]; f != nil {
			copy(p[lo-off:hi-off], f.Data[lo-idx*PageSize:])
		}
	})
}

// writeFrames stores p, written at off, into the frames it covers.
func (d *fileData) writeFrames(p []byte, off int64) {
	pageSpans(off, len(p), func(idx, lo, hi int64) {
		if f := d.frames[idx]; f != nil {
			copy(f.Data[lo-idx*PageSize:], p[lo-off:hi-off])
		}
	})
}

// zeroFrames clears what frames hold in [from, to): the file grows over
// bytes past its end, which stores through a mapping may have changed and
// which must read as zeros (Linux zeroes a partial last page when a file
// grows). The frames stay: mappings still reference them.
func (d *fileData) zeroFrames(from, to int64) {
	for idx, f := range d.frames {
		lo, hi := max(idx*PageSize, from), min((idx+1)*PageSize, to)
		if lo < hi {
			clear(f.Data[lo-idx*PageSize : hi-idx*PageSize])
		}
	}
}

// IsHost reports whether the inode is a file or directory of a host
// directory shown in the guest.
func (n *Inode) IsHost() bool { return n.host != "" }

// File seals (memfd_create(2), fcntl F_ADD_SEALS).
const (
	SealSeal        = 0x1
	SealShrink      = 0x2
	SealGrow        = 0x4
	SealWrite       = 0x8
	SealFutureWrite = 0x10
)

// MakeSealable marks an anonymous file as a memfd that takes seals; with
// allow false it starts sealed against new seals (no MFD_ALLOW_SEALING).
func (n *Inode) MakeSealable(allow bool) {
	n.sealable = true
	if !allow {
		n.seals = SealSeal
	}
}

// Seals returns the file's seals; ok is false for files that take none.
func (n *Inode) Seals() (seals uint32, ok bool) { return n.seals, n.sealable }

// AddSeals adds seals as F_ADD_SEALS does; writableMapped says whether a
// writable shared mapping of the file exists, which SealWrite refuses
// (EBUSY).
func (n *Inode) AddSeals(seals uint32, writableMapped bool) error {
	switch {
	case !n.sealable:
		return abi.EINVAL
	case seals&^(SealSeal|SealShrink|SealGrow|SealWrite|SealFutureWrite) != 0:
		return abi.EINVAL
	case n.seals&SealSeal != 0:
		return abi.EPERM
	case seals&SealWrite != 0 && writableMapped:
		return abi.EBUSY
	}
	n.seals |= seals
	return nil
}

// sealCheck refuses a change the seals forbid: a write (write), a change
// of the length from the current one to size.
func (n *Inode) sealCheck(write bool, size int64) error {
	if n.seals == 0 {
		return nil
	}
	cur := n.Size()
	switch {
	case write && n.seals&(SealWrite|SealFutureWrite) != 0:
		return abi.EPERM
	case size > cur && n.seals&SealGrow != 0, size < cur && n.seals&SealShrink != 0:
		return abi.EPERM
	}
	return nil
}
