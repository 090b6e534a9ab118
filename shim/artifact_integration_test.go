package shim_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/convert/wasmoci"
	"github.com/wasmrt/wasmrt/internal/ctrtest"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/gotool"
	"github.com/wasmrt/wasmrt/internal/testregistry"
	"github.com/wasmrt/wasmrt/internal/wasmtest"
)

// containerd2Version is the containerd release the artifact test builds
// from the Go module proxy: Debian's 1.6.20 cannot pull a Wasm artifact
// (its platform matching and unpack want an image config), containerd
// 2's CRI plugin fetches it and gives the container an empty snapshot.
const containerd2Version = "v2.2.9"

// TestCRIWasmArtifact runs a converted container published as a Wasm OCI
// artifact (config application/vnd.wasm.config.v0+json, one
// application/wasm layer) the way Kubernetes does: containerd 2's CRI
// plugin pulls it from a registry and the shim finds the module in
// containerd's content store, since the artifact has no file system.
func TestCRIWasmArtifact(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: containerd and containers")
	}
	module, err := os.ReadFile(wasmtest.Converted(t, fixtures.ImageBusybox))
	if err != nil {
		t.Fatal(err)
	}
	registry := testregistry.Start(t)
	ref := registry + "/wasm/busybox:artifact"
	img, err := wasmoci.Build(module, wasmoci.FormatArtifact)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wasmoci.Push(context.Background(), img, ref, wasmoci.Options{}); err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layerDigest, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	stored := filepath.Join("/var/lib/wasmrt/modules", "sha256-"+layerDigest.Hex+".wasm")
	if _, err := os.Stat(stored); os.IsNotExist(err) {
		t.Cleanup(func() { os.Remove(stored) })
	}

	hosts := t.TempDir()
	if err := os.MkdirAll(filepath.Join(hosts, registry), 0o755); err != nil {
		t.Fatal(err)
	}
	hostsTOML := fmt.Sprintf("server = \"http://%s\"\n[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", registry, registry)
	if err := os.WriteFile(filepath.Join(hosts, registry, "hosts.toml"), []byte(hostsTOML), 0o644); err != nil {
		t.Fatal(err)
	}
	// Debian's ctr speaks to it for the test's own chores (the pause
	// image): building containerd 2's ctr too would cost a minute.
	c := criContainerdOn(t, ctrtest.Options{
		Binary: gotool.Install(t, "github.com/containerd/containerd/v2/cmd/containerd", containerd2Version),
	}, `  [plugins."io.containerd.grpc.v1.cri".registry]`, fmt.Sprintf(`    config_path = %q`, hosts))
	dir := t.TempDir()
	pause := filepath.Join(dir, "pause.tar")
	if err := ctrtest.WriteArchive(ctrtest.PauseImage(t, "example.com/pause:test"), pause); err != nil {
		t.Fatal(err)
	}
	c.MustCtr(t, "images", "import", pause)

	cli := newCRIClient(t, c, dir)
	cli.must("pull", ref)
	pod := cli.write("pod.json", map[string]any{
		"metadata":      map[string]any{"name": "artifact-pod", "namespace": "default", "uid": "artifact-pod-uid", "attempt": 0},
		"log_directory": filepath.Join(dir, "logs"), "linux": map[string]any{},
	})
	podID := cli.must("runp", "--runtime", "wasmrt", pod)
	defer func() {
		_, _ = cli.run("stopp", podID)
		_, _ = cli.run("rmp", podID)
	}()
	// The command is the guest's, as in `c2w run MODULE CMD...`; or it
	// names the module first, as runwasi's artifact examples do.
	guest := cli.must("create", podID, cli.container("guest", ref, []string{"sh", "-c", "echo hello-$((6*7)); ls /bin/busybox"}, nil), pod)
	named := cli.must("create", podID, cli.container("named", ref, []string{"module.wasm"}, []string{"echo", "argv-after-module"}), pod)
	for _, id := range []string{guest, named} {
		cli.must("start", id)
	}
	waitFor(t, "the artifact container's log", func() bool {
		out, _ := cli.run("logs", guest)
		return out == "hello-42\n/bin/busybox"
	})
	waitFor(t, "the second artifact container's log", func() bool {
		out, _ := cli.run("logs", named)
		return out == "argv-after-module"
	})
	// Both containers run the one stored copy of the module layer.
	st, err := os.Stat(stored)
	if err != nil {
		t.Fatalf("the module store: %v", err)
	}
	if st.Size() != int64(len(module)) || st.Mode().Perm() != 0o444 {
		t.Errorf("stored module: %d bytes, mode %v; want %d, 0444", st.Size(), st.Mode().Perm(), len(module))
	}
	for _, id := range []string{guest, named} {
		cli.must("rm", id)
	}
	cli.must("stopp", podID)
	cli.must("rmp", podID)
	waitFor(t, "the pod's shim to exit", func() bool { return len(shimDaemons()) == 0 })
	// containerd 2 asks the shim for its runtime information (-info).
	if strings.Contains(c.Log(), "failed to load runtime info") {
		t.Errorf("containerd could not read the shim's runtime information:\n%s", criLog(c.Log()))
	}
}
