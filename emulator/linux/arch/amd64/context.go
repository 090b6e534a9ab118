package amd64

import (
	"encoding/binary"
	"errors"

	cpu "github.com/wasmrt/wasmrt/emulator/amd64"
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/arch"
	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// ELFMachine is EM_X86_64.
const ELFMachine = 62

// SigreturnCode is the rt_sigreturn trampoline: mov eax, 15; syscall.
// x86-64 programs normally return through their own SA_RESTORER.
var SigreturnCode = []byte{0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05}

// Context adapts a CPU to arch.Context.
type Context struct {
	CPU *cpu.CPU
}

var (
	_ arch.Context      = (*Context)(nil)
	_ arch.SegmentBases = (*Context)(nil)
)

// New returns a context for a fresh thread in mem.
func New(mem *rv.Memory) *Context {
	return &Context{CPU: cpu.New(mem)}
}

// Run runs the CPU and translates its exit into the signal Linux raises
// for the exception.
func (c *Context) Run(budget uint64) arch.Event {
	ex := c.CPU.Run(budget)
	switch ex.Reason {
	case cpu.ExitBudget:
		return arch.Event{Kind: arch.EventBudget}
	case cpu.ExitSyscall:
		return arch.Event{Kind: arch.EventSyscall}
	case cpu.ExitBreakpoint:
		return arch.Event{Kind: arch.EventSignal, Signal: abi.SIGTRAP, Code: abi.SI_KERNEL, Detail: ex}
	case cpu.ExitIllegal:
		if len(ex.Bytes) == 0 {
			// Show the instruction in traces.
			var b [15]byte
			if c.CPU.Mem.ReadBytes(ex.PC, b[:]) == nil {
				ex.Bytes = b[:]
			}
		}
		return arch.Event{Kind: arch.EventSignal, Signal: abi.SIGILL, Code: abi.ILL_ILLOPN, Addr: ex.PC, Detail: ex}
	case cpu.ExitGeneralProtection:
		return arch.Event{Kind: arch.EventSignal, Signal: abi.SIGSEGV, Code: abi.SI_KERNEL, Detail: ex}
	case cpu.ExitDivide:
		return arch.Event{Kind: arch.EventSignal, Signal: abi.SIGFPE, Code: abi.FPE_INTDIV, Addr: ex.PC, Detail: ex}
	}
	ev := arch.Event{Kind: arch.EventSignal, Signal: abi.SIGSEGV, Code: abi.SEGV_MAPERR, Addr: ex.Addr, Detail: ex}
	if ex.Cause == rv.CauseProtection {
		ev.Code = abi.SEGV_ACCERR
	}
	return ev
}

// Syscall reads rax and rdi, rsi, rdx, r10, r8, r9.
func (c *Context) Syscall() (uint64, [6]uint64) {
	r := &c.CPU.R
	return r[cpu.RAX], [6]uint64{r[cpu.RDI], r[cpu.RSI], r[cpu.RDX], r[cpu.R10], r[cpu.R8], r[cpu.R9]}
}

// SetReturn sets rax.
func (c *Context) SetReturn(v uint64) { c.CPU.R[cpu.RAX] = v }

// SkipSyscall steps over the 2-byte syscall instruction, which leaves
// the return address in rcx and the flags in r11.
func (c *Context) SkipSyscall() {
	c.CPU.RIP += 2
	c.CPU.R[cpu.RCX] = c.CPU.RIP
	c.CPU.R[cpu.R11] = c.CPU.Flags()
}

// Clone copies the registers for a new thread or process; CLONE_SETTLS
// sets the fs base.
func (c *Context) Clone(mem *rv.Memory, stack, tls uint64, setTLS bool) arch.Context {
	n := &Context{CPU: c.CPU.Fork(mem)}
	n.SkipSyscall()
	n.CPU.R[cpu.RAX] = 0
	if stack != 0 {
		n.CPU.R[cpu.RSP] = stack
	}
	if setTLS {
		n.CPU.FSBase = tls
	}
	return n
}

// Exec resets every register for a new image.
func (c *Context) Exec(mem *rv.Memory, entry, sp uint64) {
	c.CPU.Mem = mem
	c.CPU.Reset()
	c.CPU.RIP = entry
	c.CPU.R[cpu.RSP] = sp
}

// Memory returns the CPU's address space.
func (c *Context) Memory() *rv.Memory { return c.CPU.Mem }

// Instret returns the retired-instruction count.
func (c *Context) Instret() uint64 { return c.CPU.Instret }

// StackPointer returns rsp.
func (c *Context) StackPointer() uint64 { return c.CPU.R[cpu.RSP] }

// Bases returns the fs and gs bases (arch_prctl ARCH_GET_FS/GS).
func (c *Context) Bases() (fs, gs uint64) { return c.CPU.FSBase, c.CPU.GSBase }

// SetBases sets the fs and gs bases (arch_prctl ARCH_SET_FS/GS).
func (c *Context) SetBases(fs, gs uint64) { c.CPU.FSBase, c.CPU.GSBase = fs, gs }

// Layout of struct rt_sigframe (arch/x86/include/asm/sigframe.h): the
// return address, the ucontext, the siginfo; the fpstate lies above it.
const (
	frameSize   = 8 + ucSize + 128
	ucFlags     = 8
	ucStack     = ucFlags + 16
	ucMcontext  = ucFlags + 40
	ucSigmask   = ucMcontext + 256
	ucSize      = 304
	infoOffset  = 8 + ucSize
	fpstateSize = 512
	redZone     = 128
	// uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS.
	ucFlagsValue = 2 | 4
	// Selectors of 64-bit user code and data.
	userCS = 0x33
	userSS = 0x2b
)

// sigcontext's general-purpose registers in its order.
var sigcontextRegs = [...]int{
	cpu.R8, cpu.R9, cpu.R10, cpu.R11, cpu.R12, cpu.R13, cpu.R14, cpu.R15,
	cpu.RDI, cpu.RSI, cpu.RBP, cpu.RBX, cpu.RDX, cpu.RAX, cpu.RCX, cpu.RSP,
}

var errBadFrame = errors.New("signal frame not writable")

// PushSignalFrame writes the fpstate and rt_sigframe below the red zone
// (or on the alternate stack) and enters the handler with rdi = signal,
// rsi = &info, rdx = &uc and the restorer as return address.
func (c *Context) PushSignalFrame(f *arch.SignalFrame) error {
	p := c.CPU
	sp := p.R[cpu.RSP] - redZone
	if f.StackTop != 0 {
		sp = f.StackTop
	}
	fpAddr := (sp - fpstateSize) &^ 63
	frame := (fpAddr-frameSize)&^15 - 8
	var fp [fpstateSize]byte
	p.FXSave(&fp)
	var b [frameSize]byte
	le.PutUint64(b[0:], f.Restorer)
	le.PutUint64(b[ucFlags:], ucFlagsValue)
	le.PutUint64(b[ucStack:], f.AltSP)
	le.PutUint32(b[ucStack+8:], uint32(f.AltFlags))
	le.PutUint64(b[ucStack+16:], f.AltSize)
	mc := b[ucMcontext:]
	for i, r := range sigcontextRegs {
		le.PutUint64(mc[8*i:], p.R[r])
	}
	le.PutUint64(mc[128:], p.RIP)
	le.PutUint64(mc[136:], p.Flags())
	le.PutUint64(mc[144:], userCS|userSS<<48)
	trapno, errCode, cr2 := faultRegs(f)
	le.PutUint64(mc[152:], errCode)
	le.PutUint64(mc[160:], trapno)
	le.PutUint64(mc[168:], f.SavedMask)
	le.PutUint64(mc[176:], cr2)
	le.PutUint64(mc[184:], fpAddr)
	le.PutUint64(b[ucSigmask:], f.SavedMask)
	copy(b[infoOffset:], f.Info[:])
	if p.Mem.WriteBytes(fpAddr, fp[:]) != nil || p.Mem.WriteBytes(frame, b[:]) != nil {
		return errBadFrame
	}
	p.R[cpu.RSP] = frame
	p.R[cpu.RDI] = uint64(f.Signal)
	p.R[cpu.RSI] = frame + infoOffset
	p.R[cpu.RDX] = frame + 8
	p.R[cpu.RAX] = 0
	p.RIP = f.Handler
	// The handler starts with DF clear, as the ABI requires.
	p.SetFlags(p.Flags() &^ cpu.FlagDF)
	return nil
}

// faultRegs returns sigcontext's trapno, err and cr2 for a fault
// signal: page faults report the address in cr2.
func faultRegs(f *arch.SignalFrame) (trapno, errCode, cr2 uint64) {
	const pageFault = 14
	if f.Signal == abi.SIGSEGV || f.Signal == abi.SIGBUS {
		addr := le.Uint64(f.Info[16:])
		return pageFault, 4, addr
	}
	return 0, 0, 0
}

// PopSignalFrame restores the registers saved by PushSignalFrame; rsp
// is 8 past the frame (the handler's ret popped the return address).
func (c *Context) PopSignalFrame() (uint64, error) {
	p := c.CPU
	frame := p.R[cpu.RSP] - 8
	var b [frameSize]byte
	if err := p.Mem.ReadBytes(frame, b[:]); err != nil {
		return 0, errBadFrame
	}
	mc := b[ucMcontext:]
	if fpAddr := le.Uint64(mc[184:]); fpAddr != 0 {
		var fp [fpstateSize]byte
		if err := p.Mem.ReadBytes(fpAddr, fp[:]); err != nil {
			return 0, errBadFrame
		}
		if !p.FXRstor(&fp) {
			return 0, errBadFrame
		}
	}
	for i, r := range sigcontextRegs {
		p.R[r] = le.Uint64(mc[8*i:])
	}
	p.RIP = le.Uint64(mc[128:])
	p.SetFlags(le.Uint64(mc[136:]))
	return le.Uint64(b[ucSigmask:]), nil
}

// HWCap is AT_HWCAP: on x86-64, CPUID leaf 1's EDX.
func HWCap() uint64 { return cpu.CPUIDFeatures() }

// ABI is the x86-64 Linux ABI.
var ABI = &arch.ABI{
	Name:                   "x86_64",
	Platform:               "x86_64",
	ELFMachine:             ELFMachine,
	HWCap:                  HWCap(),
	SyscallNames:           SyscallNames,
	SigactionRestorer:      true,
	EpollPacked:            true,
	CloneChildTIDBeforeTLS: true,
	StatSize:               abi.X86StatSize,
	PutStat:                abi.PutX86Stat,
	SigreturnCode:          SigreturnCode,
	NewContext:             func(mem *rv.Memory) arch.Context { return New(mem) },
}

var le = binary.LittleEndian
