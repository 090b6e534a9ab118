package shim_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/internal/ctrtest"
	"github.com/wasmrt/wasmrt/internal/gotool"
	"github.com/wasmrt/wasmrt/internal/wasmtest"
)

// criToolsVersion is the cri-tools release crictl is built from (the Go
// module proxy serves it).
const criToolsVersion = "v1.34.0"

// crictl builds crictl into the repository's .cache once.
func crictl(t *testing.T) string {
	return gotool.Install(t, "sigs.k8s.io/cri-tools/cmd/crictl", criToolsVersion)
}

// criContainerd starts containerd with the CRI plugin: the runtime handler
// "wasmrt" is this shim, pods get a bridge network from Debian's CNI
// plugins, and the sandbox image is a locally built pause image.
func criContainerd(t *testing.T, extra ...string) *ctrtest.Containerd {
	t.Helper()
	return criContainerdOn(t, ctrtest.Options{}, extra...)
}

// criContainerdOn is criContainerd with the containerd and ctr binaries of
// base.
func criContainerdOn(t *testing.T, base ctrtest.Options, extra ...string) *ctrtest.Containerd {
	t.Helper()
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		t.Skip("needs the CNI plugins in /usr/lib/cni (Debian package containernetworking-plugins)")
	}
	cniDir := t.TempDir()
	conf := `{"cniVersion": "1.0.0", "name": "wasmrt-test", "plugins": [
		{"type": "bridge", "bridge": "wasmrt-test0", "isGateway": true, "ipMasq": false,
		 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.213.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}`
	if err := os.WriteFile(filepath.Join(cniDir, "10-wasmrt-test.conflist"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	base.ShimDir = shimDir
	base.CRI = append([]string{
		`  sandbox_image = "example.com/pause:test"`,
		// This sandbox cannot lower oom_score_adj.
		`  restrict_oom_score_adj = true`,
		`  [plugins."io.containerd.grpc.v1.cri".cni]`,
		`    bin_dir = "/usr/lib/cni"`,
		fmt.Sprintf(`    conf_dir = %q`, cniDir),
		`  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.wasmrt]`,
		`    runtime_type = "io.containerd.wasmrt.v1"`,
		`  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]`,
		`    runtime_type = "io.containerd.runc.v2"`,
	}, extra...)
	c := ctrtest.Start(t, base)
	c.Namespace = "k8s.io" // CRI's images and containers live there
	return c
}

func TestCRIPodMixesWasmAndNative(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: containerd and containers")
	}
	c := criContainerd(t)
	files := busyboxFiles()
	if files == nil {
		t.Skip("needs a static /bin/busybox (Debian package busybox-static)")
	}
	probe, err := os.ReadFile(wasmtest.Probe(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, img := range []ctrtest.Image{
		ctrtest.PauseImage(t, "example.com/pause:test"),
		{Ref: "example.com/native:test", OS: "linux", Arch: "amd64", Files: files, Env: []string{"PATH=/bin"}},
		{Ref: "example.com/probe:test", OS: "wasip1", Arch: "wasm", Files: map[string]ctrtest.File{"probe.wasm": {Data: probe, Mode: 0o755}}, Entrypoint: []string{"/probe.wasm"}},
	} {
		archive := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(img.Ref)+".tar")
		if err := ctrtest.WriteArchive(img, archive); err != nil {
			t.Fatal(err)
		}
		c.MustCtr(t, "images", "import", "--all-platforms", archive)
	}
	cli := newCRIClient(t, c, dir)
	run, must, write := cli.run, cli.must, cli.write
	logs := filepath.Join(dir, "logs")
	pod := write("pod.json", map[string]any{
		"metadata":      map[string]any{"name": "wasm-pod", "namespace": "default", "uid": "wasm-pod-uid", "attempt": 0},
		"log_directory": logs, "linux": map[string]any{},
	})
	ctrJSON := cli.container
	podID := must("runp", "--runtime", "wasmrt", pod)
	defer func() {
		_, _ = run("stopp", podID)
		_, _ = run("rmp", podID)
	}()
	hello := must("create", podID, ctrJSON("hello", "example.com/probe:test", nil, []string{"args", "hello-from-wasm"}), pod)
	app := must("create", podID, ctrJSON("app", "example.com/probe:test", nil, []string{"sleep", "120"}), pod)
	sidecar := must("create", podID, ctrJSON("sidecar", "example.com/native:test", []string{"sh", "-c", "echo sidecar up; sleep 120"}, nil), pod)
	for _, id := range []string{hello, app, sidecar} {
		must("start", id)
	}
	// One shim serves the whole pod: its sandbox and three containers.
	if n := len(shimDaemons()); n != 1 {
		t.Errorf("%d shim daemons for one pod, want 1", n)
	}
	waitFor(t, "the Wasm container's log", func() bool {
		out, _ := run("logs", hello)
		return out == "hello-from-wasm"
	})
	waitFor(t, "the sidecar's log", func() bool {
		out, _ := run("logs", sidecar)
		return out == "sidecar up"
	})
	if out := must("exec", app, "/probe.wasm", "args", "exec-in-wasm"); out != "exec-in-wasm" {
		t.Errorf("exec in the Wasm container: %q", out)
	}
	if out := must("exec", sidecar, "echo", "exec-in-native"); out != "exec-in-native" {
		t.Errorf("exec in the sidecar: %q", out)
	}
	// The Wasm containers sit in the pod's network namespace with the
	// sidecar.
	inspect := func(id string) map[string]any {
		var v map[string]any
		if err := json.Unmarshal([]byte(must("inspect", id)), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	pid := func(id string) int {
		info, _ := inspect(id)["info"].(map[string]any)
		p, _ := info["pid"].(float64)
		return int(p)
	}
	netns := func(p int) string {
		s, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", p))
		return s
	}
	if a, b := netns(pid(app)), netns(pid(sidecar)); a == "" || a != b {
		t.Errorf("network namespaces: Wasm %q, sidecar %q", a, b)
	}
	status := func(id string) string {
		st, _ := inspect(id)["status"].(map[string]any)
		s, _ := st["state"].(string)
		return s
	}
	if s := status(hello); s != "CONTAINER_EXITED" {
		t.Errorf("the finished Wasm container is %s", s)
	}
	must("stop", "--timeout", "5", app)
	must("stop", "--timeout", "5", sidecar)
	for _, id := range []string{hello, app, sidecar} {
		must("rm", id)
	}
	must("stopp", podID)
	must("rmp", podID)
	waitFor(t, "the pod's shim to exit", func() bool { return len(shimDaemons()) == 0 })
	if left := ctrtest.CgroupsOf("k8s.io"); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
}

// criClient drives a containerd's CRI plugin with crictl.
type criClient struct {
	t   *testing.T
	c   *ctrtest.Containerd
	cri string
	dir string
}

func newCRIClient(t *testing.T, c *ctrtest.Containerd, dir string) *criClient {
	return &criClient{t: t, c: c, cri: crictl(t), dir: dir}
}

func (cl *criClient) run(args ...string) (string, error) {
	cmd := exec.Command(cl.cri, append([]string{"--runtime-endpoint", "unix://" + cl.c.Address, "--image-endpoint", "unix://" + cl.c.Address, "--timeout", "60s"}, args...)...)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		err = fmt.Errorf("crictl %s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
	}
	return strings.TrimSpace(string(out)), err
}

func (cl *criClient) must(args ...string) string {
	cl.t.Helper()
	out, err := cl.run(args...)
	if err != nil {
		cl.t.Fatalf("%v\ncontainerd log:\n%s", err, criLog(cl.c.Log()))
	}
	return out
}

// write writes v as JSON into the client's directory and returns the path.
func (cl *criClient) write(name string, v any) string {
	b, _ := json.Marshal(v)
	p := filepath.Join(cl.dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		cl.t.Fatal(err)
	}
	return p
}

// container writes a container config.
func (cl *criClient) container(name, image string, command, args []string) string {
	return cl.write(name+".json", map[string]any{
		"metadata": map[string]any{"name": name}, "image": map[string]any{"image": image},
		"command": command, "args": args, "log_path": name + ".log",
	})
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// criLog keeps the CRI plugin's and the shim's lines of containerd's log.
func criLog(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "cri") || strings.Contains(l, "level=error") || strings.Contains(l, "level=warn") {
			out = append(out, l)
		}
	}
	return tail(strings.Join(out, "\n"), 40)
}
