package amd64

import (
	"debug/elf"
	"fmt"
	"slices"
	"unsafe"

	wasm "github.com/wasmrt/wasmrt/emulator/internal/wasmgen"
	rv "github.com/wasmrt/wasmrt/emulator/riscv64"
)

// The translator (docs/translation.md, "x86-64"): it turns one 4 KiB page
// of guest code into the body of a WebAssembly function with riscv64's
// unit signature (rv.UnitParams -> rv.UnitResults), so that the same
// dispatcher, jump cache and index serve both CPUs. It translates the
// fast forms (fast.go), whose operands the decoder already resolved;
// every other instruction ends its block with an exit to the
// interpreter. It lives in this package because it must decode and
// classify exactly as the interpreter does.
//
// Guest registers live in locals within a block and are written through
// to CPU.R. The arithmetic flags never touch memory inside a unit: a
// flag-setting instruction leaves its lazy record (flags.go) in locals,
// a condition is computed from those locals by what the translator knows
// set them, and the record is stored to CPU.lazy once, when the unit
// returns. A condition whose flags come from before its block starts is
// left to the interpreter.

// TranslateELF translates the executable pages of an x86-64 ELF file
// (executable or shared object) for which want(offset) is true (nil: all
// of them), in file-offset order. starts are offsets in file pages where
// training saw blocks start (nil: none): they become block entries too,
// which the sweep cannot find for the targets of indirect jumps.
func TranslateELF(image []byte, want func(offset uint64) bool, starts map[uint64][]uint16) ([]rv.TranslatedUnit, error) {
	return rv.ELFCode{Machine: elf.EM_X86_64, Step: codeStep, TranslatePage: TranslatePage, Starts: starts}.Translate(image, want)
}

// codeStep is x86-64's rv.CodeStep. A conditional branch does not end
// straight-line code: the translator's blocks run on past it, so that
// the flags a later condition reads stay known.
func codeStep(code []byte, off uint64) (rv.CodeStep, bool) {
	in, ok := decodeCode(code, off)
	if !ok {
		return rv.CodeStep{}, false
	}
	st := rv.CodeStep{Len: uint64(in.len)}
	switch in.op {
	case opJcc, opJmp, opCall:
		st.Target, st.HasTarget = in.imm, in.osz != 2
	}
	switch in.op {
	case opJmp, opJmpRm, opRet:
		st.Ends = true
	case opCall, opCallRm, opSyscall:
		st.Resume = true
	}
	if !translatable(&in) {
		st.Resume = true
	}
	return st, true
}

// decodeCode decodes and classifies the instruction at offset off of
// code (a page, or a whole file), reporting false when it runs past the
// end of code. It decodes as if located at off, so that branch targets
// and rip-relative operands are offsets too.
func decodeCode(code []byte, off uint64) (inst, bool) {
	if off >= uint64(len(code)) {
		return inst{}, false
	}
	in, ok := decode(code[off:min(off+maxInstLen, uint64(len(code)))], off)
	if !ok {
		return inst{}, false
	}
	if in.len == 0 {
		in.len = 1 // an undecodable byte: the sweep goes on after it
	}
	classify(&in)
	if in.fast == fastNone {
		// classify leaves the mask unset for the prefixed forms it
		// passes over (rep bsf, which is bsf here); the translator's
		// own forms use it.
		in.mask = sizeMask(min(max(in.osz, 1), 8))
		if isPartialShift(&in) {
			in.src, in.imm = zeroReg, in.imm&31 // the count, as fastShift's
		}
		if isImulMem(&in) {
			in.dst = in.reg // as fastAside's imul
		}
		if in.op == opCmpxchg {
			in.lop = lazySub // compared as cmp rax, m (emitALU)
		}
		if isPartialALU(&in) {
			// fastOp's selectors, for emitALU.
			switch sub := in.sub; {
			case in.op == opTestRmReg || in.op == opTestRmImm, sub == 4:
				in.lop, in.sel = lazyLogic, selAnd
			case sub == 0:
				in.lop = lazyAdd
			case sub == 5 || sub == 7:
				in.lop, in.sel = lazySub, selNeg
			case sub == 1:
				in.lop, in.sel = lazyLogic, selAnd|selXor
			case sub == 6:
				in.lop, in.sel = lazyLogic, selXor
			}
			in.logic = in.lop == lazyLogic
		}
	}
	return in, true
}

// translatable reports whether the translator emits code for in, when
// the flags allow (flagRole and findBlocks decide that).
func translatable(in *inst) bool {
	switch in.fast {
	case fastMove, fastOp, fastLoad, fastStore, fastPush, fastPop, fastOpLoad, fastCmpLoad,
		fastExtendLoad, fastExtend, fastShift, fastRet, fastJmpInd, fastAside:
		return true
	case fastCall, fastJmp:
		// A 16-bit operand size truncates the target, which the
		// translator computes from page offsets.
		return in.osz != 2
	case fastCond:
		return in.sub != condJump || in.osz != 2
	case fastVec:
		return in.lop != vecPacked || packedSIMD(in.sub) != 0
	case fastNone:
		// Instructions without a fast form the translator also covers,
		// of 4 or 8 bytes: one-operand mul and imul, imul from memory,
		// bsf, bsr, popcnt, bt on registers, unsigned div, push from
		// memory, and xchg and cmpxchg with memory (locked or not: the
		// emulator runs one guest thread at a time).
		wide := in.osz == 4 || in.osz == 8
		operand := !in.mem || !in.addr32 && in.seg == segNone
		switch {
		case isPartialShift(in):
			return true
		case !wide || !operand:
		case in.op == opXchgRmReg || in.op == opCmpxchg:
			return in.mem
		case in.lock:
		case in.op == opBtRmReg || in.op == opBtRmImm:
			return !in.mem && in.sub == 4
		case in.op == opPushRm:
			return in.osz == 8
		case in.op == opDivRm:
			return in.sub == 6
		case in.op == opPopcnt:
			return true
		case in.op == opMulRm:
			return in.sub == 4 || in.sub == 5
		case in.op == opBsf || in.op == opBsr, isImulMem(in):
			return true
		}
		return isPartialALU(in)
	}
	return false
}

// isPartialALU reports the ALU group and test on byte and word registers
// (ah to bh included) that classify gives no fast form: the translator
// merges their results into the wider registers.
func isPartialALU(in *inst) bool {
	switch in.op {
	case opAluRmReg, opAluRegRm, opAluRmImm, opTestRmReg, opTestRmImm:
		return (in.osz == 1 || in.osz == 2) && !in.mem && !in.lock && in.rep == repNone && in.sub != 2 && in.sub != 3
	}
	return false
}

// isPartialShift reports shl, shr and sar of a byte or word register by
// an immediate count below its width (classify gives them no fast form;
// a larger count leaves CF as the interpreter computes it, not as here).
func isPartialShift(in *inst) bool {
	if in.op != opShiftImm || in.osz != 1 && in.osz != 2 || in.mem || in.lock || in.sub < 4 {
		return false
	}
	cnt := in.imm & 31
	return cnt != 0 && cnt < uint64(in.osz)*8
}

// isPartialOp reports the byte and word operations the translator merges
// into the wider registers.
func isPartialOp(in *inst) bool { return isPartialALU(in) || isPartialShift(in) }

// isImulMem reports imul r, m and imul r, m, imm (of 4 or 8 bytes, where
// translatable says so), which classify leaves without a fast form.
func isImulMem(in *inst) bool {
	return in.fast == fastNone && (in.op == opImulRegRm || in.op == opImulRegRmImm) && in.mem
}

// isBitScan reports bsf and bsr, which change only ZF.
func isBitScan(in *inst) bool { return in.fast == fastNone && (in.op == opBsf || in.op == opBsr) }

// What a translated instruction does with the arithmetic flags.
type flagRole uint8

const (
	flagsUntouched flagRole = iota
	// flagsWrite: it sets every flag, recording what the locals hold.
	flagsWrite
	// flagsWriteIfNonZero: a shift by cl, which changes nothing when
	// the count is zero (then the interpreter runs it).
	flagsWriteIfNonZero
	// flagsRead: a condition; it needs flags recorded in the block.
	flagsRead
	// flagsUpdate: inc and dec keep CF, rotates keep all but CF and
	// OF: the translator computes CF from a record of the block, or
	// drops what they do to the flags where nothing reads it
	// (flagsDeadAfter).
	flagsUpdate
	// flagsWriteUnknown: 64-bit imul, whose overflow the translator does
	// not compute: only where nothing reads it.
	flagsWriteUnknown
	// flagsZF: bsf and bsr set ZF and keep the others: only where
	// nothing but a test of ZF reads the flags (onlyReadAfter).
	flagsZF
	// flagsCF: bt sets CF and keeps ZF (the others are undefined): only
	// where nothing but a test of CF reads the flags.
	flagsCF
)

func flagRoleOf(in *inst) flagRole {
	switch in.fast {
	case fastOp, fastOpLoad, fastCmpLoad:
		return flagsWrite
	case fastShift:
		if in.src != zeroReg {
			return flagsWriteIfNonZero
		}
		return flagsWrite
	case fastCond:
		return flagsRead
	case fastNone:
		switch {
		case isImulMem(in) && in.osz == 8, in.op == opPopcnt:
			return flagsWriteUnknown
		case in.op == opMulRm || isPartialOp(in) || isImulMem(in) || in.op == opCmpxchg:
			return flagsWrite
		case in.op == opBtRmReg || in.op == opBtRmImm:
			return flagsCF
		case in.op == opDivRm || in.op == opPushRm || in.op == opXchgRmReg:
			return flagsUntouched
		}
		return flagsZF
	case fastAside:
		switch in.op {
		case opAluRmReg, opAluRmImm:
			return flagsWrite
		case opIncRm, opDecRm, opShiftImm:
			return flagsUpdate
		case opImulRegRm, opImulRegRmImm:
			if in.osz == 8 {
				return flagsWriteUnknown
			}
			return flagsWrite
		}
	}
	return flagsUntouched
}

// flagsDeadAfter reports whether the flags insts[k] leaves are
// overwritten before anything reads them: the next instruction of the
// block that touches the flags sets them all, or, for a rotate, which
// changes only CF and OF, another rotate. An exit to the interpreter in
// between changes nothing: it runs the same instructions.
func flagsDeadAfter(insts []tinst, k int) bool {
	rotate := isRotate(&insts[k].inst)
	for j := k + 1; j < len(insts); j++ {
		in := &insts[j].inst
		switch flagRoleOf(in) {
		case flagsWrite, flagsWriteUnknown:
			return true
		case flagsUpdate:
			return rotate && isRotate(in)
		case flagsRead, flagsWriteIfNonZero, flagsZF, flagsCF:
			return false
		}
	}
	return false
}

// onlyReadAfter reports whether nothing after insts[k] reads a flag but
// the one of condition pair cc>>1 (cc 2: CF, 4: ZF) before every flag is
// written again: what lets the translator record a bit scan's ZF, or bt's
// CF, without the flags they keep.
func onlyReadAfter(insts []tinst, k int, cc uint8) bool {
	for j := k + 1; j < len(insts); j++ {
		in := &insts[j].inst
		switch flagRoleOf(in) {
		case flagsWrite, flagsWriteUnknown:
			return true
		case flagsRead:
			if in.cond>>1 != cc>>1 {
				return false
			}
		case flagsUpdate, flagsWriteIfNonZero, flagsZF, flagsCF:
			return false
		}
	}
	return false
}

// isRotate reports rol and ror by an immediate.
func isRotate(in *inst) bool { return in.fast == fastAside && in.op == opShiftImm }

// TranslatePage translates the page of guest code page (PageSize bytes or
// fewer, read as zeros past its end) given the offsets where blocks are
// known to start. It returns the function body and the offsets of its
// blocks, block i starting at slots[i]; leaders that cannot start a block
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
		slots = append(slots, b.start)
	}
	return t.emit(), slots
}

// tinst is a decoded instruction with its offset in the page.
type tinst struct {
	inst
	off uint64
}

// tblock is a basic block, extended past conditional branches: the
// instructions from start to an unconditional control transfer, an
// untranslated instruction, the page end or the next block.
type tblock struct {
	start uint16
	insts []tinst
	// end says how control leaves after the last instruction.
	end blockEnd
	// endOff is the offset the end refers to: the untranslated
	// instruction (endInterpret) or the next instruction (endNext,
	// endFall).
	endOff uint64
}

type blockEnd uint8

const (
	// endControl: the last instruction jumps, calls or returns.
	endControl blockEnd = iota
	// endFall: continue with the block starting at endOff.
	endFall
	// endNext: leave the page at pc base+endOff.
	endNext
	// endInterpret: the instruction at endOff is the interpreter's.
	endInterpret
)

// maxTBlock bounds a block's instructions, so that every exit from it
// packs.
const maxTBlock = 256

type pageTranslator struct {
	code   *[PageSize]byte
	blocks []*tblock
	block  map[uint16]int // start -> index in blocks
	w      wasm.Writer
	// flags is the instruction whose lazy flag record the locals hold,
	// while emitting a block (nil before the block's first).
	flags *tinst
	// valid says which registers' locals hold their values, while
	// emitting a block.
	valid [32]bool
}

// findBlocks decodes a block from every leader, adding the in-page
// targets of direct branches, jumps and calls and the return addresses
// of calls as leaders too.
func (t *pageTranslator) findBlocks(leaders []uint16) {
	isLeader := make(map[uint16]bool)
	work := slices.Clone(leaders)
	for _, s := range leaders {
		isLeader[s] = true
	}
	addTarget := func(target uint64) {
		if target < PageSize && !isLeader[uint16(target)] {
			isLeader[uint16(target)] = true
			work = append(work, uint16(target))
		}
	}
	var found []*tblock
	for len(work) > 0 {
		s := work[len(work)-1]
		work = work[:len(work)-1]
		if s >= PageSize {
			continue
		}
		b := &tblock{start: s}
		for off := uint64(s); ; {
			if off >= PageSize {
				b.end, b.endOff = endNext, off
				break
			}
			if len(b.insts) > 0 && isLeader[uint16(off)] || len(b.insts) == maxTBlock {
				b.end, b.endOff = endFall, off
				break
			}
			in, ok := decodeCode(t.code[:], off)
			if !ok {
				// It continues on the next page: the interpreter's.
				b.end, b.endOff = endNext, off
				break
			}
			if !translatable(&in) {
				b.end, b.endOff = endInterpret, off
				break
			}
			b.insts = append(b.insts, tinst{inst: in, off: off})
			if in.fast == fastJmp || in.fast == fastCall || in.fast == fastRet || in.fast == fastJmpInd {
				b.end = endControl
				break
			}
			off += uint64(in.len)
		}
		b.cutForFlags()
		for _, in := range b.insts {
			next := in.off + uint64(in.len)
			switch in.fast {
			case fastCond:
				if in.sub == condJump {
					addTarget(in.imm)
				}
			case fastJmp:
				addTarget(in.imm)
			case fastCall:
				addTarget(in.imm)
				addTarget(next)
			case fastJmpInd:
				if in.op == opCallRm {
					addTarget(next)
				}
			}
		}
		switch b.end {
		case endFall:
			addTarget(b.endOff)
		case endInterpret:
			// Where translated code goes on after the interpreter.
			if in, ok := decodeCode(t.code[:], b.endOff); ok {
				addTarget(b.endOff + uint64(in.len))
			}
		}
		if len(b.insts) > 0 {
			found = append(found, b)
		}
	}
	// A block cut short by a leader found later keeps its longer form:
	// both are correct (each decodes from its own start).
	slices.SortFunc(found, func(a, b *tblock) int { return int(a.start) - int(b.start) })
	t.blocks = found
	for i, b := range found {
		t.block[b.start] = i
	}
}

// cutForFlags ends the block before the first instruction whose flags
// the translator cannot provide: a condition with no flags recorded
// earlier in the block, an inc or dec without them whose flags are read,
// a rotate or a 64-bit imul whose flags are read. Cutting can make an
// earlier instruction's flags live (its overwriting was cut off), so it
// checks again until nothing changes.
func (b *tblock) cutForFlags() {
	for {
		known, cut := false, -1
		for k := range b.insts {
			in := &b.insts[k].inst
			role := flagRoleOf(in)
			ok := true
			switch {
			case role == flagsRead:
				ok = known
			case role == flagsUpdate && (in.op == opIncRm || in.op == opDecRm):
				ok = known || flagsDeadAfter(b.insts, k)
			case role == flagsUpdate, role == flagsWriteUnknown:
				ok = flagsDeadAfter(b.insts, k)
			case role == flagsZF:
				ok = onlyReadAfter(b.insts, k, 4)
			case role == flagsCF:
				ok = onlyReadAfter(b.insts, k, 2)
			}
			if !ok {
				cut = k
				break
			}
			if role != flagsUntouched && role != flagsRead {
				known = true
			}
		}
		if cut < 0 {
			return
		}
		b.end, b.endOff = endInterpret, b.insts[cut].off
		b.insts = b.insts[:cut]
	}
}

// recordOf returns the lazy flag operation of a flag-setting instruction.
func recordOf(in *inst) uint8 {
	switch {
	case in.fast == fastShift, in.op == opImulRegRm, in.op == opImulRegRmImm, in.op == opShiftImm:
		return lazyExplicit
	case in.op == opIncRm:
		return lazyInc
	case in.op == opDecRm:
		return lazyDec
	case in.op == opMulRm, in.op == opBtRmReg, in.op == opBtRmImm:
		return lazyExplicit
	case isBitScan(in), in.op == opPopcnt:
		return lazyLogic // ZF from res; nothing reads the rest
	}
	return in.lop
}

// Locals of a unit function: its parameters (rv.UnitParams) first.
const (
	lBlock = rv.UnitBlock
	lX     = rv.UnitX // the address of CPU.R
	lRTLB  = rv.UnitRTLB
	lWTLB  = rv.UnitWTLB
	lBase  = rv.UnitBase
	lLeft  = rv.UnitLeft
	// Register r of regs() is local regLocal+r (16, the zero register,
	// and 17, the scratch register, are never used).
	regLocal = 6
	// The lazy flag record: a, b, res and cf (flags.go).
	lFA   = regLocal + 20
	lFB   = lFA + 1
	lFR   = lFA + 2
	lFC   = lFA + 3
	lT0   = lFA + 4
	lT1   = lFA + 5
	lPC   = lFA + 6 // i64: the pc of an exit to an address
	lAddr = lFA + 7 // i64: the address of an access
	// i32 locals.
	lCode  = lAddr + 1
	lHost  = lCode + 1
	lEntry = lCode + 2
	// lFOp is the lazy record's op and size (op | size<<8) while the
	// locals hold one not yet stored, else 0.
	lFOp = lCode + 3
	nI64 = lAddr - lLeft
	nI32 = lFOp - lCode + 1
	// lV is a v128 local, declared only by units with SSE code (hosts
	// without SIMD then still run the others).
	lV = lFOp + 1
)

// Where translated code finds the lazy flag record, from CPU.R.
const (
	lazyOff   = uint32(unsafe.Offsetof(CPU{}.lazy) - unsafe.Offsetof(CPU{}.R))
	lazyAOff  = lazyOff + uint32(unsafe.Offsetof(lazyFlags{}.a))
	lazyBOff  = lazyOff + uint32(unsafe.Offsetof(lazyFlags{}.b))
	lazyROff  = lazyOff + uint32(unsafe.Offsetof(lazyFlags{}.res))
	lazyCFOff = lazyOff + uint32(unsafe.Offsetof(lazyFlags{}.cf))
)

// lazyFlags' op and size are stored as one 16-bit word.
var (
	_ [unsafe.Offsetof(lazyFlags{}.size) - 1]struct{}
	_ [1 - unsafe.Offsetof(lazyFlags{}.size)]struct{}
	_ [unsafe.Offsetof(lazyFlags{}.op)]struct{}
	// The last word of the record is the highest offset a unit touches
	// from CPU.R (see emitBlock).
	_ [lazyCFOff - 19*8]struct{}
)

// emit writes the function body.
func (t *pageTranslator) emit() []byte {
	w := &t.w
	vec := false
	for _, b := range t.blocks {
		for _, in := range b.insts {
			vec = vec || in.fast == fastVec
		}
	}
	if vec {
		w.U32(3)
	} else {
		w.U32(2)
	}
	w.U32(nI64)
	w.Byte(wasm.ValI64)
	w.U32(nI32)
	w.Byte(wasm.ValI32)
	if vec {
		w.U32(1)
		w.Byte(wasm.ValV128)
	}

	rv.EmitUnit(w, len(t.blocks), lCode, lPC, func(i int, e *rv.Exits, loopDepth int) {
		t.emitBlock(i, t.blocks[i], e, loopDepth)
	}, func() {
		// Store the lazy flag record the locals hold.
		w.Get(lFOp)
		w.IfThen()
		w.Get(lX)
		w.Get(lFOp)
		w.Mem(wasm.OpI32Store16, 1, lazyOff)
		for _, f := range [...]struct{ local, off uint32 }{{lFA, lazyAOff}, {lFB, lazyBOff}, {lFR, lazyROff}, {lFC, lazyCFOff}} {
			w.Get(lX)
			w.Get(f.local)
			w.Mem(wasm.OpI64Store, 3, f.off)
		}
		w.End()
	})
	return w.B
}

// regsRead and regsWritten list the registers of regs() an instruction
// reads and writes (the zero and scratch registers excluded).
func regsRead(in *tinst) []uint8 {
	var r []uint8
	addr := func() {
		if in.mem {
			r = append(r, in.base, in.index)
		}
	}
	switch in.fast {
	case fastMove:
		r = append(r, in.src, in.base, in.index)
	case fastOp, fastShift:
		r = append(r, in.dst, in.src)
	case fastCond:
		if in.sub != condJump {
			r = append(r, in.dst, in.src)
		}
	case fastLoad, fastExtendLoad:
		addr()
	case fastStore, fastCmpLoad:
		r = append(r, in.src)
		addr()
	case fastOpLoad:
		r = append(r, in.dst)
		addr()
	case fastExtend:
		r = append(r, in.src)
	case fastPush:
		r = append(r, in.src, RSP)
	case fastPop, fastCall, fastRet:
		r = append(r, RSP)
	case fastJmpInd:
		r = append(r, in.src, RSP)
		addr()
	case fastVec:
		addr()
		if in.lop == vecFromGPR {
			r = append(r, in.src)
		}
	case fastNone: // the translator's own forms
		switch {
		case isPartialOp(&in.inst): // getReg loads theirs
		case in.op == opBtRmImm:
			r = append(r, in.rm)
		case in.op == opBtRmReg:
			r = append(r, in.rm, in.reg)
		case in.op == opPushRm:
			addr()
			r = append(r, RSP)
		default: // the r/m operand, and reg or the implicit registers
			addr()
			if !in.mem {
				r = append(r, in.rm)
			}
			switch in.op {
			case opMulRm:
				r = append(r, RAX)
			case opDivRm:
				r = append(r, RAX, RDX)
			case opCmpxchg:
				r = append(r, RAX, in.reg)
			default:
				r = append(r, in.reg)
			}
		}
	case fastAside:
		switch in.op {
		case opAluRmReg, opAluRmImm:
			r = append(r, in.src)
			addr()
		case opLeave:
			r = append(r, RBP)
		case opCbw, opCwd:
			r = append(r, RAX)
		case opImulRegRm, opImulRegRmImm:
			r = append(r, in.dst, in.src)
		default: // inc, dec, not, rotates
			r = append(r, in.dst)
		}
	}
	return slices.DeleteFunc(r, func(x uint8) bool { return x == zeroReg || x == scratchReg })
}

func regsWritten(in *tinst) []uint8 {
	var r []uint8
	switch in.fast {
	case fastMove, fastOp, fastOpLoad:
		r = append(r, in.out)
	case fastCond:
		if in.sub != condJump {
			r = append(r, in.dst)
		}
	case fastLoad, fastExtendLoad, fastExtend, fastShift:
		r = append(r, in.dst)
	case fastPop:
		r = append(r, RSP, in.dst)
	case fastPush, fastCall, fastRet, fastJmpInd:
		r = append(r, RSP)
	case fastVec:
		if in.lop == vecToGPR || in.lop == vecMoveMask {
			r = append(r, in.dst)
		}
	case fastNone:
		switch {
		case in.op == opMulRm || in.op == opDivRm:
			r = append(r, RAX, RDX)
		case in.op == opCmpxchg:
			r = append(r, RAX)
		case in.op == opPushRm:
			r = append(r, RSP)
		case in.op == opBtRmReg || in.op == opBtRmImm:
		case isPartialOp(&in.inst):
		default:
			r = append(r, in.reg)
		}
	case fastAside:
		switch in.op {
		case opAluRmReg, opAluRmImm:
		case opLeave:
			r = append(r, RSP, RBP)
		case opCbw:
			r = append(r, RAX)
		case opCwd:
			r = append(r, RDX)
		default:
			r = append(r, in.dst)
		}
	}
	return slices.DeleteFunc(r, func(x uint8) bool { return x == zeroReg || x == scratchReg })
}

// emitBlock writes block i. On entry the writer's depth is that of the
// block's code: inside the labels of the blocks after it, the loop and
// $exit.
func (t *pageTranslator) emitBlock(i int, b *tblock, e *rv.Exits, loopDepth int) {
	w := &t.w
	count := int64(len(b.insts))
	// One access to the highest word of the CPU a unit touches first:
	// the host's compiler then knows that every later access to CPU.R
	// and the flag record in the block is in bounds.
	w.Get(lX)
	w.Mem(wasm.OpI64Load, 3, lazyCFOff)
	w.Op(wasm.OpDrop)
	// Load what the block reads before it writes it.
	var written, loaded [32]bool
	for k := range b.insts {
		in := &b.insts[k]
		for _, r := range regsRead(in) {
			if !written[r] && !loaded[r] {
				loaded[r] = true
				w.Get(lX)
				w.Mem(wasm.OpI64Load, 3, uint32(r)*8)
				w.Set(regLocal + uint32(r))
			}
		}
		for _, r := range regsWritten(in) {
			written[r] = true
		}
	}
	// A block that branches back to its own start runs as a loop after
	// its loads: its registers stay in locals from one iteration to the
	// next.
	selfDepth := -1
	for k := range b.insts {
		if in := &b.insts[k]; (in.fast == fastJmp || in.fast == fastCond && in.sub == condJump) && in.imm == uint64(b.start) {
			w.Loop()
			selfDepth = w.Depth
			break
		}
	}
	w.Get(lLeft)
	w.I64Const(count)
	w.Op(wasm.OpI64Sub)
	w.Set(lLeft)
	t.flags = nil
	t.valid = loaded

	// jumpTo continues at guest offset target, giving back the
	// instructions of the block after the jump (unretired): at a block
	// of this unit, or out of the page. At the top level of the block's
	// code the next block is reached by falling through. Every cycle
	// inside the unit goes through a jump back to the same or an
	// earlier block, where the budget is checked.
	jumpTo := func(target uint64, topLevel bool, unretired int64) {
		bi, ok := t.block[uint16(target)]
		if !ok || target >= PageSize {
			e.Leave(rv.TranslatedNext, target, unretired)
			return
		}
		if unretired != 0 {
			w.Get(lLeft)
			w.I64Const(unretired)
			w.Op(wasm.OpI64Add)
			w.Set(lLeft)
		}
		if topLevel && bi == i+1 {
			return
		}
		if bi > i {
			w.Br(w.Depth - (loopDepth + len(t.blocks) - bi))
			return
		}
		w.Get(lLeft)
		w.I64Const(0)
		w.Op(wasm.OpI64LeS)
		w.IfThen()
		e.Leave(rv.TranslatedBudget, target, 0)
		w.End()
		if bi == i && selfDepth >= 0 {
			w.Br(w.Depth - selfDepth)
			return
		}
		w.I32Const(int32(bi))
		w.Set(lBlock)
		w.Br(w.Depth - loopDepth)
	}

	for k := range b.insts {
		in := &b.insts[k]
		unretired := count - int64(k)
		next := in.off + uint64(in.len)
		switch in.fast {
		case fastMove:
			t.emitMove(in)
		case fastOp:
			t.emitALU(in, func() { t.operand(in.dst, 0, in.mask) }, func() { t.operand(in.src, in.imm, in.mask) }, in.out)
		case fastOpLoad:
			t.emitAccess(in, uint64(in.osz), lRTLB, e, unretired)
			t.emitALU(in, func() { t.operand(in.dst, 0, in.mask) }, func() { t.load(in.osz, false) }, in.out)
		case fastCmpLoad:
			t.emitAccess(in, uint64(in.osz), lRTLB, e, unretired)
			t.emitALU(in, func() { t.load(in.osz, false) }, func() { t.operand(in.src, in.imm, in.mask) }, scratchReg)
		case fastShift:
			t.emitShift(in, e, unretired)
		case fastCond:
			t.emitCond(in)
			switch in.sub {
			case condJump:
				w.IfThen()
				jumpTo(in.imm, false, unretired-1)
				w.End()
			case condSet:
				w.Op(wasm.OpI64ExtendI32U)
				t.getReg(in.dst)
				w.I64Const(^0xff)
				w.Op(wasm.OpI64And)
				w.Op(wasm.OpI64Or)
				t.setReg(in.dst)
			case condMove:
				w.Set(lCode)
				t.getReg(in.src)
				t.getReg(in.dst)
				w.Get(lCode)
				w.Op(wasm.OpSelect)
				t.mask(in.mask)
				t.setReg(in.dst)
			}
		case fastLoad:
			t.emitAccess(in, uint64(in.osz), lRTLB, e, unretired)
			t.load(in.osz, false)
			t.mask(in.mask)
			t.setReg(in.dst)
		case fastExtendLoad:
			t.emitAccess(in, uint64(in.sub), lRTLB, e, unretired)
			t.load(in.sub, in.imm != 0)
			t.mask(in.mask)
			t.setReg(in.dst)
		case fastExtend:
			t.getReg(in.src)
			t.extend(in.sub, in.imm != 0)
			t.mask(in.mask)
			t.setReg(in.dst)
		case fastStore:
			t.emitAccess(in, uint64(in.osz), lWTLB, e, unretired)
			w.Get(lHost)
			t.operand(in.src, in.imm, ^uint64(0))
			w.Mem([...]byte{1: wasm.OpI64Store8, 2: wasm.OpI64Store16, 4: wasm.OpI64Store32, 8: wasm.OpI64Store}[in.osz], 0, 0)
		case fastPush:
			t.emitStackAccess(-8, lWTLB, e, in.off, unretired)
			w.Get(lHost)
			t.operand(in.src, in.imm, ^uint64(0))
			w.Mem(wasm.OpI64Store, 0, 0)
			w.Get(lAddr)
			t.setReg(RSP)
		case fastPop:
			t.emitPopLoad(e, in.off, unretired)
			t.emitPopDone()
			w.Get(lT0)
			t.setReg(in.dst)
		case fastCall:
			t.emitPushReturn(next, e, in.off, unretired)
			jumpTo(in.imm, true, 0)
		case fastJmp:
			jumpTo(in.imm, true, 0)
		case fastRet:
			t.emitPopLoad(e, in.off, unretired)
			t.checkCanonical(lT0, e, in.off, unretired)
			t.emitPopDone()
			w.Get(lT0)
			e.LeaveAbs(rv.TranslatedNext)
		case fastAside:
			t.emitAside(in, e, unretired)
		case fastVec:
			t.emitVec(in, e, unretired)
		case fastNone:
			switch {
			case in.op == opMulRm:
				t.emitMul(in, e, unretired)
			case isPartialALU(&in.inst):
				t.emitPartialALU(in)
			case isPartialShift(&in.inst):
				t.emitPartialShift(in, e, unretired)
			case isImulMem(&in.inst):
				t.rmOperand(in, e, unretired)
				t.emitImul(in)
			case in.op == opBtRmReg || in.op == opBtRmImm:
				t.emitBitTest(in)
			case in.op == opPopcnt:
				t.emitPopcnt(in, e, unretired)
			case in.op == opDivRm:
				t.emitDiv(in, e, unretired)
			case in.op == opPushRm:
				t.emitPushMemory(in, e, unretired)
			case in.op == opXchgRmReg:
				t.emitXchg(in, e, unretired)
			case in.op == opCmpxchg:
				t.emitCmpxchg(in, e, unretired)
			default:
				t.emitBitScan(in, e, unretired)
			}
		case fastJmpInd:
			if in.mem {
				t.emitAccess(in, 8, lRTLB, e, unretired)
				w.Get(lHost)
				w.Mem(wasm.OpI64Load, 0, 0)
			} else {
				t.getReg(in.src)
			}
			w.Set(lT0)
			t.checkCanonical(lT0, e, in.off, unretired)
			if in.op == opCallRm {
				t.emitPushReturn(next, e, in.off, unretired)
			}
			w.Get(lT0)
			e.LeaveAbs(rv.TranslatedNext)
		default:
			panic(fmt.Sprintf("amd64: translator has no code for fast form %d", in.fast))
		}
		if role := flagRoleOf(&in.inst); role != flagsUntouched && role != flagsRead && !isRotate(&in.inst) {
			t.flags = in
		}
	}
	switch b.end {
	case endFall, endNext:
		jumpTo(b.endOff, true, 0)
	case endInterpret:
		e.Leave(rv.TranslatedInterpret, b.endOff, 0)
	}
	if selfDepth >= 0 {
		w.End()
	}
}

// getReg pushes register r of regs() (the zero register reads as zero),
// loading it into its local first if the block has neither loaded nor
// written it yet: regsRead's preloading is an optimization, this is what
// makes every read correct.
func (t *pageTranslator) getReg(r uint8) {
	w := &t.w
	if r == zeroReg {
		w.I64Const(0)
		return
	}
	if !t.valid[r&31] {
		t.valid[r&31] = true
		w.Get(lX)
		w.Mem(wasm.OpI64Load, 3, uint32(r)*8)
		w.Set(regLocal + uint32(r))
	}
	w.Get(regLocal + uint32(r))
}

// setReg pops the value on the stack into register r, writing it through
// to CPU.R; a write to the scratch register is dropped.
func (t *pageTranslator) setReg(r uint8) {
	w := &t.w
	if r == scratchReg {
		w.Op(wasm.OpDrop)
		return
	}
	t.valid[r&31] = true
	w.Set(regLocal + uint32(r))
	w.Get(lX)
	w.Get(regLocal + uint32(r))
	w.Mem(wasm.OpI64Store, 3, uint32(r)*8)
}

// operand pushes (R[r] + imm) & mask.
func (t *pageTranslator) operand(r uint8, imm, mask uint64) {
	w := &t.w
	if r == zeroReg {
		w.I64Const(int64(imm & mask))
		return
	}
	t.getReg(r)
	if imm != 0 {
		w.I64Const(int64(imm))
		w.Op(wasm.OpI64Add)
	}
	t.mask(mask)
}

// mask masks the value on the stack (nothing for all ones).
func (t *pageTranslator) mask(m uint64) {
	if m != ^uint64(0) {
		t.w.I64Const(int64(m))
		t.w.Op(wasm.OpI64And)
	}
}

// load pushes the size-byte value at host address lHost, zero- or
// sign-extended.
func (t *pageTranslator) load(size uint8, signed bool) {
	w := &t.w
	w.Get(lHost)
	switch {
	case size == 8:
		w.Mem(wasm.OpI64Load, 0, 0)
	case signed:
		w.Mem([...]byte{1: wasm.OpI64Load8S, 2: wasm.OpI64Load16S, 4: wasm.OpI64Load32S}[size], 0, 0)
	default:
		w.Mem([...]byte{1: wasm.OpI64Load8U, 2: wasm.OpI64Load16U, 4: wasm.OpI64Load32U}[size], 0, 0)
	}
}

// extend zero- or sign-extends the low size bytes of the value on the
// stack.
func (t *pageTranslator) extend(size uint8, signed bool) {
	w := &t.w
	switch {
	case size == 8:
	case signed:
		w.Op([...]byte{1: wasm.OpI64Extend8S, 2: wasm.OpI64Extend16S, 4: wasm.OpI64Extend32S}[size])
	default:
		t.mask(sizeMask(size))
	}
}

// emitMove translates fastMove: R[out] = (R[src] + R[base] +
// R[index]<<scale + imm) & mask, plus the page's address for lea of a
// rip-relative operand.
func (t *pageTranslator) emitMove(in *tinst) {
	if in.out == scratchReg {
		return // nop
	}
	t.sum(in, in.src, in.imm)
	t.mask(in.mask)
	t.setReg(in.out)
}

// sum pushes R[src] + R[base] + R[index]<<scale + imm of in's operand,
// plus the page's address for a rip-relative one.
func (t *pageTranslator) sum(in *tinst, src uint8, imm uint64) {
	w := &t.w
	have := false
	add := func() {
		if have {
			w.Op(wasm.OpI64Add)
		}
		have = true
	}
	for _, r := range [...]uint8{src, in.base} {
		if r != zeroReg {
			t.getReg(r)
			add()
		}
	}
	if in.index != zeroReg {
		t.getReg(in.index)
		if in.scale != 0 {
			w.I64Const(int64(in.scale))
			w.Op(wasm.OpI64Shl)
		}
		add()
	}
	if in.ripRel {
		w.Get(lBase)
		add()
	}
	if !have || imm != 0 {
		w.I64Const(int64(imm))
		add()
	}
}

// emitALU translates the operation of fastOp, fastOpLoad and
// fastCmpLoad on the operands a and b push (masked): it keeps the lazy
// flag record in the locals and writes the result to R[out].
func (t *pageTranslator) emitALU(in *tinst, a, b func(), out uint8) {
	w := &t.w
	a()
	w.Set(lFA)
	b()
	w.Set(lFB)
	w.Get(lFA)
	w.Get(lFB)
	switch {
	case in.lop == lazyAdd:
		w.Op(wasm.OpI64Add)
	case in.lop == lazySub:
		w.Op(wasm.OpI64Sub)
	case in.sel == selAnd:
		w.Op(wasm.OpI64And)
	case in.sel == selXor:
		w.Op(wasm.OpI64Xor)
	case in.sel == selAnd|selXor:
		w.Op(wasm.OpI64Or)
	default:
		panic(fmt.Sprintf("amd64: translator has no ALU operation for lop %d sel %d", in.lop, in.sel))
	}
	t.mask(in.mask)
	w.Set(lFR)
	w.I64Const(0)
	w.Set(lFC)
	w.I32Const(int32(in.lop) | int32(in.osz)<<8)
	w.Set(lFOp)
	if out != scratchReg {
		w.Get(lFR)
		t.setReg(out)
	}
}

// emitShift translates fastShift: shl, shr or sar by an immediate count
// or by cl; a count of zero changes nothing, not even the flags, and is
// left to the interpreter.
func (t *pageTranslator) emitShift(in *tinst, e *rv.Exits, unretired int64) {
	t.shift(in, e, unretired, func() { t.operand(in.dst, 0, in.mask) })
	t.w.Get(lFR)
	t.setReg(in.dst)
}

// emitPartialShift translates isPartialShift's instructions: the shift
// of a byte or word register, merged into the wider one.
func (t *pageTranslator) emitPartialShift(in *tinst, e *rv.Exits, unretired int64) {
	t.shift(in, e, unretired, func() { t.getPart(in, in.rm) })
	t.setPart(in, in.rm)
}

// shift computes the shift in of the operand that operand pushes: the
// result in lFR and the flag record in the locals.
func (t *pageTranslator) shift(in *tinst, e *rv.Exits, unretired int64, operand func()) {
	w := &t.w
	top := int64(in.osz)*8 - 1
	// The count, in lT1, first: leaving for the interpreter must find
	// the flag record of the instructions before intact.
	if in.src == zeroReg {
		w.I64Const(int64(in.imm))
		w.Set(lT1)
	} else {
		t.getReg(in.src)
		w.I64Const(top | 31)
		w.Op(wasm.OpI64And)
		w.Set(lT1)
		w.Get(lT1)
		w.Op(wasm.OpI64Eqz)
		t.interpretIf(e, in.off, unretired)
	}
	operand()
	w.Set(lFA)                            // the operand; the record's a and b are zero
	bit := func(v func(), shift func()) { // (v >> shift) & 1
		v()
		shift()
		w.Op(wasm.OpI64ShrU)
		w.I64Const(1)
		w.Op(wasm.OpI64And)
	}
	getA := func() { w.Get(lFA) }
	nMinus1 := func() { w.Get(lT1); w.I64Const(1); w.Op(wasm.OpI64Sub) }
	switch in.sub {
	case 5: // shr: CF the last bit out, OF the operand's sign
		getA()
		w.Get(lT1)
		w.Op(wasm.OpI64ShrU)
		w.Set(lFR)
		bit(getA, nMinus1)
		bit(getA, func() { w.I64Const(top) })
		w.I64Const(11)
		w.Op(wasm.OpI64Shl)
		w.Op(wasm.OpI64Or)
	case 7: // sar: CF the last bit out, OF clear
		getA()
		t.extend(in.osz, true)
		w.Set(lT0)
		w.Get(lT0)
		w.Get(lT1)
		w.Op(wasm.OpI64ShrS)
		t.mask(in.mask)
		w.Set(lFR)
		bit(func() { w.Get(lT0) }, nMinus1)
	default: // shl, sal: CF the last bit out, OF the result's sign xor CF
		getA()
		w.Get(lT1)
		w.Op(wasm.OpI64Shl)
		t.mask(in.mask)
		w.Set(lFR)
		bit(getA, func() { w.I64Const(top + 1); w.Get(lT1); w.Op(wasm.OpI64Sub) })
		w.Set(lT0)
		w.Get(lT0)
		bit(func() { w.Get(lFR) }, func() { w.I64Const(top) })
		w.Get(lT0)
		w.Op(wasm.OpI64Xor)
		w.I64Const(11)
		w.Op(wasm.OpI64Shl)
		w.Op(wasm.OpI64Or)
	}
	t.recordFlags(in)
}

// recordExplicit finishes a shift or a multiplication: the locals take
// the lazy record lazyExplicit of in's size with res in lFR and CF and OF
// from the stack, and R[dst] the result.
func (t *pageTranslator) recordExplicit(in *tinst, dst uint8) {
	t.recordFlags(in)
	t.w.Get(lFR)
	t.setReg(dst)
}

// recordFlags is recordExplicit without the register.
func (t *pageTranslator) recordFlags(in *tinst) {
	t.w.Set(lFC)
	t.recordResult(in, lazyExplicit)
}

// recordResult completes the record of in's size whose result is in lFR
// and CF/OF bits in lFC: operation lop, a and b zero.
func (t *pageTranslator) recordResult(in *tinst, lop uint8) {
	w := &t.w
	w.I64Const(0)
	w.Set(lFA)
	w.I64Const(0)
	w.Set(lFB)
	w.I32Const(int32(lop) | int32(in.osz)<<8)
	w.Set(lFOp)
}

// emitCond pushes in's condition (an i32) computed from the lazy flag
// record in the locals, which t.flags set.
func (t *pageTranslator) emitCond(in *tinst) { t.condition(in.cond) }

// condition pushes condition code cc (jcc's low nibble) as an i32.
func (t *pageTranslator) condition(cc uint8) {
	w := &t.w
	p := t.flags
	if p == nil {
		panic("amd64: translated condition without flags") // findBlocks prevents it
	}
	top := int64(p.osz)*8 - 1
	lop := recordOf(&p.inst)
	bitOf := func(l uint32, n int64) { // i32: (l >> n) & 1
		w.Get(l)
		w.I64Const(n)
		w.Op(wasm.OpI64ShrU)
		w.I64Const(1)
		w.Op(wasm.OpI64And)
		w.Op(wasm.OpI32WrapI64)
	}
	zf := func() { w.Get(lFR); w.Op(wasm.OpI64Eqz) }
	sf := func() { bitOf(lFR, top) }
	cf := func() {
		switch lop {
		case lazyAdd:
			w.Get(lFR)
			w.Get(lFA)
			w.Op(wasm.OpI64LtU)
		case lazySub:
			w.Get(lFA)
			w.Get(lFB)
			w.Op(wasm.OpI64LtU)
		case lazyLogic:
			w.I32Const(0)
		default:
			bitOf(lFC, 0)
		}
	}
	of := func() {
		switch lop {
		case lazyInc, lazyDec:
			// At the sign boundary: res (inc) or a (dec) is 1<<top.
			if lop == lazyInc {
				w.Get(lFR)
			} else {
				w.Get(lFA)
			}
			w.I64Const(int64(uint64(1) << top))
			w.Op(wasm.OpI64Eq)
		case lazyAdd, lazySub:
			// add: (a^res)&(b^res); sub: (a^b)&(a^res); the sign bit.
			w.Get(lFA)
			w.Get(lFR)
			w.Op(wasm.OpI64Xor)
			w.Get(lFB)
			if lop == lazyAdd {
				w.Get(lFR)
			} else {
				w.Get(lFA)
			}
			w.Op(wasm.OpI64Xor)
			w.Op(wasm.OpI64And)
			w.I64Const(top)
			w.Op(wasm.OpI64ShrU)
			w.I64Const(1)
			w.Op(wasm.OpI64And)
			w.Op(wasm.OpI32WrapI64)
		case lazyLogic:
			w.I32Const(0)
		default:
			bitOf(lFC, 11)
		}
	}
	// signedCompare compares a and b of a subtraction as signed values
	// of their size.
	signedCompare := func(op byte) {
		for _, l := range [...]uint32{lFA, lFB} {
			w.Get(l)
			t.extend(p.osz, true)
		}
		w.Op(op)
	}
	sub := lop == lazySub
	switch cc >> 1 {
	case 0: // O
		of()
	case 1: // B
		cf()
	case 2: // E
		zf()
	case 3: // BE
		if sub {
			w.Get(lFA)
			w.Get(lFB)
			w.Op(wasm.OpI64LeU)
		} else {
			cf()
			zf()
			w.Op(wasm.OpI32Or)
		}
	case 4: // S
		sf()
	case 5: // P: even parity of the low byte
		w.Get(lFR)
		w.I64Const(0xff)
		w.Op(wasm.OpI64And)
		w.Op(wasm.OpI64Popcnt)
		w.I64Const(1)
		w.Op(wasm.OpI64And)
		w.Op(wasm.OpI64Eqz)
	case 6: // L: SF != OF
		if sub {
			signedCompare(wasm.OpI64LtS)
		} else {
			sf()
			of()
			w.Op(wasm.OpI32Xor)
		}
	case 7: // LE: ZF or SF != OF
		if sub {
			signedCompare(wasm.OpI64LeS)
		} else {
			zf()
			sf()
			of()
			w.Op(wasm.OpI32Xor)
			w.Op(wasm.OpI32Or)
		}
	}
	if cc&1 != 0 {
		w.Op(wasm.OpI32Eqz)
	}
}

// pushAddress pushes the address of in's memory operand.
func (t *pageTranslator) pushAddress(in *tinst) { t.sum(in, zeroReg, uint64(in.disp)) }

// emitAccess leaves the host address of a size-byte access to in's
// memory operand in lHost (and the guest address in lAddr), or leaves the
// unit for the interpreter when the TLB misses or the access crosses the
// page's end.
func (t *pageTranslator) emitAccess(in *tinst, size uint64, tlb uint32, e *rv.Exits, unretired int64) {
	t.pushAddress(in)
	t.probe(size, tlb, e, in.off, unretired)
}

// emitStackAccess probes the 8 bytes at rsp+delta.
func (t *pageTranslator) emitStackAccess(delta int64, tlb uint32, e *rv.Exits, off uint64, unretired int64) {
	t.getReg(RSP)
	if delta != 0 {
		t.w.I64Const(delta)
		t.w.Op(wasm.OpI64Add)
	}
	t.probe(8, tlb, e, off, unretired)
}

// emitPopLoad loads the 8 bytes at rsp into lT0 (rsp itself in lAddr);
// emitPopDone then moves rsp past them.
func (t *pageTranslator) emitPopLoad(e *rv.Exits, off uint64, unretired int64) {
	w := &t.w
	t.emitStackAccess(0, lRTLB, e, off, unretired)
	w.Get(lHost)
	w.Mem(wasm.OpI64Load, 0, 0)
	w.Set(lT0)
}

func (t *pageTranslator) emitPopDone() {
	w := &t.w
	w.Get(lAddr)
	w.I64Const(8)
	w.Op(wasm.OpI64Add)
	t.setReg(RSP)
}

// emitPushReturn pushes the return address base+next (call).
func (t *pageTranslator) emitPushReturn(next uint64, e *rv.Exits, off uint64, unretired int64) {
	w := &t.w
	t.emitStackAccess(-8, lWTLB, e, off, unretired)
	w.Get(lHost)
	w.Get(lBase)
	w.I64Const(int64(next))
	w.Op(wasm.OpI64Add)
	w.Mem(wasm.OpI64Store, 0, 0)
	w.Get(lAddr)
	t.setReg(RSP)
}

// checkCanonical leaves for the interpreter (which raises the fault) when
// the jump target in local l is not a canonical address.
func (t *pageTranslator) checkCanonical(l uint32, e *rv.Exits, off uint64, unretired int64) {
	w := &t.w
	w.Get(l)
	w.I64Const(16)
	w.Op(wasm.OpI64Shl)
	w.I64Const(16)
	w.Op(wasm.OpI64ShrS)
	w.Get(l)
	w.Op(wasm.OpI64Ne)
	t.interpretIf(e, off, unretired)
}

// interpretIf leaves the unit for the interpreter at the instruction at
// off when the i32 on the stack is not zero.
func (t *pageTranslator) interpretIf(e *rv.Exits, off uint64, unretired int64) {
	t.w.IfThen()
	e.Leave(rv.TranslatedInterpret, off, unretired)
	t.w.End()
}

// probe takes the guest address on the stack into lAddr and leaves the
// host address of its size bytes in lHost, or leaves the unit for the
// interpreter at the instruction at off. The probe is inline, as the
// riscv64 translator's (docs/translation.md).
func (t *pageTranslator) probe(size uint64, tlb uint32, e *rv.Exits, off uint64, unretired int64) {
	w := &t.w
	w.I32Const(e.Pack(rv.TranslatedInterpret, off, unretired))
	w.Set(lCode)
	// &tlb[(addr >> 12) & (TLBEntries-1)], an entry being 16 bytes.
	w.Tee(lAddr)
	w.I64Const(pageShift - 4)
	w.Op(wasm.OpI64ShrU)
	w.Op(wasm.OpI32WrapI64)
	w.I32Const((rv.TLBEntries - 1) << 4)
	w.Op(wasm.OpI32And)
	w.Get(tlb)
	w.Op(wasm.OpI32Add)
	w.Tee(lEntry)
	// The frame word first: the host then knows that the tag word
	// before it is in bounds too.
	w.Mem(wasm.OpI64Load, 3, 8)
	w.Op(wasm.OpI32WrapI64)
	w.Set(lHost)
	// Both the first and the last byte must be in the tagged page.
	w.Get(lEntry)
	w.Mem(wasm.OpI64Load, 3, 0)
	w.Set(lT1)
	w.Get(lAddr)
	w.Get(lT1)
	w.Op(wasm.OpI64Xor)
	w.Get(lAddr)
	w.I64Const(int64(size - 1))
	w.Op(wasm.OpI64Add)
	w.Get(lT1)
	w.Op(wasm.OpI64Xor)
	w.Op(wasm.OpI64Or)
	w.I64Const(PageSize)
	w.Op(wasm.OpI64GeU)
	e.LeaveIf()
	w.Get(lHost)
	w.Get(lAddr)
	w.Op(wasm.OpI32WrapI64)
	w.I32Const(pageMask)
	w.Op(wasm.OpI32And)
	w.Op(wasm.OpI32Add)
	w.Set(lHost)
}

// emitAside translates the fastAside instructions: memory
// read-modify-write ALU operations, leave, inc, dec, not, imul,
// cbw/cwd and their wider forms, and rotates by an immediate (whose flags
// findBlocks made sure nothing reads).
func (t *pageTranslator) emitAside(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	switch in.op {
	case opAluRmReg, opAluRmImm:
		// Writable pages are readable on x86.
		t.emitAccess(in, uint64(in.osz), lWTLB, e, unretired)
		t.emitALU(in, func() { t.load(in.osz, false) }, func() { t.operand(in.src, in.imm, in.mask) }, scratchReg)
		w.Get(lHost)
		w.Get(lFR)
		w.Mem([...]byte{4: wasm.OpI64Store32, 8: wasm.OpI64Store}[in.osz], 0, 0)
	case opLeave:
		t.getReg(RBP)
		t.probe(8, lRTLB, e, in.off, unretired)
		w.Get(lAddr)
		w.I64Const(8)
		w.Op(wasm.OpI64Add)
		t.setReg(RSP)
		w.Get(lHost)
		w.Mem(wasm.OpI64Load, 0, 0)
		t.setReg(RBP)
	case opIncRm, opDecRm:
		// CF stays: computed from the block's record before the locals
		// take the new one (zero when nothing reads it).
		if t.flags != nil {
			t.condition(2) // B: CF
			w.Op(wasm.OpI64ExtendI32U)
		} else {
			w.I64Const(0)
		}
		w.Set(lFC)
		t.operand(in.dst, 0, in.mask)
		w.Set(lFA)
		w.I64Const(1)
		w.Set(lFB)
		w.Get(lFA)
		w.I64Const(1)
		if in.op == opIncRm {
			w.Op(wasm.OpI64Add)
		} else {
			w.Op(wasm.OpI64Sub)
		}
		t.mask(in.mask)
		w.Set(lFR)
		w.I32Const(int32(recordOf(&in.inst)) | int32(in.osz)<<8)
		w.Set(lFOp)
		w.Get(lFR)
		t.setReg(in.dst)
	case opCbw: // cwde, cdqe
		t.getReg(RAX)
		t.extend(in.osz/2, true)
		t.mask(in.mask)
		t.setReg(RAX)
	case opCwd: // cdq, cqo
		w.I64Const(0)
		t.getReg(RAX)
		w.I64Const(int64(in.osz)*8 - 1)
		w.Op(wasm.OpI64ShrU)
		w.I64Const(1)
		w.Op(wasm.OpI64And)
		w.Op(wasm.OpI64Sub)
		t.mask(in.mask)
		t.setReg(RDX)
	case opNotRm:
		t.getReg(in.dst)
		w.I64Const(-1)
		w.Op(wasm.OpI64Xor)
		t.mask(in.mask)
		t.setReg(in.dst)
	case opShiftImm: // rol, ror by a non-zero count
		t.getReg(in.dst)
		if in.osz == 8 {
			w.I64Const(int64(in.imm))
			w.Op([...]byte{wasm.OpI64Rotl, wasm.OpI64Rotr}[in.sub])
		} else {
			w.Op(wasm.OpI32WrapI64)
			w.I32Const(int32(in.imm))
			w.Op([...]byte{wasm.OpI32Rotl, wasm.OpI32Rotr}[in.sub])
			w.Op(wasm.OpI64ExtendI32U)
		}
		t.setReg(in.dst)
	case opImulRegRm, opImulRegRmImm:
		t.getReg(in.src)
		t.emitImul(in)
	default:
		panic(fmt.Sprintf("amd64: translator has no code for op %d", in.op))
	}
}

// emitImul finishes imul r, r/m (R[dst] times the operand on the stack)
// and the three-operand form (the immediate times it).
func (t *pageTranslator) emitImul(in *tinst) {
	w := &t.w
	t.extend(in.osz, true)
	w.Set(lT1)
	if in.op == opImulRegRmImm {
		w.I64Const(int64(in.imm & in.mask))
	} else {
		t.getReg(in.dst)
	}
	t.extend(in.osz, true)
	w.Get(lT1)
	w.Op(wasm.OpI64Mul)
	w.Set(lT0)
	w.Get(lT0)
	t.mask(in.mask)
	w.Set(lFR)
	if in.osz == 8 {
		// Overflow is not computed: findBlocks made sure nothing
		// reads it.
		w.I64Const(0)
	} else {
		// CF and OF: the product does not fit its size.
		w.I64Const(FlagCF | FlagOF)
		w.I64Const(0)
		w.Get(lFR)
		t.extend(in.osz, true)
		w.Get(lT0)
		w.Op(wasm.OpI64Ne)
		w.Op(wasm.OpSelect)
	}
	t.recordExplicit(in, in.dst)
}

// xmmOff is where CPU.XMM is from CPU.R.
const xmmOff = uint32(unsafe.Offsetof(CPU{}.XMM) - unsafe.Offsetof(CPU{}.R))

// The XMM registers lie below the flag record (emitBlock's bounds check).
var _ [lazyCFOff - xmmOff - 16*16]struct{}

// packedSIMD returns the SIMD instruction of the SSE2 packed-integer
// operation with opcode op (vecPacked), or 0 for those the translator
// leaves to the interpreter.
func packedSIMD(op uint8) uint32 {
	switch op {
	case 0x63: // packsswb
		return wasm.SimdI8x16NarrowS
	case 0x67: // packuswb
		return wasm.SimdI8x16NarrowU
	case 0x6b: // packssdw
		return wasm.SimdI16x8NarrowS
	case 0x64: // pcmpgtb
		return wasm.SimdI8x16GtS
	case 0x65: // pcmpgtw
		return wasm.SimdI16x8GtS
	case 0x66: // pcmpgtd
		return wasm.SimdI32x4GtS
	case 0xd4: // paddq
		return wasm.SimdI64x2Add
	case 0xfb: // psubq
		return wasm.SimdI64x2Sub
	case 0xf5: // pmaddwd
		return wasm.SimdI32x4DotI16x8S
	case 0xdc: // paddusb
		return wasm.SimdI8x16AddSatU
	case 0xdd: // paddusw
		return wasm.SimdI16x8AddSatU
	case 0xd8: // psubusb
		return wasm.SimdI8x16SubSatU
	case 0xd9: // psubusw
		return wasm.SimdI16x8SubSatU
	case 0xec: // paddsb
		return wasm.SimdI8x16AddSatS
	case 0xed: // paddsw
		return wasm.SimdI16x8AddSatS
	case 0xe8: // psubsb
		return wasm.SimdI8x16SubSatS
	case 0xe9: // psubsw
		return wasm.SimdI16x8SubSatS
	case 0xda: // pminub
		return wasm.SimdI8x16MinU
	case 0xde: // pmaxub
		return wasm.SimdI8x16MaxU
	case 0xea: // pminsw
		return wasm.SimdI16x8MinS
	case 0xee: // pmaxsw
		return wasm.SimdI16x8MaxS
	case 0xe0: // pavgb
		return wasm.SimdI8x16AvgrU
	case 0xe3: // pavgw
		return wasm.SimdI16x8AvgrU
	case 0xd5: // pmullw
		return wasm.SimdI16x8Mul
	}
	return 0
}

// laneOp returns the SIMD instruction of a lane-wise operation by lane
// size (1, 2, 4 or 8 bytes).
func laneOp(size uint8, ops [4]uint32) uint32 {
	switch size {
	case 1:
		return ops[0]
	case 2:
		return ops[1]
	case 4:
		return ops[2]
	}
	return ops[3]
}

// loadXMM pushes XMM register r.
func (t *pageTranslator) loadXMM(r uint8) {
	t.w.Get(lX)
	t.w.SimdMem(wasm.SimdLoad, 0, xmmOff+16*uint32(r&15))
}

// emitVec translates fastVec: the common SSE moves, shuffles and lane-wise
// integer operations, with WebAssembly's SIMD instructions. The XMM
// registers stay in CPU.XMM.
func (t *pageTranslator) emitVec(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	switch in.lop {
	case vecFromGPR:
		w.Get(lX)
		w.V128Const([16]byte{})
		t.operand(in.src, 0, in.mask)
		w.SimdLane(wasm.SimdI64x2Replace, 0)
		w.SimdMem(wasm.SimdStore, 0, xmmOff+16*uint32(in.dst&15))
		return
	case vecToGPR:
		t.loadXMM(in.src)
		w.SimdLane(wasm.SimdI64x2Extract, 0)
		t.mask(in.mask)
		t.setReg(in.dst)
		return
	case vecMoveMask:
		t.loadXMM(in.src)
		w.Simd(wasm.SimdI8x16Bitmask)
		w.Op(wasm.OpI64ExtendI32U)
		t.setReg(in.dst)
		return
	}
	low := in.lop == vecMoveLow || in.lop == vecStoreLow
	size := uint64(16)
	if low {
		size = 8
	}
	if in.mem {
		tlb := uint32(lRTLB)
		if in.lop == vecStore || in.lop == vecStoreLow {
			tlb = lWTLB
		}
		t.emitAccess(in, size, tlb, e, unretired)
		if in.logic && !low {
			// movaps, movdqa and the operations on m128 fault on a
			// misaligned address: the interpreter raises it.
			w.Get(lAddr)
			w.I64Const(15)
			w.Op(wasm.OpI64And)
			w.Op(wasm.OpI64Eqz)
			w.Op(wasm.OpI32Eqz)
			e.LeaveIf()
		}
	}
	// source pushes the source operand: the XMM register or the memory.
	source := func() {
		switch {
		case !in.mem:
			t.loadXMM(in.src)
			if in.lop == vecMoveLow {
				w.V128Const([16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
				w.Simd(wasm.SimdAnd)
			}
		case low:
			w.Get(lHost)
			w.SimdMem(wasm.SimdLoad64Zero, 0, 0)
		default:
			w.Get(lHost)
			w.SimdMem(wasm.SimdLoad, 0, 0)
		}
	}
	switch in.lop {
	case vecStore:
		w.Get(lHost)
		t.loadXMM(in.src)
		w.SimdMem(wasm.SimdStore, 0, 0)
		return
	case vecStoreLow:
		w.Get(lHost)
		t.loadXMM(in.src)
		w.SimdLane(wasm.SimdI64x2Extract, 0)
		w.Mem(wasm.OpI64Store, 0, 0)
		return
	}
	w.Get(lX) // the destination's address, under the result
	switch in.lop {
	case vecMove, vecMoveLow:
		source()
	case vecLogic:
		switch in.sel {
		case selAnd | selNeg: // andn: ~d & s
			source()
			t.loadXMM(in.dst)
			w.Simd(wasm.SimdAndNot)
		default:
			t.loadXMM(in.dst)
			source()
			op := uint32(wasm.SimdXor)
			switch in.sel {
			case selAnd:
				op = wasm.SimdAnd
			case selAnd | selXor:
				op = wasm.SimdOr
			}
			w.Simd(op)
		}
	case vecAdd, vecSub, vecEq, vecPacked:
		t.loadXMM(in.dst)
		source()
		switch in.lop {
		case vecAdd:
			w.Simd(laneOp(in.cond, [4]uint32{wasm.SimdI8x16Add, wasm.SimdI16x8Add, wasm.SimdI32x4Add, wasm.SimdI64x2Add}))
		case vecSub:
			w.Simd(laneOp(in.cond, [4]uint32{wasm.SimdI8x16Sub, wasm.SimdI16x8Sub, wasm.SimdI32x4Sub, wasm.SimdI64x2Sub}))
		case vecEq:
			w.Simd(laneOp(in.cond, [4]uint32{wasm.SimdI8x16Eq, wasm.SimdI16x8Eq, wasm.SimdI32x4Eq, wasm.SimdI64x2Eq}))
		default:
			w.Simd(packedSIMD(in.sub))
		}
	case vecShift:
		t.emitVecShift(in, source)
	case vecShuffle: // pshufd
		source()
		w.Set(lV)
		w.Get(lV)
		w.Get(lV)
		var lanes [16]byte
		for i := range 4 {
			j := byte(in.imm>>(2*i)) & 3
			for k := range 4 {
				lanes[4*i+k] = 4*j + byte(k)
			}
		}
		w.Shuffle(lanes)
	case vecUnpack: // punpckl*, punpckh*: alternate lanes of d and s
		t.loadXMM(in.dst)
		source()
		var lanes [16]byte
		l, base := in.cond, 8*in.sel
		for i := byte(0); i < 8/l; i++ {
			for k := range l {
				lanes[2*i*l+k] = base + i*l + k
				lanes[(2*i+1)*l+k] = 16 + base + i*l + k
			}
		}
		w.Shuffle(lanes)
	default:
		panic(fmt.Sprintf("amd64: translator has no code for SSE operation %d", in.lop))
	}
	w.SimdMem(wasm.SimdStore, 0, xmmOff+16*uint32(in.dst&15))
}

// emitVecShift pushes the shift by an immediate of vecShift: of each lane
// (logical right, left, arithmetic right), or of the whole register by
// bytes (psrldq, pslldq).
func (t *pageTranslator) emitVecShift(in *tinst, source func()) {
	w := &t.w
	cnt := in.imm
	switch kind := int(in.sel); kind {
	case shiftBytesRight, shiftBytesLeft:
		source()
		w.V128Const([16]byte{})
		var lanes [16]byte
		for i := range uint64(16) {
			j := uint64(16) // a zero byte
			if kind == shiftBytesRight && i+cnt < 16 {
				j = i + cnt
			}
			if kind == shiftBytesLeft && i >= cnt {
				j = i - cnt
			}
			lanes[i] = byte(j)
		}
		w.Shuffle(lanes)
	default:
		bits := uint64(in.cond) * 8
		if cnt >= bits {
			if kind != 2 {
				w.V128Const([16]byte{}) // every lane cleared
				return
			}
			cnt = bits - 1 // every lane filled with its sign
		}
		source()
		w.I32Const(int32(cnt))
		ops := [3][4]uint32{
			{wasm.SimdI16x8ShrU, wasm.SimdI16x8ShrU, wasm.SimdI32x4ShrU, wasm.SimdI64x2ShrU},
			{wasm.SimdI16x8Shl, wasm.SimdI16x8Shl, wasm.SimdI32x4Shl, wasm.SimdI64x2Shl},
			{wasm.SimdI16x8ShrS, wasm.SimdI16x8ShrS, wasm.SimdI32x4ShrS, wasm.SimdI64x2ShrS},
		}
		w.Simd(laneOp(in.cond, ops[kind]))
	}
}

// rmOperand pushes the r/m operand of a one-operand instruction (masked
// to its size), loading it after a probe that may leave the unit.
func (t *pageTranslator) rmOperand(in *tinst, e *rv.Exits, unretired int64) {
	if in.mem {
		t.emitAccess(in, uint64(in.osz), lRTLB, e, unretired)
		t.load(in.osz, false)
		return
	}
	t.operand(in.rm, 0, in.mask)
}

// emitMul translates the one-operand mul (sub 4) and imul (sub 5):
// rdx:rax = rax * r/m, CF and OF set when the high half is not the low
// half's extension. The 64-bit high half is computed from 32-bit halves
// (WebAssembly has no wide multiplication), with the signed corrections
// for imul.
func (t *pageTranslator) emitMul(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	signed := in.sub == 5
	t.rmOperand(in, e, unretired)
	w.Set(lT1)
	t.operand(RAX, 0, in.mask)
	w.Set(lT0)
	// From here on nothing leaves the unit: the record's locals serve
	// as temporaries (lFA, lFB), the high half goes to lPC.
	if in.osz == 4 {
		for _, l := range [...]uint32{lT0, lT1} {
			w.Get(l)
			t.extend(4, signed)
		}
		w.Op(wasm.OpI64Mul)
		w.Set(lFA) // the 64-bit product
		w.Get(lFA)
		t.mask(in.mask)
		w.Set(lFR)
		w.Get(lFA)
		w.I64Const(32)
		w.Op(wasm.OpI64ShrU)
		w.Set(lPC)
		// Overflow: the product is not its low half extended.
		w.Get(lFR)
		t.extend(4, signed)
		w.Get(lFA)
		w.Op(wasm.OpI64Ne)
	} else {
		w.Get(lT0)
		w.Get(lT1)
		w.Op(wasm.OpI64Mul)
		w.Set(lFR)
		rv.EmitMulHigh(w, lT0, lT1, lFA, lFB, signed, signed)
		w.Set(lPC)
		// Overflow: the high half is not the low half's extension.
		w.Get(lPC)
		if signed {
			w.Get(lFR)
			w.I64Const(63)
			w.Op(wasm.OpI64ShrS)
		} else {
			w.I64Const(0)
		}
		w.Op(wasm.OpI64Ne)
	}
	w.Set(lCode)
	w.I64Const(FlagCF | FlagOF)
	w.I64Const(0)
	w.Get(lCode)
	w.Op(wasm.OpSelect)
	w.Get(lPC)
	if signed && in.osz == 4 {
		t.mask(in.mask)
	}
	t.setReg(RDX)
	t.recordExplicit(in, RAX)
}

// emitBitScan translates bsf and bsr: the index of the lowest or highest
// set bit of the operand into R[reg], which an operand of zero leaves
// unchanged; ZF says the operand was zero (findBlocks made sure nothing
// reads the flags it keeps).
func (t *pageTranslator) emitBitScan(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	t.rmOperand(in, e, unretired)
	w.Set(lFR)
	if in.op == opBsf {
		w.Get(lFR)
		w.Op(wasm.OpI64Ctz)
	} else {
		w.I64Const(63)
		w.Get(lFR)
		w.Op(wasm.OpI64Clz)
		w.Op(wasm.OpI64Sub)
	}
	t.getReg(in.reg)
	w.Get(lFR)
	w.Op(wasm.OpI64Eqz)
	w.Op(wasm.OpI32Eqz)
	w.Op(wasm.OpSelect)
	t.setReg(in.reg)
	w.I64Const(0)
	w.Set(lFC)
	t.recordResult(in, lazyLogic)
}

// emitPartialALU translates isPartialALU's instructions: the operation of
// fastOp on a byte or word register (or ah to bh), the result merged into
// its register unless the instruction only compares or tests.
func (t *pageTranslator) emitPartialALU(in *tinst) {
	dst, src := in.rm, in.reg
	if in.op == opAluRegRm {
		dst, src = in.reg, in.rm
	}
	b := func() { t.getPart(in, src) }
	if in.op == opAluRmImm || in.op == opTestRmImm {
		b = func() { t.w.I64Const(int64(in.imm & in.mask)) }
	}
	t.emitALU(in, func() { t.getPart(in, dst) }, b, scratchReg)
	if in.sub != 7 && in.op != opTestRmReg && in.op != opTestRmImm {
		t.setPart(in, dst)
	}
}

// partReg returns the register of regs() that holds byte or word register
// n of in, and the shift of its bits there (8 for ah to bh).
func partReg(in *tinst, n uint8) (uint8, uint64) {
	if in.osz == 1 && !lowByte(n, in.rex) {
		return n - 4, 8
	}
	return n, 0
}

// getPart pushes byte or word register n of in.
func (t *pageTranslator) getPart(in *tinst, n uint8) {
	r, sh := partReg(in, n)
	t.getReg(r)
	if sh != 0 {
		t.w.I64Const(int64(sh))
		t.w.Op(wasm.OpI64ShrU)
	}
	t.mask(in.mask)
}

// setPart merges the result in lFR into byte or word register n of in.
func (t *pageTranslator) setPart(in *tinst, n uint8) {
	w := &t.w
	r, sh := partReg(in, n)
	t.getReg(r)
	w.I64Const(^int64(in.mask << sh))
	w.Op(wasm.OpI64And)
	w.Get(lFR)
	if sh != 0 {
		w.I64Const(int64(sh))
		w.Op(wasm.OpI64Shl)
	}
	w.Op(wasm.OpI64Or)
	t.setReg(r)
}

// emitBitTest translates bt on a register: CF is the bit, and the record
// is lazyExplicit's (findBlocks made sure only CF is read from it).
func (t *pageTranslator) emitBitTest(in *tinst) {
	w := &t.w
	t.getReg(in.rm)
	if in.op == opBtRmImm {
		w.I64Const(int64(in.imm & (uint64(in.osz)*8 - 1)))
	} else {
		t.getReg(in.reg)
		w.I64Const(int64(in.osz)*8 - 1)
		w.Op(wasm.OpI64And)
	}
	w.Op(wasm.OpI64ShrU)
	w.I64Const(1)
	w.Op(wasm.OpI64And)
	w.I64Const(0)
	w.Set(lFR)
	t.recordFlags(in)
}

// emitPopcnt translates popcnt (its flags only where nothing reads them:
// the record is logic's of the count).
func (t *pageTranslator) emitPopcnt(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	t.rmOperand(in, e, unretired)
	w.Op(wasm.OpI64Popcnt)
	w.Set(lFR)
	w.I64Const(0)
	w.Set(lFC)
	t.recordResult(in, lazyLogic)
	w.Get(lFR)
	t.setReg(in.reg)
}

// emitDiv translates the unsigned div of rdx:rax (edx:eax) where
// WebAssembly's 64-bit division computes it: a 64-bit divide whose rdx is
// zero, any 32-bit one. The interpreter takes the others and raises #DE
// for a zero divisor or a quotient too wide; div leaves the flags.
func (t *pageTranslator) emitDiv(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	t.rmOperand(in, e, unretired)
	w.Set(lT1) // the divisor
	t.operand(RAX, 0, in.mask)
	t.operand(RDX, 0, in.mask)
	if in.osz == 8 {
		w.Set(lT0)
		w.Set(lAddr) // the dividend
		w.Get(lT0)
		w.I64Const(0)
		w.Op(wasm.OpI64Ne)
	} else {
		w.I64Const(32)
		w.Op(wasm.OpI64Shl)
		w.Op(wasm.OpI64Or)
		w.Set(lAddr)
		w.I32Const(0)
	}
	w.Get(lT1)
	w.Op(wasm.OpI64Eqz)
	w.Op(wasm.OpI32Or)
	t.interpretIf(e, in.off, unretired)
	w.Get(lAddr)
	w.Get(lT1)
	w.Op(wasm.OpI64DivU)
	w.Set(lPC) // the quotient
	if in.osz == 4 {
		w.Get(lPC)
		w.I64Const(0xffffffff)
		w.Op(wasm.OpI64GtU)
		t.interpretIf(e, in.off, unretired)
	}
	w.Get(lAddr)
	w.Get(lT1)
	w.Op(wasm.OpI64RemU)
	t.setReg(RDX)
	w.Get(lPC)
	t.setReg(RAX)
}

// emitPushMemory translates push of a memory operand.
func (t *pageTranslator) emitPushMemory(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	t.emitAccess(in, 8, lRTLB, e, unretired)
	t.load(8, false)
	w.Set(lT0)
	t.emitStackAccess(-8, lWTLB, e, in.off, unretired)
	w.Get(lHost)
	w.Get(lT0)
	w.Mem(wasm.OpI64Store, 0, 0)
	w.Get(lAddr)
	t.setReg(RSP)
}

// store writes the value on the stack to lHost, of size bytes (4 or 8).
func (t *pageTranslator) store(size uint8) {
	t.w.Mem([...]byte{4: wasm.OpI64Store32, 8: wasm.OpI64Store}[size], 0, 0)
}

// emitXchg translates xchg of memory and a register.
func (t *pageTranslator) emitXchg(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	t.emitAccess(in, uint64(in.osz), lWTLB, e, unretired)
	t.load(in.osz, false)
	w.Set(lT0)
	w.Get(lHost)
	t.getReg(in.reg)
	t.store(in.osz)
	w.Get(lT0)
	t.setReg(in.reg)
}

// emitCmpxchg translates cmpxchg with memory: compared as cmp rax, m,
// then m takes the register or rax takes m.
func (t *pageTranslator) emitCmpxchg(in *tinst, e *rv.Exits, unretired int64) {
	w := &t.w
	t.emitAccess(in, uint64(in.osz), lWTLB, e, unretired)
	// Both registers are loaded before the branches below.
	t.getReg(in.reg)
	w.Set(lT1)
	t.emitALU(in, func() { t.operand(RAX, 0, in.mask) }, func() { t.load(in.osz, false) }, scratchReg)
	w.Get(lFA)
	w.Get(lFB)
	w.Op(wasm.OpI64Eq)
	w.IfThen()
	w.Get(lHost)
	w.Get(lT1)
	t.store(in.osz)
	w.Else()
	w.Get(lFB)
	t.setReg(RAX)
	w.End()
}
