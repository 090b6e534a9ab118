package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/convert/pack/wasmbin"
	"github.com/wasmrt/wasmrt/emulator/embed"
)

// rewrite parses mod, applies edit and encodes the result.
func rewrite(t *testing.T, mod []byte, edit func(*wasmbin.Module)) []byte {
	t.Helper()
	m, err := wasmbin.Parse(mod)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEmbedRefusesBrokenModules(t *testing.T) {
	mod, _ := embedtestModule(t)
	goRuntimeOf := func(t *testing.T) *goRuntime {
		m, err := wasmbin.Parse(mod)
		if err != nil {
			t.Fatal(err)
		}
		rt, err := findGoRuntime(m)
		if err != nil {
			t.Fatal(err)
		}
		return rt
	}
	flipped := bytes.Clone(mod)
	flipped[9] ^= 0xff // first section's size
	tests := []struct {
		name   string
		module func(t *testing.T) []byte
		is     error
		msg    string
	}{
		{"empty", func(*testing.T) []byte { return nil }, wasmbin.ErrMalformed, "not a WebAssembly module"},
		{"truncated", func(*testing.T) []byte { return mod[:len(mod)/2] }, wasmbin.ErrMalformed, "runs past the end of the module"},
		{"corrupt section size", func(*testing.T) []byte { return flipped }, wasmbin.ErrMalformed, "offset 0x8"},
		{"not Go", func(*testing.T) []byte {
			// A valid module with one memory and nothing else.
			return []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 3, 1, 0, 1}
		}, ErrNotGoWasip1, "wasi_snapshot_preview1"},
		{"GOOS=js", func(t *testing.T) []byte {
			return rewrite(t, mod, func(m *wasmbin.Module) { renameImports(t, m, "gojs") })
		}, ErrNotGoWasip1, "GOOS=js"},
		{"other Go release", func(t *testing.T) []byte {
			return rewrite(t, mod, func(m *wasmbin.Module) { setGoVersion(t, m, "go1.27.0") })
		}, ErrUnsupportedGo, "built with go1.27.0"},
		{"moduledata layout changed", func(t *testing.T) []byte {
			rt := goRuntimeOf(t)
			return rewrite(t, mod, func(m *wasmbin.Module) {
				// Swap data and edata, as a reordered struct would.
				var w [16]byte
				binary.LittleEndian.PutUint64(w[:], rt.edata)
				binary.LittleEndian.PutUint64(w[8:], rt.data)
				if err := m.PatchMemory(rt.moduledata+mdData, w[:]); err != nil {
					t.Fatal(err)
				}
			})
		}, ErrUnsupportedGo, "runtime.firstmoduledata not found"},
		{"no embed table", func(t *testing.T) []byte {
			return rewrite(t, mod, func(m *wasmbin.Module) {
				at := tableAddrOf(t, m)
				if err := m.PatchMemory(at, make([]byte, 16)); err != nil {
					t.Fatal(err)
				}
			})
		}, ErrNoTable, "imports emulator/embed"},
		{"corrupt embed table", func(t *testing.T) []byte {
			return rewrite(t, mod, func(m *wasmbin.Module) {
				if err := m.PatchMemory(tableAddrOf(t, m)+8*embed.WordHeader, []byte{2}); err != nil {
					t.Fatal(err)
				}
			})
		}, embed.ErrCorrupt, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Embed(tt.module(t), Blob{Name: "rootfs", Data: []byte("x")})
			if err == nil || !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Embed error %v, want %v containing %q", err, tt.is, tt.msg)
			}
		})
	}
}

func TestEmbedTwiceRefused(t *testing.T) {
	mod, _ := embedtestModule(t)
	once, err := Embed(mod, Blob{Name: "rootfs", Data: []byte("first")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Embed(once, Blob{Name: "rootfs", Data: []byte("second")}); !errors.Is(err, ErrAlreadyEmbedded) {
		t.Fatalf("second Embed: %v, want ErrAlreadyEmbedded", err)
	}
}

func TestEmbedRejectsBadBlobs(t *testing.T) {
	mod, _ := embedtestModule(t)
	five := make([]Blob, embed.MaxBlobs+1)
	for i := range five {
		five[i] = Blob{Name: string(rune('a' + i))}
	}
	for name, blobs := range map[string][]Blob{
		"too many":   five,
		"bad name":   {{Name: "Root FS"}},
		"long name":  {{Name: "rootfs-image"}},
		"duplicates": {{Name: "rootfs"}, {Name: "rootfs"}},
	} {
		if _, err := Embed(mod, blobs...); err == nil {
			t.Errorf("%s: Embed accepted %d blobs", name, len(blobs))
		}
	}
}

// TestEmbedLayout checks the placement rules on the output, independently
// of running it: page-aligned blobs past the old runtime.end, end moved
// past the last blob, memory large enough, table sealed.
func TestEmbedLayout(t *testing.T) {
	mod, _ := embedtestModule(t)
	orig, _ := wasmbin.Parse(mod)
	before, err := findGoRuntime(orig)
	if err != nil {
		t.Fatal(err)
	}
	blobs := []Blob{{Name: "rootfs", Data: randomBlob(200_001, 2)}, {Name: "empty"}, {Name: "config", Data: []byte("{}")}}
	out, err := Embed(mod, blobs...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasmbin.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	after, err := findGoRuntime(m)
	if err != nil {
		t.Fatalf("the packed module no longer validates: %v", err)
	}
	_, table, err := findTable(m)
	if err != nil {
		t.Fatal(err)
	}
	entries, state, err := embed.Decode(table)
	if err != nil || state != embed.Sealed || len(entries) != len(blobs) {
		t.Fatalf("table: %v, state %d, %d entries", err, state, len(entries))
	}
	prevEnd := before.end
	for i, e := range entries {
		if e.Name != blobs[i].Name || e.Len != uint64(len(blobs[i].Data)) || e.Addr%embed.BlobAlign != 0 || e.Addr < prevEnd {
			t.Errorf("entry %d = %+v, want %q with %d bytes page-aligned at or above %#x", i, e, blobs[i].Name, len(blobs[i].Data), prevEnd)
		}
		prevEnd = e.Addr + e.Len
	}
	if after.end < prevEnd || after.end%embed.BlobAlign != 0 {
		t.Errorf("runtime.end = %#x, want a page boundary at or above %#x", after.end, prevEnd)
	}
	if size := m.Memories[0].Min * wasmbin.PageSize; size < after.end+HeapHeadroom {
		t.Errorf("memory of %d bytes leaves less than %d past runtime.end %#x", size, HeapHeadroom, after.end)
	}
	if got, _ := m.ReadMemory(entries[0].Addr, len(blobs[0].Data)); !bytes.Equal(got, blobs[0].Data) {
		t.Error("the memory image does not hold the rootfs blob at its address")
	}
}

// TestEmbedPassiveLayout checks a passive blob's placement: it takes no
// memory, sits at its offset in one appended passive segment, and the
// segmentRead wrapper no longer calls its placeholder import.
func TestEmbedPassiveLayout(t *testing.T) {
	mod, _ := embedtestModule(t)
	orig, _ := wasmbin.Parse(mod)
	before, err := findGoRuntime(orig)
	if err != nil {
		t.Fatal(err)
	}
	first, second := randomBlob(300_001, 3), randomBlob(5, 4)
	blobs := []Blob{{Name: "rootfs", Data: first, Passive: true}, {Name: "config", Data: []byte("{}")}, {Name: "extra", Data: second, Passive: true}}
	out, err := Embed(mod, blobs...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasmbin.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	_, table, err := findTable(m)
	if err != nil {
		t.Fatal(err)
	}
	entries, _, err := embed.Decode(table)
	if err != nil || len(entries) != 3 {
		t.Fatalf("table: %v, %d entries", err, len(entries))
	}
	if e := entries[0]; !e.Passive || e.Addr != 0 || e.Len != uint64(len(first)) {
		t.Errorf("first passive entry = %+v, want offset 0", e)
	}
	if e := entries[2]; !e.Passive || e.Addr != uint64(len(first)) || e.Len != uint64(len(second)) {
		t.Errorf("second passive entry = %+v, want offset %d", e, len(first))
	}
	if entries[1].Passive || entries[1].Addr < before.end {
		t.Errorf("active entry = %+v, want it in memory above %#x", entries[1], before.end)
	}
	var passive []*wasmbin.DataSegment
	for _, d := range m.Data {
		if d.Passive {
			passive = append(passive, d)
		}
	}
	if len(passive) != 1 || !bytes.Equal(passive[0].Init, append(append([]byte{}, first...), second...)) {
		t.Fatalf("%d passive segments, want one holding both blobs in order", len(passive))
	}
	if size := m.Memories[0].Min * wasmbin.PageSize; size > before.end+HeapHeadroom+2*embed.BlobAlign {
		t.Errorf("memory of %d bytes: the passive blobs took room in it", size)
	}
	names, err := m.FunctionNames()
	if err != nil {
		t.Fatal(err)
	}
	for idx, name := range names {
		if name != strings.ReplaceAll(embed.SegmentReadFunc, "/", "_") {
			continue
		}
		body, err := m.Body(idx)
		if err != nil {
			t.Fatal(err)
		}
		for i, im := range importedFuncs(m) {
			if im.Name == embed.SegmentReadImport {
				if _, n, err := wasmbin.RedirectCalls(body, uint32(i), uint32(i)); err != nil || n != 0 {
					t.Errorf("the wrapper still calls import %d (%s): %d calls, %v", i, im.Name, n, err)
				}
			}
		}
		return
	}
	t.Fatalf("no function named %s", embed.SegmentReadFunc)
}

// TestEmbedPassiveNeedsNames checks that a module stripped of its name
// section is refused for passive blobs, by name, and still packs active
// ones.
func TestEmbedPassiveNeedsNames(t *testing.T) {
	mod, _ := embedtestModule(t)
	stripped := rewrite(t, mod, func(m *wasmbin.Module) {
		m.Sections = slices.DeleteFunc(m.Sections, func(s wasmbin.Section) bool {
			return s.ID == wasmbin.SectionCustom && s.Name == "name"
		})
	})
	_, err := Embed(stripped, Blob{Name: "rootfs", Data: []byte("x"), Passive: true})
	if !errors.Is(err, ErrUnsupportedGo) || !strings.Contains(err.Error(), embed.SegmentReadFunc) {
		t.Fatalf("Embed of a passive blob into a stripped module: %v, want ErrUnsupportedGo naming %s", err, embed.SegmentReadFunc)
	}
	if _, err := Embed(stripped, Blob{Name: "rootfs", Data: []byte("x")}); err != nil {
		t.Fatalf("Embed of an active blob into a stripped module: %v", err)
	}
}

// importedFuncs lists the module's function imports in index order.
func importedFuncs(m *wasmbin.Module) []wasmbin.Import {
	var out []wasmbin.Import
	for _, im := range m.Imports {
		if im.Kind == wasmbin.KindFunc {
			out = append(out, im)
		}
	}
	return out
}

func tableAddrOf(t *testing.T, m *wasmbin.Module) uint64 {
	t.Helper()
	at, _, err := findTable(m)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// renameImports points every import at module name mod by rewriting the
// import section's bytes.
func renameImports(t *testing.T, m *wasmbin.Module, mod string) {
	t.Helper()
	for i, s := range m.Sections {
		if s.ID == wasmbin.SectionImport {
			m.Sections[i].Payload = bytes.ReplaceAll(s.Payload, []byte("\x16wasi_snapshot_preview1"), append([]byte{byte(len(mod))}, mod...))
			return
		}
	}
	t.Fatal("no import section")
}

// setGoVersion rewrites the producers section to name version.
func setGoVersion(t *testing.T, m *wasmbin.Module, version string) {
	t.Helper()
	for i, s := range m.Sections {
		if s.ID == wasmbin.SectionCustom && s.Name == "producers" {
			old := []byte(runtimeVersionIn(t, m))
			m.Sections[i].Payload = bytes.ReplaceAll(s.Payload, append([]byte{byte(len(old))}, old...), append([]byte{byte(len(version))}, version...))
			return
		}
	}
	t.Fatal("no producers section")
}

func runtimeVersionIn(t *testing.T, m *wasmbin.Module) string {
	v, err := goRelease(m)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDetach takes the first of two passive blobs out of a packed module:
// the module keeps the others, reads the second from its new place, and
// the detached bytes are the blob's.
func TestDetach(t *testing.T) {
	mod, _ := embedtestModule(t)
	first, second := randomBlob(300_001, 5), randomBlob(70_000, 6)
	out, err := Embed(mod, Blob{Name: "rootfs", Data: first, Passive: true}, Blob{Name: "config", Data: []byte("{}")}, Blob{Name: "extra", Data: second, Passive: true})
	if err != nil {
		t.Fatal(err)
	}
	rest, blob, err := Detach(out, "rootfs")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blob, first) {
		t.Errorf("the detached blob is not the rootfs")
	}
	if len(rest) >= len(out)-len(first)+1024 {
		t.Errorf("module of %d bytes after detaching %d from %d", len(rest), len(first), len(out))
	}
	blobs, err := Extract(rest)
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 2 || blobs[0].Name != "config" || blobs[1].Name != "extra" || !bytes.Equal(blobs[1].Data, second) {
		t.Fatalf("blobs left: %d (%v)", len(blobs), blobs)
	}
	stdout, stderr, code := runWazero(t, t.TempDir(), rest, "stress", "extra", "config")
	if want := fmt.Sprintf("extra %s\nconfig %s\n", sha(second), sha([]byte("{}"))); code != 0 || stdout != want {
		t.Errorf("the module reading its blobs: exit %d\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, want, stderr)
	}
	for _, tc := range []struct {
		module    []byte
		name, err string
	}{
		{rest, "rootfs", `no blob "rootfs"`},
		{rest, "config", "not in the passive segment"},
		{mod, "rootfs", "carries no blobs"},
		{[]byte("junk"), "rootfs", "pack:"},
	} {
		if _, _, err := Detach(tc.module, tc.name); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Detach(%s) = %v, want %q", tc.name, err, tc.err)
		}
	}
}

// TestDetachInPlace: the blob aliases the module, small blobs stay, and
// the blob's CRC-32C is left to its reader.
func TestDetachInPlace(t *testing.T) {
	mod, _ := embedtestModule(t)
	first := randomBlob(300_001, 7)
	out, err := Embed(mod, Blob{Name: "rootfs", Data: first, Passive: true}, Blob{Name: "config", Data: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	rest, blob, err := DetachInPlace(out, "rootfs", len(first)+1)
	if err != nil || rest != nil || blob != nil {
		t.Fatalf("a blob under minLen: rest %d bytes, blob %d bytes, %v", len(rest), len(blob), err)
	}
	// Longer than the whole passive segment.
	rest, blob, err = DetachInPlace(out, "rootfs", len(out))
	if err != nil || rest != nil || blob != nil {
		t.Fatalf("minLen past the passive segment: rest %d bytes, blob %d bytes, %v", len(rest), len(blob), err)
	}
	rest, blob, err = DetachInPlace(out, "rootfs", len(first))
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := Detach(out, "rootfs")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rest, want) || !bytes.Equal(blob, first) {
		t.Fatalf("DetachInPlace differs from Detach")
	}
	i := bytes.Index(out, first)
	if i < 0 || &out[i] != &blob[0] {
		t.Errorf("the blob is a copy, not the module's own bytes")
	}
	// A flipped bit in the blob is the reader's to find.
	out[i+1000] ^= 1
	if _, _, err := DetachInPlace(out, "rootfs", 0); err != nil {
		t.Errorf("DetachInPlace checked the blob: %v", err)
	}
	if _, _, err := Detach(out, "rootfs"); err == nil || !strings.Contains(err.Error(), "CRC-32C") {
		t.Errorf("Detach of a damaged blob: %v", err)
	}
}
