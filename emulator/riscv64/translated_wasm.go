package riscv64

import "unsafe"

// translationsSupported: only WebAssembly builds can hold translated code.
const translationsSupported = true

// translatedRun runs translated code from entry (unit << 16 | block) with
// the frame at frame, and returns an exit code (Translated*). Until the
// converter redirects it (docs/translation.md) it calls WASI's
// fd_prestat_get, which has the same signature, so that an untranslated
// module links against every host; it is only called from marked slots,
// which only exist when the converter embedded an index and redirected it.
//
//go:wasmimport wasi_snapshot_preview1 fd_prestat_get
//go:noescape
func translatedRun(frame unsafe.Pointer, entry uint32) uint32
