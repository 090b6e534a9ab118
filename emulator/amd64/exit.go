package amd64

import (
	"fmt"

	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// ExitReason says why Run returned.
type ExitReason uint8

// Exit reasons. For every reason except ExitBudget the CPU's RIP is the
// address of the instruction that caused the exit and that instruction had
// no effect; the Linux layer advances RIP past a syscall after serving it.
const (
	// ExitBudget: the instruction budget ran out; RIP is the next
	// instruction to execute.
	ExitBudget ExitReason = iota
	// ExitSyscall: a syscall instruction; RIP points at it.
	ExitSyscall
	// ExitBreakpoint: int3 (SIGTRAP). Like the trap it is, RIP points
	// past the instruction.
	ExitBreakpoint
	// ExitIllegal: an undefined or unsupported encoding (#UD, SIGILL).
	ExitIllegal
	// ExitFault: a memory access faulted (#PF); Access, Cause and Addr
	// describe it.
	ExitFault
	// ExitGeneralProtection: a privileged instruction, a non-canonical
	// address or a misaligned SSE operand (#GP, SIGSEGV with si_addr 0).
	ExitGeneralProtection
	// ExitDivide: division by zero or a quotient too large (#DE, SIGFPE).
	ExitDivide
)

func (r ExitReason) String() string {
	switch r {
	case ExitBudget:
		return "budget exhausted"
	case ExitSyscall:
		return "syscall"
	case ExitBreakpoint:
		return "breakpoint"
	case ExitIllegal:
		return "illegal instruction"
	case ExitFault:
		return "memory fault"
	case ExitGeneralProtection:
		return "general protection"
	case ExitDivide:
		return "divide error"
	}
	return fmt.Sprintf("ExitReason(%d)", uint8(r))
}

// Exit is the result of Run.
type Exit struct {
	Reason ExitReason
	// PC is the address of the instruction that caused the exit (for
	// ExitBudget, of the next instruction).
	PC uint64
	// Bytes are the first bytes of the instruction for ExitIllegal.
	Bytes []byte
	// Access, Cause and Addr describe an ExitFault.
	Access rv.Access
	Cause  rv.FaultCause
	Addr   uint64
}

func (e Exit) String() string {
	switch e.Reason {
	case ExitIllegal:
		return fmt.Sprintf("illegal instruction % x at rip %#x", e.Bytes, e.PC)
	case ExitFault:
		return fmt.Sprintf("%s fault (%s) at %#x, rip %#x", e.Access, e.Cause, e.Addr, e.PC)
	}
	return fmt.Sprintf("%s at rip %#x", e.Reason, e.PC)
}
