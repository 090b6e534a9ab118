package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmrt/wasmrt/convert/pack/wasmbin"
)

// The guard: this package patches Go runtime internals, so a Go upgrade
// must fail here, loudly, before it can produce broken modules.
func TestGoReleasePinned(t *testing.T) {
	v := runtime.Version()
	if v != ValidatedGoRelease && !strings.HasPrefix(v, ValidatedGoRelease+".") {
		t.Fatalf("the toolchain is %s but convert/pack is validated for %s: check runtime.moduledata (runtime/symtab.go), "+
			"the linker's data layout and the sbrk heap start (runtime/mem_sbrk.go initBloc) of %s, update goruntime.go "+
			"and ValidatedGoRelease, and rerun TestGuardEmbedLargeBlob", v, ValidatedGoRelease, v)
	}
}

var (
	buildOnce  sync.Once
	builtPath  string
	builtBytes []byte
	buildErr   error
	buildDir   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// embedtestModule builds internal/embedtest for GOOS=wasip1 once per test
// binary. Tests may use the Go toolchain; Embed itself never does.
func embedtestModule(t testing.TB) ([]byte, string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "pack-embedtest-")
		if buildErr != nil {
			return
		}
		builtPath = filepath.Join(buildDir, "embedtest.wasm")
		cmd := exec.Command("go", "build", "-o", builtPath, "github.com/wasmrt/wasmrt/internal/embedtest")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build internal/embedtest: %v\n%s", err, out)
			return
		}
		builtBytes, buildErr = os.ReadFile(builtPath)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBytes, builtPath
}

// randomBlob returns n pseudo-random bytes from a fixed seed.
func randomBlob(n int, seed uint64) []byte {
	b := make([]byte, n)
	var seedBytes [32]byte
	binary.LittleEndian.PutUint64(seedBytes[:], seed)
	r := rand.NewChaCha8(seedBytes)
	r.Read(b)
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func wasmValidate(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("wasm-validate"); err != nil {
		t.Skip("wasm-validate not found: install the Debian package wabt")
	}
	if out, err := exec.Command("wasm-validate", path).CombinedOutput(); err != nil {
		t.Fatalf("wasm-validate %s: %v\n%s", path, err, out)
	}
}

// runWazero runs a module under the wazero library with a compilation
// cache and returns its stdout, stderr and exit code.
func runWazero(t testing.TB, cacheDir string, module []byte, args ...string) (string, string, uint32) {
	t.Helper()
	ctx := context.Background()
	cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close(ctx)
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	compiled, err := r.CompileModule(ctx, module)
	if err != nil {
		t.Fatalf("wazero compile: %v", err)
	}
	var stdout, stderr bytes.Buffer
	cfg := wazero.NewModuleConfig().WithArgs(append([]string{"embedtest"}, args...)...).
		WithStdout(&stdout).WithStderr(&stderr)
	_, err = r.InstantiateModule(ctx, compiled, cfg)
	var exit *sys.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	default:
		return stdout.String(), stderr.String() + err.Error(), 255
	}
}

func TestGuardEmbedLargeBlob(t *testing.T) {
	t.Run("active", func(t *testing.T) { testGuardEmbed(t, false) })
	t.Run("passive", func(t *testing.T) { testGuardEmbed(t, true) })
}

// testGuardEmbed packs a large rootfs blob, in linear memory or in the
// passive blob segment, next to a small active one and runs the stress
// program under wazero and Node.
func testGuardEmbed(t *testing.T, passive bool) {
	mod, _ := embedtestModule(t)
	rootfs := randomBlob(56<<20+12345, 1) // ≥ 50 MB, not a whole number of pages
	config := []byte(`{"Entrypoint":["/bin/sh"],"Env":["PATH=/usr/bin:/bin"]}`)
	out, err := Embed(mod, Blob{Name: "rootfs", Data: rootfs, Passive: passive}, Blob{Name: "config", Data: config})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("rootfs %s\nconfig %s\n", sha(rootfs), sha(config))
	path := writeTemp(t, "packed.wasm", out)

	t.Run("wasm-validate", func(t *testing.T) { wasmValidate(t, path) })

	t.Run("extract", func(t *testing.T) {
		blobs, err := Extract(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(blobs) != 2 || blobs[0].Name != "rootfs" || !bytes.Equal(blobs[0].Data, rootfs) || blobs[0].Passive != passive ||
			blobs[1].Name != "config" || !bytes.Equal(blobs[1].Data, config) || blobs[1].Passive {
			t.Fatalf("Extract returned %d blobs that differ from the embedded ones", len(blobs))
		}
	})

	t.Run("memory", func(t *testing.T) {
		m, err := wasmbin.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		initial := m.Memories[0].Min * wasmbin.PageSize
		if holds := initial >= HeapHeadroom+uint64(len(rootfs)); holds == passive {
			t.Fatalf("passive=%v but the initial memory of %d bytes holds the %d-byte blob and the heap headroom: %v",
				passive, initial, len(rootfs), holds)
		}
	})

	t.Run("list", func(t *testing.T) {
		kind := ""
		if passive {
			kind = " passive"
		}
		wantList := fmt.Sprintf("rootfs %d%s\nconfig %d\n", len(rootfs), kind, len(config))
		stdout, stderr, code := runWazero(t, t.TempDir(), out, "list")
		if code != 0 || stdout != wantList {
			t.Fatalf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, wantList, stderr)
		}
	})

	t.Run("wazero", func(t *testing.T) {
		stdout, stderr, code := runWazero(t, t.TempDir(), out, "stress", "rootfs", "config")
		if code != 0 || stdout != want {
			t.Fatalf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, want, stderr)
		}
	})

	t.Run("node", func(t *testing.T) {
		if _, err := exec.LookPath("node"); err != nil {
			t.Skip("node not found: install Node.js 20 (Debian nodejs)")
		}
		cmd := exec.Command("node", "--no-turbo-fast-api-calls", "--no-warnings", "testdata/run-wasi.mjs", path, "stress", "rootfs", "config")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil || stdout.String() != want {
			t.Fatalf("node: %v\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", err, stdout.String(), want, stderr.String())
		}
	})

	if passive {
		return
	}
	// The control: the same module with the heap start left where the
	// linker put it must fail, or the checks above prove nothing.
	t.Run("unmoved heap fails", func(t *testing.T) {
		m, err := wasmbin.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := wasmbin.Parse(mod)
		if err != nil {
			t.Fatal(err)
		}
		rt, err := findGoRuntime(orig)
		if err != nil {
			t.Fatal(err)
		}
		var end [8]byte
		binary.LittleEndian.PutUint64(end[:], rt.end)
		if err := m.PatchMemory(rt.moduledata+mdEnd, end[:]); err != nil {
			t.Fatal(err)
		}
		broken, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runWazero(t, t.TempDir(), broken, "stress", "rootfs", "config")
		if code == 0 && stdout == want {
			t.Fatalf("the module ran correctly without moving runtime.end: the guard cannot detect a layout change")
		}
		t.Logf("as expected, exit %d: %s", code, firstLine(stderr))
	})
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
