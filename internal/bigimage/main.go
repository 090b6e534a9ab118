// Command bigimage writes a copy of an image with one more layer holding a
// file of incompressible bytes, so benchmarks can measure how start-up of a
// converted image grows with its size.
//
//	bigimage SRC-OCI-LAYOUT OUT.tar MIB
//
// SRC-OCI-LAYOUT is an OCI image layout directory holding one image (the
// fixtures' layouts); OUT.tar is written as a docker archive, which c2w
// reads as docker-archive:OUT.tar; the added layer holds /data/big, MIB
// mebibytes from a seeded generator so runs compare.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: bigimage SRC-OCI-LAYOUT OUT.tar MIB")
		os.Exit(2)
	}
	mib, err := strconv.Atoi(os.Args[3])
	if err == nil && (mib < 0 || mib > 4096) {
		err = fmt.Errorf("%d MiB is outside 0..4096", mib)
	}
	if err == nil {
		err = write(os.Args[1], os.Args[2], mib)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigimage:", err)
		os.Exit(1)
	}
}

func write(src, out string, mib int) error {
	idx, err := layout.ImageIndexFromPath(src)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	base, err := onlyImage(idx)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	data := make([]byte, mib<<20)
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(mib))
	rand.NewChaCha8(seed).Read(data)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "data/big", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	}, tarball.WithCompressionLevel(gzip.NoCompression)) // the bytes do not compress anyway
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return err
	}
	ref, err := name.ParseReference("bench.invalid/big:" + strconv.Itoa(mib))
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".bigimage-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tarball.Write(ref, img, tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// onlyImage returns the one image an index holds, descending into nested
// indexes (a layout's index may point at a multi-platform one): the one
// linux/riscv64 image when there are several.
func onlyImage(idx v1.ImageIndex) (v1.Image, error) {
	manifest, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var candidates []v1.Descriptor
	for _, d := range manifest.Manifests {
		if len(manifest.Manifests) == 1 || d.Platform == nil || (d.Platform.OS == "linux" && d.Platform.Architecture == "riscv64") {
			candidates = append(candidates, d)
		}
	}
	if len(candidates) != 1 {
		return nil, fmt.Errorf("holds %d candidate images, want one (or one linux/riscv64)", len(candidates))
	}
	d := candidates[0]
	if d.MediaType.IsIndex() {
		inner, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, err
		}
		return onlyImage(inner)
	}
	return idx.Image(d.Digest)
}
