package arch

import (
	"fmt"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
)

// Memory is the guest address space type shared by all CPUs: pages with
// permissions, copy-on-write fork and bulk copies. It carries nothing
// specific to RISC-V beyond living in that package.
type Memory = riscv64.Memory

// TranslationIndex finds the translated code of a page of an image file
// (docs/translation.md).
type TranslationIndex = riscv64.TranslationIndex

// EventKind says why Context.Run returned.
type EventKind uint8

// Event kinds.
const (
	// EventBudget: the instruction budget ran out (preemption point).
	EventBudget EventKind = iota
	// EventSyscall: the thread made a system call; read it with Syscall.
	EventSyscall
	// EventSignal: the instruction faulted and raises Event.Signal
	// (SIGSEGV, SIGBUS, SIGILL, SIGTRAP) with Code and Addr for siginfo.
	EventSignal
)

// Event is the result of Run.
type Event struct {
	Kind   EventKind
	Signal int
	Code   int
	Addr   uint64
	// Detail describes a fault for diagnostics, formatted only when
	// they are written (every page a process touches first is a fault).
	Detail fmt.Stringer
}

// Text is a Detail that is a string already.
type Text string

func (t Text) String() string { return string(t) }

// SignalFrame is what the kernel knows when it delivers a signal to a
// handler.
type SignalFrame struct {
	Signal  int
	Info    [128]byte // siginfo_t, already encoded
	Handler uint64
	// Restorer is the address the handler returns to (the rt_sigreturn
	// trampoline).
	Restorer uint64
	// SavedMask is the signal mask to restore on return.
	SavedMask uint64
	// StackTop, when non-zero, is the top of the alternate signal stack
	// to build the frame on; AltStack describes it for uc_stack.
	StackTop                 uint64
	AltSP, AltSize, AltFlags uint64
	SigInfo                  bool
}

// Context is the register state of one guest thread.
type Context interface {
	// Run executes guest instructions until an event.
	Run(budget uint64) Event
	// Syscall returns the number and six arguments of the system call the
	// thread stopped at.
	Syscall() (nr uint64, args [6]uint64)
	// SetReturn sets the system call's result register.
	SetReturn(v uint64)
	// SkipSyscall moves the program counter past the system call
	// instruction (done after every call that does not block).
	SkipSyscall()
	// Clone returns a copy for a new thread (same mem) or process (forked
	// mem), positioned after the system call and returning 0; a non-zero
	// stack or tls replaces the stack pointer or thread pointer.
	Clone(mem *Memory, stack, tls uint64, setTLS bool) Context
	// Exec resets the registers for a new program image.
	Exec(mem *Memory, entry, sp uint64)
	// Memory is the address space the thread runs in.
	Memory() *Memory
	// Instret counts the instructions retired.
	Instret() uint64
	// StackPointer returns the stack pointer.
	StackPointer() uint64
	// PushSignalFrame builds a signal frame on the thread's stack (or
	// the alternate stack) and points the thread at the handler.
	PushSignalFrame(f *SignalFrame) error
	// PopSignalFrame restores the state saved by PushSignalFrame at
	// rt_sigreturn and returns the signal mask to restore.
	PopSignalFrame() (mask uint64, err error)
}

// SegmentBases is implemented by the contexts of architectures with fs
// and gs segment bases (x86-64's arch_prctl).
type SegmentBases interface {
	Bases() (fs, gs uint64)
	SetBases(fs, gs uint64)
}

// Perm is a set of page permissions of Memory.
type Perm = riscv64.Perm

// Page permissions.
const (
	PermRead  = riscv64.PermRead
	PermWrite = riscv64.PermWrite
	PermExec  = riscv64.PermExec
)

// PageSize is the guest page size.
const PageSize = riscv64.PageSize

// NewMemory returns an empty address space.
func NewMemory() *Memory { return riscv64.NewMemory() }

// ReleaseFrame drops the reference a Memory.MapPrivateFrame slot holds.
func ReleaseFrame(slot *any) { riscv64.ReleaseFrame(slot) }

// ABI describes one architecture's Linux ABI to the kernel.
type ABI struct {
	// Name is the uname machine, e.g. "riscv64".
	Name string
	// ELFMachine is the e_machine executables must have.
	ELFMachine uint16
	// HWCap is AT_HWCAP.
	HWCap uint64
	// SyscallNames maps system call numbers to names.
	SyscallNames map[uint64]string
	// SigactionRestorer says whether struct sigaction has sa_restorer.
	SigactionRestorer bool
	// EpollPacked says whether struct epoll_event is packed (12 bytes,
	// x86-64 only); elsewhere its 64-bit data is aligned (16 bytes).
	EpollPacked bool
	// Platform is AT_PLATFORM's string, empty for none.
	Platform string
	// CloneChildTIDBeforeTLS says clone's arguments are (flags, stack,
	// parent_tid, child_tid, tls), x86-64's order; otherwise they are
	// (flags, stack, parent_tid, tls, child_tid) (CLONE_BACKWARDS).
	CloneChildTIDBeforeTLS bool
	// StatSize and PutStat encode struct stat (fstat, newfstatat).
	StatSize int
	PutStat  func(b []byte, st *abi.Stat)
	// SigreturnCode is the machine code of the rt_sigreturn trampoline the
	// kernel maps into every process (the vDSO's job on real kernels).
	SigreturnCode []byte
	// NewContext returns the context of a fresh thread in mem.
	NewContext func(mem *Memory) Context
}

// unifiedSyscalls are the system calls added since Linux 5.1, numbered
// alike on every architecture from 424 on.
var unifiedSyscalls = [...]string{
	"pidfd_send_signal",       // 424
	"io_uring_setup",          // 425
	"io_uring_enter",          // 426
	"io_uring_register",       // 427
	"open_tree",               // 428
	"move_mount",              // 429
	"fsopen",                  // 430
	"fsconfig",                // 431
	"fsmount",                 // 432
	"fspick",                  // 433
	"pidfd_open",              // 434
	"clone3",                  // 435
	"close_range",             // 436
	"openat2",                 // 437
	"pidfd_getfd",             // 438
	"faccessat2",              // 439
	"process_madvise",         // 440
	"epoll_pwait2",            // 441
	"mount_setattr",           // 442
	"quotactl_fd",             // 443
	"landlock_create_ruleset", // 444
	"landlock_add_rule",       // 445
	"landlock_restrict_self",  // 446
	"memfd_secret",            // 447
	"process_mrelease",        // 448
	"futex_waitv",             // 449
	"set_mempolicy_home_node", // 450
	"cachestat",               // 451
	"fchmodat2",               // 452
}

// WithUnifiedSyscalls adds the system calls every architecture numbers
// alike (from 424 on) to an architecture's own table and returns it.
func WithUnifiedSyscalls(names map[uint64]string) map[uint64]string {
	for i, name := range unifiedSyscalls {
		names[424+uint64(i)] = name
	}
	return names
}
