package amd64

import (
	"testing"

	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// TestCodeAtSeveralAddresses: a frame two processes execute at different
// addresses (a library loaded after different ones) keeps its decoded
// code for both.
func TestCodeAtSeveralAddresses(t *testing.T) {
	var slot any
	fill := func(*[PageSize]byte) error { return nil }
	m1, m2 := rv.NewMemory(), rv.NewMemory()
	if _, err := m1.MapPrivateFrame(0x10000, &slot, rv.PermRead|rv.PermExec, fill); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.MapPrivateFrame(0x30000, &slot, rv.PermRead|rv.PermExec, fill); err != nil {
		t.Fatal(err)
	}
	c1, c2 := New(m1), New(m2)
	a, _, ok1 := c1.codePageAt(0x10000)
	b, _, ok2 := c2.codePageAt(0x30000)
	again, _, ok3 := c1.codePageAt(0x10000)
	if !ok1 || !ok2 || !ok3 || again != a || !a.valid || !b.valid {
		t.Errorf("code at the first address remade (%v) or dropped: valid %v %v", again != a, a.valid, b.valid)
	}
}
