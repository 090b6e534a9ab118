package rootfs

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pierrec/lz4/v4"

	fsimg "github.com/wasmrt/wasmrt/emulator/rootfs"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite emulator/rootfs/testdata/*.img from the golden trees")

// imgTree builds test trees.
type imgTree struct {
	t    testing.TB
	tree *Tree
}

func newImgTree(t testing.TB) *imgTree {
	t.Helper()
	tr, err := NewTree(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	tr.Root.Mtime = time.Unix(1700000000, 0)
	return &imgTree{t: t, tree: tr}
}

var testMtime = time.Unix(1704207845, 123456789) // 2024-01-02 15:04:05.123456789 UTC

func (b *imgTree) dir(parent *Inode, name string, perm uint32) *Inode {
	d := NewDir(perm)
	d.Mtime = testMtime
	parent.Children[name] = d
	return d
}

func (b *imgTree) file(parent *Inode, name string, perm uint32, content []byte) *Inode {
	b.t.Helper()
	f := &Inode{Mode: ModeRegular | perm, Mtime: testMtime}
	if _, err := b.tree.SetContent(f, bytes.NewReader(content), int64(len(content))+1); err != nil {
		b.t.Fatal(err)
	}
	parent.Children[name] = f
	return f
}

func (b *imgTree) symlink(parent *Inode, name, target string) *Inode {
	l := &Inode{Mode: ModeSymlink | 0o777, Target: target, Mtime: testMtime}
	parent.Children[name] = l
	return l
}

func (b *imgTree) special(parent *Inode, name string, mode uint32, rdev uint64) *Inode {
	n := &Inode{Mode: mode, Rdev: rdev, Mtime: testMtime}
	parent.Children[name] = n
	return n
}

func writeImage(t testing.TB, tr *Tree, opts WriteOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, tr, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func openImage(t testing.TB, b []byte) *fsimg.Image {
	t.Helper()
	im, err := fsimg.Open(b)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return im
}

func makedev(major, minor uint64) uint64 {
	return major&0xfff<<8 | major&^0xfff<<32 | minor&0xff | minor&^0xff<<12
}

// textLike returns n bytes of compressible, text-like data.
func textLike(rng *rand.Rand, n int) []byte {
	words := []string{"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog ", "\n", "func ", "return ", "if ", "err ", "!= ", "nil ", "{\n", "}\n", "\t"}
	var b []byte
	for len(b) < n {
		b = append(b, words[rng.IntN(len(words))]...)
	}
	return b[:n]
}

// binaryLike returns n bytes that compress moderately, like machine code.
func binaryLike(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 4 {
		op := uint32(rng.IntN(64))<<26 | uint32(rng.IntN(32))<<21 | uint32(rng.IntN(32))<<16 | uint32(rng.IntN(256))
		b[i] = byte(op)
		if i+3 < n {
			b[i+1], b[i+2], b[i+3] = byte(op>>8), byte(op>>16), byte(op>>24)
		}
	}
	return b
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// goldenSmall is the worked example of docs/rootfs-format.md.
func goldenSmall(t testing.TB) (*Tree, WriteOptions) {
	b := newImgTree(t)
	etc := b.dir(b.tree.Root, "etc", 0o755)
	b.file(etc, "hostname", 0o644, []byte("wasmrt\n"))
	b.symlink(b.tree.Root, "hostname", "etc/hostname")
	return b.tree, DefaultWriteOptions()
}

// goldenMixed has one of everything the format stores, with 4 KiB chunks to
// keep it small.
func goldenMixed(t testing.TB) (*Tree, WriteOptions) {
	rng := rand.New(rand.NewPCG(1, 2))
	b := newImgTree(t)
	root := b.tree.Root
	bin := b.dir(root, "bin", 0o755)
	sh := b.file(bin, "sh", 0o4755, binaryLike(rng, 9000))
	sh.Xattrs = map[string][]byte{"security.capability": {1, 0, 0, 2, 0x20, 0, 0, 0}, "user.note": []byte("x")}
	bin.Children["ash"] = sh
	tmp := b.dir(root, "tmp", 0o1777)
	tmp.UID, tmp.GID = 0, 0
	b.file(tmp, "empty", 0o600, nil)
	sparse := append(append(textLike(rng, 5000), make([]byte, 3*4096)...), randomBytes(rng, 4096+100)...)
	b.file(tmp, "sparse", 0o644, sparse)
	etc := b.dir(root, "etc", 0o755)
	b.file(etc, "motd", 0o644, textLike(rng, 6000))
	dev := b.dir(root, "dev", 0o755)
	b.special(dev, "null", ModeChar|0o666, makedev(1, 3))
	b.special(dev, "sda", ModeBlock|0o660, makedev(259, 1048575))
	b.special(dev, "fifo", ModeFIFO|0o644, 0)
	b.special(dev, "sock", ModeSocket|0o755, 0)
	home := b.dir(root, "home", 0o2750)
	home.UID, home.GID = 1000, 1000
	u := b.file(home, "ünïcödé 日本", 0o640, []byte("héllo\n"))
	u.UID, u.GID = 1000, 100
	b.symlink(home, "odd\nname\xff", "../bin/sh")
	return b.tree, WriteOptions{ChunkSize: 4096, Codec: CodecDeflate}
}

// goldenCompact has every kind of record in a few kilobytes, as a fuzzing
// seed that mutations can cover quickly.
func goldenCompact(t testing.TB) (*Tree, WriteOptions) {
	b := newImgTree(t)
	root := b.tree.Root
	d := b.dir(root, "d", 0o1777)
	f := b.file(d, "f", 0o4755, slices.Concat(make([]byte, 4096), bytes.Repeat([]byte("compressible "), 20)))
	f.Xattrs = map[string][]byte{"user.a": []byte("1"), "user.b": nil}
	d.Children["hard"] = f
	b.file(root, "raw", 0o644, []byte("raw"))
	b.file(root, "empty", 0o644, nil)
	b.symlink(root, "link", "d/f")
	b.special(root, "null", ModeChar|0o666, makedev(1, 3))
	b.special(root, "fifo", ModeFIFO|0o644, 0)
	return b.tree, WriteOptions{ChunkSize: 4096, Codec: CodecDeflate}
}

// goldenLZ4 is goldenMixed with LZ4 chunks.
func goldenLZ4(t testing.TB) (*Tree, WriteOptions) {
	tr, opts := goldenMixed(t)
	opts.Codec = CodecLZ4
	return tr, opts
}

var goldenTrees = map[string]func(testing.TB) (*Tree, WriteOptions){
	"small.img":   goldenSmall,
	"mixed.img":   goldenMixed,
	"compact.img": goldenCompact,
	"lz4.img":     goldenLZ4,
}

// TestGoldenImages pins the format: the writer must keep producing these
// exact bytes (the reader's tests, its fuzz seeds and the spec's worked
// example use them). Regenerate with -update-golden after a deliberate
// format change.
func TestGoldenImages(t *testing.T) {
	for name, build := range goldenTrees {
		t.Run(name, func(t *testing.T) {
			tr, opts := build(t)
			got := writeImage(t, tr, opts)
			path := filepath.Join("..", "..", "emulator", "rootfs", "testdata", name)
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update-golden to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("writer output for %s differs from %s (%d vs %d bytes); the format or writer changed", name, path, len(got), len(want))
			}
			verifyRoundTrip(t, tr, openImage(t, got))
		})
	}
}

// verifyRoundTrip checks every name in tr against the image: inode numbers
// in Walk order, metadata, link counts, directory listings, lookups, symlink
// targets, xattrs and content (whole and in odd-sized pieces).
func verifyRoundTrip(t *testing.T, tr *Tree, im *fsimg.Image) {
	t.Helper()
	inos := map[*Inode]fsimg.Ino{}
	names := map[*Inode]int{}
	var order []*Inode
	subdirs := map[*Inode]int{}
	if err := tr.Walk(func(path string, n *Inode) error {
		if _, ok := inos[n]; !ok {
			order = append(order, n)
			inos[n] = fsimg.Ino(len(order))
		}
		names[n]++
		if n.IsDir() {
			for _, c := range n.Children {
				if c.IsDir() {
					subdirs[n]++
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if im.NumInodes() != len(order) {
		t.Fatalf("image has %d inodes, tree %d", im.NumInodes(), len(order))
	}
	checked := 0
	err := tr.Walk(func(path string, n *Inode) error {
		ino, err := im.LookupPath(path)
		if err != nil {
			t.Errorf("LookupPath(%q): %v", path, err)
			return nil
		}
		if want := inos[n]; ino != want {
			t.Errorf("%q: inode %d, want %d (Walk order)", path, ino, want)
		}
		st, err := im.Stat(ino)
		if err != nil {
			t.Fatalf("Stat(%q): %v", path, err)
		}
		wantNlink := uint32(names[n])
		if n.IsDir() {
			wantNlink = uint32(2 + subdirs[n])
		}
		want := fsimg.Stat{
			Ino: ino, Mode: n.Mode, Nlink: wantNlink, UID: n.UID, GID: n.GID,
			MtimeSec: n.Mtime.Unix(), MtimeNsec: int64(n.Mtime.Nanosecond()),
		}
		switch n.Type() {
		case ModeRegular:
			want.Size = n.Size
		case ModeSymlink:
			want.Size = int64(len(n.Target))
		case ModeChar, ModeBlock:
			want.Rdev = n.Rdev
		}
		if st != want {
			t.Errorf("Stat(%q) = %+v, want %+v", path, st, want)
		}
		gotX := map[string][]byte{}
		im.Xattrs(ino, func(name string, value []byte) bool {
			gotX[name] = bytes.Clone(value)
			v, err := im.Xattr(ino, name)
			if err != nil || !bytes.Equal(v, value) {
				t.Errorf("%q: Xattr(%q) = %q, %v; listed %q", path, name, v, err, value)
			}
			return true
		})
		if len(gotX) != len(n.Xattrs) {
			t.Errorf("%q: xattrs %q, want %q", path, gotX, n.Xattrs)
		}
		for k, v := range n.Xattrs {
			if !bytes.Equal(gotX[k], v) {
				t.Errorf("%q: xattr %q = %q, want %q", path, k, gotX[k], v)
			}
		}
		if _, err := im.Xattr(ino, "user.absent"); !errors.Is(err, fsimg.ErrNoXattr) {
			t.Errorf("%q: Xattr(absent) error %v, want ErrNoXattr", path, err)
		}
		switch n.Type() {
		case ModeSymlink:
			if target, err := im.Readlink(ino); err != nil || target != n.Target {
				t.Errorf("Readlink(%q) = %q, %v; want %q", path, target, err, n.Target)
			}
		case ModeDir:
			var got []string
			if err := im.ReadDir(ino, 0, func(i int, e fsimg.DirEntry) bool {
				got = append(got, e.Name)
				c := n.Children[e.Name]
				if c == nil || e.Ino != inos[c] || e.Type != c.Type() || i != len(got)-1 {
					t.Errorf("%q: ReadDir entry %d %+v does not match the tree", path, i, e)
				}
				return true
			}); err != nil {
				t.Errorf("ReadDir(%q): %v", path, err)
			}
			if wantNames := SortedNames(n); !slices.Equal(got, wantNames) {
				t.Errorf("ReadDir(%q) = %q, want %q", path, got, wantNames)
			}
			if parent, err := im.Lookup(ino, ".."); err != nil || (path != "/" && parent != inos[parentOf(tr, path)]) {
				t.Errorf("Lookup(%q, \"..\") = %d, %v", path, parent, err)
			}
		case ModeRegular:
			verifyContent(t, tr, im, path, n, ino)
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("walked nothing")
	}
}

func parentOf(tr *Tree, path string) *Inode {
	n := tr.Root
	comps := strings.Split(strings.Trim(path, "/"), "/")
	for _, c := range comps[:len(comps)-1] {
		n = n.Children[c]
	}
	return n
}

func verifyContent(t *testing.T, tr *Tree, im *fsimg.Image, path string, n *Inode, ino fsimg.Ino) {
	t.Helper()
	sr, err := tr.Content(n)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(sr)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want)+10)
	k, err := im.ReadAt(ino, got, 0)
	if k != len(want) || err != io.EOF || !bytes.Equal(got[:k], want) {
		t.Errorf("ReadAt(%q, whole+10) = %d, %v; want %d bytes, EOF, equal content: %v", path, k, err, len(want), bytes.Equal(got[:k], want))
	}
	// Odd-sized pieces that straddle chunk boundaries.
	piece := make([]byte, 1000)
	for off := 0; off < len(want); off += 777 {
		k, err := im.ReadAt(ino, piece, int64(off))
		wantK := min(len(piece), len(want)-off)
		if k != wantK || !bytes.Equal(piece[:k], want[off:off+k]) || (k < len(piece)) != (err == io.EOF) {
			t.Fatalf("ReadAt(%q, 1000 @ %d) = %d, %v", path, off, k, err)
		}
	}
	if k, err := im.ReadAt(ino, piece, int64(len(want))); k != 0 || err != io.EOF {
		t.Errorf("ReadAt(%q) at EOF = %d, %v", path, k, err)
	}
	for off := 0; off < len(want); off += im.ChunkSize() {
		if raw, ok := im.RawData(ino, int64(off)); ok {
			end := min(len(want), (off/im.ChunkSize()+1)*im.ChunkSize())
			if !bytes.Equal(raw, want[off:end]) {
				t.Errorf("RawData(%q, %d) does not match the content", path, off)
			}
		}
	}
}

func TestRoundTripFeatures(t *testing.T) {
	for name, codec := range Codecs {
		t.Run(name, func(t *testing.T) {
			tr, _ := goldenMixed(t)
			im := openImage(t, writeImage(t, tr, WriteOptions{ChunkSize: 4096, Codec: codec}))
			verifyRoundTrip(t, tr, im)

			// Hard links share one inode.
			a, _ := im.LookupPath("/bin/ash")
			s, _ := im.LookupPath("/bin/sh")
			if st, _ := im.Stat(s); a != s || st.Nlink != 2 {
				t.Errorf("hard link: ash=%d sh=%d nlink=%d", a, s, st.Nlink)
			}
		})
	}
}

func TestRoundTripLargeFileSparseAndRaw(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const cs = 64 << 10
	b := newImgTree(t)
	noise := randomBytes(rng, 3*cs)
	// Chunk 0 random, chunk 1 a little random then zeros, chunks 2-6 zero,
	// 7-8 random, 9 zero and a zero tail that ends mid-chunk.
	content := slices.Concat(noise[:cs+123], make([]byte, 6*cs-123), noise[cs:], make([]byte, cs+5000))
	b.file(b.tree.Root, "big", 0o644, content)
	img := writeImage(t, b.tree, WriteOptions{ChunkSize: cs, Codec: CodecLZ4})
	im := openImage(t, img)
	verifyRoundTrip(t, b.tree, im)

	// Random chunks are stored raw, zero chunks not at all: the image holds
	// three raw chunks, a small compressed one, metadata and at most a
	// page of alignment per raw run.
	if limit := 3*cs + 12<<10; len(img) > limit {
		t.Errorf("image is %d bytes, want ≤ %d (zero chunks must not be stored)", len(img), limit)
	}
	ino, _ := im.LookupPath("/big")
	rawChunks := []int{0, 7, 8}
	for c := range 11 {
		raw, ok := im.RawData(ino, int64(c*cs))
		if want := slices.Contains(rawChunks, c); ok != want {
			t.Errorf("chunk %d: RawData ok=%v, want %v", c, ok, want)
		}
		if ok {
			// Raw chunks are page-aligned within the image.
			pos := uintptr(unsafe.Pointer(unsafe.SliceData(raw))) - uintptr(unsafe.Pointer(unsafe.SliceData(img)))
			if pos%fsimg.PageSize != 0 {
				t.Errorf("chunk %d: raw data at image offset %d, not page-aligned", c, pos)
			}
		}
	}
	if _, ok := im.RawData(ino, int64(len(content))); ok {
		t.Error("RawData past the end succeeded")
	}
}

func TestRoundTripCompressesText(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	b := newImgTree(t)
	content := textLike(rng, 5<<16)
	b.file(b.tree.Root, "text", 0o644, content)
	img := writeImage(t, b.tree, DefaultWriteOptions())
	im := openImage(t, img)
	verifyRoundTrip(t, b.tree, im)
	if len(img) > len(content)/2 {
		t.Errorf("image is %d bytes for %d bytes of text; want less than half", len(img), len(content))
	}
	ino, _ := im.LookupPath("/text")
	if _, ok := im.RawData(ino, 0); ok {
		t.Error("text chunk stored raw; want compressed")
	}
}

func TestRoundTripUncompressedStoresRaw(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	b := newImgTree(t)
	content := textLike(rng, 200<<10)
	b.file(b.tree.Root, "text", 0o644, content)
	img := writeImage(t, b.tree, WriteOptions{Codec: CodecNone})
	im := openImage(t, img)
	verifyRoundTrip(t, b.tree, im)
	if len(img) < len(content) {
		t.Errorf("uncompressed image is %d bytes for %d bytes of content", len(img), len(content))
	}
	ino, _ := im.LookupPath("/text")
	if raw, ok := im.RawData(ino, 70000); !ok || !bytes.Equal(raw, content[70000:128<<10]) {
		t.Errorf("RawData(70000) ok=%v len=%d, want the rest of the second chunk", ok, len(raw))
	}
}

func TestRoundTripLargeDirectory(t *testing.T) {
	b := newImgTree(t)
	d := b.dir(b.tree.Root, "many", 0o755)
	for i := range 10000 {
		b.special(d, fmt.Sprintf("entry-%05d", i*2), ModeFIFO|0o644, 0)
	}
	im := openImage(t, writeImage(t, b.tree, DefaultWriteOptions()))
	dir, err := im.LookupPath("/many")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[fsimg.Ino]bool{}
	for i := range 20000 {
		name := fmt.Sprintf("entry-%05d", i)
		ino, err := im.Lookup(dir, name)
		if i%2 == 0 && (err != nil || seen[ino]) {
			t.Fatalf("Lookup(%q) = %d, %v", name, ino, err)
		}
		if i%2 == 1 && !errors.Is(err, fsimg.ErrNotExist) {
			t.Fatalf("Lookup(%q) = %d, %v; want ErrNotExist", name, ino, err)
		}
		seen[ino] = true
	}
	for _, name := range []string{"", "entry", "entry-", "entry-99999", "zzz", "Entry-00000"} {
		if _, err := im.Lookup(dir, name); !errors.Is(err, fsimg.ErrNotExist) {
			t.Errorf("Lookup(%q) error %v, want ErrNotExist", name, err)
		}
	}
	// getdents-style resumption from a cookie.
	var resumed []string
	im.ReadDir(dir, 9998, func(i int, e fsimg.DirEntry) bool {
		resumed = append(resumed, fmt.Sprintf("%d:%s", i, e.Name))
		return true
	})
	if want := []string{"9998:entry-19996", "9999:entry-19998"}; !slices.Equal(resumed, want) {
		t.Errorf("ReadDir from 9998 = %q, want %q", resumed, want)
	}
}

func TestRoundTripDeepAndOddNames(t *testing.T) {
	b := newImgTree(t)
	d := b.tree.Root
	var path string
	for i := range 200 {
		name := fmt.Sprintf("d%d", i%7)
		d = b.dir(d, name, 0o755)
		path += "/" + name
	}
	b.file(d, "leaf", 0o644, []byte("deep"))
	odd := []string{"ünïcödé", "日本語", "with space", "new\nline", "\x01ctl", "\xff\xfe not utf8", `back\slash`,
		strings.Repeat("n", 255), "A", "a", "B", "_", "~", "-", "\x7f"}
	for i, name := range odd {
		b.file(b.tree.Root, name, 0o644, []byte{byte(i)})
	}
	im := openImage(t, writeImage(t, b.tree, DefaultWriteOptions()))
	verifyRoundTrip(t, b.tree, im)
	leaf, err := im.LookupPath(path + "/leaf")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := im.LookupPath(path + "/./../" + strings.TrimPrefix(path[strings.LastIndex(path, "/"):], "/") + "//leaf"); err != nil || again != leaf {
		t.Errorf("LookupPath with . .. and // = %d, %v; want %d", again, err, leaf)
	}
	if _, err := im.LookupPath(path + "/leaf/x"); !errors.Is(err, fsimg.ErrNotDir) {
		t.Errorf("lookup through a file: %v, want ErrNotDir", err)
	}
}

func TestWriteDeterministic(t *testing.T) {
	tr, opts := goldenMixed(t)
	first := writeImage(t, tr, opts)
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	if second := writeImage(t, tr, opts); !bytes.Equal(first, second) {
		t.Error("output depends on the number of workers")
	}
}

func TestWriteProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	b := newImgTree(t)
	b.file(b.tree.Root, "a", 0o644, textLike(rng, 300<<10))
	h := b.file(b.tree.Root, "b", 0o644, textLike(rng, 10))
	b.tree.Root.Children["c"] = h // a hard link counts once
	var calls int
	var last, total int64
	opts := DefaultWriteOptions()
	opts.Progress = func(done, tot int64) {
		if done < last || done > tot {
			t.Errorf("progress %d/%d after %d", done, tot, last)
		}
		calls++
		last, total = done, tot
	}
	writeImage(t, b.tree, opts)
	if want := int64(300<<10 + 10); last != want || total != want || calls != 6 {
		t.Errorf("progress ended at %d/%d after %d calls; want %d/%d after 6", last, total, calls, want, want)
	}
}

func TestWriteRejects(t *testing.T) {
	cases := map[string]func(b *imgTree){
		"slash in name":    func(b *imgTree) { b.file(b.tree.Root, "a/b", 0o644, nil) },
		"dot-dot name":     func(b *imgTree) { b.file(b.tree.Root, "..", 0o644, nil) },
		"empty name":       func(b *imgTree) { b.file(b.tree.Root, "", 0o644, nil) },
		"NUL in name":      func(b *imgTree) { b.file(b.tree.Root, "a\x00", 0o644, nil) },
		"long name":        func(b *imgTree) { b.file(b.tree.Root, strings.Repeat("x", 256), 0o644, nil) },
		"empty symlink":    func(b *imgTree) { b.symlink(b.tree.Root, "l", "") },
		"long symlink":     func(b *imgTree) { b.symlink(b.tree.Root, "l", strings.Repeat("x", 4096)) },
		"unknown type":     func(b *imgTree) { b.special(b.tree.Root, "x", 0o030644, 0) },
		"stray mode bits":  func(b *imgTree) { b.special(b.tree.Root, "x", ModeFIFO|0o1000000, 0) },
		"nil child":        func(b *imgTree) { b.tree.Root.Children["x"] = nil },
		"directory cycle":  func(b *imgTree) { d := b.dir(b.tree.Root, "d", 0o755); d.Children["loop"] = b.tree.Root },
		"directory link":   func(b *imgTree) { d := b.dir(b.tree.Root, "d", 0o755); b.tree.Root.Children["e"] = d },
		"big xattr":        func(b *imgTree) { b.tree.Root.Xattrs = map[string][]byte{"user.x": make([]byte, 65537)} },
		"empty xattr name": func(b *imgTree) { b.tree.Root.Xattrs = map[string][]byte{"": nil} },
		"short content": func(b *imgTree) {
			f := b.file(b.tree.Root, "f", 0o644, []byte("abc"))
			f.Size = 100000
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			b := newImgTree(t)
			mutate(b)
			var buf bytes.Buffer
			err := Write(&buf, b.tree, DefaultWriteOptions())
			if err == nil {
				t.Fatal("Write succeeded")
			}
			t.Log(err)
		})
	}
	b := newImgTree(t)
	for _, cs := range []int{1000, 2048, 3 << 12, 2 << 20} {
		if err := Write(io.Discard, b.tree, WriteOptions{ChunkSize: cs}); err == nil {
			t.Errorf("chunk size %d accepted", cs)
		}
	}
}

type failingWriter struct{ left int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errors.New("disk full")
	}
	w.left -= len(p)
	return len(p), nil
}

func TestWriteReportsWriterErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	b := newImgTree(t)
	b.file(b.tree.Root, "a", 0o644, randomBytes(rng, 3<<20))
	for _, left := range []int{0, 100, 2 << 20} {
		if err := Write(&failingWriter{left: left}, b.tree, DefaultWriteOptions()); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("after %d bytes: error %v, want disk full", left, err)
		}
	}
}

// BenchmarkWrite encodes ~100 MB of mixed content: text-like, machine-code
// like, random (incompressible) and zero files, in a realistic size spread.
func BenchmarkWrite(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	bt := newImgTree(b)
	var total int64
	for i := 0; total < 100<<20; i++ {
		var content []byte
		size := 1 << (10 + rng.IntN(11)) // 1 KiB .. 1 MiB
		switch i % 8 {
		case 0, 1, 2:
			content = textLike(rng, size)
		case 3, 4, 5:
			content = binaryLike(rng, size)
		case 6:
			content = randomBytes(rng, size)
		case 7:
			content = make([]byte, size)
		}
		d := bt.tree.Root
		if dn := fmt.Sprintf("d%d", i%50); d.Children[dn] == nil {
			bt.dir(d, dn, 0o755)
		}
		bt.file(d.Children[fmt.Sprintf("d%d", i%50)], fmt.Sprintf("f%d", i), 0o644, content)
		total += int64(size)
	}
	b.SetBytes(total)
	b.ResetTimer()
	var out int64
	for b.Loop() {
		cw := &countingWriter{}
		if err := Write(cw, bt.tree, DefaultWriteOptions()); err != nil {
			b.Fatal(err)
		}
		out = cw.n
	}
	b.ReportMetric(float64(out)/float64(total), "ratio")
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkReadAt reads a ~64 MB image of mixed content in 4 KiB pieces,
// sequentially file by file (each chunk decoded once, then served from the
// cache) and at random offsets (mostly a decode per read).
func BenchmarkReadAt(b *testing.B) {
	rng := rand.New(rand.NewPCG(15, 16))
	bt := newImgTree(b)
	var files []string
	for i := 0; i < 64; i++ {
		var content []byte
		switch i % 4 {
		case 0, 1:
			content = textLike(rng, 1<<20)
		case 2:
			content = binaryLike(rng, 1<<20)
		case 3:
			content = randomBytes(rng, 1<<20)
		}
		name := fmt.Sprintf("f%d", i)
		bt.file(bt.tree.Root, name, 0o644, content)
		files = append(files, "/"+name)
	}
	im := openImage(b, writeImage(b, bt.tree, DefaultWriteOptions()))
	inos := make([]fsimg.Ino, len(files))
	for i, f := range files {
		inos[i], _ = im.LookupPath(f)
	}
	buf := make([]byte, 4096)
	b.Run("sequential", func(b *testing.B) {
		b.SetBytes(int64(len(files)) << 20)
		for b.Loop() {
			for _, ino := range inos {
				for off := int64(0); off < 1<<20; off += int64(len(buf)) {
					if _, err := im.ReadAt(ino, buf, off); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
	b.Run("random", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			ino := inos[rng.IntN(len(inos))]
			if _, err := im.ReadAt(ino, buf, rng.Int64N(1<<20-int64(len(buf)))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRawExecutables checks that ELF files are stored uncompressed (and so
// readable in place) with RawExecutables, and compressed without it, while
// other files are compressed either way.
func TestRawExecutables(t *testing.T) {
	b := newImgTree(t)
	text := bytes.Repeat([]byte("the same words again and again "), 8192)
	b.file(b.tree.Root, "prog", 0o755, append([]byte("\x7fELF"), text...))
	b.file(b.tree.Root, "notes", 0o644, text)
	for _, raw := range []bool{true, false} {
		opts := DefaultWriteOptions()
		opts.RawExecutables = raw
		im := openImage(t, writeImage(t, b.tree, opts))
		for name, wantRaw := range map[string]bool{"prog": raw, "notes": false} {
			ino, err := im.LookupPath("/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if _, isRaw := im.RawData(ino, 0); isRaw != wantRaw {
				t.Errorf("RawExecutables=%v: %s stored raw = %v, want %v", raw, name, isRaw, wantRaw)
			}
		}
	}
}

// TestLZ4DecoderMatchesTheLibrary compresses real and generated data with
// the lz4 library the writer uses and checks that the reader's own decoder
// (emulator/rootfs, standard library only) gives back the same bytes as
// the library's decoder, and refuses every truncation.
func TestLZ4DecoderMatchesTheLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	inputs := [][]byte{
		bytes.Repeat([]byte{0}, 65536), // long matches at offset 1
		bytes.Repeat([]byte("abc"), 20000),
		textLike(rng, 65536),
	}
	if b, err := os.ReadFile("/bin/busybox"); err == nil {
		for off := 0; off+65536 <= len(b) && off < 16*65536; off += 65536 {
			inputs = append(inputs, b[off:off+65536])
		}
	}
	for i := range 20 {
		n := 1 + rng.IntN(65536)
		b := make([]byte, n)
		for j := range b {
			// Small alphabets and repeats make every sequence shape.
			if j > 8 && rng.IntN(3) == 0 {
				b[j] = b[j-1-rng.IntN(8)]
			} else {
				b[j] = byte(rng.IntN(4 + i*12))
			}
		}
		inputs = append(inputs, b)
	}
	var c lz4.Compressor
	for i, in := range inputs {
		buf := make([]byte, lz4.CompressBlockBound(len(in)))
		n, err := c.CompressBlock(in, buf)
		if err != nil || n == 0 {
			continue // incompressible: the writer stores it raw
		}
		block := buf[:n]
		want := make([]byte, len(in))
		if m, err := lz4.UncompressBlock(block, want); err != nil || m != len(in) || !bytes.Equal(want, in) {
			t.Fatalf("input %d: the library does not round-trip (%d, %v)", i, m, err)
		}
		got := make([]byte, len(in))
		if !fsimg.DecodeLZ4(block, got) || !bytes.Equal(got, in) {
			t.Errorf("input %d (%d bytes → %d): the reader's decoder differs from the library's", i, len(in), n)
		}
		for _, cut := range []int{1, 2, n / 2, n - 1} {
			if cut > 0 && cut < n && fsimg.DecodeLZ4(block[:cut], make([]byte, len(in))) {
				t.Errorf("input %d: a block cut to %d of %d bytes was accepted", i, cut, n)
			}
		}
	}
}
