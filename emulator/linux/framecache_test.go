//go:build linux

package linux_test

import (
	"testing"

	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// TestExecsShareImageFrames: processes that run the same program map the
// frames of its pages that the first one read (privatemap.c checks that
// writes stay private).
func TestExecsShareImageFrames(t *testing.T) {
	got, stderr, k := runEmulator(t, fixtures.ImageBusybox, []string{"sh", "-c", "/bin/true"}, "")
	if got.status != 0 {
		t.Fatalf("status %d\n%s", got.status, stderr)
	}
	one := k.FrameCacheFills()
	got, stderr, k = runEmulator(t, fixtures.ImageBusybox, []string{"sh", "-c", "/bin/true; /bin/true; /bin/true; /bin/true; echo done"}, "")
	if got.status != 0 || got.stdout != "done\n" {
		t.Fatalf("status %d, stdout %q\n%s", got.status, got.stdout, stderr)
	}
	four := k.FrameCacheFills()
	if one == 0 || four > one+one/4 {
		t.Errorf("frames read from the image: %d for one run of busybox, %d for five", one, four)
	}
}
