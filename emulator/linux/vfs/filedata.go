package vfs

// chunkSize is the unit in which an in-memory file's content is allocated.
const chunkSize = 64 << 10

// fileData is the content of a regular file held in memory (written at run
// time, or copied up from the image). It is kept in chunks allocated on
// first write: a chunk never written is a hole that reads as zeros, as on
// tmpfs, so a sparse file (a byte written at 2 GiB) costs what was written,
// not its length. A chunk's slice may be shorter than chunkSize; the rest
// of it reads as zeros too, which keeps small files small.
//
// Invariant: a chunk's bytes between its length and its capacity are zero,
// so growing it in place needs no clearing.
type fileData struct {
	size   int64
	chunks [][]byte
	// frames are the pages shared with memory mappings (frames.go).
	frames map[int64]*Frame
}

func newFileData(content []byte) fileData {
	var d fileData
	d.writeAt(content, 0)
	return d
}

// readAt copies the content at off into p and returns how many bytes it
// copied: less than len(p) only at the end of the file.
func (d *fileData) readAt(p []byte, off int64) int {
	if off >= d.size {
		return 0
	}
	n := int(min(int64(len(p)), d.size-off))
	d.readChunks(p[:n], off)
	if d.frames != nil {
		d.overlayFrames(p[:n], off)
	}
	return n
}

// readChunks fills p with the chunks' content at off (zeros in holes).
func (d *fileData) readChunks(p []byte, off int64) {
	n := len(p)
	for done := 0; done < n; {
		ci, co := (off+int64(done))/chunkSize, int((off+int64(done))%chunkSize)
		take := min(n-done, chunkSize-co)
		dst := p[done : done+take]
		var k int
		if ci < int64(len(d.chunks)) && co < len(d.chunks[ci]) {
			k = copy(dst, d.chunks[ci][co:])
		}
		clear(dst[k:])
		done += take
	}
}

// writeAt stores p at off, growing the file as needed.
func (d *fileData) writeAt(p []byte, off int64) {
	end := off + int64(len(p))
	if last := (end - 1) / chunkSize; len(p) > 0 && last >= int64(len(d.chunks)) {
		d.chunks = append(d.chunks, make([][]byte, last+1-int64(len(d.chunks)))...)
	}
	for done := 0; done < len(p); {
		ci, co := (off+int64(done))/chunkSize, int((off+int64(done))%chunkSize)
		take := min(len(p)-done, chunkSize-co)
		c := d.chunks[ci]
		if need := co + take; need > len(c) {
			if need > cap(c) {
				grown := make([]byte, need, min(max(need, 2*cap(c)), chunkSize))
				copy(grown, c)
				c = grown
			} else {
				c = c[:need]
			}
			d.chunks[ci] = c
		}
		copy(c[co:], p[done:done+take])
		done += take
	}
	if d.frames != nil {
		if off > d.size {
			d.zeroFrames(d.size, off)
		}
		d.writeFrames(p, off)
	}
	d.size = max(d.size, end)
}

// truncate sets the length: cutting drops the content past size, growing
// adds a hole.
func (d *fileData) truncate(size int64) {
	if size < d.size {
		keep := (size + chunkSize - 1) / chunkSize
		if keep < int64(len(d.chunks)) {
			clear(d.chunks[keep:])
			d.chunks = d.chunks[:keep]
		}
		if rem := int(size % chunkSize); rem != 0 && keep > 0 && keep <= int64(len(d.chunks)) {
			if c := d.chunks[keep-1]; len(c) > rem {
				clear(c[rem:])
				d.chunks[keep-1] = c[:rem]
			}
		}
	}
	if d.frames != nil && size > d.size {
		d.zeroFrames(d.size, size)
	}
	d.size = size
}

// allocated returns the bytes held, counted in the 4 KiB blocks a
// filesystem would allocate for them (st_blocks).
func (d *fileData) allocated() int64 {
	var n int64
	for _, c := range d.chunks {
		n += (int64(len(c)) + 4095) &^ 4095
	}
	return n
}
