package wasmbin

import (
	"bytes"
	"fmt"
	"math"
	"slices"
)

// PageSize is the size of a WebAssembly memory page.
const PageSize = 64 << 10

// DataSegment is one data segment.
type DataSegment struct {
	Passive bool
	Memory  uint32 // memory index of an active segment
	// OffsetExpr is an active segment's offset expression including its
	// end opcode, kept as encoded.
	OffsetExpr []byte
	// Offset is the address an active segment is copied to, when
	// OffsetExpr is a lone i32.const (ConstOffset reports which).
	Offset      uint64
	ConstOffset bool
	Init        []byte
	owned       bool // Init is a private copy that may be written
}

// End is the address just past an active segment with a constant offset.
func (d *DataSegment) End() uint64 { return d.Offset + uint64(len(d.Init)) }

func decodeDataSegment(r *reader) *DataSegment {
	off := r.offset()
	d := &DataSegment{}
	switch flags := r.u32(); flags {
	case 0: // active, memory 0
	case 1:
		d.Passive = true
	case 2:
		d.Memory = r.u32()
	default:
		if r.err == nil {
			r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("unknown data segment flags %d", flags)}
		}
		return nil
	}
	if !d.Passive {
		d.OffsetExpr = decodeConstExpr(r)
		er := &reader{b: d.OffsetExpr}
		if len(d.OffsetExpr) > 0 && d.OffsetExpr[0] == 0x41 {
			er.pos = 1
			v := er.sleb(32)
			if er.err == nil && er.pos == len(d.OffsetExpr)-1 {
				d.Offset, d.ConstOffset = uint64(uint32(v)), true
			}
		}
	}
	n := r.u32()
	d.Init = r.bytes(uint64(n))
	if r.err != nil {
		return nil
	}
	if d.ConstOffset && d.End() > 1<<32 {
		r.err = &FormatError{Section: r.section, Offset: off,
			Msg: fmt.Sprintf("segment at %#x with %d bytes ends past 4 GiB", d.Offset, len(d.Init))}
		return nil
	}
	return d
}

// memorySegments returns the active segments of memory 0 in the order
// they are applied, or an error when one of them has an offset that is not
// a constant (so the initial memory image is not known from the module
// alone).
func (m *Module) memorySegments() ([]*DataSegment, error) {
	var segs []*DataSegment
	for i, d := range m.Data {
		if d.Passive || d.Memory != 0 {
			continue
		}
		if !d.ConstOffset {
			return nil, fmt.Errorf("wasmbin: data segment %d has a non-constant offset (% x): the initial memory contents are not known", i, d.OffsetExpr)
		}
		segs = append(segs, d)
	}
	return segs, nil
}

// memorySize returns the initial size in bytes of memory 0, which the
// module must define.
func (m *Module) memorySize() (uint64, error) {
	for _, imp := range m.Imports {
		if imp.Kind == KindMemory {
			return 0, fmt.Errorf("wasmbin: memory 0 is imported (%s.%s), so its initial contents are the host's", imp.Module, imp.Name)
		}
	}
	if len(m.Memories) == 0 {
		return 0, fmt.Errorf("wasmbin: the module has no memory")
	}
	if m.Memories[0].Is64 {
		return 0, fmt.Errorf("wasmbin: memory 0 uses 64-bit addresses, which this package does not edit")
	}
	return m.Memories[0].Min * PageSize, nil
}

// DataEnd returns the address just past the highest byte that an active
// segment of memory 0 initialises.
func (m *Module) DataEnd() (uint64, error) {
	segs, err := m.memorySegments()
	if err != nil {
		return 0, err
	}
	var end uint64
	for _, d := range segs {
		end = max(end, d.End())
	}
	return end, nil
}

func checkRange(addr uint64, n int, size uint64) error {
	if addr > size || uint64(n) > size-addr {
		return fmt.Errorf("wasmbin: range %#x+%d lies outside the initial memory (%d bytes)", addr, n, size)
	}
	return nil
}

// ReadMemory returns n bytes of memory 0 at addr as they are right after
// instantiation: the bytes of the active data segments (later segments win
// where they overlap) and zeros elsewhere.
func (m *Module) ReadMemory(addr uint64, n int) ([]byte, error) {
	size, err := m.memorySize()
	if err != nil {
		return nil, err
	}
	if err := checkRange(addr, n, size); err != nil {
		return nil, err
	}
	segs, err := m.memorySegments()
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	end := addr + uint64(n)
	for _, d := range segs {
		lo, hi := max(addr, d.Offset), min(end, d.End())
		if lo < hi {
			copy(out[lo-addr:hi-addr], d.Init[lo-d.Offset:hi-d.Offset])
		}
	}
	return out, nil
}

// FindData returns the addresses in memory 0 where pattern occurs in the
// memory image active data segments initialise (bytes no segment covers
// read as zero), in increasing order.
func (m *Module) FindData(pattern []byte) ([]uint64, error) {
	if len(pattern) == 0 {
		return nil, fmt.Errorf("wasmbin: empty search pattern")
	}
	// Search memory as it is at instantiation, not segment by segment: the
	// Go linker leaves runs of zero bytes out of its segments, so a value
	// whose low bytes are zero starts in a gap before its segment.
	end, err := m.DataEnd()
	if err != nil {
		return nil, err
	}
	if end > math.MaxInt {
		return nil, fmt.Errorf("wasmbin: initialised memory of %d bytes is too large to search", end)
	}
	mem, err := m.ReadMemory(0, int(end))
	if err != nil {
		return nil, err
	}
	var found []uint64
	for at := 0; ; {
		i := bytes.Index(mem[at:], pattern)
		if i < 0 {
			break
		}
		found = append(found, uint64(at+i))
		at += i + 1
	}
	return found, nil
}

// PatchMemory makes memory 0 hold b at addr after instantiation. Bytes
// inside existing active segments are overwritten in place (in every
// segment that covers them, so overlapping segments stay consistent);
// bytes that no segment covers, which would otherwise start as zero, get
// new active segments appended at the end of the data section.
func (m *Module) PatchMemory(addr uint64, b []byte) error {
	size, err := m.memorySize()
	if err != nil {
		return err
	}
	if err := checkRange(addr, len(b), size); err != nil {
		return err
	}
	segs, err := m.memorySegments()
	if err != nil {
		return err
	}
	end := addr + uint64(len(b))
	covered := make([]bool, len(b))
	for _, d := range segs {
		lo, hi := max(addr, d.Offset), min(end, d.End())
		if lo >= hi {
			continue
		}
		if !d.owned {
			d.Init, d.owned = slices.Clone(d.Init), true
		}
		copy(d.Init[lo-d.Offset:hi-d.Offset], b[lo-addr:hi-addr])
		for i := lo - addr; i < hi-addr; i++ {
			covered[i] = true
		}
	}
	for i := 0; i < len(b); {
		if covered[i] {
			i++
			continue
		}
		j := i
		for j < len(b) && !covered[j] {
			j++
		}
		m.appendActive(addr+uint64(i), slices.Clone(b[i:j]))
		i = j
	}
	return nil
}

// AppendData appends an active segment that copies init to addr in
// memory 0. The module keeps init without copying it.
func (m *Module) AppendData(addr uint64, init []byte) error {
	size, err := m.memorySize()
	if err != nil {
		return err
	}
	if err := checkRange(addr, len(init), size); err != nil {
		return err
	}
	m.appendActive(addr, init)
	return nil
}

func (m *Module) appendActive(addr uint64, init []byte) {
	m.Data = append(m.Data, &DataSegment{
		OffsetExpr:  i32ConstExpr(uint32(addr)),
		Offset:      addr,
		ConstOffset: true,
		Init:        init,
	})
}

// i32ConstExpr encodes "i32.const addr; end". Addresses at or above 2 GiB
// are encoded as the negative i32 with the same bits, as the format
// requires.
func i32ConstExpr(addr uint32) []byte {
	return append(appendSleb(append(make([]byte, 0, 7), 0x41), int64(int32(addr))), 0x0b)
}

// CoalesceData merges neighbouring active data segments of memory 0 (in
// the module's order, with constant offsets, each starting past the end of
// the one before) until at most limit segments remain, allowing the
// smallest gaps that get there: a gap becomes zero bytes, which memory
// holds there at instantiation anyway. The Go linker starts a new segment
// at every run of zeros, and WebAssembly engines bound the count (V8 takes
// at most 100,000). A module with passive segments is left alone: merging
// would renumber them.
func (m *Module) CoalesceData(limit int) {
	if len(m.Data) <= limit || slices.ContainsFunc(m.Data, func(d *DataSegment) bool { return d.Passive }) {
		return
	}
	for gap := uint64(16); len(m.Data) > limit && gap <= 1<<20; gap *= 2 {
		out := m.Data[:0:0]
		for i := 0; i < len(m.Data); {
			// A run of segments each mergeable into the one before
			// becomes one, built with one allocation: merging pairwise
			// would copy the growing segment again at every step.
			j := i + 1
			for j < len(m.Data) && mergeable(m.Data[j-1], m.Data[j]) && m.Data[j].Offset-m.Data[j-1].End() <= gap {
				j++
			}
			if j == i+1 {
				out = append(out, m.Data[i])
				i = j
				continue
			}
			first, last := m.Data[i], m.Data[j-1]
			init := make([]byte, last.End()-first.Offset)
			for _, d := range m.Data[i:j] {
				copy(init[d.Offset-first.Offset:], d.Init)
			}
			out = append(out, &DataSegment{Memory: first.Memory, OffsetExpr: first.OffsetExpr, Offset: first.Offset,
				ConstOffset: true, Init: init, owned: true})
			i = j
		}
		m.Data = out
	}
}

// mergeable reports whether active segment b may be merged into a, the
// segment before it.
func mergeable(a, b *DataSegment) bool {
	return !a.Passive && !b.Passive && a.Memory == 0 && b.Memory == 0 && a.ConstOffset && b.ConstOffset && b.Offset >= a.End()
}
