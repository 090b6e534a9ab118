package riscv64

import (
	"encoding/binary"
	"errors"
	"testing"
)

func words(ws ...uint32) []byte {
	b := make([]byte, 0, 4*len(ws))
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

func TestForkIsCopyOnWrite(t *testing.T) {
	m := NewMemory()
	if err := m.Map(0x10000, 2*PageSize, PermRead|PermWrite); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteBytes(0x10ff8, []byte("parent..")); err != nil {
		t.Fatal(err)
	}
	child := m.Fork()
	if err := child.WriteBytes(0x10ff8, []byte("child...")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 8)
	if err := m.ReadBytes(0x10ff8, got); err != nil || string(got) != "parent.." {
		t.Fatalf("parent reads %q, %v after the child wrote", got, err)
	}
	if err := child.ReadBytes(0x10ff8, got); err != nil || string(got) != "child..." {
		t.Fatalf("child reads %q, %v", got, err)
	}
	// The parent writing its (now unshared) page must not affect the child.
	m.WriteBytes(0x10ff8, []byte("again..."))
	child.ReadBytes(0x10ff8, got)
	if string(got) != "child..." {
		t.Fatalf("child reads %q after the parent wrote", got)
	}
}

func TestFaultsAreReported(t *testing.T) {
	m := NewMemory()
	m.Map(0x10000, PageSize, PermRead|PermExec)
	m.Map(0x20000, PageSize, PermRead|PermWrite)
	m.Poke(0x10000, words(
		0x000202b7, // lui t0, 0x20
		0x0002b303, // ld t1, 0(t0)
		0x0062b023, // sd t1, 0(t0)
		0x00003383, // ld t2, 0(x0)
	))
	c := &CPU{Mem: m, PC: 0x10000}
	ex := c.Run(100)
	if ex.Reason != ExitFault || ex.Access != AccessRead || ex.Cause != CauseUnmapped || ex.Addr != 0 || ex.PC != 0x1000c {
		t.Fatalf("load from page 0: got %v", ex)
	}
	if err := m.Protect(0x20000, PageSize, PermRead); err != nil {
		t.Fatal(err)
	}
	c.PC = 0x10000
	ex = c.Run(100)
	if ex.Reason != ExitFault || ex.Access != AccessWrite || ex.Cause != CauseProtection || ex.Addr != 0x20000 || ex.PC != 0x10008 {
		t.Fatalf("store to read-only page: got %v", ex)
	}
	c.PC = 0x20000
	if ex = c.Run(100); ex.Reason != ExitFault || ex.Access != AccessExec || ex.Cause != CauseProtection {
		t.Fatalf("executing a non-executable page: got %v", ex)
	}
	m.Poke(0x10000, words(0xffffffff))
	m.FlushCode()
	c.PC = 0x10000
	if ex = c.Run(100); ex.Reason != ExitIllegalInstruction || ex.Inst != 0xffffffff || ex.PC != 0x10000 {
		t.Fatalf("illegal instruction: got %v", ex)
	}
	if err := m.Protect(0x40000, PageSize, PermRead); !errors.Is(err, ErrNotMapped) {
		t.Fatalf("protect of an unmapped page: %v", err)
	}
}

// TestSelfModifyingCode patches an instruction with a store and checks the
// patched instruction runs, both after fence.i and without it (the store
// alone drops the decoded page).
func TestSelfModifyingCode(t *testing.T) {
	for _, fence := range []bool{true, false} {
		m := NewMemory()
		m.Map(0x10000, PageSize, PermRead|PermWrite|PermExec)
		patch := uint32(0x02a00513) // addi a0, x0, 42
		code := words(
			0x00000517, // auipc a0, 0 (overwritten below after first run)
			0x00000073, // ecall
		)
		m.Poke(0x10000, code)
		c := &CPU{Mem: m, PC: 0x10000}
		if ex := c.Run(100); ex.Reason != ExitEcall || c.X[10] != 0x10000 {
			t.Fatalf("first run: %v, a0=%#x", ex, c.X[10])
		}
		// Guest code: t0 = 0x10000; t1 = patch; sw t1, 0(t0); [fence.i]; j 0x10000
		prog := []uint32{0x000102b7, 0x00000337 | (patch+0x800)&0xfffff000, 0x00030313 | (patch&0xfff)<<20, 0x0062a023}
		if fence {
			prog = append(prog, 0x0000100f)
		}
		at := uint64(0x10100)
		off := int32(0x10000 - (at + uint64(4*len(prog))))
		u := uint32(off)
		prog = append(prog, 0x6f|(u>>20&1)<<31|(u>>1&0x3ff)<<21|(u>>11&1)<<20|(u>>12&0xff)<<12)
		m.Poke(at, words(prog...))
		c.PC = at
		if ex := c.Run(100); ex.Reason != ExitEcall || c.X[10] != 42 {
			t.Fatalf("fence.i=%v: patched code did not run: %v, a0=%#x", fence, ex, c.X[10])
		}
	}
}

func TestBrk(t *testing.T) {
	m := NewMemory()
	m.SetBrk(0x100000)
	if got := m.Brk(0x100000+10000, 1<<30); got != 0x100000+10000 {
		t.Fatalf("brk grow = %#x", got)
	}
	if err := m.WriteBytes(0x100000+9999, []byte{1}); err != nil {
		t.Fatalf("write below the break: %v", err)
	}
	if got := m.Brk(0x1000, 1<<30); got != 0x100000+10000 {
		t.Fatalf("brk below base = %#x, want unchanged", got)
	}
	m.Brk(0x100000, 1<<30)
	if _, ok := m.Mapping(0x100000); ok {
		t.Fatal("page still mapped after shrinking the break")
	}
}

// TestCopyOnWriteDropsDecodedCode: a process that writes to a code page it
// shares copy-on-write with another (after fork) must execute what it
// wrote, not the decoded instructions its CPU cached for the shared frame;
// the other process keeps executing the original.
func TestCopyOnWriteDropsDecodedCode(t *testing.T) {
	const addiA0One, addiA0Two, ecall = 0x00100513, 0x00200513, 0x00000073
	m := NewMemory()
	if err := m.Map(0x10000, PageSize, PermRead|PermWrite|PermExec); err != nil {
		t.Fatal(err)
	}
	if err := m.Poke(0x10000, words(addiA0One, ecall)); err != nil {
		t.Fatal(err)
	}
	run := func(c *CPU) uint64 {
		t.Helper()
		c.PC = 0x10000
		if ex := c.Run(100); ex.Reason != ExitEcall {
			t.Fatalf("exit %v, want ecall", ex)
		}
		return c.X[10]
	}
	parent := &CPU{Mem: m}
	if got := run(parent); got != 1 {
		t.Fatalf("a0 = %d before fork, want 1", got)
	}
	child := &CPU{Mem: m.Fork()}
	if got := run(child); got != 1 {
		t.Fatalf("child a0 = %d, want 1", got)
	}
	if err := m.WriteBytes(0x10000, words(addiA0Two)); err != nil {
		t.Fatal(err)
	}
	if got := run(parent); got != 2 {
		t.Fatalf("parent a0 = %d after rewriting its copy of the page, want 2", got)
	}
	if got := run(child); got != 1 {
		t.Fatalf("child a0 = %d after the parent's write, want 1", got)
	}
}

// TestMapPrivateFrame: address spaces that map one cache slot share its
// frame, filled once; a write copies it, so other mappings, earlier and
// later, keep the file's bytes.
func TestMapPrivateFrame(t *testing.T) {
	var slot any
	fills := 0
	fill := func(f *[PageSize]byte) error {
		fills++
		copy(f[:], "file bytes")
		return nil
	}
	m1, m2 := NewMemory(), NewMemory()
	for _, m := range []*Memory{m1, m2} {
		if _, err := m.MapPrivateFrame(0x10000, &slot, PermRead|PermWrite, fill); err != nil {
			t.Fatal(err)
		}
	}
	if fills != 1 {
		t.Fatalf("%d fills for two mappings of one slot", fills)
	}
	f1, _ := m1.ReadFrame(0x10000)
	f2, _ := m2.ReadFrame(0x10000)
	if f1 != f2 {
		t.Fatal("the two address spaces map different frames")
	}
	if err := m1.WriteBytes(0x10000, []byte("written")); err != nil {
		t.Fatal(err)
	}
	m3 := NewMemory()
	if filled, err := m3.MapPrivateFrame(0x20000, &slot, PermRead, fill); err != nil || filled {
		t.Fatalf("third mapping: filled %v, %v", filled, err)
	}
	buf := make([]byte, 10)
	for name, m := range map[string]*Memory{"m1": m1, "m2": m2, "m3": m3} {
		addr := uint64(0x10000)
		if m == m3 {
			addr = 0x20000
		}
		if err := m.ReadBytes(addr, buf); err != nil {
			t.Fatal(err)
		}
		want := "file bytes"
		if m == m1 {
			want = "writtentes" // "written" over "file bytes"
		}
		if string(buf) != want {
			t.Errorf("%s reads %q, want %q", name, buf, want)
		}
	}
	// Released by the cache, the frame stays with its mappings; the slot
	// fills anew.
	ReleaseFrame(&slot)
	if slot != nil {
		t.Fatal("ReleaseFrame left the slot full")
	}
	if filled, err := NewMemory().MapPrivateFrame(0x10000, &slot, PermRead, fill); err != nil || !filled || fills != 2 {
		t.Errorf("after release: filled %v, %d fills, %v", filled, fills, err)
	}
}

// TestCodeAtSeveralAddresses: a frame executed at two addresses (a
// library that two processes load at different addresses) keeps its
// decoded code for both; a write drops both.
func TestCodeAtSeveralAddresses(t *testing.T) {
	var slot any
	fill := func(*[PageSize]byte) error { return nil }
	m1, m2 := NewMemory(), NewMemory()
	for _, mapping := range []struct {
		m  *Memory
		va uint64
	}{{m1, 0x10000}, {m2, 0x30000}} {
		if _, err := mapping.m.MapPrivateFrame(mapping.va, &slot, PermRead|PermWrite|PermExec, fill); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := m1.codePage(0x10000)
	b, _ := m2.codePage(0x30000)
	if again, _ := m1.codePage(0x10000); again != a || !a.valid || !b.valid {
		t.Fatalf("code at the first address remade (%v) or dropped: valid %v %v", again != a, a.valid, b.valid)
	}
	// m2's write copies the frame for m2 and drops the shared frame's
	// code (m1's CPUs may hold it; they decode again).
	if err := m2.WriteBytes(0x30000, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if a.valid || b.valid {
		t.Errorf("code survives a write: valid %v %v", a.valid, b.valid)
	}
}
