// Package arch is the boundary between the ISA-neutral Linux layer and a
// guest CPU. A Context is one guest thread's register state seen through
// what the kernel needs: run until an event, read system call arguments,
// set results, clone for fork and threads, reset for execve, and push and
// pop signal frames in the layout that architecture's kernel uses. Each
// architecture (riscv64 now, x86-64 next) implements it in a subpackage
// along with its system call numbers and auxiliary-vector values.
package arch
