package amd64

import (
	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// PageSize is the guest page size (4 KiB, as on every x86-64 Linux).
const PageSize = rv.PageSize

const (
	pageShift = 12
	pageMask  = PageSize - 1
)

// General-purpose register numbers, in the instruction encoding's order.
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// RFLAGS bits.
const (
	FlagCF = 1 << 0
	FlagPF = 1 << 2
	FlagAF = 1 << 4
	FlagZF = 1 << 6
	FlagSF = 1 << 7
	FlagTF = 1 << 8
	FlagIF = 1 << 9
	FlagDF = 1 << 10
	FlagOF = 1 << 11
	FlagAC = 1 << 18
	FlagID = 1 << 21

	// arithFlags are the flags arithmetic instructions compute.
	arithFlags = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF
	// userFlags are the flags user code can change with popf: the
	// arithmetic flags, DF, AC and ID (IF, IOPL and the rest stay).
	userFlags = arithFlags | FlagDF | FlagTF | FlagAC | FlagID
	// fixedFlags are always set: bit 1 and IF (interrupts are on in user
	// mode).
	fixedFlags = 1<<1 | FlagIF
)

// XMM is one 128-bit SSE register, low quadword first.
type XMM [2]uint64

// CPU is the register state of one x86-64 thread and the address space it
// runs in.
type CPU struct {
	// R are the general-purpose registers, indexed RAX..R15.
	R [16]uint64
	// zero is always 0: register noReg of regs(). scratch is register
	// 17, the destination fast forms write results nobody reads to.
	zero, scratch uint64
	// FSBase and GSBase are the fs and gs segment bases (arch_prctl),
	// registers fsReg and gsReg of regs().
	FSBase, GSBase uint64
	// RIP is the address of the next instruction.
	RIP uint64
	// XMM are the SSE registers.
	XMM [16]XMM
	// MXCSR is the SSE control and status register.
	MXCSR uint32
	// X87 is the x87 FPU state (fxsave's view of it).
	X87 X87
	// Instret counts retired instructions.
	Instret uint64
	// Mem is the address space.
	Mem *rv.Memory
	// Time, when set, returns the time-stamp counter rdtsc reads; nil
	// reads the host's monotonic clock in nanoseconds.
	Time func() uint64

	// flags holds RFLAGS except the arithmetic flags while lazy.op is
	// not lazyNone; then they are computed from lazy.
	flags uint64
	lazy  lazyFlags

	exit Exit
	// TranslatedCalls counts the calls into translated code.
	TranslatedCalls uint64
	// frame is shared with translated code during a call into it.
	frame rv.Frame
	// blocks caches decoded blocks by address (see block.go).
	blocks [blockCacheSize]*block
}

// X87 is the x87 floating-point unit's state as fxsave stores it.
type X87 struct {
	// ST are the eight data registers in physical order (R0..R7), each an
	// 80-bit extended-precision value: mantissa then sign and exponent.
	ST [8]Float80
	// Control, Status and Tag are the FCW, FSW (with TOP in bits 11-13)
	// and the abridged tag word (bit i set: Ri is valid).
	Control, Status uint16
	Tag             uint8
	Opcode          uint16
	IP, DP          uint64
}

// Float80 is an x87 extended-precision value.
type Float80 struct {
	Mantissa uint64
	SignExp  uint16
}

// New returns a CPU in the state Linux gives a new process: flags with
// IF, MXCSR 0x1f80 (all exceptions masked, round to nearest) and the x87
// control word 0x37f.
func New(mem *rv.Memory) *CPU {
	c := &CPU{Mem: mem}
	c.Reset()
	return c
}

// Reset puts every register in its execve state and keeps Instret.
func (c *CPU) Reset() {
	mem, instret, tm := c.Mem, c.Instret, c.Time
	*c = CPU{Mem: mem, Instret: instret, Time: tm}
	c.flags = fixedFlags
	c.MXCSR = 0x1f80
	c.X87.Control = 0x37f
}

// Flags returns RFLAGS.
func (c *CPU) Flags() uint64 {
	return c.flags&^arithFlags | c.arith()
}

// SetFlags sets the flags user code can change (as popf does) and keeps
// the fixed ones.
func (c *CPU) SetFlags(v uint64) {
	c.lazy.op = lazyNone
	c.flags = v&userFlags | fixedFlags
}

// Fork returns a copy of the registers for a new thread or process that
// runs in mem.
func (c *CPU) Fork(mem *rv.Memory) *CPU {
	n := &CPU{}
	n.R, n.RIP, n.XMM, n.MXCSR = c.R, c.RIP, c.XMM, c.MXCSR
	n.FSBase, n.GSBase, n.X87 = c.FSBase, c.GSBase, c.X87
	n.Instret, n.Time = c.Instret, c.Time
	n.flags, n.lazy = c.flags, c.lazy
	n.Mem = mem
	return n
}
