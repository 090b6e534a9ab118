//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package linux

import (
	"bytes"
	"context"
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
	ctx := context.Background()
	src, err := image.ParseSource("oci-layout:"+layout+":latest", false)
	if err != nil {
		return nil, err
	}
	plat, err := image.ParsePlatform("linux/riscv64")
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
	var buf bytes.Buffer
	opts := convrootfs.DefaultWriteOptions()
	opts.Codec = convrootfs.CodecNone
	if err := convrootfs.Write(&buf, tree, opts); err != nil {
		return nil, err
	}
	return rootfs.Open(buf.Bytes())
}
