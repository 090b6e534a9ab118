// Package rvgen generates self-checking riscv64 test programs for
// differential testing of the CPU against a reference implementation: a
// static ELF executable that loads registers from a seed-derived table,
// runs a stream of random instructions whose memory operands stay inside
// a data window and whose branches only skip forward within the stream,
// then writes every register, fcsr and the data window to stdout with one
// write system call and exits. Running the same executable on two
// implementations and comparing stdout compares their architectural state.
package rvgen

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// Extension selects the instruction mix of a generated program.
type Extension int

// Instruction mixes.
const (
	ExtI Extension = iota // RV64I (without ecall/ebreak/fence.i)
	ExtM
	ExtA
	ExtC
	ExtF
	ExtD
	ExtZicsr
)

func (e Extension) String() string {
	return [...]string{"I", "M", "A", "C", "F", "D", "Zicsr"}[e]
}

// Memory layout of generated programs.
const (
	LoadAddr   = 0x10000
	codeOffset = 0x1000 // code starts one page into the segment
	windowSize = 4096
	// MaxInstructions bounds the random stream of one program.
	MaxInstructions = 20000
	// StateSize is the size of the final state a program writes first:
	// x1..x31, f0..f31, fcsr (8 bytes each) and the data window. A log of
	// 16-byte records follows: the result and the fflags raised by each
	// floating-point and CSR instruction.
	StateSize = (31+32+1)*8 + windowSize
	tableSize = 512 // initial x and f registers, just below the window
)

// Registers with fixed roles: window bases are never written by the random
// stream, tmp is scratch for address computation.
const (
	regSP  = 2  // window start, for c.*sp forms
	regS0  = 8  // window start, for compressed loads/stores
	regLog = 29 // next free log record
	regTmp = 30 // scratch address register
	regWin = 31 // window start + 2048, for 12-bit offsets
)

// Program is a generated test program.
type Program struct {
	ELF []byte
	// Instructions is the number of random instructions under test in the
	// stream (not counting address setup and result logging).
	Instructions int
}

type item struct {
	bits uint32
	size int // 2 or 4
	// skip > 0 marks a forward branch or jump to the start of the item
	// skip positions later; bits holds the encoding with a zero offset.
	skip  int
	jtype bool // jal (J-type offset) rather than branch
	ctype int  // 1: c.j, 2: c.beqz/c.bnez
	// cont marks the later instructions of a sequence that must run as a
	// whole: forward branches never land on them.
	cont bool
}

type gen struct {
	r     *rand.Rand
	items []item
	ext   Extension
	// bodyEnd is the index of the first epilogue item; forward branches
	// never skip past it.
	bodyEnd int
	// logged: GenerateLogged, which also aims divisions at their edges.
	logged bool
}

// Generate builds a program of n random instructions of extension ext from
// seed.
func Generate(ext Extension, seed uint64, n int) Program {
	return generate(ext, seed, n, false)
}

// GenerateLogged is Generate with every instruction under test followed
// by a store of the register its rd field names to the log, so that every
// intermediate integer result is compared, not only the final state (the
// translator's tests: a wrong value that a later instruction overwrites
// still shows).
func GenerateLogged(ext Extension, seed uint64, n int) Program {
	return generate(ext, seed, n, true)
}

func generate(ext Extension, seed uint64, n int, logged bool) Program {
	g := &gen{r: rand.New(rand.NewPCG(seed, uint64(ext)+0x9e3779b97f4a7c15)), ext: ext, logged: logged}
	if n > MaxInstructions {
		n = MaxInstructions
	}
	// The layout does not depend on n, so that a shorter program with the
	// same seed is a prefix of a longer one (for bisecting a divergence).
	dataAddr := uint64(LoadAddr + codeOffset + pageRound(MaxInstructions*32+8192))
	windowAddr := dataAddr + 4096
	tableAddr := windowAddr - tableSize
	outAddr := windowAddr + windowSize
	logAddr := outAddr + StateSize

	// Prologue: x31 := window+2048 via lui/addi, then load the other
	// registers from the table.
	g.li(regWin, windowAddr+2048)
	g.li(regTmp, tableAddr)
	for i := 1; i < 32; i++ {
		if i == regWin || i == regTmp {
			continue
		}
		g.emit(iType(0x03, i, 3, regTmp, int32(i*8))) // ld
	}
	for i := 0; i < 32; i++ {
		g.emit(iType(0x07, i, 3, regTmp, int32(256+i*8))) // fld
	}
	g.emit(iType(0x03, regTmp, 3, regTmp, 30*8))
	g.li(regSP, windowAddr)
	g.li(regS0, windowAddr)
	g.li(regLog, logAddr)
	g.emit(iType(0x73, 0, 5, g.r.IntN(5), 0x002)) // csrwi frm, 0..4

	// Each call emits one instruction under test plus, for some, the
	// address setup and result logging around it.
	body := len(g.items)
	for i := 0; i < n; i++ {
		g.random()
		if logged {
			// Bits 7-11 are rd in every format that has one (others
			// log whichever register they name: still deterministic).
			rd := int(g.items[len(g.items)-1].bits >> 7 & 31)
			start := len(g.items)
			g.emit(sType(0x23, 3, regLog, rd, 0))
			g.emit(iType(0x13, regLog, 0, regLog, 16))
			// j .+4: the next instruction starts a basic block, so that
			// a translator resumes right after a store the interpreter
			// had to run.
			g.emit(0x0040006f)
			g.group(start)
		}
	}
	g.bodyEnd = len(g.items)

	// Epilogue: store state at outAddr.
	g.li(regWin, outAddr)
	for i := 1; i < 31; i++ {
		g.emit(sType(0x23, 3, regWin, i, int32((i-1)*8)))
	}
	g.li(regTmp, windowAddr+2048)
	g.emit(sType(0x23, 3, regWin, regTmp, 30*8))
	for i := 0; i < 32; i++ {
		g.emit(sType(0x27, 3, regWin, i, int32(31*8+i*8)))
	}
	g.emit(iType(0x73, 1, 2, 0, 0x003)) // csrr x1, fcsr
	g.emit(sType(0x23, 3, regWin, 1, 63*8))
	// Copy the window after the registers: out+64*8.
	g.li(5, windowAddr)
	g.li(6, outAddr+64*8)
	g.li(7, windowSize/8)
	g.emit(iType(0x03, 28, 3, 5, 0))         // loop: ld t3, 0(t0)
	g.emit(sType(0x23, 3, 6, 28, 0))         // sd t3, 0(t1)
	g.emit(iType(0x13, 5, 0, 5, 8))          // addi t0, t0, 8
	g.emit(iType(0x13, 6, 0, 6, 8))          // addi t1, t1, 8
	g.emit(iType(0x13, 7, 0, 7, -1))         // addi t2, t2, -1
	g.emit(bType(1, 7, 0, -20))              // bnez t2, loop
	g.li(10, 1)                              // a0 = stdout
	g.li(11, outAddr)                        // a1
	g.emit(iType(0x13, 12, 0, regLog, 0))    // a2 = log end
	g.emit(rType(0x33, 12, 0, 12, 11, 0x20)) // a2 -= a1
	g.li(17, 64)                             // write
	g.emit(0x00000073)                       // ecall
	g.li(10, 0)                              //
	g.li(17, 94)                             // exit_group
	g.emit(0x00000073)                       // ecall

	code := g.assemble()
	data := make([]byte, int(logAddr-dataAddr)+16*(g.bodyEnd-body))
	g.fillData(data[tableAddr-dataAddr:], data[windowAddr-dataAddr:][:windowSize])
	segment := make([]byte, int(dataAddr-LoadAddr)+len(data))
	copy(segment[codeOffset:], code)
	copy(segment[dataAddr-LoadAddr:], data)
	return Program{ELF: elf(segment, LoadAddr+codeOffset), Instructions: n}
}

func pageRound(v uint64) uint64 { return (v + 4095) &^ 4095 }

func (g *gen) emit(bits uint32) {
	g.items = append(g.items, item{bits: bits, size: 4})
}

// group marks the items from index start on (but the first) as one
// sequence.
func (g *gen) group(start int) {
	for i := start + 1; i < len(g.items); i++ {
		g.items[i].cont = true
	}
}

func (g *gen) emitC(bits uint16) {
	g.items = append(g.items, item{bits: uint32(bits), size: 2})
}

// li loads a constant of up to 32 significant bits (addresses and small
// values) with lui+addiw/addi.
func (g *gen) li(rd int, v uint64) {
	lo := int32(uint32(v)<<20) >> 20
	hi := uint32((int64(v) - int64(lo)) >> 12)
	if hi != 0 {
		g.emit(hi<<12 | uint32(rd)<<7 | 0x37)
		g.emit(iType(0x1b, rd, 0, rd, lo))
		return
	}
	g.emit(iType(0x13, rd, 0, 0, lo))
}

func (g *gen) assemble() []byte {
	offsets := make([]int, len(g.items)+1)
	for i, it := range g.items {
		offsets[i+1] = offsets[i] + it.size
	}
	out := make([]byte, 0, offsets[len(g.items)])
	for i, it := range g.items {
		bits := it.bits
		if it.skip > 0 {
			target := i + it.skip
			for target < g.bodyEnd && g.items[target].cont {
				target++
			}
			if target > g.bodyEnd {
				target = g.bodyEnd
			}
			off := int32(offsets[target] - offsets[i])
			switch {
			case it.ctype == 1:
				bits |= uint32(cjOffset(off))
			case it.ctype == 2:
				bits |= uint32(cbOffset(off))
			case it.jtype:
				bits |= jOffset(off)
			default:
				bits |= bOffset(off)
			}
		}
		if it.size == 2 {
			out = binary.LittleEndian.AppendUint16(out, uint16(bits))
		} else {
			out = binary.LittleEndian.AppendUint32(out, bits)
		}
	}
	return out
}

// fillData writes the initial register table (x at 0, f at 256) and the
// data window.
func (g *gen) fillData(table, win []byte) {
	for i := 0; i < 32; i++ {
		binary.LittleEndian.PutUint64(table[i*8:], g.intValue())
		binary.LittleEndian.PutUint64(table[256+i*8:], g.fpValue())
	}
	for i := 0; i < len(win); i += 8 {
		var v uint64
		if g.r.IntN(2) == 0 {
			v = g.fpValue()
		} else {
			v = g.intValue()
		}
		binary.LittleEndian.PutUint64(win[i:], v)
	}
}

func (g *gen) intValue() uint64 {
	switch g.r.IntN(8) {
	case 0:
		return []uint64{0, 1, ^uint64(0), 1 << 63, 1<<63 - 1, 1 << 31, 1<<31 - 1, 0xffffffff, 0x80000000_00000001, 2}[g.r.IntN(10)]
	case 1:
		return uint64(g.r.IntN(64)) - 32
	case 2:
		return uint64(int64(int32(g.r.Uint32())))
	case 3:
		return uint64(g.r.Uint32())
	}
	return g.r.Uint64()
}

var specialDoubles = []uint64{
	0, 1 << 63, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000, 0x7ff4000000000000,
	0xfff8000000000001, 0x7ff0000000000001, 1, 0x000fffffffffffff, 0x8000000000000001, 0x0010000000000000,
	0x7fefffffffffffff, 0xffefffffffffffff, 0x3ff0000000000000, 0xbff0000000000000, 0x3fe0000000000000,
	0x4000000000000000, 0x43e0000000000000, 0xc3e0000000000000, 0x41dfffffffc00000, 0x41e0000000000000,
	0xc1e0000000000000, 0x43f0000000000000, 0x3ff8000000000000, 0x4004000000000000, 0xc004000000000000,
}

var specialFloats = []uint32{
	0, 1 << 31, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00000, 0xffc00001, 0x7f800001, 1, 0x007fffff,
	0x80000001, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000, 0x3f000000, 0x40000000,
	0x4f000000, 0xcf000000, 0x5f000000, 0xdf000000, 0x4f800000, 0x3fc00000, 0x40200000, 0xc0200000,
}

func (g *gen) fpValue() uint64 {
	switch g.r.IntN(12) {
	case 0:
		return specialDoubles[g.r.IntN(len(specialDoubles))]
	case 1:
		return 0xffffffff00000000 | uint64(specialFloats[g.r.IntN(len(specialFloats))])
	case 2: // small doubles: exact and inexact integer conversions
		return math.Float64bits(float64(g.r.IntN(2001)-1000) / float64(1+g.r.IntN(8)))
	case 3:
		return 0xffffffff00000000 | uint64(math.Float32bits(float32(g.r.IntN(2001)-1000)/float32(1+g.r.IntN(8))))
	case 4: // random single, boxed
		return 0xffffffff00000000 | uint64(g.r.Uint32())
	case 5: // doubles near the subnormal and overflow boundaries
		e := []uint64{0, 1, 2, 52, 53, 54, 0x7fe, 0x7fd, 0x3ff, 0x400, 0x380, 0x36a, 0x381, 0x47e, 0x47f}[g.r.IntN(15)]
		return g.r.Uint64()&(1<<63|(1<<52-1)) | e<<52
	case 6: // singles near the boundaries
		e := []uint32{0, 1, 2, 23, 24, 0xfe, 0xfd, 0x7f, 0x80}[g.r.IntN(9)]
		return 0xffffffff00000000 | uint64(g.r.Uint32()&(1<<31|(1<<23-1))|e<<23)
	case 7: // an improperly boxed single
		return g.r.Uint64() &^ (1 << 63)
	case 8: // few significant bits at full precision: sums and products
		// of these round at ties
		v := math.Ldexp(1, 20+g.r.IntN(44)) + float64(g.r.IntN(16)-8) + float64(g.r.IntN(4))/4
		if g.r.IntN(2) == 0 {
			v = -v
		}
		if g.r.IntN(2) == 0 {
			return 0xffffffff00000000 | uint64(math.Float32bits(float32(v)))
		}
		return math.Float64bits(v)
	case 9: // small dyadic fractions
		v := float64(g.r.IntN(64)-32) / float64(int(1)<<g.r.IntN(6))
		if g.r.IntN(2) == 0 {
			return 0xffffffff00000000 | uint64(math.Float32bits(float32(v)))
		}
		return math.Float64bits(v)
	}
	return g.r.Uint64()
}

// Register choice.

func (g *gen) rd() int {
	for {
		r := g.r.IntN(32)
		if r != regSP && r != regS0 && r != regLog && r != regTmp && r != regWin {
			return r
		}
	}
}

func (g *gen) rs() int { return g.r.IntN(32) }

// rdc returns a compressed 3-bit register (x9..x15) that may be written.
func (g *gen) rdc() int { return 9 + g.r.IntN(7) }

func (g *gen) rm() int {
	if g.r.IntN(4) == 0 {
		return 7
	}
	return g.r.IntN(5)
}

// memOff returns an offset from x31 that keeps an access of size bytes in
// the window, aligned to align.
func (g *gen) memOff(size, align int) int32 {
	off := g.r.IntN(windowSize-size+1) &^ (align - 1)
	return int32(off - 2048)
}

func (g *gen) random() {
	switch g.ext {
	case ExtI:
		g.randomI()
	case ExtM:
		g.randomM()
	case ExtA:
		g.randomA()
	case ExtC:
		g.randomC()
	case ExtF:
		g.randomFP(false)
	case ExtD:
		g.randomFP(true)
	case ExtZicsr:
		g.randomCSR()
	}
}

func (g *gen) randomI() {
	rd, rs1, rs2 := g.rd(), g.rs(), g.rs()
	imm := int32(g.r.IntN(4096)) - 2048
	switch g.r.IntN(12) {
	case 0:
		g.emit(g.r.Uint32()&0xfffff000 | uint32(rd)<<7 | []uint32{0x37, 0x17}[g.r.IntN(2)])
	case 1, 2:
		f3 := []uint32{0, 2, 3, 4, 6, 7}[g.r.IntN(6)]
		g.emit(iType(0x13, rd, f3, rs1, imm))
	case 3:
		f := []uint32{0x1000, 0x5000, 0x40005000}[g.r.IntN(3)]
		g.emit(0x13 | uint32(rd)<<7 | uint32(rs1)<<15 | uint32(g.r.IntN(64))<<20 | f)
	case 4:
		switch g.r.IntN(4) {
		case 0:
			g.emit(iType(0x1b, rd, 0, rs1, imm))
		default:
			f := []uint32{0x1000, 0x5000, 0x40005000}[g.r.IntN(3)]
			g.emit(0x1b | uint32(rd)<<7 | uint32(rs1)<<15 | uint32(g.r.IntN(32))<<20 | f)
		}
	case 5, 6:
		ops := [][2]uint32{{0, 0}, {0x20, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0x20, 5}, {0, 6}, {0, 7}}
		o := ops[g.r.IntN(len(ops))]
		g.emit(rType(0x33, rd, o[1], rs1, rs2, o[0]))
	case 7:
		ops := [][2]uint32{{0, 0}, {0x20, 0}, {0, 1}, {0, 5}, {0x20, 5}}
		o := ops[g.r.IntN(len(ops))]
		g.emit(rType(0x3b, rd, o[1], rs1, rs2, o[0]))
	case 8: // load
		f3 := g.r.IntN(7)
		size := 1 << (f3 & 3)
		g.emit(iType(0x03, rd, uint32(f3), regWin, g.memOff(size, g.align(size))))
	case 9: // store
		f3 := g.r.IntN(4)
		size := 1 << f3
		g.emit(sType(0x23, uint32(f3), regWin, rs2, g.memOff(size, g.align(size))))
	case 10: // forward branch
		f3 := []uint32{0, 1, 4, 5, 6, 7}[g.r.IntN(6)]
		g.items = append(g.items, item{bits: bType(f3, rs1, rs2, 0), size: 4, skip: 1 + g.r.IntN(4)})
	case 11: // forward jal / jalr via auipc
		if g.r.IntN(2) == 0 {
			g.items = append(g.items, item{bits: 0x6f | uint32(rd)<<7, size: 4, skip: 1 + g.r.IntN(4), jtype: true})
		} else {
			// auipc tmp, 0; jalr rd, 12(tmp) skips one instruction.
			start := len(g.items)
			g.emit(0x17 | regTmp<<7)
			g.emit(iType(0x67, rd, 0, regTmp, 12))
			g.emit(iType(0x13, rd, 0, rs1, imm))
			g.group(start)
		}
	}
}

// align picks natural alignment most of the time and byte alignment
// (emulated misaligned access) sometimes.
func (g *gen) align(size int) int {
	if g.r.IntN(8) == 0 {
		return 1
	}
	return size
}

func (g *gen) randomM() {
	rd, rs1, rs2 := g.rd(), g.rs(), g.rs()
	if g.logged && g.r.IntN(6) == 0 {
		// The cases that division defines specially: by zero, and the
		// most negative value by -1 (64- or 32-bit).
		rs1, rs2 = g.rd(), g.rd()
		if rs1 != rs2 {
			start := len(g.items)
			g.emit(iType(0x13, rs2, 0, 0, int32(g.r.IntN(2))-1)) // li rs2, -1 or 0
			if g.r.IntN(2) == 0 {
				g.emit(iType(0x13, rs1, 0, 0, -1))   // li rs1, -1
				g.emit(iType(0x13, rs1, 1, rs1, 63)) // slli rs1, rs1, 63
			} else {
				g.emit(0x37 | uint32(rs1)<<7 | 0x80000000) // lui rs1, 0x80000
			}
			defer g.group(start)
		}
	}
	if g.r.IntN(4) == 0 {
		f3 := []uint32{0, 4, 5, 6, 7}[g.r.IntN(5)]
		g.emit(rType(0x3b, rd, f3, rs1, rs2, 1))
		return
	}
	g.emit(rType(0x33, rd, uint32(g.r.IntN(8)), rs1, rs2, 1))
}

func (g *gen) randomA() {
	rd, rs2 := g.rd(), g.rs()
	double := g.r.IntN(2)
	size := 4 << double
	f3 := uint32(2 + double)
	aqrl := uint32(g.r.IntN(4)) << 25
	defer g.group(len(g.items))
	g.emit(iType(0x13, regTmp, 0, regWin, g.memOff(size, size)))
	switch g.r.IntN(6) {
	case 0: // lr/sc pair, sometimes to a different address
		g.emit(rType(0x2f, rd, f3, regTmp, 0, 0x02<<2) | aqrl)
		if g.r.IntN(4) == 0 {
			g.emit(iType(0x13, regTmp, 0, regWin, g.memOff(size, size)))
		}
		g.emit(rType(0x2f, g.rd(), f3, regTmp, rs2, 0x03<<2) | aqrl)
	case 1: // lone sc
		g.emit(rType(0x2f, rd, f3, regTmp, rs2, 0x03<<2) | aqrl)
	default:
		funct5 := []uint32{0x01, 0x00, 0x04, 0x0c, 0x08, 0x10, 0x14, 0x18, 0x1c}[g.r.IntN(9)]
		g.emit(rType(0x2f, rd, f3, regTmp, rs2, funct5<<2) | aqrl)
	}
}

func (g *gen) randomC() {
	r := g.r
	rdc, rs2c := g.rdc(), 8+r.IntN(8)
	rd := g.rd()
	rs2 := g.rs()
	imm6 := r.IntN(64)
	nz6 := 1 + r.IntN(63)
	b := func(v, pos int) uint16 { return uint16(v) << pos }
	switch r.IntN(24) {
	case 0: // c.addi
		g.emitC(0x0001 | b(imm6>>5, 12) | b(rd, 7) | b(imm6&31, 2))
	case 1: // c.addiw
		if rd == 0 {
			rd = 1
		}
		g.emitC(0x2001 | b(imm6>>5, 12) | b(rd, 7) | b(imm6&31, 2))
	case 2: // c.li
		g.emitC(0x4001 | b(imm6>>5, 12) | b(rd, 7) | b(imm6&31, 2))
	case 3: // c.lui
		if rd == 0 {
			rd = 1
		}
		g.emitC(0x6001 | b(nz6>>5, 12) | b(rd, 7) | b(nz6&31, 2))
	case 4: // c.srli, c.srai
		g.emitC(0x8001 | b(r.IntN(2), 10) | b(imm6>>5, 12) | b(rdc-8, 7) | b(imm6&31, 2))
	case 5: // c.andi
		g.emitC(0x8801 | b(imm6>>5, 12) | b(rdc-8, 7) | b(imm6&31, 2))
	case 6: // c.sub/xor/or/and/subw/addw
		hi := r.IntN(2)
		op := r.IntN(4)
		if hi == 1 {
			op = r.IntN(2)
		}
		g.emitC(0x8c01 | b(hi, 12) | b(rdc-8, 7) | b(op, 5) | b(rs2c-8, 2))
	case 7: // c.slli
		g.emitC(0x0002 | b(imm6>>5, 12) | b(rd, 7) | b(imm6&31, 2))
	case 8: // c.mv
		if rs2 == 0 {
			rs2 = 1
		}
		g.emitC(0x8002 | b(rd, 7) | b(rs2, 2))
	case 9: // c.add
		if rs2 == 0 {
			rs2 = 1
		}
		g.emitC(0x9002 | b(rd, 7) | b(rs2, 2))
	case 10: // c.lw / c.ld via x8
		if r.IntN(2) == 0 {
			off := r.IntN(32) * 4
			g.emitC(0x4000 | b(off>>3&7, 10) | b(off>>2&1, 6) | b(off>>6&1, 5) | b(0, 7) | b(rdc-8, 2))
		} else {
			off := r.IntN(32) * 8
			g.emitC(0x6000 | b(off>>3&7, 10) | b(off>>6&3, 5) | b(0, 7) | b(rdc-8, 2))
		}
	case 11: // c.sw / c.sd via x8
		if r.IntN(2) == 0 {
			off := r.IntN(32) * 4
			g.emitC(0xc000 | b(off>>3&7, 10) | b(off>>2&1, 6) | b(off>>6&1, 5) | b(rs2c-8, 2))
		} else {
			off := r.IntN(32) * 8
			g.emitC(0xe000 | b(off>>3&7, 10) | b(off>>6&3, 5) | b(rs2c-8, 2))
		}
	case 12: // c.lwsp / c.ldsp
		if rd == 0 {
			rd = 1
		}
		if r.IntN(2) == 0 {
			off := r.IntN(64) * 4
			g.emitC(0x4002 | b(off>>5&1, 12) | b(rd, 7) | b(off>>2&7, 4) | b(off>>6&3, 2))
		} else {
			off := r.IntN(64) * 8
			g.emitC(0x6002 | b(off>>5&1, 12) | b(rd, 7) | b(off>>3&3, 5) | b(off>>6&7, 2))
		}
	case 13: // c.swsp / c.sdsp
		if r.IntN(2) == 0 {
			off := r.IntN(64) * 4
			g.emitC(0xc002 | b(off>>2&15, 9) | b(off>>6&3, 7) | b(rs2, 2))
		} else {
			off := r.IntN(64) * 8
			g.emitC(0xe002 | b(off>>3&7, 10) | b(off>>6&7, 7) | b(rs2, 2))
		}
	case 14: // c.fld / c.fsd via x8, c.fldsp / c.fsdsp
		off := r.IntN(32) * 8
		switch r.IntN(4) {
		case 0:
			g.emitC(0x2000 | b(off>>3&7, 10) | b(off>>6&3, 5) | b(r.IntN(8), 2))
		case 1:
			g.emitC(0xa000 | b(off>>3&7, 10) | b(off>>6&3, 5) | b(r.IntN(8), 2))
		case 2:
			off = r.IntN(64) * 8
			g.emitC(0x2002 | b(off>>5&1, 12) | b(r.IntN(32), 7) | b(off>>3&3, 5) | b(off>>6&7, 2))
		default:
			off = r.IntN(64) * 8
			g.emitC(0xa002 | b(off>>3&7, 10) | b(off>>6&7, 7) | b(r.IntN(32), 2))
		}
	case 15: // c.addi4spn: rd' = sp + nzuimm
		nz := (1 + r.IntN(255)) * 4
		g.emitC(0x0000 | b(nz>>4&3, 11) | b(nz>>6&15, 7) | b(nz>>2&1, 6) | b(nz>>3&1, 5) | b(rdc-8, 2))
	case 16: // c.j forward
		g.items = append(g.items, item{bits: 0xa001, size: 2, skip: 1 + r.IntN(4), ctype: 1})
	case 17: // c.beqz / c.bnez forward on a readable compressed register
		g.items = append(g.items, item{bits: 0xc001 | uint32(r.IntN(2))<<13 | uint32(r.IntN(8))<<7, size: 2, skip: 1 + r.IntN(4), ctype: 2})
	case 18: // c.jr / c.jalr: auipc tmp, 0; addi tmp, tmp, 12; c.jalr tmp; skipped c.addi
		start := len(g.items)
		defer g.group(start)
		g.emit(0x17 | regTmp<<7)
		g.emit(iType(0x13, regTmp, 0, regTmp, 12))
		if r.IntN(2) == 0 {
			g.emitC(0x8002 | regTmp<<7)
		} else {
			g.emitC(0x9002 | regTmp<<7)
		}
		g.emitC(0x0001 | b(rd, 7) | b(imm6&31, 2))
	default: // keep some 32-bit instructions in the mix
		g.randomI()
	}
}

// record logs x[rd] (or f[rd] when fp) and the fflags raised since the
// last record, then clears them.
func (g *gen) record(rd int, fp bool) {
	if fp {
		g.emit(sType(0x27, 3, regLog, rd, 0)) // fsd
	} else {
		g.emit(sType(0x23, 3, regLog, rd, 0)) // sd
	}
	g.emit(iType(0x73, regTmp, 1, 0, 0x001)) // csrrw tmp, fflags, x0
	g.emit(sType(0x23, 3, regLog, regTmp, 8))
	g.emit(iType(0x13, regLog, 0, regLog, 16))
}

func (g *gen) randomFP(double bool) {
	r := g.r
	defer g.group(len(g.items))
	if r.IntN(4) == 0 { // refresh a register from the initial table
		g.emit(iType(0x07, r.IntN(32), 3, regSP, int32(-256+8*r.IntN(32))))
	}
	destX, destF := -1, -1
	defer func() {
		switch {
		case destX >= 0:
			g.record(destX, false)
		case destF >= 0:
			g.record(destF, true)
		}
	}()
	fmt := uint32(0)
	if double {
		fmt = 1
	}
	fd, fs1, fs2, fs3 := r.IntN(32), r.IntN(32), r.IntN(32), r.IntN(32)
	rd := g.rd()
	destF = fd
	rm := uint32(g.rm())
	op := func(funct5 uint32, rs2 int, f3 uint32) uint32 {
		return rType(0x53, fd, f3, fs1, rs2, funct5<<2|fmt)
	}
	switch r.IntN(16) {
	case 0, 1:
		g.emit(op([]uint32{0x00, 0x01, 0x02, 0x03}[r.IntN(4)], fs2, rm))
	case 2:
		g.emit(op(0x0b, 0, rm)) // fsqrt
	case 3, 4:
		g.emit(rType(0x43+uint32(r.IntN(4))<<2, fd, rm, fs1, fs2, uint32(fs3)<<2|fmt))
	case 5:
		g.emit(op(0x04, fs2, uint32(r.IntN(3)))) // fsgnj*
	case 6:
		g.emit(op(0x05, fs2, uint32(r.IntN(2)))) // fmin/fmax
	case 7: // compare into x
		destX = rd
		g.emit(rType(0x53, rd, uint32(r.IntN(3)), fs1, fs2, 0x14<<2|fmt))
	case 8: // fclass, fmv.x
		destX = rd
		g.emit(rType(0x53, rd, uint32(r.IntN(2)), fs1, 0, 0x1c<<2|fmt))
	case 9: // fmv from x
		g.emit(rType(0x53, fd, 0, g.rs(), 0, 0x1e<<2|fmt))
	case 10, 11: // float to int
		destX = rd
		g.emit(rType(0x53, rd, rm, fs1, r.IntN(4), 0x18<<2|fmt))
	case 12: // int to float
		g.emit(rType(0x53, fd, rm, g.rs(), r.IntN(4), 0x1a<<2|fmt))
	case 13: // fcvt.s.d / fcvt.d.s
		if double {
			g.emit(rType(0x53, fd, rm, fs1, 0, 0x21))
		} else {
			g.emit(rType(0x53, fd, rm, fs1, 1, 0x20))
		}
	case 14: // load/store
		size := 4 << fmt
		destF = -1
		if r.IntN(2) == 0 {
			destF = fd
			g.emit(iType(0x07, fd, 2+fmt, regWin, g.memOff(size, g.align(size))))
		} else {
			g.emit(sType(0x27, 2+fmt, regWin, fs2, g.memOff(size, g.align(size))))
		}
	case 15: // change the rounding mode or read/clear flags
		destX = rd
		switch r.IntN(3) {
		case 0:
			g.emit(iType(0x73, rd, 5, r.IntN(5), 0x002)) // csrrwi frm
		case 1:
			g.emit(iType(0x73, rd, 7, r.IntN(32), 0x001)) // csrrci fflags
		default:
			g.emit(iType(0x73, rd, 2, 0, 0x003)) // csrr fcsr
		}
	}
}

func (g *gen) randomCSR() {
	r := g.r
	rd := g.rd()
	csr := int32(1 + r.IntN(3))
	defer g.group(len(g.items))
	switch r.IntN(4) {
	case 0: // register forms with a source masked to keep frm valid
		g.emit(iType(0x13, regTmp, 7, g.rs(), 0x1f)) // andi tmp, rs, 0x1f
		f3 := uint32(1 + r.IntN(3))
		if csr == 2 {
			g.emit(iType(0x13, regTmp, 7, regTmp, 3))
		}
		if f3 == 2 && csr != 1 { // csrrs could make frm invalid
			f3 = 3
		}
		g.emit(iType(0x73, rd, f3, regTmp, csr))
	case 1:
		f3 := uint32(5 + r.IntN(3))
		v := r.IntN(32)
		if csr != 1 {
			v &= 3
			if f3 == 6 {
				f3 = 7
			}
		}
		g.emit(iType(0x73, rd, f3, v, csr))
	case 2:
		g.emit(iType(0x73, rd, 2, 0, csr)) // csrr
	default: // raise flags with floating-point work
		g.randomFP(r.IntN(2) == 0)
		return
	}
	g.emit(sType(0x23, 3, regLog, rd, 0))
	g.emit(iType(0x13, regLog, 0, regLog, 16))
}

// Encoders.

func rType(op uint32, rd int, f3 uint32, rs1, rs2 int, f7 uint32) uint32 {
	return op | uint32(rd)<<7 | f3<<12 | uint32(rs1)<<15 | uint32(rs2)<<20 | f7<<25
}

func iType(op uint32, rd int, f3 uint32, rs1 int, imm int32) uint32 {
	return op | uint32(rd)<<7 | f3<<12 | uint32(rs1)<<15 | uint32(imm)<<20
}

func sType(op uint32, f3 uint32, rs1, rs2 int, imm int32) uint32 {
	u := uint32(imm)
	return op | (u&31)<<7 | f3<<12 | uint32(rs1)<<15 | uint32(rs2)<<20 | (u>>5&0x7f)<<25
}

func bType(f3 uint32, rs1, rs2 int, off int32) uint32 {
	return 0x63 | f3<<12 | uint32(rs1)<<15 | uint32(rs2)<<20 | bOffset(off)
}

func bOffset(off int32) uint32 {
	u := uint32(off)
	return (u>>12&1)<<31 | (u>>5&0x3f)<<25 | (u>>1&0xf)<<8 | (u>>11&1)<<7
}

func jOffset(off int32) uint32 {
	u := uint32(off)
	return (u>>20&1)<<31 | (u>>1&0x3ff)<<21 | (u>>11&1)<<20 | (u>>12&0xff)<<12
}

func cjOffset(off int32) uint16 {
	u := uint16(off)
	return (u>>11&1)<<12 | (u>>4&1)<<11 | (u>>8&3)<<9 | (u>>10&1)<<8 | (u>>6&1)<<7 | (u>>7&1)<<6 | (u>>1&7)<<3 | (u>>5&1)<<2
}

func cbOffset(off int32) uint16 {
	u := uint16(off)
	return (u>>8&1)<<12 | (u>>3&3)<<10 | (u>>6&3)<<5 | (u>>1&3)<<3 | (u>>5&1)<<2
}

// elf wraps one read-write-execute segment loaded at LoadAddr into a
// static riscv64 ELF executable.
func elf(segment []byte, entry uint64) []byte {
	const ehsize, phsize = 64, 56
	b := make([]byte, 0x1000)
	copy(b, "\x7fELF\x02\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(b[16:], 2)      // ET_EXEC
	le.PutUint16(b[18:], 243)    // EM_RISCV
	le.PutUint32(b[20:], 1)      // EV_CURRENT
	le.PutUint64(b[24:], entry)  // e_entry
	le.PutUint64(b[32:], ehsize) // e_phoff
	le.PutUint32(b[48:], 0x5)    // e_flags: RVC, double-float ABI
	le.PutUint16(b[52:], ehsize)
	le.PutUint16(b[54:], phsize)
	le.PutUint16(b[56:], 1) // e_phnum
	ph := b[ehsize:]
	le.PutUint32(ph[0:], 1)                     // PT_LOAD
	le.PutUint32(ph[4:], 7)                     // RWX
	le.PutUint64(ph[8:], 0x1000)                // p_offset
	le.PutUint64(ph[16:], LoadAddr)             // p_vaddr
	le.PutUint64(ph[24:], LoadAddr)             // p_paddr
	le.PutUint64(ph[32:], uint64(len(segment))) // p_filesz
	le.PutUint64(ph[40:], uint64(len(segment))) // p_memsz
	le.PutUint64(ph[48:], 0x1000)               // p_align
	return append(b, segment...)
}
