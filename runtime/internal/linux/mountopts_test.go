package linux

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	p := parseMountOptions([]string{"ro", "nosuid", "rw", "noexec", "rbind", "rshared", "mode=755", "size=1k", "rnodev", "rro", "rrw"})
	wantFlags := uintptr(unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_BIND | unix.MS_REC)
	if p.flags != wantFlags {
		t.Errorf("flags %#x, want %#x (rw after ro clears MS_RDONLY)", p.flags, wantFlags)
	}
	if len(p.propagation) != 1 || p.propagation[0] != unix.MS_SHARED|unix.MS_REC {
		t.Errorf("propagation %v", p.propagation)
	}
	if p.dataString() != "mode=755,size=1k" {
		t.Errorf("data %q", p.dataString())
	}
	if p.attrSet != unix.MOUNT_ATTR_NODEV || p.attrClear != unix.MOUNT_ATTR_RDONLY {
		t.Errorf("recursive attrs set %#x clear %#x: rrw after rro must leave read-only cleared", p.attrSet, p.attrClear)
	}
	for _, o := range []string{"idmap", "ridmap", "tmpcopyup"} {
		if CheckMountOption(o) == nil {
			t.Errorf("%s accepted though unsupported", o)
		}
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/a\040b\011c`); got != "/a b\tc" {
		t.Fatalf("got %q", got)
	}
}
