// Package linux is the emulator's Linux kernel: it runs unmodified Linux
// user programs (static or dynamically linked ELF executables and #!
// scripts from a rootfs image) on an emulated CPU, serving their system
// calls, scheduling their processes and threads, and delivering signals.
// It is ISA-neutral; everything architecture-specific sits behind
// arch.Context and arch.ABI (emulator/linux/arch/riscv64 today).
//
// Layout (one concern per file, gVisor-style):
//
//	kernel.go     Config, Kernel, New, the scheduler loop (Run)
//	task.go       Process (thread group), Task (thread), descriptor
//	              table, fs context, signal handler table, wait states
//	loader.go     execve: ELF and PT_INTERP loading, #! scripts, the
//	              initial stack and auxiliary vector
//	mm.go         address spaces: mappings (vmas), demand paging,
//	              brk, the memory budget
//	signals.go    signal generation, delivery, default actions, exit
//	syscalls.go   dispatch, strace-style tracing, argument helpers
//	table.go      the system call table by name, with support notes
//	sys_*.go      the handlers, one file per family (files, memory,
//	              processes, signals, epoll/eventfd, AF_UNIX sockets,
//	              identity/time/misc)
//	procfs.go     /proc, generated from the kernel's state
//	abi/          ISA-neutral constants and record encodings
//	arch/         the CPU boundary; arch/riscv64 the RISC-V half
//	vfs/          rootfs image + in-memory overlay, host directory
//	              mounts, pipes, devices, the console's tty state
//
// Not there yet: networking (AF_INET answers EAFNOSUPPORT), a line
// discipline of our own and ptys (with Config.Terminal the host terminal
// edits lines; ^C reaches the host, not the guest's foreground group),
// descriptor passing over sockets, inotify, timerfd and signalfd.
//
// Execution model. The whole machine runs on the caller's goroutine: no
// host threads or processes (it compiles to GOOS=wasip1). Run loops over
// the tasks round-robin, giving each a slice of guest instructions. A
// system call that cannot complete (read on an empty pipe, wait4, futex
// wait, nanosleep, poll, a fifo open) parks its task with a waitState and
// leaves the program counter on the ecall; when the state's ready
// function (polled by the scheduler), its deadline or a signal ends the
// wait, the call is executed again from the start with t.resume holding
// what the first attempt recorded. The host is blocked only when every
// task waits for time (the loop sleeps until the earliest deadline) or a
// task reads host standard input (read directly).
//
// Memory. Mappings are recorded as vmas and populated on first touch:
// the CPU faults on an unmapped page, the kernel maps it (zeros, or the
// file's bytes for file mappings and ELF segments) and re-runs the
// instruction. Reserving address space is free; populated pages count
// against Config.MemoryLimit, and a touch beyond it kills the process
// with SIGKILL, as the OOM killer would. fork copies address spaces
// copy-on-write (arch.Memory.Fork).
//
// Ownership. There are no locks: one goroutine owns everything. A Kernel
// owns its tasks and processes; a Process owns its threads and shares
// its MM, fdTable, fsContext and sigHandlers with other processes only
// as clone's flags say (each counts its users). Open file descriptions
// (vfs.Description) are reference counted by the descriptor tables that
// hold them; a pipe end is released when its last descriptor closes.
//
// Errors cross the system call boundary as abi.Errno values; handlers
// return them and the dispatcher negates them into the result register.
// A system call without a handler returns ENOSYS and is counted in
// Kernel.Unsupported; Config.Trace logs every call.
package linux
