package ctrtest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// File is one entry of an image's single layer.
type File struct {
	Data []byte
	Mode int64  // permission bits; 0 means 0644
	Link string // a symlink's target, instead of Data
}

// Image describes a single-layer image to build.
type Image struct {
	Ref          string // e.g. example.com/busybox:test
	OS, Arch     string // e.g. linux/amd64 or wasip1/wasm
	Files        map[string]File
	Entrypoint   []string
	Cmd          []string
	Env          []string
	Annotations  map[string]string
	ConfigLabels map[string]string
}

// WriteArchive writes img as a docker archive (what `docker save` writes
// and `ctr images import` reads) to path.
func WriteArchive(img Image, path string) error {
	i, err := img.Build()
	if err != nil {
		return err
	}
	ref, err := name.ParseReference(img.Ref)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := tarball.Write(ref, i, f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// Build returns img as a go-containerregistry image.
func (img Image) Build() (v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		b, err := layerTar(img.Files)
		return io.NopCloser(bytes.NewReader(b)), err
	})
	if err != nil {
		return nil, err
	}
	i, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := i.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = img.OS, img.Arch
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Entrypoint, cf.Config.Cmd, cf.Config.Env = img.Entrypoint, img.Cmd, img.Env
	cf.Config.Labels = img.ConfigLabels
	if i, err = mutate.ConfigFile(i, cf); err != nil {
		return nil, err
	}
	if len(img.Annotations) > 0 {
		i = mutate.Annotations(i, img.Annotations).(v1.Image)
	}
	return i, nil
}

func layerTar(files map[string]File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, n := range names {
		// Parent directories first.
		for i := 0; i < len(n); i++ {
			if n[i] == '/' && !dirs[n[:i]] {
				dirs[n[:i]] = true
				if err := tw.WriteHeader(&tar.Header{Name: n[:i] + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
					return nil, err
				}
			}
		}
		f := files[n]
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: n, Mode: mode, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}
		if f.Link != "" {
			h = &tar.Header{Name: n, Linkname: f.Link, Typeflag: tar.TypeSymlink, Mode: 0o777}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if f.Link == "" {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pauseSource is the sandbox container's program: it waits for a stop
// signal and exits, like Kubernetes' pause.
const pauseSource = `#include <signal.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
int main(void) {
	signal(SIGINT, stop);
	signal(SIGTERM, stop);
	for (;;)
		pause();
}
`

// PauseImage builds a pause image (a static C program, built with gcc) for
// CRI sandboxes.
func PauseImage(t testing.TB, ref string) Image {
	t.Helper()
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "pause.c"), filepath.Join(dir, "pause")
	if err := os.WriteFile(src, []byte(pauseSource), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-static", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc pause: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return Image{Ref: ref, OS: "linux", Arch: "amd64", Files: map[string]File{"pause": {Data: data, Mode: 0o755}}, Entrypoint: []string{"/pause"}}
}
