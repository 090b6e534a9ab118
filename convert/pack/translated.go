package pack

import (
	"encoding/binary"
	"fmt"

	"github.com/wasmrt/wasmrt/convert/pack/wasmbin"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
)

// LinkTranslated returns a copy of module, the emulator, with units (the
// function bodies riscv64.TranslatePage returned, unit i at index i)
// appended and riscv64's translatedRun redirected to a dispatcher that
// calls unit entry>>16 with block entry&0xffff (docs/translation.md). The
// translation index that maps pages to units is embedded separately, as a
// blob, by Embed.
func LinkTranslated(module []byte, units [][]byte) ([]byte, error) {
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
	unitType := wasmbin.FuncType{Params: []wasmbin.ValType{0x7f, 0x7f}, Results: []wasmbin.ValType{0x7f}}
	err = redirectImport(m, riscv64.TranslatedRunFunc, riscv64.TranslatedRunImport, func(ft wasmbin.FuncType) uint32 {
		// The dispatcher comes first (the redirect expects the next
		// function), the units after it.
		first := m.NumImportedFuncs() + uint32(len(m.Functions)) + 1
		return m.AppendFunction(m.AddType(ft), dispatcherBody(first, len(units)))
	})
	if err != nil {
		return nil, fmt.Errorf("pack: translated code: %w", err)
	}
	ti := m.AddType(unitType)
	for _, body := range units {
		m.AppendFunction(ti, body)
	}
	out, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return out, nil
}

// dispatcherBody is the body of (frame, entry i32) -> i32 that calls unit
// function first+(entry>>16) with (frame, entry&0xffff) and returns its
// result.
func dispatcherBody(first uint32, n int) []byte {
	uleb := func(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }
	b := []byte{0} // no locals
	for range n + 1 {
		b = append(b, 0x02, 0x40) // block
	}
	b = append(b, 0x20, 1, 0x41, 16, 0x76, 0x0e) // local.get 1; i32.const 16; i32.shr_u; br_table
	b = uleb(b, uint32(n))
	for i := range n {
		b = uleb(b, uint32(i+1))
	}
	b = append(b, 0, 0x0b, 0x00) // default: the innermost; end; unreachable
	for i := range n {
		b = append(b, 0x0b)                                                 // end of unit i's label
		b = append(b, 0x20, 0, 0x20, 1, 0x41, 0xff, 0xff, 0x03, 0x71, 0x10) // frame, entry & 0xffff, call
		b = uleb(b, first+uint32(i))
		b = append(b, 0x0f) // return
	}
	return append(b, 0x0b)
}
