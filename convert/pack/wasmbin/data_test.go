package wasmbin

import "testing"

// BenchmarkCoalesceData merges segments laid out as the Go linker lays out
// the emulator's data (over 100,000 segments separated by short runs of
// zeros) down to V8's bound, as every conversion does.
func BenchmarkCoalesceData(b *testing.B) {
	const segments = 120_000
	data := make([]*DataSegment, 0, segments)
	addr := uint64(1 << 20)
	for i := range segments {
		init := make([]byte, 24+i%64)
		data = append(data, &DataSegment{OffsetExpr: []byte{0x41, 0, 0x0b}, Offset: addr, ConstOffset: true, Init: init})
		addr += uint64(len(init)) + 8 + uint64(i%7)*4
	}
	b.ResetTimer()
	for range b.N {
		m := Module{Data: append([]*DataSegment(nil), data...)}
		m.CoalesceData(50_000)
		if len(m.Data) > 50_000 {
			b.Fatalf("%d segments", len(m.Data))
		}
	}
}
