// Package cpubench holds the CPU benchmark harness of the riscv64
// emulator: guestos (a minimal system-call shim), runelf (runs a static
// riscv64 executable on the interpreter, natively or as a wasip1 module),
// wazerorun (hosts that module, or any wasip1 program such as a test
// binary, under wazero with a compilation cache), xlate and translateelf
// (link the program's code, translated to WebAssembly, into runelf's
// module: docs/translation.md) and the guest workloads in
// testdata: sha256.c (a cipher's arithmetic) and mixed.c (the calls,
// branches, loads and stores of ordinary programs). scripts/bench-cpu.sh
// drives them.
package cpubench
