package embed

import (
	"fmt"
	"hash/crc32"
	"sync"
	"unsafe"
)

// table is the embed table described in the package documentation. The
// converter rewrites it in the module's data segment; the program only reads
// it. It is a plain array of integers, so it lands in the linker's
// no-pointer data and the garbage collector never looks inside it.
var table = [TableWords]uint64{
	Magic0, Magic1, Header, Placeholder,
	Placeholder, Placeholder, Placeholder, Placeholder,
	Placeholder, Placeholder, Placeholder, Placeholder,
	Placeholder, Placeholder, Placeholder, Placeholder,
	Placeholder, Placeholder, Placeholder, Placeholder,
}

var entries = sync.OnceValues(func() ([]Entry, error) {
	t := table
	e, _, err := Decode(&t)
	return e, err
})

func lookup(name string) (Entry, bool) {
	es, err := entries()
	if err != nil {
		return Entry{}, false
	}
	for _, e := range es {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Blob returns the embedded blob called name. The slice aliases linear
// memory and must not be modified. The second result is false when the
// module has no such active blob (including a module nobody packed, and a
// table that fails validation: see Err); passive blobs are read through
// OpenSegment.
func Blob(name string) ([]byte, bool) {
	e, ok := lookup(name)
	if !ok || e.Passive {
		return nil, false
	}
	if e.Len == 0 {
		return []byte{}, true
	}
	// The address is a plain number written by the converter; reading it
	// as a pointer through memory (rather than converting a uintptr) is
	// the form the unsafe rules allow for memory the Go heap does not own.
	addr := uintptr(e.Addr)
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), int(e.Len)), true
}

// Names lists the embedded blobs in the order they were packed.
func Names() []string {
	es, _ := entries()
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	return names
}

// Err reports why the table could not be read, or nil when it is unfilled
// or validly sealed.
func Err() error {
	_, err := entries()
	return err
}

// Verify checks the CRC-32C recorded for the named blob against its
// contents. It reads the whole blob.
func Verify(name string) error {
	e, ok := lookup(name)
	if !ok {
		return fmt.Errorf("embed: no blob named %q", name)
	}
	tab := crc32.MakeTable(crc32.Castagnoli)
	var got uint32
	if s, ok := OpenSegment(name); ok {
		buf := make([]byte, 1<<20)
		for off := int64(0); off < s.Size(); off += int64(len(buf)) {
			piece := buf[:min(int64(len(buf)), s.Size()-off)]
			if err := s.ReadAt(piece, off); err != nil {
				return err
			}
			got = crc32.Update(got, tab, piece)
		}
	} else {
		b, _ := Blob(name)
		got = crc32.Checksum(b, tab)
	}
	if got != e.CRC32C {
		return fmt.Errorf("embed: blob %q: CRC-32C %08x, the converter recorded %08x", name, got, e.CRC32C)
	}
	return nil
}

// segmentRead copies n bytes at offset off of the passive blob segment to
// dst. Until the converter redirects it (see the package documentation) it
// calls WASI's fd_prestat_dir_name, which has the same signature; it is
// only called for passive blobs, which only a converter that redirects it
// writes.
//
//go:wasmimport wasi_snapshot_preview1 fd_prestat_dir_name
//go:noescape
func segmentRead(dst unsafe.Pointer, off, n uint32) uint32

// Segment reads a passive blob.
type Segment struct {
	e Entry
}

// OpenSegment returns the passive blob called name; the second result is
// false when there is none (including an active blob of that name: read it
// with Blob).
func OpenSegment(name string) (*Segment, bool) {
	e, ok := lookup(name)
	if !ok || !e.Passive {
		return nil, false
	}
	return &Segment{e: e}, true
}

// Size is the blob's length in bytes.
func (s *Segment) Size() int64 { return int64(s.e.Len) }

// ReadAt fills p with the blob's bytes at off.
func (s *Segment) ReadAt(p []byte, off int64) error {
	if off < 0 || off > int64(s.e.Len) || int64(len(p)) > int64(s.e.Len)-off {
		return fmt.Errorf("embed: read of %d bytes at %d is outside blob %q (%d bytes)", len(p), off, s.e.Name, s.e.Len)
	}
	// memory.init takes 32-bit offsets and lengths; a segment is at most
	// 4 GiB, and so is memory.
	for len(p) > 0 {
		n := min(len(p), 1<<30)
		segmentRead(unsafe.Pointer(&p[0]), uint32(s.e.Addr+uint64(off)), uint32(n))
		p, off = p[n:], off+int64(n)
	}
	return nil
}
