package amd64

// Differential tests: random instruction streams run on the host CPU (the
// oracle, see native_test.go) and in the interpreter, and the final
// states must agree.
//
// Every test draws its cases from a seeded generator. The seed is fixed
// so that a plain go test is reproducible; AMD64_DIFF_SEED=N runs with
// seed N and AMD64_DIFF_SEED=random with a fresh one (printed), and
// AMD64_DIFF_SCALE=F multiplies the number of cases. For debugging,
// AMD64_DIFF_CASE=N runs only case N of the seed's sequence and
// AMD64_DIFF_SHOW=SIGSEGV (or another outcome's name: completed, SIGFPE,
// SIGILL, ...) prints the first cases that end that way on the host.
//
// The generator tracks which arithmetic flags the code has left
// undefined (the SDM's "undefined" entries: AF after logic operations,
// SF/ZF/AF/PF after multiplications, ...). Those are not compared at the
// end, and an instruction that reads flags gets a flag-defining
// instruction in front of it when it would read an undefined one.

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/arch/x86/x86asm"
)

const (
	diffSeedEnv  = "AMD64_DIFF_SEED"
	diffScaleEnv = "AMD64_DIFF_SCALE"
	diffCaseEnv  = "AMD64_DIFF_CASE"
	diffShowEnv  = "AMD64_DIFF_SHOW"
	// diffDefaultSeed makes plain test runs reproducible.
	diffDefaultSeed = 20260101
	// diffMXCSRStatus are MXCSR's six exception flags, which the
	// interpreter does not compute.
	diffMXCSRStatus = 0x3f
	// diffMaxReported bounds the failures printed per test.
	diffMaxReported = 8
)

// diffSeed returns the base seed of the differential tests.
func diffSeed(t *testing.T) uint64 {
	s := os.Getenv(diffSeedEnv)
	switch s {
	case "":
		return diffDefaultSeed
	case "random":
		return uint64(time.Now().UnixNano())
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", diffSeedEnv, s, err)
	}
	return v
}

// diffCount scales a test's number of cases by AMD64_DIFF_SCALE.
func diffCount(t *testing.T, n int) int {
	if s := os.Getenv(diffScaleEnv); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 {
			t.Fatalf("%s=%q: want a positive number", diffScaleEnv, s)
		}
		n = max(1, int(float64(n)*f))
	}
	if testing.Short() {
		n = max(1, n/4)
	}
	return n
}

// diffCase is one generated case.
type diffCase struct {
	code []byte
	in   machineState
	// flagMask are the RFLAGS bits compared: diffComparedFlags without
	// the flags the code leaves undefined.
	flagMask uint64
	// showXMM prints the input XMM registers in failure reports.
	showXMM bool
}

// runDiff generates n cases with build, runs them on both sides and
// reports the differences.
func runDiff(t *testing.T, n int, build func(g *gen)) {
	t.Helper()
	r := requireNativeRunner(t)
	seed := diffSeed(t)
	n = diffCount(t, n)
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	rng := rand.New(rand.NewPCG(seed, h.Sum64()))
	t.Logf("%d cases, seed %d (%s=%d reproduces them)", n, seed, diffSeedEnv, seed)
	only := -1
	if s := os.Getenv(diffCaseEnv); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v >= n {
			t.Fatalf("%s=%q: want a case number below %d", diffCaseEnv, s, n)
		}
		only = v
	}
	show := os.Getenv(diffShowEnv)

	const chunk = 256
	failed, reported := 0, 0
	var kinds [outOther + 1]int
	for start := 0; start < n; start += chunk {
		var cases []*diffCase
		var index []int // case numbers in the seed's sequence
		for i := start; i < min(start+chunk, n); i++ {
			g := newGen(rng)
			build(g)
			c := g.finish()
			if only < 0 || i == only {
				cases = append(cases, c)
				index = append(index, i)
			}
		}
		if len(cases) == 0 {
			continue
		}
		if only >= 0 {
			c := cases[0]
			t.Logf("case %d:\n%s%s", only, disasm(c.code), stateString(&c.in, c.showXMM))
		}
		nc := make([]nativeCase, len(cases))
		for i, c := range cases {
			nc[i] = nativeCase{code: c.code, in: &c.in}
		}
		type emuResult struct {
			out machineState
			o   outcome
		}
		emu := make([]emuResult, len(cases))
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(cases); i += workers {
					emu[i].out, emu[i].o = runEmulator(cases[i].code, &cases[i].in)
				}
			}()
		}
		native, err := r.run(nc)
		wg.Wait()
		if err != nil {
			// The runner died: show the case it was running.
			var k int
			if _, e := fmt.Sscanf(err.Error(), "reading the result of case %d", &k); e == nil && k < len(cases) {
				c := cases[k]
				t.Fatalf("%v\ncase %d of seed %d:\n%s%s", err, index[k], seed, disasm(c.code), stateString(&c.in, c.showXMM))
			}
			t.Fatal(err)
		}
		for i, c := range cases {
			kind := native[i].outcome.kind
			kinds[kind]++
			if show == kind.String() && kinds[kind] <= diffMaxReported {
				t.Logf("case %d: %v\n%s%s", index[i], native[i].outcome, disasm(c.code), stateString(&c.in, c.showXMM))
			}
			msg := compareDiffCase(c, &native[i], &emu[i].out, emu[i].o)
			if msg == "" {
				continue
			}
			failed++
			if reported < diffMaxReported {
				reported++
				t.Errorf("case %d of seed %d:\n%s", index[i], seed, msg)
			}
		}
	}
	var counts []string
	for k, c := range kinds {
		if c > 0 {
			counts = append(counts, fmt.Sprintf("%v %d", outcomeKind(k), c))
		}
	}
	t.Logf("native outcomes: %s", strings.Join(counts, ", "))
	if failed > 0 {
		t.Errorf("%d of %d cases differ (seed %d)", failed, n, seed)
	}
}

// compareDiffCase returns a report of how the two sides differ, or "".
func compareDiffCase(c *diffCase, native *nativeResult, emu *machineState, eo outcome) string {
	var d []string
	if !sameOutcome(native.outcome, eo) {
		d = append(d, fmt.Sprintf("outcome: native %v  emulator %v", native.outcome, eo))
	} else if eo.kind != outHang {
		n, e := native.out, *emu
		n.MXCSR &^= diffMXCSRStatus
		e.MXCSR &^= diffMXCSRStatus
		d = append(d, diffStates(&c.in, &n, &e, c.flagMask)...)
	}
	if len(d) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("code:\n")
	b.WriteString(disasm(c.code))
	b.WriteString("input:\n")
	b.WriteString(stateString(&c.in, c.showXMM))
	fmt.Fprintf(&b, "compared flags: %s\n", flagNames(c.flagMask))
	b.WriteString("differences:\n  ")
	b.WriteString(strings.Join(d, "\n  "))
	return b.String()
}

// disasm lists code one instruction a line with its bytes.
func disasm(code []byte) string {
	var b strings.Builder
	for pc := 0; pc < len(code); {
		inst, err := x86asm.Decode(code[pc:], 64)
		n := inst.Len
		text := ""
		if err != nil || n == 0 {
			// x86asm does not know some encodings (sal, test /1): take
			// the length from the interpreter's decoder.
			n = 1
			if in, ok := decode(code[pc:min(len(code), pc+maxInstLen)], uint64(pc)); ok && in.op != opIllegal {
				n = int(in.len)
			}
			text = fmt.Sprintf("(x86asm: %v)", err)
		} else {
			text = x86asm.IntelSyntax(inst, diffCodeAddr+uint64(pc), nil)
		}
		fmt.Fprintf(&b, "  +%#04x  %-30x %s\n", pc, code[pc:pc+n], text)
		pc += n
	}
	return b.String()
}

// stateString prints the registers of a state.
func stateString(s *machineState, xmm bool) string {
	var b strings.Builder
	for i, v := range s.GPR {
		fmt.Fprintf(&b, "  %-4s %#016x", gprName(i), v)
		if i%4 == 3 {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "  flags %s  mxcsr %#x\n", flagNames(s.RFLAGS&diffComparedFlags), s.MXCSR)
	if xmm {
		for i, x := range s.XMM {
			fmt.Fprintf(&b, "  xmm%-2d %s", i, xmmString(x))
			if i%2 == 1 {
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

// ---------------------------------------------------------------------
// Encoding.

// ripBaseReg is memOp.base for a rip-relative operand.
const ripBaseReg = 16

// memOp is a memory operand. For a rip-relative operand disp is the
// absolute target; the encoder makes it relative.
type memOp struct {
	base, index int // register numbers, -1 for none
	scale       uint8
	disp        int64
	addr32      bool // 0x67: 32-bit address size
	disp32      bool // encode the displacement in 32 bits even if it fits 8
	sib         bool // encode a SIB byte even when none is needed
}

// operand is the r/m operand of an instruction.
type operand struct {
	isMem bool
	reg   int
	m     memOp
}

func regOp(r int) operand { return operand{reg: r} }

// ins is one instruction to encode.
type ins struct {
	pfx []byte // legacy prefixes
	w   bool   // REX.W
	rex bool   // emit a REX prefix even without bits (spl..dil, tests)
	// noREX: byte registers 4-7 are ah..bh; encoding a REX is an error.
	noREX bool
	op    []byte
	// opReg is added to the last opcode byte (and REX.B) for the forms
	// that name a register there; it is 0 (rax, adding nothing) for the
	// others.
	opReg int
	// modrm says the instruction has a ModRM byte: reg is its reg field
	// (0-15, REX.R) and rm the r/m operand.
	modrm bool
	reg   int
	rm    operand
	imm   []byte
}

func imm8(v int64) []byte  { return []byte{byte(v)} }
func imm16(v int64) []byte { return []byte{byte(v), byte(v >> 8)} }
func imm32(v int64) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
func imm64(v uint64) []byte {
	b := make([]byte, 8)
	le.PutUint64(b, v)
	return b
}

// encode returns the bytes of i placed at address pc.
func (i *ins) encode(pc uint64) []byte {
	var rex byte
	if i.w {
		rex |= 8
	}
	var tail []byte // ModRM, SIB, displacement
	ripDisp := -1   // offset in tail of a rip-relative displacement
	if i.modrm {
		rex |= byte(i.reg>>3&1) << 2
		reg := byte(i.reg & 7)
		if !i.rm.isMem {
			rex |= byte(i.rm.reg >> 3 & 1)
			tail = append(tail, 0xc0|reg<<3|byte(i.rm.reg&7))
		} else {
			m := i.rm.m
			var mod byte
			var dispBytes int
			switch {
			case m.base == ripBaseReg:
				tail = append(tail, reg<<3|5)
				ripDisp = len(tail)
				tail = append(tail, 0, 0, 0, 0)
			case m.base < 0:
				// No base: SIB with base 5 and mod 0, disp32.
				idx := byte(4)
				if m.index >= 0 {
					idx = byte(m.index & 7)
					rex |= byte(m.index>>3&1) << 1
				}
				tail = append(tail, reg<<3|4, m.scale<<6|idx<<3|5)
				tail = append(tail, imm32(m.disp)...)
			default:
				switch {
				case m.disp == 0 && !m.disp32 && m.base&7 != 5:
					mod = 0
				case m.disp >= -128 && m.disp <= 127 && !m.disp32:
					mod, dispBytes = 1, 1
				default:
					mod, dispBytes = 2, 4
				}
				rex |= byte(m.base >> 3 & 1)
				if m.index >= 0 || m.sib || m.base&7 == 4 {
					idx := byte(4)
					if m.index >= 0 {
						idx = byte(m.index & 7)
						rex |= byte(m.index>>3&1) << 1
					}
					tail = append(tail, mod<<6|reg<<3|4, m.scale<<6|idx<<3|byte(m.base&7))
				} else {
					tail = append(tail, mod<<6|reg<<3|byte(m.base&7))
				}
				if dispBytes == 1 {
					tail = append(tail, byte(m.disp))
				} else if dispBytes == 4 {
					tail = append(tail, imm32(m.disp)...)
				}
			}
		}
	}
	op := append([]byte(nil), i.op...)
	op[len(op)-1] += byte(i.opReg & 7)
	rex |= byte(i.opReg >> 3 & 1)
	var b []byte
	b = append(b, i.pfx...)
	if i.modrm && i.rm.isMem && i.rm.m.addr32 {
		b = append(b, 0x67)
	}
	if rex != 0 || i.rex {
		if i.noREX {
			panic(fmt.Sprintf("instruction %x needs a REX prefix and uses ah..bh", i.op))
		}
		b = append(b, 0x40|rex)
	}
	b = append(b, op...)
	start := len(b)
	b = append(b, tail...)
	b = append(b, i.imm...)
	if ripDisp >= 0 {
		next := pc + uint64(len(b))
		d := int64(uint64(i.rm.m.disp) - next)
		if d != int64(int32(d)) {
			panic("rip-relative target out of range")
		}
		copy(b[start+ripDisp:], imm32(d))
	}
	return b
}

// ---------------------------------------------------------------------
// Generation.

// gen builds one case: its code and input state, and what the code
// leaves undefined.
type gen struct {
	r    *rand.Rand
	code []byte
	in   *machineState
	// undef are the arithmetic flags the code so far leaves undefined.
	undef uint64
	// fixed are the registers the code must not write (bit per
	// register): rbx, rsp and the pointer registers.
	fixed uint32
	// known marks registers whose value is known at this point of the
	// code (regVal holds it): the base and index registers of memory
	// operands.
	known  uint32
	regVal [16]uint64
	// memLo and memHi bound the addresses generated memory operands
	// access.
	memLo, memHi uint64
	// noRSPBase keeps rsp out of memory operands (pop computes its
	// destination's address with the incremented rsp).
	noRSPBase bool
	showXMM   bool

	labels []int // code offset of each label, -1 while unbound
	fixups []fixup
}

// fixup patches a reference to a label once the code is complete.
type fixup struct {
	at, size int // where the field is and its size (1 or 4)
	label    int
	abs      bool // an absolute 32-bit address instead of a displacement
}

func newGen(r *rand.Rand) *gen {
	g := &gen{r: r, in: new(machineState), memLo: diffDataAddr, memHi: diffDataAddr + diffDataSize}
	s := g.in
	for i := range s.GPR {
		s.GPR[i] = g.val(8)
	}
	s.GPR[RBX], s.GPR[RSP] = diffRBX, diffRSP
	s.RFLAGS = r.Uint64() & diffComparedFlags
	for i := range s.XMM {
		s.XMM[i] = [2]uint64{g.val(8), g.val(8)}
	}
	s.MXCSR = 0x1f80
	for i := 0; i < len(s.Mem); i += 8 {
		le.PutUint64(s.Mem[i:], r.Uint64())
	}
	g.fixed = 1<<RBX | 1<<RSP
	g.known = 1<<RBX | 1<<RSP
	g.regVal[RBX], g.regVal[RSP] = diffRBX, diffRSP
	return g
}

// finish resolves the labels and returns the case.
func (g *gen) finish() *diffCase {
	for _, f := range g.fixups {
		target := g.labels[f.label]
		if target < 0 {
			panic("unbound label")
		}
		switch {
		case f.abs:
			copy(g.code[f.at:], imm32(int64(diffCodeAddr+target)))
		case f.size == 1:
			d := target - (f.at + 1)
			if d != int(int8(d)) {
				panic(fmt.Sprintf("rel8 jump of %d bytes", d))
			}
			g.code[f.at] = byte(d)
		default:
			copy(g.code[f.at:], imm32(int64(target-(f.at+4))))
		}
	}
	if len(g.code) > diffMaxCodeLen {
		panic("case code too long")
	}
	return &diffCase{code: g.code, in: *g.in, flagMask: diffComparedFlags &^ g.undef, showXMM: g.showXMM}
}

// emit appends an instruction.
func (g *gen) emit(i ins) {
	if i.modrm && i.rm.isMem && g.chance(24) {
		// A segment override that changes nothing (base 0 in 64-bit
		// mode).
		i.pfx = append([]byte{byte(g.pick(0x26, 0x2e, 0x36, 0x3e))}, i.pfx...)
	}
	g.code = append(g.code, i.encode(diffCodeAddr+uint64(len(g.code)))...)
}

// raw appends bytes.
func (g *gen) raw(b ...byte) { g.code = append(g.code, b...) }

func (g *gen) newLabel() int {
	g.labels = append(g.labels, -1)
	return len(g.labels) - 1
}

func (g *gen) bind(l int) { g.labels[l] = len(g.code) }

// ref appends a size-byte reference to label l.
func (g *gen) ref(l, size int, abs bool) {
	g.fixups = append(g.fixups, fixup{at: len(g.code), size: size, label: l, abs: abs})
	g.code = append(g.code, make([]byte, size)...)
}

func (g *gen) intn(n int) int             { return g.r.IntN(n) }
func (g *gen) chance(n int) bool          { return g.r.IntN(n) == 0 }
func (g *gen) pick(v ...int) int          { return v[g.r.IntN(len(v))] }
func (g *gen) setFlags(def, undef uint64) { g.undef = g.undef&^def | undef }

// val returns a random size-byte value biased to edge cases.
func (g *gen) val(size int) uint64 {
	m := sizeMask(uint8(size))
	sign := signBit(uint8(size))
	var v uint64
	switch g.intn(16) {
	case 0:
		v = 0
	case 1:
		v = 1
	case 2:
		v = m
	case 3:
		v = sign
	case 4:
		v = sign - 1
	case 5:
		v = sign + uint64(g.intn(3))
	case 6:
		v = uint64(g.intn(256))
	case 7:
		v = -uint64(g.intn(256))
	case 8:
		v = 1 << g.intn(size*8)
	case 9:
		// A value of another width, to exercise sign and zero extension.
		v = []uint64{0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff}[g.intn(9)]
	default:
		v = g.r.Uint64()
	}
	return v & m
}

// sval returns a random size-byte value sign-extended to 64 bits.
func (g *gen) sval(size int) uint64 { return signExtend(g.val(size), uint8(size)) }

// size returns a random operand size: 1, 2, 4 or 8.
func (g *gen) size() int { return g.pick(1, 2, 4, 8) }

// sizePfx sets the operand-size encoding of i: 66 for 16 bits, REX.W
// for 64 (sometimes with a 66 that REX.W overrides).
func (g *gen) sizePfx(i *ins, size int) {
	switch size {
	case 2:
		i.pfx = append(i.pfx, 0x66)
	case 8:
		i.w = true
		if g.chance(16) {
			i.pfx = append(i.pfx, 0x66)
		}
	}
}

// byteMode picks how an instruction with byte registers is encoded:
// true with a REX prefix (spl..dil, r8b..), false without (ah..bh).
func (g *gen) byteMode(size int) bool {
	if size != 1 {
		return g.chance(8)
	}
	return g.chance(2)
}

// phys returns the 64-bit register that register n of the given size
// and REX mode is part of.
func phys(n, size int, rex bool) int {
	if size == 1 && !rex && n >= 4 && n < 8 {
		return n - 4
	}
	return n
}

// srcReg picks a register to read.
func (g *gen) srcReg(size int, rex bool) int {
	if size == 1 && !rex {
		return g.intn(8)
	}
	return g.intn(16)
}

// dstReg picks a register that may be written.
func (g *gen) dstReg(size int, rex bool) int {
	for {
		n := g.srcReg(size, rex)
		if g.fixed&(1<<phys(n, size, rex)) == 0 {
			return n
		}
	}
}

// addPtrs makes n registers (not in exclude) pointer registers with
// known values for memory operands: one with an address in the data
// area, the others with small signed values (index registers).
func (g *gen) addPtrs(n int, exclude uint32) {
	cands := []int{RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15}
	for k := 0; k < n; {
		reg := cands[g.intn(len(cands))]
		if (g.fixed|exclude)&(1<<reg) != 0 {
			continue
		}
		v := uint64(diffDataAddr + g.intn(diffDataSize))
		if k > 0 {
			v = uint64(int64(g.intn(0x801) - 0x400))
		}
		g.in.GPR[reg] = v
		g.regVal[reg] = v
		g.fixed |= 1 << reg
		g.known |= 1 << reg
		k++
	}
}

// target returns an address for a size-byte access in [memLo, memHi),
// aligned to align.
func (g *gen) target(size, align int) uint64 {
	lo := (g.memLo + uint64(align) - 1) &^ uint64(align-1)
	n := (g.memHi - uint64(size) - lo) / uint64(align)
	if align < size && g.chance(32) {
		// Straddle the boundary of the two data pages.
		if a := uint64(diffDataAddr+PageSize-size+1+g.intn(size-1)) &^ uint64(align-1); a >= lo && a+uint64(size) <= g.memHi {
			return a
		}
	}
	return lo + uint64(g.r.Uint64N(n+1))*uint64(align)
}

// faultingAccess ends a case with a load or store (an integer mov, an
// ALU operation or an SSE move) that straddles the start or the end of
// the data area: it must fault without any effect.
func (g *gen) faultingAccess() {
	size := g.pick(2, 4, 8, 16)
	a := uint64(diffDataAddr + diffDataSize - size + 1 + g.intn(size-1)) // into the guard page above
	if g.chance(2) {
		a = uint64(diffDataAddr - 1 - g.intn(size-1)) // from the guard page below
	}
	g.noRSPBase = true // pop's address uses the incremented rsp
	m := g.memAt(a)
	g.noRSPBase = false
	rex := true
	var i ins
	switch {
	case size == 16:
		op := []byte{0x6f, 0x7f}[g.intn(2)]
		i = sseIns(0xf3, op, g.intn(16), m) // movdqu
	case g.chance(4): // cmovcc (faults whatever the condition), push, pop
		switch g.intn(3) {
		case 0:
			i = g.newIns(size, rex, 0x0f, 0x40+byte(g.intn(16)))
			i.modrm, i.rm, i.reg = true, m, g.dstReg(size, rex)
		case 1:
			i = ins{op: []byte{0xff}, modrm: true, rm: m, reg: 6}
		default:
			i = ins{op: []byte{0x8f}, modrm: true, rm: m}
		}
		if size == 2 && i.op[0] != 0x0f {
			i.pfx = []byte{0x66}
		}
	case g.chance(2):
		i = g.newIns(size, rex, byte(g.pick(0x89, 0x8b, 0x01, 0x87)))
		i.modrm, i.rm, i.reg = true, m, g.dstReg(size, rex)
	default:
		i = g.newIns(size, rex, 0xc7)
		i.modrm, i.rm, i.imm = true, m, immZ(size, g.immVal(min(size, 4)))
	}
	g.emit(i)
	g.setFlags(0, diffArithFlags) // add's flags, if it ran, are not compared
}

// knownRegs lists the registers with known values usable in addresses.
func (g *gen) knownRegs(index bool) []int {
	var l []int
	for i := 0; i < 16; i++ {
		if g.known&(1<<i) == 0 || i == RSP && (index || g.noRSPBase) {
			continue
		}
		l = append(l, i)
	}
	return l
}

// mem returns a memory operand for a size-byte access aligned to align.
func (g *gen) mem(size, align int) operand {
	return g.memAt(g.target(size, align))
}

// memAt returns a memory operand with effective address target, in one
// of the addressing forms.
func (g *gen) memAt(target uint64) operand {
	m := memOp{base: RBX, index: -1}
	bases := g.knownRegs(false)
	idxs := g.knownRegs(true)
	var sum uint64
	switch f := g.intn(16); {
	case f < 5:
		m.base = bases[g.intn(len(bases))]
		sum = g.regVal[m.base]
	case f < 10:
		m.base = bases[g.intn(len(bases))]
		m.index = idxs[g.intn(len(idxs))]
		m.scale = uint8(g.intn(4))
		sum = g.regVal[m.base] + g.regVal[m.index]<<m.scale
	case f < 12:
		m.base = -1
		if g.chance(2) {
			m.index = idxs[g.intn(len(idxs))]
			m.scale = uint8(g.intn(4))
			sum = g.regVal[m.index] << m.scale
		}
	case f < 14:
		m.base = ripBaseReg
		m.disp = int64(target)
		return operand{isMem: true, m: m}
	default:
		m.addr32 = true
		m.base = bases[g.intn(len(bases))]
		sum = g.regVal[m.base]
		if g.chance(2) {
			m.index = idxs[g.intn(len(idxs))]
			m.scale = uint8(g.intn(4))
			sum += g.regVal[m.index] << m.scale
		}
	}
	d := int64(target - sum)
	if m.addr32 {
		d = int64(int32(uint32(d)))
	}
	if d != int64(int32(d)) {
		m = memOp{base: RBX, index: -1}
		d = int64(target - diffRBX)
	}
	m.disp = d
	m.disp32 = g.chance(8)
	m.sib = g.chance(8)
	return operand{isMem: true, m: m}
}

// needsREX reports whether an r/m operand needs a REX prefix.
func needsREX(o operand) bool {
	if o.isMem {
		return o.m.base >= 8 && o.m.base < 16 || o.m.index >= 8
	}
	return o.reg >= 8
}

// rm picks the r/m operand of an instruction with size-byte operands: a
// register (one that may be written when write is set) or, one time in
// memOdds, memory. A memory operand that needs REX sets *rex.
func (g *gen) rm(size int, rex *bool, write bool, memOdds int) operand {
	if memOdds > 0 && g.chance(memOdds) {
		o := g.mem(size, g.pick(1, 1, size))
		if needsREX(o) {
			*rex = true
		}
		return o
	}
	if write {
		return regOp(g.dstReg(size, *rex))
	}
	return regOp(g.srcReg(size, *rex))
}

// newIns starts an instruction with size-byte operands.
func (g *gen) newIns(size int, rex bool, op ...byte) ins {
	i := ins{op: op, rex: rex, noREX: size == 1 && !rex}
	g.sizePfx(&i, size)
	return i
}

// Flag sets of the condition codes (the low nibble of jcc, setcc and
// cmovcc).
var condFlags = [8]uint64{FlagOF, FlagCF, FlagZF, FlagCF | FlagZF, FlagSF, FlagPF, FlagSF | FlagOF, FlagZF | FlagSF | FlagOF}

// need makes sure the flags in f are defined before an instruction reads
// them, emitting a compare that defines all of them if not.
func (g *gen) need(f uint64) {
	if g.undef&f != 0 {
		g.emit(ins{op: []byte{0x39}, w: g.chance(2), modrm: true, reg: g.srcReg(8, true), rm: regOp(g.srcReg(8, true))})
		g.undef = 0
	}
}

// immZ encodes an Iz immediate: 16 bits for 16-bit operands, else 32.
func immZ(size int, v uint64) []byte {
	if size == 2 {
		return imm16(int64(v))
	}
	return imm32(int64(v))
}

// immVal returns an immediate for size-byte operands as the CPU
// sign-extends it from bytes bytes.
func (g *gen) immVal(bytes int) uint64 { return g.sval(bytes) }

// movImm emits a mov of v to register n (size bytes, REX mode rex).
func (g *gen) movImm(n, size int, rex bool, v uint64) {
	switch {
	case size == 1:
		i := g.newIns(1, rex, 0xb0)
		i.opReg, i.imm = n, imm8(int64(v))
		g.emit(i)
	case size == 8 && int64(v) == int64(int32(v)) && g.chance(2):
		i := g.newIns(8, rex, 0xc7)
		i.modrm, i.rm, i.imm = true, regOp(n), imm32(int64(v))
		g.emit(i)
	default:
		i := g.newIns(size, rex, 0xb8)
		i.opReg = n
		switch size {
		case 2:
			i.imm = imm16(int64(v))
		case 4:
			i.imm = imm32(int64(v))
		default:
			i.imm = imm64(v)
		}
		g.emit(i)
	}
}

// aluOp emits one of add, or, adc, sbb, and, sub, xor, cmp (sub picks
// it; -1 for a random one) in a random form. lock makes the destination
// memory, aligned, and adds the lock prefix.
func (g *gen) aluOp(sub int, lock bool) {
	if sub < 0 {
		sub = g.intn(8)
	}
	size := g.size()
	rex := g.byteMode(size)
	if sub == 2 || sub == 3 {
		g.need(FlagCF)
	}
	write := sub != 7
	b := byte(sub * 8)
	if size != 1 {
		b |= 1
	}
	form := g.intn(6)
	if lock {
		form = g.pick(0, 3)
	}
	var i ins
	switch form {
	case 0: // r/m op= reg
		var dst operand
		if lock {
			dst = g.mem(size, size)
			rex = rex || needsREX(dst)
		} else {
			dst = g.rm(size, &rex, write, 3)
		}
		i = g.newIns(size, rex, b)
		i.modrm, i.rm, i.reg = true, dst, g.srcReg(size, rex)
	case 1: // reg op= r/m
		src := g.rm(size, &rex, false, 3)
		i = g.newIns(size, rex, b|2)
		i.modrm, i.rm = true, src
		if write {
			i.reg = g.dstReg(size, rex)
		} else {
			i.reg = g.srcReg(size, rex)
		}
	case 2: // al/ax/eax/rax op= imm
		i = g.newIns(size, rex, b&^1|4|b&1)
		if size == 1 {
			i.imm = imm8(int64(g.val(1)))
		} else {
			i.imm = immZ(size, g.immVal(min(size, 4)))
		}
	default: // 80, 81, 83 /sub
		var dst operand
		if lock {
			dst = g.mem(size, size)
			rex = rex || needsREX(dst)
		} else {
			dst = g.rm(size, &rex, write, 3)
		}
		switch {
		case size == 1:
			i = g.newIns(size, rex, 0x80)
			i.imm = imm8(int64(g.val(1)))
		case g.chance(2):
			i = g.newIns(size, rex, 0x83)
			i.imm = imm8(int64(g.val(1)))
		default:
			i = g.newIns(size, rex, 0x81)
			i.imm = immZ(size, g.immVal(min(size, 4)))
		}
		i.modrm, i.rm, i.reg = true, dst, sub
	}
	if lock {
		i.pfx = append([]byte{0xf0}, i.pfx...)
	}
	g.emit(i)
	switch sub {
	case 1, 4, 6: // or, and, xor: AF is undefined
		g.setFlags(diffArithFlags, FlagAF)
	default:
		g.setFlags(diffArithFlags, 0)
	}
}

// unaryOp emits inc, dec, not, neg or test. lock as for aluOp (test
// takes no lock).
func (g *gen) unaryOp(lock bool) {
	size := g.size()
	rex := g.byteMode(size)
	grp := byte(0xf6) // not, neg, test
	if size != 1 {
		grp |= 1
	}
	kind := g.intn(6)
	if lock {
		kind = g.intn(4)
	}
	var dst operand
	if lock {
		dst = g.mem(size, size)
		rex = rex || needsREX(dst)
	} else {
		dst = g.rm(size, &rex, kind < 4, 3)
	}
	var i ins
	switch kind {
	case 0, 1: // inc, dec
		i = g.newIns(size, rex, grp+8)
		i.modrm, i.rm, i.reg = true, dst, kind
		g.setFlags(diffArithFlags&^FlagCF, 0)
	case 2, 3: // not, neg
		i = g.newIns(size, rex, grp)
		i.modrm, i.rm, i.reg = true, dst, kind
		if kind == 3 {
			g.setFlags(diffArithFlags, 0)
		}
	case 4: // test r/m, imm (F6/F7 /0, sometimes the /1 alias)
		i = g.newIns(size, rex, grp)
		i.modrm, i.rm, i.reg = true, dst, 0
		if g.chance(8) {
			i.reg = 1
		}
		if size == 1 {
			i.imm = imm8(int64(g.val(1)))
		} else {
			i.imm = immZ(size, g.immVal(min(size, 4)))
		}
		g.setFlags(diffArithFlags, FlagAF)
	case 5: // test r/m, reg or test al/ax/eax/rax, imm
		if g.chance(3) {
			i = g.newIns(size, rex, 0xa8|grp&1)
			if size == 1 {
				i.imm = imm8(int64(g.val(1)))
			} else {
				i.imm = immZ(size, g.immVal(min(size, 4)))
			}
		} else {
			i = g.newIns(size, rex, 0x84|grp&1)
			i.modrm, i.rm, i.reg = true, dst, g.srcReg(size, rex)
		}
		g.setFlags(diffArithFlags, FlagAF)
	}
	if lock {
		i.pfx = append([]byte{0xf0}, i.pfx...)
	}
	g.emit(i)
}

func TestDiffALU(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.addPtrs(2, 0)
		for n := 2 + g.intn(5); n > 0; n-- {
			if g.chance(4) {
				g.unaryOp(false)
			} else {
				g.aluOp(-1, false)
			}
		}
		if g.chance(30) {
			g.faultingAccess()
		}
	})
}

// shiftCount returns a count for a size-byte shift, biased to the
// boundaries of the masking.
func (g *gen) shiftCount(size int) uint64 {
	w := size * 8
	if g.chance(4) {
		return uint64(g.intn(256))
	}
	return uint64(g.pick(0, 1, 1, 2, 3, w-1, w, w+1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255))
}

// setCL loads a shift count into cl (or ecx).
func (g *gen) setCL(cnt uint64) {
	if g.chance(2) {
		g.raw(0xb1, byte(cnt))
	} else {
		g.raw(0xb9)
		g.raw(imm32(int64(cnt))...)
	}
}

// shiftOp emits rol, ror, rcl, rcr, shl, shr, sal or sar by 1, an
// immediate or cl.
func (g *gen) shiftOp() {
	kind := g.intn(8)
	size := g.size()
	rex := g.byteMode(size)
	if kind == 2 || kind == 3 {
		g.need(FlagCF)
	}
	var cnt uint64
	form := g.intn(3)
	switch form {
	case 0:
		cnt = 1
	default:
		cnt = g.shiftCount(size)
	}
	if form == 2 {
		g.setCL(cnt)
	}
	dst := g.rm(size, &rex, true, 3)
	op := [3]byte{0xd0, 0xc0, 0xd2}[form]
	if size != 1 {
		op |= 1
	}
	i := g.newIns(size, rex, op)
	i.modrm, i.rm, i.reg = true, dst, kind
	if form == 1 {
		i.imm = imm8(int64(cnt))
	}
	g.emit(i)

	w := uint64(size * 8)
	mc := cnt & 31
	if size == 8 {
		mc = cnt & 63
	}
	if mc == 0 {
		return // no flag changes
	}
	// OF is defined for 1-bit shifts and rotates only.
	var of uint64
	if mc != 1 {
		of = FlagOF
	}
	switch kind {
	case 0, 1, 2, 3: // rotates: CF and OF
		g.setFlags(FlagCF|FlagOF, of)
	case 7: // sar
		g.setFlags(diffArithFlags, FlagAF|of)
	default: // shl, shr, sal: CF is undefined for counts >= the width
		cf := uint64(0)
		if mc >= w {
			cf = FlagCF
		}
		g.setFlags(diffArithFlags, FlagAF|of|cf)
	}
}

// doubleShiftOp emits shld or shrd by an immediate or cl.
func (g *gen) doubleShiftOp() {
	size := g.pick(2, 4, 8)
	rex := g.byteMode(size)
	var cnt uint64
	for {
		cnt = g.shiftCount(size)
		// A 16-bit shift by 17-31 leaves the result undefined.
		if size != 2 || cnt&31 <= 16 {
			break
		}
	}
	byCL := g.chance(2)
	if byCL {
		g.setCL(cnt)
	}
	dst := g.rm(size, &rex, true, 3)
	op := byte(0xa4)
	if g.chance(2) {
		op = 0xac
	}
	if byCL {
		op++
	}
	i := g.newIns(size, rex, 0x0f, op)
	i.modrm, i.rm, i.reg = true, dst, g.srcReg(size, rex)
	if !byCL {
		i.imm = imm8(int64(cnt))
	}
	g.emit(i)
	mc := cnt & 31
	if size == 8 {
		mc = cnt & 63
	}
	switch {
	case mc == 0:
	case mc == 1:
		g.setFlags(diffArithFlags, FlagAF)
	default:
		g.setFlags(diffArithFlags, FlagAF|FlagOF)
	}
}

func TestDiffShifts(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.addPtrs(2, 1<<RCX)
		for n := 2 + g.intn(5); n > 0; n-- {
			switch g.intn(8) {
			case 0, 1:
				g.doubleShiftOp()
			case 2:
				g.aluOp(g.pick(0, 2, 3, 5), false)
			default:
				g.shiftOp()
			}
		}
	})
}

// mulOp emits mul, or imul in its one-, two- or three-operand form.
func (g *gen) mulOp() {
	size := g.size()
	rex := g.byteMode(size)
	kind := g.intn(4)
	if size == 1 && kind >= 2 {
		kind -= 2
	}
	var i ins
	switch kind {
	case 0, 1: // mul, imul r/m: rdx:rax = rax * r/m
		src := g.rm(size, &rex, false, 3)
		op := byte(0xf6)
		if size != 1 {
			op = 0xf7
		}
		i = g.newIns(size, rex, op)
		i.modrm, i.rm, i.reg = true, src, 4+kind
	case 2: // imul reg, r/m
		src := g.rm(size, &rex, false, 3)
		i = g.newIns(size, rex, 0x0f, 0xaf)
		i.modrm, i.rm, i.reg = true, src, g.dstReg(size, rex)
	case 3: // imul reg, r/m, imm
		src := g.rm(size, &rex, false, 3)
		if g.chance(2) {
			i = g.newIns(size, rex, 0x6b)
			i.imm = imm8(int64(g.val(1)))
		} else {
			i = g.newIns(size, rex, 0x69)
			i.imm = immZ(size, g.immVal(min(size, 4)))
		}
		i.modrm, i.rm, i.reg = true, src, g.dstReg(size, rex)
	}
	g.emit(i)
	g.setFlags(FlagCF|FlagOF, FlagSF|FlagZF|FlagAF|FlagPF)
}

// quotientFits reports whether the signed division of the 2*size-byte
// hi:lo by d has a quotient that fits in size bytes (d != 0).
func quotientFits(hi, lo, d uint64, size int) bool {
	bitsN := uint(size * 8)
	n := new(big.Int).Lsh(big.NewInt(int64(signExtend(hi, uint8(size)))), bitsN)
	n.Add(n, new(big.Int).SetUint64(lo&sizeMask(uint8(size))))
	q := n.Quo(n, big.NewInt(int64(signExtend(d, uint8(size)))))
	lim := new(big.Int).Lsh(big.NewInt(1), bitsN-1)
	return q.Cmp(lim) < 0 && q.Cmp(lim.Neg(lim)) >= 0
}

// divOp emits div or idiv with its dividend set up so that the quotient
// fits, or, when fault is set, so that it raises #DE (zero divisor or a
// quotient too wide).
func (g *gen) divOp(fault bool) {
	size := g.size()
	rex := g.byteMode(size)
	signed := g.chance(2)
	m := sizeMask(uint8(size))

	// The divisor: memory (its value is read from the input, which
	// nothing in these cases writes) or a register loaded here.
	var src operand
	var d uint64
	if !fault && g.chance(3) {
		for {
			src = g.mem(size, g.pick(1, size))
			d = g.memValue(src, size)
			if d != 0 {
				break
			}
		}
		rex = rex || needsREX(src)
	} else {
		for {
			n := g.dstReg(size, rex)
			p := phys(n, size, rex)
			if p != RAX && p != RDX {
				src = regOp(n)
				break
			}
		}
		switch {
		case fault && g.chance(3):
			d = 0
		case g.chance(4):
			d = []uint64{1, m, 2, signBit(uint8(size)), m - 1}[g.intn(5)]
		default:
			for d == 0 {
				d = g.val(size)
			}
		}
		g.movImm(src.reg, size, rex, d)
	}

	// The dividend hi:lo (ah:al for bytes).
	var hi, lo uint64
	lo = g.val(size)
	switch {
	case fault && d != 0 && !signed:
		hi = d + uint64(g.intn(4))
		if hi&m < d {
			hi = m
		}
	case fault && d != 0:
		// The most negative dividend by -1, or a wide one.
		if g.chance(2) && size > 1 {
			d = m
			g.movImm(src.reg, size, rex, d)
			hi, lo = m, signBit(uint8(size))
		} else {
			for {
				hi = g.val(size)
				if !quotientFits(hi, lo, d, size) {
					break
				}
				lo = g.val(size)
			}
		}
	case fault:
		hi = g.val(size)
	case !signed:
		switch g.intn(3) {
		case 0:
			hi = 0
		case 1:
			hi = d - 1
		default:
			hi = g.r.Uint64N(d)
		}
	default:
		for tries := 0; ; tries++ {
			hi = signExtend(lo, uint8(size)) >> 63 & m
			if tries < 8 && g.chance(2) {
				hi = g.val(size)
			}
			if quotientFits(hi, lo, d, size) {
				break
			}
			if tries > 16 {
				lo = 0
			}
		}
	}
	hi &= m
	if size == 1 {
		g.movImm(RAX, 2, false, hi<<8|lo)
	} else {
		g.movImm(RAX, size, false, lo)
		if signed && hi == signExtend(lo, uint8(size))>>63&m && g.chance(2) {
			i := g.newIns(size, false, 0x99) // cwd, cdq, cqo
			g.emit(i)
		} else {
			g.movImm(RDX, size, false, hi)
		}
	}
	op := byte(0xf7)
	if size == 1 {
		op = 0xf6
	}
	i := g.newIns(size, rex, op)
	i.modrm, i.rm, i.reg = true, src, 6
	if signed {
		i.reg = 7
	}
	g.emit(i)
	g.setFlags(0, diffArithFlags)
}

// memValue returns the input memory's size-byte value at the address of
// a memory operand generated by mem (before any code ran).
func (g *gen) memValue(o operand, size int) uint64 {
	a := g.effAddr(o.m)
	var b [8]byte
	copy(b[:], g.in.Mem[a-diffDataAddr:])
	return le.Uint64(b[:]) & sizeMask(uint8(size))
}

// effAddr computes a memory operand's address from the known registers.
func (g *gen) effAddr(m memOp) uint64 {
	if m.base == ripBaseReg {
		return uint64(m.disp)
	}
	a := uint64(m.disp)
	if m.base >= 0 {
		a += g.regVal[m.base]
	}
	if m.index >= 0 {
		a += g.regVal[m.index] << m.scale
	}
	if m.addr32 {
		a &= 0xffffffff
	}
	return a
}

func TestDiffMulDiv(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.addPtrs(2, 0)
		for n := 1 + g.intn(4); n > 0; n-- {
			switch g.intn(8) {
			case 0, 1, 2:
				g.mulOp()
			case 3:
				g.aluOp(g.pick(0, 2, 3), false)
			default:
				fault := g.chance(30)
				g.divOp(fault)
				if fault {
					return
				}
			}
		}
	})
}

func TestDiffBitOps(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.addPtrs(2, 0)
		for n := 2 + g.intn(5); n > 0; n-- {
			switch g.intn(12) {
			case 0, 1, 2:
				g.btRegOp()
			case 3, 4:
				g.btImmOp()
			case 5, 6, 7:
				g.bitScanOp()
			case 8:
				g.popcntOp()
			case 9:
				g.bswapOp()
			default:
				g.aluOp(g.pick(0, 2, 3, 7), false)
			}
		}
	})
}

// btRegOp emits bt, bts, btr or btc with a register bit offset; for a
// memory operand the offset (loaded here) may reach below or above the
// operand, within the data area.
func (g *gen) btRegOp() {
	size := g.pick(2, 4, 8)
	rex := g.byteMode(size)
	kind := g.intn(4)
	op := []byte{0xa3, 0xab, 0xb3, 0xbb}[kind]
	var dst operand
	var off int
	if g.chance(2) {
		dst = g.rm(size, &rex, kind != 0, 0)
		off = g.srcReg(size, rex)
	} else {
		// The access is at ea + (offset >> log2(bits)) * size.
		nbits := int64(size * 8)
		a := g.target(size, g.pick(1, size))
		lim := int64(2048) // words a 16-bit offset reaches either way
		if size > 2 {
			lim = diffDataSize
		}
		j := int64(g.intn(int(2*lim))) - lim
		if g.chance(3) {
			j = int64(g.intn(5) - 2)
		}
		k := j*nbits + int64(g.intn(int(nbits)))
		dst = g.memAt(a - uint64(j*int64(size)))
		rex = rex || needsREX(dst)
		off = g.dstReg(size, rex)
		g.movImm(off, size, rex, uint64(k))
	}
	i := g.newIns(size, rex, 0x0f, op)
	i.modrm, i.rm, i.reg = true, dst, off
	g.emit(i)
	g.setFlags(FlagCF, FlagOF|FlagSF|FlagAF|FlagPF)
}

// btImmOp emits bt, bts, btr or btc with an immediate bit offset.
func (g *gen) btImmOp() {
	size := g.pick(2, 4, 8)
	rex := g.byteMode(size)
	kind := g.intn(4)
	dst := g.rm(size, &rex, kind != 0, 2)
	i := g.newIns(size, rex, 0x0f, 0xba)
	i.modrm, i.rm, i.reg = true, dst, 4+kind
	i.imm = imm8(int64(g.intn(256)))
	g.emit(i)
	g.setFlags(FlagCF, FlagOF|FlagSF|FlagAF|FlagPF)
}

// bitScanOp emits bsf or bsr, sometimes of a zero source.
func (g *gen) bitScanOp() {
	size := g.pick(2, 4, 8)
	rex := g.byteMode(size)
	src := g.rm(size, &rex, false, 3)
	if g.chance(3) {
		// A zero source (or one zero in the operand's size only).
		if src.isMem {
			a := g.effAddr(src.m) - diffDataAddr
			for k := 0; k < size; k++ {
				g.in.Mem[a+uint64(k)] = 0
			}
		} else if g.fixed&(1<<src.reg) == 0 {
			v := uint64(0)
			if g.chance(2) {
				v = g.r.Uint64() &^ sizeMask(uint8(size))
			}
			g.movImm(src.reg, 8, rex, v)
		}
	}
	op := byte(0xbc)
	if g.chance(2) {
		op = 0xbd
	}
	i := g.newIns(size, rex, 0x0f, op)
	i.modrm, i.rm, i.reg = true, src, g.dstReg(size, rex)
	g.emit(i)
	g.setFlags(FlagZF, FlagCF|FlagOF|FlagSF|FlagAF|FlagPF)
}

// popcntOp emits popcnt.
func (g *gen) popcntOp() {
	size := g.pick(2, 4, 8)
	rex := g.byteMode(size)
	src := g.rm(size, &rex, false, 3)
	i := g.newIns(size, rex, 0x0f, 0xb8)
	i.pfx = append(i.pfx, 0xf3)
	if g.chance(2) {
		i.pfx[0], i.pfx[len(i.pfx)-1] = i.pfx[len(i.pfx)-1], i.pfx[0]
	}
	i.modrm, i.rm, i.reg = true, src, g.dstReg(size, rex)
	g.emit(i)
	g.setFlags(diffArithFlags, 0)
}

// bswapOp emits bswap of a 32- or 64-bit register.
func (g *gen) bswapOp() {
	size := g.pick(4, 8)
	i := g.newIns(size, g.chance(8), 0x0f, 0xc8)
	i.opReg = g.dstReg(size, true)
	g.emit(i)
}

// flagSetter emits cmp, test, add or sub: an instruction that defines
// the flags a condition then reads.
func (g *gen) flagSetter() {
	switch g.intn(5) {
	case 0:
		g.testOp()
	case 1:
		g.aluOp(0, false)
	case 2:
		g.aluOp(5, false)
	default:
		g.aluOp(7, false)
	}
}

// anyFlagOp emits an instruction of any kind that sets flags, so that
// conditions read them from every kind of lazily recorded result.
func (g *gen) anyFlagOp() {
	switch g.intn(10) {
	case 0, 1:
		g.aluOp(-1, false)
	case 2:
		g.unaryOp(false)
	case 3:
		g.shiftOp()
	case 4:
		g.doubleShiftOp()
	case 5:
		g.mulOp()
	case 6:
		g.bitScanOp()
	case 7:
		g.btImmOp()
	case 8:
		g.popcntOp()
	case 9:
		if g.chance(2) {
			g.raw(0x9e) // sahf
			g.setFlags(FlagSF|FlagZF|FlagAF|FlagPF|FlagCF, 0)
		} else {
			op := byte(g.pick(0xf5, 0xf8, 0xf9)) // cmc, clc, stc
			g.raw(op)
			if op != 0xf5 {
				g.setFlags(FlagCF, 0)
			}
		}
	}
}

// testOp emits test r/m, reg (sometimes test r, r).
func (g *gen) testOp() {
	size := g.size()
	rex := g.byteMode(size)
	src := g.rm(size, &rex, false, 3)
	i := g.newIns(size, rex, 0x84|byte(min(size-1, 1)))
	i.modrm, i.rm, i.reg = true, src, g.srcReg(size, rex)
	if !src.isMem && g.chance(3) {
		i.reg = src.reg // test r, r
	}
	g.emit(i)
	g.setFlags(diffArithFlags, FlagAF)
}

// cond picks a condition code whose flags are defined, or emits a
// compare first when none is.
func (g *gen) cond() int {
	for tries := 0; tries < 8; tries++ {
		if cc := g.intn(16); g.undef&condFlags[cc>>1] == 0 {
			return cc
		}
	}
	cc := g.intn(16)
	g.need(condFlags[cc>>1])
	return cc
}

// setccOp emits setcc.
func (g *gen) setccOp() {
	cc := g.cond()
	rex := g.byteMode(1)
	dst := g.rm(1, &rex, true, 4)
	i := g.newIns(1, rex, 0x0f, 0x90+byte(cc))
	i.modrm, i.rm = true, dst
	g.emit(i)
}

// cmovOp emits cmovcc, half of them with 32-bit operands (which clear
// the destination's upper half even when the condition is false).
func (g *gen) cmovOp() {
	cc := g.cond()
	size := g.pick(2, 4, 4, 8)
	rex := g.byteMode(size)
	src := g.rm(size, &rex, false, 3)
	i := g.newIns(size, rex, 0x0f, 0x40+byte(cc))
	i.modrm, i.rm, i.reg = true, src, g.dstReg(size, rex)
	g.emit(i)
}

// jccOp emits a conditional jump (rel8 or rel32) over a few
// instructions.
func (g *gen) jccOp() {
	cc := g.cond()
	l := g.newLabel()
	if g.chance(2) {
		g.raw(0x70 + byte(cc))
		g.ref(l, 1, false)
	} else {
		g.raw(0x0f, 0x80+byte(cc))
		g.ref(l, 4, false)
	}
	before := g.undef
	// At most 3 steps of at most 2 instructions: well within rel8.
	for n := 1 + g.intn(3); n > 0; n-- {
		switch g.intn(4) {
		case 0:
			g.movImm(g.dstReg(8, true), 8, true, g.val(8))
		case 1:
			g.setccOp()
		default:
			g.aluOp(-1, false)
		}
	}
	g.bind(l)
	g.undef |= before
}

func TestDiffCondMoves(t *testing.T) {
	runDiff(t, 6000, func(g *gen) {
		g.addPtrs(2, 1<<RCX)
		for n := 1 + g.intn(3); n > 0; n-- {
			if g.chance(2) {
				g.flagSetter()
			} else {
				g.anyFlagOp()
			}
			for k := 1 + g.intn(2); k > 0; k-- {
				switch g.intn(3) {
				case 0:
					g.setccOp()
				case 1:
					g.cmovOp()
				default:
					g.jccOp()
				}
			}
		}
	})
}

// movOp emits one of the data movement instructions.
func (g *gen) movOp() {
	size := g.size()
	rex := g.byteMode(size)
	switch g.intn(18) {
	case 0, 1: // mov r/m, reg (88, 89)
		dst := g.rm(size, &rex, true, 2)
		i := g.newIns(size, rex, 0x88|byte(min(size-1, 1)))
		i.modrm, i.rm, i.reg = true, dst, g.srcReg(size, rex)
		g.emit(i)
	case 2, 3: // mov reg, r/m (8a, 8b)
		src := g.rm(size, &rex, false, 2)
		i := g.newIns(size, rex, 0x8a|byte(min(size-1, 1)))
		i.modrm, i.rm, i.reg = true, src, g.dstReg(size, rex)
		g.emit(i)
	case 4: // mov r/m, imm (c6, c7)
		dst := g.rm(size, &rex, true, 2)
		i := g.newIns(size, rex, 0xc6|byte(min(size-1, 1)))
		i.modrm, i.rm = true, dst
		if size == 1 {
			i.imm = imm8(int64(g.val(1)))
		} else {
			i.imm = immZ(size, g.immVal(min(size, 4)))
		}
		g.emit(i)
	case 5: // mov reg, imm (b0+r, b8+r, movabs)
		g.movImm(g.dstReg(size, rex), size, rex, g.val(size))
	case 6: // mov al/ax/eax/rax to or from an absolute address (a0-a3)
		a := g.target(size, 1)
		op := byte(0xa0 | min(size-1, 1))
		if g.chance(2) {
			op |= 2
		}
		i := g.newIns(size, rex, op)
		if g.chance(4) {
			i.pfx = append(i.pfx, 0x67)
			i.imm = imm32(int64(a))
		} else {
			i.imm = imm64(a)
		}
		g.emit(i)
	case 7, 8: // movzx, movsx
		src := g.pick(1, 2)
		dsize := g.pick(4, 8)
		if src == 1 && g.chance(3) {
			dsize = 2
		}
		rex = g.byteMode(src)
		s := g.rm(src, &rex, false, 3)
		op := byte(0xb6)
		if g.chance(2) {
			op = 0xbe
		}
		if src == 2 {
			op++
		}
		if src == 1 && !rex && dsize == 8 {
			rex = true // REX.W: the byte registers are spl..dil
		}
		i := g.newIns(src, rex, 0x0f, op)
		i.pfx, i.w = nil, false
		g.sizePfx(&i, dsize)
		i.modrm, i.rm = true, s
		for i.reg = g.dstReg(dsize, rex); i.noREX && i.reg >= 8; {
			i.reg = g.dstReg(dsize, rex)
		}
		g.emit(i)
	case 9: // movsxd (and its 32-bit form)
		dsize := g.pick(8, 8, 8, 4)
		s := g.rm(4, &rex, false, 3)
		i := g.newIns(dsize, rex, 0x63)
		i.modrm, i.rm, i.reg = true, s, g.dstReg(dsize, rex)
		g.emit(i)
	case 10, 11: // lea, with any registers as base and index
		g.leaOp()
	case 12, 13: // xchg
		if size != 1 && g.chance(3) {
			// 90+r: xchg with the accumulator (nop for 90 itself).
			i := g.newIns(size, rex, 0x90)
			i.opReg = g.dstReg(size, true)
			g.emit(i)
			break
		}
		other := g.rm(size, &rex, true, 3)
		i := g.newIns(size, rex, 0x86|byte(min(size-1, 1)))
		i.modrm, i.rm, i.reg = true, other, g.dstReg(size, rex)
		g.emit(i)
	case 14: // cbw, cwde, cdqe; cwd, cdq, cqo
		size = g.pick(2, 4, 8)
		i := g.newIns(size, false, byte(g.pick(0x98, 0x99)))
		g.emit(i)
	case 15: // lahf, sahf
		if g.chance(2) {
			g.need(FlagSF | FlagZF | FlagAF | FlagPF | FlagCF)
			g.raw(0x9f)
		} else {
			g.raw(0x9e)
			g.setFlags(FlagSF|FlagZF|FlagAF|FlagPF|FlagCF, 0)
		}
	case 16: // cmc, clc, stc
		op := byte(g.pick(0xf5, 0xf8, 0xf9))
		if op == 0xf5 {
			g.need(FlagCF)
		}
		g.raw(op)
		g.setFlags(FlagCF, 0)
	case 17: // an arithmetic instruction, to give the flag moves inputs
		g.aluOp(-1, false)
	}
}

// leaOp emits lea with random registers: it computes the address
// without accessing memory.
func (g *gen) leaOp() {
	size := g.pick(2, 4, 8, 8)
	m := memOp{base: g.intn(17) - 1, index: g.intn(17) - 1, scale: uint8(g.intn(4))}
	if m.index == RSP {
		m.index = -1
	}
	switch g.intn(4) {
	case 0:
		m.disp = int64(int8(g.r.Uint32()))
	case 1:
		m.disp = int64(int32(g.r.Uint32()))
	}
	if m.base == ripBaseReg {
		m.disp = int64(diffCodeAddr) + int64(int32(g.r.Uint32()>>2))
	}
	m.addr32 = g.chance(3)
	m.disp32 = g.chance(8)
	m.sib = g.chance(8)
	i := g.newIns(size, g.chance(8), 0x8d)
	i.modrm, i.rm, i.reg = true, operand{isMem: true, m: m}, g.dstReg(size, true)
	g.emit(i)
}

// opSequence emits two to six instructions from op, then, some of the
// time, an access that faults (which must leave no trace).
func (g *gen) opSequence(op func()) {
	for n := 2 + g.intn(5); n > 0; n-- {
		op()
	}
	if g.chance(30) {
		g.faultingAccess()
	}
}

func TestDiffMovs(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.addPtrs(2, 0)
		g.opSequence(g.movOp)
	})
}

// Stack cases: rsp (and rbp, which enter and leave use) are tracked in
// regVal, so that memory operands may use them as base registers;
// memory operands that are written stay below the stack page, so that
// return addresses and saved frame pointers stay intact.

// safeFlagsImage returns an RFLAGS image popf may load: the arithmetic
// flags, DF and ID, plus bits popf ignores in user mode (IF, IOPL, RF,
// VM, VIF, VIP). TF, NT and AC stay clear: the host would trap, keep NT
// or check alignment.
func (g *gen) safeFlagsImage() uint64 {
	const ignored = 1<<1 | FlagIF | 3<<12 | 1<<16 | 1<<17 | 1<<19 | 1<<20
	return g.r.Uint64() & (diffComparedFlags | FlagID | ignored)
}

func (g *gen) rsp(delta int64) { g.regVal[RSP] += uint64(delta) }

// pushKind says what a push pushed, for the pop that pairs with it.
type pushKind int

const (
	pushedValue pushKind = iota
	pushedFlags          // a valid RFLAGS image: popf may take it
)

// pushOp pushes something and returns its size and kind.
func (g *gen) pushOp() (int, pushKind) {
	size := 8
	if g.chance(10) {
		size = 2
	}
	i := ins{}
	if size == 2 {
		i.pfx = []byte{0x66}
	} else if g.chance(16) {
		i.pfx, i.w = []byte{0x66}, true // REX.W overrides 66
	}
	kind := pushedValue
	switch g.intn(5) {
	case 0, 1: // push reg
		i.op, i.opReg = []byte{0x50}, g.intn(16)
		if g.chance(8) {
			i.rex = true
		}
	case 2: // push imm8 / imm32 (imm16 with 66)
		var v uint64
		if g.chance(3) {
			v, kind = g.safeFlagsImage(), pushedFlags
			if size == 2 {
				v &= 0xffff
			} else {
				v &= 0x7fffffff
			}
		} else {
			v = g.sval(4)
		}
		switch {
		case int64(v) == int64(int8(v)):
			i.op, i.imm = []byte{0x6a}, imm8(int64(v))
		case size == 2:
			i.op, i.imm = []byte{0x68}, imm16(int64(v))
		default:
			i.op, i.imm = []byte{0x68}, imm32(int64(v))
		}
	case 3: // push r/m
		m := g.mem(size, g.pick(1, size))
		i.op, i.modrm, i.rm, i.reg = []byte{0xff}, true, m, 6
	case 4: // pushf
		g.need(diffArithFlags)
		i.op = []byte{0x9c}
		kind = pushedFlags
	}
	g.emit(i)
	g.rsp(-int64(size))
	return size, kind
}

// popOp pops size bytes that a push of kind k pushed.
func (g *gen) popOp(size int, k pushKind) {
	i := ins{}
	if size == 2 {
		i.pfx = []byte{0x66}
	} else if g.chance(16) {
		i.pfx, i.w = []byte{0x66}, true // REX.W overrides 66
	}
	n := 3
	if k == pushedFlags {
		n = 5
	}
	switch g.intn(n) {
	case 0, 1: // pop reg
		i.op, i.opReg = []byte{0x58}, g.dstReg(8, true)
	case 2: // pop r/m: an rsp base is the incremented rsp
		g.rsp(int64(size))
		m := g.mem(size, g.pick(1, size))
		g.rsp(-int64(size))
		i.op, i.modrm, i.rm, i.reg = []byte{0x8f}, true, m, 0
	default: // popf
		i.op = []byte{0x9d}
		g.setFlags(diffArithFlags, 0)
	}
	g.emit(i)
	g.rsp(int64(size))
}

// stackBlock emits n units that leave rsp and rbp as they found them.
func (g *gen) stackBlock(n, depth int) {
	for ; n > 0; n-- {
		switch k := g.intn(10); {
		case k < 4: // a push and a pop, maybe around a nested block
			size, kind := g.pushOp()
			if depth < 2 && g.chance(3) {
				g.stackBlock(1, depth+1)
			}
			g.popOp(size, kind)
		case k < 6 && depth < 2:
			g.callBlock(depth+1, true)
		case k < 8 && depth < 2:
			g.enterBlock(depth+1, true)
		case k == 8:
			// call next; next: pop reg (the position-independent idiom)
			g.raw(0xe8, 0, 0, 0, 0)
			g.emit(ins{op: []byte{0x58}, opReg: g.dstReg(8, true)})
		default:
			if g.chance(2) {
				g.aluOp(-1, false)
			} else {
				g.movOp()
			}
		}
	}
}

// callBlock emits call to a subroutine placed right after the call and
// a jump over it; the subroutine returns with ret, rep ret or ret imm16.
// For ret imm16 the caller pushes that many bytes of arguments first
// (with an odd count when balanced is not set, which the return leaves
// misaligned), so that the return releases them and leaves the stack
// as it found it.
func (g *gen) callBlock(depth int, balanced bool) {
	ret := g.intn(4)
	n := 0
	if ret == 0 {
		n = g.intn(5) * 8
		if g.chance(4) {
			n = g.intn(0x40) &^ 1
		}
		for k := n; k >= 8; k -= 8 {
			g.raw(0x6a, byte(g.intn(256)))
			g.rsp(-8)
		}
		for k := n % 8; k > 0; k -= 2 {
			g.raw(0x66, 0x6a, byte(g.intn(256)))
			g.rsp(-2)
		}
		if !balanced && g.chance(2) {
			n++ // releases one byte more than pushed
		}
	}
	sub, end := g.newLabel(), g.newLabel()
	g.raw(0xe8)
	g.ref(sub, 4, false)
	if g.chance(2) {
		g.raw(0xeb)
		g.ref(end, 1, false)
	} else {
		g.raw(0xe9)
		g.ref(end, 4, false)
	}
	g.bind(sub)
	g.rsp(-8)
	g.stackBlock(g.intn(3), depth)
	g.rsp(8)
	switch ret {
	case 0:
		g.raw(0xc2)
		g.raw(imm16(int64(n))...)
		g.rsp(int64(n))
	case 1:
		g.raw(0xf3, 0xc3)
	default:
		g.raw(0xc3)
	}
	g.bind(end)
}

// enterBlock emits enter with nesting level 0 or 1 (sometimes more, and
// sometimes with 16-bit operands), a block, and, when leave is set, the
// leave that undoes it.
func (g *gen) enterBlock(depth int, leave bool) {
	size := 8
	if g.chance(8) {
		size = 2
	}
	alloc := g.intn(0x100)
	if g.chance(2) {
		alloc &^= 7
	}
	level := g.intn(2)
	if g.chance(6) {
		level = 2 + g.intn(3)
	}
	if size == 2 {
		g.raw(0x66)
	}
	g.raw(0xc8)
	g.raw(imm16(int64(alloc))...)
	g.raw(byte(level))
	rsp0, rbp0 := g.regVal[RSP], g.regVal[RBP]
	frame := rsp0 - uint64(size)
	g.regVal[RSP] = frame - uint64(size*level) - uint64(alloc)
	// In 64-bit mode enter sets all of rbp to the frame, whatever the
	// operand size (the SDM's "IF StackSize = 64 THEN RBP := FrameTemp").
	g.regVal[RBP] = frame
	g.known &^= 1 << RBP
	if !leave {
		return
	}
	g.stackBlock(g.intn(3), depth)
	if size == 2 {
		g.raw(0x66)
	}
	g.raw(0xc9)
	g.regVal[RSP], g.regVal[RBP] = rsp0, rbp0
	g.known |= 1 << RBP
}

func TestDiffStack(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		// rbp points into the stack page; [rbp] holds another address
		// there, for a leave without enter.
		rbp := uint64(diffDataAddr + 0x1400 + 8*g.intn(0x100))
		g.in.GPR[RBP] = rbp
		g.regVal[RBP] = rbp
		g.fixed |= 1 << RBP
		g.known |= 1 << RBP
		g.addPtrs(1, 0)
		g.memHi = diffDataAddr + 0x1000
		if g.chance(8) {
			saved := rbp + 0x40
			le.PutUint64(g.in.Mem[rbp-diffDataAddr:], saved)
			g.raw(0xc9) // leave
			g.regVal[RSP], g.regVal[RBP] = rbp+8, saved
		}
		for n := 1 + g.intn(4); n > 0; n-- {
			switch g.intn(7) {
			case 0:
				g.pushOp()
			case 1:
				g.popOp(8, pushedValue)
			case 6:
				g.callBlock(1, false)
			case 2:
				// push the address of a label and return to it
				l := g.newLabel()
				g.raw(0x68)
				g.ref(l, 4, true)
				g.raw(0xc3)
				g.raw(0x0f, 0x0b) // skipped
				g.bind(l)
			default:
				g.stackBlock(1, 0)
			}
		}
		if g.chance(6) {
			g.enterBlock(1, false)
			g.stackBlock(g.intn(2), 2)
		}
		if g.chance(40) {
			g.badBranch()
		}
	})
}

// badBranch ends a case with ret, jmp reg or call reg to a non-canonical
// address (#GP at the branch) or an unmapped one (a fault at the
// target).
func (g *gen) badBranch() {
	target := uint64(0x0000_8000_0000_0000) << g.intn(2) // non-canonical
	if g.chance(3) {
		target = 0x0000_7fff_ffff_f000 // canonical, unmapped
	}
	target += uint64(g.intn(0x1000))
	reg := g.dstReg(8, true)
	g.movImm(reg, 8, true, target)
	switch g.intn(3) {
	case 0:
		g.emit(ins{op: []byte{0x50}, opReg: reg})
		g.raw(0xc3)
	case 1:
		g.emit(ins{op: []byte{0xff}, modrm: true, rm: regOp(reg), reg: 4})
	default:
		g.emit(ins{op: []byte{0xff}, modrm: true, rm: regOp(reg), reg: 2})
	}
}

// strOp emits movs, cmps, stos, lods or scas of a random size with or
// without a repeat prefix, after loading a small count into rcx (cx with
// 32-bit addressing, which keeps garbage in rcx's upper half).
func (g *gen) strOp(addr32 bool) {
	kind := g.intn(5)
	op := []byte{0xa4, 0xa6, 0xaa, 0xac, 0xae}[kind]
	size := g.size()
	var pfx []byte
	if addr32 {
		pfx = append(pfx, 0x67)
	}
	rep := byte(0)
	if g.chance(3) {
		rep = byte(g.pick(0xf3, 0xf2))
		pfx = append(pfx, rep)
	}
	if (kind == 0 || kind == 1 || kind == 3) && g.chance(8) {
		// A segment override of the source: cs, ds, es, ss all have
		// base 0.
		pfx = append(pfx, byte(g.pick(0x26, 0x2e, 0x36, 0x3e)))
	}
	cnt := uint64(g.intn(17))
	if rep != 0 {
		if addr32 {
			g.raw(0x66, 0xb9)
			g.raw(imm16(int64(cnt))...)
		} else {
			g.raw(0xb9)
			g.raw(imm32(int64(cnt))...)
		}
	}
	i := ins{pfx: pfx, op: []byte{op}}
	switch size {
	case 1:
		i.rex = g.chance(8)
	case 2:
		i.op[0]++
		i.pfx = append(i.pfx, 0x66)
	case 4:
		i.op[0]++
	case 8:
		i.op[0]++
		i.w = true
	}
	if (kind == 1 || kind == 4) && (rep == 0 || cnt > 0) {
		g.setFlags(diffArithFlags, 0)
	}
	g.emit(i)
}

func TestDiffString(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		s := g.in
		// Few distinct bytes, so that repe and repne stop early.
		for i := range s.Mem {
			s.Mem[i] = byte(g.intn(2))
			if g.chance(16) {
				s.Mem[i] = byte(g.intn(256))
			}
		}
		s.GPR[RAX] = []uint64{0, 0x0101010101010101, 0x0001000100010001, 0x0000000100000000, g.r.Uint64()}[g.intn(5)]
		addr32 := g.chance(4)
		for _, r := range []int{RSI, RDI} {
			s.GPR[r] = uint64(diffDataAddr + 0x800 + g.intn(0x1000))
			if addr32 {
				s.GPR[r] |= g.r.Uint64() << 32
			}
		}
		if g.chance(12) {
			// Near an end of the data area: a repeated instruction
			// may fault part of the way.
			r := []int{RSI, RDI}[g.intn(2)]
			if g.chance(2) {
				s.GPR[r] = uint64(diffDataAddr + diffDataSize - g.intn(64))
			} else {
				s.GPR[r] = uint64(diffDataAddr + g.intn(64))
			}
		}
		s.GPR[RCX] = uint64(g.intn(17))
		if addr32 {
			s.GPR[RCX] |= g.r.Uint64() << 32
		}
		g.fixed |= 1<<RSI | 1<<RDI | 1<<RCX
		for n := 1 + g.intn(5); n > 0; n-- {
			switch g.intn(8) {
			case 0:
				g.raw(byte(g.pick(0xfc, 0xfd))) // cld, std
			case 1:
				g.aluOp(-1, false)
			default:
				g.strOp(addr32)
			}
		}
	})
}

// offsetMem returns a memory operand d bytes after o.
func offsetMem(o operand, d int64) operand {
	o.m.disp += d
	return o
}

// atomicOp emits a locked read-modify-write instruction with an aligned
// memory operand.
func (g *gen) atomicOp() {
	switch g.intn(12) {
	case 0, 1:
		g.aluOp(g.intn(7), true)
	case 2:
		g.unaryOp(true)
	case 3, 4: // xadd
		size := g.size()
		rex := g.byteMode(size)
		if g.chance(6) {
			// Register forms take no lock; with the same register
			// twice the sum is what remains.
			dst := g.dstReg(size, rex)
			src := dst
			if g.chance(2) {
				src = g.dstReg(size, rex)
			}
			i := g.newIns(size, rex, 0x0f, 0xc0|byte(min(size-1, 1)))
			i.modrm, i.rm, i.reg = true, regOp(dst), src
			g.emit(i)
			g.setFlags(diffArithFlags, 0)
			break
		}
		m := g.mem(size, size)
		rex = rex || needsREX(m)
		i := g.newIns(size, rex, 0x0f, 0xc0|byte(min(size-1, 1)))
		i.pfx = append([]byte{0xf0}, i.pfx...)
		i.modrm, i.rm, i.reg = true, m, g.dstReg(size, rex)
		g.emit(i)
		g.setFlags(diffArithFlags, 0)
	case 5, 6: // cmpxchg, often with the accumulator loaded from memory
		size := g.size()
		rex := g.byteMode(size)
		m := g.mem(size, size)
		rex = rex || needsREX(m)
		if g.chance(2) {
			i := g.newIns(size, rex, 0x8a|byte(min(size-1, 1)))
			i.modrm, i.rm, i.reg = true, m, RAX
			g.emit(i)
		}
		i := g.newIns(size, rex, 0x0f, 0xb0|byte(min(size-1, 1)))
		if g.chance(8) {
			// A register destination takes no lock.
			i.modrm, i.rm, i.reg = true, regOp(g.dstReg(size, rex)), g.srcReg(size, rex)
			if g.chance(3) {
				i.reg = i.rm.reg
			}
		} else {
			i.pfx = append([]byte{0xf0}, i.pfx...)
			i.modrm, i.rm, i.reg = true, m, g.srcReg(size, rex)
		}
		g.emit(i)
		g.setFlags(diffArithFlags, 0)
	case 7: // xchg (locked with or without the prefix)
		size := g.size()
		rex := g.byteMode(size)
		if g.chance(6) {
			a := g.dstReg(size, rex)
			i := g.newIns(size, rex, 0x86|byte(min(size-1, 1)))
			i.modrm, i.rm, i.reg = true, regOp(a), g.dstReg(size, rex)
			if g.chance(3) {
				i.reg = a
			}
			g.emit(i)
			break
		}
		m := g.mem(size, size)
		rex = rex || needsREX(m)
		i := g.newIns(size, rex, 0x86|byte(min(size-1, 1)))
		if g.chance(2) {
			i.pfx = append([]byte{0xf0}, i.pfx...)
		}
		i.modrm, i.rm, i.reg = true, m, g.dstReg(size, rex)
		g.emit(i)
	case 8, 9: // cmpxchg8b, cmpxchg16b
		wide := g.chance(2)
		size := 8
		if wide {
			size = 16
		}
		align := size
		if wide && g.chance(16) {
			align = 8 // misaligned: #GP
		}
		var m operand
		for {
			m = g.mem(size, align)
			if align == size || g.effAddr(m.m)%16 != 0 || m.m.base == ripBaseReg {
				break
			}
		}
		if g.chance(2) {
			// Load rdx:rax (edx:eax) from the operand: the exchange
			// happens.
			half := size / 2
			for k, r := range []int{RAX, RDX} {
				i := g.newIns(half, false, 0x8b)
				i.modrm, i.rm, i.reg = true, offsetMem(m, int64(k*half)), r
				g.emit(i)
			}
		}
		i := ins{pfx: []byte{0xf0}, w: wide, op: []byte{0x0f, 0xc7}, modrm: true, rm: m, reg: 1}
		if g.chance(8) {
			i.pfx = nil
		}
		g.emit(i)
		g.setFlags(FlagZF, 0)
	case 10: // bts, btr, btc
		size := g.pick(2, 4, 8)
		rex := g.byteMode(size)
		m := g.mem(size, size)
		rex = rex || needsREX(m)
		kind := 1 + g.intn(3)
		var i ins
		if g.chance(2) {
			i = g.newIns(size, rex, 0x0f, 0xba)
			i.reg, i.imm = 4+kind, imm8(int64(g.intn(256)))
		} else {
			// A register offset within the operand.
			off := g.dstReg(size, rex)
			g.movImm(off, size, rex, uint64(g.intn(size*8)))
			i = g.newIns(size, rex, 0x0f, []byte{0xa3, 0xab, 0xb3, 0xbb}[kind])
			i.reg = off
		}
		i.pfx = append([]byte{0xf0}, i.pfx...)
		i.modrm, i.rm = true, m
		g.emit(i)
		g.setFlags(FlagCF, FlagOF|FlagSF|FlagAF|FlagPF)
	case 11: // mov from memory, to chain values
		size := g.size()
		rex := g.byteMode(size)
		m := g.mem(size, size)
		rex = rex || needsREX(m)
		i := g.newIns(size, rex, 0x8a|byte(min(size-1, 1)))
		i.modrm, i.rm, i.reg = true, m, g.dstReg(size, rex)
		g.emit(i)
	}
}

// badLockOp ends a case with a lock prefix where it is not allowed: on
// an instruction that cannot be locked or one with a register
// destination (#UD).
func (g *gen) badLockOp() {
	size := g.pick(4, 8)
	var i ins
	switch g.intn(4) {
	case 0: // lock add reg, reg
		i = g.newIns(size, false, 0x01)
		i.modrm, i.rm, i.reg = true, regOp(g.dstReg(size, true)), g.srcReg(size, true)
	case 1: // lock cmp [mem], reg
		i = g.newIns(size, false, 0x39)
		i.modrm, i.rm, i.reg = true, g.mem(size, size), g.srcReg(size, true)
	case 2: // lock mov [mem], reg
		i = g.newIns(size, false, 0x89)
		i.modrm, i.rm, i.reg = true, g.mem(size, size), g.srcReg(size, true)
	case 3: // lock inc reg
		i = g.newIns(size, false, 0xff)
		i.modrm, i.rm = true, regOp(g.dstReg(size, true))
	}
	i.pfx = append([]byte{0xf0}, i.pfx...)
	g.emit(i)
}

func TestDiffAtomics(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.addPtrs(2, 0)
		for n := 1 + g.intn(5); n > 0; n-- {
			g.atomicOp()
		}
		if g.chance(30) {
			g.badLockOp()
		}
	})
}

// sseIns starts an SSE instruction: mandatory prefix pfx (0 for none),
// opcode 0F op, ModRM.reg reg and r/m rm.
func sseIns(pfx byte, op byte, reg int, rm operand) ins {
	i := ins{op: []byte{0x0f, op}, modrm: true, reg: reg, rm: rm}
	if pfx != 0 {
		i.pfx = []byte{pfx}
	}
	return i
}

// xmmRM returns an XMM register or, one time in memOdds, a memory
// operand of size bytes. For 16-byte operands that must be aligned
// (aligned set) it is, except rarely (a #GP case).
func (g *gen) xmmRM(size int, aligned bool, memOdds int) operand {
	if !g.chance(memOdds) {
		return regOp(g.intn(16))
	}
	align := g.pick(1, 4, size)
	if size == 16 && aligned {
		align = 16
		if g.chance(50) {
			// Misaligned: #GP. rip-relative and absolute forms
			// compute the same address, so any form does.
			m := g.memAt(g.target(16, 16) + uint64(g.pick(1, 4, 8)))
			return m
		}
	}
	return g.mem(size, align)
}

// intLanes returns 64 bits of packed-integer lanes biased to the
// saturation and sign boundaries.
func (g *gen) intLanes() uint64 {
	if g.chance(3) {
		return g.r.Uint64()
	}
	var v uint64
	for i := 0; i < 4; i++ {
		w := []uint64{0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x00ff, 0xff00, 0x7f80, 0x807f, 0xfffe}[g.intn(13)]
		if g.chance(3) {
			w = uint64(g.r.Uint32() & 0xffff)
		}
		v |= w << (16 * i)
	}
	return v
}

// sseIntOp emits one of the SSE2 integer instructions.
func (g *gen) sseIntOp() {
	x := g.intn(16)
	switch k := g.intn(40); {
	case k < 16 && g.chance(4): // SSSE3: the 0F 38 operations and palignr
		if g.chance(6) {
			i := ins{pfx: []byte{0x66}, op: []byte{0x0f, 0x3a, 0x0f}, modrm: true, reg: x, rm: g.xmmRM(16, !g.chance(8), 4)}
			i.imm = imm8(int64(g.intn(40)))
			g.emit(i)
			break
		}
		ops := []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x1c, 0x1d, 0x1e}
		g.emit(ins{pfx: []byte{0x66}, op: []byte{0x0f, 0x38, ops[g.intn(len(ops))]}, modrm: true, reg: x, rm: g.xmmRM(16, !g.chance(8), 4)})
	case k < 16: // packed arithmetic, logic, compares, packs, unpacks
		ops := []byte{
			0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
			0x74, 0x75, 0x76,
			0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
			0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
			0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
		}
		i := sseIns(0x66, ops[g.intn(len(ops))], x, g.xmmRM(16, true, 4))
		i.w = g.chance(16) // ignored
		g.emit(i)
	case k < 19: // pshufd, pshufhw, pshuflw
		i := sseIns(byte(g.pick(0x66, 0xf3, 0xf2)), 0x70, x, g.xmmRM(16, true, 4))
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	case k < 23: // shifts by immediate, psrldq, pslldq
		groups := [][2]int{{0x71, 2}, {0x71, 4}, {0x71, 6}, {0x72, 2}, {0x72, 4}, {0x72, 6}, {0x73, 2}, {0x73, 3}, {0x73, 6}, {0x73, 7}}
		gr := groups[g.intn(len(groups))]
		i := sseIns(0x66, byte(gr[0]), gr[1], regOp(x))
		cnt := g.intn(256)
		if g.chance(3) {
			cnt = g.pick(0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65)
		}
		i.imm = imm8(int64(cnt))
		g.emit(i)
	case k < 25: // movd, movq xmm <- r/m
		size := g.pick(4, 8)
		rex := true
		i := sseIns(0x66, 0x6e, x, g.rm(size, &rex, false, 3))
		i.w = size == 8
		g.emit(i)
	case k < 27: // movd, movq r/m <- xmm
		size := g.pick(4, 8)
		rex := true
		i := sseIns(0x66, 0x7e, x, g.rm(size, &rex, true, 3))
		i.w = size == 8
		g.emit(i)
	case k < 29: // movq xmm <- xmm/m64 (F3 0F 7E), movq xmm/m64 <- xmm (66 0F D6)
		if g.chance(2) {
			g.emit(sseIns(0xf3, 0x7e, x, g.xmmRM(8, false, 3)))
		} else {
			g.emit(sseIns(0x66, 0xd6, x, g.xmmRM(8, false, 3)))
		}
	case k < 33: // movdqa, movdqu, movntdq
		switch g.intn(5) {
		case 0:
			g.emit(sseIns(0x66, 0x6f, x, g.xmmRM(16, true, 2)))
		case 1:
			g.emit(sseIns(0x66, 0x7f, x, g.xmmRM(16, true, 2)))
		case 2:
			g.emit(sseIns(0xf3, 0x6f, x, g.xmmRM(16, false, 2)))
		case 3:
			g.emit(sseIns(0xf3, 0x7f, x, g.xmmRM(16, false, 2)))
		case 4:
			g.emit(sseIns(0x66, 0xe7, x, g.mem(16, 16)))
		}
	case k < 35: // pmovmskb
		i := sseIns(0x66, 0xd7, g.dstReg(4, true), regOp(x))
		i.w = g.chance(4)
		g.emit(i)
	case k < 38: // pinsrw
		rex := true
		src := g.rm(4, &rex, false, 3)
		if src.isMem {
			src = g.mem(2, 1)
		}
		i := sseIns(0x66, 0xc4, x, src)
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	default: // pextrw
		i := sseIns(0x66, 0xc5, g.dstReg(4, true), regOp(x))
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	}
}

func TestDiffSSEInt(t *testing.T) {
	runDiff(t, 5000, func(g *gen) {
		g.showXMM = true
		for i := range g.in.XMM {
			g.in.XMM[i] = [2]uint64{g.intLanes(), g.intLanes()}
			if g.chance(4) {
				// A shift count.
				g.in.XMM[i] = [2]uint64{uint64(g.intn(70)), 0}
				if g.chance(8) {
					g.in.XMM[i][1] = 1
				}
			}
		}
		for i := 0; i < len(g.in.Mem); i += 8 {
			le.PutUint64(g.in.Mem[i:], g.intLanes())
		}
		g.addPtrs(2, 0)
		g.opSequence(g.sseIntOp)
	})
}

// f32Edge returns a single biased to edge values.
func (g *gen) f32Edge() uint32 {
	sign := uint32(g.intn(2)) << 31
	switch g.intn(24) {
	case 0:
		return sign // ±0
	case 1:
		return sign | 0x7f800000 // ±inf
	case 2:
		return sign | 0x7fc00000 | g.r.Uint32()&0x3fffff // QNaN
	case 3:
		return sign | 0x7f800000 | (1 + g.r.Uint32N(0x3fffff)) // SNaN
	case 4:
		return sign | 1 + g.r.Uint32N(0x7fffff) // denormal
	case 5:
		return sign | 0x3f800000 // ±1
	case 6:
		return sign | 0x7f7fffff // ±max
	case 7:
		return sign | 0x00800000 // ±min normal
	case 8: // integer conversion boundaries: 2^31, 2^31-128, 2^63 and around
		return sign | []uint32{0x4f000000, 0x4effffff, 0x4f000001, 0x5f000000, 0x5effffff, 0x5f000001, 0x4b800000}[g.intn(7)]
	case 9: // halves (round to even)
		return sign | math.Float32bits(float32(g.intn(8))+0.5)
	case 10: // large and tiny
		return sign | uint32(200+g.intn(54))<<23 | g.r.Uint32()&0x7fffff
	case 11:
		return sign | uint32(1+g.intn(30))<<23 | g.r.Uint32()&0x7fffff
	case 12, 13, 14, 15: // ordinary values near 1
		return sign | uint32(110+g.intn(40))<<23 | g.r.Uint32()&0x7fffff
	case 16, 17:
		return math.Float32bits(float32(int32(g.r.Uint32())) / float32(1+g.intn(1000)))
	default:
		return g.r.Uint32()
	}
}

// f64Edge returns a double biased to edge values.
func (g *gen) f64Edge() uint64 {
	sign := uint64(g.intn(2)) << 63
	switch g.intn(26) {
	case 0:
		return sign
	case 1:
		return sign | 0x7ff0000000000000
	case 2:
		return sign | 0x7ff8000000000000 | g.r.Uint64()&(1<<51-1)
	case 3:
		return sign | 0x7ff0000000000000 | (1 + g.r.Uint64N(1<<51-1))
	case 4:
		return sign | 1 + g.r.Uint64N(1<<52-1)
	case 5:
		return sign | 0x3ff0000000000000
	case 6:
		return sign | 0x7fefffffffffffff
	case 7:
		return sign | 0x0010000000000000
	case 8: // conversion boundaries: 2^31 and ±0.5 around it, 2^63, single's limits
		return sign | []uint64{0x41e0000000000000, 0x41dfffffffc00000, 0x41e0000000100000, 0x41dfffffffe00000,
			0x43e0000000000000, 0x43dfffffffffffff, 0x47efffffe0000000, 0x47efffffffffffff, 0x36a0000000000000, 0x3690000000000000}[g.intn(10)]
	case 9:
		return sign | math.Float64bits(float64(g.intn(8))+0.5)
	case 10: // exponents around the single range's ends
		e := uint64(g.pick(1023+127, 1023+128, 1023-126, 1023-127, 1023-149, 1023-150, 1023-151) + g.intn(3) - 1)
		return sign | e<<52 | g.r.Uint64()&(1<<52-1)
	case 11:
		return sign | uint64(1800+g.intn(246))<<52 | g.r.Uint64()&(1<<52-1)
	case 12:
		return sign | uint64(1+g.intn(200))<<52 | g.r.Uint64()&(1<<52-1)
	case 13, 14, 15, 16: // ordinary values
		return sign | uint64(990+g.intn(80))<<52 | g.r.Uint64()&(1<<52-1)
	case 17: // singles' exact values: convert to single exactly, or by one rounding
		return math.Float64bits(float64(math.Float32frombits(g.f32Edge()))) + uint64(g.intn(3)) - 1
	case 18, 19:
		return math.Float64bits(float64(int64(g.r.Uint64())) / float64(1+g.intn(1000)))
	default:
		return g.r.Uint64()
	}
}

// floatHalf returns 64 bits of floats: two singles, one double or noise.
func (g *gen) floatHalf() uint64 {
	switch g.intn(10) {
	case 0, 1, 2, 3:
		return uint64(g.f32Edge()) | uint64(g.f32Edge())<<32
	case 4, 5, 6, 7, 8:
		return g.f64Edge()
	}
	return g.r.Uint64()
}

// sseFloatOp emits one of the SSE/SSE2 floating-point instructions; cvt
// restricts it to conversions and moves (for cases with a rounding mode
// other than the default).
func (g *gen) sseFloatOp(cvt bool) {
	x := g.intn(16)
	pfxs := []byte{0, 0x66, 0xf3, 0xf2} // ps, pd, ss, sd
	k := g.intn(40)
	if cvt {
		k = 14 + g.intn(12)
	}
	switch {
	case k < 8: // add, mul, sub, min, div, max, sqrt
		p := pfxs[g.intn(4)]
		size := map[byte]int{0: 16, 0x66: 16, 0xf3: 4, 0xf2: 8}[p]
		op := byte(g.pick(0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f, 0x51))
		g.emit(sseIns(p, op, x, g.xmmRM(size, true, 4)))
	case k < 11: // cmpps, cmppd, cmpss, cmpsd
		p := pfxs[g.intn(4)]
		size := map[byte]int{0: 16, 0x66: 16, 0xf3: 4, 0xf2: 8}[p]
		i := sseIns(p, 0xc2, x, g.xmmRM(size, true, 4))
		i.imm = imm8(int64(g.intn(8)))
		g.emit(i)
	case k < 14: // ucomiss, comiss, ucomisd, comisd
		p := byte(g.pick(0, 0x66))
		size := 4
		if p == 0x66 {
			size = 8
		}
		g.emit(sseIns(p, byte(g.pick(0x2e, 0x2f)), x, g.xmmRM(size, false, 4)))
		g.setFlags(diffArithFlags, 0)
	case k < 16: // cvtsi2ss, cvtsi2sd (32- and 64-bit sources)
		size := g.pick(4, 8)
		rex := true
		i := sseIns(byte(g.pick(0xf3, 0xf2)), 0x2a, x, g.rm(size, &rex, false, 3))
		i.w = size == 8
		g.emit(i)
	case k < 19: // cvtss2si, cvttss2si, cvtsd2si, cvttsd2si
		p := byte(g.pick(0xf3, 0xf2))
		size := 4
		if p == 0xf2 {
			size = 8
		}
		i := sseIns(p, byte(g.pick(0x2c, 0x2d)), g.dstReg(8, true), g.xmmRM(size, false, 4))
		i.w = g.chance(2)
		g.emit(i)
	case k < 26: // conversions between formats
		forms := []struct {
			pfx, op byte
			size    int
		}{
			{0xf3, 0x5a, 4}, {0xf2, 0x5a, 8}, {0, 0x5a, 8}, {0x66, 0x5a, 16}, // cvtss2sd, cvtsd2ss, cvtps2pd, cvtpd2ps
			{0, 0x5b, 16}, {0x66, 0x5b, 16}, {0xf3, 0x5b, 16}, // cvtdq2ps, cvtps2dq, cvttps2dq
			{0xf3, 0xe6, 8}, {0x66, 0xe6, 16}, {0xf2, 0xe6, 16}, // cvtdq2pd, cvttpd2dq, cvtpd2dq
		}
		f := forms[g.intn(len(forms))]
		g.emit(sseIns(f.pfx, f.op, x, g.xmmRM(f.size, f.size == 16, 4)))
	case k < 29: // and, andn, or, xor (ps, pd)
		g.emit(sseIns(byte(g.pick(0, 0x66)), byte(0x54+g.intn(4)), x, g.xmmRM(16, true, 4)))
	case k < 31: // shufps, shufpd
		i := sseIns(byte(g.pick(0, 0x66)), 0xc6, x, g.xmmRM(16, true, 4))
		i.imm = imm8(int64(g.intn(256)))
		g.emit(i)
	case k < 33 && g.chance(3): // SSE3
		switch g.intn(4) {
		case 0: // addsubps, addsubpd, haddps, haddpd, hsubps, hsubpd
			g.emit(sseIns(byte(g.pick(0x66, 0xf2)), byte(g.pick(0xd0, 0x7c, 0x7d)), x, g.xmmRM(16, !g.chance(8), 4)))
		case 1: // movddup
			g.emit(sseIns(0xf2, 0x12, x, g.xmmRM(8, false, 4)))
		case 2: // movsldup, movshdup
			g.emit(sseIns(0xf3, byte(g.pick(0x12, 0x16)), x, g.xmmRM(16, !g.chance(8), 4)))
		default: // lddqu
			g.emit(sseIns(0xf2, 0xf0, x, g.xmmRM(16, false, 1)))
		}
	case k < 33: // unpcklps, unpckhps, unpcklpd, unpckhpd
		g.emit(sseIns(byte(g.pick(0, 0x66)), byte(g.pick(0x14, 0x15)), x, g.xmmRM(16, true, 4)))
	case k < 38: // moves
		switch g.intn(9) {
		case 0: // movss, movsd
			p := byte(g.pick(0xf3, 0xf2))
			size := 4
			if p == 0xf2 {
				size = 8
			}
			g.emit(sseIns(p, byte(g.pick(0x10, 0x11)), x, g.xmmRM(size, false, 2)))
		case 1: // movaps, movapd
			g.emit(sseIns(byte(g.pick(0, 0x66)), byte(g.pick(0x28, 0x29)), x, g.xmmRM(16, true, 2)))
		case 2: // movups, movupd
			g.emit(sseIns(byte(g.pick(0, 0x66)), byte(g.pick(0x10, 0x11)), x, g.xmmRM(16, false, 2)))
		case 3, 4: // movlps, movhps, movlpd, movhpd (loads and stores)
			g.emit(sseIns(byte(g.pick(0, 0x66)), byte(g.pick(0x12, 0x13, 0x16, 0x17)), x, g.mem(8, g.pick(1, 8))))
		case 5: // movhlps, movlhps
			g.emit(sseIns(0, byte(g.pick(0x12, 0x16)), x, regOp(g.intn(16))))
		case 6: // movmskps, movmskpd
			i := sseIns(byte(g.pick(0, 0x66)), 0x50, g.dstReg(4, true), regOp(x))
			i.w = g.chance(4)
			g.emit(i)
		case 7: // movntps, movntpd
			g.emit(sseIns(byte(g.pick(0, 0x66)), 0x2b, x, g.mem(16, 16)))
		case 8:
			g.emit(sseIns(0xf3, 0x7e, x, g.xmmRM(8, false, 3)))
		}
	default: // a flag reader after the compares
		if g.chance(2) {
			g.setccOp()
		} else {
			g.cmovOp()
		}
	}
}

func TestDiffSSEFloat(t *testing.T) {
	runDiff(t, 6000, func(g *gen) {
		g.showXMM = true
		for i := range g.in.XMM {
			g.in.XMM[i] = [2]uint64{g.floatHalf(), g.floatHalf()}
		}
		for i := 0; i < len(g.in.Mem); i += 8 {
			le.PutUint64(g.in.Mem[i:], g.floatHalf())
		}
		for _, r := range []int{RAX, RCX, RDX, RSI, RDI, R8, R9, R10, R11} {
			if g.chance(2) {
				// Integers just around powers of two, which the
				// conversions to single and double round.
				g.in.GPR[r] = 1<<(24+g.intn(40)) + uint64(g.intn(7)) - 3
				if g.chance(3) {
					g.in.GPR[r] = []uint64{1<<63 - 1, 1 << 63, 0x7fffff, 0xffffff, 0x1000001}[g.intn(5)]
				}
				if g.chance(2) {
					g.in.GPR[r] = -g.in.GPR[r]
				}
			}
		}
		if g.chance(4) {
			g.in.MXCSR |= uint32(g.intn(64)) // sticky exception flags
		}
		g.addPtrs(2, 0)
		cvt := g.chance(4)
		if cvt {
			g.in.MXCSR |= uint32(g.intn(4)) << 13
		}
		for n := 2 + g.intn(5); n > 0; n-- {
			g.sseFloatOp(cvt)
		}
	})
}
