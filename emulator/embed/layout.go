package embed

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Table layout, in little-endian 64-bit words. These constants are shared
// by the program (which declares the table) and the converter (which fills
// it in); changing any of them requires a new Version.
const (
	// Magic0 and Magic1 are the table's first two words: the ASCII bytes
	// "wasmrt.embed.tbl" read as two little-endian words.
	Magic0 uint64 = 0x652e74726d736177
	Magic1 uint64 = 0x6c62742e6465626d

	// Version is the table format version, the low half of the header word.
	Version = 1
	// MaxBlobs is the number of slots, the high half of the header word.
	MaxBlobs = 4
	// MaxNameLen is the longest blob name: a name is stored in one word.
	MaxNameLen = 8

	// Word indexes of the header.
	WordMagic0 = 0
	WordMagic1 = 1
	WordHeader = 2
	WordSeal   = 3
	// HeaderWords is the number of header words before the first slot.
	HeaderWords = 4

	// Word offsets inside a slot.
	SlotName   = 0
	SlotAddr   = 1
	SlotLen    = 2
	SlotCRC32C = 3
	// SlotWords is the size of one slot in words.
	SlotWords = 4

	// TableWords is the table's length in words and TableSize in bytes.
	TableWords = HeaderWords + MaxBlobs*SlotWords
	TableSize  = TableWords * 8

	// Placeholder fills every word the converter writes, in an unfilled
	// table. None of its bytes is zero (see the package documentation).
	Placeholder uint64 = 0xa5c35a3cb4e14b1e

	// BlobAlign is the alignment of every blob's address in linear memory:
	// one WebAssembly page, so page-aligned data inside a blob stays
	// page-aligned in memory.
	BlobAlign = 64 << 10
)

// Header is the value of the header word for this format version.
const Header = uint64(Version) | uint64(MaxBlobs)<<32

// SegmentReadFunc is the name (in the module's name section) of the Go
// wrapper of segmentRead's import, and SegmentReadImport the WASI function
// that import names until the converter redirects the wrapper's call (see
// the package documentation).
const (
	SegmentReadFunc   = "github.com/wasmrt/wasmrt/emulator/embed.segmentRead"
	SegmentReadImport = "fd_prestat_dir_name"
)

// State says whether a table has been filled in by the converter.
type State int

const (
	// Unfilled is a table as the linker emitted it: nothing embedded.
	Unfilled State = iota
	// Sealed is a table the converter filled in and sealed.
	Sealed
)

// Entry describes one embedded blob.
type Entry struct {
	Name string
	// Addr is the linear-memory address of the first byte, or for a
	// Passive blob its offset in the module's passive blob segment.
	Addr   uint64
	Len    uint64
	CRC32C uint32 // of the blob's contents (Castagnoli polynomial)
	// Passive blobs stay in a passive data segment of the module and are
	// copied into memory only as they are read (see Segment).
	Passive bool
}

// passiveBit marks a passive blob in the high half of its checksum word.
const passiveBit = 1 << 32

// ErrCorrupt reports a table that is neither unfilled nor validly sealed.
var ErrCorrupt = errors.New("embed table is corrupt")

// Seal returns the checksum stored in the seal word of a filled table:
// 64-bit FNV-1a over the little-endian bytes of every other word.
func Seal(t *[TableWords]uint64) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i, w := range t {
		if i == WordSeal {
			continue
		}
		for b := 0; b < 8; b++ {
			h ^= (w >> (8 * b)) & 0xff
			h *= prime
		}
	}
	return h
}

// UnfilledTable returns the table as the program declares it, before
// the converter fills it in.
func UnfilledTable() [TableWords]uint64 {
	var t [TableWords]uint64
	for i := range t {
		t[i] = Placeholder
	}
	t[WordMagic0], t[WordMagic1], t[WordHeader] = Magic0, Magic1, Header
	return t
}

// ValidName reports whether name can label a blob: 1 to MaxNameLen bytes
// of lower-case letters, digits, '.', '-' or '_'.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func packName(name string) uint64 {
	var b [8]byte
	copy(b[:], name)
	return binary.LittleEndian.Uint64(b[:])
}

func unpackName(w uint64) (string, bool) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], w)
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	for _, c := range b[n:] {
		if c != 0 {
			return "", false
		}
	}
	name := string(b[:n])
	return name, ValidName(name)
}

// Encode returns the sealed table describing entries. Names must be valid
// and distinct; at most MaxBlobs entries fit.
func Encode(entries []Entry) ([TableWords]uint64, error) {
	var t [TableWords]uint64
	if len(entries) > MaxBlobs {
		return t, fmt.Errorf("embed: %d blobs given, the table has room for %d", len(entries), MaxBlobs)
	}
	t[WordMagic0], t[WordMagic1], t[WordHeader] = Magic0, Magic1, Header
	for i, e := range entries {
		if !ValidName(e.Name) {
			return t, fmt.Errorf("embed: blob name %q: want 1 to %d bytes of [a-z0-9._-]", e.Name, MaxNameLen)
		}
		for _, prev := range entries[:i] {
			if prev.Name == e.Name {
				return t, fmt.Errorf("embed: blob name %q given twice", e.Name)
			}
		}
		if e.Addr+e.Len < e.Addr {
			return t, fmt.Errorf("embed: blob %q: address %#x + length %d overflows", e.Name, e.Addr, e.Len)
		}
		s := t[HeaderWords+i*SlotWords:]
		crc := uint64(e.CRC32C)
		if e.Passive {
			crc |= passiveBit
		}
		s[SlotName], s[SlotAddr], s[SlotLen], s[SlotCRC32C] = packName(e.Name), e.Addr, e.Len, crc
	}
	t[WordSeal] = Seal(&t)
	return t, nil
}

// Decode validates a table and returns its state and, when sealed, its
// entries in packing order. Errors wrap ErrCorrupt.
func Decode(t *[TableWords]uint64) ([]Entry, State, error) {
	if t[WordMagic0] != Magic0 || t[WordMagic1] != Magic1 {
		return nil, 0, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if t[WordHeader] != Header {
		return nil, 0, fmt.Errorf("%w: header %#x, want version %d with %d slots (%#x)",
			ErrCorrupt, t[WordHeader], Version, MaxBlobs, Header)
	}
	if *t == UnfilledTable() {
		return nil, Unfilled, nil
	}
	if t[WordSeal] != Seal(t) {
		return nil, 0, fmt.Errorf("%w: seal %#x does not match its contents (%#x)", ErrCorrupt, t[WordSeal], Seal(t))
	}
	var entries []Entry
	for i := 0; i < MaxBlobs; i++ {
		s := t[HeaderWords+i*SlotWords : HeaderWords+(i+1)*SlotWords]
		if s[SlotName] == 0 {
			for j := HeaderWords + i*SlotWords; j < TableWords; j++ {
				if t[j] != 0 {
					return nil, 0, fmt.Errorf("%w: slot %d is not empty but follows an empty slot", ErrCorrupt, (j-HeaderWords)/SlotWords)
				}
			}
			break
		}
		name, ok := unpackName(s[SlotName])
		if !ok {
			return nil, 0, fmt.Errorf("%w: slot %d has an invalid name %#x", ErrCorrupt, i, s[SlotName])
		}
		if s[SlotAddr]+s[SlotLen] < s[SlotAddr] || s[SlotCRC32C]&^(passiveBit|0xffffffff) != 0 {
			return nil, 0, fmt.Errorf("%w: slot %d (%q) has an invalid range or checksum", ErrCorrupt, i, name)
		}
		for _, prev := range entries {
			if prev.Name == name {
				return nil, 0, fmt.Errorf("%w: blob name %q appears twice", ErrCorrupt, name)
			}
		}
		entries = append(entries, Entry{Name: name, Addr: s[SlotAddr], Len: s[SlotLen],
			CRC32C: uint32(s[SlotCRC32C]), Passive: s[SlotCRC32C]&passiveBit != 0})
	}
	return entries, Sealed, nil
}

// TableBytes returns the table's bytes as they appear in linear memory.
func TableBytes(t *[TableWords]uint64) []byte {
	b := make([]byte, TableSize)
	for i, w := range t {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	return b
}

// ParseTable reads a table from its little-endian bytes; b must hold at
// least TableSize bytes.
func ParseTable(b []byte) (*[TableWords]uint64, error) {
	if len(b) < TableSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrCorrupt, len(b), TableSize)
	}
	var t [TableWords]uint64
	for i := range t {
		t[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return &t, nil
}
