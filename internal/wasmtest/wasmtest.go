// Package wasmtest gives tests the WebAssembly modules they run: the
// wasmprobe program (internal/wasmprobe) built for wasip1 as a command and
// as a reactor, modules written in the text format and compiled with wabt's
// wat2wasm, and C programs compiled against Debian's wasi-libc. Builds go
// to the repository's .cache directory, written whole and renamed into
// place, so test packages running at once never see half a module.
package wasmtest

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// Probe returns the path of wasmprobe built as a wasip1 command.
func Probe(t testing.TB) string {
	t.Helper()
	return buildGo(t, "wasmprobe.wasm")
}

// Reactor returns the path of wasmprobe built as a wasip1 reactor
// (-buildmode=c-shared): no _start, _initialize and probe_hello exported.
func Reactor(t testing.TB) string {
	t.Helper()
	return buildGo(t, "wasmprobe-reactor.wasm", "-buildmode=c-shared")
}

func buildGo(t testing.TB, name string, flags ...string) string {
	t.Helper()
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(cacheDir(t), name)
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	args := append(append([]string{"build", "-trimpath"}, flags...), "-o", tmp, "./internal/wasmprobe")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Wat compiles a module in the WebAssembly text format with wat2wasm
// (keeping the names of functions and locals in a name section) and returns
// its binary. It skips the test when wabt is not installed.
func Wat(t testing.TB, src string) []byte {
	t.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm not found: install the Debian package wabt")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("wat2wasm", "--debug-names", in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Clang is the C compiler C uses: Debian's clang with its wasm32 target.
const Clang = "clang-14"

// C compiles a C program for wasm32-wasi (Debian packages clang-14, lld-14,
// wasi-libc and libclang-rt-14-dev-wasm32) and returns the module's path.
// It skips the test when the compiler or the C library is missing.
func C(t testing.TB, src string) string {
	t.Helper()
	if _, err := exec.LookPath(Clang); err != nil {
		t.Skipf("%s not found: install the Debian packages clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32", Clang)
	}
	if _, err := os.Stat("/usr/lib/wasm32-wasi/libc.a"); err != nil {
		t.Skip("wasi-libc not found: install the Debian package wasi-libc")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "prog.c"), filepath.Join(dir, "prog.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(Clang, "--target=wasm32-wasi", "-O2", "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", Clang, err, b)
	}
	return out
}

func cacheDir(t testing.TB) string {
	t.Helper()
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".cache", "wasmtest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Converted converts the fixture image (one of the fixtures.Image*
// constants) with c2w, built from this repository, and returns the
// module's path. It skips the test when the fixtures or the emulator
// module (make) are not built. Conversions are kept in the repository's
// .cache, named by what made them (the c2w binary and the fixture's
// index), so tests and test runs share them; they are not precompiled
// into c2w run's cache, which the runtimes do not use.
func Converted(t testing.TB, image string) string {
	t.Helper()
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd/c2w/module/c2w-emulator.wasm")); err != nil {
		t.Skip("the emulator module is not built: run make")
	}
	layout := fixtures.OCI(t, image)
	convertMu.Lock()
	defer convertMu.Unlock()
	c2w, err := buildC2w(root, cacheDir(t))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, f := range []string{c2w, filepath.Join(layout, "index.json")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	out := filepath.Join(cacheDir(t), fmt.Sprintf("%s-%x.wasm", image, h.Sum(nil)[:8]))
	if _, err := os.Stat(out); err == nil {
		return out
	}
	stale, _ := filepath.Glob(filepath.Join(cacheDir(t), image+"-*.wasm"))
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	if b, err := exec.Command(c2w, "--quiet", "--precompile=false", "oci-layout:"+layout, tmp).CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("c2w %s: %v\n%s", image, err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		os.Remove(f)
	}
	return out
}

var (
	convertMu sync.Mutex
	c2wOnce   sync.Once
	c2wPath   string
	c2wErr    error
)

// buildC2w builds c2w from the repository once per test binary.
func buildC2w(root, dir string) (string, error) {
	c2wOnce.Do(func() {
		c2w := filepath.Join(dir, "c2w")
		tmp := fmt.Sprintf("%s.%d.tmp", c2w, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, "./cmd/c2w")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp)
			c2wErr = fmt.Errorf("build c2w: %v\n%s", err, b)
			return
		}
		c2wErr = os.Rename(tmp, c2w)
		c2wPath = c2w
	})
	return c2wPath, c2wErr
}
