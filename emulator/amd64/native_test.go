package amd64

// The native side of the differential tests (diff_test.go): a small C
// program, testdata/native_runner.c, runs test cases on the host CPU, the
// oracle; the same cases run in the interpreter and the two final states
// must agree.
//
// A case is a short piece of code and an input machineState. Both sides
// map the code at diffCodeAddr and two data pages at diffDataAddr. The
// interpreter runs until the ud2 appended after the case's code (an
// ExitIllegal at diffCodeAddr+len(code) means the code ran to its end);
// the runner appends a jump to an epilogue that saves the registers
// instead. A signal on the host (SIGSEGV, SIGFPE, SIGILL) must be the
// matching exit of the interpreter at the same instruction, and the state
// at that point (the signal context's) must agree too.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
	"github.com/wasmrt/wasmrt/internal/syncbuf"
)

const (
	// diffDataAddr is where both sides map the two data pages; native
	// code finds them at the same address, so generated code may use
	// absolute addresses and the stored values agree.
	diffDataAddr = 0x70000000
	diffDataSize = 0x2000
	// diffCodeAddr is where the case's code runs on both sides, so that
	// return addresses pushed by call agree.
	diffCodeAddr     = 0x60000000
	diffCodePageSize = 0x1000
	// diffMaxCodeLen leaves room for the runner's jump to its epilogue.
	diffMaxCodeLen = diffCodePageSize - 64
	// diffBudget bounds the instructions the interpreter runs for a case
	// (cases are a few dozen instructions and string instructions with
	// counts up to 64).
	diffBudget = 100000

	// diffRBX and diffRSP are the input values of RBX (the base register
	// of generated memory operands) and RSP.
	diffRBX = diffDataAddr + 0x1000
	diffRSP = diffDataAddr + 0x1800

	// diffComparedFlags are the RFLAGS bits the tests compare (before the
	// per-case mask of undefined flags) and the input state may set.
	diffComparedFlags = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF | FlagDF
	// diffArithFlags are the six arithmetic flags.
	diffArithFlags = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF
)

// machineState is what a test case starts from and what both sides
// produce.
type machineState struct {
	GPR    [16]uint64 // rax rcx rdx rbx rsp rbp rsi rdi r8..r15 (encoding order)
	RFLAGS uint64     // only diffComparedFlags are compared
	XMM    [16][2]uint64
	MXCSR  uint32
	Mem    [diffDataSize]byte // the data pages at diffDataAddr
}

// The wire format of the register part of machineState (struct regs in
// native_runner.c) and of the result header (struct result).
const (
	nativeRegsSize   = 16*8 + 8 + 16*16 + 8
	nativeResultSize = 40
	nativeReady      = "RUNNERv1"
)

// outcomeKind says how a case ended; the host's signals and the
// interpreter's exits map to the same kinds.
type outcomeKind uint8

const (
	outDone  outcomeKind = iota // ran to the end of the code
	outSegv                     // SIGSEGV; ExitFault or ExitGeneralProtection
	outFPE                      // SIGFPE; ExitDivide
	outIll                      // SIGILL; ExitIllegal before the end of the code
	outTrap                     // SIGTRAP; ExitBreakpoint
	outBus                      // SIGBUS (host only)
	outHang                     // SIGALRM (5 s) on the host; ExitBudget in the interpreter
	outOther                    // an interpreter panic, another exit or signal
)

func (k outcomeKind) String() string {
	switch k {
	case outDone:
		return "completed"
	case outSegv:
		return "SIGSEGV"
	case outFPE:
		return "SIGFPE"
	case outIll:
		return "SIGILL"
	case outTrap:
		return "SIGTRAP"
	case outBus:
		return "SIGBUS"
	case outHang:
		return "hang"
	}
	return "other"
}

// outcome is how one side ran a case.
type outcome struct {
	kind outcomeKind
	// pc is the offset from diffCodeAddr of the instruction that
	// faulted, or the code's length when the code completed.
	pc uint64
	// addr is the fault address: si_addr or Exit.Addr (0 for #GP).
	addr uint64
	// detail describes the signal or exit for failure messages.
	detail string
}

func (o outcome) String() string {
	s := o.kind.String()
	if o.kind != outDone && o.kind != outHang {
		s += fmt.Sprintf(" at +%#x", o.pc)
	}
	if o.detail != "" {
		s += " (" + o.detail + ")"
	}
	return s
}

// sameOutcome reports whether both sides ended the same way. Fault
// addresses are not compared: for an access that straddles into an
// unmapped page the host reports the first unmapped byte, the interpreter
// may report the access's address.
func sameOutcome(a, b outcome) bool {
	if a.kind == outOther || b.kind == outOther || a.kind != b.kind {
		return false
	}
	return a.kind == outHang || a.pc == b.pc
}

// nativeResult is the host's answer for one case.
type nativeResult struct {
	out     machineState
	outcome outcome
}

// nativeRunner is the runner process: one for the whole test binary,
// shared by the tests (mu serialises them), fed over pipes.
type nativeRunner struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  *os.File // our end of the runner's stdin
	stdout *os.File // our end of the runner's stdout
	stderr *syncbuf.Buffer
	broken error // set when the runner died or hung; later runs fail with it
}

var (
	nativeRunnerOnce sync.Once
	nativeRunnerInst *nativeRunner
	nativeRunnerErr  error
)

// requireNativeRunner returns the shared runner, starting it on first use.
// It skips the test where the host cannot be the oracle.
func requireNativeRunner(t *testing.T) *nativeRunner {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("differential tests need linux/amd64 to run the cases natively (have %s/%s)", runtime.GOOS, runtime.GOARCH)
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found: it builds testdata/native_runner.c, the native side of the differential tests")
	}
	nativeRunnerOnce.Do(func() {
		nativeRunnerInst, nativeRunnerErr = startNativeRunner()
	})
	if nativeRunnerErr != nil {
		t.Fatalf("native runner: %v", nativeRunnerErr)
	}
	return nativeRunnerInst
}

// startNativeRunner builds the runner into a temporary directory, starts
// it and removes the directory again (the running process keeps its
// binary). The process lives as long as the test binary: it exits when
// its stdin is closed.
func startNativeRunner() (*nativeRunner, error) {
	src, err := filepath.Abs(filepath.Join("testdata", "native_runner.c"))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "amd64-native-runner-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "runner")
	if out, err := exec.Command("gcc", "-O1", "-o", bin, src).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gcc -O1 -o runner %s: %v\n%s", src, err, out)
	}

	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	r := &nativeRunner{stdin: inW, stdout: outR, stderr: &syncbuf.Buffer{}}
	r.cmd = exec.Command(bin, fmt.Sprintf("%#x", diffDataAddr), fmt.Sprintf("%#x", diffCodeAddr))
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = inR, outW, r.stderr
	err = r.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	hello := make([]byte, len(nativeReady))
	outR.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(outR, hello); err != nil || string(hello) != nativeReady {
		r.kill()
		return nil, fmt.Errorf("runner did not start (%v): %s", err, strings.TrimSpace(r.stderr.String()))
	}
	return r, nil
}

// kill ends the runner process and reaps it.
func (r *nativeRunner) kill() {
	r.cmd.Process.Kill()
	r.stdin.Close()
	r.cmd.Wait()
	r.stdout.Close()
}

// fail marks the runner unusable after err, ends it and returns the
// error with what the runner printed.
func (r *nativeRunner) fail(err error) error {
	r.kill()
	if msg := strings.TrimSpace(r.stderr.String()); msg != "" {
		err = fmt.Errorf("%w; runner stderr: %s", err, msg)
	}
	r.broken = err
	return err
}

// nativeCase is one case as the runner takes it.
type nativeCase struct {
	code []byte
	in   *machineState
}

// run executes the cases on the host. A writer goroutine streams the
// cases while this goroutine reads the results, so that neither pipe
// fills up.
func (r *nativeRunner) run(cases []nativeCase) ([]nativeResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.broken != nil {
		return nil, r.broken
	}
	for _, c := range cases {
		if len(c.code) > diffMaxCodeLen {
			return nil, fmt.Errorf("case code of %d bytes is longer than %d", len(c.code), diffMaxCodeLen)
		}
	}
	writeErr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(r.stdin, 64<<10)
		for _, c := range cases {
			if err := writeNativeCase(w, c); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- w.Flush()
	}()

	results := make([]nativeResult, len(cases))
	rd := bufio.NewReaderSize(r.stdout, 64<<10)
	buf := make([]byte, nativeResultSize+nativeRegsSize+diffDataSize)
	for i := range results {
		r.stdout.SetReadDeadline(time.Now().Add(60 * time.Second))
		if _, err := io.ReadFull(rd, buf); err != nil {
			err = r.fail(fmt.Errorf("reading the result of case %d of %d: %w", i, len(cases), err))
			<-writeErr
			return nil, err
		}
		decodeNativeResult(buf, &results[i])
	}
	if err := <-writeErr; err != nil {
		return nil, r.fail(fmt.Errorf("writing cases: %w", err))
	}
	return results, nil
}

func writeNativeCase(w io.Writer, c nativeCase) error {
	buf := make([]byte, 4, 4+len(c.code)+nativeRegsSize)
	binary.LittleEndian.PutUint32(buf, uint32(len(c.code)))
	buf = append(buf, c.code...)
	buf = appendNativeRegs(buf, c.in)
	if _, err := w.Write(buf); err != nil {
		return err
	}
	_, err := w.Write(c.in.Mem[:])
	return err
}

func appendNativeRegs(b []byte, s *machineState) []byte {
	for _, v := range s.GPR {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	b = binary.LittleEndian.AppendUint64(b, s.RFLAGS)
	for _, x := range s.XMM {
		b = binary.LittleEndian.AppendUint64(b, x[0])
		b = binary.LittleEndian.AppendUint64(b, x[1])
	}
	b = binary.LittleEndian.AppendUint32(b, s.MXCSR)
	return binary.LittleEndian.AppendUint32(b, 0)
}

func decodeNativeResult(b []byte, res *nativeResult) {
	le := binary.LittleEndian
	signo := syscall.Signal(le.Uint32(b[0:]))
	siCode := int32(le.Uint32(b[4:]))
	addr := le.Uint64(b[8:])
	rip := le.Uint64(b[16:])
	trapno := le.Uint64(b[24:])
	errCode := le.Uint64(b[32:])
	p := b[nativeResultSize:]
	s := &res.out
	for i := range s.GPR {
		s.GPR[i] = le.Uint64(p[8*i:])
	}
	s.RFLAGS = le.Uint64(p[128:])
	for i := range s.XMM {
		s.XMM[i][0] = le.Uint64(p[136+16*i:])
		s.XMM[i][1] = le.Uint64(p[136+16*i+8:])
	}
	s.MXCSR = le.Uint32(p[392:])
	copy(s.Mem[:], p[nativeRegsSize:])

	o := outcome{pc: rip - diffCodeAddr, addr: addr}
	switch signo {
	case 0:
		o.kind = outDone
	case syscall.SIGSEGV:
		o.kind = outSegv
		o.detail = fmt.Sprintf("si_code %d, si_addr %#x, trap %d, error code %#x", siCode, addr, trapno, errCode)
	case syscall.SIGFPE:
		o.kind = outFPE
		o.detail = fmt.Sprintf("si_code %d", siCode)
	case syscall.SIGILL:
		o.kind = outIll
		o.detail = fmt.Sprintf("si_code %d", siCode)
	case syscall.SIGTRAP:
		o.kind = outTrap
		if trapno == 3 {
			// int3 is a trap: RIP is past it, the interpreter's PC at it.
			o.pc--
		}
		o.detail = fmt.Sprintf("si_code %d, trap %d", siCode, trapno)
	case syscall.SIGBUS:
		o.kind = outBus
		o.detail = fmt.Sprintf("si_code %d, si_addr %#x", siCode, addr)
	case syscall.SIGALRM:
		o.kind = outHang
		o.detail = fmt.Sprintf("still running after 5 s at rip %#x", rip)
	default:
		o.kind = outOther
		o.detail = fmt.Sprintf("signal %v", signo)
	}
	res.outcome = o
}

// diffCodePage is the code page of a case: the code, then ud2 (the
// interpreter's stop), and ud2 everywhere else, as the runner fills it.
func diffCodePage(code []byte) []byte {
	page := make([]byte, diffCodePageSize)
	for i := 0; i < len(page); i += 2 {
		page[i], page[i+1] = 0x0f, 0x0b
	}
	n := copy(page, code)
	page[n], page[n+1] = 0x0f, 0x0b
	return page
}

// runEmulator runs one case in the interpreter. A panic of the
// interpreter becomes an outOther outcome with its stack.
func runEmulator(code []byte, in *machineState) (out machineState, o outcome) {
	mem := rv.NewMemory()
	if err := errors.Join(
		mem.Map(diffDataAddr, diffDataSize, rv.PermRead|rv.PermWrite),
		mem.WriteBytes(diffDataAddr, in.Mem[:]),
		mem.Map(diffCodeAddr, diffCodePageSize, rv.PermRead|rv.PermExec),
		mem.Poke(diffCodeAddr, diffCodePage(code)),
	); err != nil {
		return out, outcome{kind: outOther, detail: "setting up the address space: " + err.Error()}
	}

	var c *CPU
	var ex Exit
	panicked := func() (msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprintf("interpreter panic: %v\n%s", r, trimStack(debug.Stack()))
			}
		}()
		c = New(mem)
		c.R = in.GPR
		c.RIP = diffCodeAddr
		for i := range c.XMM {
			c.XMM[i] = XMM(in.XMM[i])
		}
		c.MXCSR = in.MXCSR
		c.SetFlags(in.RFLAGS & diffComparedFlags)
		ex = c.Run(diffBudget)
		return ""
	}()
	if c == nil {
		return out, outcome{kind: outOther, detail: panicked}
	}

	out.GPR = c.R
	out.RFLAGS = c.Flags()
	for i := range c.XMM {
		out.XMM[i] = c.XMM[i]
	}
	out.MXCSR = c.MXCSR
	if err := mem.ReadBytes(diffDataAddr, out.Mem[:]); err != nil {
		return out, outcome{kind: outOther, detail: "reading the data pages back: " + err.Error()}
	}
	if panicked != "" {
		return out, outcome{kind: outOther, detail: panicked}
	}

	o = outcome{pc: ex.PC - diffCodeAddr, addr: ex.Addr, detail: ex.String()}
	switch ex.Reason {
	case ExitIllegal:
		if ex.PC == diffCodeAddr+uint64(len(code)) {
			o.kind, o.detail = outDone, ""
		} else {
			o.kind = outIll
		}
	case ExitFault, ExitGeneralProtection:
		o.kind = outSegv
	case ExitDivide:
		o.kind = outFPE
	case ExitBreakpoint:
		o.kind = outTrap
	case ExitBudget:
		o.kind = outHang
	default:
		o.kind = outOther
	}
	return out, o
}

// trimStack keeps the frames of a panic's stack that help: from the
// panic on, at most 30 lines.
func trimStack(stack []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stack)), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			lines = lines[i:]
			break
		}
	}
	if len(lines) > 30 {
		lines = append(lines[:30], "\t...")
	}
	return strings.Join(lines, "\n")
}

// diffStates lists the differences between the host's and the
// interpreter's final states; flagMask selects the RFLAGS bits compared.
func diffStates(in, native, emu *machineState, flagMask uint64) []string {
	var d []string
	for i := range native.GPR {
		if native.GPR[i] != emu.GPR[i] {
			d = append(d, fmt.Sprintf("%-6s native %#016x  emulator %#016x  (input %#x)", gprName(i)+":", native.GPR[i], emu.GPR[i], in.GPR[i]))
		}
	}
	if x := (native.RFLAGS ^ emu.RFLAGS) & flagMask; x != 0 {
		d = append(d, fmt.Sprintf("rflags: native %s  emulator %s  (differ in %s; input %s)",
			flagNames(native.RFLAGS&flagMask), flagNames(emu.RFLAGS&flagMask), flagNames(x), flagNames(in.RFLAGS&diffComparedFlags)))
	}
	for i := range native.XMM {
		if native.XMM[i] != emu.XMM[i] {
			d = append(d, fmt.Sprintf("xmm%-3d native %s  emulator %s  (input %s)", i, xmmString(native.XMM[i]), xmmString(emu.XMM[i]), xmmString(in.XMM[i])))
		}
	}
	if native.MXCSR != emu.MXCSR {
		d = append(d, fmt.Sprintf("mxcsr: native %#x  emulator %#x  (input %#x)", native.MXCSR, emu.MXCSR, in.MXCSR))
	}
	return append(d, diffMemory(in.Mem[:], native.Mem[:], emu.Mem[:])...)
}

// diffMemory shows the differing byte ranges of the data pages (nearby
// differences merged, at most 8 ranges of at most 48 bytes).
func diffMemory(in, native, emu []byte) []string {
	var d []string
	for i := 0; i < len(native); {
		if native[i] == emu[i] {
			i++
			continue
		}
		end := i + 1
		for j := end; j < len(native) && j < end+8; j++ {
			if native[j] != emu[j] {
				end = j + 1
			}
		}
		if len(d) == 8 {
			d = append(d, "mem: more differences left out")
			break
		}
		shown := min(end, i+48)
		d = append(d, fmt.Sprintf("mem[%#x..%#x]:\n    input    % x\n    native   % x\n    emulator % x",
			diffDataAddr+i, diffDataAddr+end, in[i:shown], native[i:shown], emu[i:shown]))
		i = end
	}
	return d
}

var gprNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

func gprName(i int) string { return gprNames[i] }

func xmmString(x [2]uint64) string { return fmt.Sprintf("%016x_%016x", x[1], x[0]) }

// flagNames spells the compared flags of an RFLAGS value.
func flagNames(f uint64) string {
	names := []struct {
		bit  uint64
		name string
	}{{FlagCF, "CF"}, {FlagPF, "PF"}, {FlagAF, "AF"}, {FlagZF, "ZF"}, {FlagSF, "SF"}, {FlagOF, "OF"}, {FlagDF, "DF"}}
	var s []string
	for _, n := range names {
		if f&n.bit != 0 {
			s = append(s, n.name)
		}
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, "|")
}

// TestNativeRunner checks the runner itself: add rax, rcx against Go's
// arithmetic, the registers and memory it must keep, a division by zero
// and a load from the guard page below the data.
func TestNativeRunner(t *testing.T) {
	r := requireNativeRunner(t)
	var in machineState
	for i := range in.GPR {
		in.GPR[i] = 0x1111111111111111 * uint64(i)
	}
	in.GPR[RBX], in.GPR[RSP] = diffRBX, diffRSP
	in.GPR[RAX], in.GPR[RCX] = 0xffffffff_fffffffe, 3
	in.RFLAGS = FlagZF | FlagSF | FlagOF
	for i := range in.XMM {
		in.XMM[i] = [2]uint64{uint64(i), ^uint64(i)}
	}
	in.MXCSR = 0x1f80
	for i := range in.Mem {
		in.Mem[i] = byte(i * 7)
	}

	cases := []nativeCase{
		{code: []byte{0x48, 0x01, 0xc8}, in: &in},                   // add rax, rcx
		{code: []byte{0x48, 0x31, 0xc9, 0x48, 0xf7, 0xf1}, in: &in}, // xor rcx, rcx; div rcx
		{code: []byte{0x8b, 0x83, 0xf0, 0xef, 0xff, 0xff}, in: &in}, // mov eax, [rbx-0x1010]
	}
	res, err := r.run(cases)
	if err != nil {
		t.Fatal(err)
	}

	add := res[0]
	if add.outcome.kind != outDone || add.outcome.pc != 3 {
		t.Fatalf("add rax, rcx: outcome %v, want completed at +0x3", add.outcome)
	}
	want := in
	want.GPR[RAX] = in.GPR[RAX] + in.GPR[RCX]
	// 0xff..fe + 3 = 1 with a carry out of bit 63 and out of bit 3, an
	// odd-parity low byte (PF clear), and no signed overflow.
	want.RFLAGS = FlagCF | FlagAF
	if d := diffStates(&in, &want, &add.out, diffComparedFlags); len(d) > 0 {
		t.Errorf("add rax, rcx: state differs from Go's arithmetic (\"native\" is Go, \"emulator\" the runner):\n%s", strings.Join(d, "\n"))
	}
	if add.out.RFLAGS&0x202 != 0x202 {
		t.Errorf("rflags %#x lacks bit 1 or IF", add.out.RFLAGS)
	}

	div := res[1]
	if div.outcome.kind != outFPE || div.outcome.pc != 3 {
		t.Errorf("div by zero: outcome %v, want SIGFPE at +0x3", div.outcome)
	}
	if div.out.GPR[RCX] != 0 || div.out.GPR[RAX] != in.GPR[RAX] || div.out.GPR[RSP] != diffRSP {
		t.Errorf("div by zero: signal context rax %#x rcx %#x rsp %#x, want %#x 0 %#x",
			div.out.GPR[RAX], div.out.GPR[RCX], div.out.GPR[RSP], in.GPR[RAX], diffRSP)
	}

	load := res[2]
	if load.outcome.kind != outSegv || load.outcome.pc != 0 || load.outcome.addr != diffDataAddr-0x10 {
		t.Errorf("load from the guard page: outcome %v (si_addr %#x), want SIGSEGV at +0x0 for %#x",
			load.outcome, load.outcome.addr, diffDataAddr-0x10)
	}
	if load.out.Mem != in.Mem {
		t.Errorf("the data pages changed")
	}
}
