//go:build !wasm

package riscv64

import "unsafe"

// translationsSupported: translated code only exists in WebAssembly
// builds; natively no page is ever marked.
const translationsSupported = false

func translatedRun(frame unsafe.Pointer, entry uint32) uint32 {
	panic("riscv64: translated code called in a native build")
}
