package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/wasmrt/wasmrt/internal/ctrtest"
)

// TestTranslatedAMD64Programs converts an image of static x86-64 programs
// built here with the code they execute translated (each trained on
// itself) and runs each under wazero: the output must be what the same
// binary prints natively.
// The programs: the CPU benchmarks and testdata/translated.c of the
// emulator, which covers the translated forms (every condition at every
// operand size, mul and imul, bit scans, rotates, shifts by cl, indirect
// calls, a jump table, the SSE2 operations) on edge and random values.
func TestTranslatedAMD64Programs(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and translates static programs")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed: it builds the programs (make deps installs it)")
	}
	dir := t.TempDir()
	programs := []struct {
		name, src string
		args      []string
	}{
		{"translated", "../../emulator/amd64/testdata/translated.c", nil},
		{"sha256", "../../internal/cpubench/testdata/sha256.c", []string{"1"}},
		{"mixed", "../../internal/cpubench/testdata/mixed.c", []string{"2"}},
	}
	img := ctrtest.Image{OS: "linux", Arch: "amd64", Files: map[string]ctrtest.File{}}
	native := map[string]string{}
	for _, p := range programs {
		bin := filepath.Join(dir, p.name)
		if out, err := exec.Command(gcc, "-O2", "-static", "-o", bin, p.src).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", p.src, err, out)
		}
		out, err := exec.Command(bin, p.args...).Output()
		if err != nil {
			t.Fatalf("%s natively: %v", p.name, err)
		}
		native[p.name] = string(out)
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		img.Files["bin/"+p.name] = ctrtest.File{Data: data, Mode: 0o755}
	}
	built, err := img.Build()
	if err != nil {
		t.Fatal(err)
	}
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(built, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"})); err != nil {
		t.Fatal(err)
	}
	// Trained on the programs themselves: what runs is translated, and
	// the module stays small enough to compile quickly.
	args := []string{"--quiet", "--precompile=false"}
	for _, p := range programs {
		args = append(args, "--train", strings.Join(append([]string{"/bin/" + p.name}, p.args...), " "))
	}
	module := filepath.Join(dir, "translated.wasm")
	mustRun(t, append(args, "oci-layout:"+string(lp)+":latest", module)...)
	wasmValidate(t, module)
	for _, p := range programs {
		got := wazeroRun(t, module, "", nil, nil, append([]string{"/bin/" + p.name}, p.args...)...)
		if got != (result{stdout: native[p.name]}) {
			t.Errorf("%s translated: %v\nnatively: %q", p.name, got, native[p.name])
		}
	}
}
