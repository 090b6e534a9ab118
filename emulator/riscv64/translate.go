package riscv64

import (
	"encoding/binary"
	"fmt"
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
	w      wasmWriter
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
	lBlock = 0 // i32: the block to start at
	lX     = 1 // i32: address of CPU.X
	lRTLB  = 2 // i32
	lWTLB  = 3 // i32
	lBase  = 4 // i64: guest address of the page
	lLeft  = 5 // i64: budget left
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
	UnitParams  = []byte{valI32, valI32, valI32, valI32, valI64, valI64}
	UnitResults = []byte{valI32, valI64, valI64}
)

func regLocal(r uint8) uint32 { return xLocal + uint32(r) }

// emit writes the function body.
func (t *pageTranslator) emit() []byte {
	w := &t.w
	// Locals: 36 i64 (x1..x31, t0..t3, addr), then 3 i32.
	w.u32(2)
	w.u32(nI64)
	w.byte(valI64)
	w.u32(nI32)
	w.byte(valI32)

	n := len(t.blocks)
	w.block() // $abs: leave with the pc in t3 and the code in lCode
	absDepth := w.depth
	w.block() // $rel: leave with a packed exit in lCode (exits.leave)
	relDepth := w.depth
	w.loop() // $dispatch
	loopDepth := w.depth
	w.switchOn(n, func() { w.get(lBlock) })
	e := &exits{w: w, absDepth: absDepth, relDepth: relDepth}
	for i, b := range t.blocks {
		w.end() // the block label whose target is block i
		t.emitBlock(i, b, e, loopDepth)
	}
	w.end() // loop
	w.end() // $rel
	// Unpack: pc = base + offset, give back the unretired instructions.
	w.get(lBase)
	w.get(lCode)
	w.i32Const(32 - packOffBits)
	w.op(opI32Shl)
	w.i32Const(32 - packOffBits)
	w.op(opI32ShrS)
	w.op(opI64ExtendI32S)
	w.op(opI64Add)
	w.set(lT3)
	w.get(lLeft)
	w.get(lCode)
	w.i32Const(packUnretiredShift)
	w.op(opI32ShrU)
	w.op(opI64ExtendI32U)
	w.op(opI64Add)
	w.set(lLeft)
	w.get(lCode)
	w.i32Const(packCodeShift)
	w.op(opI32ShrU)
	w.i32Const(3)
	w.op(opI32And)
	w.set(lCode)
	w.end() // $abs

	// Epilogue: return the exit code, the pc and the budget (registers
	// were written through).
	w.get(lCode)
	w.get(lT3)
	w.get(lLeft)
	w.end()
	return w.b
}

// A packed exit: the pc's offset from the page's base (signed, so that
// calls to nearby pages fit), the exit code and the instructions of the
// block to give back.
const (
	packOffBits        = 20
	packCodeShift      = packOffBits
	packUnretiredShift = packOffBits + 2
	packMaxUnretired   = 1<<(31-packUnretiredShift) - 1
)

// emitBlock writes block i. On entry the writer's depth is that of the
// block's code: inside the labels of the blocks after it, the loop and
// $exit.
func (t *pageTranslator) emitBlock(i int, b *tblock, e *exits, loopDepth int) {
	w := &t.w
	count := int64(len(b.insts))
	// One access to the end of CPU.F first: the host's compiler then
	// knows that every later access to CPU.X and CPU.F in the block is
	// in bounds and drops their checks (wazero tracks the bounds known
	// for an address value through a block's code).
	w.get(lX)
	w.mem(opI64Load, 3, fOffset+31*8)
	w.op(opDrop)
	// Load what the block reads before it writes it: registers live in
	// locals only within a block, so that entering and leaving a unit
	// costs nothing per register.
	var written, loaded [32]bool
	for _, in := range b.insts {
		for _, r := range [...]uint8{in.rs1, in.rs2} {
			if r != 0 && !written[r] && !loaded[r] && readsReg(in, r) {
				loaded[r] = true
				w.get(lX)
				w.mem(opI64Load, 3, uint32(r)*8)
				w.set(regLocal(r))
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
		w.loop()
		selfDepth = w.depth
	}
	w.get(lLeft)
	w.i64Const(count)
	w.op(opI64Sub)
	w.set(lLeft)

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
				w.br(w.depth - (loopDepth + len(t.blocks) - bi))
				return
			}
			w.get(lLeft)
			w.i64Const(0)
			w.op(opI64LeS)
			w.ifThen()
			e.leave(TranslatedBudget, target, 0)
			w.end()
			if bi == i && selfDepth >= 0 {
				w.br(w.depth - selfDepth)
				return
			}
			w.i32Const(int32(bi))
			w.set(lBlock)
			w.br(w.depth - loopDepth)
			return
		}
		e.leave(TranslatedNext, target, 0)
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
			w.getReg(in.rs1)
			w.getReg(in.rs2)
			w.op([...]byte{opI64Eq, opI64Ne, opI64LtS, opI64GeS, opI64LtU, opI64GeU}[op-opBeq])
			w.ifThen()
			jumpTo(in.imm, false)
			w.end()
			jumpTo(next, true)
		case op == opJal || op == opJ:
			if op == opJal {
				t.setLink(in.rd, next)
			}
			jumpTo(in.imm, true)
		case op == opJalr || op == opJr:
			w.getReg(in.rs1)
			w.i64Const(int64(in.imm))
			w.op(opI64Add)
			w.i64Const(-2)
			w.op(opI64And)
			w.set(lT0)
			if op == opJalr {
				t.setLink(in.rd, next)
			}
			w.get(lT0)
			e.leaveAbs(TranslatedNext)
		default:
			panic(fmt.Sprintf("riscv64: translator has no code for op %d", op))
		}
	}
	switch b.end {
	case endFall, endNext:
		jumpTo(b.endOff, true)
	case endInterpret:
		e.leave(TranslatedInterpret, b.endOff, 0)
	}
	if selfDepth >= 0 {
		w.end()
	}
}

// setLink writes the return address base+next to rd.
func (t *pageTranslator) setLink(rd uint8, next uint64) {
	if rd == 0 {
		return
	}
	w := &t.w
	w.get(lBase)
	w.i64Const(int64(next))
	w.op(opI64Add)
	t.setReg(rd)
}

// setReg pops the value on the stack into guest register rd, writing it
// through to CPU.X.
func (t *pageTranslator) setReg(rd uint8) {
	w := &t.w
	w.set(regLocal(rd))
	w.get(lX)
	w.get(regLocal(rd))
	w.mem(opI64Store, 3, uint32(rd)*8)
}

// exits writes the ways out of a unit.
type exits struct {
	w                  *wasmWriter
	absDepth, relDepth int
}

// leave leaves the unit with code at pc base+off, giving back unretired
// instructions of the block's budget.
func (e *exits) leave(code int32, off uint64, unretired int64) {
	w := e.w
	if rel := int64(off); rel < -1<<(packOffBits-1) || rel >= 1<<(packOffBits-1) || unretired > packMaxUnretired {
		// A target outside the page (a jump to another page).
		w.get(lBase)
		w.i64Const(int64(off))
		w.op(opI64Add)
		if unretired != 0 {
			w.get(lLeft)
			w.i64Const(unretired)
			w.op(opI64Add)
			w.set(lLeft)
		}
		e.leaveAbs(code)
		return
	}
	w.i32Const(e.pack(code, off, unretired))
	w.set(lCode)
	w.br(w.depth - e.relDepth)
}

// pack encodes an exit for lCode (see leave for the limits).
func (e *exits) pack(code int32, off uint64, unretired int64) int32 {
	return int32(off)&(1<<packOffBits-1) | code<<packCodeShift | int32(unretired)<<packUnretiredShift
}

// leaveAbs leaves the unit with code at the pc on the stack.
func (e *exits) leaveAbs(code int32) {
	w := e.w
	w.set(lT3)
	w.i32Const(code)
	w.set(lCode)
	w.br(w.depth - e.absDepth)
}

// emitAddress leaves the host address of a size-byte access at
// x[rs1]+imm in lHost, or leaves the unit for the interpreter when the
// TLB misses (or the access is misaligned, which the interpreter
// emulates). The probe is inline: a call of a shared helper costs wazero
// a call sequence and the caller's live values spilled around it, more
// than the probe itself (python's loop spent 30 % of its translated time
// in the helper).
func (t *pageTranslator) emitAddress(in tinst, size uint64, tlb uint32, e *exits, unretired int64) {
	w := &t.w
	if unretired > packMaxUnretired {
		panic("riscv64: block too long for a packed exit") // findBlocks caps blocks
	}
	w.i32Const(e.pack(TranslatedInterpret, in.off, unretired))
	w.set(lCode)
	// &tlb[(addr >> 12) & (TLBEntries-1)], an entry being 16 bytes.
	w.getReg(in.rs1)
	if in.imm != 0 {
		w.i64Const(int64(in.imm))
		w.op(opI64Add)
	}
	w.tee(lAddr)
	w.i64Const(pageShift - 4)
	w.op(opI64ShrU)
	w.op(opI32WrapI64)
	w.i32Const((TLBEntries - 1) << 4)
	w.op(opI32And)
	w.get(tlb)
	w.op(opI32Add)
	w.tee(lEntry)
	// The frame word first: the host then knows that the tag word
	// before it is in bounds too (see emitBlock).
	w.mem(opI64Load, 3, 8)
	w.op(opI32WrapI64)
	w.set(lHost)
	// The tag keeps the low bits of a misaligned address, which then
	// misses.
	w.get(lEntry)
	w.mem(opI64Load, 3, 0)
	w.get(lAddr)
	w.i64Const(int64(^uint64(pageMask &^ (size - 1))))
	w.op(opI64And)
	w.op(opI64Ne)
	w.brIf(w.depth - e.relDepth)
	w.get(lHost)
	w.get(lAddr)
	w.op(opI32WrapI64)
	w.i32Const(pageMask)
	w.op(opI32And)
	w.op(opI32Add)
	w.set(lHost)
}

func (t *pageTranslator) emitLoad(in tinst, e *exits, unretired int64) {
	w := &t.w
	k := in.op - opLb
	size := [...]uint64{1, 2, 4, 8, 1, 2, 4}[k]
	t.emitAddress(in, size, lRTLB, e, unretired)
	w.get(lHost)
	op := [...]byte{opI64Load8S, opI64Load16S, opI64Load32S, opI64Load, opI64Load8U, opI64Load16U, opI64Load32U}[k]
	w.mem(op, 0, 0)
	if in.rd == 0 {
		w.op(opDrop)
		return
	}
	t.setReg(in.rd)
}

func (t *pageTranslator) emitStore(in tinst, e *exits, unretired int64) {
	w := &t.w
	k := in.op - opSb
	t.emitAddress(in, 1<<k, lWTLB, e, unretired)
	w.get(lHost)
	w.getReg(in.rs2)
	w.mem([...]byte{opI64Store8, opI64Store16, opI64Store32, opI64Store}[k], 0, 0)
}

// emitFPMove translates a floating-point load or store: a move between
// memory and CPU.F (which follows CPU.X), with single-precision values
// NaN-boxed as the interpreter keeps them. The f registers stay in memory:
// only the interpreter computes with them.
func (t *pageTranslator) emitFPMove(in tinst, e *exits, unretired int64) {
	w := &t.w
	single := in.op == opFlw || in.op == opFsw
	size := uint64(8)
	if single {
		size = 4
	}
	if in.op == opFlw || in.op == opFld {
		t.emitAddress(in, size, lRTLB, e, unretired)
		w.get(lX)
		w.get(lHost)
		if single {
			w.mem(opI64Load32U, 0, 0)
			w.i64Const(-1 << 32)
			w.op(opI64Or)
		} else {
			w.mem(opI64Load, 0, 0)
		}
		w.mem(opI64Store, 3, fOffset+uint32(in.rd&31)*8)
		return
	}
	t.emitAddress(in, size, lWTLB, e, unretired)
	w.get(lHost)
	w.get(lX)
	w.mem(opI64Load, 3, fOffset+uint32(in.rs2&31)*8)
	if single {
		w.mem(opI64Store32, 0, 0)
	} else {
		w.mem(opI64Store, 0, 0)
	}
}

// fOffset is where CPU.F is from CPU.X, the address translated code has.
const fOffset = uint32(unsafe.Offsetof(CPU{}.F) - unsafe.Offsetof(CPU{}.X))

// emitALU writes an integer computation into x[rd].
func (t *pageTranslator) emitALU(in tinst) {
	w := &t.w
	a := func() { w.getReg(in.rs1) }
	b := func() { w.getReg(in.rs2) }
	imm := func() { w.i64Const(int64(in.imm)) }
	shamt := func(mask uint64) { w.i64Const(int64(in.imm & mask)) }
	sext32 := func() { w.op(opI64Extend32S) }
	bin := func(x, y func(), op byte) {
		x()
		y()
		w.op(op)
	}
	switch in.op {
	case opAddi:
		bin(a, imm, opI64Add)
	case opLui:
		imm()
	case opAuipc:
		bin(func() { w.get(lBase) }, imm, opI64Add)
	case opSlti:
		bin(a, imm, opI64LtS)
		w.op(opI64ExtendI32U)
	case opSltiu:
		bin(a, imm, opI64LtU)
		w.op(opI64ExtendI32U)
	case opXori:
		bin(a, imm, opI64Xor)
	case opOri:
		bin(a, imm, opI64Or)
	case opAndi:
		bin(a, imm, opI64And)
	case opSlli:
		bin(a, func() { shamt(63) }, opI64Shl)
	case opSrli:
		bin(a, func() { shamt(63) }, opI64ShrU)
	case opSrai:
		bin(a, func() { shamt(63) }, opI64ShrS)
	case opAddiw:
		bin(a, imm, opI64Add)
		sext32()
	case opSlliw:
		bin(a, func() { shamt(31) }, opI64Shl)
		sext32()
	case opSrliw:
		a()
		w.i64Const(0xffffffff)
		w.op(opI64And)
		shamt(31)
		w.op(opI64ShrU)
		sext32()
	case opSraiw:
		a()
		sext32()
		shamt(31)
		w.op(opI64ShrS)
		sext32()
	case opAdd:
		bin(a, b, opI64Add)
	case opSub:
		bin(a, b, opI64Sub)
	case opSll:
		bin(a, b, opI64Shl) // wasm takes the shift amount mod 64, as RISC-V
	case opSlt:
		bin(a, b, opI64LtS)
		w.op(opI64ExtendI32U)
	case opSltu:
		bin(a, b, opI64LtU)
		w.op(opI64ExtendI32U)
	case opXor:
		bin(a, b, opI64Xor)
	case opSrl:
		bin(a, b, opI64ShrU)
	case opSra:
		bin(a, b, opI64ShrS)
	case opOr:
		bin(a, b, opI64Or)
	case opAnd:
		bin(a, b, opI64And)
	case opAddw:
		bin(a, b, opI64Add)
		sext32()
	case opSubw:
		bin(a, b, opI64Sub)
		sext32()
	case opSllw:
		a()
		b()
		w.i64Const(31)
		w.op(opI64And)
		w.op(opI64Shl)
		sext32()
	case opSrlw:
		a()
		w.i64Const(0xffffffff)
		w.op(opI64And)
		b()
		w.i64Const(31)
		w.op(opI64And)
		w.op(opI64ShrU)
		sext32()
	case opSraw:
		a()
		sext32()
		b()
		w.i64Const(31)
		w.op(opI64And)
		w.op(opI64ShrS)
		sext32()
	case opMul:
		bin(a, b, opI64Mul)
	case opMulw:
		bin(a, b, opI64Mul)
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
	w.getReg(in.rs1)
	w.set(lT0)
	w.getReg(in.rs2)
	w.set(lT1)
	lo := func(l uint32) { w.get(l); w.i64Const(0xffffffff); w.op(opI64And) }
	hi := func(l uint32) { w.get(l); w.i64Const(32); w.op(opI64ShrU) }
	// t2 = (aHi*bLo) + (aLo*bLo >> 32)
	hi(lT0)
	lo(lT1)
	w.op(opI64Mul)
	lo(lT0)
	lo(lT1)
	w.op(opI64Mul)
	w.i64Const(32)
	w.op(opI64ShrU)
	w.op(opI64Add)
	w.set(lT2)
	// t3 = aLo*bHi + (t2 & 0xffffffff)
	lo(lT0)
	hi(lT1)
	w.op(opI64Mul)
	lo(lT2)
	w.op(opI64Add)
	w.set(lT3)
	// aHi*bHi + (t2 >> 32) + (t3 >> 32)
	hi(lT0)
	hi(lT1)
	w.op(opI64Mul)
	hi(lT2)
	w.op(opI64Add)
	hi(lT3)
	w.op(opI64Add)
	// Signed corrections: subtract b if a < 0 (mulh, mulhsu), a if b < 0
	// (mulh).
	if in.op == opMulh || in.op == opMulhsu {
		w.get(lT1)
		w.get(lT0)
		w.i64Const(63)
		w.op(opI64ShrS)
		w.op(opI64And)
		w.op(opI64Sub)
	}
	if in.op == opMulh {
		w.get(lT0)
		w.get(lT1)
		w.i64Const(63)
		w.op(opI64ShrS)
		w.op(opI64And)
		w.op(opI64Sub)
	}
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
		w.getReg(r)
		if word {
			if signed {
				w.op(opI64Extend32S)
			} else {
				w.i64Const(0xffffffff)
				w.op(opI64And)
			}
		}
		w.set(uint32(lT0 + i))
	}
	w.get(lT1)
	w.op(opI64Eqz)
	w.ifResult(valI64)
	// Division by zero: the quotient is all ones, the remainder the
	// dividend.
	if rem {
		w.get(lT0)
	} else {
		w.i64Const(-1)
	}
	w.op(opElse)
	if signed && !word {
		// Overflow: MinInt64 / -1 is MinInt64, remainder 0.
		w.get(lT1)
		w.i64Const(-1)
		w.op(opI64Eq)
		w.get(lT0)
		w.i64Const(-1 << 63)
		w.op(opI64Eq)
		w.op(opI32And)
		w.ifResult(valI64)
		if rem {
			w.i64Const(0)
		} else {
			w.get(lT0)
		}
		w.op(opElse)
	}
	// (For the W forms the 64-bit operation cannot overflow.)
	w.get(lT0)
	w.get(lT1)
	switch {
	case signed && rem:
		w.op(opI64RemS)
	case signed:
		w.op(opI64DivS)
	case rem:
		w.op(opI64RemU)
	default:
		w.op(opI64DivU)
	}
	if signed && !word {
		w.end()
	}
	w.end()
	if word {
		w.op(opI64Extend32S)
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
	w := &wasmWriter{}
	w.u32(2)
	w.u32(6)
	w.byte(valI32)
	w.u32(3)
	w.byte(valI64)
	// The frame word at the largest offset first: the host then checks
	// the bounds of that access only.
	for _, f := range [...]struct {
		off   uint32
		local uint32
		wrap  bool
	}{{FrameJumps, lJumps, true}, {FrameX, lX, true}, {FrameRTLB, lRTLB, true}, {FrameWTLB, lWTLB, true},
		{FrameBase, lBase, false}, {FrameLeft, lLeft, false}} {
		w.get(pFrame)
		w.mem(opI64Load, 3, f.off)
		if f.wrap {
			w.op(opI32WrapI64)
		}
		w.set(f.local)
	}
	w.loop() // $chain
	chain := w.depth
	w.block() // $out: back to Go
	out := w.depth
	w.block() // $called
	called := w.depth
	w.switchOn(n, func() {
		w.get(pEntry)
		w.i32Const(16)
		w.op(opI32ShrU)
	})
	for i := range n {
		w.end()
		w.get(pEntry)
		w.i32Const(0xffff)
		w.op(opI32And)
		w.get(lX)
		w.get(lRTLB)
		w.get(lWTLB)
		w.get(lBase)
		w.get(lLeft)
		w.op(opCall)
		w.u32(firstUnit + uint32(i))
		w.set(lLeft)
		w.set(lPC)
		w.set(lCode)
		w.br(w.depth - called)
	}
	w.end() // $called
	// Anything but a plain jump goes back to Go, and so does a jump when
	// the budget is spent.
	w.get(lCode)
	w.brIf(w.depth - out)
	w.get(lLeft)
	w.i64Const(0)
	w.op(opI64LeS)
	w.brIf(w.depth - out)
	// e = &jumps[(pc >> 1) & (size-1)]
	w.get(lPC)
	w.i64Const(1)
	w.op(opI64ShrU)
	w.op(opI32WrapI64)
	w.i32Const(JumpCacheSize - 1)
	w.op(opI32And)
	w.i32Const(JumpEntryShift)
	w.op(opI32Shl)
	w.get(lJumps)
	w.op(opI32Add)
	w.tee(lJump)
	w.mem(opI64Load, 3, JumpEntryPC)
	w.get(lPC)
	w.op(opI64Ne)
	w.brIf(w.depth - out)
	// The code page must still be valid (its frame unwritten, mapped
	// and executable as when the entry was made).
	w.get(lJump)
	w.mem(opI64Load, 3, JumpEntryCode)
	w.op(opI32WrapI64)
	w.mem(opI32Load8U, 0, uint32(LivenessValid))
	w.op(opI32Eqz)
	w.brIf(w.depth - out)
	w.get(lPC)
	w.i64Const(^int64(pageMask))
	w.op(opI64And)
	w.set(lBase)
	w.get(lJump)
	w.mem(opI64Load, 3, JumpEntryEntry)
	w.op(opI32WrapI64)
	w.set(pEntry)
	w.br(w.depth - chain)
	w.end() // $out
	w.get(pFrame)
	w.get(lPC)
	w.mem(opI64Store, 3, FramePC)
	w.get(pFrame)
	w.get(lLeft)
	w.mem(opI64Store, 3, FrameLeft)
	w.get(lCode)
	w.op(opReturn)
	w.end() // $chain
	w.op(opUnreachable)
	w.end()
	return w.b
}
