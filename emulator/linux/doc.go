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
//	framecache.go the frames of image pages mapped read-only, shared
//	              by every process (read and decoded once, not per exec)
//	signals.go    signal generation (real-time signals queue, standard
//	              ones pend once), delivery, default actions, exit
//	creds.go      user and group ids, the set*id/get*id calls, the
//	              permission rules for signals and set-user-ID exec
//	user.go       LookupUser: an image's USER against /etc/passwd and
//	              /etc/group, as docker and runc resolve it
//	syscalls.go   dispatch, strace-style tracing, argument helpers
//	table.go      the system call table by name, with support notes
//	sys_*.go      the handlers, one file per family (files, memory,
//	              processes, signals, epoll/eventfd, timerfd, signalfd,
//	              pidfd, inotify, xattrs, AF_UNIX sockets, their
//	              options and ancillary data, AF_INET/AF_INET6 sockets
//	              (sys_inet.go), signal-driven I/O and dnotify,
//	              identity/time/misc)
//	cputime.go    per-thread CPU time (user: guest instructions; system:
//	              system calls), the CPU clocks, getrusage, times
//	locks.go      advisory file locks: fcntl record locks, OFD locks,
//	              flock, shared by all processes (EDEADLK detection)
//	procfs.go     /proc, generated from the kernel's state
//	inet/         the IP network: gVisor's netstack, sockaddr_in/in6,
//	              errno of netstack's errors
//	abi/          ISA-neutral constants and record encodings
//	arch/         the CPU boundary; arch/riscv64 the RISC-V half
//	vfs/          rootfs image + in-memory overlay, host directory
//	              mounts, pipes, devices, terminals (line discipline, console, ptys)
//
// Identity. Config.UID, GID and Groups are the first process's
// credentials (LookupUser + User.Apply turn an image's USER into them,
// with HOME from /etc/passwd). Credentials are per process (glibc and Go
// change all threads together) and follow credentials(7): an effective
// uid of 0 holds CAP_SETUID/CAP_SETGID/CAP_KILL and an fsuid of 0
// CAP_DAC_OVERRIDE/CAP_FOWNER/CAP_CHOWN, nobody else any capability. The
// VFS checks mode bits and ownership for a non-root caller through
// FS.Caller (path search, open, exec, create, unlink, rename, chmod,
// chown, utimes, truncate, chdir); kill needs matching uids; a
// set-user-ID or set-group-ID executable changes the effective ids and
// sets AT_SECURE.
//
// Terminals. vfs.TTY is a terminal with Linux's N_TTY line discipline:
// canonical editing (VERASE, VWERASE, VKILL, VEOF, VEOL/VEOL2, VLNEXT,
// VREPRINT), non-canonical reads with VMIN/VTIME, echo (ECHO, ECHOE,
// ECHOK, ECHOKE, ECHONL, ECHOCTL), input translation (ISTRIP, ICRNL,
// INLCR, IGNCR), output processing (OPOST with ONLCR, OCRNL, ONOCR,
// ONLRET) and ISIG: VINTR, VQUIT and VSUSP send SIGINT, SIGQUIT and
// SIGTSTP to the foreground process group, flushing unread input (and a
// pty's unread output) unless NOFLSH. IXON's VSTOP and VSTART
// characters, like tcflow's TCOOFF and TCOON, suspend and resume output.
// With Config.Terminal the console is such a terminal: host input is fed through it every scheduling round
// (so ^C reaches the guest's foreground job even when nothing reads),
// output goes through output processing onto Stdout, and the host side's
// contract is to run its terminal raw. Opening /dev/ptmx makes a pty pair:
// /dev/pts/N appears owned by the caller with mode 0600 (devpts's
// defaults), locked until TIOCSPTLCK 0; closing the master removes it and
// hangs the slave up (reads see end of file, writes EIO, poll reports
// POLLIN|POLLOUT|POLLERR|POLLHUP) and sends SIGHUP and SIGCONT to the
// controlling session's leader; a master reads EIO once every slave
// closed. Controlling terminals belong to sessions (terminal.go): a
// session leader opening a free terminal without O_NOCTTY or calling
// TIOCSCTTY acquires it, /dev/tty opens it, TIOCSPGRP accepts only groups
// of the caller's session. Not modelled: SIGTTIN/SIGTTOU for background
// jobs, hangup when a session leader exits, packet mode.
//
// Shared file mappings. MAP_SHARED mappings of in-memory files map the
// file's own pages (vfs.Frame): stores through any mapping, in any
// process, and read/write of the file see the same bytes; pages wholly past
// a shrunk file's end are unmapped everywhere and fault with SIGBUS.
// Host-directory files have such frames too, read from the host on first
// touch and written back (the pages stores changed) at msync, munmap,
// fsync, sync and exit; read-only shared mappings of files still read from
// the image behave as private ones.
//
// Without a terminal (Config.Terminal) the standard streams are pipes, as
// under `docker run` without -t, so C libraries buffer as they would there.
//
// Networking. AF_INET and AF_INET6 sockets are endpoints of gVisor's
// netstack (package inet) with a loopback interface: TCP and UDP between
// the guest's processes behave as on Linux; nothing leaves the machine yet.
// /etc/hosts and /etc/hostname are written as docker writes them.
//
// Not there yet: a network beyond loopback, capability sets finer than
// "root has all".
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
// task waits: for time (until the earliest deadline) or for host input.
//
// Host input. Standard input is read by a goroutine (vfs.HostInput)
// started on the guest's first read or poll of it; a guest read with
// nothing received parks like a read on an empty pipe, and Run blocks on
// the host (input or the next deadline, whichever comes first) only when
// no task can run. Under GOOS=wasip1 that goroutine helps only if its
// reads do not block the instance: Go 1.26's wasip1 os.NewFile puts a
// descriptor in the netpoller (runtime/netpoll_wasip1.go, poll_oneoff
// with fd_read subscriptions) only when it already carries
// FDFLAG_NONBLOCK (os/file_unix.go newFile, kindNewFile), and os.Stdin
// is created without it, so a plain os.Stdin read is a blocking fd_read
// that stops every goroutine. The wasip1 main must therefore pass a
// reader of descriptor 0 made with syscall.SetNonblock(0, true) then
// os.NewFile(0, ...): reads then return EAGAIN, the goroutine parks in
// the netpoller, and the runtime calls poll_oneoff only when every
// goroutine is idle, which is exactly when Run waits for the host.
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
