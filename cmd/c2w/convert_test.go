package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/wasmrt/wasmrt/convert/pack"
	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/wasi"
)

var (
	emulatorOnce sync.Once
	emulatorWasm []byte
	emulatorErr  error
)

// TestMain makes the conversions in these tests pack a freshly built
// emulator module: the copy embedded in the test binary may be stale or
// absent (fresh clone). Tests may use the Go toolchain; c2w never does.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "c2w-emulator-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Conversions precompile into the user cache: keep it the test's.
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "xdg"))
	emulatorModule = func() ([]byte, error) {
		emulatorOnce.Do(func() {
			out := filepath.Join(dir, "c2w-emulator.wasm")
			cmd := exec.Command("go", "build", "-trimpath", "-o", out, "github.com/wasmrt/wasmrt/cmd/c2w-emulator")
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			if b, err := cmd.CombinedOutput(); err != nil {
				emulatorErr = fmt.Errorf("go build cmd/c2w-emulator: %v\n%s", err, b)
				return
			}
			emulatorWasm, emulatorErr = os.ReadFile(out)
		})
		return emulatorWasm, emulatorErr
	}
	code := m.Run()
	os.RemoveAll(dir)
	if shared != "" {
		os.RemoveAll(shared)
	}
	os.Exit(code)
}

// convertFixture converts a fixture image with `c2w IMAGE OUT.wasm` once
// per test binary and checks the module with wasm-validate.
var converted sync.Map // fixture → string path

func convertFixture(t *testing.T, fixture string) string {
	t.Helper()
	return convertFixtureFor(t, fixture, "")
}

// convertFixtureFor is convertFixture for the image of platform (empty:
// the default one), once per test binary.
func convertFixtureFor(t *testing.T, fixture, platform string) string {
	t.Helper()
	key := fixture + "@" + platform
	if p, ok := converted.Load(key); ok {
		return p.(string)
	}
	args := []string{"--quiet"}
	name := fixture
	if platform != "" {
		args = append(args, "--platform", platform)
		name += "-" + strings.ReplaceAll(platform, "/", "-")
	}
	out := filepath.Join(sharedDir(t), name+".wasm")
	mustRun(t, append(args, layoutRef(t, fixture), out)...)
	wasmValidate(t, out)
	converted.Store(key, out)
	return out
}

var (
	sharedOnce sync.Once
	shared     string
)

// sharedDir is a directory that outlives single tests: converted modules
// and the compilation cache are reused across them.
func sharedDir(t *testing.T) string {
	sharedOnce.Do(func() {
		var err error
		if shared, err = os.MkdirTemp("", "c2w-test-"); err != nil {
			t.Fatal(err)
		}
	})
	return shared
}

func wasmValidate(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("wasm-validate"); err != nil {
		t.Logf("wasm-validate not found (Debian wabt): %s not validated", path)
		return
	}
	if out, err := exec.Command("wasm-validate", path).CombinedOutput(); err != nil {
		t.Fatalf("wasm-validate %s: %v\n%s", path, err, out)
	}
}

// result is what one run of a container produced.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// wazeroRun runs a module under the wazero library, as c2w run does.
func wazeroRun(t *testing.T, module, stdin string, env []string, mounts [][2]string, args ...string) result {
	t.Helper()
	wasm, err := os.ReadFile(module)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code, err := runModule(context.Background(), moduleRun{
		wasm: wasm, name: filepath.Base(module), args: args, mounts: mounts, env: env,
		// Where conversions precompiled the module (TestMain's cache).
		cacheDir: compilationCacheDir(),
		stdin:    strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
	})
	if err != nil {
		t.Fatalf("wazero run %s %q: %v", module, args, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// nodeRun runs a module under Node's node:wasi.
func nodeRun(t *testing.T, module, stdin string, preopens [][2]string, args ...string) result {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: install Node.js (Debian nodejs)")
	}
	argv := []string{"--no-turbo-fast-api-calls", "--no-warnings", "testdata/run-wasi.mjs"}
	for _, p := range preopens {
		argv = append(argv, "--preopen", p[1]+"="+p[0])
	}
	argv = append(append(argv, module), args...)
	cmd := exec.Command("node", argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("node: %v", err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// nativeRun runs args in the container packed in module with the emulator
// compiled for this machine, from the blobs the module carries: the
// reference the WebAssembly runs are compared with.
func nativeRun(t *testing.T, module, stdin string, args ...string) result {
	t.Helper()
	wasm, err := os.ReadFile(module)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := pack.Extract(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var fsBlob, cfgBlob []byte
	for _, b := range blobs {
		switch b.Name {
		case container.RootfsBlob:
			fsBlob = b.Data
		case container.ConfigBlob:
			cfgBlob = b.Data
		}
	}
	cfg, err := container.Parse(cfgBlob)
	if err != nil {
		t.Fatal(err)
	}
	proc, err := cfg.Process(container.Overrides{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	img, err := rootfs.Open(fsBlob)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	abi, err := linux.PlatformABI(cfg.Platform)
	if err != nil {
		t.Fatal(err)
	}
	k, err := linux.New(linux.Config{Image: img, Args: proc.Args, Env: proc.Env, Dir: proc.Dir,
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr, Arch: abi})
	if err != nil {
		t.Fatal(err)
	}
	code, err := k.Run()
	if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func TestConvertBusybox(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "in"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostEnv := []string{"HOSTVAR=leaked", "LANG=host"}
	mnt := [][2]string{{host, "/data"}}
	for _, tc := range []struct {
		name   string
		stdin  string
		mounts [][2]string
		args   []string
		want   result
		native bool // also compare with the native emulator
	}{
		{name: "default cmd reads stdin", stdin: "echo from-cmd\n", want: result{stdout: "from-cmd\n"}, native: true},
		{name: "exit status", args: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, want: result{"out\n", "err\n", 3}, native: true},
		{name: "signal status", args: []string{"sh", "-c", "kill -SEGV $$"}, want: result{code: 139}, native: true},
		{name: "stdin pipe", stdin: "hi\nthere\n", args: []string{"cat"}, want: result{stdout: "hi\nthere\n"}, native: true},
		{name: "pipeline", args: []string{"sh", "-c", "ls / | grep -c bin; uname -m"}, want: result{stdout: "2\nx86_64\n"}, native: true},
		{name: "no stdin", stdin: "ignored\n", args: []string{"--no-stdin", "cat"}},
		{name: "entrypoint", args: []string{"--entrypoint", "/bin/echo", "a", "b"}, want: result{stdout: "a b\n"}},
		{name: "env and workdir", args: []string{"--env", "A=1", "--workdir", "/etc", "sh", "-c", `echo $A $PWD $PATH`},
			want: result{stdout: "1 /etc " + container.DefaultPath + "\n"}},
		{name: "host env not leaked", args: []string{"sh", "-c", `echo ${HOSTVAR-unset}`}, want: result{stdout: "unset\n"}},
		{name: "env from host", args: []string{"--env-from-host", "sh", "-c", `echo $HOSTVAR $LANG`}, want: result{stdout: "leaked host\n"}},
		{name: "env NAME copies", args: []string{"--env", "HOSTVAR", "sh", "-c", `echo $HOSTVAR`}, want: result{stdout: "leaked\n"}},
		{name: "hostname", args: []string{"--hostname", "box", "hostname"}, want: result{stdout: "box\n"}},
		{name: "mapped dir", mounts: mnt, args: []string{"sh", "-c", "cat /data/in; echo written > /data/out"}, want: result{stdout: "from the host\n"}},
		{name: "no command", args: []string{"--entrypoint", ""}, want: result{code: 125, stderr: "c2w: " + fixtureRef(t) + ": " + container.ErrNoCommand.Error() + "\n"}},
		{name: "bad flag", args: []string{"--memory", "lots", "true"}, want: result{code: 125, stderr: "c2w: --memory: size \"lots\": want a positive number with an optional unit (e.g. 512MiB, 8GiB)\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wazeroRun(t, module, tc.stdin, hostEnv, tc.mounts, tc.args...)
			if got != tc.want {
				t.Errorf("wazero: %v\nwant:   %v", got, tc.want)
			}
			if tc.native {
				if n := nativeRun(t, module, tc.stdin, tc.args...); n != got {
					t.Errorf("wasm and native emulators differ:\nwasm:   %v\nnative: %v", got, n)
				}
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(host, "out")); err != nil || string(b) != "written\n" {
		t.Errorf("file the guest wrote to the mapped dir: %q, %v", b, err)
	}
}

// fixtureRef is the image name c2w records for the busybox fixture.
func fixtureRef(t *testing.T) string {
	wasm, err := os.ReadFile(convertFixture(t, fixtures.ImageBusybox))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := pack.Extract(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		if b.Name == container.ConfigBlob {
			cfg, err := container.Parse(b.Data)
			if err != nil {
				t.Fatal(err)
			}
			return cfg.Image
		}
	}
	t.Fatal("no config blob")
	return ""
}

func TestConvertBusyboxNode(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	host := t.TempDir()
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  result
	}{
		{name: "exit status", args: []string{"sh", "-c", "echo out; exit 3"}, want: result{stdout: "out\n", code: 3}},
		{name: "stdin pipe", stdin: "hi\n", args: []string{"cat"}, want: result{stdout: "hi\n"}},
		{name: "overrides", args: []string{"--env", "A=1", "--workdir", "/etc", "--entrypoint", "/bin/sh", "--", "-c", "echo $A $PWD"}, want: result{stdout: "1 /etc\n"}},
		{name: "mapped dir", args: []string{"sh", "-c", "echo written > /data/out"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nodeRun(t, module, tc.stdin, [][2]string{{host, "/data"}}, tc.args...); got != tc.want {
				t.Errorf("node: %v\nwant: %v", got, tc.want)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(host, "out")); err != nil || string(b) != "written\n" {
		t.Errorf("file the guest wrote to the mapped dir: %q, %v", b, err)
	}
}

func TestConvertBashAndPython(t *testing.T) {
	if testing.Short() {
		t.Skip("converts and runs the bash and python images")
	}
	t.Run("bash", func(t *testing.T) {
		module := convertFixture(t, fixtures.ImageBash)
		args := []string{"bash", "-c", `for i in 1 2 3; do echo $((i*i)); done | sort -r | tr '\n' ' '; ls /usr/bin | wc -l >/dev/null; echo; exit 42`}
		got := wazeroRun(t, module, "", nil, nil, args...)
		if want := (result{stdout: "9 4 1 \n", code: 42}); got != want {
			t.Errorf("wazero: %v, want %v", got, want)
		}
		if n := nativeRun(t, module, "", args...); n != got {
			t.Errorf("wasm and native emulators differ:\nwasm:   %v\nnative: %v", got, n)
		}
	})
	t.Run("python", func(t *testing.T) {
		// python-tests: the full standard library, one conversion shared
		// with the other python tests of this package.
		module := convertFixture(t, fixtures.ImagePythonTests)
		// Its image is large enough for run to read it from the module
		// file: the conversion precompiled the module without it, and
		// the guest does not see the directory the image comes through.
		wasm, err := os.ReadFile(module)
		if err != nil {
			t.Fatal(err)
		}
		detached, image, err := pack.Detach(wasm, container.RootfsBlob)
		if err != nil || len(image) < detachRootfsFrom {
			t.Fatalf("python's image: %d bytes (%v), want at least %d", len(image), err, detachRootfsFrom)
		}
		if _, err := os.Stat(filepath.Join(compilationCacheDir(), wasi.CacheKey(detached))); err != nil {
			t.Errorf("the conversion did not precompile what run compiles: %v", err)
		}
		args := []string{"-c", "import sys, os; print(sum(range(10)), os.getcwd(), os.environ['LANG'], os.path.exists('" + rootfsGuestDir + "')); sys.exit(5)"}
		// The image's cmd is python3; arguments replace it.
		got := wazeroRun(t, module, "", nil, nil, append([]string{"python3"}, args...)...)
		if want := (result{stdout: "45 / C.UTF-8 False\n", code: 5}); got != want {
			t.Errorf("wazero: %v, want %v", got, want)
		}
		if n := nodeRun(t, module, "hello\n", nil, "python3", "-c", "print(input().upper())"); n != (result{stdout: "HELLO\n"}) {
			t.Errorf("node: %v", n)
		}
	})
}

// TestTranslatedPython converts the python image with the code that a
// training command runs translated to WebAssembly, and runs a different
// program in it and in the untranslated module: the outputs must match.
func TestTranslatedPython(t *testing.T) {
	if testing.Short() {
		t.Skip("converts the python image twice and compiles its translated code")
	}
	module := convertFixture(t, fixtures.ImagePythonTests)
	translated := filepath.Join(sharedDir(t), "python-translated.wasm")
	mustRun(t, "--quiet", "--precompile=false", "--train", `python3 -c "import json; print(sum(x*x for x in range(20000)), json.dumps({'a': [1.5, None]}))"`,
		layoutRef(t, fixtures.ImagePythonTests), translated)
	wasmValidate(t, translated)
	program := `
import hashlib, json, re, sys
d = {str(i): i * 3.25 for i in range(3000)}
s = sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
h = hashlib.sha256(json.dumps(s).encode()).hexdigest()
words = re.findall(r"[a-z]+", "the quick brown fox jumps over the lazy dog " * 50)
print(s, h, len(words), sum(len(w) for w in words), 2**100 // 7, -7 // 2, 1e300 * 10)
try:
    [][1]
except IndexError as e:
    print("caught", e)
sys.exit(7)
`
	want := wazeroRun(t, module, "", nil, nil, "python3", "-c", program)
	if want.code != 7 || !strings.Contains(want.stdout, "caught list index out of range") {
		t.Fatalf("untranslated: %v", want)
	}
	if got := wazeroRun(t, translated, "", nil, nil, "python3", "-c", program); got != want {
		t.Errorf("translated: %v\nuntranslated: %v", got, want)
	}
}

// TestTranslatedBashAndCoreutils converts the bash image with the code a
// training script runs translated (bash, coreutils and glibc pages), and
// runs other scripts in it and in the untranslated module: stdout, stderr
// and exit status must match.
func TestTranslatedBashAndCoreutils(t *testing.T) {
	testTranslatedBash(t, fixtures.ImageBash, nil)
}

// TestTranslatedBashAMD64 is TestTranslatedBashAndCoreutils on the x86-64
// image: Debian's amd64 bash, coreutils and glibc, their trained pages
// translated by the x86-64 translator; five of the scripts (recursion,
// associative arrays, pipelines through sort, uniq and the hash commands,
// traps and exit statuses), since the x86-64 interpreter is the slower
// one.
func TestTranslatedBashAMD64(t *testing.T) {
	testTranslatedBash(t, fixtures.ImageBashAMD64, []int{0, 1, 3, 4, 6})
}

// testTranslatedBash runs the scripts numbered in pick (nil: all of them).
func testTranslatedBash(t *testing.T, fixture string, pick []int) {
	if testing.Short() {
		t.Skip("converts the bash image twice and compiles its translated code")
	}
	module := convertFixture(t, fixture)
	translated := filepath.Join(sharedDir(t), fixture+"-translated.wasm")
	mustRun(t, "--quiet", "--precompile=false",
		"--train", `bash -c 'for i in $(seq 1 300); do echo $((i * i % 97)) line-$i; done | sort -n | uniq -c | sha256sum; ls -l /usr/bin | wc -l'`,
		"--train", `bash -c 'x=; for i in {1..200}; do x+=$i; done; echo ${#x} ${x:5:10}; printf "%s\n" a b c | tr a-z A-Z | cut -c1 | head -2'`,
		layoutRef(t, fixture), translated)
	wasmValidate(t, translated)
	scripts := []string{
		`fib() { if (($1 < 2)); then echo $1; else echo $(($(fib $(($1 - 1))) + $(fib $(($1 - 2))))); fi; }; fib 12`,
		`declare -A m; for w in the quick brown fox jumps over the lazy dog the end; do m[$w]=$((${m[$w]:-0} + 1)); done; for k in "${!m[@]}"; do echo "$k ${m[$k]}"; done | sort`,
		`seq 1 2000 | awk 'BEGIN{}' 2>/dev/null; seq 1 2000 | sort -r | head -3; seq 5 -1 1 | tr '
' ,; echo`,
		`printf '%s
' banana apple cherry apple | sort | uniq -c | sort -k1,1nr -k2 | md5sum`,
		`s=$(head -c 3000 /usr/bin/bash | sha256sum | cut -d' ' -f1); echo ${s:0:16}; wc -c < /usr/bin/bash`,
		`ls -ln /etc | tail -n +2 | sort -k9 | head -5; stat -c '%n %s %a' /etc/hostname /usr/bin/ls 2>&1`,
		`cat /no/such/file; echo "status $?"; trap 'echo trapped' EXIT; (exit 4); echo sub $?; exit 9`,
		"while read -r a b; do echo \"$b-$a\"; done <<EOF\none two\nthree four\nEOF",
		`date -d @0 -u +%Y-%m-%dT%H:%M:%S; expr 7 \* 6; echo $((2**62 / 3)) $((-7 / 2)) $((-7 % 3))`,
	}
	if pick != nil {
		var some []string
		for _, i := range pick {
			some = append(some, scripts[i])
		}
		scripts = some
	}
	for _, script := range scripts {
		want := wazeroRun(t, module, "", nil, nil, "bash", "-c", script)
		if strings.HasPrefix(script, "fib") && want.stdout != "144\n" {
			t.Fatalf("untranslated fib 12: %v", want)
		}
		if strings.Contains(want.stderr, "command not found") {
			t.Fatalf("bash -c %q: the image lacks a command: %v", script, want)
		}
		if got := wazeroRun(t, translated, "", nil, nil, "bash", "-c", script); got != want {
			t.Errorf("bash -c %q:\n translated:   %v\n untranslated: %v", script, got, want)
		}
	}
}

func TestConvertRefusesOtherPlatforms(t *testing.T) {
	// A well-formed linux/arm64 image: the emulator has no CPU for it.
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", "arm64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lp, err := layout.Write(filepath.Join(dir, "arm64"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"})); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "arm64.wasm")
	code, _, errOut := run(t, "--platform", "linux/arm64", "oci-layout:"+string(lp)+":latest", out)
	if code != 1 || !strings.Contains(errOut, "is for linux/arm64") || !strings.Contains(errOut, "linux/amd64 linux/riscv64") || !strings.Contains(errOut, "--platform") {
		t.Errorf("exit %d, stderr %q; want a refusal naming linux/arm64, the emulated platforms and the --platform hint", code, errOut)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("refused conversion left %s behind (%v)", out, err)
	}
}

func TestConvertUsage(t *testing.T) {
	code, _, errOut := run(t, layoutRef(t, fixtures.ImageBusybox))
	if code != 2 || !strings.Contains(errOut, "IMAGE and OUT.wasm") {
		t.Errorf("one argument: exit %d, %q", code, errOut)
	}
}

// A damaged module must be refused by the host's validation, not run.
func TestCorruptModuleRefused(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	wasm, err := os.ReadFile(module)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.wasm")
	corrupt := filepath.Join(dir, "corrupt.wasm")
	bad := bytes.Clone(wasm)
	bad[8] = 0x7f // the first section id: no such section
	for path, b := range map[string][]byte{truncated: wasm[:len(wasm)/2], corrupt: bad} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := run(t, "run", "--no-cache", path, "true")
		if code != 1 || out != "" || !strings.Contains(errOut, "c2w: module "+filepath.Base(path)+": ") {
			t.Errorf("c2w run %s: exit %d, stdout %q, stderr %q", path, code, out, errOut)
		}
		n := nodeRun(t, path, "", nil, "true")
		if n.code != 70 || n.stdout != "" || !strings.Contains(n.stderr, "WebAssembly.compile()") {
			t.Errorf("node %s: %v", path, n)
		}
	}
}

func TestConvertPrecompiles(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cacheDir := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "c2w", "wazero")
	out := filepath.Join(t.TempDir(), "bb.wasm")
	mustRun(t, "--quiet", "--precompile=false", layoutRef(t, fixtures.ImageBusybox), out)
	if entries, _ := os.ReadDir(cacheDir); len(entries) != 0 {
		t.Fatalf("--precompile=false compiled: %v", entries)
	}
	// Converting with --push also publishes what it wrote.
	published := "oci-layout:" + filepath.Join(t.TempDir(), "layout") + ":bb"
	// And with --to-browser it writes a site around it.
	site := filepath.Join(t.TempDir(), "site")
	_, _, errOut := run(t, layoutRef(t, fixtures.ImageBusybox), out, "--push", published, "--push-format", "image", "--to-browser", site)
	if !strings.Contains(errOut, "compiled for c2w run in") || !strings.Contains(errOut, "pushed as sha256:") || !strings.Contains(errOut, "c2w serve "+site) {
		t.Errorf("conversion does not say it compiled, pushed and wrote the site: %q", errOut)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The site holds the module written, its rootfs as a file beside it.
	detached, fsImage, err := pack.Detach(wasm, container.RootfsBlob)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(site, "module.wasm")); !bytes.Equal(b, detached) {
		t.Errorf("the site's module is not the one written")
	}
	if b, _ := os.ReadFile(filepath.Join(site, "rootfs.img")); !bytes.Equal(b, fsImage) {
		t.Errorf("the site's rootfs.img is not the written module's rootfs")
	}
	pulled := filepath.Join(t.TempDir(), "pulled.wasm")
	if code, _, errOut := run(t, "pull", published, pulled); code != 0 {
		t.Errorf("pull %s: %s", published, errOut)
	} else if b, _ := os.ReadFile(pulled); !bytes.Equal(b, wasm) {
		t.Errorf("the module pushed while converting is not the one written")
	}
	entry := filepath.Join(cacheDir, wasi.CacheKey(wasm))
	before, err := os.ReadDir(entry)
	if err != nil || len(before) == 0 {
		t.Fatalf("no cache entry %s for the written module: %v", entry, err)
	}
	// The first run finds the code: it adds nothing to the cache.
	if code, stdout, _ := run(t, "run", out, "echo", "first"); code != 0 || stdout != "first\n" {
		t.Fatalf("run: %d %q", code, stdout)
	}
	if files := cacheFiles(t, entry); len(files) != 1 {
		t.Errorf("the first run compiled again: %v", files)
	}
}

// cacheFiles lists the regular files under dir.
func cacheFiles(t *testing.T, dir string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunCommand(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	host := t.TempDir()
	code, out, errOut := run(t, "run", "-v", host+":/v", module, "--workdir", "/v", "sh", "-c", "echo hi > f; pwd; exit 9")
	if code != 9 || out != "/v\n" || errOut != "" {
		t.Errorf("c2w run: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(b) != "hi\n" {
		t.Errorf("c2w run -v: %q, %v", b, err)
	}
	if entries, err := os.ReadDir(compilationCacheDir()); err != nil || len(entries) == 0 {
		t.Errorf("compilation cache not written: %v", err)
	}
	// An image is converted in memory first.
	code, out, errOut = run(t, "run", "--quiet", layoutRef(t, fixtures.ImageBusybox), "echo", "converted")
	if code != 0 || out != "converted\n" {
		t.Errorf("c2w run IMAGE: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = run(t, "run", "-v", "nocolon", module)
	if code != 2 || !strings.Contains(errOut, "HOST:GUEST") {
		t.Errorf("bad -v: exit %d, %q", code, errOut)
	}
}

// TestStorageFlags converts busybox with each --compression and with
// --raw-executables and checks how the packed rootfs stores the busybox
// program, that the module sizes order as the codecs promise, and that
// each image runs. The variants differ only in their rootfs: detached from
// it they are one module, compiled once (each module of its own would
// cost a cold compile of the emulator; the embedded default runs in every
// other test).
func TestStorageFlags(t *testing.T) {
	sizes := map[string]int{}
	dir := t.TempDir()
	var emulator []byte
	detachedPath := filepath.Join(dir, "detached.wasm")
	for i, c := range []struct {
		flags   []string
		raw     bool
		feature uint32
	}{
		{nil, false, rootfs.FeatureLZ4}, // the default: lz4
		{[]string{"--compression", "deflate"}, false, 0},
		{[]string{"--compression", "none"}, true, 0},
		{[]string{"--raw-executables"}, true, rootfs.FeatureLZ4},
	} {
		out := filepath.Join(t.TempDir(), "bb.wasm")
		mustRun(t, append(append([]string{"--quiet", "--precompile=false"}, c.flags...), layoutRef(t, fixtures.ImageBusybox), out)...)
		module, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sizes[strings.Join(c.flags, " ")] = len(module)
		detached, fsImage, err := pack.Detach(module, container.RootfsBlob)
		if err != nil {
			t.Fatal(err)
		}
		if emulator == nil {
			emulator = detached
			if err := os.WriteFile(detachedPath, detached, 0o644); err != nil {
				t.Fatal(err)
			}
		} else if !bytes.Equal(detached, emulator) {
			t.Errorf("%v: the module without its rootfs differs from the default's", c.flags)
		}
		im, err := rootfs.Open(fsImage)
		if err != nil {
			t.Fatal(err)
		}
		ino, err := im.LookupPath("/usr/bin/busybox")
		if err != nil {
			t.Fatal(err)
		}
		if _, isRaw := im.RawData(ino, 0); isRaw != c.raw {
			t.Errorf("%v: busybox stored raw = %v", c.flags, isRaw)
		}
		if f := im.Features(); f != c.feature {
			t.Errorf("%v: image features %#x, want %#x", c.flags, f, c.feature)
		}
		// And it runs.
		imgDir := filepath.Join(dir, fmt.Sprint(i))
		if err := os.Mkdir(imgDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(imgDir, "rootfs.img"), fsImage, 0o644); err != nil {
			t.Fatal(err)
		}
		if code, stdout, stderr := run(t, "run", "-v", imgDir+":/image", detachedPath, "--rootfs-file", "/image/rootfs.img", "sh", "-c", "echo ok; busybox true && test ! -e /image && echo unmounted"); code != 0 || stdout != "ok\nunmounted\n" {
			t.Errorf("%v: run: %d %q %q", c.flags, code, stdout, stderr)
		}
	}
	if !(sizes["--compression deflate"] < sizes[""] && sizes[""] < sizes["--compression none"]) {
		t.Errorf("module sizes %v: want deflate < lz4 < none", sizes)
	}
	if code, _, errOut := run(t, "--compression", "zip", layoutRef(t, fixtures.ImageBusybox), filepath.Join(t.TempDir(), "x.wasm")); code != 2 || !strings.Contains(errOut, `--compression "zip": use lz4, deflate or none`) {
		t.Errorf("bad --compression: exit %d, %q", code, errOut)
	}
}

// TestConvertAMD64 converts x86-64 images — one named directly (taken
// whatever its platform, since no --platform is given), one chosen from
// the busybox index with --platform — and runs them under wazero, Node
// and the natively compiled emulator.
func TestConvertAMD64(t *testing.T) {
	python := convertFixture(t, fixtures.ImagePythonAMD64)
	busybox := filepath.Join(sharedDir(t), "busybox-amd64.wasm")
	mustRun(t, "--quiet", "--platform", "linux/amd64", layoutRef(t, fixtures.ImageBusybox), busybox)
	wasmValidate(t, busybox)
	if help := wazeroRun(t, busybox, "", nil, nil, "--help"); !strings.Contains(help.stderr+help.stdout, "(linux/amd64)") {
		t.Errorf("the module's --help does not name linux/amd64: %v", help)
	}
	cases := []struct {
		module string
		args   []string
		want   string
	}{
		{busybox, []string{"sh", "-c", "uname -m; echo $((6*7)); ls /bin | grep -c ."}, ""},
		{python, []string{"python3", "-c", "import platform, sys; print(platform.machine(), sys.version_info[:2], sum(i*i for i in range(1000)), 2**0.5)"}, "x86_64 (3, 11) 332833500 1.4142135623730951\n"},
	}
	for _, tc := range cases {
		native := nativeRun(t, tc.module, "", tc.args...)
		if native.code != 0 || tc.want != "" && native.stdout != tc.want {
			t.Errorf("native emulator %q: %v, want stdout %q", tc.args, native, tc.want)
		}
		if !strings.HasPrefix(native.stdout, "x86_64") {
			t.Errorf("%q: the guest is not x86-64: %v", tc.args, native)
		}
		if got := wazeroRun(t, tc.module, "", nil, nil, tc.args...); got != native {
			t.Errorf("wazero %q:\n got  %v\n want %v", tc.args, got, native)
		}
	}
	if got, want := nodeRun(t, busybox, "", nil, "uname", "-m"), (result{stdout: "x86_64\n"}); got != want {
		t.Errorf("node: %v, want %v", got, want)
	}
}
