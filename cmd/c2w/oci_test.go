package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/convert/wasmoci"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/gotool"
	"github.com/wasmrt/wasmrt/internal/testregistry"
)

// orasVersion is the oras release the interoperability check builds (the
// Go module proxy serves it).
const orasVersion = "v1.3.6"

// TestPushAndPull: a converted module published to a registry that asks
// for credentials (docker-registry with htpasswd; c2w finds them in the
// docker config) in both forms, and to an OCI layout, is what the
// registry's own API serves in the CNCF artifact layout, comes back
// byte for byte with c2w pull, and runs.
func TestPushAndPull(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	want, err := os.ReadFile(module)
	if err != nil {
		t.Fatal(err)
	}
	reg := testregistry.StartWithAuth(t, "pusher", "s3cret")
	cfg := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("pusher:s3cret"))
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg, auth)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	dir := t.TempDir()

	// Without credentials the registry refuses, and c2w says so.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if code, _, errOut := run(t, "push", module, reg+"/busybox:wasm"); code == 0 || !strings.Contains(errOut, "refused the credentials") {
		t.Errorf("push without credentials: exit %d, %q", code, errOut)
	}
	t.Setenv("DOCKER_CONFIG", cfg)

	for _, c := range []struct{ format, ref string }{
		{"artifact", reg + "/busybox:wasm"},
		{"image", reg + "/busybox:wasm-image"},
		{"artifact", "oci-layout:" + filepath.Join(dir, "layout") + ":bb"},
	} {
		if code, _, errOut := run(t, "push", "--format", c.format, module, c.ref); code != 0 {
			t.Fatalf("push --format %s %s: exit %d: %s", c.format, c.ref, code, errOut)
		}
		out := filepath.Join(dir, c.format+"-"+fmt.Sprint(len(c.ref))+".wasm")
		if code, _, errOut := run(t, "pull", c.ref, out); code != 0 {
			t.Fatalf("pull %s: exit %d: %s", c.ref, code, errOut)
		}
		if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, want) {
			t.Errorf("pull %s: %d bytes (%v), want the %d pushed", c.ref, len(got), err, len(want))
		}
	}

	// The registry's own view of the artifact, through its HTTP API.
	manifest := registryGet(t, reg, "/v2/busybox/manifests/wasm", "application/vnd.oci.image.manifest.v1+json")
	var m struct {
		MediaType   string `json:"mediaType"`
		Config      struct{ MediaType, Digest string }
		Layers      []struct{ MediaType, Digest string }
		Annotations map[string]string
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.Config.MediaType != string(wasmoci.ConfigMediaType) ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != "application/wasm" ||
		!strings.Contains(m.Annotations["org.opencontainers.image.source"], "busybox") || !strings.HasPrefix(m.Annotations["org.opencontainers.image.base.digest"], "sha256:") {
		t.Errorf("artifact manifest: %s", manifest)
	}
	var config struct {
		Created, Architecture, OS string
		LayerDigests              []string `json:"layerDigests"`
	}
	if err := json.Unmarshal(registryGet(t, reg, "/v2/busybox/blobs/"+m.Config.Digest, ""), &config); err != nil {
		t.Fatal(err)
	}
	if config.Architecture != "wasm" || config.OS != "wasip1" || config.Created == "" || len(config.LayerDigests) != 1 || config.LayerDigests[0] != m.Layers[0].Digest {
		t.Errorf("artifact config: %+v", config)
	}
	if layer := registryGet(t, reg, "/v2/busybox/blobs/"+m.Layers[0].Digest, ""); !bytes.Equal(layer, want) {
		t.Errorf("the artifact's layer is %d bytes, not the module", len(layer))
	}

	// A second client, oras, reads the artifact and writes the module
	// under its title; and what oras pushes in the same layout, c2w pulls.
	oras := gotool.Install(t, "oras.land/oras/cmd/oras", orasVersion)
	orasRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(oras, append(args[:1:1], append([]string{"--plain-http", "-u", "pusher", "-p", "s3cret"}, args[1:]...)...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	orasDir := filepath.Join(dir, "oras")
	orasRun("pull", "-o", orasDir, reg+"/busybox:wasm")
	if got, err := os.ReadFile(filepath.Join(orasDir, "module.wasm")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("oras pull: %d bytes (%v), want the module", len(got), err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"architecture":"wasm","os":"wasip1","created":"2026-01-01T00:00:00Z"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.wasm"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	orasRun("push", "--config", "config.json:"+string(wasmoci.ConfigMediaType), reg+"/by-oras:v1", "app.wasm:application/wasm")
	fromOras := filepath.Join(dir, "from-oras.wasm")
	if code, _, errOut := run(t, "pull", reg+"/by-oras:v1", fromOras); code != 0 {
		t.Errorf("c2w pull of oras's artifact: %s", errOut)
	} else if got, _ := os.ReadFile(fromOras); !bytes.Equal(got, want) {
		t.Errorf("c2w pull of oras's artifact: %d bytes", len(got))
	}

	// The image form runs where images run: its config says so.
	imageManifest := registryGet(t, reg, "/v2/busybox/manifests/wasm-image", "application/vnd.oci.image.manifest.v1+json")
	var im struct{ Config struct{ Digest string } }
	json.Unmarshal(imageManifest, &im)
	var ic struct {
		OS, Architecture string
		Config           struct{ Entrypoint []string }
	}
	json.Unmarshal(registryGet(t, reg, "/v2/busybox/blobs/"+im.Config.Digest, ""), &ic)
	if ic.OS != "wasip1" || ic.Architecture != "wasm" || len(ic.Config.Entrypoint) != 1 || ic.Config.Entrypoint[0] != wasmoci.ModulePath {
		t.Errorf("image config: %+v", ic)
	}

	// What came back runs.
	if got := wazeroRun(t, filepath.Join(dir, "image-"+fmt.Sprint(len(reg+"/busybox:wasm-image"))+".wasm"), "", nil, nil, "echo", "pulled"); got.stdout != "pulled\n" || got.code != 0 {
		t.Errorf("pulled module: %v", got)
	}
	// A pull of something that is no module is refused and writes nothing.
	bad := filepath.Join(dir, "bad.wasm")
	if code, _, errOut := run(t, "pull", "oci-layout:"+fixtures.OCI(t, fixtures.ImageBusybox)+":"+fixtures.RefName, bad); code == 0 || !strings.Contains(errOut, "not a converted module") && !strings.Contains(errOut, "index") {
		t.Errorf("pull of an ordinary image: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a failed pull left its output file")
	}
}

// registryGet reads path from the registry's API as the pusher.
func registryGet(t *testing.T, reg, path, accept string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+reg+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("pusher", "s3cret")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b
}
