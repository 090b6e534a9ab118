package linux

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	p := parseMountOptions([]string{"ro", "nosuid", "rw", "noexec", "rbind", "rshared", "mode=755", "idmap", "size=1k", "ridmap", "tmpcopyup", "rnodev", "rro", "rrw"})
	wantFlags := uintptr(unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_BIND | unix.MS_REC)
	if p.flags != wantFlags {
		t.Errorf("flags %#x, want %#x (rw after ro clears MS_RDONLY)", p.flags, wantFlags)
	}
	if len(p.propagation) != 1 || p.propagation[0] != unix.MS_SHARED|unix.MS_REC {
		t.Errorf("propagation %v", p.propagation)
	}
	if p.dataString() != "mode=755,size=1k" {
		t.Errorf("data %q: runtime options must not reach the filesystem", p.dataString())
	}
	if !p.tmpCopyUp {
		t.Error("tmpcopyup not recognised")
	}
	if p.attrSet != unix.MOUNT_ATTR_NODEV || p.attrClear != unix.MOUNT_ATTR_RDONLY {
		t.Errorf("recursive attrs set %#x clear %#x: rrw after rro must leave read-only cleared", p.attrSet, p.attrClear)
	}
}

func TestMountIDMapping(t *testing.T) {
	ids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	for _, c := range []struct {
		m                            specs.Mount
		mapped, recursive, cloneTree bool
	}{
		{specs.Mount{Options: []string{"bind"}}, false, false, false},
		{specs.Mount{Options: []string{"bind", "idmap"}}, true, false, false},
		{specs.Mount{Options: []string{"rbind", "idmap"}}, true, false, true},
		{specs.Mount{Options: []string{"rbind", "ridmap"}}, true, true, true},
		{specs.Mount{Type: "bind", UIDMappings: ids, GIDMappings: ids}, true, false, false},
	} {
		mapped, recursive, cloneTree := MountIDMapping(c.m)
		if mapped != c.mapped || recursive != c.recursive || cloneTree != c.cloneTree {
			t.Errorf("%v: got mapped=%v recursive=%v clone=%v, want %v %v %v", c.m.Options, mapped, recursive, cloneTree, c.mapped, c.recursive, c.cloneTree)
		}
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/a\040b\011c`); got != "/a b\tc" {
		t.Fatalf("got %q", got)
	}
}
