package abi

// Signal numbers (identical on riscv64, arm64 and x86-64).
const (
	SIGHUP    = 1
	SIGINT    = 2
	SIGQUIT   = 3
	SIGILL    = 4
	SIGTRAP   = 5
	SIGABRT   = 6
	SIGBUS    = 7
	SIGFPE    = 8
	SIGKILL   = 9
	SIGUSR1   = 10
	SIGSEGV   = 11
	SIGUSR2   = 12
	SIGPIPE   = 13
	SIGALRM   = 14
	SIGTERM   = 15
	SIGSTKFLT = 16
	SIGCHLD   = 17
	SIGCONT   = 18
	SIGSTOP   = 19
	SIGTSTP   = 20
	SIGTTIN   = 21
	SIGTTOU   = 22
	SIGURG    = 23
	SIGXCPU   = 24
	SIGXFSZ   = 25
	SIGVTALRM = 26
	SIGPROF   = 27
	SIGWINCH  = 28
	SIGIO     = 29
	SIGPWR    = 30
	SIGSYS    = 31
	SIGRTMIN  = 32
	NSIG      = 64
)

// Sigaction flags and special handlers.
const (
	SA_NOCLDSTOP = 0x1
	SA_NOCLDWAIT = 0x2
	SA_SIGINFO   = 0x4
	SA_ONSTACK   = 0x08000000
	SA_RESTART   = 0x10000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000
	SA_RESTORER  = 0x04000000

	SIG_DFL = 0
	SIG_IGN = 1

	SIG_BLOCK   = 0
	SIG_UNBLOCK = 1
	SIG_SETMASK = 2

	SS_ONSTACK = 1
	SS_DISABLE = 2
)

// siginfo codes.
const (
	SI_USER       = 0
	SI_KERNEL     = 0x80
	SI_TKILL      = -6
	CLD_EXITED    = 1
	CLD_KILLED    = 2
	CLD_DUMPED    = 3
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6
	SEGV_MAPERR   = 1
	SEGV_ACCERR   = 2
	BUS_ADRERR    = 2
	BUS_ADRALN    = 1
	ILL_ILLOPC    = 1
	TRAP_BRKPT    = 1
)

// SigSet is a set of signals, bit n-1 for signal n, as in the kernel's
// 64-bit sigset_t.
type SigSet uint64

// Bit returns the set holding only sig.
func Bit(sig int) SigSet { return 1 << (sig - 1) }

// Unblockable holds the signals that no mask can block.
const Unblockable = SigSet(1<<(SIGKILL-1) | 1<<(SIGSTOP-1))

// DefaultAction is what a signal does when its handler is SIG_DFL.
type DefaultAction uint8

// Default actions (signal(7)).
const (
	ActTerminate DefaultAction = iota
	ActCore
	ActIgnore
	ActStop
	ActContinue
)

// DefaultActionOf returns sig's default action.
func DefaultActionOf(sig int) DefaultAction {
	switch sig {
	case SIGCHLD, SIGURG, SIGWINCH:
		return ActIgnore
	case SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU:
		return ActStop
	case SIGCONT:
		return ActContinue
	case SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS:
		return ActCore
	}
	return ActTerminate
}

// More siginfo codes, of x86-64's exceptions.
const (
	ILL_ILLOPN = 2
	FPE_INTDIV = 1
)
