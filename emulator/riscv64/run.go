package riscv64

import "math/bits"

// Run executes instructions until one of them needs the Linux layer (ecall,
// ebreak, illegal instruction, memory fault) or about budget instructions
// have retired; the budget is checked at taken branches, jumps and page
// crossings, so Run may overshoot it by at most one straight-line run of a
// page. The returned Exit says why it stopped; c.PC is Exit.PC.
//
// The loop is one function with one switch and no indirect calls:
// WebAssembly builds of Go pay for every jump between basic blocks, so the
// common instructions are executed inline and only rare ones call out.
func (c *CPU) Run(budget uint64) Exit {
	m := c.Mem
	if m != c.itlbMem {
		c.flushITLB()
		c.itlbMem = m
	}
	x := &c.X
	pc := c.PC
	var n uint64 // instructions retired in this call
	// Every way out of the loop leaves the exit's details in c.exit and the
	// faulting or next pc in pc.
outer:
	for {
		if n >= budget {
			c.exit = Exit{Reason: ExitBudget}
			break
		}
		cp := c.codePageFor(pc)
		if cp == nil {
			break
		}
		base := cp.va
		idx := (pc & pageMask) >> 1
		for idx < slots {
			in := &cp.insts[idx]
			n++
			switch in.op {
			case opAddi:
				x[in.rd&31] = x[in.rs1&31] + in.imm
				idx += uint64(in.halfword)
			case opLui:
				x[in.rd&31] = in.imm
				idx += uint64(in.halfword)
			case opAuipc:
				x[in.rd&31] = in.imm
				idx += uint64(in.halfword)
			case opSlti:
				x[in.rd&31] = b2u(int64(x[in.rs1&31]) < int64(in.imm))
				idx += uint64(in.halfword)
			case opSltiu:
				x[in.rd&31] = b2u(x[in.rs1&31] < in.imm)
				idx += uint64(in.halfword)
			case opXori:
				x[in.rd&31] = x[in.rs1&31] ^ in.imm
				idx += uint64(in.halfword)
			case opOri:
				x[in.rd&31] = x[in.rs1&31] | in.imm
				idx += uint64(in.halfword)
			case opAndi:
				x[in.rd&31] = x[in.rs1&31] & in.imm
				idx += uint64(in.halfword)
			case opSlli:
				x[in.rd&31] = x[in.rs1&31] << (in.imm & 63)
				idx += uint64(in.halfword)
			case opSrli:
				x[in.rd&31] = x[in.rs1&31] >> (in.imm & 63)
				idx += uint64(in.halfword)
			case opSrai:
				x[in.rd&31] = uint64(int64(x[in.rs1&31]) >> (in.imm & 63))
				idx += uint64(in.halfword)
			case opAddiw:
				x[in.rd&31] = uint64(int64(int32(x[in.rs1&31] + in.imm)))
				idx += uint64(in.halfword)
			case opSlliw:
				x[in.rd&31] = uint64(int64(int32(uint32(x[in.rs1&31]) << (in.imm & 31))))
				idx += uint64(in.halfword)
			case opSrliw:
				x[in.rd&31] = uint64(int64(int32(uint32(x[in.rs1&31]) >> (in.imm & 31))))
				idx += uint64(in.halfword)
			case opSraiw:
				x[in.rd&31] = uint64(int64(int32(x[in.rs1&31]) >> (in.imm & 31)))
				idx += uint64(in.halfword)

			case opAdd:
				x[in.rd&31] = x[in.rs1&31] + x[in.rs2&31]
				idx += uint64(in.halfword)
			case opSub:
				x[in.rd&31] = x[in.rs1&31] - x[in.rs2&31]
				idx += uint64(in.halfword)
			case opSll:
				x[in.rd&31] = x[in.rs1&31] << (x[in.rs2&31] & 63)
				idx += uint64(in.halfword)
			case opSlt:
				x[in.rd&31] = b2u(int64(x[in.rs1&31]) < int64(x[in.rs2&31]))
				idx += uint64(in.halfword)
			case opSltu:
				x[in.rd&31] = b2u(x[in.rs1&31] < x[in.rs2&31])
				idx += uint64(in.halfword)
			case opXor:
				x[in.rd&31] = x[in.rs1&31] ^ x[in.rs2&31]
				idx += uint64(in.halfword)
			case opSrl:
				x[in.rd&31] = x[in.rs1&31] >> (x[in.rs2&31] & 63)
				idx += uint64(in.halfword)
			case opSra:
				x[in.rd&31] = uint64(int64(x[in.rs1&31]) >> (x[in.rs2&31] & 63))
				idx += uint64(in.halfword)
			case opOr:
				x[in.rd&31] = x[in.rs1&31] | x[in.rs2&31]
				idx += uint64(in.halfword)
			case opAnd:
				x[in.rd&31] = x[in.rs1&31] & x[in.rs2&31]
				idx += uint64(in.halfword)
			case opAddw:
				x[in.rd&31] = uint64(int64(int32(x[in.rs1&31] + x[in.rs2&31])))
				idx += uint64(in.halfword)
			case opSubw:
				x[in.rd&31] = uint64(int64(int32(x[in.rs1&31] - x[in.rs2&31])))
				idx += uint64(in.halfword)
			case opSllw:
				x[in.rd&31] = uint64(int64(int32(uint32(x[in.rs1&31]) << (x[in.rs2&31] & 31))))
				idx += uint64(in.halfword)
			case opSrlw:
				x[in.rd&31] = uint64(int64(int32(uint32(x[in.rs1&31]) >> (x[in.rs2&31] & 31))))
				idx += uint64(in.halfword)
			case opSraw:
				x[in.rd&31] = uint64(int64(int32(x[in.rs1&31]) >> (x[in.rs2&31] & 31)))
				idx += uint64(in.halfword)

			case opJal:
				x[in.rd&31] = base + (idx+uint64(in.halfword))<<1
				if t := in.imm - base; t < PageSize && n < budget {
					idx = t >> 1
					continue
				}
				pc = in.imm
				continue outer
			case opJ:
				if t := in.imm - base; t < PageSize && n < budget {
					idx = t >> 1
					continue
				}
				pc = in.imm
				continue outer
			case opJalr:
				target := (x[in.rs1&31] + in.imm) &^ 1
				x[in.rd&31] = base + (idx+uint64(in.halfword))<<1
				x[0] = 0
				if t := target - base; t < PageSize && n < budget {
					idx = t >> 1
					continue
				}
				pc = target
				continue outer
			case opJr:
				target := (x[in.rs1&31] + in.imm) &^ 1
				if t := target - base; t < PageSize && n < budget {
					idx = t >> 1
					continue
				}
				pc = target
				continue outer
			case opBeq:
				if x[in.rs1&31] == x[in.rs2&31] {
					if t := in.imm - base; t < PageSize && n < budget {
						idx = t >> 1
						continue
					}
					pc = in.imm
					continue outer
				}
				idx += uint64(in.halfword)
			case opBne:
				if x[in.rs1&31] != x[in.rs2&31] {
					if t := in.imm - base; t < PageSize && n < budget {
						idx = t >> 1
						continue
					}
					pc = in.imm
					continue outer
				}
				idx += uint64(in.halfword)
			case opBlt:
				if int64(x[in.rs1&31]) < int64(x[in.rs2&31]) {
					if t := in.imm - base; t < PageSize && n < budget {
						idx = t >> 1
						continue
					}
					pc = in.imm
					continue outer
				}
				idx += uint64(in.halfword)
			case opBge:
				if int64(x[in.rs1&31]) >= int64(x[in.rs2&31]) {
					if t := in.imm - base; t < PageSize && n < budget {
						idx = t >> 1
						continue
					}
					pc = in.imm
					continue outer
				}
				idx += uint64(in.halfword)
			case opBltu:
				if x[in.rs1&31] < x[in.rs2&31] {
					if t := in.imm - base; t < PageSize && n < budget {
						idx = t >> 1
						continue
					}
					pc = in.imm
					continue outer
				}
				idx += uint64(in.halfword)
			case opBgeu:
				if x[in.rs1&31] >= x[in.rs2&31] {
					if t := in.imm - base; t < PageSize && n < budget {
						idx = t >> 1
						continue
					}
					pc = in.imm
					continue outer
				}
				idx += uint64(in.halfword)

			case opLb:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask) == e.tag {
					v = uint64(e.data[addr&pageMask])
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 1); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				x[in.rd&31] = uint64(int64(int8(v)))
				x[0] = 0
				idx += uint64(in.halfword)
			case opLh:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^1) == e.tag {
					v = ld16(e.data, addr)
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 2); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				x[in.rd&31] = uint64(int64(int16(v)))
				x[0] = 0
				idx += uint64(in.halfword)
			case opLw:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^3) == e.tag {
					v = ld32(e.data, addr)
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 4); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				x[in.rd&31] = uint64(int64(int32(v)))
				x[0] = 0
				idx += uint64(in.halfword)
			case opLd:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^7) == e.tag {
					v = ld64(e.data, addr)
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 8); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				x[in.rd&31] = v
				x[0] = 0
				idx += uint64(in.halfword)
			case opLbu:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask) == e.tag {
					v = uint64(e.data[addr&pageMask])
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 1); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				x[in.rd&31] = v
				x[0] = 0
				idx += uint64(in.halfword)
			case opLhu:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^1) == e.tag {
					v = ld16(e.data, addr)
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 2); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				x[in.rd&31] = v
				x[0] = 0
				idx += uint64(in.halfword)
			case opLwu:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^3) == e.tag {
					v = ld32(e.data, addr)
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 4); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				x[in.rd&31] = v
				x[0] = 0
				idx += uint64(in.halfword)
			case opFlw:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^3) == e.tag {
					v = ld32(e.data, addr)
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 4); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				c.F[in.rd&31] = v | 0xffffffff00000000
				idx += uint64(in.halfword)
			case opFld:
				addr := x[in.rs1&31] + in.imm
				e := &m.rtlb[(addr>>pageShift)&(tlbSize-1)]
				var v uint64
				if addr&^(pageMask&^7) == e.tag {
					v = ld64(e.data, addr)
				} else {
					var ok bool
					if v, ok = c.loadSlow(addr, 8); !ok {
						n--
						pc = base + idx<<1
						break outer
					}
				}
				c.F[in.rd&31] = v
				idx += uint64(in.halfword)
			case opSb:
				addr := x[in.rs1&31] + in.imm
				v := x[in.rs2&31]
				e := &m.wtlb[(addr>>pageShift)&(tlbSize-1)]
				if addr&^(pageMask) == e.tag {
					e.data[addr&pageMask] = byte(v)
				} else {
					if !c.storeSlow(addr, 1, v) {
						n--
						pc = base + idx<<1
						break outer
					}
					if !cp.valid {
						pc = base + (idx+uint64(in.halfword))<<1
						continue outer
					}
				}
				idx += uint64(in.halfword)
			case opSh:
				addr := x[in.rs1&31] + in.imm
				v := x[in.rs2&31]
				e := &m.wtlb[(addr>>pageShift)&(tlbSize-1)]
				if addr&^(pageMask&^1) == e.tag {
					st16(e.data, addr, v)
				} else {
					if !c.storeSlow(addr, 2, v) {
						n--
						pc = base + idx<<1
						break outer
					}
					if !cp.valid {
						pc = base + (idx+uint64(in.halfword))<<1
						continue outer
					}
				}
				idx += uint64(in.halfword)
			case opSw:
				addr := x[in.rs1&31] + in.imm
				v := x[in.rs2&31]
				e := &m.wtlb[(addr>>pageShift)&(tlbSize-1)]
				if addr&^(pageMask&^3) == e.tag {
					st32(e.data, addr, v)
				} else {
					if !c.storeSlow(addr, 4, v) {
						n--
						pc = base + idx<<1
						break outer
					}
					if !cp.valid {
						pc = base + (idx+uint64(in.halfword))<<1
						continue outer
					}
				}
				idx += uint64(in.halfword)
			case opSd:
				addr := x[in.rs1&31] + in.imm
				v := x[in.rs2&31]
				e := &m.wtlb[(addr>>pageShift)&(tlbSize-1)]
				if addr&^(pageMask&^7) == e.tag {
					st64(e.data, addr, v)
				} else {
					if !c.storeSlow(addr, 8, v) {
						n--
						pc = base + idx<<1
						break outer
					}
					if !cp.valid {
						pc = base + (idx+uint64(in.halfword))<<1
						continue outer
					}
				}
				idx += uint64(in.halfword)
			case opFsw:
				addr := x[in.rs1&31] + in.imm
				v := c.F[in.rs2&31]
				e := &m.wtlb[(addr>>pageShift)&(tlbSize-1)]
				if addr&^(pageMask&^3) == e.tag {
					st32(e.data, addr, v)
				} else {
					if !c.storeSlow(addr, 4, v) {
						n--
						pc = base + idx<<1
						break outer
					}
					if !cp.valid {
						pc = base + (idx+uint64(in.halfword))<<1
						continue outer
					}
				}
				idx += uint64(in.halfword)
			case opFsd:
				addr := x[in.rs1&31] + in.imm
				v := c.F[in.rs2&31]
				e := &m.wtlb[(addr>>pageShift)&(tlbSize-1)]
				if addr&^(pageMask&^7) == e.tag {
					st64(e.data, addr, v)
				} else {
					if !c.storeSlow(addr, 8, v) {
						n--
						pc = base + idx<<1
						break outer
					}
					if !cp.valid {
						pc = base + (idx+uint64(in.halfword))<<1
						continue outer
					}
				}
				idx += uint64(in.halfword)

			case opMul:
				x[in.rd&31] = x[in.rs1&31] * x[in.rs2&31]
				idx += uint64(in.halfword)
			case opMulh:
				a, b := x[in.rs1&31], x[in.rs2&31]
				hi, _ := bits.Mul64(a, b)
				hi -= a & uint64(int64(b)>>63)
				hi -= b & uint64(int64(a)>>63)
				x[in.rd&31] = hi
				idx += uint64(in.halfword)
			case opMulhsu:
				a, b := x[in.rs1&31], x[in.rs2&31]
				hi, _ := bits.Mul64(a, b)
				hi -= b & uint64(int64(a)>>63)
				x[in.rd&31] = hi
				idx += uint64(in.halfword)
			case opMulhu:
				hi, _ := bits.Mul64(x[in.rs1&31], x[in.rs2&31])
				x[in.rd&31] = hi
				idx += uint64(in.halfword)
			case opDiv:
				x[in.rd&31] = div64(x[in.rs1&31], x[in.rs2&31])
				idx += uint64(in.halfword)
			case opDivu:
				x[in.rd&31] = divu64(x[in.rs1&31], x[in.rs2&31])
				idx += uint64(in.halfword)
			case opRem:
				x[in.rd&31] = rem64(x[in.rs1&31], x[in.rs2&31])
				idx += uint64(in.halfword)
			case opRemu:
				x[in.rd&31] = remu64(x[in.rs1&31], x[in.rs2&31])
				idx += uint64(in.halfword)
			case opMulw:
				x[in.rd&31] = uint64(int64(int32(x[in.rs1&31] * x[in.rs2&31])))
				idx += uint64(in.halfword)
			case opDivw:
				x[in.rd&31] = div32(x[in.rs1&31], x[in.rs2&31])
				idx += uint64(in.halfword)
			case opDivuw:
				x[in.rd&31] = divu32(x[in.rs1&31], x[in.rs2&31])
				idx += uint64(in.halfword)
			case opRemw:
				x[in.rd&31] = rem32(x[in.rs1&31], x[in.rs2&31])
				idx += uint64(in.halfword)
			case opRemuw:
				x[in.rd&31] = remu32(x[in.rs1&31], x[in.rs2&31])
				idx += uint64(in.halfword)

			case opNop, opFence:
				idx += uint64(in.halfword)
			case opDecode:
				n--
				if !c.decodeSlot(cp, idx) {
					pc = c.exit.PC
					break outer
				}
			case opAtomic:
				if !c.execAtomic(in) {
					n--
					pc = base + idx<<1
					break outer
				}
				idx += uint64(in.halfword)
			case opFP:
				if !c.execFP(in) {
					n--
					pc = base + idx<<1
					c.exit = Exit{Reason: ExitIllegalInstruction, Inst: c.rawInst(pc)}
					break outer
				}
				idx += uint64(in.halfword)
			case opCSR:
				if !c.execCSR(in, n) {
					n--
					pc = base + idx<<1
					c.exit = Exit{Reason: ExitIllegalInstruction, Inst: c.rawInst(pc)}
					break outer
				}
				idx += uint64(in.halfword)
			case opFenceI:
				m.FlushCode()
				pc = base + (idx+uint64(in.halfword))<<1
				continue outer
			case opEcall:
				pc = base + idx<<1
				c.exit = Exit{Reason: ExitEcall}
				break outer
			case opEbreak:
				n--
				pc = base + idx<<1
				c.exit = Exit{Reason: ExitEbreak}
				break outer
			default: // opIllegal
				n--
				pc = base + idx<<1
				c.exit = Exit{Reason: ExitIllegalInstruction, Inst: uint32(in.imm)}
				break outer
			}
		}
		pc = base + idx<<1
	}
	ex := c.exit
	ex.PC = pc
	c.PC = pc
	c.Instret += n
	c.exit = Exit{}
	return ex
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
