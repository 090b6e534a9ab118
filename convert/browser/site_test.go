package browser

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/wasmrt/wasmrt/convert/pack"
	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/wasmtest"
)

// convertedBusybox returns the busybox fixture as a converted module.
func convertedBusybox(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(wasmtest.Converted(t, fixtures.ImageBusybox))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func requireAssets(t *testing.T) {
	t.Helper()
	if _, err := asset("c2w-page.js"); err != nil {
		t.Skip("the page is not built: run make (scripts/build-web.sh)")
	}
}

func TestWrite(t *testing.T) {
	requireAssets(t)
	module := convertedBusybox(t)
	dir := filepath.Join(t.TempDir(), "site")
	if err := Write(dir, module, Options{Args: []string{"--env", "A=1", "sh"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range append([]string{ModuleName, ConfigName, ModuleName + ".gz", ModuleName + ".br", RootfsName}, assetNames...) {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The rootfs left the module for a file of its own.
	detached, fsImage, err := pack.Detach(module, container.RootfsBlob)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ModuleName)); !bytes.Equal(b, detached) {
		t.Errorf("%s is not the module without its rootfs", ModuleName)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, RootfsName)); !bytes.Equal(b, fsImage) {
		t.Errorf("%s is not the module's rootfs", RootfsName)
	}
	module = detached
	var cfg SiteConfig
	b, _ := os.ReadFile(filepath.Join(dir, ConfigName))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Title != "busybox" || cfg.Module != ModuleName || cfg.ModuleBytes != int64(len(module)) || cfg.Rootfs != RootfsName || cfg.RootfsBytes != int64(len(fsImage)) ||
		cfg.Platform != "linux/amd64" || !strings.Contains(cfg.Image, "busybox") || strings.Join(cfg.Args, " ") != "--env A=1 sh" {
		t.Errorf("c2w.json: %+v", cfg)
	}
	// The precompressed copies decode to the module.
	for suffix, open := range map[string]func(io.Reader) (io.Reader, error){
		".gz": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		".br": func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
	} {
		f, err := os.Open(filepath.Join(dir, ModuleName+suffix))
		if err != nil {
			t.Fatal(err)
		}
		r, err := open(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		f.Close()
		if err != nil || !bytes.Equal(got, module) {
			t.Errorf("%s does not decode to the module (%d bytes, %v)", suffix, len(got), err)
		}
	}

	// Writing again replaces the site's files and keeps the others; with
	// the rootfs kept in, the module is the one given.
	extra := filepath.Join(dir, "favicon.ico")
	os.WriteFile(extra, []byte("icon"), 0o644)
	whole := convertedBusybox(t)
	if err := Write(dir, whole, Options{Title: "again", EmbedRootfs: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ConfigName)); !strings.Contains(string(b), `"title": "again"`) || strings.Contains(string(b), "rootfs") {
		t.Errorf("c2w.json was not replaced: %s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ModuleName)); !bytes.Equal(b, whole) {
		t.Errorf("with EmbedRootfs, %s is not the module given", ModuleName)
	}
	if _, err := os.Stat(filepath.Join(dir, RootfsName)); err == nil {
		t.Errorf("the earlier site's %s is still there", RootfsName)
	}
	if _, err := os.Stat(extra); err != nil {
		t.Errorf("a file of the user's went: %v", err)
	}
	assertNoTemporaries(t, filepath.Dir(dir))
}

func TestWriteRefuses(t *testing.T) {
	requireAssets(t)
	module := convertedBusybox(t)
	parent := t.TempDir()
	// Not a converted module: any WebAssembly or anything else.
	for _, m := range [][]byte{wasmtest.Wat(t, `(module (memory (export "memory") 1) (func (export "_start")))`), []byte("not wasm"), nil} {
		dir := filepath.Join(parent, "new")
		if err := Write(dir, m, Options{}); err == nil || !strings.Contains(err.Error(), "not a converted module") {
			t.Errorf("Write(%.8q) = %v, want a refusal naming it not converted", m, err)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("a refused site left %s", dir)
		}
	}
	// A directory with someone else's files.
	other := filepath.Join(parent, "other")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	if err := Write(other, module, Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Write into a directory of other files = %v", err)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 1 {
		t.Errorf("the refused directory changed: %v", entries)
	}
	// A file where the directory should be.
	file := filepath.Join(parent, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if err := Write(file, module, Options{}); err == nil {
		t.Errorf("Write over a file succeeded")
	}
	if b, _ := os.ReadFile(file); string(b) != "x" {
		t.Errorf("the file was changed")
	}
	assertNoTemporaries(t, parent)
}

func assertNoTemporaries(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}
}

func TestShortName(t *testing.T) {
	for ref, want := range map[string]string{
		"docker.io/library/python:3.13@sha256:0123":  "python:3.13",
		"oci-layout:/srv/images/busybox":             "busybox",
		"oci-layout:/srv/images/busybox:v1@sha256:1": "busybox:v1",
		"localhost:5000/app":                         "app",
		"":                                           "container",
	} {
		if got := shortName(ref); got != want {
			t.Errorf("shortName(%q) = %q, want %q", ref, got, want)
		}
	}
}
