package rootfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	fsimg "github.com/wasmrt/wasmrt/emulator/rootfs"
)

// tarTestMtime is the mtime of test entries unless a test sets another.
var tarTestMtime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// tarEntry is one entry of a test layer.
type tarEntry struct {
	hdr  tar.Header
	body string
}

func tarReg(name, body string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: tarTestMtime}, body: body}
}

func tarDir(name string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: tarTestMtime}}
}

func tarSymlink(name, target string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: tarTestMtime}}
}

func tarHardlink(name, target string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644, ModTime: tarTestMtime}}
}

// whiteout is an empty regular file, as image builders write whiteouts.
func tarWhiteout(name string) tarEntry { return tarReg(name, "") }

// with returns a copy of e changed by edit.
func (e tarEntry) with(edit func(*tar.Header)) tarEntry {
	edit(&e.hdr)
	return e
}

// buildTar writes entries as a tar archive.
func buildTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("writing test tar entry %q: %v", e.hdr.Name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatalf("writing test tar entry %q: %v", e.hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// patchName renames the ustar entry named from to a name archive/tar's
// writer refuses to write (such as a regular file named "/"), fixing the
// header checksum; the name must fit the 100-byte name field.
func patchName(t testing.TB, tarBytes []byte, from, to string) []byte {
	t.Helper()
	out := append([]byte(nil), tarBytes...)
	var field [100]byte
	copy(field[:], from)
	for off := 0; off+512 <= len(out); off += 512 {
		hdr := out[off : off+512]
		if !bytes.Equal(hdr[:100], field[:]) {
			continue
		}
		clear(hdr[:100])
		copy(hdr[:100], to)
		copy(hdr[148:156], "        ")
		sum := 0
		for _, b := range hdr {
			sum += int(b)
		}
		copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
		return out
	}
	t.Fatalf("no tar header named %q", from)
	return nil
}

func newSpillTree(t testing.TB) *Tree {
	t.Helper()
	tree, err := NewTree(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tree.Close() })
	return tree
}

// flatten applies layers in order to a fresh tree.
func flattenLayers(t testing.TB, layers ...[]byte) (*Tree, error) {
	t.Helper()
	tree := newSpillTree(t)
	for i, l := range layers {
		if err := tree.Apply(bytes.NewReader(l), ApplyOptions{LayerName: fmt.Sprintf("L%d", i)}); err != nil {
			return tree, err
		}
	}
	return tree, nil
}

func mustFlattenLayers(t testing.TB, layers ...[]byte) *Tree {
	t.Helper()
	tree, err := flattenLayers(t, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// dump renders the whole tree, one line per entry in walk order:
// "path type perm uid:gid" then the content of a regular file, a symlink's
// target, a device number, extended attributes, and "#N" marking entries
// that share an inode.
func dumpTree(t testing.TB, tree *Tree) string {
	t.Helper()
	names := map[*Inode]int{}
	if err := tree.Walk(func(_ string, ino *Inode) error { names[ino]++; return nil }); err != nil {
		t.Fatal(err)
	}
	linkIDs := map[*Inode]int{}
	var out []string
	err := tree.Walk(func(p string, ino *Inode) error {
		line := fmt.Sprintf("%s %s %04o %d:%d", p, dumpTypeWord(ino.Mode), ino.Mode&ModePerm, ino.UID, ino.GID)
		switch ino.Type() {
		case ModeRegular:
			r, err := tree.Content(ino)
			if err != nil {
				return err
			}
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			if int64(len(b)) != ino.Size {
				return fmt.Errorf("%s: Size %d but %d content bytes", p, ino.Size, len(b))
			}
			line += fmt.Sprintf(" %q", b)
		case ModeSymlink:
			line += " -> " + ino.Target
		case ModeChar, ModeBlock:
			line += fmt.Sprintf(" rdev=%#x", ino.Rdev)
		}
		for _, k := range sortedXattrNames(ino.Xattrs) {
			line += fmt.Sprintf(" xattr:%s=%q", k, ino.Xattrs[k])
		}
		if names[ino] > 1 {
			if linkIDs[ino] == 0 {
				linkIDs[ino] = len(linkIDs) + 1
			}
			line += fmt.Sprintf(" #%d", linkIDs[ino])
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

func sortedXattrNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func dumpTypeWord(mode uint32) string {
	switch mode & ModeType {
	case ModeDir:
		return "dir"
	case ModeRegular:
		return "reg"
	case ModeSymlink:
		return "symlink"
	case ModeChar:
		return "char"
	case ModeBlock:
		return "block"
	case ModeFIFO:
		return "fifo"
	}
	return fmt.Sprintf("type%#o", mode&ModeType)
}

// lines joins expected dump lines.
func dumpLines(l ...string) string { return strings.Join(l, "\n") }

func assertTreeDump(t *testing.T, tree *Tree, want string) {
	t.Helper()
	if got := dumpTree(t, tree); got != want {
		t.Fatalf("tree:\n%s\n\nwant:\n%s", got, want)
	}
}

func TestApplyEntryTypesAndMetadata(t *testing.T) {
	capability := "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	layer := buildTar(t,
		tarDir("bin").with(func(h *tar.Header) { h.Mode = 0o755 }),
		tarReg("bin/busybox", "ELF").with(func(h *tar.Header) { h.Mode = 0o4755; h.Uid = 0; h.Gid = 50 }),
		tarSymlink("bin/sh", "busybox"),
		tarHardlink("bin/ls", "bin/busybox"),
		tarReg("bin/ping", "ping").with(func(h *tar.Header) {
			h.Mode = 0o755
			h.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": capability, "SCHILY.xattr.user.note": "hi"}
		}),
		tarDir("tmp").with(func(h *tar.Header) { h.Mode = 0o1777 }),
		tarDir("srv").with(func(h *tar.Header) { h.Mode = 0o2775; h.Uid = 1000; h.Gid = 1001 }),
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}},
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "dev/nvme0n1p300", Mode: 0o660, Gid: 6, Devmajor: 259, Devminor: 300}},
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "run/initctl", Mode: 0o600}},
		tarReg("etc/empty", ""),
	)
	tree := mustFlattenLayers(t, layer)
	assertTreeDump(t, tree, dumpLines(
		`/ dir 0755 0:0`,
		`/bin dir 0755 0:0`,
		`/bin/busybox reg 4755 0:50 "ELF" #1`,
		`/bin/ls reg 4755 0:50 "ELF" #1`,
		`/bin/ping reg 0755 0:0 "ping" xattr:security.capability=`+fmt.Sprintf("%q", capability)+` xattr:user.note="hi"`,
		`/bin/sh symlink 0777 0:0 -> busybox`,
		`/dev dir 0755 0:0`,
		`/dev/null char 0666 0:0 rdev=0x103`,
		`/dev/nvme0n1p300 block 0660 0:6 rdev=0x11032c`,
		`/etc dir 0755 0:0`,
		`/etc/empty reg 0644 0:0 ""`,
		`/run dir 0755 0:0`,
		`/run/initctl fifo 0600 0:0`,
		`/srv dir 2775 1000:1001`,
		`/tmp dir 1777 0:0`,
	))
	if got := tree.Root.Children["bin"].Children["ls"]; got != tree.Root.Children["bin"].Children["busybox"] {
		t.Fatal("hard link does not share the target's *Inode")
	}
}

func TestApplyTimesAndLongNames(t *testing.T) {
	precise := time.Date(2023, 1, 2, 3, 4, 5, 123456789, time.UTC)
	longDir := strings.Repeat("d", 120)
	layer := buildTar(t,
		tarReg("precise", "x").with(func(h *tar.Header) { h.ModTime = precise; h.Format = tar.FormatPAX }),
		tarReg(longDir+"/gnu-long-name-"+strings.Repeat("g", 100), "gnu").with(func(h *tar.Header) { h.Format = tar.FormatGNU }),
		tarReg(longDir+"/pax-path-"+strings.Repeat("p", 150), "pax").with(func(h *tar.Header) { h.Format = tar.FormatPAX }),
		tarSymlink("long-link", "/"+strings.Repeat("t", 300)).with(func(h *tar.Header) { h.Format = tar.FormatPAX }),
	)
	tree := mustFlattenLayers(t, layer)
	if got := tree.Root.Children["precise"].Mtime; !got.Equal(precise) {
		t.Errorf("mtime %v, want %v (PAX keeps nanoseconds)", got, precise)
	}
	d := tree.Root.Children[longDir]
	if d == nil || !d.IsDir() || !d.Mtime.Equal(time.Unix(0, 0)) || d.Mode != ModeDir|0o755 {
		t.Fatalf("implicit parent of the long names: %+v", d)
	}
	for _, name := range []string{"gnu-long-name-" + strings.Repeat("g", 100), "pax-path-" + strings.Repeat("p", 150)} {
		if d.Children[name] == nil {
			t.Errorf("long name %q missing; have %v", name, SortedNames(d))
		}
	}
	if got := tree.Root.Children["long-link"].Target; got != "/"+strings.Repeat("t", 300) {
		t.Errorf("long symlink target %q", got)
	}
}

func TestApplyNameNormalization(t *testing.T) {
	// containerd's rule: names are cleaned inside the root.
	for _, name := range []string{"etc/x", "/etc/x", "../../etc/x", "./etc/./x", "etc//x", "etc/sub/../x", "/../etc/x/"} {
		tree := mustFlattenLayers(t, patchName(t, buildTar(t, tarReg("placeholder", "data")), "placeholder", name))
		assertTreeDump(t, tree, dumpLines(
			`/ dir 0755 0:0`,
			`/etc dir 0755 0:0`,
			`/etc/x reg 0644 0:0 "data"`,
		))
	}
}

func TestApplyRootEntries(t *testing.T) {
	tree := mustFlattenLayers(t, buildTar(t, tarDir("./").with(func(h *tar.Header) { h.Mode = 0o700; h.Uid = 5 }), tarDir("/"), tarReg("f", "")))
	assertTreeDump(t, tree, dumpLines(`/ dir 0755 0:0`, `/f reg 0644 0:0 ""`))

	for _, name := range []string{"..", "/", ".", "a/../.."} {
		_, err := flattenLayers(t, patchName(t, buildTar(t, tarReg("placeholder", "x")), "placeholder", name))
		if !errors.Is(err, ErrInvalidEntry) || !strings.Contains(err.Error(), "cannot replace the root directory") {
			t.Errorf("regular file named %q: %v", name, err)
		}
	}
}

func TestApplyReplacement(t *testing.T) {
	lower := buildTar(t,
		tarDir("d"), tarReg("d/child", "c"), tarDir("d/sub"), tarReg("d/sub/deep", "deep"),
		tarReg("f", "file"),
		tarDir("keep").with(func(h *tar.Header) { h.Mode = 0o700; h.PAXRecords = map[string]string{"SCHILY.xattr.user.old": "1"} }),
		tarReg("keep/inside", "i"),
		tarDir("s"), tarReg("s/x", "x"),
	)
	upper := buildTar(t,
		tarReg("d", "now a file"), // file replaces a directory and its subtree
		tarDir("f"),               // directory replaces a file
		tarReg("f/new", "n"),      //
		tarDir("keep").with(func(h *tar.Header) { h.Mode = 0o750; h.Uid = 7 }), // metadata only; children stay
		tarSymlink("s", "/d"),                           // symlink replaces a directory
		tarReg("dup", "first"), tarReg("dup", "second"), // later entry wins
	)
	tree := mustFlattenLayers(t, lower, upper)
	assertTreeDump(t, tree, dumpLines(
		`/ dir 0755 0:0`,
		`/d reg 0644 0:0 "now a file"`,
		`/dup reg 0644 0:0 "second"`,
		`/f dir 0755 0:0`,
		`/f/new reg 0644 0:0 "n"`,
		`/keep dir 0750 7:0`,
		`/keep/inside reg 0644 0:0 "i"`,
		`/s symlink 0777 0:0 -> /d`,
	))
}

func TestApplyWhiteouts(t *testing.T) {
	lower := buildTar(t,
		tarDir("a"), tarReg("a/x", "x"), tarReg("a/y", "y"),
		tarDir("b"), tarDir("b/c"), tarReg("b/c/deep", "d"),
		tarSymlink("link", "a"),
		tarReg("gone-already", ""),
	)
	upper := buildTar(t,
		tarWhiteout("a/.wh.x"),       // a file
		tarWhiteout(".wh.b"),         // a directory with its subtree
		tarWhiteout(".wh.link"),      // the symlink itself, not its target
		tarWhiteout(".wh.never-was"), // nothing to delete is fine
		tarWhiteout("no/such/dir/.wh.f"),
	)
	tree := mustFlattenLayers(t, lower, upper)
	assertTreeDump(t, tree, dumpLines(
		`/ dir 0755 0:0`,
		`/a dir 0755 0:0`,
		`/a/y reg 0644 0:0 "y"`,
		`/gone-already reg 0644 0:0 ""`,
	))
	if tree.Root.Children["no"] != nil {
		t.Fatal("a whiteout created its parent directory")
	}
}

// TestApplyWhiteoutKeepsSameLayerEntries checks the spec's rule that a
// whiteout hides lower layers only, in either order within its layer.
func TestApplyWhiteoutKeepsSameLayerEntries(t *testing.T) {
	lower := buildTar(t, tarReg("f", "old"), tarDir("d"), tarReg("d/old", "o"))
	want := dumpLines(
		`/ dir 0755 0:0`,
		`/d dir 0755 0:0`,
		`/d/new reg 0644 0:0 "n"`,
		`/f reg 0644 0:0 "new"`,
	)
	before := buildTar(t, tarWhiteout(".wh.f"), tarReg("f", "new"), tarWhiteout(".wh.d"), tarDir("d"), tarReg("d/new", "n"))
	after := buildTar(t, tarReg("f", "new"), tarDir("d"), tarReg("d/new", "n"), tarWhiteout(".wh.f"), tarWhiteout(".wh.d"))
	assertTreeDump(t, mustFlattenLayers(t, lower, before), want)
	assertTreeDump(t, mustFlattenLayers(t, lower, after), want)
}

func TestApplyOpaqueDirectories(t *testing.T) {
	lower := buildTar(t,
		tarDir("d"), tarReg("d/old", "o"), tarDir("d/sub"), tarReg("d/sub/old2", "o2"), tarReg("d/sub/kept-name", "lower"),
		tarReg("outside", "stays"),
	)
	want := dumpLines(
		`/ dir 0755 0:0`,
		`/d dir 0700 0:0`,
		`/d/new reg 0644 0:0 "n"`,
		`/d/sub dir 0755 0:0`,
		`/d/sub/kept-name reg 0644 0:0 "upper"`,
		`/outside reg 0644 0:0 "stays"`,
	)
	opaqueDir := tarDir("d").with(func(h *tar.Header) { h.Mode = 0o700 })
	orders := map[string][]tarEntry{
		"marker first": {opaqueDir, tarWhiteout("d/.wh..wh..opq"), tarReg("d/new", "n"), tarReg("d/sub/kept-name", "upper")},
		"marker last":  {opaqueDir, tarReg("d/new", "n"), tarReg("d/sub/kept-name", "upper"), tarWhiteout("d/.wh..wh..opq")},
		"marker twice": {tarWhiteout("d/.wh..wh..opq"), opaqueDir, tarReg("d/new", "n"), tarReg("d/sub/kept-name", "upper"), tarWhiteout("d/.wh..wh..opq")},
	}
	for name, entries := range orders {
		t.Run(name, func(t *testing.T) {
			assertTreeDump(t, mustFlattenLayers(t, lower, buildTar(t, entries...)), want)
		})
	}

	// A marker for a directory that does not exist creates nothing.
	tree := mustFlattenLayers(t, lower, buildTar(t, tarWhiteout("nothing/.wh..wh..opq")))
	if tree.Root.Children["nothing"] != nil {
		t.Fatal("an opaque marker created its directory")
	}
	// A root-level marker hides every lower entry.
	tree = mustFlattenLayers(t, lower, buildTar(t, tarReg("only", "1"), tarWhiteout(".wh..wh..opq")))
	assertTreeDump(t, tree, dumpLines(`/ dir 0755 0:0`, `/only reg 0644 0:0 "1"`))
}

func TestApplyHardlinks(t *testing.T) {
	lower := buildTar(t, tarReg("lib/libc.so", "libc"), tarSymlink("lib/ld.so", "libc.so"), tarDir("lib/dir"))
	upper := buildTar(t,
		tarHardlink("usr/libc-link", "lib/libc.so"),      // target in a lower layer
		tarHardlink("usr/ld-link", "/lib/ld.so"),         // absolute target; links the symlink itself
		tarReg("lib/libc.so", "replaced"),                // replacing a name keeps the other's inode
		tarReg("same", "s"), tarHardlink("same", "same"), // linking a name to itself is a no-op
	)
	tree := mustFlattenLayers(t, lower, upper)
	assertTreeDump(t, tree, dumpLines(
		`/ dir 0755 0:0`,
		`/lib dir 0755 0:0`,
		`/lib/dir dir 0755 0:0`,
		`/lib/ld.so symlink 0777 0:0 -> libc.so #1`,
		`/lib/libc.so reg 0644 0:0 "replaced"`,
		`/same reg 0644 0:0 "s"`,
		`/usr dir 0755 0:0`,
		`/usr/ld-link symlink 0777 0:0 -> libc.so #1`,
		`/usr/libc-link reg 0644 0:0 "libc"`,
	))

	for _, tc := range []struct {
		name, target, message string
	}{
		{"missing target", "lib/nope", `hard link target "lib/nope" does not exist`},
		{"target below a missing dir", "no/dir/file", `hard link target "no/dir/file" does not exist`},
		{"directory target", "lib/dir", `hard link target "lib/dir" is a directory`},
		{"escaping target", "../../etc/passwd", `hard link target "../../etc/passwd" is outside the root`},
		{"root target", "/", "hard link to the root directory"},
		{"empty target", "", "hard link with an empty target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flattenLayers(t, lower, buildTar(t, tarHardlink("x/link", tc.target)))
			if !errors.Is(err, ErrInvalidEntry) || !strings.Contains(err.Error(), tc.message) ||
				!strings.HasPrefix(err.Error(), `layer L1: entry "x/link": `) {
				t.Fatalf("error %v, want %q", err, tc.message)
			}
		})
	}
}

func TestApplySymlinkedParents(t *testing.T) {
	lower := buildTar(t,
		tarDir("etc"), tarReg("etc/passwd", "root:x:0:0"),
		tarSymlink("abs", "/etc"),
		tarSymlink("rel", "../../../../etc"),
		tarSymlink("up", "../../.."),
		tarSymlink("chain", "abs"),
		tarSymlink("dangling", "/made/by/link"),
		tarSymlink("final", "/etc"),
	)
	upper := buildTar(t,
		tarReg("abs/passwd", "via abs"),         // -> /etc/passwd
		tarReg("rel/group", "via rel"),          // -> /etc/group
		tarReg("up/at-root", "via up"),          // -> /at-root
		tarReg("chain/shadow", "via chain"),     // -> /etc/shadow
		tarReg("dangling/file", "via dangling"), // -> /made/by/link/file, parents implied
		tarReg("final", "replaces the link"),    // the last component is never followed
	)
	tree := mustFlattenLayers(t, lower, upper)
	assertTreeDump(t, tree, dumpLines(
		`/ dir 0755 0:0`,
		`/abs symlink 0777 0:0 -> /etc`,
		`/at-root reg 0644 0:0 "via up"`,
		`/chain symlink 0777 0:0 -> abs`,
		`/dangling symlink 0777 0:0 -> /made/by/link`,
		`/etc dir 0755 0:0`,
		`/etc/group reg 0644 0:0 "via rel"`,
		`/etc/passwd reg 0644 0:0 "via abs"`,
		`/etc/shadow reg 0644 0:0 "via chain"`,
		`/final reg 0644 0:0 "replaces the link"`,
		`/made dir 0755 0:0`,
		`/made/by dir 0755 0:0`,
		`/made/by/link dir 0755 0:0`,
		`/made/by/link/file reg 0644 0:0 "via dangling"`,
		`/rel symlink 0777 0:0 -> ../../../../etc`,
		`/up symlink 0777 0:0 -> ../../..`,
	))
}

func TestApplyParentNotADirectory(t *testing.T) {
	_, err := flattenLayers(t, buildTar(t, tarReg("file", "x"), tarReg("file/child", "y")))
	if !errors.Is(err, ErrInvalidEntry) || !strings.Contains(err.Error(), `entry "file/child": invalid entry: parent "file" is a regular file, not a directory`) {
		t.Fatalf("error %v", err)
	}
	_, err = flattenLayers(t, buildTar(t, tarReg("file", "x"), tarSymlink("l", "file"), tarReg("l/child", "y")))
	if !errors.Is(err, ErrInvalidEntry) || !strings.Contains(err.Error(), `parent "file" is a regular file`) {
		t.Fatalf("through a symlink: %v", err)
	}
}

func TestApplyBudgets(t *testing.T) {
	t.Run("declared file size, checked before reading", func(t *testing.T) {
		// The header claims 1 TiB but no content follows: reading would
		// fail with unexpected EOF, so the budget error proves no read.
		tree := newSpillTree(t)
		err := tree.Apply(bytes.NewReader(tarHeaderOnly(t, "huge", 1<<40)), ApplyOptions{LayerName: "sha256:big", MaxFileSize: 1 << 30})
		want := `layer sha256:big: entry "huge": budget exceeded: declared size 1 TiB exceeds the 1 GiB per-file limit`
		if !errors.Is(err, ErrBudgetExceeded) || err.Error() != want {
			t.Fatalf("error %v\nwant  %s", err, want)
		}
	})
	t.Run("total size across layers", func(t *testing.T) {
		tree := newSpillTree(t)
		opts := ApplyOptions{MaxTotalSize: 100}
		if err := tree.Apply(bytes.NewReader(buildTar(t, tarReg("a", strings.Repeat("a", 60)))), opts); err != nil {
			t.Fatal(err)
		}
		// Replaced content still occupies the spill file, so it counts.
		err := tree.Apply(bytes.NewReader(buildTar(t, tarReg("a", strings.Repeat("b", 41)))), opts)
		if !errors.Is(err, ErrBudgetExceeded) || !strings.Contains(err.Error(), "declared size 41 bytes on top of the 60 bytes already stored exceeds the 100 bytes total limit") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("entries including implied directories", func(t *testing.T) {
		tree := newSpillTree(t)
		err := tree.Apply(bytes.NewReader(buildTar(t, tarReg("a/b/c/d/e", "x"))), ApplyOptions{MaxEntries: 4})
		if !errors.Is(err, ErrBudgetExceeded) || !strings.Contains(err.Error(), "more than 4 entries") {
			t.Fatalf("error %v", err)
		}
		tree = newSpillTree(t)
		if err := tree.Apply(bytes.NewReader(buildTar(t, tarReg("a/b/c/d/e", "x"))), ApplyOptions{MaxEntries: 5}); err != nil {
			t.Fatalf("exactly at the limit: %v", err)
		}
	})
}

// headerOnly returns the tar header block of a regular file of the given size,
// without its content.
func tarHeaderOnly(t testing.TB, name string, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestApplyMalformedTars(t *testing.T) {
	good := buildTar(t, tarReg("first", "1"), tarReg("second", strings.Repeat("2", 2000)))
	garbage := bytes.Repeat([]byte("not a tar header "), 64)
	badChecksum := append([]byte(nil), good...)
	badChecksum[148] ^= 1 // header checksum field of the first entry

	for _, tc := range []struct {
		name    string
		layer   []byte
		message string
		is      error
	}{
		{"truncated content", good[:512+512+512+1000], `layer L0: entry "second": reading content: unexpected EOF`, io.ErrUnexpectedEOF},
		{"truncated header", good[:512+512+100], `layer L0: reading the tar header after entry "first": unexpected EOF`, io.ErrUnexpectedEOF},
		{"garbage", garbage, `layer L0: reading the first tar header: archive/tar: invalid tar header`, tar.ErrHeader},
		{"bad header checksum", badChecksum, `layer L0: reading the first tar header: archive/tar: invalid tar header`, tar.ErrHeader},
		{"unknown entry type", buildTar(t, tarEntry{hdr: tar.Header{Typeflag: 'Z', Name: "odd"}}), `layer L0: entry "odd": invalid entry: unsupported tar entry type 'Z'`, ErrInvalidEntry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flattenLayers(t, tc.layer)
			if !errors.Is(err, tc.is) || err.Error() != tc.message {
				t.Fatalf("error %v\nwant  %s", err, tc.message)
			}
		})
	}
}

func TestApplyEmptyLayer(t *testing.T) {
	tree := mustFlattenLayers(t, nil, buildTar(t))
	assertTreeDump(t, tree, `/ dir 0755 0:0`)
}

// FuzzApply applies arbitrary bytes as a layer, twice (so the second copy
// meets the first's entries as a lower layer): it must never panic, and the
// tree must stay well-formed.
func FuzzApply(f *testing.F) {
	for _, c := range hostileCases(f, "/sandbox") {
		for _, l := range c.layers {
			if l.compression == "" && l.blob == nil {
				f.Add(l.tar)
			}
		}
	}
	f.Add(buildTar(f, tarDir("d"), tarReg("d/f", "x"), tarWhiteout("d/.wh..wh..opq"), tarHardlink("h", "d/f"), tarSymlink("s", "d")))
	spillDir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := NewTree(spillDir)
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		opts := ApplyOptions{MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20, MaxEntries: 10000}
		if err := tree.Apply(bytes.NewReader(data), opts); err == nil {
			_ = tree.Apply(bytes.NewReader(data), opts)
		}
		checkTreeWellFormed(t, tree)
		// tar → rootfs image: whatever a layer makes, the writer must turn
		// into an image the reader accepts, with every entry findable.
		var img bytes.Buffer
		if err := Write(&img, tree, DefaultWriteOptions()); err != nil {
			t.Fatalf("Write of an applied tree: %v", err)
		}
		im, err := fsimg.Open(img.Bytes())
		if err != nil {
			t.Fatalf("Open of a written image: %v", err)
		}
		err = tree.Walk(func(p string, ino *Inode) error {
			if _, err := im.LookupPath(p); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("written image lacks an entry: %v", err)
		}
	})
}

// checkWellFormed verifies the invariants every tree must keep, whatever
// the input: directories have child maps, names are single components,
// nesting is bounded and content is readable at its recorded size.
func checkTreeWellFormed(t *testing.T, tree *Tree) {
	t.Helper()
	err := tree.Walk(func(p string, ino *Inode) error {
		if ino.IsDir() != (ino.Children != nil) {
			return fmt.Errorf("%s: directory/children mismatch", p)
		}
		if depth := strings.Count(p, "/"); p != "/" && depth > maxDepth {
			return fmt.Errorf("%s: depth %d", p, depth)
		}
		for name := range ino.Children {
			if name == "" || name == "." || name == ".." || strings.Contains(name, "/") || len(name) > fsimg.MaxNameLen {
				return fmt.Errorf("%s: bad child name %q", p, name)
			}
		}
		if ino.IsRegular() {
			r, err := tree.Content(ino)
			if err != nil {
				return err
			}
			n, err := io.Copy(io.Discard, r)
			if err != nil || n != ino.Size {
				return fmt.Errorf("%s: content %d bytes (%v), Size %d", p, n, err, ino.Size)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
