// Package riscv64 is the RISC-V 64 half of the Linux ABI: the asm-generic
// system call numbering, the register convention (a7 = number, a0-a5 =
// arguments, a0 = result), the rt_sigframe layout of
// arch/riscv/kernel/signal.c, and the hardware capability bits of the
// auxiliary vector. It adapts emulator/riscv64's CPU to arch.Context.
package riscv64
