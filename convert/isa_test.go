package convert

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wasmrt/wasmrt/convert/rootfs"
)

func TestNeedsVector(t *testing.T) {
	for arch, want := range map[string]bool{
		"rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zifencei2p0":    false,
		"rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_v1p0_zicsr2p0_zve64d1p0": true,
		"rv64imafdc":     false,
		"rv64imafdcv":    true,
		"rv64gc_zve32x":  true,
		"rv64gc_zvl128b": true,
		"rv64gc_zba_zbb": false,
		"":               false,
		"x86-64":         false,
	} {
		if got := needsVector(arch); got != want {
			t.Errorf("needsVector(%q) = %v, want %v", arch, got, want)
		}
	}
}

// compileObject compiles a tiny C file for march and returns the object.
func compileObject(t *testing.T, march string) []byte {
	t.Helper()
	cc, err := exec.LookPath("riscv64-linux-gnu-gcc")
	if err != nil {
		t.Skip("riscv64-linux-gnu-gcc not installed (Debian gcc-riscv64-linux-gnu; make test installs it)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "x.c")
	if err := os.WriteFile(src, []byte("int f(int x) { return x + 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "x.o")
	if out, err := exec.Command(cc, "-c", "-march="+march, "-mabi=lp64d", "-o", obj, src).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", march, err, out)
	}
	b, err := os.ReadFile(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckRISCVProfile(t *testing.T) {
	gc, gcv := compileObject(t, "rv64gc"), compileObject(t, "rv64gcv")
	build := func(sh, app []byte) *rootfs.Tree {
		tree, err := rootfs.NewTree(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tree.Close() })
		usr := rootfs.NewDir(0o755)
		bin := rootfs.NewDir(0o755)
		usr.Children["bin"] = bin
		tree.Root.Children["usr"] = usr
		tree.Root.Children["bin"] = &rootfs.Inode{Mode: rootfs.ModeSymlink | 0o777, Target: "usr/bin"}
		for name, content := range map[string][]byte{"sh": sh, "app": app} {
			ino := &rootfs.Inode{Mode: rootfs.ModeRegular | 0o755}
			if _, err := tree.SetContent(ino, bytes.NewReader(content), 1<<20); err != nil {
				t.Fatal(err)
			}
			bin.Children[name] = ino
		}
		return tree
	}
	cfg := &v1.Config{Cmd: []string{"app"}, Env: []string{"PATH=/bin"}}
	if err := CheckRISCVProfile(build(gc, gc), cfg, "image x"); err != nil {
		t.Errorf("RV64GC programs refused: %v", err)
	}
	err := CheckRISCVProfile(build(gc, gcv), cfg, "image x")
	if err == nil || !strings.Contains(err.Error(), "/bin/app") || !strings.Contains(err.Error(), "RVA23") {
		t.Errorf("vector entrypoint: %v", err)
	}
	err = CheckRISCVProfile(build(gcv, gc), &v1.Config{}, "image x")
	if err == nil || !strings.Contains(err.Error(), "/bin/sh") {
		t.Errorf("vector shell: %v", err)
	}
}

// TestRISCVArchFromCompiler compiles objects with the riscv64 cross compiler
// for RV64GC and for RV64GCV and reads back the ISA string it recorded.
func TestRISCVArchFromCompiler(t *testing.T) {
	for march, vector := range map[string]bool{"rv64gc": false, "rv64gcv": true} {
		arch, err := riscvArch(bytes.NewReader(compileObject(t, march)))
		if err != nil || arch == "" {
			t.Fatalf("%s: arch %q, %v", march, arch, err)
		}
		if needsVector(arch) != vector {
			t.Errorf("-march=%s recorded %q; needsVector = %v", march, arch, !vector)
		}
	}
}
