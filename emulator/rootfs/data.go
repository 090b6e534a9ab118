package rootfs

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"sync"
)

// regularRecord returns ino's record if it is a regular file.
func (im *Image) regularRecord(ino Ino) (InodeRecord, error) {
	r, err := im.record(ino)
	if err != nil {
		return r, err
	}
	switch r.Mode & modeType {
	case modeRegular:
		return r, nil
	case modeDir:
		return r, ErrIsDir
	default:
		return r, ErrInvalid
	}
}

// ReadAt reads len(p) bytes of regular file ino starting at byte offset off,
// with io.ReaderAt semantics: it returns io.EOF when fewer than len(p) bytes
// remain. It decodes only the chunks the range touches; chunks of zeros read
// as zeros without touching storage. A chunk whose stored bytes fail their
// checksum or do not decode to exactly the chunk's length yields an
// ErrCorrupt error, never wrong data. It returns ErrIsDir for a directory
// and ErrInvalid for other non-regular files or a negative offset.
func (im *Image) ReadAt(ino Ino, p []byte, off int64) (int, error) {
	r, err := im.regularRecord(ino)
	if err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, ErrInvalid
	}
	size := int64(r.Size)
	cs := int64(im.chunkSize)
	n := 0
	for n < len(p) && off < size {
		idx := r.DataIndex + uint32(off/cs)
		within := int(off % cs)
		c := im.chunk(idx)
		m := min(len(p)-n, int(c.Size)-within)
		dst := p[n : n+m]
		switch c.Encoding {
		case EncodingZero:
			clear(dst)
		case EncodingRaw:
			if err := im.readRaw(ino, idx, &c, within, dst); err != nil {
				return n, err
			}
		default:
			if err := im.cache.read(im, ino, idx, &c, within, dst); err != nil {
				return n, err
			}
		}
		n += m
		off += int64(m)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// RawData returns, without copying, the bytes of regular file ino from
// offset off to the end of the chunk that holds off, if that chunk is stored
// raw and its checksum matches. Raw chunks at least PageSize() long start at
// a multiple of PageSize() from the start of the image, so an image placed
// page-aligned in memory lets callers map such file pages in place. It
// returns false for compressed or zero chunks, offsets outside the file and
// non-regular files; callers then fall back to ReadAt. The slice aliases the
// image and must not be modified.
func (im *Image) RawData(ino Ino, off int64) ([]byte, bool) {
	r, err := im.regularRecord(ino)
	if err != nil || off < 0 || off >= int64(r.Size) {
		return nil, false
	}
	cs := int64(im.chunkSize)
	idx := r.DataIndex + uint32(off/cs)
	c := im.chunk(idx)
	if c.Encoding != EncodingRaw || im.b == nil {
		return nil, false
	}
	stored, err := im.stored(ino, idx, &c)
	if err != nil {
		return nil, false
	}
	return stored[off%cs:], true
}

// readRaw copies raw chunk idx[within:within+len(dst)] into dst. From a
// Source, the first read of a chunk reads all of it to check its
// checksum; later reads copy only the range asked for.
func (im *Image) readRaw(ino Ino, idx uint32, c *ChunkRecord, within int, dst []byte) error {
	if im.b == nil && im.isVerified(idx) {
		return im.src.ReadAt(dst, int64(c.Offset)+int64(within))
	}
	stored, release, err := im.storedCopy(ino, idx, c)
	if err != nil {
		return err
	}
	copy(dst, stored[within:])
	release()
	return nil
}

func (im *Image) isVerified(idx uint32) bool {
	return im.verified[idx/32].Load()&(uint32(1)<<(idx%32)) != 0
}

// storedCopy returns chunk idx's stored bytes, checked as stored does: a
// slice of the image in memory, or a buffer read from the Source, which
// release gives back.
func (im *Image) storedCopy(ino Ino, idx uint32, c *ChunkRecord) ([]byte, func(), error) {
	if im.b != nil {
		b, err := im.stored(ino, idx, c)
		return b, func() {}, err
	}
	buf := im.bufs.get(int(im.chunkSize) + 64)
	b := buf[:c.StoredSize]
	release := func() { im.bufs.put(buf) }
	if err := im.src.ReadAt(b, int64(c.Offset)); err != nil {
		release()
		return nil, nil, err
	}
	if err := im.check(ino, idx, c, b); err != nil {
		release()
		return nil, nil, err
	}
	return b, release, nil
}

// bufferList keeps the buffers chunks read from a Source are decoded from.
// Unlike a sync.Pool it survives garbage collections: allocating a chunk
// buffer per read would make the emulator's collector run far more often,
// and each collection walks the whole guest memory (measured: python's
// start 30% slower).
type bufferList struct {
	mu   sync.Mutex
	free [][]byte
}

// get returns a buffer of at least n bytes.
func (l *bufferList) get(n int) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.free) > 0 {
		b := l.free[len(l.free)-1]
		l.free = l.free[:len(l.free)-1]
		if cap(b) >= n {
			return b[:n]
		}
	}
	return make([]byte, n)
}

func (l *bufferList) put(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < minCacheSlots {
		l.free = append(l.free, b)
	}
}

// stored returns chunk idx's stored bytes after checking their checksum (once
// per chunk for the life of the Image).
func (im *Image) stored(ino Ino, idx uint32, c *ChunkRecord) ([]byte, error) {
	end := c.Offset + uint64(c.StoredSize)
	b := im.b[c.Offset:end:end]
	if err := im.check(ino, idx, c, b); err != nil {
		return nil, err
	}
	return b, nil
}

// check verifies b, chunk idx's stored bytes, against the chunk's checksum
// the first time the chunk is used.
func (im *Image) check(ino Ino, idx uint32, c *ChunkRecord, b []byte) error {
	w, bit := &im.verified[idx/32], uint32(1)<<(idx%32)
	if w.Load()&bit != 0 {
		return nil
	}
	if got := Checksum(b); got != c.CRC {
		return corrupt("inode %d: chunk %d: checksum mismatch (stored %#08x, computed %#08x)", ino, idx, c.CRC, got)
	}
	w.Or(bit)
	return nil
}

// decode inflates (DEFLATE) or decodes (LZ4) chunk idx into dst, which is
// exactly the chunk's decoded length. The stream must produce exactly
// len(dst) bytes and end where the stored bytes end, so a damaged or hostile
// stream can neither write past the chunk nor pass for valid data.
func (im *Image) decode(ino Ino, idx uint32, c *ChunkRecord, dst []byte) error {
	src, release, err := im.storedCopy(ino, idx, c)
	if err != nil {
		return err
	}
	defer release()
	if c.Encoding == EncodingLZ4 {
		if !DecodeLZ4(src, dst) {
			return corrupt("inode %d: chunk %d: LZ4 block does not decode to the chunk's %d bytes", ino, idx, len(dst))
		}
		return nil
	}
	inf := inflaters.Get().(*inflater)
	defer inflaters.Put(inf)
	inf.src.Reset(src)
	if inf.r == nil {
		inf.r = flate.NewReader(&inf.src)
	} else if err := inf.r.(flate.Resetter).Reset(&inf.src, nil); err != nil {
		return corrupt("inode %d: chunk %d: %v", ino, idx, err)
	}
	if _, err := io.ReadFull(inf.r, dst); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return corrupt("inode %d: chunk %d: deflate stream is shorter than the chunk's %d bytes", ino, idx, len(dst))
		}
		return corrupt("inode %d: chunk %d: %v", ino, idx, err)
	}
	var one [1]byte
	if k, err := inf.r.Read(one[:]); k != 0 || err != io.EOF {
		return corrupt("inode %d: chunk %d: deflate stream is longer than the chunk's %d bytes", ino, idx, len(dst))
	}
	if inf.src.Len() != 0 {
		return corrupt("inode %d: chunk %d: %d stored bytes follow the end of the deflate stream", ino, idx, inf.src.Len())
	}
	return nil
}

// inflater is a reusable DEFLATE decoder; allocating one per chunk would
// dominate small reads.
type inflater struct {
	src bytes.Reader // implements io.ByteReader, so flate reads no further than the stream
	r   io.ReadCloser
}

var inflaters = sync.Pool{New: func() any { return new(inflater) }}

// CacheBytes bounds the decoded chunks an Image keeps, shared by every
// reader of the image (in the emulator: every process of the guest). A
// program's pages are read at page faults in whatever order the program
// touches them, and every exec reads them again: with 8 chunks of 64 KiB,
// a shell loop running busybox decoded the same chunks at every exec
// (LZ4 37% of its time natively); 8 MiB holds a C library, a shell and
// the tools a script runs.
const CacheBytes = 8 << 20

// minCacheSlots keeps sequential reads of a few files at a time decoding
// each chunk once whatever the chunk size.
const minCacheSlots = 8

// chunkCache keeps recently decoded chunks, least recently used first out.
// Entries are only read while mu is held, so an evicted buffer can be
// reused for the next decode.
type chunkCache struct {
	mu    sync.Mutex
	slots []cacheSlot      // allocated on first use: CacheBytes / chunk size
	index map[uint32]int32 // chunk index -> slot
	tick  uint64
	spare [][]byte // evicted buffers, reused by the next decode
	// decodes counts the chunks decoded into the cache (for tests).
	decodes uint64
}

type cacheSlot struct {
	idx  uint32 // chunk index + 1; 0 means empty
	used uint64 // tick of the last use, for least-recently-used eviction
	data []byte
}

// cacheSlots is how many chunks of chunkSize bytes the cache holds.
func cacheSlots(chunkSize uint32) int {
	return max(minCacheSlots, CacheBytes/int(chunkSize))
}

// read copies decoded chunk idx[within:within+len(dst)] into dst, decoding
// the chunk if it is not cached.
func (cc *chunkCache) read(im *Image, ino Ino, idx uint32, c *ChunkRecord, within int, dst []byte) error {
	cc.mu.Lock()
	cc.tick++
	if i, ok := cc.index[idx]; ok {
		s := &cc.slots[i]
		s.used = cc.tick
		copy(dst, s.data[within:])
		cc.mu.Unlock()
		return nil
	}
	var buf []byte
	if n := len(cc.spare); n > 0 {
		buf = cc.spare[n-1]
		cc.spare = cc.spare[:n-1]
	}
	cc.mu.Unlock()

	// Decode outside the lock so other goroutines' reads proceed meanwhile.
	if cap(buf) < int(c.Size) {
		buf = make([]byte, im.chunkSize)
	}
	buf = buf[:c.Size]
	err := im.decode(ino, idx, c, buf)

	cc.mu.Lock()
	defer cc.mu.Unlock()
	if err != nil {
		cc.spare = append(cc.spare, buf)
		return err
	}
	copy(dst, buf[within:])
	if _, ok := cc.index[idx]; ok {
		// Another goroutine decoded the same chunk meanwhile.
		cc.spare = append(cc.spare, buf)
		return nil
	}
	if cc.slots == nil {
		cc.slots = make([]cacheSlot, cacheSlots(im.chunkSize))
		cc.index = make(map[uint32]int32, len(cc.slots))
	}
	// The least recently used slot (an empty one has used 0). A linear
	// scan, once per decode: far cheaper than the decode itself.
	v := 0
	for i := range cc.slots {
		if cc.slots[i].used < cc.slots[v].used {
			v = i
		}
	}
	victim := &cc.slots[v]
	if victim.data != nil {
		delete(cc.index, victim.idx-1)
		cc.spare = append(cc.spare, victim.data)
	}
	cc.tick++
	cc.decodes++
	*victim = cacheSlot{idx: idx + 1, used: cc.tick, data: buf}
	cc.index[idx] = int32(v)
	return nil
}
