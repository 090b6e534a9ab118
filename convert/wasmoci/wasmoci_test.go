package wasmoci

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var tinyModule = append(append([]byte{}, wasmMagic...), 0x00)

func TestBuildRefusesWhatC2wDidNotMake(t *testing.T) {
	if _, err := Build([]byte("#!/bin/sh\n"), FormatArtifact); err == nil || !strings.Contains(err.Error(), "not a WebAssembly module") {
		t.Errorf("a script: %v", err)
	}
	if _, err := Build(tinyModule, FormatArtifact); err == nil || !strings.Contains(err.Error(), "not a converted module") {
		t.Errorf("a bare module: %v", err)
	}
	if _, err := ParseFormat("tarball"); err == nil {
		t.Error("format tarball accepted")
	}
}

// artifactOf is the artifact form around layer bytes of any content.
func artifactOf(t *testing.T, layers ...[]byte) v1.Image {
	t.Helper()
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: v1.Descriptor{MediaType: ConfigMediaType}}
	a := &artifact{config: []byte(`{"architecture":"wasm","os":"wasip1"}`)}
	m.Config.Digest, m.Config.Size = sha256Of(a.config), int64(len(a.config))
	for _, b := range layers {
		l := static.NewLayer(b, LayerMediaType)
		a.layer, a.digest = l, sha256Of(b)
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: LayerMediaType, Digest: a.digest, Size: int64(len(b))})
	}
	a.manifest, _ = json.Marshal(m)
	img, err := partial.CompressedToImage(a)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// imageOf is an image for osArch whose entrypoint is entry, with a layer
// per file set (bottom first).
func imageOf(t *testing.T, os, arch, entry string, layers ...map[string]string) v1.Image {
	t.Helper()
	img := empty.Image
	for _, files := range layers {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for name, content := range files {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg})
			tw.Write([]byte(content))
		}
		tw.Close()
		data := b.Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config.Entrypoint = os, arch, []string{entry}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestExtract(t *testing.T) {
	module := string(tinyModule)
	for _, c := range []struct {
		name string
		img  v1.Image
		want string // error text, or "" for tinyModule back
	}{
		{"artifact", artifactOf(t, tinyModule), ""},
		{"artifact of a script", artifactOf(t, []byte("#!/bin/sh")), "not a WebAssembly module"},
		{"artifact of two modules", artifactOf(t, tinyModule, tinyModule), "2 layers"},
		{"image", imageOf(t, "wasip1", "wasm", "/app.wasm", map[string]string{"app.wasm": module}), ""},
		{"image, topmost copy wins", imageOf(t, "wasip1", "wasm", "/app.wasm", map[string]string{"app.wasm": "old"}, map[string]string{"./app.wasm": module}), ""},
		{"image for linux", imageOf(t, "linux", "amd64", "/app.wasm", map[string]string{"app.wasm": module}), "linux/amd64"},
		{"image whose entrypoint is no module", imageOf(t, "wasip1", "wasm", "/bin/sh", map[string]string{"bin/sh": module}), "is not a module"},
		{"image whose entrypoint is missing", imageOf(t, "wasip1", "wasm", "/app.wasm", map[string]string{"other.wasm": module}), "no layer holds"},
		{"image whose entrypoint a layer deletes", imageOf(t, "wasip1", "wasm", "/app.wasm", map[string]string{"app.wasm": module}, map[string]string{".wh.app.wasm": ""}), "deletes"},
	} {
		got, err := Extract(c.img)
		switch {
		case c.want == "" && (err != nil || string(got) != module):
			t.Errorf("%s: %q, %v", c.name, got, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// TestLocations: destinations and sources are read as c2w reads image
// arguments; a colon before a path element stays the directory's.
func TestLocations(t *testing.T) {
	for in, want := range map[string][2]string{
		"dir": {"dir", ""}, "dir:tag": {"dir", "tag"}, "./a:b/dir": {"./a:b/dir", ""}, "/x/y:v1.2": {"/x/y", "v1.2"},
	} {
		if loc, err := parseLocation("oci-layout:"+in, Options{}); err != nil || loc.Path != want[0] || loc.Tag != want[1] {
			t.Errorf("oci-layout:%s = %q, %q, %v", in, loc.Path, loc.Tag, err)
		}
	}
	if _, err := parseLocation("docker-archive:x.tar", Options{}); err == nil {
		t.Error("a docker archive accepted as a destination")
	}
}
