package rootfs

import (
	"bytes"
	"math"
	"sync/atomic"
)

// Ino is an inode number. Inode numbers run from 1 (the root directory) to
// the image's inode count; 0 is never a valid inode.
type Ino uint32

// Image is an opened rootfs image. It reads the byte slice given to Open in
// place and never copies it.
//
// An Image is safe for concurrent use by multiple goroutines. The slice
// passed to Open must not be modified while the Image is in use; strings and
// byte slices returned by accessors alias it.
type Image struct {
	// b is the whole image when it is in memory (Open); src reads it
	// otherwise (OpenSource).
	b         []byte
	src       Source
	size      uint64
	sb        Superblock
	inodes    []byte // inode table
	dirents   []byte
	xattrs    []byte
	chunks    []byte // chunk table
	strs      []byte // string section
	ninodes   uint32
	nchunks   uint32
	chunkSize uint32

	// verified has one bit per chunk record, set once the chunk's stored
	// bytes matched their checksum, so each chunk is checked only once.
	verified []atomic.Uint32
	cache    chunkCache
	bufs     bufferList // for chunks read from src
}

// Open validates an image and returns a reader over it. It checks the
// preamble, the superblock and its checksum, the section layout, the
// checksum of every metadata section and the structure of every record
// (bounds, names, sort order, the directory tree), so later accessors cannot
// run out of bounds. File data is verified lazily, chunk by chunk, when it is
// first read. Open does not copy b; b must stay unmodified while the Image
// is in use.
func Open(b []byte) (*Image, error) {
	if len(b) < PreambleSize+SuperblockSize {
		return nil, corrupt("image is %d bytes, shorter than a preamble and a superblock", len(b))
	}
	get := func(off, n uint64) []byte { return b[off : off+n] }
	im, err := open(uint64(len(b)), b[:PreambleSize], b[len(b)-SuperblockSize:], get)
	if err != nil {
		return nil, err
	}
	im.b = b
	return im, nil
}

// Source holds an image that is read as needed rather than held in memory:
// the passive data segment of a module (emulator/embed's Segment). ReadAt
// fills p with the bytes at off; Size bounds every offset the reader asks
// for.
type Source interface {
	Size() int64
	ReadAt(p []byte, off int64) error
}

// OpenSource is Open for an image read through src: it reads the preamble,
// the superblock and the metadata sections (inodes to strings, which the
// format puts after the data) into memory, validates them as Open does, and
// reads file data from src chunk by chunk as it is used. src must not
// change while the Image is in use.
func OpenSource(src Source) (*Image, error) {
	size := src.Size()
	if size < PreambleSize+SuperblockSize {
		return nil, corrupt("image is %d bytes, shorter than a preamble and a superblock", size)
	}
	pre := make([]byte, PreambleSize)
	sbb := make([]byte, SuperblockSize)
	if err := src.ReadAt(pre, 0); err != nil {
		return nil, err
	}
	if err := src.ReadAt(sbb, size-SuperblockSize); err != nil {
		return nil, err
	}
	var meta []byte
	var metaOff uint64
	readMeta := func(sb *Superblock) error {
		// The layout is checked by now: the metadata sections follow the
		// data section and end before the superblock.
		metaOff = sb.Sections[SectionInodes].Offset
		meta = make([]byte, uint64(size)-SuperblockSize-metaOff)
		return src.ReadAt(meta, int64(metaOff))
	}
	get := func(off, n uint64) []byte {
		if off < metaOff {
			return nil // the data section: read chunk by chunk
		}
		return meta[off-metaOff : off-metaOff+n]
	}
	im, err := openWith(uint64(size), pre, sbb, get, readMeta)
	if err != nil {
		return nil, err
	}
	im.src = src
	return im, nil
}

func open(size uint64, pre, sbb []byte, get func(off, n uint64) []byte) (*Image, error) {
	return openWith(size, pre, sbb, get, nil)
}

// openWith checks the preamble pre and the superblock sbb of an image of
// size bytes, then the layout; loadMeta, when set, brings the metadata
// sections into reach of get before their checksums and records are
// checked.
func openWith(size uint64, pre, sbb []byte, get func(off, n uint64) []byte, loadMeta func(*Superblock) error) (*Image, error) {
	if string(pre[:len(PreambleMagic)]) != PreambleMagic {
		return nil, corrupt("bad preamble magic %q", pre[:len(PreambleMagic)])
	}
	if major := le.Uint16(pre[8:]); major != VersionMajor {
		return nil, corrupt("format version %d.%d is not supported (this reader reads %d.x)", major, le.Uint16(pre[10:]), VersionMajor)
	}
	if string(sbb[:len(SuperblockMagic)]) != SuperblockMagic {
		return nil, corrupt("bad superblock magic %q (image truncated or padded?)", sbb[:len(SuperblockMagic)])
	}
	if want, got := le.Uint32(sbb[sbCRC:]), Checksum(sbb[sbCRC+4:]); want != got {
		return nil, corrupt("superblock checksum mismatch (stored %#08x, computed %#08x)", want, got)
	}
	sb := getSuperblock(sbb)
	if sb.Major != VersionMajor {
		return nil, corrupt("superblock format version %d.%d is not supported (this reader reads %d.x)", sb.Major, sb.Minor, VersionMajor)
	}
	if unknown := sb.IncompatFeatures &^ knownIncompat; unknown != 0 {
		return nil, corrupt("image requires features %#x that this reader does not implement", unknown)
	}
	if sb.ImageSize != size {
		return nil, corrupt("superblock says the image is %d bytes but it is %d", sb.ImageSize, size)
	}
	if size%8 != 0 {
		return nil, corrupt("image size %d is not a multiple of 8", size)
	}
	if !isPow2InRange(sb.ChunkSize, MinChunkSize, MaxChunkSize) {
		return nil, corrupt("chunk size %d is not a power of two in [%d, %d]", sb.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if !isPow2InRange(sb.PageSize, 8, MaxChunkSize) {
		return nil, corrupt("page size %d is not a power of two in [8, %d]", sb.PageSize, MaxChunkSize)
	}
	if err := checkLayout(size, &sb); err != nil {
		return nil, err
	}
	if loadMeta != nil {
		if err := loadMeta(&sb); err != nil {
			return nil, err
		}
	}

	im := &Image{size: size, sb: sb, chunkSize: sb.ChunkSize}
	secs, err := sectionBytes(get, &sb)
	if err != nil {
		return nil, err
	}
	im.inodes, im.dirents, im.xattrs, im.chunks, im.strs = secs[SectionInodes], secs[SectionDirents], secs[SectionXattrs], secs[SectionChunks], secs[SectionStrings]
	// Record indexes are 32-bit; larger tables would make index sums wrap.
	for i, n := range [...]uint64{
		SectionInodes:  uint64(len(im.inodes) / InodeSize),
		SectionDirents: uint64(len(im.dirents) / DirentSize),
		SectionXattrs:  uint64(len(im.xattrs) / XattrSize),
		SectionChunks:  uint64(len(im.chunks) / ChunkRecordSize),
	} {
		if n > math.MaxUint32 {
			return nil, corrupt("%s section has %d records, more than 2^32-1", sectionNames[i], n)
		}
	}
	im.ninodes = uint32(len(im.inodes) / InodeSize)
	im.nchunks = uint32(len(im.chunks) / ChunkRecordSize)
	if im.ninodes == 0 {
		return nil, corrupt("inode table is empty (no root directory)")
	}
	if err := im.validate(); err != nil {
		return nil, err
	}
	im.verified = make([]atomic.Uint32, (uint64(im.nchunks)+31)/32)
	return im, nil
}

func isPow2InRange(v, lo, hi uint32) bool {
	return v >= lo && v <= hi && v&(v-1) == 0
}

// recordSizes gives each section's record size; the string and data
// sections are byte streams.
var recordSizes = [NumSections]uint64{
	SectionData:    1,
	SectionInodes:  InodeSize,
	SectionDirents: DirentSize,
	SectionXattrs:  XattrSize,
	SectionChunks:  ChunkRecordSize,
	SectionStrings: 1,
}

// checkLayout checks the section layout: sections in their fixed order
// between the preamble and the superblock, not overlapping, record sections
// 8-aligned and a whole number of records long.
func checkLayout(size uint64, sb *Superblock) error {
	pos := uint64(PreambleSize)
	limit := size - SuperblockSize
	for i, s := range sb.Sections {
		name := sectionNames[i]
		if s.Offset < pos || s.Offset > limit || s.Size > limit-s.Offset {
			return corrupt("%s section [%d, +%d) is outside [%d, %d) or overlaps the previous section", name, s.Offset, s.Size, pos, limit)
		}
		if recordSizes[i] > 1 {
			if s.Offset%8 != 0 {
				return corrupt("%s section offset %d is not 8-byte aligned", name, s.Offset)
			}
			if s.Size%recordSizes[i] != 0 {
				return corrupt("%s section size %d is not a multiple of the %d-byte record", name, s.Size, recordSizes[i])
			}
		}
		pos = s.Offset + s.Size
	}
	return nil
}

// sectionBytes checks the metadata checksums of a laid-out image and
// returns each section's bytes (the data section's only when get holds it).
func sectionBytes(get func(off, n uint64) []byte, sb *Superblock) ([NumSections][]byte, error) {
	var out [NumSections][]byte
	for i, s := range sb.Sections {
		sec := get(s.Offset, s.Size)
		if i != SectionData {
			if got := Checksum(sec); got != s.CRC {
				return out, corrupt("%s section checksum mismatch (stored %#08x, computed %#08x)", sectionNames[i], s.CRC, got)
			}
		}
		out[i] = sec
	}
	return out, nil
}

// validate checks every record, so that accessors can index the sections
// without further bounds checks on the image's own offsets.
func (im *Image) validate() error {
	dataSec := im.sb.Sections[SectionData]
	dataEnd := dataSec.Offset + dataSec.Size
	for i := uint32(0); i < im.nchunks; i++ {
		c := im.chunk(i)
		if c.Size == 0 || c.Size > im.chunkSize {
			return corrupt("chunk %d: decoded size %d is not in [1, %d]", i, c.Size, im.chunkSize)
		}
		switch c.Encoding {
		case EncodingZero:
			if c.StoredSize != 0 {
				return corrupt("chunk %d: zero chunk has %d stored bytes", i, c.StoredSize)
			}
			continue
		case EncodingRaw:
			if c.StoredSize != c.Size {
				return corrupt("chunk %d: raw chunk stores %d bytes for %d", i, c.StoredSize, c.Size)
			}
		case EncodingDeflate:
			if c.StoredSize == 0 {
				return corrupt("chunk %d: deflate chunk has no stored bytes", i)
			}
		case EncodingLZ4:
			if im.sb.IncompatFeatures&FeatureLZ4 == 0 {
				return corrupt("chunk %d: LZ4 chunk in an image without the LZ4 feature", i)
			}
			if c.StoredSize == 0 {
				return corrupt("chunk %d: LZ4 chunk has no stored bytes", i)
			}
		default:
			return corrupt("chunk %d: unknown encoding %d", i, c.Encoding)
		}
		if c.Offset < dataSec.Offset || c.Offset > dataEnd || uint64(c.StoredSize) > dataEnd-c.Offset {
			return corrupt("chunk %d: stored bytes [%d, +%d) are outside the data section [%d, %d)", i, c.Offset, c.StoredSize, dataSec.Offset, dataEnd)
		}
	}

	v := &validation{
		dirNamed:    newBitmap(uint64(im.ninodes) + 1),
		chunkOwned:  newBitmap(uint64(im.nchunks)),
		direntOwned: newBitmap(uint64(len(im.dirents) / DirentSize)),
		xattrOwned:  newBitmap(uint64(len(im.xattrs) / XattrSize)),
	}
	for n := uint32(1); n <= im.ninodes; n++ {
		if err := im.validateInode(Ino(n), v); err != nil {
			return err
		}
	}
	dirRef := v.dirNamed
	root := im.inode(RootIno)
	if root.Mode&modeType != modeDir {
		return corrupt("root inode has mode %#o, not a directory", root.Mode)
	}
	if root.Parent != uint32(RootIno) {
		return corrupt("root directory's parent is %d, not itself", root.Parent)
	}
	if dirRef.has(uint64(RootIno)) {
		return corrupt("root directory is named by a directory entry")
	}
	for n := uint32(2); n <= im.ninodes; n++ {
		if im.inode(Ino(n)).Mode&modeType == modeDir && !dirRef.has(uint64(n)) {
			return corrupt("directory inode %d is not named by any directory entry", n)
		}
	}
	return nil
}

// validation is the state of Open's pass over the records.
type validation struct {
	// dirNamed marks directories already named by an entry: a directory may
	// have exactly one name, which makes the part of the graph reachable from
	// the root a tree (no cycles, no directory hard links).
	dirNamed bitmap
	// The owned bitmaps mark chunk, entry and xattr records already claimed
	// by an inode. Ranges may not overlap, which also bounds validation to
	// one visit per record: overlapping ranges would let a small forged
	// image cost time quadratic in its size.
	chunkOwned, direntOwned, xattrOwned bitmap
}

// bitmap is a set of record indexes.
type bitmap []uint64

func newBitmap(n uint64) bitmap { return make(bitmap, (n+63)/64) }

func (b bitmap) has(i uint64) bool { return b[i/64]&(1<<(i%64)) != 0 }

// claim adds [first, first+count) to the set, or reports false if any of
// it is already there. The range must be in bounds.
func (b bitmap) claim(first, count uint32) bool {
	for i := uint64(first); i < uint64(first)+uint64(count); i++ {
		if b.has(i) {
			return false
		}
		b[i/64] |= 1 << (i % 64)
	}
	return true
}

func (im *Image) validateInode(ino Ino, v *validation) error {
	r := im.inode(ino)
	if r.Mode&^modeMask != 0 {
		return corrupt("inode %d: mode %#o has unknown bits", ino, r.Mode)
	}
	if r.MtimeNsec >= 1e9 {
		return corrupt("inode %d: mtime nanoseconds %d out of range", ino, r.MtimeNsec)
	}
	if err := im.validateXattrs(ino, &r, v); err != nil {
		return err
	}
	switch r.Mode & modeType {
	case modeRegular:
		return im.validateRegular(ino, &r, v)
	case modeDir:
		return im.validateDir(ino, &r, v)
	case modeSymlink:
		if r.Size != uint64(r.DataCount) || r.DataCount == 0 || r.DataCount > MaxSymlinkLen {
			return corrupt("inode %d: symlink target length %d (size %d) is not in [1, %d]", ino, r.DataCount, r.Size, MaxSymlinkLen)
		}
		t, ok := im.strBytes(r.DataIndex, uint64(r.DataCount))
		if !ok {
			return corrupt("inode %d: symlink target [%d, +%d) is outside the string section", ino, r.DataIndex, r.DataCount)
		}
		if bytes.IndexByte(t, 0) >= 0 {
			return corrupt("inode %d: symlink target contains a NUL byte", ino)
		}
	case modeChar, modeBlock, modeFIFO, modeSocket:
	default:
		return corrupt("inode %d: unknown file type in mode %#o", ino, r.Mode)
	}
	return nil
}

func (im *Image) validateRegular(ino Ino, r *InodeRecord, v *validation) error {
	if r.Size > math.MaxInt64 {
		return corrupt("inode %d: file size %d too large", ino, r.Size)
	}
	cs := uint64(im.chunkSize)
	want := (r.Size + cs - 1) / cs
	if uint64(r.DataCount) != want {
		return corrupt("inode %d: %d chunks for %d bytes, want %d", ino, r.DataCount, r.Size, want)
	}
	if uint64(r.DataIndex)+uint64(r.DataCount) > uint64(im.nchunks) {
		return corrupt("inode %d: chunks [%d, +%d) are outside the chunk table (%d records)", ino, r.DataIndex, r.DataCount, im.nchunks)
	}
	if !v.chunkOwned.claim(r.DataIndex, r.DataCount) {
		return corrupt("inode %d: chunks [%d, +%d) overlap another file's", ino, r.DataIndex, r.DataCount)
	}
	for i := uint32(0); i < r.DataCount; i++ {
		want := min(cs, r.Size-uint64(i)*cs)
		if got := im.chunk(r.DataIndex + i).Size; uint64(got) != want {
			return corrupt("inode %d: chunk %d decodes to %d bytes, want %d", ino, r.DataIndex+i, got, want)
		}
	}
	return nil
}

func (im *Image) validateDir(ino Ino, r *InodeRecord, v *validation) error {
	if r.Parent == 0 || r.Parent > im.ninodes {
		return corrupt("directory inode %d: parent %d out of range", ino, r.Parent)
	}
	nd := uint64(len(im.dirents) / DirentSize)
	if uint64(r.DataIndex)+uint64(r.DataCount) > nd {
		return corrupt("directory inode %d: entries [%d, +%d) are outside the entry table (%d records)", ino, r.DataIndex, r.DataCount, nd)
	}
	if !v.direntOwned.claim(r.DataIndex, r.DataCount) {
		return corrupt("directory inode %d: entries [%d, +%d) overlap another directory's", ino, r.DataIndex, r.DataCount)
	}
	var prev []byte
	for i := uint32(0); i < r.DataCount; i++ {
		d := im.dirent(r.DataIndex + i)
		name, ok := im.strBytes(d.NameOffset, uint64(d.NameLen))
		if !ok {
			return corrupt("directory inode %d: entry %d name [%d, +%d) is outside the string section", ino, i, d.NameOffset, d.NameLen)
		}
		if !validName(name) {
			return corrupt("directory inode %d: entry %d has invalid name %q", ino, i, name)
		}
		if i > 0 && bytes.Compare(prev, name) >= 0 {
			return corrupt("directory inode %d: entries %q and %q are not in strictly ascending order", ino, prev, name)
		}
		prev = name
		if d.Ino == 0 || d.Ino > im.ninodes || Ino(d.Ino) == RootIno {
			return corrupt("directory inode %d: entry %q names inode %d, which is not a valid non-root inode", ino, name, d.Ino)
		}
		child := im.inode(Ino(d.Ino))
		if child.Mode&modeType != modeDir {
			continue
		}
		if child.Parent != uint32(ino) {
			return corrupt("directory inode %d: subdirectory %q (inode %d) has parent %d", ino, name, d.Ino, child.Parent)
		}
		if !v.dirNamed.claim(d.Ino, 1) {
			return corrupt("directory inode %d is named by more than one entry", d.Ino)
		}
	}
	return nil
}

func (im *Image) validateXattrs(ino Ino, r *InodeRecord, v *validation) error {
	nx := uint64(len(im.xattrs) / XattrSize)
	if uint64(r.XattrIndex)+uint64(r.XattrCount) > nx {
		return corrupt("inode %d: xattrs [%d, +%d) are outside the xattr table (%d records)", ino, r.XattrIndex, r.XattrCount, nx)
	}
	if !v.xattrOwned.claim(r.XattrIndex, r.XattrCount) {
		return corrupt("inode %d: xattrs [%d, +%d) overlap another inode's", ino, r.XattrIndex, r.XattrCount)
	}
	var prev []byte
	for i := uint32(0); i < r.XattrCount; i++ {
		x := im.xattr(r.XattrIndex + i)
		name, ok := im.strBytes(x.NameOffset, uint64(x.NameLen))
		if !ok || x.NameLen == 0 || x.NameLen > MaxXattrNameLen || bytes.IndexByte(name, 0) >= 0 {
			return corrupt("inode %d: xattr %d has an invalid or out-of-bounds name", ino, i)
		}
		if i > 0 && bytes.Compare(prev, name) >= 0 {
			return corrupt("inode %d: xattrs %q and %q are not in strictly ascending order", ino, prev, name)
		}
		prev = name
		if _, ok := im.strBytes(x.ValueOffset, uint64(x.ValueLen)); !ok || x.ValueLen > MaxXattrValueLen {
			return corrupt("inode %d: xattr %q value [%d, +%d) is too long or outside the string section", ino, name, x.ValueOffset, x.ValueLen)
		}
	}
	return nil
}

// validName reports whether name is a valid directory entry name.
func validName(name []byte) bool {
	if len(name) == 0 || len(name) > MaxNameLen {
		return false
	}
	if string(name) == "." || string(name) == ".." {
		return false
	}
	return bytes.IndexByte(name, '/') < 0 && bytes.IndexByte(name, 0) < 0
}

// strBytes returns the string section's bytes [off, off+n), or false if that
// range is out of bounds.
func (im *Image) strBytes(off uint32, n uint64) ([]byte, bool) {
	if uint64(off) > uint64(len(im.strs)) || n > uint64(len(im.strs))-uint64(off) {
		return nil, false
	}
	return im.strs[off : uint64(off)+n : uint64(off)+n], true
}

// The record accessors below take indexes that validate (or the caller's
// own range check) has proven in bounds.

func (im *Image) inode(ino Ino) InodeRecord {
	o := uint64(ino-1) * InodeSize
	return getInode(im.inodes[o : o+InodeSize])
}

func (im *Image) dirent(i uint32) DirentRecord {
	o := uint64(i) * DirentSize
	return getDirent(im.dirents[o : o+DirentSize])
}

func (im *Image) xattr(i uint32) XattrRecord {
	o := uint64(i) * XattrSize
	return getXattr(im.xattrs[o : o+XattrSize])
}

func (im *Image) chunk(i uint32) ChunkRecord {
	o := uint64(i) * ChunkRecordSize
	return getChunk(im.chunks[o : o+ChunkRecordSize])
}

// NumInodes returns the number of inodes; valid inode numbers are 1 to
// NumInodes().
func (im *Image) NumInodes() int { return int(im.ninodes) }

// ChunkSize returns the size of the chunks regular files are stored in.
// Reads aligned to it decode each chunk at most once.
func (im *Image) ChunkSize() int { return int(im.chunkSize) }

// PageSize returns the alignment of raw chunks at least this long (see
// RawData).
func (im *Image) PageSize() int { return int(im.sb.PageSize) }

// Version returns the image's format version.
func (im *Image) Version() (major, minor int) { return int(im.sb.Major), int(im.sb.Minor) }

// Features returns the image's incompat feature bits (FeatureLZ4).
func (im *Image) Features() uint32 { return im.sb.IncompatFeatures }

// Size returns the length of the image in bytes.
func (im *Image) Size() int64 { return int64(im.size) }
