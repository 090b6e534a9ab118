package pack

import (
	"fmt"

	"github.com/wasmrt/wasmrt/convert/pack/wasmbin"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
)

// LinkTranslated returns a copy of module, the emulator, with units (what
// riscv64.TranslateELF returned, unit i at index i) appended, and
// riscv64's translatedRun redirected to a dispatcher that calls unit
// entry>>16 with block entry&0xffff (docs/translation.md). The translation
// index that maps pages to units is embedded separately, as a blob, by
// Embed.
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
	// The dispatcher comes first (the redirect expects the next
	// function), then the units.
	firstUnit := m.NumImportedFuncs() + uint32(len(m.Functions)) + 1
	err = redirectImport(m, riscv64.TranslatedRunFunc, riscv64.TranslatedRunImport, func(ft wasmbin.FuncType) uint32 {
		return m.AppendFunction(m.AddType(ft), riscv64.DispatcherBody(firstUnit, len(units)))
	})
	if err != nil {
		return nil, fmt.Errorf("pack: translated code: %w", err)
	}
	unitType := m.AddType(wasmbin.FuncType{Params: valTypes(riscv64.UnitParams), Results: valTypes(riscv64.UnitResults)})
	for _, u := range units {
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
