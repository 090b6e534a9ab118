package vfs

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestFileDataMatchesFlatModel applies random writes, truncations, stores
// through shared frames and reads, around chunk boundaries and with holes,
// to fileData and to a plain byte slice, and compares every read and the
// final content.
func TestFileDataMatchesFlatModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	offset := func() int64 {
		switch rng.IntN(3) {
		case 0: // near a chunk boundary
			return int64(rng.IntN(8))*chunkSize + int64(rng.IntN(64)) - 32
		case 1:
			return int64(rng.IntN(4096))
		}
		return int64(rng.IntN(8 * chunkSize))
	}
	for round := range 200 {
		var d fileData
		var model []byte
		for range 40 {
			off := max(offset(), 0)
			switch rng.IntN(5) {
			case 0, 1:
				p := make([]byte, rng.IntN(3*chunkSize/2))
				for i := range p {
					p[i] = byte(rng.IntN(255) + 1)
				}
				d.writeAt(p, off)
				if end := off + int64(len(p)); end > int64(len(model)) {
					model = append(model, make([]byte, end-int64(len(model)))...)
				}
				copy(model[off:], p)
			case 2:
				d.truncate(off)
				if off < int64(len(model)) {
					model = model[:off]
				} else {
					model = append(model, make([]byte, off-int64(len(model)))...)
				}
			case 4:
				// A store through a shared mapping of the page at off:
				// visible to reads where the file extends; bytes past the
				// end must not come back when the file grows.
				f := d.frame(off / PageSize)
				pos := rng.IntN(PageSize)
				v := byte(rng.IntN(255) + 1)
				f.Data[pos] = v
				if at := off/PageSize*PageSize + int64(pos); at < int64(len(model)) {
					model[at] = v
				}
			case 3:
				p := bytes.Repeat([]byte{0xee}, rng.IntN(2*chunkSize))
				n := d.readAt(p, off)
				want := []byte{}
				if off < int64(len(model)) {
					want = model[off:min(int64(len(model)), off+int64(len(p)))]
				}
				if !bytes.Equal(p[:n], want) {
					t.Fatalf("round %d: read %d at %d: got %d bytes differing from the model's %d", round, len(p), off, n, len(want))
				}
			}
			if d.size != int64(len(model)) {
				t.Fatalf("round %d: size %d, model %d", round, d.size, len(model))
			}
		}
		all := make([]byte, d.size)
		if n := d.readAt(all, 0); n != len(model) || !bytes.Equal(all, model) {
			t.Fatalf("round %d: final content differs from the model", round)
		}
	}
}

// TestFileDataSparse writes one byte far out: only one chunk is held, the
// hole reads as zeros and counts no blocks.
func TestFileDataSparse(t *testing.T) {
	var d fileData
	const off = 2500 << 20
	d.writeAt([]byte{'x'}, off)
	if d.size != off+1 {
		t.Fatalf("size %d", d.size)
	}
	if got := d.allocated(); got != 4096 {
		t.Fatalf("allocated %d bytes, want one block", got)
	}
	p := []byte{1, 2, 3}
	if n := d.readAt(p, off-2); n != 3 || !bytes.Equal(p, []byte{0, 0, 'x'}) {
		t.Fatalf("read across the hole's end: %d %v", n, p)
	}
}
