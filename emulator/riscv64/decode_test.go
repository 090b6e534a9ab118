package riscv64

import "testing"

// TestInstHeader checks that header packs the one-byte fields of inst in
// declaration order at the offsets Run's branch-free paths read them from.
func TestInstHeader(t *testing.T) {
	in := inst{op: 1, rd: 2, rs1: 3, rs2: 4, rs3: 5, rm: 6, fop: 7, halfword: 8, imm: ^uint64(0)}
	h := in.header()
	for _, f := range []struct {
		name  string
		shift uint
		want  uint8
	}{
		{"op", 0, in.op}, {"rd", hRd, in.rd}, {"rs1", hRs1, in.rs1}, {"rs2", hRs2, in.rs2},
		{"rs3", hRs3, in.rs3}, {"rm", hRm, in.rm}, {"fop", hFop, in.fop}, {"halfword", hHalfword, in.halfword},
	} {
		if got := uint8(h >> f.shift); got != f.want {
			t.Errorf("header %s = %d, want %d (header %#x)", f.name, got, f.want, h)
		}
	}
}
