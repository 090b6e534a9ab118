package shim_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/internal/ctrtest"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/syncbuf"
	"github.com/wasmrt/wasmrt/internal/wasmtest"
	"github.com/wasmrt/wasmrt/shim"
)

// These tests run the shim under Debian's containerd, started privately,
// through ctr: native, WebAssembly and c2w-converted images.

const runtimeName = "io.containerd.wasmrt.v1"

// shimDir holds the shim binary built for this test run.
var shimDir string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() != 0 {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "shim-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, shim.Name), "github.com/wasmrt/wasmrt/cmd/containerd-shim-wasmrt-v1")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build the shim: %v\n%s", err, out)
			return 1
		}
		shimDir = dir
		return m.Run()
	}()
	os.Exit(code)
}

// images are imported once per containerd.
type images struct {
	native, probe, converted string
}

func busyboxFiles() map[string]ctrtest.File {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return nil
	}
	files := map[string]ctrtest.File{"bin/busybox": {Data: bb, Mode: 0o755}}
	for _, a := range []string{"sh", "echo", "sleep", "cat", "uname", "id", "ls", "true", "tail", "tty", "hostname"} {
		files["bin/"+a] = ctrtest.File{Link: "busybox"}
	}
	return files
}

// setup starts containerd and imports the three kinds of image.
func setup(t testing.TB) (*ctrtest.Containerd, images) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: containerd and containers")
	}
	c := ctrtest.Start(t, ctrtest.Options{ShimDir: shimDir})
	dir := t.TempDir()
	files := busyboxFiles()
	if files == nil {
		t.Skip("needs a static /bin/busybox (Debian package busybox-static)")
	}
	imgs := images{native: "example.com/native:test", probe: "example.com/probe:test", converted: "example.com/converted:test"}
	probe, err := os.ReadFile(wasmtest.Probe(t))
	if err != nil {
		t.Fatal(err)
	}
	converted, err := os.ReadFile(wasmtest.Converted(t, fixtures.ImageBusybox))
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []ctrtest.Image{
		{Ref: imgs.native, OS: "linux", Arch: "amd64", Files: files, Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}},
		{Ref: imgs.probe, OS: "wasip1", Arch: "wasm", Files: map[string]ctrtest.File{"probe.wasm": {Data: probe, Mode: 0o755}}, Entrypoint: []string{"/probe.wasm"}},
		{Ref: imgs.converted, OS: "wasip1", Arch: "wasm", Files: map[string]ctrtest.File{"busybox.wasm": {Data: converted, Mode: 0o755}}, Entrypoint: []string{"/busybox.wasm"}},
	} {
		archive := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(img.Ref)+".tar")
		if err := ctrtest.WriteArchive(img, archive); err != nil {
			t.Fatal(err)
		}
		c.MustCtr(t, "images", "import", "--all-platforms", archive)
	}
	return c, imgs
}

// run is `ctr run --rm` with the shim; it returns stdout, stderr, status.
func run(c *ctrtest.Containerd, image, id string, args ...string) (string, string, int) {
	return c.Ctr(append([]string{"run", "--rm", "--runtime", runtimeName, image, id}, args...)...)
}

func TestRun(t *testing.T) {
	c, imgs := setup(t)
	cases := []struct {
		name, image string
		args        []string
		out         string
		code        int
	}{
		{"native", imgs.native, []string{"sh", "-c", "echo native $(uname -m); exit 3"}, "native x86_64\n", 3},
		{"wasm", imgs.probe, []string{"/probe.wasm", "args", "one", "two words"}, "one\ntwo words\n", 0},
		{"wasm exit", imgs.probe, []string{"/probe.wasm", "exit", "7"}, "", 7},
		{"converted", imgs.converted, []string{"/busybox.wasm", "sh", "-c", "echo converted $(uname -m); exit 4"}, "converted x86_64\n", 4},
	}
	for i, tc := range cases {
		out, errs, code := run(c, tc.image, fmt.Sprintf("run-%d", i), tc.args...)
		if out != tc.out || code != tc.code {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q", tc.name, code, out, errs, tc.code, tc.out)
		}
	}
	// Standard input reaches the process and ends when the client's does.
	out, errs, code := c.CtrIn("piped\ninput\n", "run", "--rm", "--runtime", runtimeName, imgs.probe, "stdin", "/probe.wasm", "stdin")
	if code != 0 || out != "piped\ninput\n" {
		t.Errorf("stdin: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// The converted image's own command (sh) reading a script from stdin.
	out, errs, code = c.CtrIn("echo default-cmd $(uname -m); exit 6\n", "run", "--rm", "--runtime", runtimeName, imgs.converted, "default")
	if code != 6 || out != "default-cmd x86_64\n" {
		t.Errorf("converted default command: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	assertClean(t, c)
}

// assertClean checks that no container of the namespace left state, a
// cgroup, a mount or a shim behind.
func assertClean(t *testing.T, c *ctrtest.Containerd) {
	t.Helper()
	waitFor(t, "the shims to exit", func() bool { return len(processesFrom(shimDir)) == 0 })
	if entries, _ := os.ReadDir(filepath.Join("/run/containerd/wasmrt", c.Namespace)); len(entries) > 0 {
		t.Errorf("runtime state left: %v", entries)
	}
	if left := ctrtest.CgroupsOf(c.Namespace); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
	mounts, _ := ctrtest.Mounts(filepath.Join(c.Dir, "state"))
	if len(mounts) > 0 {
		t.Errorf("mounts left: %v", mounts)
	}
}

func processesFrom(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir+"/") {
			if st, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); !strings.Contains(string(st), ") Z ") {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// watchEvents collects `ctr events` until the test ends.
func watchEvents(t *testing.T, c *ctrtest.Containerd) *syncbuf.Buffer {
	events := exec.Command("ctr", "-a", c.Address, "-n", c.Namespace, "events")
	buf := &syncbuf.Buffer{}
	events.Stdout = buf
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = events.Process.Kill(); _ = events.Wait() })
	time.Sleep(300 * time.Millisecond) // subscribed before anything happens
	return buf
}

// removeTask kills a task, waits for it to stop and removes it and its
// container.
func removeTask(t testing.TB, c *ctrtest.Containerd, id string) {
	t.Helper()
	c.MustCtr(t, "task", "kill", "-s", "KILL", id)
	waitFor(t, "the task to stop", func() bool { return taskStatus(c, id) == "STOPPED" })
	c.MustCtr(t, "task", "rm", id)
	c.MustCtr(t, "container", "rm", id)
}

func taskStatus(c *ctrtest.Containerd, id string) string {
	out, _, _ := c.Ctr("task", "ls")
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return ""
}

func TestTaskOperations(t *testing.T) {
	c, imgs := setup(t)
	for _, tc := range []struct {
		name, image string
		args        []string
		exec        []string
		execOut     string
	}{
		{"native", imgs.native, []string{"sleep", "60"}, []string{"sh", "-c", "echo in exec; exit 4"}, "in exec\n"},
		{"wasm", imgs.probe, []string{"/probe.wasm", "sleep", "60"}, []string{"/probe.wasm", "args", "in", "exec"}, "in\nexec\n"},
		{"converted", imgs.converted, []string{"/busybox.wasm", "sleep", "60"}, []string{"/busybox.wasm", "sh", "-c", "echo in exec"}, "in exec\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "ops-" + tc.name
			c.MustCtr(t, append([]string{"run", "-d", "--runtime", runtimeName, tc.image, id}, tc.args...)...)
			waitFor(t, "the task to run", func() bool { return taskStatus(c, id) == "RUNNING" })
			out, errs, code := c.Ctr(append([]string{"task", "exec", "--exec-id", "e1", id}, tc.exec...)...)
			wantCode := 0
			if tc.name == "native" {
				wantCode = 4
			}
			if out != tc.execOut || code != wantCode {
				t.Errorf("exec: exit %d, stdout %q, stderr %q", code, out, errs)
			}
			if ps := c.MustCtr(t, "task", "ps", id); !regexp.MustCompile(`(?m)^\d+`).MatchString(ps) {
				t.Errorf("task ps: %q", ps)
			}
			c.MustCtr(t, "task", "pause", id)
			if st := taskStatus(c, id); st != "PAUSED" {
				t.Errorf("after pause: %s", st)
			}
			c.MustCtr(t, "task", "resume", id)
			if st := taskStatus(c, id); st != "RUNNING" {
				t.Errorf("after resume: %s", st)
			}
			m := c.MustCtr(t, "task", "metrics", id)
			if !regexp.MustCompile(`memory\.usage_in_bytes\s+[1-9]\d*|memory\.usage\s+[1-9]`).MatchString(m) {
				t.Errorf("metrics lack a memory usage: %q", m)
			}
			removeTask(t, c, id)
		})
	}
	assertClean(t, c)
}

func TestTerminal(t *testing.T) {
	c, imgs := setup(t)
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("needs script(1) (Debian package bsdutils) for a terminal")
	}
	for _, tc := range []struct{ name, image, cmd, want string }{
		{"native", imgs.native, "sh -c 'tty; echo tty-ok'", "/dev/pts/0"},
		{"converted", imgs.converted, "/busybox.wasm sh -c 'test -t 0 && echo tty-ok'", "tty-ok"},
	} {
		cmdline := fmt.Sprintf("ctr -a %s -n %s run -t --rm --runtime %s %s tty-%s %s", c.Address, c.Namespace, runtimeName, tc.image, tc.name, tc.cmd)
		out, err := exec.Command("script", "-qec", cmdline, "/dev/null").CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "tty-ok") {
			t.Errorf("%s: %v, output %q", tc.name, err, out)
		}
	}
}

func TestEvents(t *testing.T) {
	c, imgs := setup(t)
	buf := watchEvents(t, c)
	id := "events"
	c.MustCtr(t, "run", "-d", "--runtime", runtimeName, imgs.probe, id, "/probe.wasm", "sleep", "60")
	waitFor(t, "the task to run", func() bool { return taskStatus(c, id) == "RUNNING" })
	c.MustCtr(t, "task", "exec", "--exec-id", "x", id, "/probe.wasm", "args")
	c.MustCtr(t, "task", "pause", id)
	c.MustCtr(t, "task", "resume", id)
	removeTask(t, c, id)
	topics := []string{"/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started", "/tasks/exit",
		"/tasks/paused", "/tasks/resumed", "/tasks/delete"}
	waitFor(t, "the events", func() bool {
		for _, tp := range topics {
			if !strings.Contains(buf.String(), tp) {
				return false
			}
		}
		return true
	})
	// The exec's exit comes before the task's, both as /tasks/exit.
	if n := strings.Count(buf.String(), "/tasks/exit"); n != 2 {
		t.Errorf("%d exit events, want 2 (exec and task):\n%s", n, buf.String())
	}
}

func TestOOMEvent(t *testing.T) {
	c, imgs := setup(t)
	buf := watchEvents(t, c)
	// tail keeps the whole of an endless line in memory.
	out, errs, code := c.Ctr("run", "--rm", "--memory-limit", fmt.Sprint(32<<20), "--runtime", runtimeName, imgs.native, "oom",
		"tail", "/dev/zero")
	if code != 137 {
		t.Fatalf("exit %d, %q, %q: want 137 from the OOM killer", code, out, errs)
	}
	waitFor(t, "the OOM event", func() bool { return strings.Contains(buf.String(), "/tasks/oom") })
}

func TestContainerdRestart(t *testing.T) {
	c, imgs := setup(t)
	id := "survivor"
	c.MustCtr(t, "run", "-d", "--runtime", runtimeName, imgs.probe, id, "/probe.wasm", "sleep", "60")
	waitFor(t, "the task to run", func() bool { return taskStatus(c, id) == "RUNNING" })
	c.Restart(t)
	if st := taskStatus(c, id); st != "RUNNING" {
		t.Fatalf("after restarting containerd the task is %q, want RUNNING", st)
	}
	out, errs, code := c.Ctr("task", "exec", "--exec-id", "after", id, "/probe.wasm", "args", "still", "managed")
	if code != 0 || out != "still\nmanaged\n" {
		t.Errorf("exec after the restart: %d %q %q", code, out, errs)
	}
	removeTask(t, c, id)
	assertClean(t, c)
}

// shimDaemons lists the pids of the shim daemons (not container inits,
// which run the same binary).
func shimDaemons() []int {
	var out []int
	for _, p := range processesFrom(shimDir) {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", p, "cmdline"))
		if !strings.HasSuffix(string(cmdline), "init\x00") {
			var pid int
			fmt.Sscan(p, &pid)
			out = append(out, pid)
		}
	}
	return out
}

func TestPodSharesAShim(t *testing.T) {
	c, imgs := setup(t)
	pod := "--annotation=io.kubernetes.cri.sandbox-id=pod-1"
	c.MustCtr(t, "run", "-d", pod, "--runtime", runtimeName, imgs.native, "sidecar", "sleep", "60")
	c.MustCtr(t, "run", "-d", pod, "--runtime", runtimeName, imgs.probe, "app", "/probe.wasm", "sleep", "60")
	c.MustCtr(t, "run", "-d", "--runtime", runtimeName, imgs.probe, "alone", "/probe.wasm", "sleep", "60")
	for _, id := range []string{"sidecar", "app", "alone"} {
		waitFor(t, id+" to run", func() bool { return taskStatus(c, id) == "RUNNING" })
	}
	if n := len(shimDaemons()); n != 2 {
		t.Errorf("%d shim daemons for a pod of two and a lone container, want 2", n)
	}
	if out, errs, code := c.Ctr("task", "exec", "--exec-id", "x", "app", "/probe.wasm", "args", "pod"); code != 0 || out != "pod\n" {
		t.Errorf("exec in the pod's Wasm container: %d %q %q", code, out, errs)
	}
	if out, errs, code := c.Ctr("task", "exec", "--exec-id", "x", "sidecar", "echo", "sidecar"); code != 0 || out != "sidecar\n" {
		t.Errorf("exec in the pod's native container: %d %q %q", code, out, errs)
	}
	// The pod's shim stays while one of its containers remains.
	removeTask(t, c, "app")
	if taskStatus(c, "sidecar") != "RUNNING" {
		t.Errorf("removing one container of the pod stopped the other")
	}
	removeTask(t, c, "sidecar")
	removeTask(t, c, "alone")
	assertClean(t, c)
}

func TestShimKilled(t *testing.T) {
	c, imgs := setup(t)
	for _, image := range []string{imgs.native, imgs.probe} {
		id := "orphan"
		args := []string{"sleep", "60"}
		if image == imgs.probe {
			args = []string{"/probe.wasm", "sleep", "60"}
		}
		c.MustCtr(t, append([]string{"run", "-d", "--runtime", runtimeName, image, id}, args...)...)
		waitFor(t, "the task to run", func() bool { return taskStatus(c, id) == "RUNNING" })
		shims := shimDaemons()
		if len(shims) != 1 {
			t.Fatalf("%d shim daemons, want 1", len(shims))
		}
		if err := syscall.Kill(shims[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// containerd notices, runs the shim's delete, and the task is
		// gone with everything it had.
		waitFor(t, "containerd to clean up after the shim", func() bool { return taskStatus(c, id) == "" || taskStatus(c, id) == "STOPPED" })
		_, _, _ = c.Ctr("task", "rm", id)
		c.MustCtr(t, "container", "rm", id)
		assertClean(t, c)
	}
}
