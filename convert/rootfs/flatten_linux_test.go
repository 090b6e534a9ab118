package rootfs

import (
	"archive/tar"
	"testing"

	"golang.org/x/sys/unix"
)

// TestApplyDeviceNumbersMatchLinux checks the dev_t encoding against the
// host's makedev, which on Linux is the encoding the guest kernel uses.
func TestApplyDeviceNumbersMatchLinux(t *testing.T) {
	for _, dev := range [][2]int64{{0, 0}, {1, 3}, {8, 255}, {8, 256}, {4095, 1}, {4096, 1 << 20}, {1<<32 - 1, 1<<32 - 1}} {
		layer := buildTar(t, tarEntry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "d", Mode: 0o600, Devmajor: dev[0], Devminor: dev[1], Format: tar.FormatGNU}})
		tree := mustFlattenLayers(t, layer)
		if got, want := tree.Root.Children["d"].Rdev, unix.Mkdev(uint32(dev[0]), uint32(dev[1])); got != want {
			t.Errorf("device %d:%d: Rdev %#x, Linux makedev gives %#x", dev[0], dev[1], got, want)
		}
	}
}
