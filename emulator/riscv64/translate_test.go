//go:build !unifiedops

package riscv64_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmrt/wasmrt/emulator/riscv64/internal/rvgen"
	"github.com/wasmrt/wasmrt/internal/cpubench/xlate"
)

// TestTranslatedMatchesInterpreted runs programs under wazero in runelf's
// module twice, interpreted and with their code translated to WebAssembly
// (docs/translation.md), and requires the same output and the same number
// of retired instructions, and that translated code ran. The interpreter
// itself is checked against qemu-riscv64 by the other tests of this
// package. The programs: the CPU benchmarks, the integer and float programs
// of the qemu comparisons, a program that rewrites its own translated code,
// and random instruction streams of every
// extension (whose memory operands, floating point, atomics and CSRs make
// translated code hand instructions back to the interpreter).
func TestTranslatedMatchesInterpreted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles several WebAssembly modules")
	}
	cc, err := exec.LookPath("riscv64-linux-gnu-gcc")
	if err != nil {
		t.Skip("riscv64-linux-gnu-gcc not installed (Debian packages gcc-riscv64-linux-gnu and libc6-dev-riscv64-cross)")
	}
	dir := t.TempDir()
	runelf := filepath.Join(dir, "runelf.wasm")
	build := exec.Command("go", "build", "-o", runelf, "../../internal/cpubench/runelf")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build runelf: %v\n%s", err, out)
	}
	module, err := os.ReadFile(runelf)
	if err != nil {
		t.Fatal(err)
	}
	type program struct {
		name string
		elf  []byte
		args []string
	}
	var programs []program
	compile := func(name, src string, args ...string) {
		out := filepath.Join(dir, name)
		if b, err := exec.Command(cc, "-O2", "-static", "-o", out, src, "-lm").CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", src, err, b)
		}
		elf, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		programs = append(programs, program{name, elf, args})
	}
	compile("sha256", "../../internal/cpubench/testdata/sha256.c", "1")
	compile("mixed", "../../internal/cpubench/testdata/mixed.c", "2")
	compile("integer", "testdata/integer.c")
	compile("float", "testdata/float.c")
	compile("selfmod", "testdata/selfmod.c")
	for _, ext := range []rvgen.Extension{rvgen.ExtI, rvgen.ExtM, rvgen.ExtC} {
		for seed := uint64(1); seed <= 3; seed++ {
			p := rvgen.GenerateLogged(ext, seed, 6000)
			programs = append(programs, program{name: fmt.Sprintf("logged-%v-%d", ext, seed), elf: p.ELF})
		}
	}
	for _, ext := range []rvgen.Extension{rvgen.ExtA, rvgen.ExtF, rvgen.ExtD, rvgen.ExtZicsr} {
		p := rvgen.Generate(ext, 7, 5000)
		programs = append(programs, program{name: "random-" + ext.String(), elf: p.ELF})
	}

	ctx := context.Background()
	cache := wazero.NewCompilationCache()
	defer cache.Close(ctx)
	instructions := regexp.MustCompile(`runelf: (\d+) instructions`)
	calls := regexp.MustCompile(`runelf: (\d+) calls into translated code`)
	for _, p := range programs {
		t.Run(p.name, func(t *testing.T) {
			path := filepath.Join(dir, p.name+".elf")
			if err := os.WriteFile(path, p.elf, 0o644); err != nil {
				t.Fatal(err)
			}
			translated, pages, err := xlate.Module(module, p.elf)
			if err != nil {
				t.Fatal(err)
			}
			if pages == 0 {
				t.Fatal("no page translated")
			}
			wantOut, wantErr := runWasm(t, ctx, cache, module, dir, p.name+".elf", p.args)
			gotOut, gotErr := runWasm(t, ctx, cache, translated, dir, p.name+".elf", p.args)
			if !bytes.Equal(gotOut, wantOut) {
				t.Fatalf("translated output differs:\n%q\ninterpreted:\n%q", gotOut, wantOut)
			}
			want, got := instructions.FindSubmatch(wantErr), instructions.FindSubmatch(gotErr)
			if want == nil || got == nil || !bytes.Equal(want[1], got[1]) {
				t.Fatalf("retired instructions differ: translated %q, interpreted %q", gotErr, wantErr)
			}
			if p.name == "selfmod" && string(gotOut) != "before 500500\nafter 42000\n" {
				// Translated code of the rewritten page must not run.
				t.Fatalf("self-modifying program printed %q", gotOut)
			}
			n := calls.FindSubmatch(gotErr)
			if n == nil {
				t.Fatalf("translated code never ran (%d pages translated); stderr %q", pages, gotErr)
			}
			t.Logf("%d pages, %s instructions, %s calls into translated code", pages, got[1], n[1])
		})
	}
	runtime.KeepAlive(cache)
}

// runWasm runs runelf's module (or a translated one) on the program
// dirName/name and returns its stdout and stderr; the program must exit 0.
func runWasm(t *testing.T, ctx context.Context, cache wazero.CompilationCache, module []byte, dir, name string, args []string) (stdout, stderr []byte) {
	t.Helper()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	compiled, err := r.CompileModule(ctx, module)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cfg := wazero.NewModuleConfig().WithArgs(append([]string{"runelf", "/" + name}, args...)...).
		WithStdout(&out).WithStderr(&errb).WithFSConfig(wazero.NewFSConfig().WithDirMount(dir, "/"))
	_, err = r.InstantiateModule(ctx, compiled, cfg)
	var exit *sys.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 0 {
		err = nil
	}
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s", name, err, errb.String())
	}
	return out.Bytes(), errb.Bytes()
}
