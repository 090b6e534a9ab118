package vfs

import (
	"io"
	"os"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// hostPages are the pages of a host file that shared mappings map: the
// guest's page cache of that file. Every mapping, in every process, maps
// the same frames, and the guest's own reads and writes of the file go
// through them too, so the guest sees one file as on Linux. Stores reach
// the host file when the pages are written back: msync, munmap, fsync,
// sync, or the mapping process exiting or executing another program
// (Linux writes back within seconds too; a host program reading the file
// meanwhile may see it older). synced is each frame's content as the host
// file last had it, so that a write-back writes only the pages stores
// changed and leaves the rest of the file to whoever else writes it.
type hostPages struct {
	frames map[int64]*Frame
	synced map[int64]*[PageSize]byte
}

// hostFrame returns the frame of page idx of a host file, reading it from
// the host on first use.
func (n *Inode) hostFrame(idx int64) (*Frame, error) {
	c := n.hostPages
	if c == nil {
		c = &hostPages{frames: map[int64]*Frame{}, synced: map[int64]*[PageSize]byte{}}
		n.hostPages = c
	}
	if f := c.frames[idx]; f != nil {
		return f, nil
	}
	f := new(Frame)
	if _, err := n.hostReadAt(f.Data[:], idx*PageSize); err != nil && err != io.EOF {
		return nil, err
	}
	synced := f.Data
	c.frames[idx], c.synced[idx] = f, &synced
	return f, nil
}

// CurrentSize is Size, asking the host for a host file's (it may have
// changed there since the last look).
func (n *Inode) CurrentSize() int64 {
	if n.host != "" && n.IsRegular() {
		if info, err := os.Stat(n.host); err == nil {
			n.hostSize = info.Size()
		}
	}
	return n.Size()
}

// readPages lays the frames over p, which holds the k bytes read from the
// host at off: they are newer than the host's until written back.
func (c *hostPages) readPages(p []byte, off int64) {
	if c == nil {
		return
	}
	pageSpans(off, len(p), func(idx, lo, hi int64) {
		if f := c.frames[idx]; f != nil {
			copy(p[lo-off:hi-off], f.Data[lo-idx*PageSize:])
		}
	})
}

// wrotePages stores p, just written to the host at off, into the frames
// it covers and their synced copies.
func (c *hostPages) wrotePages(p []byte, off int64) {
	if c == nil {
		return
	}
	pageSpans(off, len(p), func(idx, lo, hi int64) {
		if f := c.frames[idx]; f != nil {
			copy(f.Data[lo-idx*PageSize:], p[lo-off:hi-off])
			copy(c.synced[idx][lo-idx*PageSize:], p[lo-off:hi-off])
		}
	})
}

// cutPages clears the bytes at and past size in every frame (and its
// synced copy): the file no longer has them, and if it grows again they
// read as zeros.
func (c *hostPages) cutPages(size int64) {
	if c == nil {
		return
	}
	for idx, f := range c.frames {
		if from := max(size-idx*PageSize, 0); from < PageSize {
			clear(f.Data[from:])
			clear(c.synced[idx][from:])
		}
	}
}

// SyncFrames writes back to a host file the pages of [from, to) that
// stores through shared mappings changed, within the file's current
// length (a mapping never makes a file longer). Other files have nothing
// to write back: their frames are their content.
func (n *Inode) SyncFrames(from, to int64) error {
	c := n.hostPages
	if c == nil {
		return nil
	}
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	size := n.CurrentSize()
	for idx, fr := range c.frames {
		lo := idx * PageSize
		if lo >= to || lo+PageSize <= from || fr.Data == *c.synced[idx] {
			continue
		}
		if hi := min(lo+PageSize, size); hi > lo {
			if f == nil {
				var err error
				if f, err = os.OpenFile(n.host, os.O_WRONLY, 0); err != nil {
					return hostErrno(err)
				}
			}
			if _, err := f.WriteAt(fr.Data[:hi-lo], lo); err != nil {
				return hostErrno(err)
			}
		}
		*c.synced[idx] = fr.Data
	}
	return nil
}

// hostTruncate sets a host file's length; pages mapped past the new end
// are unmapped everywhere (FramesCut), as for other files.
func (n *Inode) hostTruncate(size int64) error {
	old := n.CurrentSize()
	if err := os.Truncate(n.host, size); err != nil {
		return hostErrno(err)
	}
	n.hostSize = size
	if n.hostPages != nil {
		n.hostPages.cutPages(size)
		if size < old && n.fs.FramesCut != nil {
			n.fs.FramesCut(n, size)
		}
	}
	n.Notify(InModify)
	return nil
}

// Sync makes what was written to f durable: for a host file, its pages
// written back and the host file synced (fsync(2)); other files live in
// memory and have nothing to sync.
func Sync(f File) error {
	h, ok := f.(*hostFile)
	if !ok {
		return nil
	}
	if err := h.n.SyncFrames(0, 1<<62); err != nil {
		return err
	}
	if err := h.f.Sync(); err != nil {
		return abi.EIO
	}
	return nil
}
