package rootfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"sync"
	"testing"
)

func mustOpen(t testing.TB, b []byte) *Image {
	t.Helper()
	im, err := Open(b)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return im
}

func mustLookup(t testing.TB, im *Image, path string) Ino {
	t.Helper()
	ino, err := im.LookupPath(path)
	if err != nil {
		t.Fatalf("LookupPath(%q): %v", path, err)
	}
	return ino
}

func TestSmallImage(t *testing.T) {
	im := mustOpen(t, goldenImage(t, "small.img"))
	if major, minor := im.Version(); major != 1 || minor != 1 {
		t.Errorf("version %d.%d", major, minor)
	}
	if im.NumInodes() != 4 || im.ChunkSize() != DefaultChunkSize || im.PageSize() != PageSize {
		t.Errorf("inodes %d, chunk size %d, page size %d", im.NumInodes(), im.ChunkSize(), im.PageSize())
	}
	for _, p := range []string{"/", "", ".", "//", "/etc/..", "/./etc/../"} {
		if ino, err := im.LookupPath(p); err != nil || ino != RootIno {
			t.Errorf("LookupPath(%q) = %d, %v; want the root", p, ino, err)
		}
	}
	host := mustLookup(t, im, "/etc/hostname")
	st, _ := im.Stat(host)
	if st.Mode != modeRegular|0o644 || st.Size != 7 || st.Nlink != 1 || st.MtimeNsec != 123456789 || st.Mtime().Unix() != 1704207845 {
		t.Errorf("Stat(/etc/hostname) = %+v", st)
	}
	buf := make([]byte, 16)
	if n, err := im.ReadAt(host, buf, 0); n != 7 || err != io.EOF || string(buf[:n]) != "wasmrt\n" {
		t.Errorf("ReadAt = %d %q %v", n, buf[:n], err)
	}
	if n, err := im.ReadAt(host, buf[:3], 4); n != 3 || err != nil || string(buf[:3]) != "rt\n" {
		t.Errorf("ReadAt(3 @ 4) = %d %q %v", n, buf[:n], err)
	}
	if n, err := im.ReadAt(host, buf[:0], 2); n != 0 || err != nil {
		t.Errorf("empty ReadAt = %d, %v", n, err)
	}
	link := mustLookup(t, im, "/hostname")
	if target, err := im.Readlink(link); target != "etc/hostname" || err != nil {
		t.Errorf("Readlink = %q, %v", target, err)
	}
	root, _ := im.Stat(RootIno)
	if root.Nlink != 3 || root.Mode != modeDir|0o755 {
		t.Errorf("root %+v, want nlink 3 mode 040755", root)
	}

	// Error kinds.
	etc := mustLookup(t, im, "/etc")
	checks := []struct {
		what string
		err  error
		want error
	}{
		{"lookup missing", second(im.LookupPath("/nope")), ErrNotExist},
		{"lookup through a symlink", second(im.LookupPath("/hostname/x")), ErrNotDir},
		{"lookup in a file", second(im.Lookup(host, "x")), ErrNotDir},
		{"lookup in inode 0", second(im.Lookup(0, "x")), ErrInvalid},
		{"readlink of a file", second(im.Readlink(host)), ErrInvalid},
		{"read a directory", second(im.ReadAt(etc, buf, 0)), ErrIsDir},
		{"read a symlink", second(im.ReadAt(link, buf, 0)), ErrInvalid},
		{"read at -1", second(im.ReadAt(host, buf, -1)), ErrInvalid},
		{"readdir of a file", im.ReadDir(host, 0, nil), ErrNotDir},
		{"readdir from -1", im.ReadDir(etc, -1, nil), ErrInvalid},
		{"missing xattr", second(im.Xattr(host, "user.x")), ErrNoXattr},
		{"stat of a too large inode", second(im.Stat(5)), ErrInvalid},
	}
	for _, c := range checks {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want %v", c.what, c.err, c.want)
		}
	}
	var pe *fs.PathError
	if _, err := im.LookupPath("/etc/nope"); !errors.As(err, &pe) || pe.Path != "/etc/nope" {
		t.Errorf("LookupPath error %v is not a PathError naming the path", err)
	}
	if n := len(exercise(t, im)); n != 4 {
		t.Errorf("exercise saw %d names, want 4", n)
	}
}

func second[T any](_ T, err error) error { return err }

func TestMixedImage(t *testing.T) {
	im := mustOpen(t, goldenImage(t, "mixed.img"))
	sh := mustLookup(t, im, "/bin/sh")
	if ash := mustLookup(t, im, "/bin/ash"); ash != sh {
		t.Errorf("hard link /bin/ash is inode %d, /bin/sh %d", ash, sh)
	}
	st, _ := im.Stat(sh)
	if st.Mode != modeRegular|0o4755 || st.Nlink != 2 || st.Size != 9000 {
		t.Errorf("/bin/sh %+v", st)
	}
	if v, err := im.Xattr(sh, "security.capability"); err != nil || !bytes.Equal(v, []byte{1, 0, 0, 2, 0x20, 0, 0, 0}) {
		t.Errorf("security.capability = %x, %v", v, err)
	}
	var names []string
	im.Xattrs(sh, func(name string, _ []byte) bool { names = append(names, name); return true })
	if len(names) != 2 || names[0] != "security.capability" || names[1] != "user.note" {
		t.Errorf("xattr names %q", names)
	}
	for path, want := range map[string]Stat{
		"/dev/null": {Mode: modeChar | 0o666, Rdev: 1<<8 | 3},
		"/dev/sda":  {Mode: modeBlock | 0o660, Rdev: 259<<8 | 0xff | 0xfff<<20},
		"/dev/fifo": {Mode: modeFIFO | 0o644},
		"/dev/sock": {Mode: modeSocket | 0o755},
		"/tmp":      {Mode: modeDir | 0o1777},
		"/home":     {Mode: modeDir | 0o2750, UID: 1000, GID: 1000},
	} {
		st, _ := im.Stat(mustLookup(t, im, path))
		if st.Mode != want.Mode || st.Rdev != want.Rdev || st.UID != want.UID || st.GID != want.GID {
			t.Errorf("%s: %+v, want %+v", path, st, want)
		}
	}
	if target, _ := im.Readlink(mustLookup(t, im, "/home/odd\nname\xff")); target != "../bin/sh" {
		t.Errorf("odd symlink target %q", target)
	}
	u := mustLookup(t, im, "/home/ünïcödé 日本")
	buf := make([]byte, 20)
	if n, _ := im.ReadAt(u, buf, 0); string(buf[:n]) != "héllo\n" {
		t.Errorf("unicode file content %q", buf[:n])
	}

	// /tmp/sparse: 5000 text bytes, 3 pages of zeros, 4196 random bytes, in
	// 4 KiB chunks: 0-1 text (compressed), 2-3 zero (stored nowhere), 4
	// zeros then random (compressed a little), 5 random (raw).
	sparse := mustLookup(t, im, "/tmp/sparse")
	zeros := make([]byte, 3*4096)
	if n, err := im.ReadAt(sparse, zeros, 5000); n != len(zeros) || err != nil || !bytes.Equal(zeros, make([]byte, len(zeros))) {
		t.Errorf("zero run reads %d, %v, all zero: %v", n, err, bytes.Equal(zeros, make([]byte, len(zeros))))
	}
	for chunk, wantRaw := range []bool{false, false, false, false, false, true} {
		if _, ok := im.RawData(sparse, int64(chunk*4096)); ok != wantRaw {
			t.Errorf("/tmp/sparse chunk %d: RawData ok=%v, want %v", chunk, ok, wantRaw)
		}
	}
	exercise(t, im)
}

// TestConcurrentReads reads every file from several goroutines at once and
// compares with a serial read; run with -race it also checks the cache's
// locking.
func TestConcurrentReads(t *testing.T) {
	img := goldenImage(t, "mixed.img")
	want := exercise(t, mustOpen(t, img))
	im := mustOpen(t, img)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 20 {
				for path, v := range want {
					if !v.stat.IsRegular() {
						continue
					}
					ino, err := im.LookupPath(path)
					if err != nil {
						errs <- err
						return
					}
					got := make([]byte, v.stat.Size)
					// Vary the piece size per goroutine so chunk boundaries interleave.
					step := 100 + 997*g + round
					for off := 0; off < len(got); off += step {
						im.ReadAt(ino, got[off:min(len(got), off+step)], int64(off))
					}
					if !bytes.Equal(got, v.content) {
						errs <- errors.New(path + ": concurrent read differs")
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHotPathsDoNotAllocate guards the zero-copy design: the VFS calls these
// for every path component, getdents and read.
func TestHotPathsDoNotAllocate(t *testing.T) {
	im := mustOpen(t, goldenImage(t, "mixed.img"))
	home := mustLookup(t, im, "/home")
	sh := mustLookup(t, im, "/bin/sh")
	motd := mustLookup(t, im, "/etc/motd")
	sparse := mustLookup(t, im, "/tmp/sparse") // chunk 5 (from 20480) is raw
	buf := make([]byte, 100)
	im.ReadAt(motd, buf, 10) // decode once; later reads hit the cache
	long := string(bytes.Repeat([]byte("n"), 200))
	if _, ok := im.RawData(sparse, 20480); !ok {
		t.Fatal("/tmp/sparse chunk 5 is not raw")
	}
	for name, fn := range map[string]func(){
		"Lookup hit":        func() { im.Lookup(home, "ünïcödé 日本") },
		"Lookup miss":       func() { im.Lookup(home, long) },
		"Stat":              func() { im.Stat(sh) },
		"ReadDir":           func() { im.ReadDir(RootIno, 0, func(int, DirEntry) bool { return true }) },
		"Readlink":          func() { im.Readlink(mustLookup(t, im, "/home/odd\nname\xff")) },
		"Xattr":             func() { im.Xattr(sh, "user.note") },
		"ReadAt raw":        func() { im.ReadAt(sparse, buf, 20500) },
		"ReadAt cached":     func() { im.ReadAt(motd, buf, 20) },
		"RawData":           func() { im.RawData(sparse, 20480) },
		"LookupPath 3 deep": func() { im.LookupPath("/home/ünïcödé 日本") },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %.1f allocations per call, want 0", name, n)
		}
	}
}
