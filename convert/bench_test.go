package convert

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/convert/rootfs"
	"github.com/wasmrt/wasmrt/internal/atomicfile"
)

var (
	benchLayoutOnce sync.Once
	benchLayoutDir  string
	benchLayoutSize int64
	benchLayoutErr  error
)

// TestMain removes the benchmark image, which outlives single benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchLayoutDir != "" {
		os.RemoveAll(benchLayoutDir)
	}
	os.Exit(code)
}

// benchLayout builds, once per process, an OCI layout whose three gzip
// layers hold the installed Go distribution (sources, packages, binaries):
// about 250 MB of real files, far more realistic than generated content.
func benchLayout(b *testing.B) (string, int64) {
	benchLayoutOnce.Do(func() {
		goroot := runtime.GOROOT()
		groups := [][]string{{"src"}, {"pkg"}, {"bin", "lib", "test", "misc", "api"}}
		img := mutate.MediaType(empty.Image, "application/vnd.oci.image.manifest.v1+json")
		img = mutate.ConfigMediaType(img, "application/vnd.oci.image.config.v1+json")
		for _, g := range groups {
			var buf bytes.Buffer
			n, err := tarTree(&buf, goroot, g)
			if err != nil {
				benchLayoutErr = err
				return
			}
			benchLayoutSize += n
			data := buf.Bytes()
			l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
				tarball.WithMediaType("application/vnd.oci.image.layer.v1.tar+gzip"))
			if err != nil {
				benchLayoutErr = err
				return
			}
			if img, err = mutate.AppendLayers(img, l); err != nil {
				benchLayoutErr = err
				return
			}
		}
		cf, err := img.ConfigFile()
		if err != nil {
			benchLayoutErr = err
			return
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", "riscv64"
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			benchLayoutErr = err
			return
		}
		benchLayoutDir, benchLayoutErr = os.MkdirTemp("", "c2w-bench-layout-")
		if benchLayoutErr != nil {
			return
		}
		p, err := layout.Write(benchLayoutDir, empty.Index)
		if err == nil {
			err = p.AppendImage(img)
		}
		benchLayoutErr = err
	})
	if benchLayoutErr != nil {
		b.Fatal(benchLayoutErr)
	}
	return benchLayoutDir, benchLayoutSize
}

// tarTree writes the named subtrees of root as a tar stream and returns the
// bytes of file content it holds.
func tarTree(w io.Writer, root string, names []string) (int64, error) {
	tw := tar.NewWriter(w)
	var total int64
	for _, name := range names {
		err := filepath.WalkDir(filepath.Join(root, name), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			link := ""
			if fi.Mode()&fs.ModeSymlink != 0 {
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			}
			h, err := tar.FileInfoHeader(fi, link)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			h.Name = "usr/local/go/" + filepath.ToSlash(rel)
			h.Uname, h.Gname = "", ""
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if fi.Mode().IsRegular() {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				n, err := io.Copy(tw, f)
				f.Close()
				total += n
				return err
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return total, tw.Close()
}

// BenchmarkConvert measures the whole intake of c2w on a ~250 MB image:
// open the layout, verify and flatten every layer, and write the rootfs
// image (compressed, as c2w does by default). The peer is
// go-containerregistry's mutate.Extract ("crane export"), which flattens the
// same layers into one tar stream without verifying diffIDs or writing an
// image; it runs in the same invocation so the ratio is fair. MB/s are of
// uncompressed file content.
func BenchmarkConvert(b *testing.B) {
	dir, size := benchLayout(b)
	open := func(b *testing.B) *image.Image {
		src, err := image.ParseSource("oci-layout:"+dir, false)
		if err != nil {
			b.Fatal(err)
		}
		im, err := image.Open(context.Background(), src, image.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return im
	}
	b.Run("c2w-flatten+write", func(b *testing.B) {
		b.SetBytes(size)
		out := filepath.Join(b.TempDir(), "out.img")
		for b.Loop() {
			im := open(b)
			tree, err := Flatten(context.Background(), im, Options{TempDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			if err := atomicfile.Write(out, 0o644, func(w io.Writer) error { return rootfs.Write(w, tree, rootfs.DefaultWriteOptions()) }); err != nil {
				b.Fatal(err)
			}
			tree.Close()
			im.Close()
		}
	})
	b.Run("c2w-flatten", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			im := open(b)
			tree, err := Flatten(context.Background(), im, Options{TempDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			tree.Close()
			im.Close()
		}
	})
	b.Run("peer-crane-export", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			p, err := layout.FromPath(dir)
			if err != nil {
				b.Fatal(err)
			}
			idx, err := p.ImageIndex()
			if err != nil {
				b.Fatal(err)
			}
			m, err := idx.IndexManifest()
			if err != nil {
				b.Fatal(err)
			}
			img, err := idx.Image(m.Manifests[0].Digest)
			if err != nil {
				b.Fatal(err)
			}
			rc := mutate.Extract(img)
			if _, err := io.Copy(io.Discard, rc); err != nil {
				b.Fatal(err)
			}
			rc.Close()
		}
	})
}
