// Package xlate links the translated code of a static riscv64 executable
// into runelf's module (internal/cpubench/runelf), for the CPU benchmark
// and the differential tests of the translator: guestos finds the pages
// by the executable's ImageID.
package xlate

import (
	"github.com/wasmrt/wasmrt/convert/translate"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
	"github.com/wasmrt/wasmrt/internal/cpubench/guestos"
)

// Module returns module with the executable pages of program translated
// and linked in, and the number of pages translated.
func Module(module, program []byte) ([]byte, int, error) {
	units, err := riscv64.TranslateELF(program, nil)
	if err != nil {
		return nil, 0, err
	}
	id := guestos.ImageID(program)
	pages := make([]riscv64.TranslatedPage, len(units))
	for i, u := range units {
		pages[i] = riscv64.TranslatedPage{File: id, Offset: u.Offset, Unit: uint32(i), Slots: u.Slots}
	}
	res := &translate.Result{Units: units, Index: riscv64.EncodeTranslationIndex(pages)}
	out, err := res.Link(module)
	if err != nil {
		return nil, 0, err
	}
	return out, len(units), nil
}
