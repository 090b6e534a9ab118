package rootfs

import (
	"encoding/binary"
	"hash/crc32"
)

// On-disk layout of format version 1. docs/rootfs-format.md is the normative
// description; the names here follow it. The constants and record types are
// exported so the converter's writer encodes exactly what this reader decodes.

// Magic numbers. The preamble magic identifies the file at offset 0; the
// superblock magic marks the table of contents at the end of the image.
const (
	PreambleMagic   = "WASMRTFS"
	SuperblockMagic = "WASMRTSB"
)

// Format version. A reader accepts every minor version of its major version:
// minor versions only add optional information in reserved space or behind
// compat feature bits.
const (
	VersionMajor = 1
	VersionMinor = 1
)

// Sizes of the fixed structures and records, in bytes.
const (
	PreambleSize    = 16
	SuperblockSize  = 256
	InodeSize       = 64
	DirentSize      = 12
	XattrSize       = 16
	ChunkRecordSize = 24
)

// Limits. They mirror Linux where Linux has one (NAME_MAX, PATH_MAX,
// XATTR_NAME_MAX, XATTR_SIZE_MAX).
const (
	MinChunkSize     = 4 << 10
	MaxChunkSize     = 1 << 20
	DefaultChunkSize = 64 << 10
	// PageSize is the alignment of raw chunks that are at least this long,
	// so their bytes can be mapped into guest memory without copying.
	PageSize         = 4096
	MaxNameLen       = 255
	MaxSymlinkLen    = 4095
	MaxXattrNameLen  = 255
	MaxXattrValueLen = 65536
	// RootIno is the inode number of the root directory.
	RootIno Ino = 1
)

// Chunk encodings.
const (
	// EncodingZero is a chunk of zero bytes that has no stored bytes.
	EncodingZero = 0
	// EncodingRaw is a chunk stored as is.
	EncodingRaw = 1
	// EncodingDeflate is a chunk stored as one raw DEFLATE stream (RFC 1951).
	EncodingDeflate = 2
	// EncodingLZ4 is a chunk stored as one LZ4 block (format 1.1; images
	// with such chunks set FeatureLZ4).
	EncodingLZ4 = 3
)

// Superblock feature bits.
const (
	// FeatureLZ4 (incompat) says chunks may be LZ4 blocks: readers that
	// cannot decode them must refuse the image rather than misread it.
	FeatureLZ4 = 1 << 0
	// knownIncompat are the incompat features this reader implements.
	knownIncompat = FeatureLZ4
)

// Section indexes in Superblock.Sections, in the order the sections appear
// in the image.
const (
	SectionData = iota
	SectionInodes
	SectionDirents
	SectionXattrs
	SectionChunks
	SectionStrings
	NumSections
)

var sectionNames = [NumSections]string{"data", "inode", "dirent", "xattr", "chunk", "string"}

// Linux st_mode bits as stored in inode records.
const (
	modeType    = 0o170000
	modeSocket  = 0o140000
	modeSymlink = 0o120000
	modeRegular = 0o100000
	modeBlock   = 0o060000
	modeDir     = 0o040000
	modeChar    = 0o020000
	modeFIFO    = 0o010000
	modeMask    = modeType | 0o7777
)

// castagnoli is the CRC-32C table used for every checksum in the format.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C of b, the checksum used throughout the format.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Section locates one section of the image.
type Section struct {
	Offset uint64 // from the start of the image
	Size   uint64 // in bytes
	CRC    uint32 // CRC-32C of the section's bytes; zero for the data section
}

// Superblock is the image's table of contents, stored in the last
// SuperblockSize bytes of the image.
type Superblock struct {
	Major, Minor     uint16
	IncompatFeatures uint32 // a reader refuses an image with a bit it does not know
	CompatFeatures   uint32 // a reader ignores bits it does not know
	ChunkSize        uint32
	PageSize         uint32
	ImageSize        uint64
	Sections         [NumSections]Section
}

// Superblock field offsets.
const (
	sbMagic     = 0
	sbMajor     = 8
	sbMinor     = 10
	sbCRC       = 12
	sbIncompat  = 16
	sbCompat    = 20
	sbChunkSize = 24
	sbPageSize  = 28
	sbImageSize = 32
	sbSections  = 48
	sectionSize = 24
)

// Put encodes sb, including its magic and checksum, into b[:SuperblockSize].
func (sb *Superblock) Put(b []byte) {
	b = b[:SuperblockSize]
	clear(b)
	copy(b[sbMagic:], SuperblockMagic)
	le.PutUint16(b[sbMajor:], sb.Major)
	le.PutUint16(b[sbMinor:], sb.Minor)
	le.PutUint32(b[sbIncompat:], sb.IncompatFeatures)
	le.PutUint32(b[sbCompat:], sb.CompatFeatures)
	le.PutUint32(b[sbChunkSize:], sb.ChunkSize)
	le.PutUint32(b[sbPageSize:], sb.PageSize)
	le.PutUint64(b[sbImageSize:], sb.ImageSize)
	for i, s := range sb.Sections {
		o := sbSections + i*sectionSize
		le.PutUint64(b[o:], s.Offset)
		le.PutUint64(b[o+8:], s.Size)
		le.PutUint32(b[o+16:], s.CRC)
	}
	le.PutUint32(b[sbCRC:], Checksum(b[sbCRC+4:]))
}

func getSuperblock(b []byte) Superblock {
	b = b[:SuperblockSize]
	sb := Superblock{
		Major:            le.Uint16(b[sbMajor:]),
		Minor:            le.Uint16(b[sbMinor:]),
		IncompatFeatures: le.Uint32(b[sbIncompat:]),
		CompatFeatures:   le.Uint32(b[sbCompat:]),
		ChunkSize:        le.Uint32(b[sbChunkSize:]),
		PageSize:         le.Uint32(b[sbPageSize:]),
		ImageSize:        le.Uint64(b[sbImageSize:]),
	}
	for i := range sb.Sections {
		o := sbSections + i*sectionSize
		sb.Sections[i] = Section{
			Offset: le.Uint64(b[o:]),
			Size:   le.Uint64(b[o+8:]),
			CRC:    le.Uint32(b[o+16:]),
		}
	}
	return sb
}

// PutPreamble encodes the preamble into b[:PreambleSize].
func PutPreamble(b []byte) {
	b = b[:PreambleSize]
	clear(b)
	copy(b, PreambleMagic)
	le.PutUint16(b[8:], VersionMajor)
	le.PutUint16(b[10:], VersionMinor)
}

// InodeRecord is one entry of the inode table. Inode number n is record n-1.
type InodeRecord struct {
	Mode      uint32 // Linux st_mode
	Nlink     uint32
	UID       uint32
	GID       uint32
	Size      uint64 // regular file: content length; symlink: target length; else 0
	MtimeSec  int64
	MtimeNsec uint32 // < 1e9
	Parent    uint32 // directory: inode number of its parent (the root's is 1); else 0
	Rdev      uint64 // character and block devices: Linux dev_t; else 0
	// DataIndex and DataCount locate the inode's payload: for a regular file
	// its chunk records, for a directory its entries, for a symlink its
	// target (offset and length in the string section); else both are 0.
	DataIndex  uint32
	DataCount  uint32
	XattrIndex uint32 // first xattr record
	XattrCount uint32
}

// Put encodes r into b[:InodeSize].
func (r *InodeRecord) Put(b []byte) {
	b = b[:InodeSize]
	le.PutUint32(b[0:], r.Mode)
	le.PutUint32(b[4:], r.Nlink)
	le.PutUint32(b[8:], r.UID)
	le.PutUint32(b[12:], r.GID)
	le.PutUint64(b[16:], r.Size)
	le.PutUint64(b[24:], uint64(r.MtimeSec))
	le.PutUint32(b[32:], r.MtimeNsec)
	le.PutUint32(b[36:], r.Parent)
	le.PutUint64(b[40:], r.Rdev)
	le.PutUint32(b[48:], r.DataIndex)
	le.PutUint32(b[52:], r.DataCount)
	le.PutUint32(b[56:], r.XattrIndex)
	le.PutUint32(b[60:], r.XattrCount)
}

func getInode(b []byte) InodeRecord {
	b = b[:InodeSize]
	return InodeRecord{
		Mode:       le.Uint32(b[0:]),
		Nlink:      le.Uint32(b[4:]),
		UID:        le.Uint32(b[8:]),
		GID:        le.Uint32(b[12:]),
		Size:       le.Uint64(b[16:]),
		MtimeSec:   int64(le.Uint64(b[24:])),
		MtimeNsec:  le.Uint32(b[32:]),
		Parent:     le.Uint32(b[36:]),
		Rdev:       le.Uint64(b[40:]),
		DataIndex:  le.Uint32(b[48:]),
		DataCount:  le.Uint32(b[52:]),
		XattrIndex: le.Uint32(b[56:]),
		XattrCount: le.Uint32(b[60:]),
	}
}

// DirentRecord is one directory entry. A directory's entries are contiguous
// and sorted by name (byte order).
type DirentRecord struct {
	NameOffset uint32 // in the string section
	Ino        uint32
	NameLen    uint16
}

// Put encodes r into b[:DirentSize].
func (r *DirentRecord) Put(b []byte) {
	b = b[:DirentSize]
	le.PutUint32(b[0:], r.NameOffset)
	le.PutUint32(b[4:], r.Ino)
	le.PutUint16(b[8:], r.NameLen)
	le.PutUint16(b[10:], 0)
}

func getDirent(b []byte) DirentRecord {
	b = b[:DirentSize]
	return DirentRecord{
		NameOffset: le.Uint32(b[0:]),
		Ino:        le.Uint32(b[4:]),
		NameLen:    le.Uint16(b[8:]),
	}
}

// XattrRecord is one extended attribute. An inode's attributes are
// contiguous and sorted by name (byte order).
type XattrRecord struct {
	NameOffset  uint32 // in the string section
	ValueOffset uint32 // in the string section
	ValueLen    uint32
	NameLen     uint16
}

// Put encodes r into b[:XattrSize].
func (r *XattrRecord) Put(b []byte) {
	b = b[:XattrSize]
	le.PutUint32(b[0:], r.NameOffset)
	le.PutUint32(b[4:], r.ValueOffset)
	le.PutUint32(b[8:], r.ValueLen)
	le.PutUint16(b[12:], r.NameLen)
	le.PutUint16(b[14:], 0)
}

func getXattr(b []byte) XattrRecord {
	b = b[:XattrSize]
	return XattrRecord{
		NameOffset:  le.Uint32(b[0:]),
		ValueOffset: le.Uint32(b[4:]),
		ValueLen:    le.Uint32(b[8:]),
		NameLen:     le.Uint16(b[12:]),
	}
}

// ChunkRecord locates one chunk of a regular file's content.
type ChunkRecord struct {
	Offset     uint64 // of the stored bytes, from the start of the image; 0 for EncodingZero
	StoredSize uint32 // 0 for EncodingZero
	CRC        uint32 // CRC-32C of the stored bytes; 0 for EncodingZero
	Size       uint32 // decoded length: the chunk size, or less for a file's last chunk
	Encoding   uint8
}

// Put encodes r into b[:ChunkRecordSize].
func (r *ChunkRecord) Put(b []byte) {
	b = b[:ChunkRecordSize]
	le.PutUint64(b[0:], r.Offset)
	le.PutUint32(b[8:], r.StoredSize)
	le.PutUint32(b[12:], r.CRC)
	le.PutUint32(b[16:], r.Size)
	b[20] = r.Encoding
	b[21], b[22], b[23] = 0, 0, 0
}

func getChunk(b []byte) ChunkRecord {
	b = b[:ChunkRecordSize]
	return ChunkRecord{
		Offset:     le.Uint64(b[0:]),
		StoredSize: le.Uint32(b[8:]),
		CRC:        le.Uint32(b[12:]),
		Size:       le.Uint32(b[16:]),
		Encoding:   b[20],
	}
}

var le = binary.LittleEndian
