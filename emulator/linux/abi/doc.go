// Package abi holds the ISA-neutral constants and record encodings of the
// Linux user-space ABI that the emulator's Linux layer implements: errno
// values, open and mmap flags, signal numbers, and the byte layouts of the
// structures system calls copy to and from guest memory (struct stat,
// statx, linux_dirent64, timespec). Values that differ between
// architectures (system call numbers, signal frames, hwcaps) live in the
// per-architecture packages under emulator/linux/arch.
//
// Keeping the ABI apart from the code that implements it means the errno a
// guest sees is decided in one place: the VFS and the kernel return Errno
// values and the system-call boundary stores them negated in the result
// register.
package abi
