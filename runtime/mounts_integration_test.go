package runtime_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hostOwner returns the host uid and gid owning path.
func hostOwner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// TestIDMappedMount binds a host directory owned by 1000:1000 with a
// mapping of 1000 to 0: the container (no user namespace) must see its
// files as root's, and what it creates must land on the host as 1000.
func TestIDMappedMount(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	src := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "old"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{src, filepath.Join(src, "old")} {
		if err := os.Lchown(p, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	one := []specs.LinuxIDMapping{{ContainerID: 1000, HostID: 0, Size: 1}}
	e.spec.Root.Readonly = false
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{
		Destination: "/shared", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
		UIDMappings: one, GIDMappings: one,
	})
	e.spec.Process.Args = []string{"sh", "-c", `ls -ln /shared/old | awk '{print $3 ":" $4}' && touch /shared/new`}
	e.writeSpec()
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	if got := strings.TrimSpace(out); got != "0:0" {
		t.Fatalf("owner of a 1000:1000 file seen through the idmapped mount: %q, want 0:0", got)
	}
	if uid, gid := hostOwner(t, filepath.Join(src, "new")); uid != 1000 || gid != 1000 {
		t.Fatalf("file created by the container's root is %d:%d on the host, want 1000:1000", uid, gid)
	}
	e.assertNothingLeft(id, 0, "")
}

// TestIDMappedMountUsesContainerMappings gives the mount no mappings of
// its own: runtime-spec lets the runtime use the container's user
// namespace mappings, under which host root's files look like the
// container's root's, where a plain bind shows them unmapped.
func TestIDMappedMountUsesContainerMappings(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	src := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"mapped", "plain", "proc", "dev", "sys"} {
		if err := os.MkdirAll(filepath.Join(e.bundle, "rootfs", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The container's root (host 100000) must be able to traverse to the
	// bundle and the source: open up the test's own directories, never the
	// system's temporary directory or anything above it.
	top := filepath.Clean(os.TempDir())
	for _, start := range []string{e.bundle, src} {
		for p := start; p != top && p != "/" && strings.HasPrefix(p, top+"/"); p = filepath.Dir(p) {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	e.spec.Linux.Namespaces = append(e.spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	e.spec.Linux.UIDMappings, e.spec.Linux.GIDMappings = ids, ids
	e.spec.Linux.Resources = nil
	var mounts []specs.Mount
	for _, m := range e.spec.Mounts {
		switch m.Destination {
		case "/sys/fs/cgroup", "/sys":
			continue
		case "/dev/pts":
			m.Options = []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
		}
		mounts = append(mounts, m)
	}
	e.spec.Mounts = append(mounts,
		specs.Mount{Destination: "/mapped", Type: "none", Source: src, Options: []string{"rbind", "ridmap"}},
		specs.Mount{Destination: "/plain", Type: "none", Source: src, Options: []string{"rbind"}},
	)
	e.spec.Process.Args = []string{"sh", "-c", `ls -ln /mapped/f /plain/f | awk '{print $3}'`}
	e.writeSpec()
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	if got := strings.Fields(out); len(got) != 2 || got[0] != "0" || got[1] != "65534" {
		t.Fatalf("owners seen through the idmapped and the plain bind: %q, want [0 65534] (overflow uid)", got)
	}
	e.assertNothingLeft(id, 0, "")
}

// TestIDMappedMountRejected checks the spec's rules and a filesystem that
// cannot be idmapped; each create must fail naming the mount and leave
// nothing behind.
func TestIDMappedMountRejected(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	one := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	cases := []struct {
		name  string
		mount specs.Mount
		want  string
	}{
		{"not a bind mount", specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}, UIDMappings: one, GIDMappings: one}, "need a bind mount"},
		{"uid mappings alone", specs.Mount{Destination: "/x", Type: "bind", Source: "/tmp", Options: []string{"bind", "idmap"}, UIDMappings: one}, "together"},
		{"no mappings and no user namespace", specs.Mount{Destination: "/x", Type: "bind", Source: "/tmp", Options: []string{"bind", "idmap"}}, "no new user namespace"},
		{"filesystem refuses", specs.Mount{Destination: "/x", Type: "bind", Source: "/proc/sys", Options: []string{"bind", "idmap"}, UIDMappings: one, GIDMappings: one}, "mounts[7] (source /proc/sys)"},
		{"tmpcopyup on a bind", specs.Mount{Destination: "/x", Type: "bind", Source: "/tmp", Options: []string{"bind", "tmpcopyup"}}, "not tmpfs"},
	}
	base := e.spec.Mounts
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.spec.Mounts = append(append([]specs.Mount{}, base...), c.mount)
			e.writeSpec()
			_, errs, code := e.run("create", "--bundle", e.bundle, id)
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Fatalf("create: exit %d, stderr %q; want a failure mentioning %q", code, errs, c.want)
			}
			e.assertNothingLeft(id, 0, "")
		})
	}
}

// TestTmpCopyUp mounts a tmpfs with tmpcopyup over a directory of the root
// filesystem: the tmpfs must hold copies of its files, links and owners,
// and writes to it must not reach the root filesystem.
func TestTmpCopyUp(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	dir := filepath.Join(e.bundle, "rootfs", "data")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "file"), []byte("content\n"), 0o604); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(dir, "sub", "file"), 7, 8); err != nil {
		t.Fatal(err)
	}
	// A link pointing out of the root filesystem is copied as a link,
	// never followed.
	if err := os.Symlink("/etc/hostname-outside", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{
		Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nosuid", "mode=755", "size=1m"},
	})
	e.spec.Process.Args = []string{"sh", "-c", `cat /data/sub/file && ls -ln /data/sub/file | awk '{print $1, $3 ":" $4}' && readlink /data/link && grep -q ' /data tmpfs ' /proc/mounts && echo tmpfs && touch /data/new`}
	e.writeSpec()
	out, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	want := "content\n-rw----r-- 7:8\n/etc/hostname-outside\ntmpfs\n"
	if out != want {
		t.Fatalf("container saw %q, want %q", out, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !os.IsNotExist(err) {
		t.Fatalf("a file written to the tmpfs reached the root filesystem: %v", err)
	}
	e.assertNothingLeft(id, 0, "")
}
