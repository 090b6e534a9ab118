package rootfs

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestApplyMatchesExtract flattens random multi-layer images with Apply and
// with go-containerregistry's mutate.Extract, an independent implementation
// of the same OCI whiteout rules, and compares every resulting path's type,
// permissions (with setuid/setgid/sticky), owner, mtime and content or
// symlink target.
//
// mutate.Extract deviates from the image spec in a few places, so the
// generator avoids those inputs (the behaviour tests cover them instead):
//   - Within one layer it keeps the first of duplicate entries (the spec and
//     Apply: the last), so a layer names each path once.
//   - A whiteout hides same-layer entries at or below its path when they come
//     after it, so a layer never both whites out and writes a path.
//   - It never follows symlinks and does not emit implied parents, so every
//     layer lists each parent directory explicitly before its children, which
//     also means nothing is ever written through a symlink.
//   - When a directory is replaced by a non-directory and a later layer makes
//     it a directory again, it lets the first directory's children reappear;
//     so a path that stopped being a directory never becomes one again.
//   - It drops relative symlinks whose target climbs out of the root, so
//     targets are absolute or climb nowhere.
//   - It passes hard links through by name, so the generator makes none.
func TestApplyMatchesExtract(t *testing.T) {
	const images = 150
	for seed := range uint64(images) {
		rng := rand.New(rand.NewPCG(seed, 0x6f7261636c65))
		layers := generateImage(rng)
		tarballs := make([][]byte, len(layers))
		for i, l := range layers {
			tarballs[i] = buildTar(t, l...)
		}

		tree, err := flattenLayers(t, tarballs...)
		if err != nil {
			t.Fatalf("seed %d: Apply: %v\n%s", seed, err, describeLayers(layers))
		}
		got := treeEntries(t, tree)
		want := extractEntries(t, tarballs)
		if diff := diffEntries(got, want); diff != "" {
			t.Fatalf("seed %d: Apply and mutate.Extract disagree (- Apply, + Extract):\n%s\nlayers:\n%s", seed, diff, describeLayers(layers))
		}
		tree.Close()
	}
}

// flatEntry is what the comparison looks at for one path.
type flatEntry struct {
	kind     string
	perm     uint32
	uid, gid uint32
	mtime    int64
	data     string // content or symlink target
}

func (e flatEntry) String() string {
	return fmt.Sprintf("%s %04o %d:%d @%d %q", e.kind, e.perm, e.uid, e.gid, e.mtime, e.data)
}

func treeEntries(t *testing.T, tree *Tree) map[string]flatEntry {
	t.Helper()
	out := map[string]flatEntry{}
	err := tree.Walk(func(p string, ino *Inode) error {
		if p == "/" {
			return nil
		}
		e := flatEntry{kind: dumpTypeWord(ino.Mode), perm: ino.Mode & ModePerm, uid: ino.UID, gid: ino.GID, mtime: ino.Mtime.Unix()}
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
			e.data = string(b)
		case ModeSymlink:
			e.data = ino.Target
		}
		out[p[1:]] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func extractEntries(t *testing.T, tarballs [][]byte) map[string]flatEntry {
	t.Helper()
	img := v1.Image(empty.Image)
	for _, tb := range tarballs {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tb)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]flatEntry{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("mutate.Extract: %v", err)
		}
		name := path.Clean(hdr.Name)
		if name == "." {
			continue
		}
		if _, dup := out[name]; dup {
			t.Fatalf("mutate.Extract emitted %q twice", name)
		}
		e := flatEntry{perm: uint32(hdr.Mode) & ModePerm, uid: uint32(hdr.Uid), gid: uint32(hdr.Gid), mtime: hdr.ModTime.Unix()}
		switch hdr.Typeflag {
		case tar.TypeDir:
			e.kind = "dir"
		case tar.TypeReg:
			e.kind = "reg"
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			e.data = string(b)
		case tar.TypeSymlink:
			e.kind, e.data = "symlink", hdr.Linkname
		case tar.TypeFifo:
			e.kind = "fifo"
		default:
			t.Fatalf("mutate.Extract emitted unexpected type %q for %q", hdr.Typeflag, name)
		}
		out[name] = e
	}
	return out
}

func diffEntries(got, want map[string]flatEntry) string {
	var names []string
	for n := range got {
		names = append(names, n)
	}
	for n := range want {
		if _, ok := got[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		g, inGot := got[n]
		w, inWant := want[n]
		switch {
		case inGot && !inWant:
			fmt.Fprintf(&b, "- %s %v\n", n, g)
		case !inGot && inWant:
			fmt.Fprintf(&b, "+ %s %v\n", n, w)
		case g != w:
			fmt.Fprintf(&b, "- %s %v\n+ %s %v\n", n, g, n, w)
		}
	}
	return b.String()
}

func describeLayers(layers [][]tarEntry) string {
	var b strings.Builder
	for i, l := range layers {
		fmt.Fprintf(&b, "layer %d:\n", i)
		for _, e := range l {
			fmt.Fprintf(&b, "  %c %s %04o %q %q\n", e.hdr.Typeflag, e.hdr.Name, e.hdr.Mode, e.hdr.Linkname, e.body)
		}
	}
	return b.String()
}

// imageModel tracks the flattened paths while generating, just enough to aim
// whiteouts and opaque markers at existing lower-layer content and to stay
// clear of mutate.Extract's deviations.
type imageModel struct {
	kind map[string]byte // path -> 'd', 'f', 'l' (symlink) or 'p' (fifo)
	// wasDir holds paths that were directories and were replaced by a
	// non-directory: they may not become directories again.
	wasDir map[string]bool
}

func generateImage(rng *rand.Rand) [][]tarEntry {
	m := &imageModel{kind: map[string]byte{}, wasDir: map[string]bool{}}
	layers := make([][]tarEntry, 1+rng.IntN(5))
	for i := range layers {
		layers[i] = m.generateLayer(rng, 1+rng.IntN(14))
	}
	return layers
}

// layerState is what one layer has done so far.
type layerState struct {
	entries []tarEntry
	written map[string]bool // paths this layer lists (including explicit parents)
	hidden  map[string]bool // paths this layer whites out
}

var genNames = []string{"a", "b", "c", "etc", "lib"}

func (m *imageModel) generateLayer(rng *rand.Rand, ops int) []tarEntry {
	ls := &layerState{written: map[string]bool{}, hidden: map[string]bool{}}
	for range ops {
		switch r := rng.IntN(100); {
		case r < 65:
			m.genAdd(rng, ls)
		case r < 85:
			m.genWhiteout(rng, ls)
		default:
			m.genOpaque(rng, ls)
		}
	}
	return ls.entries
}

func (m *imageModel) existing(kind byte) []string {
	var out []string
	for p, k := range m.kind {
		if kind == 0 || k == kind {
			out = append(out, p)
		}
	}
	slices.Sort(out) // map order is random; the seed must decide
	return out
}

func randomMeta(rng *rand.Rand, h *tar.Header) {
	h.Mode = []int64{0o644, 0o755, 0o600, 0o4755, 0o2750, 0o1777, 0o444}[rng.IntN(7)]
	h.Uid, h.Gid = rng.IntN(3), rng.IntN(3)
	h.ModTime = time.Unix(1_600_000_000+rng.Int64N(100_000_000), 0)
	h.Format = tar.FormatPAX
}

// underOrAt reports whether p is base or below it.
func underOrAt(p, base string) bool { return p == base || strings.HasPrefix(p, base+"/") }

func (ls *layerState) touchesHidden(p string) bool {
	for h := range ls.hidden {
		if underOrAt(p, h) {
			return true
		}
	}
	return false
}

func (m *imageModel) remove(p string) {
	for q := range m.kind {
		if underOrAt(q, p) {
			delete(m.kind, q)
		}
	}
}

// setKind records p's new type, remembering directories that stop being ones.
func (m *imageModel) setKind(p string, k byte) {
	if old, ok := m.kind[p]; ok && old == 'd' && k != 'd' {
		m.wasDir[p] = true
		m.remove(p)
	}
	m.kind[p] = k
}

func (m *imageModel) genAdd(rng *rand.Rand, ls *layerState) {
	// Extend an existing directory (or the root) by a name, sometimes two.
	parents := append([]string{""}, m.existing('d')...)
	p := parents[rng.IntN(len(parents))]
	for range 1 + rng.IntN(2) {
		p = path.Join(p, genNames[rng.IntN(len(genNames))])
	}
	if ls.written[p] || ls.touchesHidden(p) {
		return
	}
	kind := []byte{'f', 'f', 'f', 'd', 'd', 'l', 'p'}[rng.IntN(7)]
	if kind == 'd' && m.wasDir[p] {
		kind = 'f'
	}
	// Every ancestor is listed as a directory first, replacing whatever is
	// there, unless this layer already listed it.
	var ancestors []string
	for a := path.Dir(p); a != "."; a = path.Dir(a) {
		ancestors = append(ancestors, a)
	}
	for _, a := range ancestors {
		switch {
		case ls.written[a] && m.kind[a] != 'd':
			return // this layer already made it a non-directory
		case !ls.written[a] && m.wasDir[a] && m.kind[a] != 'd':
			return // would turn a former directory back into one
		}
	}
	for i := len(ancestors) - 1; i >= 0; i-- {
		a := ancestors[i]
		if ls.written[a] {
			continue
		}
		e := tarDir(a)
		randomMeta(rng, &e.hdr)
		ls.entries = append(ls.entries, e)
		ls.written[a] = true
		m.setKind(a, 'd')
	}
	var e tarEntry
	switch kind {
	case 'f':
		e = tarReg(p, strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(40)))
	case 'd':
		e = tarDir(p)
	case 'l':
		target := []string{"/etc/passwd", "/lib", "x", "sub/y", "./z"}[rng.IntN(5)]
		e = tarSymlink(p, target)
	case 'p':
		e = tarEntry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: p}}
	}
	randomMeta(rng, &e.hdr)
	ls.entries = append(ls.entries, e)
	ls.written[p] = true
	m.setKind(p, kind)
}

func (m *imageModel) genWhiteout(rng *rand.Rand, ls *layerState) {
	candidates := m.existing(0)
	if len(candidates) == 0 {
		return
	}
	p := candidates[rng.IntN(len(candidates))]
	for w := range ls.written {
		if underOrAt(w, p) {
			return // this layer wrote at or below p
		}
	}
	if ls.touchesHidden(p) {
		return
	}
	e := tarWhiteout(path.Join(path.Dir(p), whiteoutPrefix+path.Base(p)))
	ls.entries = append(ls.entries, e)
	ls.hidden[p] = true
	m.remove(p)
}

func (m *imageModel) genOpaque(rng *rand.Rand, ls *layerState) {
	dirs := append([]string{"."}, m.existing('d')...)
	d := dirs[rng.IntN(len(dirs))]
	if d != "." && ls.touchesHidden(d) {
		return
	}
	if d != "." && !ls.written[d] && rng.IntN(2) == 0 {
		e := tarDir(d)
		randomMeta(rng, &e.hdr)
		ls.entries = append(ls.entries, e)
		ls.written[d] = true
	}
	ls.entries = append(ls.entries, tarWhiteout(path.Join(d, whiteoutOpaque)))
	// Lower content below d disappears; this layer's own entries stay.
	for q := range m.kind {
		if d == "." || strings.HasPrefix(q, d+"/") {
			if !ls.written[q] {
				delete(m.kind, q)
			}
		}
	}
}
