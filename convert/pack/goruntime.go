package pack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/wasmrt/wasmrt/convert/pack/wasmbin"
)

// ValidatedGoRelease is the Go release whose WebAssembly runtime layout
// (runtime.moduledata, runtime.pcHeader, the sbrk heap start) this package
// was checked against. Modules built by any other release are refused:
// runtime internals may change between releases without notice.
const ValidatedGoRelease = "go1.26"

// ErrNotGoWasip1 reports a module that is not a Go program built with
// GOOS=wasip1 GOARCH=wasm.
var ErrNotGoWasip1 = errors.New("not a Go GOOS=wasip1 GOARCH=wasm module")

// ErrUnsupportedGo reports a Go module whose runtime layout this package
// cannot vouch for.
var ErrUnsupportedGo = errors.New("unsupported Go runtime layout")

// Layout of the Go 1.26 runtime structures on GOARCH=wasm (8-byte
// pointers), from runtime/symtab.go and cmd/link/internal/ld/symtab.go.
const (
	ptrSize = 8

	// pcHeader: magic uint32, pad1, pad2, minLC, ptrSize uint8, nfunc,
	// nfiles, an unused word, then five offsets from the header.
	pcHeaderMagic        = 0xfffffff1 // abi.Go120PCLnTabMagic
	pcHeaderSize         = 72
	pcHeaderNfunc        = 8
	pcHeaderFuncnameOff  = 32
	pcHeaderCuOff        = 40
	pcHeaderFiletabOff   = 48
	pcHeaderPctabOff     = 56
	pcHeaderPclnOff      = 64
	wasmMinLC            = 1 // sys.ArchWasm.MinLC
	moduledataPrefixSize = 336

	// moduledata field offsets: pcHeader, six slices (24 bytes each),
	// then one word per field.
	mdPcHeader    = 0
	mdFuncnametab = 8
	mdCutab       = 32
	mdFiletab     = 56
	mdPctab       = 80
	mdPclntable   = 104
	mdFtab        = 128
	mdNoptrdata   = 192
	mdEnoptrdata  = 200
	mdData        = 208
	mdEdata       = 216
	mdBss         = 224
	mdEbss        = 232
	mdNoptrbss    = 240
	mdEnoptrbss   = 248
	mdCovctrs     = 256
	mdEcovctrs    = 264
	mdEnd         = 272
	mdGcdata      = 280
	mdGcbss       = 288
	mdTypes       = 296
	mdEtypes      = 304
	mdRodata      = 312
	mdEpclntab    = 328
)

// goRuntime is what packing needs to know about the Go runtime in a
// module: where runtime.firstmoduledata is, and its section bounds.
type goRuntime struct {
	release    string // e.g. "go1.26.8"
	moduledata uint64 // address of runtime.firstmoduledata
	noptrdata  uint64
	enoptrdata uint64
	data       uint64
	edata      uint64
	end        uint64 // runtime.end: the heap starts at this address, page-rounded
}

// goRelease reads the Go version the linker records in the "producers"
// custom section (language "Go", e.g. "go1.26.8").
func goRelease(m *wasmbin.Module) (string, error) {
	fields, err := m.Producers()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotGoWasip1, err)
	}
	for _, f := range fields {
		if f.Name != "language" {
			continue
		}
		for _, v := range f.Values {
			if v.Name == "Go" {
				return v.Version, nil
			}
		}
	}
	return "", fmt.Errorf("%w: its producers section does not name Go as the language", ErrNotGoWasip1)
}

// checkWasip1 refuses modules built for another Go wasm target.
func checkWasip1(m *wasmbin.Module) error {
	wasi := false
	for _, imp := range m.Imports {
		switch imp.Module {
		case "wasi_snapshot_preview1":
			wasi = true
		case "gojs":
			return fmt.Errorf("%w: it imports %q, so it was built with GOOS=js; rebuild it with GOOS=wasip1", ErrNotGoWasip1, imp.Module)
		}
	}
	if !wasi {
		return fmt.Errorf("%w: it imports nothing from wasi_snapshot_preview1", ErrNotGoWasip1)
	}
	return nil
}

func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// findGoRuntime locates runtime.firstmoduledata and checks every field
// packing relies on, so that a module from a Go release with another
// layout is refused instead of being corrupted.
func findGoRuntime(m *wasmbin.Module) (*goRuntime, error) {
	if err := checkWasip1(m); err != nil {
		return nil, err
	}
	release, err := goRelease(m)
	if err != nil {
		return nil, err
	}
	if release != ValidatedGoRelease && !strings.HasPrefix(release, ValidatedGoRelease+".") &&
		!strings.HasPrefix(release, ValidatedGoRelease+"rc") {
		return nil, fmt.Errorf("%w: the module was built with %s, but packing is validated only for %s: "+
			"build the emulator with %s, or check runtime.moduledata and the sbrk heap start of %s and update convert/pack",
			ErrUnsupportedGo, release, ValidatedGoRelease, ValidatedGoRelease, release)
	}

	var hdrPattern [8]byte
	binary.LittleEndian.PutUint32(hdrPattern[:], pcHeaderMagic)
	hdrPattern[6], hdrPattern[7] = wasmMinLC, ptrSize
	headers, err := m.FindData(hdrPattern[:])
	if err != nil {
		return nil, err
	}
	var found []*goRuntime
	var reasons []string
	for _, hdrAddr := range headers {
		if hdrAddr%ptrSize != 0 {
			continue
		}
		var ref [8]byte
		binary.LittleEndian.PutUint64(ref[:], hdrAddr)
		refs, err := m.FindData(ref[:])
		if err != nil {
			return nil, err
		}
		for _, md := range refs {
			rt, err := checkModuledata(m, hdrAddr, md)
			if err != nil {
				reasons = append(reasons, err.Error())
				continue
			}
			rt.release = release
			found = append(found, rt)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		msg := fmt.Sprintf("%d pclntab header candidates", len(headers))
		if len(reasons) > 0 {
			msg += "; rejected moduledata candidates: " + strings.Join(reasons, "; ")
		}
		return nil, fmt.Errorf("%w: runtime.firstmoduledata not found in a %s module (%s)", ErrUnsupportedGo, release, msg)
	default:
		return nil, fmt.Errorf("%w: %d structures look like runtime.firstmoduledata; refusing to guess", ErrUnsupportedGo, len(found))
	}
}

// checkModuledata validates the candidate runtime.moduledata at md whose
// first field points at the pcHeader at hdr.
func checkModuledata(m *wasmbin.Module, hdr, md uint64) (*goRuntime, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("candidate at %#x: "+format, append([]any{md}, args...)...)
	}
	if md%ptrSize != 0 {
		return nil, fail("not pointer-aligned")
	}
	h, err := m.ReadMemory(hdr, pcHeaderSize)
	if err != nil {
		return nil, fail("pcHeader: %v", err)
	}
	d, err := m.ReadMemory(md, moduledataPrefixSize)
	if err != nil {
		return nil, fail("%v", err)
	}
	nfunc := le64(h, pcHeaderNfunc)
	epclntab := le64(d, mdEpclntab)
	if nfunc == 0 || nfunc > 1<<24 || epclntab <= hdr {
		return nil, fail("pcHeader has %d functions and ends at %#x", nfunc, epclntab)
	}
	// Each of the six slices must point where the pcHeader says, with
	// len == cap, inside the pclntab.
	slices := []struct {
		name     string
		field    int
		hdrField int
		length   uint64 // 0: any
	}{
		{"funcnametab", mdFuncnametab, pcHeaderFuncnameOff, 0},
		{"cutab", mdCutab, pcHeaderCuOff, 0},
		{"filetab", mdFiletab, pcHeaderFiletabOff, 0},
		{"pctab", mdPctab, pcHeaderPctabOff, 0},
		{"pclntable", mdPclntable, pcHeaderPclnOff, 0},
		{"ftab", mdFtab, pcHeaderPclnOff, nfunc + 1},
	}
	for _, s := range slices {
		ptr, n, c := le64(d, s.field), le64(d, s.field+8), le64(d, s.field+16)
		if ptr != hdr+le64(h, s.hdrField) || n != c || ptr > epclntab || (s.length != 0 && n != s.length) {
			return nil, fail("%s slice {%#x, %d, %d} does not match the pcHeader", s.name, ptr, n, c)
		}
	}
	// The data layout the runtime and the linker agree on:
	// noptrdata, data, bss, noptrbss, then runtime.end.
	order := []struct {
		name  string
		field int
	}{
		{"noptrdata", mdNoptrdata}, {"enoptrdata", mdEnoptrdata}, {"data", mdData}, {"edata", mdEdata},
		{"bss", mdBss}, {"ebss", mdEbss}, {"noptrbss", mdNoptrbss}, {"enoptrbss", mdEnoptrbss}, {"end", mdEnd},
	}
	for i := 1; i < len(order); i++ {
		a, b := le64(d, order[i-1].field), le64(d, order[i].field)
		if a > b {
			return nil, fail("%s (%#x) lies above %s (%#x)", order[i-1].name, a, order[i].name, b)
		}
	}
	rt := &goRuntime{
		moduledata: md,
		noptrdata:  le64(d, mdNoptrdata),
		enoptrdata: le64(d, mdEnoptrdata),
		data:       le64(d, mdData),
		edata:      le64(d, mdEdata),
		end:        le64(d, mdEnd),
	}
	// Since Go 1.26 the linker gives moduledata its own writable section,
	// .go.module, first in the data segment: after the read-only data and
	// the pclntab, before noptrdata.
	if md < epclntab || md+moduledataPrefixSize > rt.noptrdata {
		return nil, fail("not between the pclntab end (%#x) and noptrdata (%#x), where Go 1.26 places it", epclntab, rt.noptrdata)
	}
	if cov, ecov := le64(d, mdCovctrs), le64(d, mdEcovctrs); cov > ecov || cov < le64(d, mdNoptrbss) || ecov > le64(d, mdEnoptrbss) {
		return nil, fail("coverage counters [%#x, %#x) are not inside noptrbss", cov, ecov)
	}
	// Read-only data (types, GC masks, pclntab) lies below the writable
	// data.
	for _, f := range []struct {
		name  string
		field int
	}{{"rodata", mdRodata}, {"types", mdTypes}, {"etypes", mdEtypes}, {"gcdata", mdGcdata}, {"gcbss", mdGcbss}, {"epclntab", mdEpclntab}} {
		if v := le64(d, f.field); v == 0 || v > rt.noptrdata {
			return nil, fail("%s (%#x) is not below noptrdata (%#x)", f.name, v, rt.noptrdata)
		}
	}
	if hdr < le64(d, mdRodata) {
		return nil, fail("pcHeader %#x lies below rodata %#x", hdr, le64(d, mdRodata))
	}
	dataEnd, err := m.DataEnd()
	if err != nil {
		return nil, err
	}
	if dataEnd > rt.end {
		return nil, fail("data segments reach %#x, past runtime.end %#x", dataEnd, rt.end)
	}
	if size := m.Memories[0].Min * wasmbin.PageSize; rt.end > size {
		return nil, fail("runtime.end %#x lies past the initial memory (%d bytes)", rt.end, size)
	}
	// runtime.lastmoduledatap points at firstmoduledata in a program
	// without plugins: one more independent witness.
	var ref [8]byte
	binary.LittleEndian.PutUint64(ref[:], md)
	refs, err := m.FindData(ref[:])
	if err != nil {
		return nil, err
	}
	if !containsIn(refs, rt.noptrdata, rt.enoptrdata, md) {
		return nil, fail("no pointer to it (runtime.lastmoduledatap) in noptrdata")
	}
	return rt, nil
}

// containsIn reports whether addrs has a pointer-aligned address in
// [lo, hi) other than self.
func containsIn(addrs []uint64, lo, hi, self uint64) bool {
	for _, a := range addrs {
		if a%ptrSize == 0 && lo <= a && a < hi && a != self {
			return true
		}
	}
	return false
}
