package riscv64

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/emulator/riscv64/internal/rvgen"
)

// qemuPath returns the reference emulator or skips the test.
func qemuPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("qemu-riscv64-static")
	if err != nil {
		t.Skip("qemu-riscv64-static not installed (Debian package qemu-user-static); it is the reference implementation")
	}
	return p
}

// runQEMU runs a riscv64 executable under qemu-user and returns its stdout.
func runQEMU(t testing.TB, qemu, path string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, append([]string{path}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("qemu %s: %v\nstderr: %s", path, err, errb.String())
	}
	return out.Bytes()
}

// runFlat loads a generated single-segment executable into a fresh address
// space and runs it with a shim that knows only write and exit_group.
func runFlat(t testing.TB, image []byte) ([]byte, error) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, fmt.Errorf("parse generated ELF: %w", err)
	}
	mem := NewMemory()
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		start := p.Vaddr &^ pageMask
		if err := mem.Map(start, p.Vaddr+p.Memsz-start, PermRead|PermWrite|PermExec); err != nil {
			return nil, err
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return nil, err
		}
		if err := mem.Poke(p.Vaddr, data); err != nil {
			return nil, err
		}
	}
	c := &CPU{Mem: mem, PC: f.Entry}
	var out []byte
	for {
		ex := c.Run(1 << 30)
		if ex.Reason != ExitEcall {
			return out, fmt.Errorf("unexpected exit: %v", ex)
		}
		switch c.X[17] {
		case 64: // write
			buf := make([]byte, c.X[12])
			if err := mem.ReadBytes(c.X[11], buf); err != nil {
				return out, err
			}
			out = append(out, buf...)
			c.X[10] = c.X[12]
		case 94:
			return out, nil
		default:
			return out, fmt.Errorf("unexpected system call %d", c.X[17])
		}
		c.PC += 4
	}
}

// describeDiff names the first differing register or window bytes of two
// program outputs.
func describeDiff(want, got []byte) string {
	if len(want) != len(got) {
		return fmt.Sprintf("output length %d, want %d", len(got), len(want))
	}
	for i := 0; i+8 <= 64*8; i += 8 {
		w, g := binary.LittleEndian.Uint64(want[i:]), binary.LittleEndian.Uint64(got[i:])
		if w == g {
			continue
		}
		var name string
		switch r := i / 8; {
		case r < 31:
			name = fmt.Sprintf("x%d", r+1)
		case r < 63:
			name = fmt.Sprintf("f%d", r-31)
		default:
			name = "fcsr"
		}
		return fmt.Sprintf("%s = %#x, want %#x", name, g, w)
	}
	for i := 64 * 8; i < rvgen.StateSize; i++ {
		if want[i] != got[i] {
			return fmt.Sprintf("window byte %#x = %#x, want %#x", i-64*8, got[i], want[i])
		}
	}
	for i := rvgen.StateSize; i+16 <= len(want); i += 16 {
		if w, g := want[i:i+16], got[i:i+16]; !bytes.Equal(w, g) {
			le := binary.LittleEndian
			return fmt.Sprintf("log record %d: result %#x fflags %#x, want %#x fflags %#x", (i-rvgen.StateSize)/16,
				le.Uint64(g), le.Uint64(g[8:]), le.Uint64(w), le.Uint64(w[8:]))
		}
	}
	return "no difference"
}

// TestRandomInstructionsMatchQEMU runs streams of random instructions of
// every extension on the CPU and on qemu-riscv64 and compares all
// registers, fcsr and the data window. On a mismatch it bisects to the
// first instruction whose effect differs.
func TestRandomInstructionsMatchQEMU(t *testing.T) {
	qemu := qemuPath(t)
	perProgram, programs := 10000, 10 // 100k instructions per extension
	if testing.Short() {
		programs = 2
	}
	dir := t.TempDir()
	for _, ext := range []rvgen.Extension{rvgen.ExtI, rvgen.ExtM, rvgen.ExtA, rvgen.ExtC, rvgen.ExtF, rvgen.ExtD, rvgen.ExtZicsr} {
		t.Run(ext.String(), func(t *testing.T) {
			t.Parallel()
			total := 0
			for seed := uint64(1); seed <= uint64(programs); seed++ {
				p := rvgen.Generate(ext, seed, perProgram)
				total += p.Instructions
				if msg := compareProgram(t, qemu, dir, ext, seed, p); msg != "" {
					n := bisect(t, qemu, dir, ext, seed, perProgram)
					t.Fatalf("seed %d: %s; first divergence after %d random instructions (rvgen.Generate(%v, %d, %d))",
						seed, msg, n, ext, seed, n)
				}
			}
			if ext == rvgen.ExtI || ext == rvgen.ExtM || ext == rvgen.ExtC {
				// Every intermediate result, and divisions at their edges.
				p := rvgen.GenerateLogged(ext, 1, perProgram)
				total += p.Instructions
				if msg := compareProgram(t, qemu, dir, ext, 1000, p); msg != "" {
					t.Fatalf("rvgen.GenerateLogged(%v, 1, %d): %s", ext, perProgram, msg)
				}
			}
			t.Logf("%d random instructions matched", total)
		})
	}
}

func compareProgram(t *testing.T, qemu, dir string, ext rvgen.Extension, seed uint64, p rvgen.Program) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("%v-%d-%d", ext, seed, p.Instructions))
	if err := os.WriteFile(path, p.ELF, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	want := runQEMU(t, qemu, path)
	got, err := runFlat(t, p.ELF)
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(want, got) {
		return describeDiff(want, got)
	}
	return ""
}

// bisect returns the smallest stream length whose final state differs.
func bisect(t *testing.T, qemu, dir string, ext rvgen.Extension, seed uint64, n int) int {
	lo, hi := 0, n // lo matches, hi differs
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if compareProgram(t, qemu, dir, ext, seed, rvgen.Generate(ext, seed, mid)) != "" {
			hi = mid
		} else {
			lo = mid
		}
	}
	p := rvgen.Generate(ext, seed, hi)
	t.Logf("diverging program: %s", compareProgram(t, qemu, dir, ext, seed, p))
	return hi
}
