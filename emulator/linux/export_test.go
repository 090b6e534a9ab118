//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package linux

import (
	"bytes"
	"context"
	"io"
	"os"

	"github.com/wasmrt/wasmrt/convert"
	"github.com/wasmrt/wasmrt/convert/image"
	convrootfs "github.com/wasmrt/wasmrt/convert/rootfs"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// FixtureImage converts the riscv64 image of an OCI layout to a rootfs
// image, as c2w rootfs does (uncompressed, to keep tests fast). It is
// exported to the external tests of this package.
func FixtureImage(layout string) (*rootfs.Image, error) {
	return FixtureImageFor(layout, "riscv64")
}

// FixtureImageFor is FixtureImage for the image of another architecture.
func FixtureImageFor(layout, arch string) (*rootfs.Image, error) {
	ctx := context.Background()
	src, err := image.ParseSource("oci-layout:"+layout+":latest", false)
	if err != nil {
		return nil, err
	}
	plat, err := image.ParsePlatform("linux/" + arch)
	if err != nil {
		return nil, err
	}
	im, err := image.Open(ctx, src, image.Options{Platform: plat})
	if err != nil {
		return nil, err
	}
	defer im.Close()
	tmp, err := os.MkdirTemp("", "linux-test-tree-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tree, err := convert.Flatten(ctx, im, convert.Options{TempDir: tmp})
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	return writeImage(tree)
}

// writeImage writes tree as an uncompressed rootfs image and opens it.
func writeImage(tree *convrootfs.Tree) (*rootfs.Image, error) {
	var buf bytes.Buffer
	opts := convrootfs.DefaultWriteOptions()
	opts.Codec = convrootfs.CodecNone
	if err := convrootfs.Write(&buf, tree, opts); err != nil {
		return nil, err
	}
	return rootfs.Open(buf.Bytes())
}

// TarImage builds a rootfs image from a tar stream, as one layer.
func TarImage(r io.Reader) (*rootfs.Image, error) {
	tmp, err := os.MkdirTemp("", "linux-test-tree-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tree, err := convrootfs.NewTree(tmp)
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	if err := tree.Apply(r, convrootfs.ApplyOptions{}); err != nil {
		return nil, err
	}
	return writeImage(tree)
}

// FrameCacheFills returns how many frames of image files the kernel's
// frame cache read (frameCache).
func (k *Kernel) FrameCacheFills() uint64 { return k.frames.fills }
