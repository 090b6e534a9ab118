package riscv64_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/internal/cpubench/guestos"
)

// buildC compiles a C test program into a static riscv64 executable.
func buildC(t *testing.T, src string, extra ...string) string {
	t.Helper()
	cc, err := exec.LookPath("riscv64-linux-gnu-gcc")
	if err != nil {
		t.Skip("riscv64-linux-gnu-gcc not installed (Debian packages gcc-riscv64-linux-gnu and libc6-dev-riscv64-cross)")
	}
	out := filepath.Join(t.TempDir(), filepath.Base(src)+".elf")
	args := append([]string{"-O2", "-static", "-o", out, src}, extra...)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	return out
}

// buildGo cross-compiles a Go test program for linux/riscv64.
func buildGo(t *testing.T, src string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(src)+".elf")
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=riscv64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", src, err, b)
	}
	return out
}

func qemuStdout(t *testing.T, path string) []byte {
	t.Helper()
	qemu, err := exec.LookPath("qemu-riscv64-static")
	if err != nil {
		t.Skip("qemu-riscv64-static not installed (Debian package qemu-user-static); it is the reference implementation")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, qemu, path)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("qemu %s: %v\n%s", path, err, errb.String())
	}
	return out.Bytes()
}

func emulatorStdout(t *testing.T, path string) ([]byte, *guestos.Process) {
	t.Helper()
	image, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := guestos.Load(image, []string{filepath.Base(path)}, []string{"HOME=/"})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	p.Stdout, p.Stderr = &out, &errb
	code, err := p.Run(20_000_000_000)
	if err != nil || code != 0 {
		t.Fatalf("%s: exit %d, %v (unsupported syscalls %v)\nstderr: %s\nstdout so far:\n%s", path, code, err, p.Unsupported, errb.String(), tail(out.Bytes()))
	}
	return out.Bytes(), p
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

func compareWithQEMU(t *testing.T, path string) {
	t.Helper()
	want := qemuStdout(t, path)
	got, p := emulatorStdout(t, path)
	if !bytes.Equal(want, got) {
		wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
		for i := 0; i < len(wl) && i < len(gl); i++ {
			if !bytes.Equal(wl[i], gl[i]) {
				t.Fatalf("stdout line %d differs:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("stdout has %d lines, want %d", len(gl), len(wl))
	}
	t.Logf("%d bytes of identical output, %d instructions", len(got), p.Instructions())
}

func TestCIntegerProgramMatchesQEMU(t *testing.T) {
	t.Parallel()
	compareWithQEMU(t, buildC(t, "testdata/integer.c"))
}

func TestCFloatProgramMatchesQEMU(t *testing.T) {
	t.Parallel()
	compareWithQEMU(t, buildC(t, "testdata/float.c", "-lm"))
}

func TestGoProgramMatchesQEMU(t *testing.T) {
	t.Parallel()
	compareWithQEMU(t, buildGo(t, "testdata/hello.go"))
}
