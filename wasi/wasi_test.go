package wasi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/internal/syncbuf"
	"github.com/wasmrt/wasmrt/internal/wasmtest"
	"github.com/wasmrt/wasmrt/wasi"
)

// cacheDir is shared by the tests of this package, so the probe compiles
// once.
var cacheDir string

func TestMain(m *testing.M) {
	if os.Getenv("WASI_TEST_HELPER") != "" {
		os.Exit(helperMain())
	}
	dir, err := os.MkdirTemp("", "wasi-test-cache")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newHost(t *testing.T, opts wasi.Options) *wasi.Host {
	t.Helper()
	if opts.Cache == nil {
		c, err := wasi.OpenCache(cacheDir, 0)
		if err != nil {
			t.Fatal(err)
		}
		opts.Cache = c
	}
	return wasi.New(opts)
}

func compile(t *testing.T, h *wasi.Host, name string, wasm []byte) *wasi.Module {
	t.Helper()
	m, err := h.Compile(context.Background(), name, wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, m *wasi.Module, p wasi.Process) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	p.Stdout, p.Stderr = &stdout, &stderr
	code, err := m.Run(context.Background(), p)
	if err != nil {
		t.Fatalf("run %v: %v", p.Args, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func probe(t *testing.T, opts wasi.Options) *wasi.Module {
	t.Helper()
	return compile(t, newHost(t, opts), "wasmprobe.wasm", readFile(t, wasmtest.Probe(t)))
}

func TestProcessReachesTheModule(t *testing.T) {
	m := probe(t, wasi.Options{})
	if m.Converted {
		t.Error("the probe is reported as a converted module")
	}
	if r := run(t, m, wasi.Process{Args: []string{"probe", "args", "a b", "", "-x"}}); r.code != 0 || r.stdout != "a b\n\n-x\n" {
		t.Errorf("args: %+v", r)
	}
	env := []string{"A=1", "B=two=2", "=ignored", "NOEQUALS", "EMPTY="}
	r := run(t, m, wasi.Process{Args: []string{"probe", "environ"}, Env: env, Dir: "/work"})
	if want := "A=1\nB=two=2\nEMPTY=\nPWD=/work\n"; r.stdout != want {
		t.Errorf("environ = %q, want %q", r.stdout, want)
	}
	// An explicit PWD wins over Dir.
	r = run(t, m, wasi.Process{Args: []string{"probe", "env", "PWD"}, Env: []string{"PWD=/mine"}, Dir: "/work"})
	if r.stdout != "PWD=/mine\n" {
		t.Errorf("PWD = %q", r.stdout)
	}
	for _, n := range []string{"0", "3", "255"} {
		if r := run(t, m, wasi.Process{Args: []string{"probe", "exit", n}}); r.code != atoi(n) {
			t.Errorf("exit %s: status %d", n, r.code)
		}
	}
	r = run(t, m, wasi.Process{Args: []string{"probe", "stdin"}, Stdin: strings.NewReader("piped\ninput")})
	if r.stdout != "piped\ninput" {
		t.Errorf("stdin copied as %q", r.stdout)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestPreopens(t *testing.T) {
	m := probe(t, wasi.Options{})
	rw, ro := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(ro, "in.txt"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	pre := []wasi.Preopen{{Host: rw, Guest: "/data"}, {Host: ro, Guest: "/etc/conf", ReadOnly: true}}
	if r := run(t, m, wasi.Process{Args: []string{"probe", "cat", "/etc/conf/in.txt"}, Preopens: pre}); r.stdout != "from the host" {
		t.Errorf("cat: %+v", r)
	}
	if r := run(t, m, wasi.Process{Args: []string{"probe", "write", "/data/out.txt", "from the module"}, Preopens: pre}); r.code != 0 {
		t.Fatalf("write: %+v", r)
	}
	if got := readFile(t, filepath.Join(rw, "out.txt")); string(got) != "from the module" {
		t.Errorf("host sees %q", got)
	}
	r := run(t, m, wasi.Process{Args: []string{"probe", "write", "/etc/conf/x", "no"}, Preopens: pre})
	if r.code == 0 {
		t.Error("writing into a read-only preopen succeeded")
	}
	if _, err := os.Stat(filepath.Join(ro, "x")); err == nil {
		t.Error("the read-only host directory was written")
	}
	// Paths outside every preopen do not exist for the module, and ".."
	// does not climb out of one.
	for _, p := range []string{"/etc/passwd", "/data/../../etc/passwd", "/data/../etc/conf/in.txt/.."} {
		if r := run(t, m, wasi.Process{Args: []string{"probe", "cat", p}, Preopens: pre}); r.code == 0 {
			t.Errorf("cat %s succeeded: %q", p, r.stdout)
		}
	}
}

const trapWat = `(module
  (memory (export "memory") 1)
  (func (export "_start") unreachable)
  (func (export "answer") (result i32) i32.const 42)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))`

func TestTrapExitsLikeSIGABRT(t *testing.T) {
	m := compile(t, newHost(t, wasi.Options{}), "trap.wasm", wasmtest.Wat(t, trapWat))
	r := run(t, m, wasi.Process{Args: []string{"trap"}})
	if wasi.ExitTrap != 134 || r.code != wasi.ExitTrap {
		t.Errorf("status %d, want 134", r.code)
	}
	if !strings.Contains(r.stderr, "trap.wasm trapped in _start") || !strings.Contains(r.stderr, "unreachable") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q should name the module, the function and the trap on one line", r.stderr)
	}
	// An export returning a value can be run; its result is not a status.
	if r := run(t, m, wasi.Process{Args: []string{"trap"}, Entry: "answer"}); r.code != 0 {
		t.Errorf("answer: %+v", r)
	}
	_, err := m.Run(context.Background(), wasi.Process{Entry: "add"})
	if err == nil || !strings.Contains(err.Error(), `"add" takes 2 parameters`) {
		t.Errorf("entry with parameters: %v", err)
	}
	_, err = m.Run(context.Background(), wasi.Process{Entry: "nope"})
	if err == nil || !strings.Contains(err.Error(), `exports no function "nope" (it exports: _start, add, answer)`) {
		t.Errorf("unknown entry: %v", err)
	}
}

func TestReactor(t *testing.T) {
	m := compile(t, newHost(t, wasi.Options{}), "reactor.wasm", readFile(t, wasmtest.Reactor(t)))
	_, err := m.Run(context.Background(), wasi.Process{Args: []string{"reactor"}})
	if err == nil || !strings.Contains(err.Error(), "exports no _start function") || !strings.Contains(err.Error(), "reactor.wasm#FUNCTION") {
		t.Errorf("reactor without an entry: %v", err)
	}
	// _initialize runs the Go runtime's set-up first; without it the
	// export would crash.
	if r := run(t, m, wasi.Process{Args: []string{"reactor"}, Entry: "probe_hello"}); r.code != 0 || r.stdout != "hello from probe_hello\n" {
		t.Errorf("probe_hello: %+v", r)
	}
}

func TestBadModules(t *testing.T) {
	h := newHost(t, wasi.Options{})
	ctx := context.Background()
	probeBytes := readFile(t, wasmtest.Probe(t))
	cases := []struct {
		name string
		wasm []byte
		want []string
	}{
		{"elf", []byte("\x7fELF\x02\x01\x01"), []string{"elf: not a WebAssembly binary module"}},
		{"empty", nil, []string{"empty: not a WebAssembly binary module"}},
		{"text", []byte("  (module (func))"), []string{"text: WebAssembly text format (.wat) is not supported", "wat2wasm"}},
		{"version", []byte("\x00asm\x0d\x00\x01\x00"), []string{"version: binary format version 65549"}},
		{"truncated", probeBytes[:len(probeBytes)/2], []string{"truncated: section", "runs past the end"}},
		{"needs-host", wasmtest.Wat(t, `(module
			(import "env" "host_log" (func (param i32)))
			(import "wasi_snapshot_preview1" "no_such_call" (func))
			(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
			(func (export "_start")))`),
			[]string{"module needs-host imports what this host does not provide: env.host_log, wasi_snapshot_preview1.no_such_call (only WASI preview 1"}},
		{"invalid", wasmtest.Wat(t, `(module (func (export "_start") (result i32) i32.const 1))`)[:8:8], nil},
	}
	for _, c := range cases {
		m, err := h.Compile(ctx, c.name, c.wasm)
		if c.want == nil {
			// A header alone is a valid empty module: no _start.
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if _, err := m.Entry(""); err == nil {
				t.Errorf("%s: an empty module has an entry", c.name)
			}
			m.Close(ctx)
			continue
		}
		if err == nil {
			m.Close(ctx)
			t.Errorf("%s: compiled", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
	if _, err := h.Compile(ctx, "x", []byte("\x7fELF")); !errors.Is(err, wasi.ErrNotWasm) {
		t.Errorf("ELF: %v is not ErrNotWasm", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	const limit = 64 << 20
	m := probe(t, wasi.Options{MemoryLimit: limit + 1000, MemoryLimitSource: "linux.resources.memory.limit"})
	r := run(t, m, wasi.Process{Args: []string{"probe", "alloc", "32"}})
	if r.code != 0 || !strings.Contains(r.stdout, "done 32 MiB") {
		t.Fatalf("32 MiB under a 64 MiB cap: %+v", r)
	}
	r = run(t, m, wasi.Process{Args: []string{"probe", "alloc", "256"}})
	if r.code == 0 || strings.Contains(r.stdout, "done") {
		t.Fatalf("256 MiB under a 64 MiB cap: %+v", r)
	}
	want := "wasm: module wasmprobe.wasm reached its linear memory limit of 64 MiB (linux.resources.memory.limit): growing to"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q lacks %q", r.stderr, want)
	}
	// A cap below the module's initial memory fails before running.
	_, err := newHost(t, wasi.Options{MemoryLimit: 1 << 20}).Compile(context.Background(), "wasmprobe.wasm", readFile(t, wasmtest.Probe(t)))
	if err == nil || !strings.Contains(err.Error(), "more than its limit of 1 MiB") {
		t.Errorf("cap below the initial memory: %v", err)
	}
}

func TestCModule(t *testing.T) {
	path := wasmtest.C(t, `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
	FILE *f = fopen("/data/c.txt", "w");
	if (!f) { perror("fopen"); return 1; }
	fprintf(f, "%s:%s", argv[1], getenv("GREETING"));
	fclose(f);
	return 7;
}`)
	m := compile(t, newHost(t, wasi.Options{}), "c.wasm", readFile(t, path))
	dir := t.TempDir()
	r := run(t, m, wasi.Process{Args: []string{"c", "arg1"}, Env: []string{"GREETING=hi"}, Preopens: []wasi.Preopen{{Host: dir, Guest: "/data"}}})
	if r.code != 7 {
		t.Errorf("status %d, stderr %q", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "c.txt")); string(got) != "arg1:hi" {
		t.Errorf("file %q", got)
	}
}

func TestCacheCompilesOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := wasi.OpenCache(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("cache directory mode: %v %v", st.Mode(), err)
	}
	wasm := readFile(t, wasmtest.Probe(t))
	h := wasi.New(wasi.Options{Cache: c})
	// Hosts compiling the same module at once each leave a whole entry.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := h.Compile(context.Background(), "probe", wasm)
			if err == nil {
				m.Close(context.Background())
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, dir)
	if len(before) != 1 || strings.HasSuffix(before[0], ".tmp") {
		t.Fatalf("cache after concurrent compiles: %v", before)
	}
	entries, err := c.Entries()
	if err != nil || len(entries) != 1 || entries[0].Size < int64(len(wasm)) {
		t.Fatalf("entries %+v, %v", entries, err)
	}
	// A second compile reads the entry: nothing is written.
	m := compile(t, h, "probe", wasm)
	if after := snapshot(t, dir); !slices.Equal(before, after) {
		t.Errorf("second compile rewrote the cache: %v → %v", before, after)
	}
	if r := run(t, m, wasi.Process{Args: []string{"probe", "args", "cached"}}); r.stdout != "cached\n" {
		t.Errorf("module from the cache: %+v", r)
	}
}

// snapshot lists the cache's files with their sizes and modification
// times.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %d %s", rel, info.Size(), info.ModTime()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCacheTrimsLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	wasm := readFile(t, wasmtest.Probe(t))
	small := wasmtest.Wat(t, trapWat)
	c, err := wasi.OpenCache(dir, 1) // everything is over this bound
	if err != nil {
		t.Fatal(err)
	}
	h := wasi.New(wasi.Options{Cache: c})
	compile(t, h, "probe", wasm)
	compile(t, h, "trap", small)
	entries, err := c.Entries()
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %+v, %v", entries, err)
	}
	// Entries used within the last minute survive, however full.
	if n, err := c.Trim(); n != 0 || err != nil {
		t.Fatalf("trim of fresh entries removed %d, %v", n, err)
	}
	// Age both; the probe is older. A bound that fits one keeps the
	// most recently used.
	old, older := time.Now().Add(-time.Hour), time.Now().Add(-2*time.Hour)
	byKey := map[string]time.Time{}
	for _, e := range entries {
		byKey[e.Key] = old
		if e.Size >= int64(len(wasm)) {
			byKey[e.Key] = older
		}
	}
	for d, tm := range byKey {
		if err := os.Chtimes(filepath.Join(dir, d), tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	var smallSize int64
	for _, e := range entries {
		if e.Size < int64(len(wasm)) {
			smallSize = e.Size
		}
	}
	c2, err := wasi.OpenCache(dir, smallSize)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c2.Trim(); n != 1 || err != nil {
		t.Fatalf("trim removed %d, %v", n, err)
	}
	left, _ := c2.Entries()
	if len(left) != 1 || left[0].Size != smallSize {
		t.Errorf("left %+v, want the small, more recent entry", left)
	}
}

func TestConvertedArgs(t *testing.T) {
	got := wasi.Converted{
		Env: []string{"A=1", "PATH=/bin"}, Workdir: "/srv", Hostname: "box", User: "1000:1000",
		GuestMemory: 64 << 20, Command: []string{"-c", "x"},
	}.Args("/app.wasm")
	want := []string{"/app.wasm", "--env", "A=1", "--env", "PATH=/bin", "--workdir", "/srv", "--hostname", "box",
		"--user", "1000:1000", "--memory", "67108864", "--", "-c", "x"}
	if !slices.Equal(got, want) {
		t.Errorf("args\n got %q\nwant %q", got, want)
	}
	if got := (wasi.Converted{}).Args("m"); !slices.Equal(got, []string{"m", "--"}) {
		t.Errorf("empty settings: %q", got)
	}
}

// helperMain is the child process of TestExitOnSignal: it runs a module
// that spins forever with ExitOnSignal watching.
func helperMain() int {
	wasm, err := os.ReadFile(os.Getenv("WASI_TEST_HELPER"))
	if err != nil {
		return 100
	}
	m, err := wasi.New(wasi.Options{}).Compile(context.Background(), "spin", wasm)
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 101
	}
	stop, err := wasi.ExitOnSignal(-1)
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 102
	}
	defer stop()
	// A goroutine that keeps collecting: once a collection waits to stop
	// the world for the spinning module, no goroutine runs any more.
	go func() {
		for {
			runtime.GC()
		}
	}()
	code, _ := m.Run(context.Background(), wasi.Process{Args: []string{"probe", "spin"}, Stdout: os.Stdout, Stderr: os.Stderr})
	return code
}

func TestExitOnSignal(t *testing.T) {
	probePath := wasmtest.Probe(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "WASI_TEST_HELPER="+probePath)
		var out syncbuf.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(out.String(), "spinning") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
			t.Errorf("%v: %v, want exit status %d", sig, err, 128+int(sig))
		}
		if out.String() != "spinning\n" {
			t.Errorf("%v: output %q", sig, out.String())
		}
	}
}

func TestCacheKey(t *testing.T) {
	a := wasmtest.Wat(t, `(module (memory 1) (data (i32.const 0) "image one") (func (export "_start")))`)
	b := wasmtest.Wat(t, `(module (memory 1) (data (i32.const 0) "image two") (func (export "_start")))`)
	c := wasmtest.Wat(t, `(module (memory 1) (data (i32.const 0) "image one") (func (export "_start") nop))`)
	if wasi.CacheKey(a) != wasi.CacheKey(bytes.Clone(a)) {
		t.Error("the same module has two keys")
	}
	if wasi.CacheKey(a) == wasi.CacheKey(b) {
		t.Error("modules with different data share a key")
	}
	if wasi.CacheKey(a) == wasi.CacheKey(c) {
		t.Error("modules with different code share a key")
	}
	// A module cut short still gets a key (compiling it will fail).
	if len(wasi.CacheKey(a[:len(a)-3])) != 64 {
		t.Error("no key for a truncated module")
	}
}
