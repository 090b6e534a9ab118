package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"

	"github.com/wasmrt/wasmrt/convert/pack/wasmbin"
	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/emulator/embed"
)

// Blob is a named byte string to embed. Name follows embed.ValidName.
type Blob struct {
	Name string
	Data []byte
	// Passive keeps the blob in the module's passive blob segment rather
	// than in the initial memory: hosts then copy nothing at start-up, and
	// the program reads it piece by piece (embed.OpenSegment).
	Passive bool
}

// HeapHeadroom is the memory the module gets past the blobs at start-up,
// for the Go heap. The Go linker leaves 1 MiB, enough to initialise the
// runtime; the emulator's heap grows well past that as soon as a guest
// runs, and hosts that grow linear memory by reallocating it (wazero's
// default allocator, which its CLI uses) copy the whole memory, blobs
// included, at every step: `sh -c true` took 1.5× as long under the wazero
// CLI as with the headroom (docs/performance-pack.md). Memory an instance
// does not touch costs nothing, since hosts allocate it lazily.
const HeapHeadroom = 64 << 20

// maxPages is the most 64 KiB pages a 32-bit memory can have (4 GiB).
const maxPages = 1 << 16

// ErrAlreadyEmbedded reports a module that already carries embedded blobs.
var ErrAlreadyEmbedded = errors.New("module already has embedded blobs")

// ErrNoTable reports a Go module that does not link emulator/embed.
var ErrNoTable = errors.New("module has no embed table")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxDataSegments is how many data segments a packed module keeps at most:
// V8 (Node, browsers) refuses modules with over 100,000, and the Go linker
// emits one per run of non-zero bytes.
const maxDataSegments = 50_000

// Embed returns a copy of module, a Go GOOS=wasip1 program that links
// emulator/embed, with blobs appended to its initial memory past the Go
// image and its embed table filled in. The program then reads them with
// embed.Blob, in place.
//
// The module must have been built by ValidatedGoRelease and must not
// already carry blobs (embed into the original module instead).
func Embed(module []byte, blobs ...Blob) ([]byte, error) {
	m, err := wasmbin.Parse(module)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	m.CoalesceData(maxDataSegments)
	if len(blobs) > embed.MaxBlobs {
		return nil, fmt.Errorf("pack: %d blobs given; the embed table has room for %d", len(blobs), embed.MaxBlobs)
	}
	rt, err := findGoRuntime(m)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	tableAddr, table, err := findTable(m)
	if err != nil {
		return nil, err
	}
	if _, state, err := embed.Decode(table); err != nil {
		return nil, fmt.Errorf("pack: embed table at %#x: %w", tableAddr, err)
	} else if state == embed.Sealed {
		return nil, fmt.Errorf("pack: %w: embed into the module as built, not into a packed one", ErrAlreadyEmbedded)
	}
	if tableAddr < rt.noptrdata || tableAddr+embed.TableSize > rt.edata {
		return nil, fmt.Errorf("pack: %w: embed table at %#x is outside the data sections [%#x, %#x)",
			ErrUnsupportedGo, tableAddr, rt.noptrdata, rt.edata)
	}
	if m.Memories[0].Shared {
		return nil, fmt.Errorf("pack: memory 0 is shared, which Go wasip1 modules never use")
	}

	// Lay the active blobs out page by page above the Go image, and the
	// passive ones one after another in the passive segment.
	entries := make([]embed.Entry, len(blobs))
	cursor := alignUp(rt.end, embed.BlobAlign)
	var passive []byte
	for i, b := range blobs {
		entries[i] = embed.Entry{Name: b.Name, Len: uint64(len(b.Data)),
			CRC32C: crc32.Checksum(b.Data, castagnoli), Passive: b.Passive}
		if b.Passive {
			entries[i].Addr = uint64(len(passive))
			if passive == nil {
				passive = b.Data[:len(b.Data):len(b.Data)] // one passive blob is not copied
			} else {
				passive = append(passive, b.Data...)
			}
			if len(passive) > math.MaxUint32 {
				return nil, fmt.Errorf("pack: passive blobs of %d bytes exceed the 4 GiB a segment can address", len(passive))
			}
			continue
		}
		entries[i].Addr = cursor
		cursor = alignUp(cursor+uint64(len(b.Data)), embed.BlobAlign)
		if cursor > maxPages*wasmbin.PageSize {
			return nil, fmt.Errorf("pack: blob %q ends at %#x, past the 4 GiB limit of a WebAssembly memory", b.Name, cursor)
		}
	}
	if passive != nil {
		if err := implementSegmentRead(m, m.AppendPassiveData(passive)); err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
	}
	sealed, err := embed.Encode(entries)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	newEnd := cursor
	pages := (newEnd + HeapHeadroom + wasmbin.PageSize - 1) / wasmbin.PageSize
	if pages > maxPages {
		return nil, fmt.Errorf("pack: the blobs need %d memory pages with the heap's headroom, over the limit of %d (4 GiB)", pages, maxPages)
	}
	mem := &m.Memories[0]
	if pages > mem.Min {
		mem.Min = pages
	}
	if mem.HasMax && mem.Max < mem.Min {
		return nil, fmt.Errorf("pack: memory maximum of %d pages is below the %d pages the blobs need", mem.Max, mem.Min)
	}
	for i, b := range blobs {
		if len(b.Data) == 0 || b.Passive {
			continue
		}
		if err := m.AppendData(entries[i].Addr, b.Data); err != nil {
			return nil, fmt.Errorf("pack: blob %q: %w", b.Name, err)
		}
	}
	// Move the heap start over the blobs (runtime.initBloc starts the
	// heap at firstmoduledata.end), then publish the blobs.
	var endBytes [8]byte
	binary.LittleEndian.PutUint64(endBytes[:], newEnd)
	if err := m.PatchMemory(rt.moduledata+mdEnd, endBytes[:]); err != nil {
		return nil, fmt.Errorf("pack: runtime.firstmoduledata.end: %w", err)
	}
	if err := m.PatchMemory(tableAddr, embed.TableBytes(&sealed)); err != nil {
		return nil, fmt.Errorf("pack: embed table: %w", err)
	}
	out, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return out, nil
}

// Extract returns copies of the blobs embedded in module, after checking
// each one's CRC-32C. A module nobody packed yields no blobs.
func Extract(module []byte) ([]Blob, error) {
	m, err := wasmbin.Parse(module)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	tableAddr, table, err := findTable(m)
	if err != nil {
		return nil, err
	}
	entries, _, err := embed.Decode(table)
	if err != nil {
		return nil, fmt.Errorf("pack: embed table at %#x: %w", tableAddr, err)
	}
	var passive []byte
	for _, d := range m.Data {
		if d.Passive {
			if passive != nil {
				return nil, errors.New("pack: the module has more than one passive data segment")
			}
			passive = d.Init
		}
	}
	blobs := make([]Blob, 0, len(entries))
	for _, e := range entries {
		if e.Len > 1<<32 {
			return nil, fmt.Errorf("pack: blob %q: length %d exceeds a 32-bit memory", e.Name, e.Len)
		}
		var data []byte
		if e.Passive {
			if e.Addr > uint64(len(passive)) || e.Len > uint64(len(passive))-e.Addr {
				return nil, fmt.Errorf("pack: passive blob %q: [%d, +%d) is outside the %d-byte passive segment", e.Name, e.Addr, e.Len, len(passive))
			}
			data = bytes.Clone(passive[e.Addr : e.Addr+e.Len])
		} else if data, err = m.ReadMemory(e.Addr, int(e.Len)); err != nil {
			return nil, fmt.Errorf("pack: blob %q: %w", e.Name, err)
		}
		if got := crc32.Checksum(data, castagnoli); got != e.CRC32C {
			return nil, fmt.Errorf("pack: blob %q: CRC-32C %08x, the table records %08x", e.Name, got, e.CRC32C)
		}
		blobs = append(blobs, Blob{Name: e.Name, Data: data, Passive: e.Passive})
	}
	return blobs, nil
}

// findTable locates the one embed table in the module's data.
func findTable(m *wasmbin.Module) (uint64, *[embed.TableWords]uint64, error) {
	var magic [16]byte
	binary.LittleEndian.PutUint64(magic[:], embed.Magic0)
	binary.LittleEndian.PutUint64(magic[8:], embed.Magic1)
	hits, err := m.FindData(magic[:])
	if err != nil {
		return 0, nil, fmt.Errorf("pack: %w", err)
	}
	switch len(hits) {
	case 0:
		return 0, nil, fmt.Errorf("pack: %w: build the module from a main package that imports emulator/embed", ErrNoTable)
	case 1:
	default:
		return 0, nil, fmt.Errorf("pack: the embed table's magic occurs %d times in the data (at %#x, ...); refusing to guess", len(hits), hits[0])
	}
	b, err := m.ReadMemory(hits[0], embed.TableSize)
	if err != nil {
		return 0, nil, fmt.Errorf("pack: embed table at %#x: %w", hits[0], err)
	}
	t, err := embed.ParseTable(b)
	if err != nil {
		return 0, nil, fmt.Errorf("pack: embed table at %#x: %w", hits[0], err)
	}
	return hits[0], t, nil
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// implementSegmentRead makes embed's segmentRead copy from the passive
// segment seg: it adds a function that does so with memory.init and
// redirects the call in segmentRead's wrapper (found by name) from its
// placeholder WASI import to that function (see emulator/embed).
func implementSegmentRead(m *wasmbin.Module, seg uint32) error {
	return redirectImport(m, embed.SegmentReadFunc, embed.SegmentReadImport, func(ft wasmbin.FuncType) uint32 {
		return m.AppendFunction(m.AddType(ft), wasmbin.MemoryInitBody(seg))
	})
}

// redirectImport redirects the one call in the Go wrapper of a
// go:wasmimport function (found by its Go name in the name section) from
// its placeholder WASI import importName to the function that implement
// appends, given the import's type.
func redirectImport(m *wasmbin.Module, goName, importName string, implement func(wasmbin.FuncType) uint32) error {
	names, err := m.FunctionNames()
	if err != nil {
		return fmt.Errorf("name section: %w", err)
	}
	// Go's linker writes "/" in package paths as "_" in the name section.
	mangled := strings.ReplaceAll(goName, "/", "_")
	wrapper, found := uint32(0), false
	for idx, name := range names {
		if name == goName || name == mangled {
			wrapper, found = idx, true
		}
	}
	if !found {
		return fmt.Errorf("%w: the module has no function %s in its name section (build it without -ldflags=-s)", ErrUnsupportedGo, goName)
	}
	body, err := m.Body(wrapper)
	if err != nil {
		return err
	}
	// The wrapper calls one of the imports of that name (every
	// go:wasmimport gets an import of its own).
	i := uint32(0)
	for _, im := range m.Imports {
		if im.Kind != wasmbin.KindFunc {
			continue
		}
		if im.Module == "wasi_snapshot_preview1" && im.Name == importName {
			ft, err := m.FuncType(i)
			if err != nil {
				return err
			}
			next := m.NumImportedFuncs() + uint32(len(m.Functions))
			newBody, n, err := wasmbin.RedirectCalls(body, i, next)
			if err != nil {
				return fmt.Errorf("%s: %w", goName, err)
			}
			if n == 1 {
				if got := implement(ft); got != next {
					return fmt.Errorf("%s: the implementation is function %d, not the next one (%d)", goName, got, next)
				}
				return m.SetBody(wrapper, newBody)
			}
		}
		i++
	}
	return fmt.Errorf("%w: %s does not call a %s import", ErrUnsupportedGo, goName, importName)
}

// ContainerConfig returns the container config c2w embedded in module,
// failing for a module c2w did not convert.
func ContainerConfig(module []byte) (*container.Config, error) {
	blobs, err := Extract(module)
	if err != nil {
		return nil, fmt.Errorf("not a converted module: %w", err)
	}
	for _, b := range blobs {
		if b.Name == container.ConfigBlob {
			return container.Parse(b.Data)
		}
	}
	return nil, errors.New("not a converted module: it carries no container config")
}

// Detach returns module without its passive blob name, and the blob: the
// module keeps every other blob and reads the rest of its passive segment
// as before. It is how a rootfs leaves a module to be read from a file
// (the browser's lazily fetched sites). Only passive blobs detach.
func Detach(module []byte, name string) (rest, blob []byte, err error) {
	rest, blob, err = detach(module, name, true, 0)
	return rest, bytes.Clone(blob), err
}

// DetachInPlace is Detach for a host that reads the blob where it lies:
// the blob returned aliases module, and its CRC-32C is not checked (that
// would read the whole blob, hundreds of MiB for a large image, at every
// start). It suits readers that check what they read themselves, such as
// the emulator's rootfs reader with its per-chunk checksums. A blob
// shorter than minLen is not detached (rest and blob are nil): rewriting
// the module costs more than a small blob saves.
func DetachInPlace(module []byte, name string, minLen int) (rest, blob []byte, err error) {
	return detach(module, name, false, minLen)
}

func detach(module []byte, name string, check bool, minLen int) (rest, blob []byte, err error) {
	if minLen > 0 {
		// The blob lies in the passive segment: a segment shorter than
		// minLen says no without parsing the module and searching its
		// memory for the table (tens of milliseconds at every start of
		// a small image).
		if n, err := wasmbin.PassiveDataLen(module); err != nil {
			return nil, nil, fmt.Errorf("pack: %w", err)
		} else if n < minLen {
			return nil, nil, nil
		}
	}
	m, err := wasmbin.Parse(module)
	if err != nil {
		return nil, nil, fmt.Errorf("pack: %w", err)
	}
	tableAddr, table, err := findTable(m)
	if err != nil {
		return nil, nil, err
	}
	entries, state, err := embed.Decode(table)
	if err != nil {
		return nil, nil, fmt.Errorf("pack: embed table at %#x: %w", tableAddr, err)
	}
	if state != embed.Sealed {
		return nil, nil, fmt.Errorf("pack: the module carries no blobs")
	}
	var seg *wasmbin.DataSegment
	for _, d := range m.Data {
		if d.Passive {
			seg = d
		}
	}
	found := -1
	for i, e := range entries {
		if e.Name == name {
			found = i
		}
	}
	if found < 0 {
		return nil, nil, fmt.Errorf("pack: the module has no blob %q", name)
	}
	if !entries[found].Passive || seg == nil {
		return nil, nil, fmt.Errorf("pack: blob %q is not in the passive segment", name)
	}
	e := entries[found]
	if e.Addr > uint64(len(seg.Init)) || e.Len > uint64(len(seg.Init))-e.Addr {
		return nil, nil, fmt.Errorf("pack: passive blob %q: [%d, +%d) is outside the %d-byte passive segment", name, e.Addr, e.Len, len(seg.Init))
	}
	blob = seg.Init[e.Addr : e.Addr+e.Len]
	if len(blob) < minLen {
		return nil, nil, nil
	}
	if check && crc32.Checksum(blob, castagnoli) != e.CRC32C {
		return nil, nil, fmt.Errorf("pack: blob %q: CRC-32C mismatch", name)
	}
	// The passive blobs after it move down by its length.
	passive := make([]byte, 0, uint64(len(seg.Init))-e.Len)
	passive = append(passive, seg.Init[:e.Addr]...)
	passive = append(passive, seg.Init[e.Addr+e.Len:]...)
	kept := make([]embed.Entry, 0, len(entries)-1)
	for i, o := range entries {
		if i == found {
			continue
		}
		if o.Passive && o.Addr > e.Addr {
			o.Addr -= e.Len
		}
		kept = append(kept, o)
	}
	sealed, err := embed.Encode(kept)
	if err != nil {
		return nil, nil, fmt.Errorf("pack: %w", err)
	}
	if err := m.PatchMemory(tableAddr, embed.TableBytes(&sealed)); err != nil {
		return nil, nil, fmt.Errorf("pack: embed table: %w", err)
	}
	seg.Init = passive
	out, err := m.Encode()
	if err != nil {
		return nil, nil, fmt.Errorf("pack: %w", err)
	}
	return out, blob, nil
}
