// Package cpubench holds the CPU benchmark harness of the riscv64
// emulator: guestos (a minimal system-call shim), runelf (runs a static
// riscv64 executable on the interpreter, natively or as a wasip1 module)
// and wazerorun (hosts that module under wazero with a compilation cache).
// scripts/bench-cpu.sh drives them.
package cpubench
