//go:build wasm || unifiedops

package riscv64

// unifiedOps selects the branch-free instruction forms (unified.go): in
// WebAssembly every jump between basic blocks is a trip through a
// br_table dispatch loop. The unifiedops build tag selects them natively
// too, so that the differential tests can check them against qemu.
const unifiedOps = true
