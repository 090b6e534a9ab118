package riscv64

import (
	"math"
	"math/bits"
)

// Run executes instructions until one of them needs the Linux layer (ecall,
// ebreak, illegal instruction, memory fault) or about budget instructions
// have retired; the budget is checked at taken branches, jumps and page
// crossings, so Run may overshoot it by at most one straight-line run of a
// page. The returned Exit says why it stopped; c.PC is Exit.PC.
//
// Run is shaped for Go's WebAssembly backend, where every jump between
// basic blocks is a trip through the function's br_table dispatch loop
// and a call spills every live value to memory:
//   - the common instructions execute inline in one loop over the slots of
//     a decoded page, with no calls in it: whatever needs one (a TLB miss,
//     an instruction not decoded yet, floating-point arithmetic, atomics,
//     CSRs, system calls) leaves the loop for step;
//   - few values live across iterations (the CPU, the code page, the slot
//     index and the remaining budget), since the backend has sixteen
//     registers;
//   - WebAssembly builds test the branch-free forms of unified.go first;
//     native builds dispatch through a switch, which there is a jump table.
func (c *CPU) Run(budget uint64) Exit {
	if c.Mem != c.itlbMem {
		c.flushITLB()
		c.itlbMem = c.Mem
	}
	if budget > math.MaxInt64 {
		budget = math.MaxInt64
	}
	// Kept in c rather than a local, so that it does not occupy a register
	// across the loop: only step and the exit read it.
	c.budget = budget
	x := &c.X
	pc := c.PC
	// left is the budget still available; straight-line code may drive
	// it below zero by at most one page of instructions.
	left := int64(budget)
	c.profVA = noProfile
	profiling := c.Mem.OnExecuted != nil
	// Every way out of the loop leaves the exit's details in c.exit and the
	// faulting or next pc in pc.
outer:
	for {
		if profiling {
			c.profile(pc, left)
		}
		if left <= 0 {
			c.exit = Exit{Reason: ExitBudget}
			break
		}
		// The inline instruction-TLB probe; the compare also fails for an
		// odd pc, which codePageFor reports as misaligned.
		cp := c.itlb[(pc>>pageShift)&(itlbSize-1)].cp
		if cp == nil || cp.va != pc&^(pageMask&^1) || !cp.valid {
			if cp = c.codePageFor(pc); cp == nil {
				break
			}
		}
		idx := (pc & pageMask) >> 1
		insts := &cp.insts // checked for nil here rather than in the loop
		var in *inst
	run:
		for idx < slots {
			in = &insts[idx]
			left--
			if unifiedOps {
				// Branch-free forms first, in the order of their frequency
				// in ordinary programs (the add family, loads, other
				// arithmetic, branches, stores, jumps): each test that
				// fails costs a dispatch in WebAssembly. Their fields come
				// from one load of the instruction's header.
				if in.op == opSum {
					h := in.header()
					wsh := h >> hRs3 & 32
					r := x[h>>hRs1&31] + x[h>>hRs2&31] + in.imm
					x[h>>hRd&31] = uint64(int64(r<<wsh) >> wsh)
					idx += h >> hHalfword
					continue
				}
				if in.op == opLoad {
					h := in.header()
					addr := x[h>>hRs1&31] + in.imm
					size := uint64(1) << (h >> hFop & 3)
					e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
					var v uint64
					if addr&^(pageMask&^(size-1)) == e.tag {
						v = ld64(e.data, addr&^7) >> ((addr & 7) * 8 & 63)
					} else {
						break run
					}
					// Keep the low size bytes, zero- or sign-extended.
					drop := h >> hRs3 & 63
					v <<= drop
					r := v >> drop
					if h>>hRm&0xff != 0 {
						r = uint64(int64(v) >> drop)
					}
					x[h>>hRd&31] = r
					x[0] = 0
					idx += h >> hHalfword
					continue
				}
				if in.op == opALU {
					h := in.header()
					// The destination and the next slot are taken up
					// front, which keeps fewer values alive through the
					// computation.
					f := h >> hFop & 0xff
					a := x[h>>hRs1&31]
					b := x[h>>hRs2&31] + in.imm
					rd := h >> hRd & 31
					idx += h >> hHalfword
					wsh := h >> hRs3 & 32
					neg := uint64(int64(h<<(56-hRm)) >> 56) // rm, sign-extended
					sh := b &^ wsh & 63
					amt := (sh + wsh) & 63
					src := a << wsh
					r := a + (b ^ neg) - neg
					logic := a&b&-(f>>aluAndBit&1) ^ (a^b)&-(f>>aluXorBit&1)
					sll := a << sh
					// One right shift: arithmetic, then masked to a
					// logical one unless neg says arithmetic.
					shr := uint64(int64(src)>>amt) & (^uint64(0) >> (amt &^ neg & 63))
					flip := neg << 63
					lt := b2u(a^flip < b^flip)
					// A tree of selects on the low bits of the family:
					// fewer conditions alive at once than one compare per
					// family.
					if f&1 != 0 {
						r = logic
						sll = shr
					}
					if f&2 != 0 {
						r = sll
					}
					if f&4 != 0 {
						r = lt
					}
					x[rd] = uint64(int64(r<<wsh) >> wsh)
					continue
				}
				if in.op == opBranch {
					h := in.header()
					a, b := x[h>>hRs1&31], x[h>>hRs2&31]
					flip := (h >> hRs3 & 0x80) << 56
					taken := a == b
					if h>>hFop&brLess != 0 {
						taken = a^flip < b^flip
					}
					if taken != (h>>hFop&brInvert != 0) {
						if t := in.imm - cp.va; t < PageSize && left > 0 {
							idx = t >> 1
							continue
						}
						pc = in.imm
						continue outer
					}
					idx += h >> hHalfword
					continue
				}
				if in.op == opStore {
					h := in.header()
					addr := x[h>>hRs1&31] + in.imm
					v := x[h>>hRs2&31]
					size := uint64(1) << (h >> hFop & 3)
					e := &c.Mem.wtlb[(addr>>pageShift)&(tlbSize-1)]
					if addr&^(pageMask&^(size-1)) == e.tag {
						sh := (addr & 7) * 8 & 63
						mask := ^uint64(0) >> (h >> hRs3 & 63) << sh
						word := addr &^ 7
						st64(e.data, word, ld64(e.data, word)&^mask|v<<sh&mask)
					} else {
						break run
					}
					idx += h >> hHalfword
					continue
				}
				if in.op == opJump {
					h := in.header()
					// The target is read before the link is written:
					// rd may equal rs1.
					target := (x[h>>hRs1&31] + in.imm) &^ 1
					x[h>>hRd&31] = cp.va + (idx+(h>>hHalfword))<<1
					x[0] = 0
					if t := target - cp.va; t < PageSize && left > 0 {
						idx = t >> 1
						continue
					}
					pc = target
					continue outer
				}
			} else if in.op-opFirstCommon <= opLastCommon-opFirstCommon {
				switch in.op {
				case opAddi:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] + in.imm
					idx += uint64(in.halfword)
				case opLui:
					x[uint64(in.rd)&31] = in.imm
					idx += uint64(in.halfword)
				case opAuipc:
					x[uint64(in.rd)&31] = in.imm
					idx += uint64(in.halfword)
				case opSlti:
					x[uint64(in.rd)&31] = b2u(int64(x[uint64(in.rs1)&31]) < int64(in.imm))
					idx += uint64(in.halfword)
				case opSltiu:
					x[uint64(in.rd)&31] = b2u(x[uint64(in.rs1)&31] < in.imm)
					idx += uint64(in.halfword)
				case opXori:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] ^ in.imm
					idx += uint64(in.halfword)
				case opOri:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] | in.imm
					idx += uint64(in.halfword)
				case opAndi:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] & in.imm
					idx += uint64(in.halfword)
				case opSlli:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] << (in.imm & 63)
					idx += uint64(in.halfword)
				case opSrli:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] >> (in.imm & 63)
					idx += uint64(in.halfword)
				case opSrai:
					x[uint64(in.rd)&31] = uint64(int64(x[uint64(in.rs1)&31]) >> (in.imm & 63))
					idx += uint64(in.halfword)
				case opAddiw:
					x[uint64(in.rd)&31] = uint64(int64(int32(x[uint64(in.rs1)&31] + in.imm)))
					idx += uint64(in.halfword)
				case opSlliw:
					x[uint64(in.rd)&31] = uint64(int64(int32(uint32(x[uint64(in.rs1)&31]) << (in.imm & 31))))
					idx += uint64(in.halfword)
				case opSrliw:
					x[uint64(in.rd)&31] = uint64(int64(int32(uint32(x[uint64(in.rs1)&31]) >> (in.imm & 31))))
					idx += uint64(in.halfword)
				case opSraiw:
					x[uint64(in.rd)&31] = uint64(int64(int32(x[uint64(in.rs1)&31]) >> (in.imm & 31)))
					idx += uint64(in.halfword)

				case opAdd:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] + x[uint64(in.rs2)&31]
					idx += uint64(in.halfword)
				case opSub:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] - x[uint64(in.rs2)&31]
					idx += uint64(in.halfword)
				case opSll:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] << (x[uint64(in.rs2)&31] & 63)
					idx += uint64(in.halfword)
				case opSlt:
					x[uint64(in.rd)&31] = b2u(int64(x[uint64(in.rs1)&31]) < int64(x[uint64(in.rs2)&31]))
					idx += uint64(in.halfword)
				case opSltu:
					x[uint64(in.rd)&31] = b2u(x[uint64(in.rs1)&31] < x[uint64(in.rs2)&31])
					idx += uint64(in.halfword)
				case opXor:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] ^ x[uint64(in.rs2)&31]
					idx += uint64(in.halfword)
				case opSrl:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] >> (x[uint64(in.rs2)&31] & 63)
					idx += uint64(in.halfword)
				case opSra:
					x[uint64(in.rd)&31] = uint64(int64(x[uint64(in.rs1)&31]) >> (x[uint64(in.rs2)&31] & 63))
					idx += uint64(in.halfword)
				case opOr:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] | x[uint64(in.rs2)&31]
					idx += uint64(in.halfword)
				case opAnd:
					x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] & x[uint64(in.rs2)&31]
					idx += uint64(in.halfword)
				case opAddw:
					x[uint64(in.rd)&31] = uint64(int64(int32(x[uint64(in.rs1)&31] + x[uint64(in.rs2)&31])))
					idx += uint64(in.halfword)
				case opSubw:
					x[uint64(in.rd)&31] = uint64(int64(int32(x[uint64(in.rs1)&31] - x[uint64(in.rs2)&31])))
					idx += uint64(in.halfword)
				case opSllw:
					x[uint64(in.rd)&31] = uint64(int64(int32(uint32(x[uint64(in.rs1)&31]) << (x[uint64(in.rs2)&31] & 31))))
					idx += uint64(in.halfword)
				case opSrlw:
					x[uint64(in.rd)&31] = uint64(int64(int32(uint32(x[uint64(in.rs1)&31]) >> (x[uint64(in.rs2)&31] & 31))))
					idx += uint64(in.halfword)
				case opSraw:
					x[uint64(in.rd)&31] = uint64(int64(int32(x[uint64(in.rs1)&31]) >> (x[uint64(in.rs2)&31] & 31)))
					idx += uint64(in.halfword)

				case opBeq:
					if x[uint64(in.rs1)&31] == x[uint64(in.rs2)&31] {
						if t := in.imm - cp.va; t < PageSize && left > 0 {
							idx = t >> 1
							continue
						}
						pc = in.imm
						continue outer
					}
					idx += uint64(in.halfword)
				case opBne:
					if x[uint64(in.rs1)&31] != x[uint64(in.rs2)&31] {
						if t := in.imm - cp.va; t < PageSize && left > 0 {
							idx = t >> 1
							continue
						}
						pc = in.imm
						continue outer
					}
					idx += uint64(in.halfword)
				case opBlt:
					if int64(x[uint64(in.rs1)&31]) < int64(x[uint64(in.rs2)&31]) {
						if t := in.imm - cp.va; t < PageSize && left > 0 {
							idx = t >> 1
							continue
						}
						pc = in.imm
						continue outer
					}
					idx += uint64(in.halfword)
				case opBge:
					if int64(x[uint64(in.rs1)&31]) >= int64(x[uint64(in.rs2)&31]) {
						if t := in.imm - cp.va; t < PageSize && left > 0 {
							idx = t >> 1
							continue
						}
						pc = in.imm
						continue outer
					}
					idx += uint64(in.halfword)
				case opBltu:
					if x[uint64(in.rs1)&31] < x[uint64(in.rs2)&31] {
						if t := in.imm - cp.va; t < PageSize && left > 0 {
							idx = t >> 1
							continue
						}
						pc = in.imm
						continue outer
					}
					idx += uint64(in.halfword)
				case opBgeu:
					if x[uint64(in.rs1)&31] >= x[uint64(in.rs2)&31] {
						if t := in.imm - cp.va; t < PageSize && left > 0 {
							idx = t >> 1
							continue
						}
						pc = in.imm
						continue outer
					}
					idx += uint64(in.halfword)

				case opLb:
					addr := x[uint64(in.rs1)&31] + in.imm
					e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
					var v uint64
					if addr&^(pageMask) == e.tag {
						v = uint64(e.data[addr&pageMask])
					} else {
						break run
					}
					x[uint64(in.rd)&31] = uint64(int64(int8(v)))
					x[0] = 0
					idx += uint64(in.halfword)
				case opLh:
					addr := x[uint64(in.rs1)&31] + in.imm
					e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
					var v uint64
					if addr&^(pageMask&^1) == e.tag {
						v = ld16(e.data, addr)
					} else {
						break run
					}
					x[uint64(in.rd)&31] = uint64(int64(int16(v)))
					x[0] = 0
					idx += uint64(in.halfword)
				case opLw:
					addr := x[uint64(in.rs1)&31] + in.imm
					e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
					var v uint64
					if addr&^(pageMask&^3) == e.tag {
						v = ld32(e.data, addr)
					} else {
						break run
					}
					x[uint64(in.rd)&31] = uint64(int64(int32(v)))
					x[0] = 0
					idx += uint64(in.halfword)
				case opLd:
					addr := x[uint64(in.rs1)&31] + in.imm
					e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
					var v uint64
					if addr&^(pageMask&^7) == e.tag {
						v = ld64(e.data, addr)
					} else {
						break run
					}
					x[uint64(in.rd)&31] = v
					x[0] = 0
					idx += uint64(in.halfword)
				case opLbu:
					addr := x[uint64(in.rs1)&31] + in.imm
					e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
					var v uint64
					if addr&^(pageMask) == e.tag {
						v = uint64(e.data[addr&pageMask])
					} else {
						break run
					}
					x[uint64(in.rd)&31] = v
					x[0] = 0
					idx += uint64(in.halfword)
				case opLhu:
					addr := x[uint64(in.rs1)&31] + in.imm
					e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
					var v uint64
					if addr&^(pageMask&^1) == e.tag {
						v = ld16(e.data, addr)
					} else {
						break run
					}
					x[uint64(in.rd)&31] = v
					x[0] = 0
					idx += uint64(in.halfword)
				case opLwu:
					addr := x[uint64(in.rs1)&31] + in.imm
					e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
					var v uint64
					if addr&^(pageMask&^3) == e.tag {
						v = ld32(e.data, addr)
					} else {
						break run
					}
					x[uint64(in.rd)&31] = v
					x[0] = 0
					idx += uint64(in.halfword)
				case opSb:
					addr := x[uint64(in.rs1)&31] + in.imm
					v := x[uint64(in.rs2)&31]
					e := &c.Mem.wtlb[(addr>>pageShift)&(tlbSize-1)]
					if addr&^(pageMask) == e.tag {
						e.data[addr&pageMask] = byte(v)
					} else {
						break run
					}
					idx += uint64(in.halfword)
				case opSh:
					addr := x[uint64(in.rs1)&31] + in.imm
					v := x[uint64(in.rs2)&31]
					e := &c.Mem.wtlb[(addr>>pageShift)&(tlbSize-1)]
					if addr&^(pageMask&^1) == e.tag {
						st16(e.data, addr, v)
					} else {
						break run
					}
					idx += uint64(in.halfword)
				case opSw:
					addr := x[uint64(in.rs1)&31] + in.imm
					v := x[uint64(in.rs2)&31]
					e := &c.Mem.wtlb[(addr>>pageShift)&(tlbSize-1)]
					if addr&^(pageMask&^3) == e.tag {
						st32(e.data, addr, v)
					} else {
						break run
					}
					idx += uint64(in.halfword)
				case opSd:
					addr := x[uint64(in.rs1)&31] + in.imm
					v := x[uint64(in.rs2)&31]
					e := &c.Mem.wtlb[(addr>>pageShift)&(tlbSize-1)]
					if addr&^(pageMask&^7) == e.tag {
						st64(e.data, addr, v)
					} else {
						break run
					}
					idx += uint64(in.halfword)
				}
				continue
			}
			switch in.op {
			case opNop, opFence:
				idx += uint64(in.halfword)
			case opJal:
				x[uint64(in.rd)&31] = cp.va + (idx+uint64(in.halfword))<<1
				if t := in.imm - cp.va; t < PageSize && left > 0 {
					idx = t >> 1
					continue
				}
				pc = in.imm
				continue outer
			case opJ:
				if t := in.imm - cp.va; t < PageSize && left > 0 {
					idx = t >> 1
					continue
				}
				pc = in.imm
				continue outer
			case opJalr:
				target := (x[uint64(in.rs1)&31] + in.imm) &^ 1
				x[uint64(in.rd)&31] = cp.va + (idx+uint64(in.halfword))<<1
				x[0] = 0
				if t := target - cp.va; t < PageSize && left > 0 {
					idx = t >> 1
					continue
				}
				pc = target
				continue outer
			case opJr:
				target := (x[uint64(in.rs1)&31] + in.imm) &^ 1
				if t := target - cp.va; t < PageSize && left > 0 {
					idx = t >> 1
					continue
				}
				pc = target
				continue outer
			case opFlw:
				addr := x[uint64(in.rs1)&31] + in.imm
				e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^3) == e.tag {
					v = ld32(e.data, addr)
				} else {
					break run
				}
				c.F[in.rd&31] = v | 0xffffffff00000000
				idx += uint64(in.halfword)
			case opFld:
				addr := x[uint64(in.rs1)&31] + in.imm
				e := &c.Mem.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^7) == e.tag {
					v = ld64(e.data, addr)
				} else {
					break run
				}
				c.F[in.rd&31] = v
				idx += uint64(in.halfword)
			case opFsw:
				addr := x[uint64(in.rs1)&31] + in.imm
				v := c.F[in.rs2&31]
				e := &c.Mem.wtlb[(addr>>pageShift)&(tlbSize-1)]
				if addr&^(pageMask&^3) == e.tag {
					st32(e.data, addr, v)
				} else {
					break run
				}
				idx += uint64(in.halfword)
			case opFsd:
				addr := x[uint64(in.rs1)&31] + in.imm
				v := c.F[in.rs2&31]
				e := &c.Mem.wtlb[(addr>>pageShift)&(tlbSize-1)]
				if addr&^(pageMask&^7) == e.tag {
					st64(e.data, addr, v)
				} else {
					break run
				}
				idx += uint64(in.halfword)

			case opMul:
				x[uint64(in.rd)&31] = x[uint64(in.rs1)&31] * x[uint64(in.rs2)&31]
				idx += uint64(in.halfword)
			case opMulh:
				a, b := x[uint64(in.rs1)&31], x[uint64(in.rs2)&31]
				hi, _ := bits.Mul64(a, b)
				hi -= a & uint64(int64(b)>>63)
				hi -= b & uint64(int64(a)>>63)
				x[uint64(in.rd)&31] = hi
				idx += uint64(in.halfword)
			case opMulhsu:
				a, b := x[uint64(in.rs1)&31], x[uint64(in.rs2)&31]
				hi, _ := bits.Mul64(a, b)
				hi -= b & uint64(int64(a)>>63)
				x[uint64(in.rd)&31] = hi
				idx += uint64(in.halfword)
			case opMulhu:
				hi, _ := bits.Mul64(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				x[uint64(in.rd)&31] = hi
				idx += uint64(in.halfword)
			case opDiv:
				x[uint64(in.rd)&31] = div64(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				idx += uint64(in.halfword)
			case opDivu:
				x[uint64(in.rd)&31] = divu64(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				idx += uint64(in.halfword)
			case opRem:
				x[uint64(in.rd)&31] = rem64(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				idx += uint64(in.halfword)
			case opRemu:
				x[uint64(in.rd)&31] = remu64(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				idx += uint64(in.halfword)
			case opMulw:
				x[uint64(in.rd)&31] = uint64(int64(int32(x[uint64(in.rs1)&31] * x[uint64(in.rs2)&31])))
				idx += uint64(in.halfword)
			case opDivw:
				x[uint64(in.rd)&31] = div32(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				idx += uint64(in.halfword)
			case opDivuw:
				x[uint64(in.rd)&31] = divu32(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				idx += uint64(in.halfword)
			case opRemw:
				x[uint64(in.rd)&31] = rem32(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				idx += uint64(in.halfword)
			case opRemuw:
				x[uint64(in.rd)&31] = remu32(x[uint64(in.rs1)&31], x[uint64(in.rs2)&31])
				idx += uint64(in.halfword)

			default:
				// Needs a call: leave the loop for step.
				break run
			}
		}
		pc = cp.va + idx<<1
		if idx >= slots {
			continue // straight-line code ran off the page
		}
		if in.op == opTranslated && pc+1 != c.interpretAt {
			// The entry of a translated block (not an instruction: the
			// loop counted it, so give it back).
			pc, left = c.runTranslated(uint32(in.imm), cp, pc, left+1)
			continue
		}
		var next uint64
		var retired, stop bool
		if in.op == opTranslated {
			next, retired, stop = c.interpretMarked(cp, pc, c.budget-uint64(left))
		} else {
			next, retired, stop = c.step(in, cp, pc, c.budget-uint64(left))
		}
		if !retired {
			left++
		}
		if stop {
			break
		}
		pc = next
	}
	if profiling {
		c.profile(pc, left)
	}
	ex := c.exit
	ex.PC = pc
	c.PC = pc
	c.Instret += c.budget - uint64(left)
	c.exit = Exit{}
	return ex
}

// step executes in, the instruction at pc in cp that Run's loop left to it:
// a load or store that missed the TLB, an instruction not decoded yet, and
// the instructions that call out. instret is the number of instructions
// Run retired so far, this one included. It returns the pc to continue at,
// whether the instruction retired, and whether Run must stop; then c.exit
// says why and pc is where the guest stopped.
func (c *CPU) step(in *inst, cp *codePage, pc, instret uint64) (next uint64, retired, stop bool) {
	x := &c.X
	next = pc + uint64(in.halfword)<<1
	switch in.op {
	case opDecode:
		if !c.decodeSlot(cp, (pc&pageMask)>>1) {
			return pc, false, true
		}
		return pc, false, false
	case opLoad, opLb, opLh, opLw, opLd, opLbu, opLhu, opLwu, opFlw, opFld:
		size, signed := memAccess(in)
		v, ok := c.loadSlow(x[uint64(in.rs1)&31]+in.imm, size)
		if !ok {
			return pc, false, true
		}
		switch {
		case in.op == opFlw:
			c.F[uint64(in.rd)&31] = v | 0xffffffff00000000
		case in.op == opFld:
			c.F[uint64(in.rd)&31] = v
		default:
			if drop := 64 - 8*size; signed {
				v = uint64(int64(v<<drop) >> drop)
			}
			x[uint64(in.rd)&31] = v
			x[0] = 0
		}
		return next, true, false
	case opStore, opSb, opSh, opSw, opSd, opFsw, opFsd:
		size, _ := memAccess(in)
		v := x[uint64(in.rs2)&31]
		if in.op == opFsw || in.op == opFsd {
			v = c.F[uint64(in.rs2)&31]
		}
		if !c.storeSlow(x[uint64(in.rs1)&31]+in.imm, size, v) {
			return pc, false, true
		}
		return next, true, false
	case opAtomic:
		if !c.execAtomic(in) {
			return pc, false, true
		}
		return next, true, false
	case opFP:
		if !c.execFP(in) {
			c.exit = Exit{Reason: ExitIllegalInstruction, Inst: c.rawInst(pc)}
			return pc, false, true
		}
		return next, true, false
	case opCSR:
		if !c.execCSR(in, instret) {
			c.exit = Exit{Reason: ExitIllegalInstruction, Inst: c.rawInst(pc)}
			return pc, false, true
		}
		return next, true, false
	case opFenceI:
		c.Mem.FlushCode()
		return next, true, false
	case opEcall:
		c.exit = Exit{Reason: ExitEcall}
		return pc, true, true
	case opEbreak:
		c.exit = Exit{Reason: ExitEbreak}
		return pc, false, true
	}
	// opIllegal: imm holds the raw instruction.
	c.exit = Exit{Reason: ExitIllegalInstruction, Inst: uint32(in.imm)}
	return pc, false, true
}

// memAccess returns the size of the access of a load or store and whether
// a load sign-extends.
func memAccess(in *inst) (size uint64, signed bool) {
	switch in.op {
	case opLoad:
		return 1 << (in.fop & 3), in.rm != 0
	case opStore:
		return 1 << (in.fop & 3), false
	case opLb, opSb:
		return 1, in.op == opLb
	case opLh, opSh:
		return 2, in.op == opLh
	case opLw, opSw:
		return 4, in.op == opLw
	case opLbu:
		return 1, false
	case opLhu:
		return 2, false
	case opLwu, opFlw, opFsw:
		return 4, false
	}
	return 8, false // ld, sd, fld, fsd
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Division follows the RISC-V M extension: no traps; division by zero
// yields all ones (quotient) or the dividend (remainder), and the signed
// overflow case yields the dividend (quotient) or zero (remainder).

func div64(a, b uint64) uint64 {
	if b == 0 {
		return ^uint64(0)
	}
	if int64(b) == -1 {
		return -a // also right for the overflow case
	}
	return uint64(int64(a) / int64(b))
}

func divu64(a, b uint64) uint64 {
	if b == 0 {
		return ^uint64(0)
	}
	return a / b
}

func rem64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	if int64(b) == -1 {
		return 0
	}
	return uint64(int64(a) % int64(b))
}

func remu64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return a % b
}

func div32(a, b uint64) uint64 {
	x, y := int32(a), int32(b)
	if y == 0 {
		return ^uint64(0)
	}
	if y == -1 {
		return uint64(int64(-x)) // wraps for the overflow case
	}
	return uint64(int64(x / y))
}

func divu32(a, b uint64) uint64 {
	x, y := uint32(a), uint32(b)
	if y == 0 {
		return ^uint64(0)
	}
	return uint64(int64(int32(x / y)))
}

func rem32(a, b uint64) uint64 {
	x, y := int32(a), int32(b)
	if y == 0 {
		return uint64(int64(x))
	}
	if y == -1 {
		return 0
	}
	return uint64(int64(x % y))
}

func remu32(a, b uint64) uint64 {
	x, y := uint32(a), uint32(b)
	if y == 0 {
		return uint64(int64(int32(x)))
	}
	return uint64(int64(int32(x % y)))
}
