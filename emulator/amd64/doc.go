// Package amd64 is the x86-64 guest CPU: a user-mode interpreter of the
// 64-bit instruction set that glibc, musl, Go, CPython, Node and the JVM
// use on x86-64-v2 (integer instructions with exact flags, string
// instructions, SSE to SSE4.2, the x87, the syscall instruction, cpuid,
// rdtsc and the fs/gs bases).
//
// Instructions are decoded once into blocks that end at a control
// transfer or at a page boundary, cached per code page of the guest
// Memory and dropped by the first write to that page, so code written at
// run time (a JIT) runs after it is written.
//
// Arithmetic flags are lazy: an instruction that sets them records its
// operation, operands and result, and a reader (jcc, setcc, cmovcc, adc,
// pushf) computes only the flag it needs.
//
// The CPU runs user code only: privileged instructions raise a general
// protection exit, as the hardware's #GP that Linux turns into SIGSEGV.
// Memory is the address space type shared with the riscv64 CPU.
package amd64
