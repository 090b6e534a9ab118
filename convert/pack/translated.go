package pack

import (
	"fmt"

	"github.com/wasmrt/wasmrt/convert/pack/wasmbin"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
)

// LinkTranslated returns a copy of module, the emulator, with units (what
// riscv64.TranslateELF returned, unit i at index i) and the helpers they
// call (riscv64.TranslationHelpers) appended, and riscv64's translatedRun
// redirected to a dispatcher that calls unit entry>>16 with block
// entry&0xffff (docs/translation.md). The translation index that maps
// pages to units is embedded separately, as a blob, by Embed. The units'
// bodies are patched in place (their helper calls).
func LinkTranslated(module []byte, units []riscv64.TranslatedUnit) ([]byte, error) {
	if len(units) == 0 {
		return module, nil
	}
	if len(units) > riscv64.MaxUnits {
		return nil, fmt.Errorf("pack: %d translated units, over the limit of %d", len(units), riscv64.MaxUnits)
	}
	m, err := wasmbin.Parse(module)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	helpers := riscv64.TranslationHelpers()
	// The dispatcher comes first (the redirect expects the next
	// function), then the helpers, then the units.
	dispatcher := m.NumImportedFuncs() + uint32(len(m.Functions))
	firstHelper := dispatcher + 1
	firstUnit := firstHelper + uint32(len(helpers))
	err = redirectImport(m, riscv64.TranslatedRunFunc, riscv64.TranslatedRunImport, func(ft wasmbin.FuncType) uint32 {
		return m.AppendFunction(m.AddType(ft), riscv64.DispatcherBody(firstUnit, len(units)))
	})
	if err != nil {
		return nil, fmt.Errorf("pack: translated code: %w", err)
	}
	helperType := m.AddType(wasmbin.FuncType{Params: valTypes(riscv64.HelperParams), Results: valTypes(riscv64.HelperResults)})
	for _, body := range helpers {
		m.AppendFunction(helperType, body)
	}
	unitType := m.AddType(wasmbin.FuncType{Params: []wasmbin.ValType{0x7f, 0x7f}, Results: []wasmbin.ValType{0x7f}})
	for i, u := range units {
		for _, r := range u.Relocs {
			if r.Helper >= uint32(len(helpers)) || int(r.Offset)+5 > len(u.Body) {
				return nil, fmt.Errorf("pack: translated unit %d: bad relocation %+v", i, r)
			}
			putUleb5(u.Body[r.Offset:], firstHelper+r.Helper)
		}
		m.AppendFunction(unitType, u.Body)
	}
	out, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return out, nil
}

func valTypes(b []byte) []wasmbin.ValType {
	out := make([]wasmbin.ValType, len(b))
	for i, v := range b {
		out[i] = wasmbin.ValType(v)
	}
	return out
}

// putUleb5 writes v as a 5-byte (padded) unsigned LEB128.
func putUleb5(b []byte, v uint32) {
	for i := range 4 {
		b[i] = byte(v>>(7*i))&0x7f | 0x80
	}
	b[4] = byte(v >> 28)
}
