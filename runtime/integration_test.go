package runtime_test

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wasmrt/wasmrt/runtime"
)

// These tests drive the real wasmrt binary as root against a busybox root
// filesystem built from the host's static busybox (Debian busybox-static).

var wasmrtBin string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() != 0 {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "wasmrt-test-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		wasmrtBin = filepath.Join(dir, "wasmrt")
		out, err := exec.Command("go", "build", "-o", wasmrtBin, "github.com/wasmrt/wasmrt/cmd/wasmrt").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build wasmrt: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

const busyboxPath = "/bin/busybox"

// requireRoot skips tests that need root and the static busybox.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: containers need namespaces, mounts and cgroups")
	}
	f, err := elf.Open(busyboxPath)
	if err != nil {
		t.Skipf("needs a static %s (Debian package busybox-static): %v", busyboxPath, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Skipf("%s is dynamically linked; install Debian package busybox-static", busyboxPath)
		}
	}
}

type env struct {
	t      *testing.T
	root   string
	bundle string
	spec   *specs.Spec
	// flags are global flags given to every wasmrt command.
	flags []string
}

var applets = []string{"sh", "true", "false", "sleep", "cat", "echo", "id", "hostname", "ls", "mkdir", "touch", "grep", "ps", "test", "tr", "wc", "awk", "sort", "tty", "umask"}

func newEnv(t *testing.T) *env {
	t.Helper()
	requireRoot(t)
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "bundle", "rootfs")
	for _, d := range []string{"bin", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	spec := runtime.DefaultSpec(false)
	spec.Process.Terminal = false
	spec.Process.Args = []string{"sleep", "60"}
	spec.Linux.CgroupsPath = "/wasmrt-test/" + testID(t)
	e := &env{t: t, root: filepath.Join(dir, "state"), bundle: filepath.Join(dir, "bundle"), spec: spec}
	t.Cleanup(func() {
		// Never leave a container behind, whatever the test did.
		_, _, _ = e.run("delete", "--force", testID(t))
	})
	return e
}

func testID(t *testing.T) string {
	return strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())
}

func (e *env) writeSpec() {
	e.t.Helper()
	data, err := json.Marshal(e.spec)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.bundle, "config.json"), data, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// run runs wasmrt with the env's --root and returns stdout, stderr and the
// exit code. Output goes through files, not pipes: a container started by
// create inherits them and would hold a pipe open for its whole life.
func (e *env) run(args ...string) (string, string, int) {
	cmd := exec.Command(wasmrtBin, append(append([]string{"--root", e.root}, e.flags...), args...)...)
	outF, err := os.CreateTemp(e.t.TempDir(), "stdout")
	if err != nil {
		e.t.Fatal(err)
	}
	defer outF.Close()
	errF, err := os.CreateTemp(e.t.TempDir(), "stderr")
	if err != nil {
		e.t.Fatal(err)
	}
	defer errF.Close()
	cmd.Stdout, cmd.Stderr = outF, errF
	err = cmd.Run()
	out, _ := os.ReadFile(outF.Name())
	errb, _ := os.ReadFile(errF.Name())
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("wasmrt %v: %v", args, err)
	}
	return string(out), string(errb), code
}

func (e *env) mustRun(args ...string) string {
	e.t.Helper()
	out, errs, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("wasmrt %v: exit %d: %s", args, code, errs)
	}
	return out
}

func (e *env) state(id string) runtime.State {
	e.t.Helper()
	var s runtime.State
	if err := json.Unmarshal([]byte(e.mustRun("state", id)), &s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// assertNothingLeft checks that no state directory, cgroup, host mount or
// process of the container remains.
func (e *env) assertNothingLeft(id string, pid int, marker string) {
	e.t.Helper()
	if _, err := os.Stat(filepath.Join(e.root, id)); !os.IsNotExist(err) {
		e.t.Errorf("state directory %s remains (stat: %v)", filepath.Join(e.root, id), err)
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/wasmrt-test/" + id)
	unified, _ := filepath.Glob("/sys/fs/cgroup/wasmrt-test/" + id)
	if left := append(cgroups, unified...); len(left) > 0 {
		e.t.Errorf("cgroups remain: %v", left)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		e.t.Fatal(err)
	}
	if bytes.Contains(mounts, []byte(e.bundle)) {
		e.t.Errorf("host mount table mentions the bundle %s", e.bundle)
	}
	if pid > 0 {
		if st := procState(pid); st != "" && st != "Z" {
			e.t.Errorf("container process %d still exists (state %s)", pid, st)
		}
	}
	if marker != "" {
		if pids := findProcesses(marker); len(pids) > 0 {
			e.t.Errorf("processes with %q in their command line remain: %v", marker, pids)
		}
	}
}

func procState(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return ""
	}
	return string(data[i+2])
}

// findProcesses returns live (non-zombie) pids whose command line
// contains marker.
func findProcesses(marker string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), []byte(marker)) {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err == nil && procState(pid) != "Z" {
			out = append(out, e.Name())
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	e.writeSpec()
	e.mustRun("create", "--bundle", e.bundle, id)
	s := e.state(id)
	if s.Status != specs.StateCreated || s.Pid <= 0 {
		t.Fatalf("after create: status %s pid %d, want created with a pid", s.Status, s.Pid)
	}
	// The program must not run before start: the init still runs wasmrt.
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.Pid))
	if err != nil || strings.HasSuffix(exe, "busybox") {
		t.Fatalf("created container already runs its program (%s, %v)", exe, err)
	}
	if _, errs, code := e.run("start", id); code != 0 {
		t.Fatalf("start: %s", errs)
	}
	waitFor(t, "busybox to run", func() bool {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.Pid))
		return strings.HasSuffix(exe, "busybox")
	})
	if st := e.state(id).Status; st != specs.StateRunning {
		t.Fatalf("after start: %s, want running", st)
	}
	if _, _, code := e.run("start", id); code == 0 {
		t.Fatal("second start succeeded")
	}
	if _, errs, code := e.run("delete", id); code == 0 || !strings.Contains(errs, "--force") {
		t.Fatalf("delete of a running container: exit %d, %q; want a refusal mentioning --force", code, errs)
	}
	e.mustRun("pause", id)
	if st := e.state(id).Status; st != "paused" {
		t.Fatalf("after pause: %s", st)
	}
	e.mustRun("resume", id)
	e.mustRun("kill", id, "KILL")
	waitFor(t, "stopped", func() bool { return e.state(id).Status == specs.StateStopped })
	if s := e.state(id); s.Pid != 0 {
		t.Fatalf("stopped container reports pid %d", s.Pid)
	}
	if _, _, code := e.run("kill", id, "TERM"); code == 0 {
		t.Fatal("kill of a stopped container succeeded")
	}
	e.mustRun("delete", id)
	e.assertNothingLeft(id, s.Pid, "")
	if _, _, code := e.run("state", id); code == 0 {
		t.Fatal("state of a deleted container succeeded")
	}
}

func TestRunExitStatusAndIsolation(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	e.spec.Hostname = "box"
	e.spec.Process.Args = []string{"sh", "-c", `test "$(hostname)" = box || exit 10; test $$ = 1 || exit 11; touch /ro 2>/dev/null && exit 12; exit 7`}
	e.writeSpec()
	_, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 7 {
		t.Fatalf("run: exit %d, want 7 (10: hostname, 11: pid namespace, 12: writable read-only root); stderr %s", code, errs)
	}
	e.assertNothingLeft(id, 0, "")
}

func TestExec(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	e.spec.Hostname = "exechost"
	e.writeSpec()
	e.mustRun("run", "-d", "--bundle", e.bundle, id)
	out := e.mustRun("exec", id, "hostname")
	if strings.TrimSpace(out) != "exechost" {
		t.Fatalf("exec hostname: %q, want the container's", out)
	}
	if _, _, code := e.run("exec", id, "sh", "-c", "exit 5"); code != 5 {
		t.Fatalf("exec exit code %d, want 5", code)
	}
	out = e.mustRun("exec", "--user", "1000:1000", id, "id")
	if !strings.Contains(out, "uid=1000") || !strings.Contains(out, "gid=1000") {
		t.Fatalf("exec --user: %q", out)
	}
	var pids []int
	if err := json.Unmarshal([]byte(e.mustRun("ps", "--format", "json", id)), &pids); err != nil || len(pids) != 1 {
		t.Fatalf("ps --format json: %v %v, want the init only", pids, err)
	}
	e.mustRun("delete", "--force", id)
	e.assertNothingLeft(id, pids[0], "")
}

func TestCreateRejects(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	cases := []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"malformed json", func(m map[string]any) { m["process"].(map[string]any)["args"] = "sh" }, "process.args"},
		{"unknown capability", func(m map[string]any) {
			m["process"].(map[string]any)["capabilities"].(map[string]any)["bounding"] = []string{"CAP_NOT_A_CAP"}
		}, "unknown capability"},
		{"missing rootfs", func(m map[string]any) { m["root"].(map[string]any)["path"] = "nonexistent" }, "root.path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, _ := json.Marshal(e.spec)
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			c.edit(m)
			data, _ = json.Marshal(m)
			if err := os.WriteFile(filepath.Join(e.bundle, "config.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, errs, code := e.run("create", "--bundle", e.bundle, id)
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Fatalf("create: exit %d, stderr %q; want failure mentioning %q", code, errs, c.want)
			}
			e.assertNothingLeft(id, 0, "")
		})
	}
}

func TestDuplicateID(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	e.writeSpec()
	e.mustRun("create", "--bundle", e.bundle, id)
	pid := e.state(id).Pid
	_, errs, code := e.run("create", "--bundle", e.bundle, id)
	if code == 0 || !strings.Contains(errs, "already exists") {
		t.Fatalf("duplicate create: exit %d, %q", code, errs)
	}
	if s := e.state(id); s.Status != specs.StateCreated || s.Pid != pid {
		t.Fatalf("duplicate create disturbed the first container: %+v", s)
	}
	e.mustRun("delete", id)
	e.assertNothingLeft(id, pid, "")
}

func TestFailingHooksLeaveNothing(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	timeout := 1
	marker := "4242" + fmt.Sprint(time.Now().UnixNano()%100000)
	e.spec.Process.Args = []string{"sleep", marker}
	cases := []struct {
		name  string
		hooks specs.Hooks
		want  string
	}{
		{"createRuntime fails", specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo nope >&2; exit 3"}}}}, "nope"},
		{"createContainer fails", specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/false"}}}, "createContainer hook"},
		{"prestart times out", specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "30"}, Timeout: &timeout}}}, "timed out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.spec.Hooks = &c.hooks
			e.writeSpec()
			_, errs, code := e.run("create", "--bundle", e.bundle, id)
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Fatalf("create: exit %d, stderr %q; want failure mentioning %q", code, errs, c.want)
			}
			e.assertNothingLeft(id, 0, marker)
		})
	}
}

func TestKillDuringCreateThenForceDelete(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	marker := "4343" + fmt.Sprint(time.Now().UnixNano()%100000)
	e.spec.Process.Args = []string{"sleep", marker}
	// The createRuntime hook holds create mid-way: init started, cgroup
	// made, mounts done, state partially written.
	e.spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "1" + marker}}}}
	e.writeSpec()
	cmd := exec.Command(wasmrtBin, "--root", e.root, "create", "--bundle", e.bundle, id)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the createRuntime hook", func() bool { return len(findProcesses("sleep 1"+marker)) > 0 })
	pid := 0
	data, err := os.ReadFile(filepath.Join(e.root, id, "state.json"))
	if err == nil {
		var r runtime.Record
		if json.Unmarshal(data, &r) == nil {
			pid = r.Pid
		}
	}
	if pid <= 0 {
		t.Fatalf("no init pid recorded mid-create (%v)", err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if s := e.state(id); s.Status == specs.StateRunning || s.Status == specs.StateCreated {
		t.Fatalf("interrupted create reports %s", s.Status)
	}
	e.mustRun("delete", "--force", id)
	waitFor(t, "the hook to die with the runtime", func() bool { return len(findProcesses("sleep 1"+marker)) == 0 })
	e.assertNothingLeft(id, pid, marker)
}
