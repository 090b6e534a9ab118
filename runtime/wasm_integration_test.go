package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/wasmtest"
	"github.com/wasmrt/wasmrt/runtime/executor"
	"github.com/wasmrt/wasmrt/runtime/internal/threads"
)

// These tests run WebAssembly containers through the real wasmrt binary:
// the wasmprobe program built for wasip1, C programs built with wasi-libc,
// and the busybox and python fixtures converted by c2w.

// wasmCache is the compilation cache the tests share, so each module
// compiles once per test run.
var (
	wasmCacheOnce sync.Once
	wasmCache     string
)

func sharedWasmCache(t *testing.T) string {
	wasmCacheOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wasmrt-test-cache")
		if err != nil {
			t.Fatal(err)
		}
		wasmCache = filepath.Join(dir, "cache")
	})
	return wasmCache
}

// newWasmEnv is newEnv with a module copied to /NAME in the root
// filesystem and the compilation cache in a test directory.
func newWasmEnv(t *testing.T, name, module string, args ...string) *env {
	t.Helper()
	e := newEnv(t)
	e.flags = []string{"--wasm-cache", sharedWasmCache(t)}
	e.addFile(name, readFile(t, module), 0o644)
	e.spec.Process.Args = append([]string{"/" + name}, args...)
	return e
}

func (e *env) addFile(name string, data []byte, mode os.FileMode) {
	e.t.Helper()
	p := filepath.Join(e.bundle, "rootfs", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		e.t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bindMount adds a read-write bind mount of a new host directory at dest
// and returns the host directory.
func (e *env) bindMount(dest string) string {
	e.t.Helper()
	dir := e.t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		e.t.Fatal(err)
	}
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{Destination: dest, Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
	return dir
}

func TestWasmRun(t *testing.T) {
	e := newWasmEnv(t, "probe.wasm", wasmtest.Probe(t), "environ")
	id := testID(t)
	e.spec.Process.Env = []string{"PATH=/bin", "GREETING=hello world"}
	e.spec.Process.Cwd = "/work"
	data := e.bindMount("/data")
	if err := os.WriteFile(filepath.Join(data, "in.txt"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(e.bundle, "rootfs", "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.writeSpec()
	out := e.mustRun("run", "--bundle", e.bundle, id)
	if want := "PATH=/bin\nGREETING=hello world\nPWD=/work\n"; out != want {
		t.Errorf("environ = %q, want %q", out, want)
	}
	for _, c := range []struct {
		args []string
		out  string
		code int
	}{
		{[]string{"args", "one", "two words"}, "one\ntwo words\n", 0},
		{[]string{"cat", "/data/in.txt"}, "from the host", 0},
		{[]string{"write", "/data/out.txt", "from the module"}, "", 0},
		{[]string{"ls", "/"}, "bin\ndata\ndev\netc\nprobe.wasm\nproc\nsys\ntmp\nwork\n", 0},
		{[]string{"exit", "7"}, "", 7},
		// Go's wasip1 runtime reports an uncaught error with status 2.
		{[]string{"nosuchcommand"}, "", 1},
	} {
		e.spec.Process.Args = append([]string{"/probe.wasm"}, c.args...)
		e.writeSpec()
		out, errs, code := e.run("run", "--bundle", e.bundle, id)
		if out != c.out || code != c.code {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d, stdout %q", c.args, code, out, errs, c.code, c.out)
		}
	}
	if got := readFile(t, filepath.Join(data, "out.txt")); string(got) != "from the module" {
		t.Errorf("the module wrote %q", got)
	}
}

func TestWasmLifecycleAndSignals(t *testing.T) {
	e := newWasmEnv(t, "probe.wasm", wasmtest.Probe(t), "spin")
	id := testID(t)
	e.writeSpec()
	e.mustRun("create", "--bundle", e.bundle, id)
	s := e.state(id)
	if s.Status != specs.StateCreated {
		t.Fatalf("after create: %s", s.Status)
	}
	e.mustRun("start", id)
	if st := e.state(id).Status; st != specs.StateRunning {
		t.Fatalf("after start: %s", st)
	}
	// Spinning without a system call, the module is still frozen by the
	// cgroup and thawed again.
	e.mustRun("pause", id)
	if st := e.state(id).Status; st != specs.ContainerState("paused") {
		t.Fatalf("after pause: %s", st)
	}
	e.mustRun("resume", id)
	if st := e.state(id).Status; st != specs.StateRunning {
		t.Fatalf("after resume: %s", st)
	}
	start := time.Now()
	e.mustRun("kill", id, "TERM")
	waitFor(t, "the spinning module to stop on SIGTERM", func() bool { return e.state(id).Status == specs.StateStopped })
	t.Logf("SIGTERM stopped a spinning module in %v", time.Since(start))
	e.mustRun("delete", id)
	e.assertNothingLeft(id, s.Pid, "")

	// kill works before start too.
	e.mustRun("create", "--bundle", e.bundle, id)
	e.mustRun("kill", id, "TERM")
	waitFor(t, "the created container to stop on SIGTERM", func() bool { return e.state(id).Status == specs.StateStopped })
	e.mustRun("delete", id)

	// In the foreground, run reports the status: 128+N for a stop signal.
	for _, sig := range []string{"TERM", "INT", "KILL"} {
		done := make(chan int, 1)
		go func() {
			_, _, code := e.run("run", "--bundle", e.bundle, id)
			done <- code
		}()
		waitFor(t, "the container to run", func() bool {
			out, _, code := e.run("state", id)
			return code == 0 && strings.Contains(out, `"running"`)
		})
		time.Sleep(100 * time.Millisecond) // past the module's start
		e.mustRun("kill", id, sig)
		want := map[string]int{"TERM": 143, "INT": 130, "KILL": 137}[sig]
		if code := <-done; code != want {
			t.Errorf("SIG%s: run exited %d, want %d", sig, code, want)
		}
	}
}

func TestWasmMemoryLimit(t *testing.T) {
	e := newWasmEnv(t, "probe.wasm", wasmtest.Probe(t), "alloc", "400")
	id := testID(t)
	limit := int64(128 << 20)
	e.spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	e.writeSpec()
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code == 0 || code == 137 || strings.Contains(out, "done") {
		t.Fatalf("allocating 400 MiB under a 128 MiB limit: exit %d (137 is the OOM killer), stdout %q, stderr %q", code, out, errs)
	}
	if !strings.Contains(errs, "reached its linear memory limit of") || !strings.Contains(errs, "linux.resources.memory.limit") {
		t.Errorf("stderr does not say why: %q", errs)
	}
	if !strings.Contains(out, "allocated 32 MiB") {
		t.Errorf("the module could not use memory within its limit: %q", out)
	}
	// Within the limit all is well.
	e.spec.Process.Args = []string{"/probe.wasm", "alloc", "48"}
	e.writeSpec()
	if out, errs, code := e.run("run", "--bundle", e.bundle, id); code != 0 || !strings.Contains(out, "done 48 MiB") {
		t.Errorf("48 MiB under 128 MiB: exit %d, %q, %q", code, out, errs)
	}
}

func TestWasmThreadsHoldNoMoreThanTheProgram(t *testing.T) {
	for _, user := range []specs.User{{UID: 0, GID: 0}, {UID: 1000, GID: 1000}} {
		e := newWasmEnv(t, "probe.wasm", wasmtest.Probe(t), "spin")
		id := testID(t)
		e.spec.Process.User = user
		e.writeSpec()
		e.mustRun("run", "-d", "--bundle", e.bundle, id)
		pid := e.state(id).Pid
		caps := e.spec.Process.Capabilities
		target := threads.Target{Bounding: mask(t, caps.Bounding), Permitted: mask(t, caps.Permitted), Effective: mask(t, caps.Effective), Inheritable: mask(t, caps.Inheritable)}
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil || len(tasks) < 3 {
			t.Fatalf("tasks of %d: %d, %v", pid, len(tasks), err)
		}
		for _, task := range tasks {
			st := readFile(t, fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
			s, err := threads.ParseStatus(0, st)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Within(target) {
				t.Errorf("user %d: thread %s holds %+v, more than the program's %+v", user.UID, task.Name(), s, target)
			}
			if !strings.Contains(string(st), fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d", user.UID, user.UID, user.UID, user.UID)) {
				t.Errorf("user %d: thread %s runs as another user", user.UID, task.Name())
			}
		}
		e.mustRun("delete", "--force", id)
	}
}

func mask(t *testing.T, names []string) uint64 {
	var m uint64
	for _, n := range names {
		c, ok := capabilityNumbers[n]
		if !ok {
			t.Fatalf("capability %s unknown to the test", n)
		}
		m |= 1 << c
	}
	return m
}

var capabilityNumbers = map[string]uint{"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_NET_BIND_SERVICE": 10, "CAP_AUDIT_WRITE": 29}

func TestWasmSelection(t *testing.T) {
	probe := readFile(t, wasmtest.Probe(t))
	e := newWasmEnv(t, "probe.wasm", wasmtest.Probe(t))
	id := testID(t)
	// By content: a module without the .wasm name, found through PATH,
	// need not be executable.
	e.addFile("bin/probe", probe, 0o644)
	cases := []struct {
		name        string
		annotations map[string]string
		args        []string
		out, err    string
	}{
		{"content, PATH", nil, []string{"probe", "args", "found"}, "found\n", ""},
		{"native", nil, []string{"echo", "native"}, "native\n", ""},
		{"handler wasm", map[string]string{executor.AnnotationHandler: "wasm"}, []string{"/probe.wasm", "args", "x"}, "x\n", ""},
		{"handler wasm on ELF", map[string]string{executor.AnnotationHandler: "wasm"}, []string{"/bin/busybox", "true"}, "", "not a WebAssembly binary module"},
		{"wasm-smart native", map[string]string{executor.AnnotationHandler: "wasm-smart"}, []string{"echo", "sidecar"}, "sidecar\n", ""},
		{"wasm-smart module", map[string]string{executor.AnnotationHandler: "wasm-smart"}, []string{"/probe.wasm", "args", "y"}, "y\n", ""},
		{"compat-smart native", map[string]string{executor.AnnotationVariant: "compat-smart"}, []string{"echo", "z"}, "z\n", ""},
		{"compat", map[string]string{executor.AnnotationVariant: "compat"}, []string{"/probe.wasm", "args", "w"}, "w\n", ""},
		{"unknown handler", map[string]string{executor.AnnotationHandler: "krun2"}, []string{"echo"}, "", `annotation run.oci.handler: unknown handler "krun2"`},
		{"preopens", map[string]string{executor.AnnotationPreopens: "/etc:ro"}, []string{"/probe.wasm", "ls", "/etc"}, "", ""},
		{"preopens hide the rest", map[string]string{executor.AnnotationPreopens: "/etc:ro"}, []string{"/probe.wasm", "ls", "/bin"}, "", "wasmprobe: open /bin"},
		{"preopens read-only", map[string]string{executor.AnnotationPreopens: "/tmp:ro"}, []string{"/probe.wasm", "write", "/tmp/x", "no"}, "", "wasmprobe: open /tmp/x"},
		{"preopens missing", map[string]string{executor.AnnotationPreopens: "/nope"}, []string{"/probe.wasm"}, "", "annotation run.wasmrt.preopens: /nope is not a directory in the container"},
	}
	for _, c := range cases {
		e.spec.Annotations = c.annotations
		e.spec.Process.Args = c.args
		e.writeSpec()
		out, errs, code := e.run("run", "--bundle", e.bundle, id)
		if out != c.out || (c.err == "") != (code == 0) || !strings.Contains(errs, c.err) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want stdout %q and error %q", c.name, code, out, errs, c.out, c.err)
		}
		_, _, _ = e.run("delete", "--force", id)
	}
}

func TestWasmBadModules(t *testing.T) {
	e := newWasmEnv(t, "probe.wasm", wasmtest.Probe(t))
	id := testID(t)
	e.addFile("corrupt.wasm", append([]byte("\x00asm\x01\x00\x00\x00"), []byte("\x01\xff\xff\xff\xff\x0fgarbage")...), 0o644)
	e.addFile("reactor.wasm", readFile(t, wasmtest.Reactor(t)), 0o644)
	e.addFile("imports.wasm", wasmtest.Wat(t, `(module (import "env" "host_log" (func)) (func (export "_start")))`), 0o644)
	cases := []struct {
		args []string
		out  string
		err  []string
	}{
		{[]string{"/corrupt.wasm"}, "", []string{"WebAssembly module /corrupt.wasm", "module /corrupt.wasm"}},
		{[]string{"/missing.wasm"}, "", []string{"/missing.wasm"}},
		{[]string{"/reactor.wasm"}, "", []string{"exports no _start function", "/reactor.wasm#FUNCTION"}},
		{[]string{"/reactor.wasm#probe_hello"}, "hello from probe_hello\n", nil},
		{[]string{"/reactor.wasm#nope"}, "", []string{`exports no function "nope"`, "probe_hello"}},
		{[]string{"/imports.wasm"}, "", []string{"imports what this host does not provide: env.host_log"}},
	}
	for _, c := range cases {
		e.spec.Annotations = map[string]string{executor.AnnotationHandler: "wasm"}
		e.spec.Process.Args = c.args
		e.writeSpec()
		out, errs, code := e.run("run", "--bundle", e.bundle, id)
		if out != c.out || (len(c.err) == 0) != (code == 0) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, out, errs)
		}
		for _, w := range c.err {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errs, w)
			}
		}
		// A failed create leaves nothing behind.
		e.assertNothingLeft(id, 0, "")
	}
}

func TestWasmCModule(t *testing.T) {
	mod := wasmtest.C(t, `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
	printf("%s %s\n", argv[1], getenv("WHO"));
	FILE *f = fopen("/data/c.txt", "w");
	if (!f) { perror("fopen"); return 1; }
	fputs("written by C", f);
	fclose(f);
	return 9;
}`)
	e := newWasmEnv(t, "c.wasm", mod, "hello")
	id := testID(t)
	e.spec.Process.Env = []string{"WHO=wasi-libc"}
	e.spec.Process.Cwd = "/tmp"
	data := e.bindMount("/data")
	e.writeSpec()
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 9 || out != "hello wasi-libc\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if got := readFile(t, filepath.Join(data, "c.txt")); string(got) != "written by C" {
		t.Errorf("file: %q", got)
	}
}

// cacheFiles lists the compilation cache's files with size and time.
func cacheFiles(t *testing.T, dir string) []string {
	var out []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			out = append(out, fmt.Sprintf("%s %d %s", p, info.Size(), info.ModTime()))
		}
		return nil
	})
	return out
}

func TestWasmExecAndCache(t *testing.T) {
	e := newWasmEnv(t, "probe.wasm", wasmtest.Probe(t), "sleep", "60")
	id := testID(t)
	// A cache of its own: the test counts its entries.
	cache := filepath.Join(t.TempDir(), "cache")
	e.flags = []string{"--wasm-cache", cache}
	e.addFile("c.wasm", readFile(t, wasmtest.C(t, `#include <stdio.h>
int main(int argc, char **argv) { printf("exec %s\n", argv[1]); return 4; }`)), 0o644)
	e.writeSpec()
	e.mustRun("run", "-d", "--bundle", e.bundle, id)
	first := cacheFiles(t, cache)
	if len(first) != 1 {
		t.Fatalf("after the first start the cache holds %v", first)
	}
	if st, err := os.Stat(cache); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v %v", st.Mode(), err)
	}
	// exec runs modules under the same limits: the same module again (no
	// compilation: the cache is unchanged), another one, and a native
	// program from the same root.
	if out, errs, code := e.run("exec", id, "/probe.wasm", "args", "again"); code != 0 || out != "again\n" {
		t.Fatalf("exec probe: %d %q %q", code, out, errs)
	}
	if after := cacheFiles(t, cache); !slices.Equal(first, after) {
		t.Errorf("exec of a cached module changed the cache: %v → %v", first, after)
	}
	if out, errs, code := e.run("exec", id, "/c.wasm", "two"); code != 4 || out != "exec two\n" {
		t.Errorf("exec c.wasm: %d %q %q", code, out, errs)
	}
	if n := len(cacheFiles(t, cache)); n != 2 {
		t.Errorf("cache holds %d modules after two, want 2", n)
	}
	if out, errs, code := e.run("exec", id, "echo", "native"); code != 0 || out != "native\n" {
		t.Errorf("exec of a native program: %d %q %q", code, out, errs)
	}
	e.mustRun("delete", "--force", id)
	// A second container of the same module compiles nothing either.
	before := cacheFiles(t, cache)
	e.spec.Process.Args = []string{"/probe.wasm", "args", "second"}
	e.writeSpec()
	if out := e.mustRun("run", "--bundle", e.bundle, id); out != "second\n" {
		t.Errorf("second run: %q", out)
	}
	if after := cacheFiles(t, cache); !slices.Equal(before, after) {
		t.Errorf("a second start compiled again: %v → %v", before, after)
	}
	// A cache that others could write is not used.
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 0 || out != "second\n" || !strings.Contains(errs, "cache not used") {
		t.Errorf("writable cache: %d %q %q", code, out, errs)
	}
}

func TestWasmPodSharesANetworkNamespace(t *testing.T) {
	native := newEnv(t)
	nid := testID(t) + "-native"
	native.spec.Process.Args = []string{"sleep", "60"}
	native.writeSpec()
	native.mustRun("run", "-d", "--bundle", native.bundle, nid)
	defer native.run("delete", "--force", nid)
	npid := native.state(nid).Pid

	e := newWasmEnv(t, "probe.wasm", wasmtest.Probe(t), "sleep", "60")
	id := testID(t)
	for i, ns := range e.spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			e.spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", npid)
		}
	}
	e.writeSpec()
	e.mustRun("run", "-d", "--bundle", e.bundle, id)
	wpid := e.state(id).Pid
	link := func(pid int, ns string) string {
		s, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if a, b := link(npid, "net"), link(wpid, "net"); a != b {
		t.Errorf("network namespaces differ: native %s, wasm %s", a, b)
	}
	if a, b := link(npid, "pid"), link(wpid, "pid"); a == b {
		t.Errorf("the containers share their PID namespace %s, only the network one was joined", a)
	}
	e.mustRun("delete", "--force", id)
}

func TestConvertedBusybox(t *testing.T) {
	e := newWasmEnv(t, "busybox.wasm", wasmtest.Converted(t, fixtures.ImageBusybox))
	id := testID(t)
	data := e.bindMount("/data")
	if err := os.WriteFile(filepath.Join(data, "in.txt"), []byte("host data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	limit := int64(512 << 20)
	e.spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	e.spec.Hostname = "converted"
	e.spec.Process.Env = append(e.spec.Process.Env, "FROM_SPEC=yes")
	e.spec.Process.Args = []string{"/busybox.wasm", "sh", "-c",
		`echo $(uname -m) $(hostname) $FROM_SPEC; cat /data/in.txt; echo from the guest > /data/out.txt; ` +
			`awk '/MemTotal/ {print ($2 > 100000 && $2 < 300000) ? "memory ok" : "memory " $2}' /proc/meminfo; id -u; exit 5`}
	e.writeSpec()
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if want := "x86_64 converted yes\nhost data\nmemory ok\n0\n"; code != 5 || out != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 5 and %q", code, out, errs, want)
	}
	if got := readFile(t, filepath.Join(data, "out.txt")); string(got) != "from the guest\n" {
		t.Errorf("guest wrote %q", got)
	}
	// The container's user becomes the guest's, and a working directory
	// other than / is the guest's too.
	e.spec.Process.User = specs.User{UID: 1000, GID: 1000}
	e.spec.Process.Cwd = "/data"
	e.spec.Process.Args = []string{"/busybox.wasm", "sh", "-c", "id -u; id -g; pwd; ls"}
	e.writeSpec()
	if out, errs, code := e.run("run", "--bundle", e.bundle, id); code != 0 || out != "1000\n1000\n/data\nin.txt\nout.txt\n" {
		t.Errorf("as user 1000: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// Stopped by a signal like any container.
	e.spec.Process.User = specs.User{}
	e.spec.Process.Args = []string{"/busybox.wasm", "sh", "-c", "while :; do :; done"}
	e.writeSpec()
	e.mustRun("run", "-d", "--bundle", e.bundle, id)
	time.Sleep(200 * time.Millisecond)
	e.mustRun("kill", id, "TERM")
	waitFor(t, "the converted container to stop", func() bool { return e.state(id).Status == specs.StateStopped })
	e.mustRun("delete", id)
}

// TestConvertedNetwork: a converted container's guest connects out from
// the container's network namespace: here one it shares with a native
// container serving on its loopback, which the guest reaches at its
// gateway, 10.0.2.2, as under c2w run --net.
func TestConvertedNetwork(t *testing.T) {
	native := newEnv(t)
	nid := testID(t) + "-native"
	native.spec.Process.Args = []string{"sh", "-c", "echo served-in-the-namespace > /dev/shm/page; while :; do busybox nc -l -p 8088 < /dev/shm/page; done"}
	// A cgroup of its own: the converted containers' end must not end it.
	native.spec.Linux.CgroupsPath += "-native"
	native.writeSpec()
	native.mustRun("run", "-d", "--bundle", native.bundle, nid)
	defer native.run("delete", "--force", nid)
	npid := native.state(nid).Pid

	e := newWasmEnv(t, "busybox.wasm", wasmtest.Converted(t, fixtures.ImageBusybox))
	id := testID(t)
	for i, ns := range e.spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			e.spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", npid)
		}
	}
	e.spec.Process.Args = []string{"/busybox.wasm", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do nc 10.0.2.2 8088 </dev/null && exit 0; sleep 0.5; done; exit 1"}
	e.writeSpec()
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 0 || out != "served-in-the-namespace\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// A server in the guest listens on the namespace's port: the native
	// container reaches it on its own loopback, as containers of a pod
	// reach each other.
	e.spec.Process.Args = []string{"/busybox.wasm", "sh", "-c", "echo served-by-the-guest | nc -l -p 8089"}
	e.writeSpec()
	e.mustRun("run", "-d", "--bundle", e.bundle, id)
	var got, errs2 string
	tries := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && got == ""; time.Sleep(200 * time.Millisecond) {
		got, errs2, _ = native.run("exec", nid, "busybox", "nc", "127.0.0.1", "8089")
		tries++
	}
	if got != "served-by-the-guest\n" {
		t.Errorf("native container read %q from the guest's server (%d tries, last stderr %q; the guest's server is %s)",
			got, tries, errs2, e.state(id).Status)
	}
	waitFor(t, "the converted server to stop", func() bool { return e.state(id).Status == specs.StateStopped })
	e.mustRun("delete", id)
}

func TestConvertedTerminal(t *testing.T) {
	e := newWasmEnv(t, "busybox.wasm", wasmtest.Converted(t, fixtures.ImageBusybox), "sh")
	id := testID(t)
	e.spec.Process.Terminal = true
	e.spec.Process.ConsoleSize = &specs.Box{Height: 30, Width: 100}
	e.writeSpec()
	master := e.createWithConsole(id)
	defer master.Close()
	e.mustRun("start", id)
	// Typed at the prompt (typed ahead, a line is echoed by the guest's
	// tty and again by the shell's line editor, as on Linux), the line
	// is echoed once: the pty outside passes keys through raw.
	readUntil(t, master, "/ # ", 60*time.Second)
	if _, err := master.Write([]byte("stty size; echo hi-$((6*7))\r")); err != nil {
		t.Fatal(err)
	}
	out := readUntil(t, master, "hi-42\r\n", 60*time.Second)
	if n := strings.Count(out, "echo hi-$((6*7))"); n != 1 {
		t.Errorf("the typed line appears %d times, want once: %q", n, out)
	}
	if !strings.Contains(out, "30 100") {
		t.Errorf("stty size does not show the console size 30x100: %q", out)
	}
	if _, err := master.Write([]byte("exit 3\r")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the shell to exit", func() bool { return e.state(id).Status == specs.StateStopped })
}

func TestConvertedPython(t *testing.T) {
	e := newWasmEnv(t, "python.wasm", wasmtest.Converted(t, fixtures.ImagePython))
	id := testID(t)
	e.spec.Process.Args = []string{"/python.wasm", "python3", "-c",
		"import json, os, sys; print(json.dumps({'v': sys.version_info[:2], 'x': os.environ.get('X')}))"}
	e.spec.Process.Env = append(e.spec.Process.Env, "X=42")
	e.writeSpec()
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 0 || out != `{"v": [3, 13], "x": "42"}`+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
