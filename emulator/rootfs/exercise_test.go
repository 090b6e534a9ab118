package rootfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// goldenImage returns a test image written by the converter's writer
// (convert/rootfs TestGoldenImages keeps these files in sync with it).
func goldenImage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exercise reads at most maxReadPerFile bytes of each file and maxRead in
// all, since a small hostile image can declare many huge sparse files.
const (
	maxReadPerFile = 1 << 20
	maxRead        = 8 << 20
)

// fileView is what exercise observed for one path.
type fileView struct {
	stat    Stat
	target  string
	xattrs  string
	content []byte
	readErr error // non-nil if reading the content failed
}

// exercise calls every accessor on every inode reachable from the root and
// checks that the answers agree with each other. It fails t on an
// inconsistency, an unexpected error kind or a panic, and returns what it
// saw by path.
func exercise(t testing.TB, im *Image) map[string]*fileView {
	t.Helper()
	views := map[string]*fileView{}
	budget := int64(maxRead)
	n := im.NumInodes()
	for _, bad := range []Ino{0, Ino(n + 1)} {
		if _, err := im.Stat(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Stat(%d) error %v, want ErrInvalid", bad, err)
		}
	}
	for ino := 1; ino <= n; ino++ {
		if _, err := im.Stat(Ino(ino)); err != nil {
			t.Fatalf("Stat(%d): %v", ino, err)
		}
	}
	visitedDirs := map[Ino]bool{}
	var walk func(path string, dir Ino)
	walk = func(path string, dir Ino) {
		if visitedDirs[dir] {
			t.Fatalf("directory %d reached twice (at %q): Open must reject non-tree images", dir, path)
		}
		visitedDirs[dir] = true
		var entries []DirEntry
		if err := im.ReadDir(dir, 0, func(i int, e DirEntry) bool {
			if i != len(entries) {
				t.Fatalf("ReadDir(%q) index %d, want %d", path, i, len(entries))
			}
			entries = append(entries, e)
			return true
		}); err != nil {
			t.Fatalf("ReadDir(%q): %v", path, err)
		}
		for i, e := range entries {
			if i > 0 && entries[i-1].Name >= e.Name {
				t.Fatalf("ReadDir(%q): %q before %q", path, entries[i-1].Name, e.Name)
			}
			got, err := im.Lookup(dir, e.Name)
			if err != nil || got != e.Ino {
				t.Fatalf("Lookup(%q, %q) = %d, %v; ReadDir says %d", path, e.Name, got, err, e.Ino)
			}
			// Resuming at i yields entry i.
			im.ReadDir(dir, i, func(j int, r DirEntry) bool {
				if j != i || r != e {
					t.Fatalf("ReadDir(%q, start %d) gave %d %+v, want %+v", path, i, j, r, e)
				}
				return false
			})
			child := path + e.Name
			st := exerciseInode(t, im, child, e.Ino, views, &budget)
			if st.Mode&modeType != e.Type {
				t.Fatalf("%q: entry type %#o, inode mode %#o", child, e.Type, st.Mode)
			}
			if e.Type == modeDir {
				if up, err := im.Lookup(e.Ino, ".."); err != nil || up != dir {
					t.Fatalf("Lookup(%q, \"..\") = %d, %v; want %d", child, up, err, dir)
				}
				walk(child+"/", e.Ino)
			} else if _, err := im.Lookup(e.Ino, "x"); !errors.Is(err, ErrNotDir) {
				t.Fatalf("Lookup(%q, x) error %v, want ErrNotDir", child, err)
			}
		}
	}
	exerciseInode(t, im, "/", im.Root(), views, &budget)
	walk("/", im.Root())
	return views
}

func exerciseInode(t testing.TB, im *Image, path string, ino Ino, views map[string]*fileView, budget *int64) Stat {
	t.Helper()
	st, err := im.Stat(ino)
	if err != nil || st.Ino != ino {
		t.Fatalf("Stat(%q) = %+v, %v", path, st, err)
	}
	v := &fileView{stat: st}
	views[path] = v
	if p, err := im.LookupPath(path); err != nil || p != ino {
		t.Fatalf("LookupPath(%q) = %d, %v; want %d", path, p, err, ino)
	}

	var xs bytes.Buffer
	if err := im.Xattrs(ino, func(name string, value []byte) bool {
		fmt.Fprintf(&xs, "%q=%q;", name, value)
		if got, err := im.Xattr(ino, name); err != nil || !bytes.Equal(got, value) {
			t.Fatalf("%q: Xattr(%q) = %q, %v; listed %q", path, name, got, err, value)
		}
		return true
	}); err != nil {
		t.Fatalf("Xattrs(%q): %v", path, err)
	}
	v.xattrs = xs.String()

	target, err := im.Readlink(ino)
	if st.IsSymlink() != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
		t.Fatalf("Readlink(%q) = %q, %v for mode %#o", path, target, err, st.Mode)
	}
	if err == nil && int64(len(target)) != st.Size {
		t.Fatalf("Readlink(%q): %d bytes, size %d", path, len(target), st.Size)
	}
	v.target = target

	var buf [1]byte
	_, err = im.ReadAt(ino, buf[:], 0)
	switch {
	case st.IsRegular():
		v.content, v.readErr = readFile(t, im, path, ino, st.Size, budget)
	case st.IsDir():
		if !errors.Is(err, ErrIsDir) {
			t.Fatalf("ReadAt(directory %q) error %v, want ErrIsDir", path, err)
		}
	default:
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("ReadAt(%q, mode %#o) error %v, want ErrInvalid", path, st.Mode, err)
		}
	}
	return st
}

// readFile reads up to maxReadPerFile bytes (and no more than the budget) of a regular file in odd-sized
// pieces and checks RawData against them. The only error allowed is
// ErrCorrupt; it is returned.
func readFile(t testing.TB, im *Image, path string, ino Ino, size int64, budget *int64) ([]byte, error) {
	t.Helper()
	if _, err := im.ReadAt(ino, make([]byte, 1), -1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ReadAt(%q, off -1) error %v, want ErrInvalid", path, err)
	}
	n := min(size, maxReadPerFile, *budget)
	*budget -= n
	content := make([]byte, n)
	for off := int64(0); off < n; {
		piece := content[off:min(n, off+5000)]
		k, err := im.ReadAt(ino, piece, off)
		if err != nil && !(err == io.EOF && off+int64(k) == size) {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("ReadAt(%q, %d @ %d) error %v, want ErrCorrupt", path, len(piece), off, err)
			}
			return nil, err
		}
		if k != len(piece) {
			t.Fatalf("ReadAt(%q, %d @ %d) = %d, %v", path, len(piece), off, k, err)
		}
		off += int64(k)
	}
	if n == size {
		if k, err := im.ReadAt(ino, make([]byte, 3), size); k != 0 || err != io.EOF {
			t.Fatalf("ReadAt(%q) at the end = %d, %v; want 0, EOF", path, k, err)
		}
	}
	cs := int64(im.ChunkSize())
	for off := int64(0); off < n; off += cs / 2 {
		raw, ok := im.RawData(ino, off)
		if !ok {
			continue
		}
		end := min(size, (off/cs+1)*cs)
		if int64(len(raw)) != end-off || !bytes.Equal(raw[:min(int64(len(raw)), n-off)], content[off:min(end, n)]) {
			t.Fatalf("RawData(%q, %d): %d bytes that differ from ReadAt", path, off, len(raw))
		}
	}
	return content, nil
}

// sliceSource is a Source over bytes in memory, for checking OpenSource
// against Open on the same images.
type sliceSource []byte

func (s sliceSource) Size() int64 { return int64(len(s)) }

func (s sliceSource) ReadAt(p []byte, off int64) error {
	if off < 0 || off > int64(len(s)) || int64(len(p)) > int64(len(s))-off {
		return fmt.Errorf("read of %d bytes at %d outside %d", len(p), off, len(s))
	}
	copy(p, s[off:])
	return nil
}

// openBoth opens b with Open and with OpenSource, requires both to agree
// (both refuse it as corrupt, or both accept it and every accessor answers
// the same), and returns Open's result.
func openBoth(t testing.TB, b []byte) (*Image, error) {
	t.Helper()
	im, err := Open(b)
	sim, serr := OpenSource(sliceSource(b))
	if (err == nil) != (serr == nil) {
		t.Fatalf("Open error %v but OpenSource error %v", err, serr)
	}
	if err != nil {
		if !errors.Is(serr, ErrCorrupt) {
			t.Fatalf("OpenSource error %v is not ErrCorrupt", serr)
		}
		return nil, err
	}
	a, s := exercise(t, im), exercise(t, sim)
	if len(a) != len(s) {
		t.Fatalf("Open sees %d paths, OpenSource %d", len(a), len(s))
	}
	for path, v := range a {
		w := s[path]
		if w == nil || v.stat != w.stat || v.target != w.target || v.xattrs != w.xattrs ||
			!bytes.Equal(v.content, w.content) || (v.readErr == nil) != (w.readErr == nil) {
			t.Fatalf("%s: Open sees %+v, OpenSource %+v", path, v, w)
		}
	}
	return im, nil
}
