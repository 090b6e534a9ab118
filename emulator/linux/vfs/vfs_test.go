//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package vfs_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"

	convrootfs "github.com/wasmrt/wasmrt/convert/rootfs"
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// newFS builds a rootfs image from a small tar (with a hard link, symlinks
// and a symlink loop) and opens the namespace on it.
func newFS(t *testing.T) *vfs.FS {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	add(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "etc/motd", Typeflag: tar.TypeReg, Mode: 0o644}, "from the image\n")
	add(&tar.Header{Name: "etc/link", Typeflag: tar.TypeLink, Linkname: "etc/motd"}, "")
	add(&tar.Header{Name: "etc/sym", Typeflag: tar.TypeSymlink, Linkname: "motd"}, "")
	add(&tar.Header{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "/etc/../etc"}, "")
	add(&tar.Header{Name: "loop1", Typeflag: tar.TypeSymlink, Linkname: "loop2"}, "")
	add(&tar.Header{Name: "loop2", Typeflag: tar.TypeSymlink, Linkname: "loop1"}, "")
	add(&tar.Header{Name: "usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	tw.Close()
	tree, err := convrootfs.NewTree(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if err := tree.Apply(&tb, convrootfs.ApplyOptions{MaxFileSize: 1 << 20, MaxTotalSize: 1 << 20, MaxEntries: 100, LayerName: "test"}); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if err := convrootfs.Write(&img, tree, convrootfs.DefaultWriteOptions()); err != nil {
		t.Fatal(err)
	}
	im, err := rootfs.Open(img.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	fs, err := vfs.New(im)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func readAll(t *testing.T, fs *vfs.FS, path string) string {
	t.Helper()
	n, err := fs.Lookup(fs.Root(), path, true)
	if err != nil {
		t.Fatalf("lookup %s: %v", path, err)
	}
	d, err := fs.Open(n, abi.O_RDONLY, path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	buf := make([]byte, 4096)
	k, err := d.Read(buf)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(buf[:k])
}

func TestResolution(t *testing.T) {
	fs := newFS(t)
	for _, tc := range []struct {
		path   string
		follow bool
		want   error
	}{
		{"/etc/sym", true, nil},
		{"/up/motd", true, nil},
		{"/etc/motd/", true, abi.ENOTDIR},
		{"/etc/motd/x", true, abi.ENOTDIR},
		{"/loop1", true, abi.ELOOP},
		{"/loop1", false, nil},
		{"/loop1/x", false, abi.ELOOP},
		{"/nope", true, abi.ENOENT},
		{"/../../etc/motd", true, nil},
		{"", true, abi.ENOENT},
	} {
		_, err := fs.Lookup(fs.Root(), tc.path, tc.follow)
		if !errors.Is(err, tc.want) && err != tc.want {
			t.Errorf("Lookup(%q, follow=%v) = %v, want %v", tc.path, tc.follow, err, tc.want)
		}
	}
	if got := readAll(t, fs, "/up/sym"); got != "from the image\n" {
		t.Errorf("read through symlinks = %q", got)
	}
}

func TestCopyUpAndHardLinks(t *testing.T) {
	fs := newFS(t)
	n, err := fs.Lookup(fs.Root(), "/etc/motd", true)
	if err != nil {
		t.Fatal(err)
	}
	if st := n.Stat(); st.Nlink != 2 {
		t.Errorf("image hard link count = %d, want 2", st.Nlink)
	}
	d, err := fs.Open(n, abi.O_WRONLY, "/etc/motd")
	if err != nil {
		t.Fatal(err)
	}
	d.Seek(0, abi.SEEK_END)
	if _, err := d.Write([]byte("appended\n")); err != nil {
		t.Fatal(err)
	}
	// The hard link is the same inode: it sees the write.
	if got := readAll(t, fs, "/etc/link"); got != "from the image\nappended\n" {
		t.Errorf("hard link after copy-up = %q", got)
	}
	if err := n.Truncate(4); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, fs, "/etc/motd"); got != "from" {
		t.Errorf("after truncate = %q", got)
	}
}

func TestWhiteoutRenameAndCreate(t *testing.T) {
	fs := newFS(t)
	etc, _ := fs.Lookup(fs.Root(), "/etc", true)
	usrBin, _ := fs.Lookup(fs.Root(), "/usr/bin", true)
	if err := fs.Unlink(etc, "motd", false); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Lookup(fs.Root(), "/etc/motd", true); err != abi.ENOENT {
		t.Errorf("deleted image file: %v, want ENOENT", err)
	}
	if got := readAll(t, fs, "/etc/link"); got != "from the image\n" {
		t.Errorf("other link after unlink = %q", got)
	}
	if err := fs.Rename(etc, "link", usrBin, "moved", 0); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, fs, "/usr/bin/moved"); got != "from the image\n" {
		t.Errorf("renamed image file = %q", got)
	}
	if err := fs.Rename(fs.Root(), "etc", usrBin, "etc2", 0); err != nil {
		t.Fatal(err)
	}
	moved, err := fs.Lookup(fs.Root(), "/usr/bin/etc2/sym", false)
	if err != nil {
		t.Fatal(err)
	}
	if !moved.IsSymlink() {
		t.Error("symlink lost its type in a directory rename")
	}
	e2, _ := fs.Lookup(fs.Root(), "/usr/bin/etc2", true)
	if got := e2.Path(); got != "/usr/bin/etc2" {
		t.Errorf("Path after rename = %q", got)
	}
	if err := fs.Rename(fs.Root(), "usr", e2, "x", 0); err != abi.EINVAL {
		t.Errorf("rename into own subtree = %v, want EINVAL", err)
	}
	if _, err := fs.Mkdir(fs.Root(), "usr", 0o755); err != abi.EEXIST {
		t.Errorf("mkdir over existing = %v, want EEXIST", err)
	}
	if err := fs.Unlink(fs.Root(), "usr", true); err != abi.ENOTEMPTY {
		t.Errorf("rmdir non-empty = %v, want ENOTEMPTY", err)
	}
	ents, err := fs.Root().Entries()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	want := []string{".", "..", "dev", "loop1", "loop2", "proc", "tmp", "up", "usr"}
	if len(names) != len(want) {
		t.Fatalf("root entries = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("root entries = %v, want %v", names, want)
		}
	}
}

func TestPipe(t *testing.T) {
	r, w := vfs.Ends()
	rd := vfs.NewDescription(r, abi.O_RDONLY, "pipe")
	wd := vfs.NewDescription(w, abi.O_WRONLY, "pipe")
	buf := make([]byte, 8)
	if _, err := rd.Read(buf); err != vfs.ErrWouldBlock {
		t.Fatalf("read from empty pipe = %v, want ErrWouldBlock", err)
	}
	big := make([]byte, vfs.PipeCapacity+100)
	k, err := wd.Write(big)
	if err != nil || k != vfs.PipeCapacity {
		t.Fatalf("write beyond capacity = %d, %v", k, err)
	}
	if _, err := wd.Write([]byte("x")); err != vfs.ErrWouldBlock {
		t.Fatalf("write to full pipe = %v", err)
	}
	wd.DecRef()
	total := 0
	for {
		k, err := rd.Read(make([]byte, 10000))
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
		total += k
	}
	if total != vfs.PipeCapacity {
		t.Errorf("read %d bytes, want %d", total, vfs.PipeCapacity)
	}
	r2, w2 := vfs.Ends()
	r2.Release()
	if _, err := vfs.NewDescription(w2, abi.O_WRONLY, "p").Write([]byte("x")); err != abi.EPIPE {
		t.Errorf("write without readers = %v, want EPIPE", err)
	}
}

// TestHostInputArrived: input delivered by the host reader is reported
// once by Arrived, so the scheduler never mistakes input that came in
// after its readers were checked for a deadlock.
func TestHostInputArrived(t *testing.T) {
	pr, pw := io.Pipe()
	h := vfs.NewHostInput(pr)
	defer h.Close()
	if h.Arrived() {
		t.Fatal("arrived before anything was written")
	}
	go pw.Write([]byte("late"))
	if !h.Wait(-1, true, nil) {
		t.Fatal("Wait returned without input")
	}
	if !h.Arrived() {
		t.Fatal("input that arrived is not reported")
	}
	if h.Arrived() {
		t.Fatal("the same input reported twice")
	}
}
