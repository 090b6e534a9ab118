// Package amd64 is the x86-64 half of the Linux ABI: the x86-64 system
// call numbering, the register convention (rax = number, rdi, rsi, rdx,
// r10, r8, r9 = arguments, rax = result; the syscall instruction
// clobbers rcx and r11), the rt_sigframe layout of
// arch/x86/kernel/signal.c with its fxsave-format fpstate, struct stat's
// x86-64 layout, clone's argument order and the auxiliary vector's
// hardware capability bits. It adapts emulator/amd64's CPU to
// arch.Context.
package amd64
