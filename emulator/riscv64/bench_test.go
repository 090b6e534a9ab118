package riscv64

import (
	"encoding/binary"
	"testing"
)

// Register numbers used by the benchmark program.
const (
	regRA = 1
	regT0 = 5
	regT1 = 6
	regS0 = 8
	regS1 = 9
	regA1 = 11
	regA2 = 12
	regA3 = 13
	regT3 = 28
)

func encR(f7, rs2, rs1, f3, rd, opcode uint32) uint32 {
	return f7<<25 | rs2<<20 | rs1<<15 | f3<<12 | rd<<7 | opcode
}

func encI(imm int32, rs1, f3, rd, opcode uint32) uint32 {
	return uint32(imm)<<20 | rs1<<15 | f3<<12 | rd<<7 | opcode
}

func encS(imm int32, rs2, rs1, f3 uint32) uint32 {
	u := uint32(imm)
	return (u>>5&0x7f)<<25 | rs2<<20 | rs1<<15 | f3<<12 | (u&31)<<7 | 0x23
}

func encB(off int32, rs2, rs1, f3 uint32) uint32 {
	u := uint32(off)
	return (u>>12&1)<<31 | (u>>5&0x3f)<<25 | rs2<<20 | rs1<<15 | f3<<12 | (u>>1&0xf)<<8 | (u>>11&1)<<7 | 0x63
}

func encJal(off int32, rd uint32) uint32 {
	u := uint32(off)
	return (u>>20&1)<<31 | (u>>1&0x3ff)<<21 | (u>>11&1)<<20 | (u>>12&0xff)<<12 | rd<<7 | 0x6f
}

// benchProgram is a CPU-bound guest loop with an ordinary instruction mix:
// a load and a store, register and immediate arithmetic, shifts, a call
// and return, and a conditional branch. Per iteration (16 instructions) it
// mixes a 2 KiB ring of words at s0 (index s1) into a running value a2 and
// counts calls in a3; a1 counts iterations down to zero, then it ecalls.
func benchProgram() []byte {
	const loop, fn = 0, 15 * 4
	code := []uint32{
		encR(0, regS1, regS0, 0, regT3, 0x33), // add  t3, s0, s1
		encI(0, regT3, 3, regT0, 0x03),        // ld   t0, 0(t3)
		encR(0, regA2, regT0, 0, regT0, 0x33), // add  t0, t0, a2
		encI(13, regT0, 1, regT1, 0x13),       // slli t1, t0, 13
		encR(0, regT1, regT0, 4, regT0, 0x33), // xor  t0, t0, t1
		encI(7, regT0, 5, regT1, 0x13),        // srli t1, t0, 7
		encR(0, regT1, regT0, 4, regT0, 0x33), // xor  t0, t0, t1
		encS(0, regT0, regT3, 3),              // sd   t0, 0(t3)
		encI(0, regT0, 0, regA2, 0x13),        // addi a2, t0, 0
		encI(8, regS1, 0, regS1, 0x13),        // addi s1, s1, 8
		encI(0x7f8, regS1, 7, regS1, 0x13),    // andi s1, s1, 0x7f8
		encJal(fn-11*4, regRA),                // jal  ra, fn
		encI(-1, regA1, 0, regA1, 0x13),       // addi a1, a1, -1
		encB(loop-13*4, 0, regA1, 1),          // bne  a1, zero, loop
		0x00000073,                            // ecall
		encI(1, regA3, 0, regA3, 0x1b),        // fn: addiw a3, a3, 1
		encI(0, regRA, 0, 0, 0x67),            // jalr zero, 0(ra)
	}
	b := make([]byte, 0, 4*len(code))
	for _, w := range code {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

const (
	benchCode = 0x10000
	benchData = 0x20000
)

// benchExpect computes in Go what benchProgram leaves in a2 and a3.
func benchExpect(ring []uint64, iterations uint64) (a2, a3 uint64) {
	var s1 uint64
	for i := uint64(0); i < iterations; i++ {
		t0 := ring[s1/8] + a2
		t0 ^= t0 << 13
		t0 ^= t0 >> 7
		ring[s1/8] = t0
		a2 = t0
		s1 = (s1 + 8) & 0x7f8
		a3 = uint64(int64(int32(a3 + 1)))
	}
	return a2, a3
}

// BenchmarkRun reports the interpreter's speed on benchProgram in guest
// MIPS. It checks the result against benchExpect, so a fast but wrong
// interpreter fails instead of reporting a number.
func BenchmarkRun(b *testing.B) {
	const iterations = 1 << 16
	m := NewMemory()
	if err := m.Map(benchCode, PageSize, PermRead|PermExec); err != nil {
		b.Fatal(err)
	}
	if err := m.Map(benchData, PageSize, PermRead|PermWrite); err != nil {
		b.Fatal(err)
	}
	if err := m.Poke(benchCode, benchProgram()); err != nil {
		b.Fatal(err)
	}
	ring := make([]uint64, 256)
	var instructions uint64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for i := range ring {
			ring[i] = uint64(i) * 0x9e3779b97f4a7c15
		}
		data := make([]byte, 8*len(ring))
		for i, v := range ring {
			binary.LittleEndian.PutUint64(data[8*i:], v)
		}
		if err := m.WriteBytes(benchData, data); err != nil {
			b.Fatal(err)
		}
		c := &CPU{Mem: m, PC: benchCode}
		c.X[regS0], c.X[regA1] = benchData, iterations
		b.StartTimer()
		ex := c.Run(1 << 40)
		b.StopTimer()
		if ex.Reason != ExitEcall {
			b.Fatalf("exit %v, want an ecall", ex)
		}
		wantA2, wantA3 := benchExpect(ring, iterations)
		if c.X[regA2] != wantA2 || c.X[regA3] != wantA3 {
			b.Fatalf("a2, a3 = %#x, %d; want %#x, %d", c.X[regA2], c.X[regA3], wantA2, wantA3)
		}
		instructions += c.Instret
		b.StartTimer()
	}
	b.ReportMetric(float64(instructions)/b.Elapsed().Seconds()/1e6, "MIPS")
}
