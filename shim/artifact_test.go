package shim

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apitypes "github.com/containerd/containerd/api/types"
	runcopts "github.com/containerd/containerd/api/types/runc/options"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestArtifactArgs(t *testing.T) {
	for _, tc := range []struct {
		args, want []string
	}{
		{nil, []string{"/module.wasm"}},
		{[]string{"module.wasm"}, []string{"/module.wasm"}},
		{[]string{"/module.wasm", "sh"}, []string{"/module.wasm", "sh"}},
		{[]string{"app.wasm", "--flag"}, []string{"/module.wasm", "--flag"}},
		{[]string{"sh", "-c", "echo hi"}, []string{"/module.wasm", "sh", "-c", "echo hi"}},
		{[]string{"module.wasm.sh"}, []string{"/module.wasm", "module.wasm.sh"}},
	} {
		if got := artifactArgs(tc.args, "module.wasm"); !slices.Equal(got, tc.want) {
			t.Errorf("artifactArgs(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestWithArtifactModule(t *testing.T) {
	bundle := t.TempDir()
	spec := specs.Spec{Process: &specs.Process{Args: []string{"sh", "-c", "true"}}, Mounts: []specs.Mount{{Destination: "/proc", Type: "proc"}}}
	b, _ := json.Marshal(&spec)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := withArtifactModule(bundle, "/store/sha256-x.wasm", &artifactModule{title: "app.wasm"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got specs.Spec
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/app.wasm", "sh", "-c", "true"}; !slices.Equal(got.Process.Args, want) {
		t.Errorf("args %q, want %q", got.Process.Args, want)
	}
	if len(got.Mounts) != 2 || got.Mounts[0].Destination != "/proc" {
		t.Fatalf("mounts %+v", got.Mounts)
	}
	m := got.Mounts[1]
	if m.Destination != "/app.wasm" || m.Source != "/store/sha256-x.wasm" || m.Type != "bind" || !slices.Contains(m.Options, "ro") {
		t.Errorf("module mount %+v", m)
	}
	if entries, _ := os.ReadDir(bundle); len(entries) != 1 {
		t.Errorf("the bundle holds %v, want config.json alone (no temporary file left)", entries)
	}
}

func TestTrimModuleStore(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	write := func(name string, size int, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, size), 0o444); err != nil {
			t.Fatal(err)
		}
		at := old.Add(-age)
		if age < 0 {
			at = time.Now()
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldest := write("sha256-a.wasm", 100, 3*time.Minute)
	older := write("sha256-b.wasm", 100, 2*time.Minute)
	kept := write("sha256-c.wasm", 100, time.Minute)
	recent := write("sha256-d.wasm", 100, -1)
	other := write("not-a-module", 1000, 10*time.Minute)
	// 400 bytes of modules into 250: the two least recently used go; the
	// one in use now and files that are not modules stay.
	trimModuleStore(dir, 250, "")
	for p, want := range map[string]bool{oldest: false, older: false, kept: true, recent: true, other: true} {
		_, err := os.Stat(p)
		if got := err == nil; got != want {
			t.Errorf("%s present %v, want %v", filepath.Base(p), got, want)
		}
	}
	// keep is spared even when it is the least recently used.
	trimModuleStore(dir, 0, kept)
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("the kept module went: %v", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("a module used within the minute went: %v", err)
	}
}

func TestRuntimeInfo(t *testing.T) {
	opts, err := anypb.New(&runcopts.Options{BinaryName: "wasmrt"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := proto.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runtimeInfo(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var info apitypes.RuntimeInfo
	if err := proto.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if info.Name != "io.containerd.wasmrt.v1" || info.Version.GetVersion() != Version {
		t.Errorf("name %q version %q", info.Name, info.Version.GetVersion())
	}
	if !proto.Equal(info.Options, opts) {
		t.Errorf("options %v, want %v given back", info.Options, opts)
	}
	if info.Features.GetTypeUrl() != "types.containerd.io/opencontainers/runtime-spec/1/features/Features" {
		t.Errorf("features type %q", info.Features.GetTypeUrl())
	}
	var f features.Features
	if err := json.Unmarshal(info.Features.GetValue(), &f); err != nil {
		t.Fatal(err)
	}
	if f.OCIVersionMax != specs.Version || f.Linux == nil || len(f.Linux.Namespaces) == 0 {
		t.Errorf("features %+v", f)
	}
	if _, err := runtimeInfo(strings.NewReader("not a protobuf \xff\xff")); err == nil {
		t.Error("garbage options accepted")
	}
}

func TestModuleTitle(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "module.wasm",
		"app.wasm":         "app.wasm",
		"dir/app.wasm":     "app.wasm",
		"../../etc/passwd": "module.wasm",
		"..":               "module.wasm",
		"proc":             "module.wasm",
		".wasm":            "module.wasm",
		"a\x00b.wasm":      "module.wasm",
		"/abs/x.wasm":      "x.wasm",
	} {
		if got := moduleTitle(in); got != want {
			t.Errorf("moduleTitle(%q) = %q, want %q", in, got, want)
		}
	}
}
