// Package riscv64 is the guest CPU of the emulator: an interpreter for
// user-mode RV64GC (RV64IMAFDC with Zicsr and Zifencei), the instruction set
// of Debian, Alpine and Go's riscv64 ports, and the guest address space it
// executes in.
//
// It owns:
//   - CPU: the architectural state of one hart (x and f registers, pc,
//     fcsr, the LR/SC reservation) and Run, which executes instructions
//     until an ecall, ebreak, illegal instruction, memory fault or the end
//     of an instruction budget, and returns a typed Exit so that the Linux
//     layer can serve system calls and deliver SIGSEGV, SIGBUS, SIGILL and
//     SIGTRAP;
//   - Memory: a virtual address space of 4 KiB pages with read, write and
//     execute permissions, map/unmap/protect, brk, copy-on-write Fork and
//     bulk copies for system calls;
//   - the decoded-instruction cache: every executed page gets an array of
//     pre-decoded instructions, dropped when the page is written, unmapped,
//     made non-executable, or on fence.i.
//   - translated code (docs/translation.md): the translator (translate.go,
//     translate_elf.go), which the converter runs natively to turn pages of
//     the image's ELF files into WebAssembly functions, and the emulator's
//     side of the contract (translated.go): the Frame shared with generated
//     code, the index of translated pages, marked entry slots in the
//     decoded-instruction cache, and the call into generated code.
//
// Floating point is emulated in integer arithmetic (softfloat.go) because
// every RISC-V rounding mode and exception flag must match the hardware
// bit for bit, which the host FPU cannot do through Go.
//
// The package imports only the standard library: it is compiled to
// GOOS=wasip1 and runs inside converted images. The interpreter loop (Run,
// run.go) is shaped for Go's WebAssembly backend, where every jump between
// basic blocks is a trip through a br_table dispatch loop and every call
// spills all live values: one function, no indirect calls, no allocation
// per instruction, no calls on the common paths (step, out of line, takes
// TLB misses and rare instructions), software TLBs for loads and stores,
// and array indexes masked so bounds checks vanish. WebAssembly builds
// decode the common instructions into a few branch-free forms
// (unified.go); native builds keep one switch case per instruction, which
// there compiles to a jump table. The build tag unifiedops selects the
// branch-free forms natively, so that the differential tests check both:
//
//	go test ./emulator/riscv64/ && go test -tags unifiedops ./emulator/riscv64/
//
// BenchmarkRun reports guest MIPS on a CPU-bound loop; docs/performance-cpu.md
// has the measurements and the harness that produced them.
//
// Nothing here is safe for concurrent use: one goroutine runs the CPUs of
// all tasks that share a Memory.
package riscv64
