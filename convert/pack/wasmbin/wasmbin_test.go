package wasmbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmrt/wasmrt/internal/wasmtest"
)

func TestLEB(t *testing.T) {
	tests := []struct {
		in     []byte
		bits   uint
		signed bool
		want   int64
		ok     bool
	}{
		{[]byte{0x00}, 32, false, 0, true},
		{[]byte{0xe5, 0x8e, 0x26}, 32, false, 624485, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 32, false, 0xffffffff, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 32, false, 0, false},       // 33 bits
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 32, false, 0, false}, // 6 bytes
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x00}, 32, false, 0, true},        // padded zero
		{[]byte{0x80}, 32, false, 0, false},                               // truncated
		{[]byte{0x7f}, 32, true, -1, true},
		{[]byte{0xc0, 0xbb, 0x78}, 32, true, -123456, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x07}, 32, true, 0x7fffffff, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x78}, 32, true, -0x80000000, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 32, true, 0, false}, // bits above the sign differ
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, 64, true, -1 << 63, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 64, false, -1 << 63, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}, 64, false, 0, false},
	}
	for _, tt := range tests {
		r := &reader{b: tt.in, section: "test"}
		var got int64
		if tt.signed {
			got = r.sleb(tt.bits)
		} else {
			got = int64(r.uleb(tt.bits))
		}
		if ok := r.err == nil && r.pos == len(tt.in); ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("% x (%d bits, signed %v) = %d, err %v; want %d, ok %v", tt.in, tt.bits, tt.signed, got, r.err, tt.want, tt.ok)
		}
		if tt.ok && r.err == nil {
			var enc []byte
			if tt.signed {
				enc = appendSleb(nil, got)
			} else {
				enc = appendUleb(nil, uint64(got))
			}
			back := &reader{b: enc}
			if (tt.signed && back.sleb(tt.bits) != got) || (!tt.signed && int64(back.uleb(tt.bits)) != got) {
				t.Errorf("encoding of %d (% x) does not decode back", got, enc)
			}
		}
	}
}

// watModule compiles testdata/sections.wat with wabt's wat2wasm, the
// reference encoder.
func watModule(t *testing.T) []byte {
	t.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm not found: install the Debian package wabt")
	}
	out := filepath.Join(t.TempDir(), "sections.wasm")
	if b, err := exec.Command("wat2wasm", "--enable-all", "testdata/sections.wat", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func validate(t *testing.T, b []byte) {
	t.Helper()
	if _, err := exec.LookPath("wasm-validate"); err != nil {
		t.Skip("wasm-validate not found: install the Debian package wabt")
	}
	p := filepath.Join(t.TempDir(), "out.wasm")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("wasm-validate", "--enable-all", p).CombinedOutput(); err != nil {
		t.Fatalf("wasm-validate: %v\n%s", err, out)
	}
}

func TestParseSections(t *testing.T) {
	b := watModule(t)
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Types) != 2 || len(m.Types[0].Params) != 2 || m.Types[0].Results[0] != 0x7f {
		t.Errorf("types = %+v", m.Types)
	}
	if len(m.Imports) != 3 || m.Imports[0].Name != "add" || m.Imports[1].Kind != KindGlobal || m.Imports[2].Kind != KindTable {
		t.Errorf("imports = %+v", m.Imports)
	}
	if len(m.Functions) != 2 || len(m.Code) != 2 || len(m.Tables) != 1 || m.Tables[0].Limits != (Limits{Min: 2, Max: 10, HasMax: true}) {
		t.Errorf("functions %v, code %d, tables %+v", m.Functions, len(m.Code), m.Tables)
	}
	if len(m.Memories) != 1 || m.Memories[0] != (Limits{Min: 2, Max: 100, HasMax: true}) {
		t.Errorf("memories = %+v", m.Memories)
	}
	if len(m.Globals) != 2 || !m.Globals[0].Mutable || !bytes.Equal(m.Globals[1].Init, []byte{0x42, 0x56, 0x0b}) {
		t.Errorf("globals = %+v", m.Globals)
	}
	if len(m.Exports) != 2 || m.Exports[1].Name != "mem" || m.Exports[1].Kind != KindMemory {
		t.Errorf("exports = %+v", m.Exports)
	}
	if m.Start == nil || *m.Start != 1 || len(m.Elements) != 3 || m.DataCount == nil || *m.DataCount != 3 {
		t.Errorf("start %v, %d element segments, data count %v", m.Start, len(m.Elements), m.DataCount)
	}
	if len(m.Data) != 3 || m.Data[0].Offset != 16 || string(m.Data[0].Init) != "hello" ||
		m.Data[1].Offset != 0x10000 || !m.Data[2].Passive || string(m.Data[2].Init) != "lazy" {
		t.Errorf("data = %+v %+v %+v", m.Data[0], m.Data[1], m.Data[2])
	}
}

func TestEditAndWrite(t *testing.T) {
	b := watModule(t)
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	// Unedited, every section's payload survives.
	same, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(same, b) {
		t.Errorf("an unedited module changed on the way through (wat2wasm writes minimal sizes)")
	}
	input := bytes.Clone(b)
	m.Memories[0].Min, m.Memories[0].Max = 8, 200
	blob := bytes.Repeat([]byte("blob"), 40000)
	if err := m.AppendData(4*PageSize, blob); err != nil {
		t.Fatal(err)
	}
	// Patch across "hello" and the zero bytes after it, and inside the
	// second segment.
	if err := m.PatchMemory(19, []byte("p!XYZ")); err != nil {
		t.Fatal(err)
	}
	if err := m.PatchMemory(0x10001, []byte{9}); err != nil {
		t.Fatal(err)
	}
	if err := m.PatchMemory(8*PageSize-1, []byte{1, 2}); err == nil {
		t.Error("PatchMemory past the memory's end succeeded")
	}
	out, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, input) {
		t.Fatal("editing changed the parsed input")
	}
	validate(t, out)
	m2, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Memories[0] != (Limits{Min: 8, Max: 200, HasMax: true}) || *m2.DataCount != uint32(len(m2.Data)) {
		t.Errorf("memory %+v, data count %d for %d segments", m2.Memories[0], *m2.DataCount, len(m2.Data))
	}
	for _, c := range []struct {
		addr uint64
		want string
	}{{16, "help!XYZ\x00"}, {0x10000, "\x01\x09\x03\x04\x00"}, {4 * PageSize, "blobblob"}} {
		got, err := m2.ReadMemory(c.addr, len(c.want))
		if err != nil || string(got) != c.want {
			t.Errorf("ReadMemory(%#x) = %q, %v; want %q", c.addr, got, err, c.want)
		}
	}
	if hits, _ := m2.FindData([]byte("blobb")); len(hits) != 39999 || hits[0] != 4*PageSize {
		t.Errorf("FindData found %d hits", len(hits))
	}
	// A value whose first bytes are zero starts in the gap before a segment
	// (the Go linker leaves zero runs out of its segments).
	if hits, _ := m2.FindData([]byte{0, 1, 9, 3}); len(hits) != 1 || hits[0] != 0xffff {
		t.Errorf("FindData across a gap = %#x, want [0xffff]", hits)
	}
	// Sections not edited keep their bytes.
	for i, s := range m.Sections {
		if s.ID != SectionMemory && s.ID != SectionData && s.ID != SectionDataCount && !bytes.Equal(s.Payload, m2.Sections[i].Payload) {
			t.Errorf("%v changed", s.ID)
		}
	}
}

func TestAppendDataWithoutDataSection(t *testing.T) {
	// type, function, memory, export, code: one memory, no data.
	b := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0,
		3, 2, 1, 0,
		5, 3, 1, 0, 1,
		10, 4, 1, 2, 0, 0x0b,
		0, 5, 4, 'n', 'o', 't', 'e'}
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AppendData(0x8000_0000-PageSize, []byte("x")); err == nil {
		t.Error("AppendData beyond one page of memory succeeded")
	}
	m.Memories[0].Min = 0x8000
	if err := m.AppendData(0x8000_0000-4, []byte("high")); err != nil {
		t.Fatal(err)
	}
	out, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	validate(t, out)
	m2, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m2.Sections); n != 6 || m2.Sections[4].ID != SectionData || m2.Sections[5].Name != "note" {
		t.Fatalf("sections after insert: %d, want the data section before the custom one", n)
	}
	if got, _ := m2.ReadMemory(0x8000_0000-4, 4); string(got) != "high" {
		t.Errorf("ReadMemory = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	good := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 3, 1, 0, 1}
	tests := []struct {
		name string
		b    []byte
		msg  string
	}{
		{"no magic", []byte("\x7fELF\x02\x01\x01\x00"), "header at offset 0x0: not a WebAssembly module"},
		{"component", []byte{0, 'a', 's', 'm', 0x0d, 0, 1, 0}, "version 0d 00 01 00"},
		{"truncated section", good[:11], "memory section at offset 0x8"},
		{"trailing bytes", append(append([]byte{}, good[:9]...), 4, 1, 0, 1, 0), "memory section at offset 0xd: 1 unexpected bytes"},
		{"max below min", []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 4, 1, 1, 2, 1}, "maximum 1 is below minimum 2"},
		{"duplicate", append(bytes.Clone(good), 5, 3, 1, 0, 1), "memory section at offset 0xd: section appears twice"},
		{"out of order", []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 3, 1, 0, 1, 1, 1, 0}, "type section at offset 0xd: section out of order"},
		{"huge count", []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 11, 5, 0xff, 0xff, 0xff, 0xff, 0x0f}, "4294967295 data segments declared"},
		{"bad const expr", []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 11, 5, 1, 0, 0x20, 0, 0x0b}, "opcode 0x20 is not allowed"},
		{"functions without code", []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0}, "1 functions declared but 0 bodies"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.b)
		if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: Parse error %v, want ErrMalformed containing %q", tt.name, err, tt.msg)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 3, 1, 0, 1, 11, 7, 1, 0, 0x41, 0, 0x0b, 1, 'x'})
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0b, 0, 2, 1, 'n'})
	if _, err := exec.LookPath("wat2wasm"); err == nil {
		out := filepath.Join(f.TempDir(), "sections.wasm")
		if exec.Command("wat2wasm", "--enable-all", "testdata/sections.wat", "-o", out).Run() == nil {
			if b, err := os.ReadFile(out); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		passive, perr := PassiveDataLen(b)
		m, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if want := longestPassive(m); perr != nil || passive != want {
			t.Fatalf("PassiveDataLen = %d, %v; Parse finds %d", passive, perr, want)
		}
		out, err := m.Encode()
		if err != nil {
			return // e.g. limits that cannot be re-encoded
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded module does not parse: %v", err)
		}
		// Encode adds a data count section for passive segments when
		// the module had none (memory.init needs one).
		added := 0
		if m.DataCount == nil && m2.DataCount != nil {
			added = 1
		}
		if len(m2.Sections) != len(m.Sections)+added || len(m2.Data) != len(m.Data) {
			t.Fatalf("re-encoding changed the structure")
		}
		for i, d := range m.Data {
			if !bytes.Equal(d.Init, m2.Data[i].Init) || d.Offset != m2.Data[i].Offset {
				t.Fatalf("data segment %d changed", i)
			}
		}
		if len(m.Memories) > 0 {
			m.ReadMemory(0, 16)
			m.PatchMemory(0, []byte{1})
			m.FindData([]byte{0})
		}
	})
}

func longestPassive(m *Module) int {
	n := 0
	for _, d := range m.Data {
		if d.Passive {
			n = max(n, len(d.Init))
		}
	}
	return n
}

// TestPassiveDataLen: the header scan agrees with Parse, and fails where
// the data section is malformed.
func TestPassiveDataLen(t *testing.T) {
	b := watModule(t)
	if n, err := PassiveDataLen(b); err != nil || n != len("lazy") {
		t.Fatalf("sections.wat: PassiveDataLen = %d, %v; want 4", n, err)
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	m.AppendPassiveData(make([]byte, 1000))
	out, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := PassiveDataLen(out); err != nil || n != 1000 {
		t.Fatalf("after appending 1000 bytes: PassiveDataLen = %d, %v", n, err)
	}
	noData := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 3, 1, 0, 1}
	if n, err := PassiveDataLen(noData); err != nil || n != 0 {
		t.Fatalf("no data section: PassiveDataLen = %d, %v", n, err)
	}
	for name, bad := range map[string][]byte{
		"no magic":    []byte("\x7fELF\x02\x01\x01\x00"),
		"huge count":  {0, 'a', 's', 'm', 1, 0, 0, 0, 11, 5, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"segment cut": {0, 'a', 's', 'm', 1, 0, 0, 0, 11, 4, 1, 1, 9, 'x'},
		"section cut": {0, 'a', 's', 'm', 1, 0, 0, 0, 11, 9, 1, 1},
	} {
		if _, err := PassiveDataLen(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: PassiveDataLen error %v, want ErrMalformed", name, err)
		}
	}
}

func TestAppendCustomSection(t *testing.T) {
	b := watModule(t)
	// A name of 200 bytes needs a two-byte length, as does the section.
	long := strings.Repeat("n", 200)
	out := AppendCustomSection(AppendCustomSection(slices.Clone(b), "marker", []byte("v1")), long, nil)
	if !bytes.Equal(out[:len(b)], b) {
		t.Fatal("the module before the appended sections changed")
	}
	validate(t, out)
	m, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range m.Sections {
		if s.ID == SectionCustom {
			// Payload holds the whole section: the name, then the data.
			data := s.Payload[ulebLen(uint64(len(s.Name)))+len(s.Name):]
			got = append(got, fmt.Sprintf("%s=%q", s.Name, data))
		}
	}
	want := []string{`marker="v1"`, long + `=""`}
	if !slices.Equal(got[len(got)-2:], want) {
		t.Errorf("custom sections %v, want the last two to be %v", got, want)
	}
}

const redirectWat = `(module
  (type $rw (func (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $imp (type $rw)))
  (memory (export "memory") 1)
  (data (i32.const 0) "active")
  (func $wrapper (export "wrapper") (type $rw)
    ;; Immediates that look like "call 0" (0x10 0x00) must not be touched.
    i32.const 16
    drop
    i32.const 0
    i32.load offset=16
    drop
    local.get 0
    local.get 1
    local.get 2
    call $imp)
  (func $other (export "other") (result i32)
    i32.const 1
    i32.const 2
    i32.const 3
    call $imp))`

// TestImplementImportWithPassiveData does what convert/pack does to read a
// blob on demand: a passive segment, a function that copies from it with
// memory.init, and one caller's call of an import redirected to that
// function. The result must validate, and behave, under wazero.
func TestImplementImportWithPassiveData(t *testing.T) {
	m, err := Parse(wasmtest.Wat(t, redirectWat))
	if err != nil {
		t.Fatal(err)
	}
	names, err := m.FunctionNames()
	if err != nil || names[1] != "wrapper" || names[2] != "other" || names[0] != "imp" {
		t.Fatalf("function names %v, %v", names, err)
	}
	ft, err := m.FuncType(0)
	if err != nil || len(ft.Params) != 3 || len(ft.Results) != 1 {
		t.Fatalf("type of the import: %+v %v", ft, err)
	}
	seg := m.AppendPassiveData([]byte("hello, passive world"))
	read := m.AppendFunction(m.AddType(ft), MemoryInitBody(seg))
	if read != 3 {
		t.Fatalf("new function index %d, want 3", read)
	}
	wrapper, err := m.Body(1)
	if err != nil {
		t.Fatal(err)
	}
	newBody, n, err := RedirectCalls(wrapper, 0, read)
	if err != nil || n != 1 {
		t.Fatalf("RedirectCalls: %d calls, %v", n, err)
	}
	if err := m.SetBody(1, newBody); err != nil {
		t.Fatal(err)
	}
	out, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	validate(t, out)
	again, err := Parse(out)
	if err != nil || again.DataCount == nil || int(*again.DataCount) != len(again.Data) || !again.Data[seg].Passive {
		t.Fatalf("re-parsed: data count %v, %v", again.DataCount, err)
	}

	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.Instantiate(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	// wrapper(dst=100, src=7, n=7) copies "passive" from the segment.
	if res, err := mod.ExportedFunction("wrapper").Call(ctx, 100, 7, 7); err != nil || res[0] != 0 {
		t.Fatalf("wrapper: %v %v", res, err)
	}
	if got, _ := mod.Memory().Read(100, 7); string(got) != "passive" {
		t.Errorf("memory after the redirected call: %q", got)
	}
	// The other caller still calls the real import (fd 1 has no prestat:
	// an errno, not the segment).
	if res, err := mod.ExportedFunction("other").Call(ctx); err != nil || res[0] == 0 {
		t.Errorf("other: %v %v: the unrelated call was redirected", res, err)
	}
	// memory.init out of the segment's bounds traps rather than reading
	// past it.
	if _, err := mod.ExportedFunction("wrapper").Call(ctx, 0, 15, 10); err == nil {
		t.Error("a read past the segment did not trap")
	}
}

func TestRedirectCallsRefusesUnknownInstructions(t *testing.T) {
	// A SIMD instruction (0xfd prefix) after one local declaration.
	if _, _, err := RedirectCalls([]byte{0, 0xfd, 12, 0x0b}, 0, 1); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("SIMD: %v", err)
	}
}

// TestCoalesceData: merging segments keeps the initial memory byte for byte
// and gets under the limit; a module under it, or with passive segments
// (whose numbers would change), is left alone.
func TestCoalesceData(t *testing.T) {
	var m Module
	addr := uint64(1024)
	for i := range 1000 {
		init := []byte{byte(i), byte(i >> 8), 0xaa}
		m.Data = append(m.Data, &DataSegment{OffsetExpr: []byte{0x41, 0, 0x0b}, Offset: addr, ConstOffset: true, Init: init})
		addr += uint64(len(init)) + uint64(i%40) // gaps of 0..39 bytes
	}
	m.Memories = []Limits{{Min: 1}}
	before, err := m.ReadMemory(0, int(addr))
	if err != nil {
		t.Fatal(err)
	}
	m.CoalesceData(1000)
	if len(m.Data) != 1000 {
		t.Fatalf("coalesced %d segments under a limit of 1000", len(m.Data))
	}
	m.CoalesceData(100)
	if len(m.Data) > 100 {
		t.Fatalf("%d segments after coalescing to 100", len(m.Data))
	}
	after, err := m.ReadMemory(0, int(addr))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("initial memory changed")
	}
	m.Data = append(m.Data, &DataSegment{Passive: true, Init: []byte{1}})
	n := len(m.Data)
	m.CoalesceData(2)
	if len(m.Data) != n {
		t.Errorf("coalesced a module with a passive segment: %d -> %d", n, len(m.Data))
	}
}
