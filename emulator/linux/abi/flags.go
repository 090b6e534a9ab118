package abi

// openat flags (asm-generic/fcntl.h; riscv64 and x86-64 agree).
const (
	O_ACCMODE   = 0o3
	O_RDONLY    = 0o0
	O_WRONLY    = 0o1
	O_RDWR      = 0o2
	O_CREAT     = 0o100
	O_EXCL      = 0o200
	O_NOCTTY    = 0o400
	O_TRUNC     = 0o1000
	O_APPEND    = 0o2000
	O_NONBLOCK  = 0o4000
	O_DIRECTORY = 0o200000
	O_NOFOLLOW  = 0o400000
	O_CLOEXEC   = 0o2000000
	O_PATH      = 0o10000000
	O_TMPFILE   = 0o20000000 | O_DIRECTORY
)

// AT_* flags and the special directory descriptor.
const (
	AT_FDCWD            = -100
	AT_SYMLINK_NOFOLLOW = 0x100
	AT_REMOVEDIR        = 0x200
	AT_EACCESS          = 0x200
	AT_SYMLINK_FOLLOW   = 0x400
	AT_EMPTY_PATH       = 0x1000
)

// renameat2 flags.
const (
	RENAME_NOREPLACE = 1
	RENAME_EXCHANGE  = 2
)

// fcntl commands and descriptor flags.
const (
	F_DUPFD         = 0
	F_GETFD         = 1
	F_SETFD         = 2
	F_GETFL         = 3
	F_SETFL         = 4
	F_GETLK         = 5
	F_SETLK         = 6
	F_SETLKW        = 7
	F_SETOWN        = 8
	F_GETOWN        = 9
	F_OFD_GETLK     = 36
	F_OFD_SETLK     = 37
	F_OFD_SETLKW    = 38
	F_DUPFD_CLOEXEC = 1030
	F_GETPIPE_SZ    = 1032
	F_SETPIPE_SZ    = 1031
	F_ADD_SEALS     = 1033
	F_GET_SEALS     = 1034
	FD_CLOEXEC      = 1

	// Record lock types (struct flock's l_type).
	F_RDLCK = 0
	F_WRLCK = 1
	F_UNLCK = 2

	// flock(2) operations.
	LOCK_SH = 1
	LOCK_EX = 2
	LOCK_NB = 4
	LOCK_UN = 8
)

// File type bits of st_mode.
const (
	S_IFMT   = 0o170000
	S_IFSOCK = 0o140000
	S_IFLNK  = 0o120000
	S_IFREG  = 0o100000
	S_IFBLK  = 0o060000
	S_IFDIR  = 0o040000
	S_IFCHR  = 0o020000
	S_IFIFO  = 0o010000
	// The set-user-ID, set-group-ID and sticky bits.
	S_ISUID = 0o4000
	S_ISGID = 0o2000
	S_ISVTX = 0o1000
)

// mmap protections and flags.
const (
	PROT_READ  = 1
	PROT_WRITE = 2
	PROT_EXEC  = 4

	MAP_SHARED          = 0x01
	MAP_PRIVATE         = 0x02
	MAP_SHARED_VALIDATE = 0x03
	MAP_TYPE            = 0x0f
	MAP_FIXED           = 0x10
	MAP_ANONYMOUS       = 0x20
	MAP_NORESERVE       = 0x4000
	MAP_FIXED_NOREPLACE = 0x100000

	MREMAP_MAYMOVE = 1
	MREMAP_FIXED   = 2

	MADV_DONTNEED = 4
)

// clone flags.
const (
	CSIGNAL              = 0xff
	CLONE_VM             = 0x100
	CLONE_FS             = 0x200
	CLONE_FILES          = 0x400
	CLONE_SIGHAND        = 0x800
	CLONE_PIDFD          = 0x1000
	CLONE_VFORK          = 0x4000
	CLONE_PARENT         = 0x8000
	CLONE_THREAD         = 0x10000
	CLONE_SYSVSEM        = 0x40000
	CLONE_SETTLS         = 0x80000
	CLONE_PARENT_SETTID  = 0x100000
	CLONE_CHILD_CLEARTID = 0x200000
	CLONE_CHILD_SETTID   = 0x1000000
)

// wait4/waitid options and idtypes.
const (
	WNOHANG    = 1
	WUNTRACED  = 2
	WEXITED    = 4
	WCONTINUED = 8
	WNOWAIT    = 0x1000000
	P_ALL      = 0
	P_PID      = 1
	P_PGID     = 2
)

// futex operations.
const (
	FUTEX_WAIT            = 0
	FUTEX_WAKE            = 1
	FUTEX_REQUEUE         = 3
	FUTEX_CMP_REQUEUE     = 4
	FUTEX_WAKE_OP         = 5
	FUTEX_WAIT_BITSET     = 9
	FUTEX_WAKE_BITSET     = 10
	FUTEX_PRIVATE_FLAG    = 128
	FUTEX_CLOCK_REALTIME  = 256
	FUTEX_CMD_MASK        = 0x7f // the operation without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
	FUTEX_BITSET_MATCHANY = 0xffffffff
)

// Terminal ioctls (asm-generic/ioctls.h).
const (
	TCGETS     = 0x5401
	TCSETS     = 0x5402
	TCSETSW    = 0x5403
	TCSETSF    = 0x5404
	TIOCSCTTY  = 0x540E
	TIOCGPGRP  = 0x540F
	TIOCSPGRP  = 0x5410
	TIOCGSID   = 0x5429
	TIOCGWINSZ = 0x5413
	TIOCSWINSZ = 0x5414
	TCSBRK     = 0x5409
	TCXONC     = 0x540A
	TCSBRKP    = 0x5425
	TIOCSBRK   = 0x5427
	TIOCCBRK   = 0x5428
	// TCXONC's actions (tcflow).
	TCOOFF     = 0
	TCOON      = 1
	TCIOFF     = 2
	TCION      = 3
	TCFLSH     = 0x540B
	TIOCOUTQ   = 0x5411
	TIOCNOTTY  = 0x5422
	TIOCGPTN   = 0x80045430
	TIOCSPTLCK = 0x40045431
	TIOCGPTLCK = 0x80045439
	// TCFLSH queue selectors.
	TCIFLUSH  = 0
	TCOFLUSH  = 1
	TCIOFLUSH = 2
	FIONREAD  = 0x541B
	FIONBIO   = 0x5421
	FIOCLEX   = 0x5451
	FIONCLEX  = 0x5450
)

// lseek whence values.
const (
	SEEK_SET  = 0
	SEEK_CUR  = 1
	SEEK_END  = 2
	SEEK_DATA = 3
	SEEK_HOLE = 4
)

// poll events.
const (
	POLLIN   = 0x1
	POLLPRI  = 0x2
	POLLOUT  = 0x4
	POLLERR  = 0x8
	POLLHUP  = 0x10
	POLLNVAL = 0x20
	// The finer bits, as si_band of signal-driven I/O carries them.
	POLLRDNORM = 0x40
	POLLRDBAND = 0x80
	POLLWRNORM = 0x100
	POLLWRBAND = 0x200
	POLLMSG    = 0x400
)

// Clock ids.
const (
	CLOCK_REALTIME           = 0
	CLOCK_MONOTONIC          = 1
	CLOCK_PROCESS_CPUTIME_ID = 2
	CLOCK_THREAD_CPUTIME_ID  = 3
	CLOCK_MONOTONIC_RAW      = 4
	CLOCK_REALTIME_COARSE    = 5
	CLOCK_MONOTONIC_COARSE   = 6
	CLOCK_BOOTTIME           = 7
	TIMER_ABSTIME            = 1
)

// Resource limits (asm-generic/resource.h).
const (
	RLIMIT_STACK  = 3
	RLIMIT_NOFILE = 7
	RLIM_NLIMITS  = 16
	RLIM_INFINITY = ^uint64(0)
)

// Auxiliary vector types.
const (
	AT_NULL          = 0
	AT_PHDR          = 3
	AT_PHENT         = 4
	AT_PHNUM         = 5
	AT_PAGESZ        = 6
	AT_BASE          = 7
	AT_FLAGS         = 8
	AT_ENTRY         = 9
	AT_UID           = 11
	AT_EUID          = 12
	AT_GID           = 13
	AT_EGID          = 14
	AT_PLATFORM      = 15
	AT_HWCAP         = 16
	AT_CLKTCK        = 17
	AT_SECURE        = 23
	AT_RANDOM        = 25
	AT_HWCAP2        = 26
	AT_EXECFN        = 31
	AT_MINSIGSTKSZ   = 51
	AT_SYSINFO_EHDR  = 33
	AT_L1I_CACHESIZE = 40
)

// Directory entry types of linux_dirent64.d_type.
const (
	DT_UNKNOWN = 0
	DT_FIFO    = 1
	DT_CHR     = 2
	DT_DIR     = 4
	DT_BLK     = 6
	DT_REG     = 8
	DT_LNK     = 10
	DT_SOCK    = 12
)

// DirentType returns the d_type for an st_mode.
func DirentType(mode uint32) uint8 {
	return uint8((mode & S_IFMT) >> 12)
}
