package riscv64

import (
	"encoding/binary"
	"errors"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/arch"
	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// ELFMachine is EM_RISCV.
const ELFMachine = 243

// HWCap is AT_HWCAP for RV64IMAFDC: one bit per single-letter extension.
const HWCap = 1<<('i'-'a') | 1<<('m'-'a') | 1<<('a'-'a') | 1<<('f'-'a') | 1<<('d'-'a') | 1<<('c'-'a')

// SigreturnCode is the rt_sigreturn trampoline the kernel keeps in the
// vDSO: li a7, 139; ecall.
var SigreturnCode = []byte{0x93, 0x08, 0xb0, 0x08, 0x73, 0x00, 0x00, 0x00}

// Context adapts a CPU to arch.Context.
type Context struct {
	CPU *rv.CPU
}

var _ arch.Context = (*Context)(nil)

// New returns a context for a fresh thread in mem.
func New(mem *rv.Memory) *Context {
	return &Context{CPU: &rv.CPU{Mem: mem}}
}

// Run runs the CPU and translates its exit.
func (c *Context) Run(budget uint64) arch.Event {
	ex := c.CPU.Run(budget)
	switch ex.Reason {
	case rv.ExitBudget:
		return arch.Event{Kind: arch.EventBudget}
	case rv.ExitEcall:
		return arch.Event{Kind: arch.EventSyscall}
	case rv.ExitEbreak:
		return arch.Event{Kind: arch.EventSignal, Signal: abi.SIGTRAP, Code: abi.TRAP_BRKPT, Addr: ex.PC, Detail: ex}
	case rv.ExitIllegalInstruction:
		return arch.Event{Kind: arch.EventSignal, Signal: abi.SIGILL, Code: abi.ILL_ILLOPC, Addr: ex.PC, Detail: ex}
	}
	ev := arch.Event{Kind: arch.EventSignal, Signal: abi.SIGSEGV, Code: abi.SEGV_MAPERR, Addr: ex.Addr, Detail: ex}
	switch ex.Cause {
	case rv.CauseProtection:
		ev.Code = abi.SEGV_ACCERR
	case rv.CauseMisaligned:
		ev.Signal, ev.Code = abi.SIGBUS, abi.BUS_ADRALN
	}
	return ev
}

// Syscall reads a7 and a0-a5.
func (c *Context) Syscall() (uint64, [6]uint64) {
	x := &c.CPU.X
	return x[17], [6]uint64{x[10], x[11], x[12], x[13], x[14], x[15]}
}

// SetReturn sets a0.
func (c *Context) SetReturn(v uint64) { c.CPU.X[10] = v }

// SkipSyscall steps over the 4-byte ecall.
func (c *Context) SkipSyscall() { c.CPU.PC += 4 }

// Clone copies the registers for a new thread or process.
func (c *Context) Clone(mem *rv.Memory, stack, tls uint64, setTLS bool) arch.Context {
	n := c.CPU.Fork(mem)
	n.PC += 4
	n.X[10] = 0
	if stack != 0 {
		n.X[2] = stack
	}
	if setTLS {
		n.X[4] = tls
	}
	return &Context{CPU: n}
}

// Exec resets every register for a new image.
func (c *Context) Exec(mem *rv.Memory, entry, sp uint64) {
	instret := c.CPU.Instret
	c.CPU = &rv.CPU{Mem: mem, PC: entry, Instret: instret, Time: c.CPU.Time}
	c.CPU.X[2] = sp
}

// Memory returns the CPU's address space.
func (c *Context) Memory() *rv.Memory { return c.CPU.Mem }

// Instret returns the retired-instruction count.
func (c *Context) Instret() uint64 { return c.CPU.Instret }

// StackPointer returns sp.
func (c *Context) StackPointer() uint64 { return c.CPU.X[2] }

// Layout of struct rt_sigframe (arch/riscv/kernel/signal.c), checked
// against the riscv64 kernel headers.
const (
	frameSize    = 1088
	ucOffset     = 128
	ucStack      = ucOffset + 16
	ucSigmask    = ucOffset + 40
	ucMcontext   = ucOffset + 176
	mcFP         = ucMcontext + 256
	mcFCSR       = mcFP + 256
	redZoneAlign = 16
)

var errBadFrame = errors.New("signal frame not writable")

// PushSignalFrame writes the rt_sigframe and enters the handler with
// a0 = signal, a1 = &info, a2 = &uc, ra = restorer.
func (c *Context) PushSignalFrame(f *arch.SignalFrame) error {
	cpu := c.CPU
	sp := cpu.X[2]
	if f.StackTop != 0 {
		sp = f.StackTop
	}
	sp = (sp - frameSize) &^ (redZoneAlign - 1)
	var b [frameSize]byte
	le := binary.LittleEndian
	copy(b[:128], f.Info[:])
	le.PutUint64(b[ucStack:], f.AltSP)
	le.PutUint32(b[ucStack+8:], uint32(f.AltFlags))
	le.PutUint64(b[ucStack+16:], f.AltSize)
	le.PutUint64(b[ucSigmask:], f.SavedMask)
	le.PutUint64(b[ucMcontext:], cpu.PC)
	for i := 1; i < 32; i++ {
		le.PutUint64(b[ucMcontext+8*i:], cpu.X[i])
	}
	for i := 0; i < 32; i++ {
		le.PutUint64(b[mcFP+8*i:], cpu.F[i])
	}
	le.PutUint32(b[mcFCSR:], cpu.FCSR)
	if err := cpu.Mem.WriteBytes(sp, b[:]); err != nil {
		return errBadFrame
	}
	cpu.ClearReservation()
	cpu.X[2] = sp
	cpu.X[1] = f.Restorer
	cpu.X[10] = uint64(f.Signal)
	cpu.X[11] = sp
	cpu.X[12] = sp + ucOffset
	cpu.PC = f.Handler
	return nil
}

// PopSignalFrame restores the registers saved in the frame at sp.
func (c *Context) PopSignalFrame() (uint64, error) {
	cpu := c.CPU
	var b [frameSize]byte
	if err := cpu.Mem.ReadBytes(cpu.X[2], b[:]); err != nil {
		return 0, errBadFrame
	}
	le := binary.LittleEndian
	cpu.PC = le.Uint64(b[ucMcontext:])
	for i := 1; i < 32; i++ {
		cpu.X[i] = le.Uint64(b[ucMcontext+8*i:])
	}
	for i := 0; i < 32; i++ {
		cpu.F[i] = le.Uint64(b[mcFP+8*i:])
	}
	cpu.FCSR = le.Uint32(b[mcFCSR:]) & 0xff
	cpu.ClearReservation()
	return le.Uint64(b[ucSigmask:]), nil
}

// ABI is the riscv64 Linux ABI.
var ABI = &arch.ABI{
	Name:          "riscv64",
	ELFMachine:    ELFMachine,
	HWCap:         HWCap,
	SyscallNames:  SyscallNames,
	StatSize:      abi.StatSize,
	PutStat:       abi.PutGenericStat,
	SigreturnCode: SigreturnCode,
	NewContext:    func(mem *rv.Memory) arch.Context { return New(mem) },
}
