package riscv64

import "fmt"

// Access is the kind of memory access that faulted.
type Access uint8

// Memory access kinds.
const (
	AccessRead Access = iota + 1
	AccessWrite
	AccessExec
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessExec:
		return "execute"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// FaultCause says why an access faulted.
type FaultCause uint8

// Fault causes. The Linux layer maps CauseUnmapped to SIGSEGV/SEGV_MAPERR,
// CauseProtection to SIGSEGV/SEGV_ACCERR and CauseMisaligned to
// SIGBUS/BUS_ADRALN.
const (
	CauseNone FaultCause = iota
	CauseUnmapped
	CauseProtection
	// CauseMisaligned is only raised by atomic memory operations (LR, SC,
	// AMO*); plain loads and stores of any alignment are emulated.
	CauseMisaligned
)

func (c FaultCause) String() string {
	switch c {
	case CauseNone:
		return "none"
	case CauseUnmapped:
		return "unmapped"
	case CauseProtection:
		return "permission denied"
	case CauseMisaligned:
		return "misaligned"
	}
	return fmt.Sprintf("FaultCause(%d)", uint8(c))
}

// Fault describes a failed guest memory access. It is the error returned by
// the Memory bulk-copy methods.
type Fault struct {
	Access Access
	Cause  FaultCause
	Addr   uint64
}

func (f *Fault) Error() string {
	return fmt.Sprintf("guest %s at %#x: %s", f.Access, f.Addr, f.Cause)
}

// ExitReason says why Run returned.
type ExitReason uint8

// Exit reasons. For every reason except ExitBudget the CPU's PC is the
// address of the instruction that caused the exit and that instruction had
// no effect; the Linux layer advances PC past an ecall after handling it.
const (
	// ExitBudget: the instruction budget ran out; PC is the next
	// instruction to execute.
	ExitBudget ExitReason = iota
	// ExitEcall: an ecall instruction (system call); PC points at it.
	ExitEcall
	// ExitEbreak: an ebreak or c.ebreak instruction (SIGTRAP).
	ExitEbreak
	// ExitIllegalInstruction: an undefined or unsupported encoding
	// (SIGILL); Exit.Inst holds its bits.
	ExitIllegalInstruction
	// ExitFault: a memory access faulted; Exit.Access, Exit.Cause and
	// Exit.Addr describe it.
	ExitFault
)

func (r ExitReason) String() string {
	switch r {
	case ExitBudget:
		return "budget exhausted"
	case ExitEcall:
		return "ecall"
	case ExitEbreak:
		return "ebreak"
	case ExitIllegalInstruction:
		return "illegal instruction"
	case ExitFault:
		return "memory fault"
	}
	return fmt.Sprintf("ExitReason(%d)", uint8(r))
}

// Exit is the result of Run.
type Exit struct {
	Reason ExitReason
	// PC of the instruction that caused the exit (for ExitBudget, of the
	// next instruction).
	PC uint64
	// Inst is the raw instruction for ExitIllegalInstruction (16 bits for
	// a compressed one).
	Inst uint32
	// Access, Cause and Addr describe an ExitFault.
	Access Access
	Cause  FaultCause
	Addr   uint64
}

func (e Exit) String() string {
	switch e.Reason {
	case ExitIllegalInstruction:
		return fmt.Sprintf("illegal instruction %#x at pc %#x", e.Inst, e.PC)
	case ExitFault:
		return fmt.Sprintf("%s fault (%s) at %#x, pc %#x", e.Access, e.Cause, e.Addr, e.PC)
	}
	return fmt.Sprintf("%s at pc %#x", e.Reason, e.PC)
}
