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
// module has no such blob (including a module nobody packed, and a table
// that fails validation: see Err).
func Blob(name string) ([]byte, bool) {
	e, ok := lookup(name)
	if !ok {
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
	b, _ := Blob(name)
	if got := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)); got != e.CRC32C {
		return fmt.Errorf("embed: blob %q: CRC-32C %08x, the converter recorded %08x", name, got, e.CRC32C)
	}
	return nil
}
