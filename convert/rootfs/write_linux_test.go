package rootfs

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	fsimg "github.com/wasmrt/wasmrt/emulator/rootfs"
)

// TestRoundTripHostTree copies a real directory tree (part of the Go
// distribution: sources, text and binary test data, ELF files) into a Tree
// and checks the image against the host file system as the oracle.
func TestRoundTripHostTree(t *testing.T) {
	src := filepath.Join(runtime.GOROOT(), "src")
	dirs := []string{"compress", "archive", "debug"}
	b := newImgTree(t)
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(src, d)); err != nil {
			t.Skipf("Go sources not available: %v", err)
		}
		copyHostTree(t, b, b.tree.Root, filepath.Join(src, d), d)
	}
	im := openImage(t, writeImage(t, b.tree, DefaultWriteOptions()))
	files := 0
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(src, d), func(hostPath string, de os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, hostPath)
			ino, err := im.LookupPath("/" + filepath.ToSlash(rel))
			if err != nil {
				t.Errorf("%s: %v", rel, err)
				return nil
			}
			var hst syscall.Stat_t
			if err := syscall.Lstat(hostPath, &hst); err != nil {
				return err
			}
			st, _ := im.Stat(ino)
			if st.Mode != hst.Mode || st.UID != hst.Uid || st.GID != hst.Gid ||
				st.MtimeSec != hst.Mtim.Sec || st.MtimeNsec != hst.Mtim.Nsec {
				t.Errorf("%s: image %+v, host mode %#o uid %d gid %d mtime %d.%09d", rel, st, hst.Mode, hst.Uid, hst.Gid, hst.Mtim.Sec, hst.Mtim.Nsec)
			}
			switch hst.Mode & ModeType {
			case ModeRegular:
				want, err := os.ReadFile(hostPath)
				if err != nil {
					return err
				}
				got := make([]byte, len(want))
				if n, err := im.ReadAt(ino, got, 0); n != len(want) || (err != nil && err != io.EOF) || !bytes.Equal(got, want) {
					t.Errorf("%s: content differs (%d bytes read, %v)", rel, n, err)
				}
				files++
			case ModeDir:
				hostNames, err := os.ReadDir(hostPath)
				if err != nil {
					return err
				}
				var want, got []string
				for _, e := range hostNames {
					if e.Type().IsRegular() || e.IsDir() || e.Type()&os.ModeSymlink != 0 {
						want = append(want, e.Name())
					}
				}
				im.ReadDir(ino, 0, func(_ int, e fsimg.DirEntry) bool { got = append(got, e.Name); return true })
				if !slices.Equal(got, want) {
					t.Errorf("%s: entries %q, host %q", rel, got, want)
				}
			case ModeSymlink:
				want, _ := os.Readlink(hostPath)
				if got, err := im.Readlink(ino); got != want || err != nil {
					t.Errorf("%s: link %q, %v; host %q", rel, got, err, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 100 {
		t.Errorf("compared only %d files", files)
	}
}

// copyHostTree adds host directory hostDir to the tree as parent/name,
// with the host's metadata and content (regular files, directories and
// symlinks only).
func copyHostTree(t *testing.T, b *imgTree, parent *Inode, hostDir, name string) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(hostDir, &st); err != nil {
		t.Fatal(err)
	}
	meta := func(n *Inode, st *syscall.Stat_t) {
		n.Mode, n.UID, n.GID = st.Mode, st.Uid, st.Gid
		n.Mtime = time.Unix(st.Mtim.Sec, st.Mtim.Nsec)
	}
	dir := NewDir(0)
	meta(dir, &st)
	parent.Children[name] = dir
	entries, err := os.ReadDir(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(hostDir, e.Name())
		var est syscall.Stat_t
		if err := syscall.Lstat(p, &est); err != nil {
			t.Fatal(err)
		}
		switch est.Mode & ModeType {
		case ModeDir:
			copyHostTree(t, b, dir, p, e.Name())
		case ModeRegular:
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			n := &Inode{}
			meta(n, &est)
			_, err = b.tree.SetContent(n, f, est.Size+1)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			dir.Children[e.Name()] = n
		case ModeSymlink:
			target, err := os.Readlink(p)
			if err != nil {
				t.Fatal(err)
			}
			n := &Inode{Target: target}
			meta(n, &est)
			dir.Children[e.Name()] = n
		}
	}
}
