package riscv64

import (
	"encoding/binary"
	"fmt"
	wasm "github.com/wasmrt/wasmrt/emulator/internal/wasmgen"
	"slices"
	"unsafe"
)

// The translator (docs/translation.md): it turns one 4 KiB page of guest
// code into the body of a WebAssembly function (UnitParams -> UnitResults)
// that runs the page's basic blocks, each block keeping the guest
// registers it uses in locals and writing them through to CPU.X. The
// converter runs it natively and
// links the bodies into the emulator module; the emulator calls them
// through translatedRun (translated.go). It lives in this package because
// it must decode exactly as the interpreter does.

// TranslatePage translates the page of guest code page (PageSize bytes or
// fewer, read as zeros past its end) given the slots where blocks are
// known to start (from a sweep of the file's code: see codeLeaders). It
// returns the function body and the slots of its blocks, block i starting
// at slots[i]; leaders that cannot start a block (an instruction the
// translator leaves to the interpreter, or one that crosses the page end)
// are dropped. A page with no translatable block yields a nil body.
func TranslatePage(page []byte, leaders []uint16) (body []byte, slots []uint16) {
	var code [PageSize]byte
	copy(code[:], page)
	t := &pageTranslator{code: &code, block: make(map[uint16]int)}
	t.findBlocks(leaders)
	if len(t.blocks) == 0 {
		return nil, nil
	}
	for _, b := range t.blocks {
		slots = append(slots, b.slot)
	}
	return t.emit(), slots
}

// tinst is a decoded instruction with its offset in the page.
type tinst struct {
	inst
	off uint64
}

// tblock is a basic block: instructions from slot to a control transfer,
// an untranslated instruction, the page end or the next block.
type tblock struct {
	slot  uint16
	insts []tinst
	// end says how control leaves after the last instruction of insts.
	end blockEnd
	// endOff is the offset of the instruction or pc the end refers to:
	// the untranslated instruction (endInterpret) or the next pc
	// (endNext, endFall).
	endOff uint64
}

type blockEnd uint8

const (
	// endControl: the last instruction is a branch or jump that decides.
	endControl blockEnd = iota
	// endFall: continue with the block starting at endOff.
	endFall
	// endNext: leave the page at pc base+endOff.
	endNext
	// endInterpret: the instruction at endOff is the interpreter's.
	endInterpret
)

type pageTranslator struct {
	code   *[PageSize]byte
	blocks []*tblock
	block  map[uint16]int // slot -> index in blocks, once sorted
	w      wasm.Writer
}

// decodeCode decodes the instruction at offset off of code (a page, or a
// whole file), reporting false when it runs past the end of code. It
// decodes as if located at off, so that branch and jump targets are
// offsets too.
func decodeCode(code []byte, off uint64) (inst, bool) {
	if off+2 > uint64(len(code)) {
		return inst{}, false
	}
	lo := binary.LittleEndian.Uint16(code[off:])
	if lo&3 != 3 {
		return decode16Plain(lo, off), true
	}
	if off+4 > uint64(len(code)) {
		return inst{}, false
	}
	return decode32Plain(binary.LittleEndian.Uint32(code[off:]), off), true
}

// translatable reports whether the translator emits code for op; the
// others end a block with an exit to the interpreter.
func translatable(op uint8) bool {
	switch {
	case op >= opAddi && op <= opSraw, op >= opBeq && op <= opBgeu,
		op >= opLb && op <= opSd, op >= opJal && op <= opJr, op >= opFlw && op <= opFsd,
		op >= opMul && op <= opRemuw, op == opNop, op == opFence:
		return true
	}
	return false
}

func isControl(op uint8) bool {
	return op >= opBeq && op <= opBgeu || op >= opJal && op <= opJr
}

// maxBlock bounds a block's instructions, so that every exit from it
// packs (packMaxUnretired).
const maxBlock = 256

// findBlocks decodes a block from every leader, adding the in-page
// targets of direct branches and jumps as leaders too.
func (t *pageTranslator) findBlocks(leaders []uint16) {
	isLeader := make(map[uint16]bool)
	work := slices.Clone(leaders)
	for _, s := range leaders {
		isLeader[s] = true
	}
	var found []*tblock
	for len(work) > 0 {
		s := work[len(work)-1]
		work = work[:len(work)-1]
		if int(s) >= slots {
			continue
		}
		b := &tblock{slot: s}
		addTarget := func(target uint64) {
			if target < PageSize {
				ts := uint16(target >> 1)
				if !isLeader[ts] {
					isLeader[ts] = true
					work = append(work, ts)
				}
			}
		}
		off := uint64(s) << 1
		for {
			if off >= PageSize {
				b.end, b.endOff = endNext, off
				break
			}
			if len(b.insts) > 0 && isLeader[uint16(off>>1)] || len(b.insts) == maxBlock {
				b.end, b.endOff = endFall, off
				addTarget(off)
				break
			}
			in, ok := decodeCode(t.code[:], off)
			if !ok {
				b.end, b.endOff = endNext, off
				break
			}
			if !translatable(in.op) {
				b.end, b.endOff = endInterpret, off
				break
			}
			b.insts = append(b.insts, tinst{inst: in, off: off})
			next := off + uint64(in.halfword)<<1
			if isControl(in.op) {
				b.end = endControl
				if in.op >= opBeq && in.op <= opBgeu {
					addTarget(in.imm)
					addTarget(next)
				} else if in.op == opJal || in.op == opJ {
					addTarget(in.imm)
				}
				if in.op == opJal || in.op == opJalr {
					addTarget(next) // the return address
				}
				break
			}
			off = next
		}
		if len(b.insts) > 0 {
			found = append(found, b)
		}
	}
	// A block cut short by a leader found later keeps its longer form:
	// both are correct (each decodes from its own start), the longer one
	// merely duplicates a few instructions.
	slices.SortFunc(found, func(a, b *tblock) int { return int(a.slot) - int(b.slot) })
	t.blocks = found
	for i, b := range found {
		t.block[b.slot] = i
	}
}

// readsReg reports whether in reads register r (rs1 or rs2, for the
// operations that have them).
func readsReg(in tinst, r uint8) bool {
	op := in.op
	switch {
	case op == opLui || op == opAuipc || op == opJal || op == opJ || op == opNop || op == opFence:
		return false
	case op >= opAddi && op <= opSraiw, op >= opLb && op <= opLwu, op == opJalr || op == opJr,
		op >= opFlw && op <= opFsd: // rd and rs2 of these are f registers
		return in.rs1 == r
	}
	return in.rs1 == r || in.rs2 == r
}

// writesRd reports whether op writes x[rd].
func writesRd(op uint8) bool {
	return op >= opAddi && op <= opSraw || op >= opLb && op <= opLwu ||
		op == opJal || op == opJalr || op >= opMul && op <= opRemuw
}

// Locals of a unit function: its parameters (UnitParams) first.
const (
	lBlock = UnitBlock
	lX     = UnitX // the address of CPU.X
	lRTLB  = UnitRTLB
	lWTLB  = UnitWTLB
	lBase  = UnitBase
	lLeft  = UnitLeft
	// x1..x31 are locals xLocal+r.
	lT0    = 37
	lT1    = 38
	lT2    = 39
	lT3    = 40
	lAddr  = 41 // i64: the address of an access
	lCode  = 42 // i32
	lHost  = 43 // i32
	lEntry = 44 // i32: a TLB entry
	nI64   = lAddr - lLeft
	nI32   = lEntry - lCode + 1
	xLocal = lLeft
)

// UnitParams and UnitResults are the signature of a unit function:
// (block, X, RTLB, WTLB, base, left) -> (exit code, pc, left).
// The dispatcher passes what does not change from one unit to the next in
// parameters and gets the pc and the budget back in results, so that a
// jump from unit to unit goes through no memory.
var (
	UnitParams  = []byte{wasm.ValI32, wasm.ValI32, wasm.ValI32, wasm.ValI32, wasm.ValI64, wasm.ValI64}
	UnitResults = []byte{wasm.ValI32, wasm.ValI64, wasm.ValI64}
)

func regLocal(r uint8) uint32 { return xLocal + uint32(r) }

// emit writes the function body.
func (t *pageTranslator) emit() []byte {
	w := &t.w
	// Locals: 36 i64 (x1..x31, t0..t3, addr), then 3 i32.
	w.U32(2)
	w.U32(nI64)
	w.Byte(wasm.ValI64)
	w.U32(nI32)
	w.Byte(wasm.ValI32)

	EmitUnit(w, len(t.blocks), lCode, lT3, func(i int, e *Exits, loopDepth int) {
		t.emitBlock(i, t.blocks[i], e, loopDepth)
	}, nil)
	return w.B
}

// emitBlock writes block i. On entry the writer's depth is that of the
// block's code: inside the labels of the blocks after it, the loop and
// $exit.
func (t *pageTranslator) emitBlock(i int, b *tblock, e *Exits, loopDepth int) {
	w := &t.w
	count := int64(len(b.insts))
	// One access to the end of CPU.F first: the host's compiler then
	// knows that every later access to CPU.X and CPU.F in the block is
	// in bounds and drops their checks (wazero tracks the bounds known
	// for an address value through a block's code).
	w.Get(lX)
	w.Mem(wasm.OpI64Load, 3, fOffset+31*8)
	w.Op(wasm.OpDrop)
	// Load what the block reads before it writes it: registers live in
	// locals only within a block, so that entering and leaving a unit
	// costs nothing per register.
	var written, loaded [32]bool
	for _, in := range b.insts {
		for _, r := range [...]uint8{in.rs1, in.rs2} {
			if r != 0 && !written[r] && !loaded[r] && readsReg(in, r) {
				loaded[r] = true
				w.Get(lX)
				w.Mem(wasm.OpI64Load, 3, uint32(r)*8)
				w.Set(regLocal(r))
			}
		}
		if writesRd(in.op) {
			written[in.rd] = true
		}
	}
	// A block that branches back to its own start runs as a wasm loop
	// after its loads: its registers stay in locals from one iteration
	// to the next, and the branch back is a direct one.
	selfDepth := -1
	if last := b.insts[len(b.insts)-1]; b.end == endControl && last.imm == uint64(b.slot)<<1 &&
		(last.op >= opBeq && last.op <= opBgeu || last.op == opJal || last.op == opJ) {
		w.Loop()
		selfDepth = w.Depth
	}
	w.Get(lLeft)
	w.I64Const(count)
	w.Op(wasm.OpI64Sub)
	w.Set(lLeft)

	// jumpTo continues at guest offset target: a block of this unit, or
	// out of the page. At the top level of the block's code, the next
	// block is reached by falling through. Every cycle inside the unit
	// goes through a jump back to the same or an earlier block, where
	// the budget is checked, so that the Linux layer gets its
	// preemption points.
	jumpTo := func(target uint64, topLevel bool) {
		if bi, ok := t.block[uint16(target>>1)]; ok && target < PageSize {
			if topLevel && bi == i+1 {
				return
			}
			if bi > i {
				// A later block: its label is still open (the
				// label of block j, whose end precedes the code
				// of block j, is at depth loopDepth+n-j).
				w.Br(w.Depth - (loopDepth + len(t.blocks) - bi))
				return
			}
			w.Get(lLeft)
			w.I64Const(0)
			w.Op(wasm.OpI64LeS)
			w.IfThen()
			e.Leave(TranslatedBudget, target, 0)
			w.End()
			if bi == i && selfDepth >= 0 {
				w.Br(w.Depth - selfDepth)
				return
			}
			w.I32Const(int32(bi))
			w.Set(lBlock)
			w.Br(w.Depth - loopDepth)
			return
		}
		e.Leave(TranslatedNext, target, 0)
	}

	for k, in := range b.insts {
		unretired := count - int64(k)
		next := in.off + uint64(in.halfword)<<1
		switch op := in.op; {
		case op == opNop || op == opFence:
		case op >= opAddi && op <= opSraw, op >= opMul && op <= opRemuw:
			t.emitALU(in)
		case op >= opLb && op <= opLwu:
			t.emitLoad(in, e, unretired)
		case op >= opSb && op <= opSd:
			t.emitStore(in, e, unretired)
		case op >= opFlw && op <= opFsd:
			t.emitFPMove(in, e, unretired)
		case op >= opBeq && op <= opBgeu:
			t.getReg(in.rs1)
			t.getReg(in.rs2)
			w.Op([...]byte{wasm.OpI64Eq, wasm.OpI64Ne, wasm.OpI64LtS, wasm.OpI64GeS, wasm.OpI64LtU, wasm.OpI64GeU}[op-opBeq])
			w.IfThen()
			jumpTo(in.imm, false)
			w.End()
			jumpTo(next, true)
		case op == opJal || op == opJ:
			if op == opJal {
				t.setLink(in.rd, next)
			}
			jumpTo(in.imm, true)
		case op == opJalr || op == opJr:
			t.getReg(in.rs1)
			w.I64Const(int64(in.imm))
			w.Op(wasm.OpI64Add)
			w.I64Const(-2)
			w.Op(wasm.OpI64And)
			w.Set(lT0)
			if op == opJalr {
				t.setLink(in.rd, next)
			}
			w.Get(lT0)
			e.LeaveAbs(TranslatedNext)
		default:
			panic(fmt.Sprintf("riscv64: translator has no code for op %d", op))
		}
	}
	switch b.end {
	case endFall, endNext:
		jumpTo(b.endOff, true)
	case endInterpret:
		e.Leave(TranslatedInterpret, b.endOff, 0)
	}
	if selfDepth >= 0 {
		w.End()
	}
}

// setLink writes the return address base+next to rd.
func (t *pageTranslator) setLink(rd uint8, next uint64) {
	if rd == 0 {
		return
	}
	w := &t.w
	w.Get(lBase)
	w.I64Const(int64(next))
	w.Op(wasm.OpI64Add)
	t.setReg(rd)
}

// setReg pops the value on the stack into guest register rd, writing it
// through to CPU.X.
func (t *pageTranslator) setReg(rd uint8) {
	w := &t.w
	w.Set(regLocal(rd))
	w.Get(lX)
	w.Get(regLocal(rd))
	w.Mem(wasm.OpI64Store, 3, uint32(rd)*8)
}

// emitAddress leaves the host address of a size-byte access at
// x[rs1]+imm in lHost, or leaves the unit for the interpreter when the
// TLB misses (or the access is misaligned, which the interpreter
// emulates). The probe is inline: a call of a shared helper costs wazero
// a call sequence and the caller's live values spilled around it, more
// than the probe itself (python's loop spent 30 % of its translated time
// in the helper).
func (t *pageTranslator) emitAddress(in tinst, size uint64, tlb uint32, e *Exits, unretired int64) {
	w := &t.w
	if unretired > packMaxUnretired {
		panic("riscv64: block too long for a packed exit") // findBlocks caps blocks
	}
	w.I32Const(e.Pack(TranslatedInterpret, in.off, unretired))
	w.Set(lCode)
	// &tlb[(addr >> 12) & (TLBEntries-1)], an entry being 16 bytes.
	t.getReg(in.rs1)
	if in.imm != 0 {
		w.I64Const(int64(in.imm))
		w.Op(wasm.OpI64Add)
	}
	w.Tee(lAddr)
	w.I64Const(pageShift - 4)
	w.Op(wasm.OpI64ShrU)
	w.Op(wasm.OpI32WrapI64)
	w.I32Const((TLBEntries - 1) << 4)
	w.Op(wasm.OpI32And)
	w.Get(tlb)
	w.Op(wasm.OpI32Add)
	w.Tee(lEntry)
	// The frame word first: the host then knows that the tag word
	// before it is in bounds too (see emitBlock).
	w.Mem(wasm.OpI64Load, 3, 8)
	w.Op(wasm.OpI32WrapI64)
	w.Set(lHost)
	// The tag keeps the low bits of a misaligned address, which then
	// misses.
	w.Get(lEntry)
	w.Mem(wasm.OpI64Load, 3, 0)
	w.Get(lAddr)
	w.I64Const(int64(^uint64(pageMask &^ (size - 1))))
	w.Op(wasm.OpI64And)
	w.Op(wasm.OpI64Ne)
	e.LeaveIf()
	w.Get(lHost)
	w.Get(lAddr)
	w.Op(wasm.OpI32WrapI64)
	w.I32Const(pageMask)
	w.Op(wasm.OpI32And)
	w.Op(wasm.OpI32Add)
	w.Set(lHost)
}

func (t *pageTranslator) emitLoad(in tinst, e *Exits, unretired int64) {
	w := &t.w
	k := in.op - opLb
	size := [...]uint64{1, 2, 4, 8, 1, 2, 4}[k]
	t.emitAddress(in, size, lRTLB, e, unretired)
	w.Get(lHost)
	op := [...]byte{wasm.OpI64Load8S, wasm.OpI64Load16S, wasm.OpI64Load32S, wasm.OpI64Load, wasm.OpI64Load8U, wasm.OpI64Load16U, wasm.OpI64Load32U}[k]
	w.Mem(op, 0, 0)
	if in.rd == 0 {
		w.Op(wasm.OpDrop)
		return
	}
	t.setReg(in.rd)
}

func (t *pageTranslator) emitStore(in tinst, e *Exits, unretired int64) {
	w := &t.w
	k := in.op - opSb
	t.emitAddress(in, 1<<k, lWTLB, e, unretired)
	w.Get(lHost)
	t.getReg(in.rs2)
	w.Mem([...]byte{wasm.OpI64Store8, wasm.OpI64Store16, wasm.OpI64Store32, wasm.OpI64Store}[k], 0, 0)
}

// emitFPMove translates a floating-point load or store: a move between
// memory and CPU.F (which follows CPU.X), with single-precision values
// NaN-boxed as the interpreter keeps them. The f registers stay in memory:
// only the interpreter computes with them.
func (t *pageTranslator) emitFPMove(in tinst, e *Exits, unretired int64) {
	w := &t.w
	single := in.op == opFlw || in.op == opFsw
	size := uint64(8)
	if single {
		size = 4
	}
	if in.op == opFlw || in.op == opFld {
		t.emitAddress(in, size, lRTLB, e, unretired)
		w.Get(lX)
		w.Get(lHost)
		if single {
			w.Mem(wasm.OpI64Load32U, 0, 0)
			w.I64Const(-1 << 32)
			w.Op(wasm.OpI64Or)
		} else {
			w.Mem(wasm.OpI64Load, 0, 0)
		}
		w.Mem(wasm.OpI64Store, 3, fOffset+uint32(in.rd&31)*8)
		return
	}
	t.emitAddress(in, size, lWTLB, e, unretired)
	w.Get(lHost)
	w.Get(lX)
	w.Mem(wasm.OpI64Load, 3, fOffset+uint32(in.rs2&31)*8)
	if single {
		w.Mem(wasm.OpI64Store32, 0, 0)
	} else {
		w.Mem(wasm.OpI64Store, 0, 0)
	}
}

// fOffset is where CPU.F is from CPU.X, the address translated code has.
const fOffset = uint32(unsafe.Offsetof(CPU{}.F) - unsafe.Offsetof(CPU{}.X))

// emitALU writes an integer computation into x[rd].
func (t *pageTranslator) emitALU(in tinst) {
	w := &t.w
	a := func() { t.getReg(in.rs1) }
	b := func() { t.getReg(in.rs2) }
	imm := func() { w.I64Const(int64(in.imm)) }
	shamt := func(mask uint64) { w.I64Const(int64(in.imm & mask)) }
	sext32 := func() { w.Op(wasm.OpI64Extend32S) }
	bin := func(x, y func(), op byte) {
		x()
		y()
		w.Op(op)
	}
	switch in.op {
	case opAddi:
		bin(a, imm, wasm.OpI64Add)
	case opLui:
		imm()
	case opAuipc:
		bin(func() { w.Get(lBase) }, imm, wasm.OpI64Add)
	case opSlti:
		bin(a, imm, wasm.OpI64LtS)
		w.Op(wasm.OpI64ExtendI32U)
	case opSltiu:
		bin(a, imm, wasm.OpI64LtU)
		w.Op(wasm.OpI64ExtendI32U)
	case opXori:
		bin(a, imm, wasm.OpI64Xor)
	case opOri:
		bin(a, imm, wasm.OpI64Or)
	case opAndi:
		bin(a, imm, wasm.OpI64And)
	case opSlli:
		bin(a, func() { shamt(63) }, wasm.OpI64Shl)
	case opSrli:
		bin(a, func() { shamt(63) }, wasm.OpI64ShrU)
	case opSrai:
		bin(a, func() { shamt(63) }, wasm.OpI64ShrS)
	case opAddiw:
		bin(a, imm, wasm.OpI64Add)
		sext32()
	case opSlliw:
		bin(a, func() { shamt(31) }, wasm.OpI64Shl)
		sext32()
	case opSrliw:
		a()
		w.I64Const(0xffffffff)
		w.Op(wasm.OpI64And)
		shamt(31)
		w.Op(wasm.OpI64ShrU)
		sext32()
	case opSraiw:
		a()
		sext32()
		shamt(31)
		w.Op(wasm.OpI64ShrS)
		sext32()
	case opAdd:
		bin(a, b, wasm.OpI64Add)
	case opSub:
		bin(a, b, wasm.OpI64Sub)
	case opSll:
		bin(a, b, wasm.OpI64Shl) // wasm takes the shift amount mod 64, as RISC-V
	case opSlt:
		bin(a, b, wasm.OpI64LtS)
		w.Op(wasm.OpI64ExtendI32U)
	case opSltu:
		bin(a, b, wasm.OpI64LtU)
		w.Op(wasm.OpI64ExtendI32U)
	case opXor:
		bin(a, b, wasm.OpI64Xor)
	case opSrl:
		bin(a, b, wasm.OpI64ShrU)
	case opSra:
		bin(a, b, wasm.OpI64ShrS)
	case opOr:
		bin(a, b, wasm.OpI64Or)
	case opAnd:
		bin(a, b, wasm.OpI64And)
	case opAddw:
		bin(a, b, wasm.OpI64Add)
		sext32()
	case opSubw:
		bin(a, b, wasm.OpI64Sub)
		sext32()
	case opSllw:
		a()
		b()
		w.I64Const(31)
		w.Op(wasm.OpI64And)
		w.Op(wasm.OpI64Shl)
		sext32()
	case opSrlw:
		a()
		w.I64Const(0xffffffff)
		w.Op(wasm.OpI64And)
		b()
		w.I64Const(31)
		w.Op(wasm.OpI64And)
		w.Op(wasm.OpI64ShrU)
		sext32()
	case opSraw:
		a()
		sext32()
		b()
		w.I64Const(31)
		w.Op(wasm.OpI64And)
		w.Op(wasm.OpI64ShrS)
		sext32()
	case opMul:
		bin(a, b, wasm.OpI64Mul)
	case opMulw:
		bin(a, b, wasm.OpI64Mul)
		sext32()
	case opMulhu, opMulh, opMulhsu:
		t.emitMulh(in)
	case opDiv, opDivu, opRem, opRemu:
		t.emitDiv(in, false)
	case opDivw, opDivuw, opRemw, opRemuw:
		t.emitDiv(in, true)
	default:
		panic(fmt.Sprintf("riscv64: no ALU translation for op %d", in.op))
	}
	t.setReg(in.rd)
}

// emitMulh leaves the high 64 bits of the 128-bit product on the stack:
// the unsigned product from 32-bit halves, then the signed corrections
// (as the interpreter does with bits.Mul64).
func (t *pageTranslator) emitMulh(in tinst) {
	w := &t.w
	t.getReg(in.rs1)
	w.Set(lT0)
	t.getReg(in.rs2)
	w.Set(lT1)
	EmitMulHigh(w, lT0, lT1, lT2, lT3, in.op == opMulh || in.op == opMulhsu, in.op == opMulh)
}

// emitDiv leaves a RISC-V division or remainder on the stack. WebAssembly
// traps on division by zero and on signed overflow, where RISC-V defines
// results, so those cases are selected first.
func (t *pageTranslator) emitDiv(in tinst, word bool) {
	w := &t.w
	signed := in.op == opDiv || in.op == opRem || in.op == opDivw || in.op == opRemw
	rem := in.op == opRem || in.op == opRemu || in.op == opRemw || in.op == opRemuw
	// Operands in t0, t1: the W forms work on sign- or zero-extended low
	// words, so that the 64-bit operation gives the 32-bit result.
	for i, r := range [...]uint8{in.rs1, in.rs2} {
		t.getReg(r)
		if word {
			if signed {
				w.Op(wasm.OpI64Extend32S)
			} else {
				w.I64Const(0xffffffff)
				w.Op(wasm.OpI64And)
			}
		}
		w.Set(uint32(lT0 + i))
	}
	w.Get(lT1)
	w.Op(wasm.OpI64Eqz)
	w.IfResult(wasm.ValI64)
	// Division by zero: the quotient is all ones, the remainder the
	// dividend.
	if rem {
		w.Get(lT0)
	} else {
		w.I64Const(-1)
	}
	w.Op(wasm.OpElse)
	if signed && !word {
		// Overflow: MinInt64 / -1 is MinInt64, remainder 0.
		w.Get(lT1)
		w.I64Const(-1)
		w.Op(wasm.OpI64Eq)
		w.Get(lT0)
		w.I64Const(-1 << 63)
		w.Op(wasm.OpI64Eq)
		w.Op(wasm.OpI32And)
		w.IfResult(wasm.ValI64)
		if rem {
			w.I64Const(0)
		} else {
			w.Get(lT0)
		}
		w.Op(wasm.OpElse)
	}
	// (For the W forms the 64-bit operation cannot overflow.)
	w.Get(lT0)
	w.Get(lT1)
	switch {
	case signed && rem:
		w.Op(wasm.OpI64RemS)
	case signed:
		w.Op(wasm.OpI64DivS)
	case rem:
		w.Op(wasm.OpI64RemU)
	default:
		w.Op(wasm.OpI64DivU)
	}
	if signed && !word {
		w.End()
	}
	w.End()
	if word {
		w.Op(wasm.OpI64Extend32S)
	}
}

// DispatcherBody is the body of the function that translatedRun calls:
// (frame i32, entry i32) -> exit code. It calls unit entry>>16 (function
// firstUnit+unit, of n) with block entry&0xffff and, when the unit leaves
// for a pc the address space's jump cache knows (and budget is left),
// goes on with that entry without returning to Go: calls, returns and
// jumps between pages stay in WebAssembly. It reads the frame once and
// writes the pc and the budget back to it when it returns.
func DispatcherBody(firstUnit uint32, n int) []byte {
	const (
		pFrame = 0
		pEntry = 1
		lCode  = 2  // i32
		lJump  = 3  // i32: the jump cache entry
		lJumps = 4  // i32: the jump cache
		lX     = 5  // i32
		lRTLB  = 6  // i32
		lWTLB  = 7  // i32
		lPC    = 8  // i64
		lBase  = 9  // i64
		lLeft  = 10 // i64
	)
	w := &wasm.Writer{}
	w.U32(2)
	w.U32(6)
	w.Byte(wasm.ValI32)
	w.U32(3)
	w.Byte(wasm.ValI64)
	// The frame word at the largest offset first: the host then checks
	// the bounds of that access only.
	for _, f := range [...]struct {
		off   uint32
		local uint32
		wrap  bool
	}{{FrameJumps, lJumps, true}, {FrameX, lX, true}, {FrameRTLB, lRTLB, true}, {FrameWTLB, lWTLB, true},
		{FrameBase, lBase, false}, {FrameLeft, lLeft, false}} {
		w.Get(pFrame)
		w.Mem(wasm.OpI64Load, 3, f.off)
		if f.wrap {
			w.Op(wasm.OpI32WrapI64)
		}
		w.Set(f.local)
	}
	w.Loop() // $chain
	chain := w.Depth
	w.Block() // $out: back to Go
	out := w.Depth
	w.Block() // $called
	called := w.Depth
	w.SwitchOn(n, func() {
		w.Get(pEntry)
		w.I32Const(16)
		w.Op(wasm.OpI32ShrU)
	})
	for i := range n {
		w.End()
		w.Get(pEntry)
		w.I32Const(0xffff)
		w.Op(wasm.OpI32And)
		w.Get(lX)
		w.Get(lRTLB)
		w.Get(lWTLB)
		w.Get(lBase)
		w.Get(lLeft)
		w.Op(wasm.OpCall)
		w.U32(firstUnit + uint32(i))
		w.Set(lLeft)
		w.Set(lPC)
		w.Set(lCode)
		w.Br(w.Depth - called)
	}
	w.End() // $called
	// Anything but a plain jump goes back to Go, and so does a jump when
	// the budget is spent.
	w.Get(lCode)
	w.BrIf(w.Depth - out)
	w.Get(lLeft)
	w.I64Const(0)
	w.Op(wasm.OpI64LeS)
	w.BrIf(w.Depth - out)
	// e = &jumps[(pc >> 1) & (size-1)]
	w.Get(lPC)
	w.I64Const(1)
	w.Op(wasm.OpI64ShrU)
	w.Op(wasm.OpI32WrapI64)
	w.I32Const(JumpCacheSize - 1)
	w.Op(wasm.OpI32And)
	w.I32Const(JumpEntryShift)
	w.Op(wasm.OpI32Shl)
	w.Get(lJumps)
	w.Op(wasm.OpI32Add)
	w.Tee(lJump)
	w.Mem(wasm.OpI64Load, 3, JumpEntryPC)
	w.Get(lPC)
	w.Op(wasm.OpI64Ne)
	w.BrIf(w.Depth - out)
	// The code page must still be valid (its frame unwritten, mapped
	// and executable as when the entry was made).
	w.Get(lJump)
	w.Mem(wasm.OpI64Load, 3, JumpEntryCode)
	w.Op(wasm.OpI32WrapI64)
	w.Mem(wasm.OpI32Load8U, 0, uint32(LivenessValid))
	w.Op(wasm.OpI32Eqz)
	w.BrIf(w.Depth - out)
	w.Get(lPC)
	w.I64Const(^int64(pageMask))
	w.Op(wasm.OpI64And)
	w.Set(lBase)
	w.Get(lJump)
	w.Mem(wasm.OpI64Load, 3, JumpEntryEntry)
	w.Op(wasm.OpI32WrapI64)
	w.Set(pEntry)
	w.Br(w.Depth - chain)
	w.End() // $out
	w.Get(pFrame)
	w.Get(lPC)
	w.Mem(wasm.OpI64Store, 3, FramePC)
	w.Get(pFrame)
	w.Get(lLeft)
	w.Mem(wasm.OpI64Store, 3, FrameLeft)
	w.Get(lCode)
	w.Op(wasm.OpReturn)
	w.End() // $chain
	w.Op(wasm.OpUnreachable)
	w.End()
	return w.B
}

// getReg pushes guest register r (x0 reads as zero).
func (t *pageTranslator) getReg(r uint8) {
	if r == 0 {
		t.w.I64Const(0)
		return
	}
	t.w.Get(regLocal(r))
}
