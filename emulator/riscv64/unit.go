package riscv64

import wasm "github.com/wasmrt/wasmrt/emulator/internal/wasmgen"

// The control skeleton of a unit function, shared by the riscv64 and
// x86-64 translators (docs/translation.md): the ways out of a unit, and
// the dispatch over its blocks.

// The parameters of a unit function (UnitParams), its first locals.
const (
	UnitBlock = 0 // i32: the block to start at
	UnitX     = 1 // i32: the address of the CPU's integer registers
	UnitRTLB  = 2 // i32
	UnitWTLB  = 3 // i32
	UnitBase  = 4 // i64: guest address of the page
	UnitLeft  = 5 // i64: budget left
)

// A packed exit: the pc's offset from the page's base (signed, so that
// calls to nearby pages fit), the exit code and the instructions of the
// block to give back.
const (
	packOffBits        = 20
	packCodeShift      = packOffBits
	packUnretiredShift = packOffBits + 2
	packMaxUnretired   = 1<<(31-packUnretiredShift) - 1
)

// Exits writes the ways out of a unit.
type Exits struct {
	w                  *wasm.Writer
	absDepth, relDepth int
	// code and pc are the unit's i32 local for the exit code and i64
	// local for the pc of an exit to an address.
	code, pc uint32
}

// Leave leaves the unit with code at pc base+off, giving back unretired
// instructions of the block's budget.
func (e *Exits) Leave(code int32, off uint64, unretired int64) {
	w := e.w
	if rel := int64(off); rel < -1<<(packOffBits-1) || rel >= 1<<(packOffBits-1) || unretired > packMaxUnretired {
		// A target outside the page (a jump to another page).
		w.Get(UnitBase)
		w.I64Const(int64(off))
		w.Op(wasm.OpI64Add)
		if unretired != 0 {
			w.Get(UnitLeft)
			w.I64Const(unretired)
			w.Op(wasm.OpI64Add)
			w.Set(UnitLeft)
		}
		e.LeaveAbs(code)
		return
	}
	w.I32Const(e.Pack(code, off, unretired))
	w.Set(e.code)
	w.Br(w.Depth - e.relDepth)
}

// Pack encodes an exit for LeaveIf (see Leave for the limits).
func (e *Exits) Pack(code int32, off uint64, unretired int64) int32 {
	return int32(off)&(1<<packOffBits-1) | code<<packCodeShift | int32(unretired)<<packUnretiredShift
}

// LeaveIf leaves the unit with the exit Pack encoded, which the caller
// stored in the code local, when the i32 on the stack is not zero.
func (e *Exits) LeaveIf() { e.w.BrIf(e.w.Depth - e.relDepth) }

// LeaveAbs leaves the unit with code at the pc on the stack.
func (e *Exits) LeaveAbs(code int32) {
	w := e.w
	w.Set(e.pc)
	w.I32Const(code)
	w.Set(e.code)
	w.Br(w.Depth - e.absDepth)
}

// EmitUnit writes a unit function's body after its locals: a dispatch
// loop over n blocks whose code emitBlock writes (block i's label
// encloses the blocks after it and the loop, at depth loopDepth+n-i),
// the exits' common path, then beforeReturn's code and the results. code
// and pc are the unit's exit locals (Exits).
func EmitUnit(w *wasm.Writer, n int, code, pc uint32, emitBlock func(i int, e *Exits, loopDepth int), beforeReturn func()) {
	w.Block() // $abs: leave with the pc in pc and the code in code
	absDepth := w.Depth
	w.Block() // $rel: leave with a packed exit in code (Leave)
	relDepth := w.Depth
	w.Loop() // $dispatch
	loopDepth := w.Depth
	w.SwitchOn(n, func() { w.Get(UnitBlock) })
	e := &Exits{w: w, absDepth: absDepth, relDepth: relDepth, code: code, pc: pc}
	for i := range n {
		w.End() // the block label whose target is block i
		emitBlock(i, e, loopDepth)
	}
	w.End() // loop
	w.End() // $rel
	// Unpack: pc = base + offset, give back the unretired instructions.
	w.Get(UnitBase)
	w.Get(code)
	w.I32Const(32 - packOffBits)
	w.Op(wasm.OpI32Shl)
	w.I32Const(32 - packOffBits)
	w.Op(wasm.OpI32ShrS)
	w.Op(wasm.OpI64ExtendI32S)
	w.Op(wasm.OpI64Add)
	w.Set(pc)
	w.Get(UnitLeft)
	w.Get(code)
	w.I32Const(packUnretiredShift)
	w.Op(wasm.OpI32ShrU)
	w.Op(wasm.OpI64ExtendI32U)
	w.Op(wasm.OpI64Add)
	w.Set(UnitLeft)
	w.Get(code)
	w.I32Const(packCodeShift)
	w.Op(wasm.OpI32ShrU)
	w.I32Const(3)
	w.Op(wasm.OpI32And)
	w.Set(code)
	w.End() // $abs
	if beforeReturn != nil {
		beforeReturn()
	}
	// Return the exit code, the pc and the budget (registers were
	// written through).
	w.Get(code)
	w.Get(pc)
	w.Get(UnitLeft)
	w.End()
}

// EmitMulHigh pushes the high 64 bits of the 128-bit product of the i64
// locals a and b (WebAssembly has no wide multiplication): the unsigned
// product from 32-bit halves, then the corrections of a signed operand,
// a when aSigned, b when bSigned (as Go's bits.Mul64 users do). t2 and t3
// are i64 temporaries.
func EmitMulHigh(w *wasm.Writer, a, b, t2, t3 uint32, aSigned, bSigned bool) {
	lo := func(l uint32) { w.Get(l); w.I64Const(0xffffffff); w.Op(wasm.OpI64And) }
	hi := func(l uint32) { w.Get(l); w.I64Const(32); w.Op(wasm.OpI64ShrU) }
	// t2 = (aHi*bLo) + (aLo*bLo >> 32)
	hi(a)
	lo(b)
	w.Op(wasm.OpI64Mul)
	lo(a)
	lo(b)
	w.Op(wasm.OpI64Mul)
	w.I64Const(32)
	w.Op(wasm.OpI64ShrU)
	w.Op(wasm.OpI64Add)
	w.Set(t2)
	// t3 = aLo*bHi + (t2 & 0xffffffff)
	lo(a)
	hi(b)
	w.Op(wasm.OpI64Mul)
	lo(t2)
	w.Op(wasm.OpI64Add)
	w.Set(t3)
	// aHi*bHi + (t2 >> 32) + (t3 >> 32)
	hi(a)
	hi(b)
	w.Op(wasm.OpI64Mul)
	hi(t2)
	w.Op(wasm.OpI64Add)
	hi(t3)
	w.Op(wasm.OpI64Add)
	// Signed corrections: subtract b if a < 0, a if b < 0.
	correct := func(x, negative uint32) { // - (x & (negative >> 63))
		w.Get(x)
		w.Get(negative)
		w.I64Const(63)
		w.Op(wasm.OpI64ShrS)
		w.Op(wasm.OpI64And)
		w.Op(wasm.OpI64Sub)
	}
	if aSigned {
		correct(b, a)
	}
	if bSigned {
		correct(a, b)
	}
}
