//go:build !wasm && !unifiedops

package riscv64

// unifiedOps is off natively: a switch compiles to a jump table and the
// specialised per-instruction cases are faster than branch-free bodies.
const unifiedOps = false
