package rootfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/wasmrt/wasmrt/convert/layer"
)

// hostileLayer is one layer of a hostile image, fed through layer.Decode.
type hostileLayer struct {
	tar         []byte // the uncompressed tar (nil when only blob makes sense)
	compression string // "", "gzip" or "zstd": how blob is made from tar
	blob        []byte // overrides the blob made from tar
	// tamper changes the descriptor after it is computed from the blob and
	// the tar (which makes it match).
	tamper func(*layer.Descriptor)
}

type hostileCase struct {
	name    string
	layers  []hostileLayer
	maxSize int64        // layer.Options.MaxSize; zero means the default
	opts    ApplyOptions // LayerName is set from the digest
	// Exactly one of these: the error (errors.Is target and a message
	// fragment) or a check of the resulting tree.
	is      error
	message string
	check   func(t *testing.T, tree *Tree)
}

func plainLayer(tarBytes []byte) hostileLayer { return hostileLayer{tar: tarBytes} }

func sha256Of(b []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
}

func gzipLayerBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdLayerBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// blobAndDescriptor returns what a registry would serve for l and the
// manifest/config descriptor that matches it (before tampering).
func (l hostileLayer) blobAndDescriptor(t testing.TB) ([]byte, layer.Descriptor) {
	t.Helper()
	blob := l.blob
	if blob == nil {
		switch l.compression {
		case "":
			blob = l.tar
		case "gzip":
			blob = gzipLayerBytes(t, l.tar)
		case "zstd":
			blob = zstdLayerBytes(t, l.tar)
		default:
			t.Fatalf("unknown compression %q", l.compression)
		}
	}
	desc := layer.Descriptor{Digest: sha256Of(blob), Size: int64(len(blob))}
	if l.tar != nil {
		desc.DiffID = sha256Of(l.tar)
	}
	if l.tamper != nil {
		l.tamper(&desc)
	}
	return blob, desc
}

// gzipBomb returns a ~1 MB gzip blob (concatenated members) of a tar holding
// one 1 GiB file of zeros.
func gzipBomb(t testing.TB) []byte {
	t.Helper()
	const size = 1 << 30
	var out bytes.Buffer
	out.Write(gzipLayerBytes(t, tarHeaderOnly(t, "bomb", size)))
	zeroMiB := gzipLayerBytes(t, make([]byte, 1<<20))
	for range size >> 20 {
		out.Write(zeroMiB)
	}
	out.Write(gzipLayerBytes(t, make([]byte, 1024))) // end-of-archive marker
	return out.Bytes()
}

// lookup returns the entry at an absolute slash-separated path without
// following symlinks, or nil.
func lookupPath(tree *Tree, p string) *Inode {
	ino := tree.Root
	for _, c := range strings.Split(strings.Trim(p, "/"), "/") {
		if c == "" {
			continue
		}
		if ino.Children == nil {
			return nil
		}
		if ino = ino.Children[c]; ino == nil {
			return nil
		}
	}
	return ino
}

func expectTreeDump(want string) func(*testing.T, *Tree) {
	return func(t *testing.T, tree *Tree) { t.Helper(); assertTreeDump(t, tree, want) }
}

// hostileCases is the corpus of crafted attacks. sandbox is an absolute host
// directory that host-path attacks aim at, so that any host write would
// land where the test looks for it.
func hostileCases(t testing.TB, sandbox string) []hostileCase {
	base := buildTar(t, tarDir("etc"), tarReg("etc/passwd", "root:x:0:0"), tarDir("home"), tarReg("home/secret", "s"))
	baseLayer := plainLayer(base)
	baseDump := []string{
		`/ dir 0755 0:0`,
		`/etc dir 0755 0:0`,
		`/etc/passwd reg 0644 0:0 "root:x:0:0"`,
		`/home dir 0755 0:0`,
		`/home/secret reg 0644 0:0 "s"`,
	}
	valid := buildTar(t, tarReg("a", strings.Repeat("content ", 400)), tarReg("b", "b"))
	corruptGzip := gzipLayerBytes(t, valid)
	corruptGzip[len(corruptGzip)/2] ^= 0x55
	corruptZstd := zstdLayerBytes(t, valid)
	corruptZstd[len(corruptZstd)/2] ^= 0x55
	truncatedGzip := gzipLayerBytes(t, valid)
	truncatedGzip = truncatedGzip[:len(truncatedGzip)-20]
	withTrailer := append(append([]byte(nil), valid...), "appended after the archive"...)
	sandboxInTree := strings.TrimPrefix(filepath.ToSlash(sandbox), "/")

	return []hostileCase{
		{
			name:   "dot-dot name climbs only to the root",
			layers: []hostileLayer{plainLayer(buildTar(t, tarReg("../../../../escaped", "x")))},
			check:  expectTreeDump(dumpLines(`/ dir 0755 0:0`, `/escaped reg 0644 0:0 "x"`)),
		},
		{
			name:   "absolute host path name stays inside the tree",
			layers: []hostileLayer{plainLayer(buildTar(t, tarReg(sandbox+"/escaped-absolute", "x")))},
			check: func(t *testing.T, tree *Tree) {
				if ino := lookupPath(tree, sandboxInTree+"/escaped-absolute"); ino == nil || !ino.IsRegular() {
					t.Fatal("absolute name not placed under the tree's root")
				}
			},
		},
		{
			name: "symlinked parent to an absolute host directory",
			layers: []hostileLayer{
				plainLayer(buildTar(t, tarSymlink("evil", sandbox))),
				plainLayer(buildTar(t, tarReg("evil/pwned", "x"))),
			},
			check: func(t *testing.T, tree *Tree) {
				if ino := lookupPath(tree, sandboxInTree+"/pwned"); ino == nil || !ino.IsRegular() {
					t.Fatal("write through the symlink did not land at its target inside the tree")
				}
				if ino := lookupPath(tree, "evil"); ino == nil || ino.Target != sandbox {
					t.Fatal("the symlink itself changed")
				}
			},
		},
		{
			name: "symlinked parent climbing with dot-dot",
			layers: []hostileLayer{
				baseLayer,
				plainLayer(buildTar(t, tarSymlink("evil", "../../../../../.."))),
				plainLayer(buildTar(t, tarReg("evil/etc/passwd", "pwned"))),
			},
			check: expectTreeDump(dumpLines(
				`/ dir 0755 0:0`,
				`/etc dir 0755 0:0`,
				`/etc/passwd reg 0644 0:0 "pwned"`,
				`/evil symlink 0777 0:0 -> ../../../../../..`,
				`/home dir 0755 0:0`,
				`/home/secret reg 0644 0:0 "s"`,
			)),
		},
		{
			name:   "symlink and write-through in one layer",
			layers: []hostileLayer{baseLayer, plainLayer(buildTar(t, tarSymlink("evil", "/etc"), tarReg("evil/shadow", "x")))},
			check: func(t *testing.T, tree *Tree) {
				if lookupPath(tree, "etc/shadow") == nil || lookupPath(tree, "evil").Type() != ModeSymlink {
					t.Fatal("write through a same-layer symlink not confined to /etc")
				}
			},
		},
		{
			name:    "symlink loop",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarSymlink("a", "b"), tarSymlink("b", "a"), tarReg("a/x", "x")))},
			is:      ErrInvalidEntry,
			message: `entry "a/x": invalid entry: too many levels of symbolic links (more than 40)`,
		},
		{
			name:    "self-referencing symlink",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarSymlink("a", "a/a"), tarReg("a/x", "x")))},
			is:      ErrInvalidEntry,
			message: "too many levels of symbolic links",
		},
		{
			name: "symlink expanding past the nesting limit",
			layers: []hostileLayer{plainLayer(buildTar(t,
				tarSymlink("s", strings.Repeat("d/", 2040)),
				tarReg("s/"+strings.Repeat("e/", 20)+"f", "x"),
			))},
			is:      ErrInvalidEntry,
			message: "nested more than 2048 directories deep",
		},
		{
			name:    "hard link to a host file outside the root",
			layers:  []hostileLayer{baseLayer, plainLayer(buildTar(t, tarHardlink("pw", "../../../etc/passwd")))},
			is:      ErrInvalidEntry,
			message: `entry "pw": invalid entry: hard link target "../../../etc/passwd" is outside the root`,
		},
		{
			name:    "hard link to an absolute host path missing from the tree",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarHardlink("pw", "/etc/passwd")))},
			is:      ErrInvalidEntry,
			message: `hard link target "/etc/passwd" does not exist`,
		},
		{
			name:    "hard link before its target",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarHardlink("a", "b"), tarReg("b", "b")))},
			is:      ErrInvalidEntry,
			message: `entry "a": invalid entry: hard link target "b" does not exist`,
		},
		{
			name:    "hard link to a directory",
			layers:  []hostileLayer{baseLayer, plainLayer(buildTar(t, tarHardlink("loop", "etc")))},
			is:      ErrInvalidEntry,
			message: `hard link target "etc" is a directory`,
		},
		{
			name: "hard link through a symlink climbing out of the root",
			layers: []hostileLayer{baseLayer, plainLayer(buildTar(t,
				tarSymlink("r", "/../../.."), tarHardlink("stolen", "r/home/secret")))},
			check: func(t *testing.T, tree *Tree) {
				if lookupPath(tree, "stolen") != lookupPath(tree, "home/secret") {
					t.Fatal("hard link did not resolve inside the tree")
				}
			},
		},
		{
			name:    "whiteout of dot-dot",
			layers:  []hostileLayer{baseLayer, plainLayer(buildTar(t, tarWhiteout("home/.wh...")))},
			is:      ErrInvalidEntry,
			message: `entry "home/.wh...": invalid entry: whiteout of ".."`,
		},
		{
			name:    "whiteout of dot",
			layers:  []hostileLayer{baseLayer, plainLayer(buildTar(t, tarWhiteout("home/.wh..")))},
			is:      ErrInvalidEntry,
			message: `whiteout of "."`,
		},
		{
			name:    "whiteout of the empty name",
			layers:  []hostileLayer{baseLayer, plainLayer(buildTar(t, tarWhiteout(".wh.")))},
			is:      ErrInvalidEntry,
			message: `whiteout of ""`,
		},
		{
			name:    "whiteout prefix in a directory name",
			layers:  []hostileLayer{baseLayer, plainLayer(buildTar(t, tarWhiteout(".wh.etc/passwd")))},
			is:      ErrInvalidEntry,
			message: `directory ".wh.etc" has the reserved whiteout prefix`,
		},
		{
			name: "whiteout through a symlink to the root stays in the tree",
			layers: []hostileLayer{baseLayer,
				plainLayer(buildTar(t, tarSymlink("evil", "/"))),
				plainLayer(buildTar(t, tarWhiteout("evil/.wh.etc"), tarWhiteout(sandbox+"/.wh.spill")))},
			check: expectTreeDump(dumpLines(
				`/ dir 0755 0:0`,
				`/evil symlink 0777 0:0 -> /`,
				`/home dir 0755 0:0`,
				`/home/secret reg 0644 0:0 "s"`,
			)),
		},
		{
			name: "AUFS bookkeeping entries are skipped",
			layers: []hostileLayer{baseLayer, plainLayer(buildTar(t,
				tarDir(".wh..wh.plnk"), tarReg(".wh..wh.plnk/1234.5678", "x"), tarWhiteout(".wh..wh.aufs"), tarWhiteout("etc/.wh..wh.orph")))},
			check: expectTreeDump(dumpLines(baseDump...)),
		},
		{
			name:    "regular file named like the root",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarReg("etc/../..", "x")))},
			is:      ErrInvalidEntry,
			message: "a non-directory cannot replace the root directory",
		},
		{
			name:    "declared 1 TiB file without content",
			layers:  []hostileLayer{plainLayer(tarHeaderOnly(t, "huge", 1<<40))},
			opts:    ApplyOptions{MaxFileSize: 64 << 20},
			is:      ErrBudgetExceeded,
			message: `entry "huge": budget exceeded: declared size 1 TiB exceeds the 64 MiB per-file limit`,
		},
		{
			name:    "name longer than PATH_MAX",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarReg(strings.Repeat("a/", 2100)+"f", "x")))},
			is:      ErrInvalidEntry,
			message: "name is 4201 bytes; Linux paths are at most 4095",
		},
		{
			name:    "component longer than NAME_MAX",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarReg("d/"+strings.Repeat("n", 300), "x")))},
			is:      ErrInvalidEntry,
			message: "name component is 300 bytes; Linux allows 255",
		},
		{
			name:    "implied directories past the entry budget",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarReg(strings.Repeat("d/", 50)+"f", "x")))},
			opts:    ApplyOptions{MaxEntries: 20},
			is:      ErrBudgetExceeded,
			message: "more than 20 entries in the layer (counting implicitly created directories)",
		},
		{
			name: "oversized extended attribute",
			layers: []hostileLayer{plainLayer(buildTar(t, tarReg("f", "x").with(func(h *tar.Header) {
				h.PAXRecords = map[string]string{"SCHILY.xattr.user.big": strings.Repeat("v", 70000)}
			})))},
			is:      ErrInvalidEntry,
			message: `extended attribute "user.big" is 70000 bytes; Linux allows 65536`,
		},
		{
			name:    "symlink target longer than PATH_MAX",
			layers:  []hostileLayer{plainLayer(buildTar(t, tarSymlink("l", strings.Repeat("t", 5000))))},
			is:      ErrInvalidEntry,
			message: "symlink target is 5000 bytes; Linux allows 4095",
		},
		{
			name:   "duplicate entries: the last one wins",
			layers: []hostileLayer{plainLayer(buildTar(t, tarReg("f", "1"), tarDir("f"), tarReg("f/x", "x"), tarReg("f", "3")))},
			check:  expectTreeDump(dumpLines(`/ dir 0755 0:0`, `/f reg 0644 0:0 "3"`)),
		},
		{
			name: "device nodes and FIFOs at host paths are metadata only",
			layers: []hostileLayer{plainLayer(buildTar(t,
				tarEntry{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: sandbox + "/sda", Mode: 0o666, Devmajor: 8}},
				tarEntry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: sandbox + "/fifo", Mode: 0o666}}))},
			check: func(t *testing.T, tree *Tree) {
				if ino := lookupPath(tree, sandboxInTree+"/sda"); ino == nil || ino.Type() != ModeBlock {
					t.Fatal("block device not recorded in the tree")
				}
			},
		},
		{
			name:    "corrupt gzip stream",
			layers:  []hostileLayer{{tar: valid, blob: corruptGzip}},
			message: "layer " + sha256Of(corruptGzip).String() + ": gzip: ",
		},
		{
			name:    "corrupt zstd stream",
			layers:  []hostileLayer{{tar: valid, blob: corruptZstd}},
			message: "layer " + sha256Of(corruptZstd).String() + ": zstd: ",
		},
		{
			name:    "truncated gzip stream",
			layers:  []hostileLayer{{tar: valid, blob: truncatedGzip}},
			message: "layer " + sha256Of(truncatedGzip).String() + ": gzip: unexpected EOF",
			is:      io.ErrUnexpectedEOF,
		},
		{
			name:    "truncated tar",
			layers:  []hostileLayer{{tar: valid[:1500], compression: "gzip"}},
			message: `entry "a": reading content: unexpected EOF`,
			is:      io.ErrUnexpectedEOF,
		},
		{
			name: "digest mismatch",
			layers: []hostileLayer{{tar: valid, compression: "gzip", tamper: func(d *layer.Descriptor) {
				d.Digest = sha256Of([]byte("what the manifest promised"))
			}}},
			is:      layer.ErrDigestMismatch,
			message: "layer " + sha256Of([]byte("what the manifest promised")).String() + ": digest mismatch",
		},
		{
			name: "diffID mismatch",
			layers: []hostileLayer{{tar: valid, compression: "zstd", tamper: func(d *layer.Descriptor) {
				d.DiffID = sha256Of([]byte("what the config promised"))
			}}},
			is:      layer.ErrDiffIDMismatch,
			message: "diffID mismatch: the uncompressed tar hashes to " + sha256Of(valid).String(),
		},
		{
			// The tar error is a symptom; the digest mismatch is the cause.
			name: "short tampered blob that also breaks the tar",
			layers: []hostileLayer{{blob: bytes.Repeat([]byte("tampered "), 200), tamper: func(d *layer.Descriptor) {
				d.Digest, d.Size = sha256Of(valid), int64(len(valid))
			}}},
			is:      layer.ErrSizeMismatch,
			message: fmt.Sprintf("size mismatch: the blob has 1800 bytes, the manifest says %d (truncated download?)", len(valid)),
		},
		{
			name: "tampered blob of the declared size that also breaks the tar",
			layers: []hostileLayer{{blob: bytes.Repeat([]byte("tampered"), len(valid)/8), tamper: func(d *layer.Descriptor) {
				d.Digest = sha256Of(valid)
			}}},
			is:      layer.ErrDigestMismatch,
			message: "digest mismatch",
		},
		{
			name: "bytes smuggled after the end of the archive",
			layers: []hostileLayer{{blob: withTrailer, tamper: func(d *layer.Descriptor) {
				d.Digest = sha256Of(valid)
				d.Size = 0
			}}},
			is:      layer.ErrDigestMismatch,
			message: "digest mismatch",
		},
		{
			name:    "gzip bomb: 1 GiB of zeros in 1 MB",
			layers:  []hostileLayer{{blob: gzipBomb(t)}},
			maxSize: 64 << 20,
			message: "uncompressed size exceeds the 64 MiB budget (--max-size)",
		},
	}
}

// applyHostile runs the layers through the real pipeline: layer.Decode,
// then Tree.Apply.
func applyHostile(t *testing.T, tree *Tree, c hostileCase) error {
	for _, l := range c.layers {
		blob, desc := l.blobAndDescriptor(t)
		err := tree.ApplyLayer(bytes.NewReader(blob), desc, layer.Options{MaxSize: c.maxSize, MaxSizeSetting: "--max-size"}, c.opts)
		if err != nil {
			return err
		}
	}
	return nil
}

// snapshot lists everything below dir (relative paths, types and sizes).
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %v %d", rel, info.Mode(), info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// TestHostileLayers applies every crafted attack and checks both its
// outcome and that nothing appeared on the host: each case runs with the
// working directory and the spill directory inside a fresh sandbox, and the
// attacks that name host paths name paths inside that sandbox.
func TestHostileLayers(t *testing.T) {
	sandbox := t.TempDir()
	spillDir := filepath.Join(sandbox, "spill")
	if err := os.Mkdir(spillDir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sandbox)
	before := snapshotDir(t, sandbox)

	cases := hostileCases(t, sandbox)
	if len(cases) < 15 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree, err := NewTree(spillDir)
			if err != nil {
				t.Fatal(err)
			}
			err = applyHostile(t, tree, c)
			if during := snapshotDir(t, sandbox); during != before {
				t.Errorf("the sandbox changed while the tree was open:\n%s\nwant:\n%s", during, before)
			}
			if c.check != nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				c.check(t, tree)
				checkTreeWellFormed(t, tree)
			} else {
				switch {
				case err == nil:
					t.Fatalf("no error; want %q", c.message)
				case c.is != nil && !errors.Is(err, c.is):
					t.Fatalf("error %v is not %v", err, c.is)
				case !strings.Contains(err.Error(), c.message):
					t.Fatalf("error %q does not say %q", err, c.message)
				case !strings.HasPrefix(err.Error(), "layer sha256:"):
					t.Fatalf("error %q does not name the layer by digest", err)
				}
			}
			if err := tree.Close(); err != nil {
				t.Fatal(err)
			}
			if after := snapshotDir(t, sandbox); after != before {
				t.Fatalf("the sandbox changed:\n%s\nwant:\n%s", after, before)
			}
		})
	}
}
