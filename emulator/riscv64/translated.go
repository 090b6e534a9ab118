package riscv64

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// Translated code (docs/translation.md): the converter translates pages of
// the image's ELF files into WebAssembly functions linked into the module.
// This file is the emulator's side of that contract: the frame shared with
// generated code, the index of translated pages, the marking of their
// entries in the decoded-instruction cache, and the call into them.

// Frame is the state shared with translated code. Every field is a 64-bit
// word, so its layout is the same for the converter (native) and the
// emulator (wasm); the Frame* offsets below are part of the contract.
type Frame struct {
	// X is the linear-memory address of CPU.X.
	X uint64
	// RTLB and WTLB are the addresses of the read and write TLBs:
	// TLBEntries entries of TLBEntrySize bytes, a tag word and a frame
	// address word.
	RTLB, WTLB uint64
	// Base is the guest address of the translated page.
	Base uint64
	// Left is the instruction budget left (may go negative by one block).
	Left int64
	// PC is set by translated code: the next instruction, or the one the
	// interpreter must execute.
	PC uint64
	// Jumps is the address of the address space's jump cache:
	// JumpCacheSize entries of JumpEntrySize bytes (jumpEntry).
	Jumps uint64
}

// Offsets of Frame's fields and the TLB geometry, for the translator.
const (
	FrameX    = 0
	FrameRTLB = 8
	FrameWTLB = 16
	FrameBase = 24
	FrameLeft = 32
	FramePC   = 40

	FrameJumps = 48

	TLBEntries   = tlbSize
	TLBEntrySize = 16

	JumpCacheSize  = jumpCacheSize
	JumpEntryShift = 5
	JumpEntrySize  = 1 << JumpEntryShift
	JumpEntryPC    = 0
	JumpEntryEntry = 8
	JumpEntryCode  = 16
	// LivenessValid is the offset of the byte, in the object a jump
	// cache entry points at, that translated code checks before following
	// the entry: non-zero while the entry's decoded page is valid.
	LivenessValid = 0
)

// jumpCacheSize is the number of entries of an address space's jump cache
// (16 KiB, allocated when the address space first runs translated code);
// 4096 entries made no measurable difference on python's loop.
const jumpCacheSize = 512

// jumpEntry says that translated code starts at pc with entry (unit << 16
// | block), for as long as the decoded-instruction cache code of pc's
// frame stays valid: the same life cycle as marked slots (any write to
// the frame, unmapping, mprotect or fence.i ends it). The dispatcher
// follows it when a unit leaves for pc, without returning to Go.
type jumpEntry struct {
	pc    uint64
	entry uint64
	// valid is the liveness flag of the decoded code of pc's frame:
	// riscv64's liveness cell, or x86-64's decoded page's valid flag.
	valid *bool
	_     uint64
}

// liveness says whether a decoded page is still valid. Jump cache entries
// point at it rather than at the page, so that a stale entry keeps 8 bytes
// alive, not the page's 32 KiB of decoded instructions.
type liveness struct {
	valid bool
}

// noJump is a pc no instruction has (odd, and in the first page, which
// is never mapped), for empty jump cache entries.
const noJump = 1

// Exit codes of translated code.
const (
	// TranslatedNext: control left the unit; continue at Frame.PC.
	TranslatedNext = 0
	// TranslatedInterpret: the interpreter must execute the instruction
	// at Frame.PC (a TLB miss, a system call, an instruction not
	// translated).
	TranslatedInterpret = 1
	// TranslatedBudget: the budget ran out at the block at Frame.PC.
	TranslatedBudget = 2
)

// TranslatedPage describes the unit translated from one page of an image
// file: the page at Offset in file File (an identity the loader and the
// converter agree on: the rootfs inode number), the unit's number, and
// where in the page its blocks start; block i starts at Slots[i]. A slot
// is in the unit of the architecture's instruction alignment: 2 bytes for
// riscv64, 1 for x86-64 (whose index the same code reads and checks
// against the page size; each CPU ignores slots it cannot have).
type TranslatedPage struct {
	File, Offset uint64
	Unit         uint32
	Slots        []uint16
}

// TranslationIndex finds the translated unit of a page of an image file.
type TranslationIndex struct {
	pages map[[2]uint64]*TranslatedPage
}

// TranslationIndexBlob is the name of the embedded blob (emulator/embed)
// that holds the encoded index of a module's translated pages.
const TranslationIndexBlob = "rvxlate"

// indexMagic starts an encoded TranslationIndex.
const indexMagic = "RV64TX01"

// MaxUnits is the number of units an index may describe (entry numbers
// are unit << 16 | block).
const MaxUnits = 1 << 16

// ErrBadIndex reports a malformed translation index.
var ErrBadIndex = errors.New("malformed translation index")

// EncodeTranslationIndex encodes pages for ParseTranslationIndex.
func EncodeTranslationIndex(pages []TranslatedPage) []byte {
	b := []byte(indexMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(pages)))
	for _, p := range pages {
		b = binary.LittleEndian.AppendUint64(b, p.File)
		b = binary.LittleEndian.AppendUint64(b, p.Offset)
		b = binary.LittleEndian.AppendUint32(b, p.Unit)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(p.Slots)))
		for _, s := range p.Slots {
			b = binary.LittleEndian.AppendUint16(b, s)
		}
	}
	return b
}

// ParseTranslationIndex decodes an index written by EncodeTranslationIndex,
// checking every field the emulator relies on.
func ParseTranslationIndex(b []byte) (*TranslationIndex, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadIndex, fmt.Sprintf(format, args...))
	}
	if len(b) < len(indexMagic)+4 || string(b[:len(indexMagic)]) != indexMagic {
		return nil, bad("no %q header", indexMagic)
	}
	n := binary.LittleEndian.Uint32(b[len(indexMagic):])
	b = b[len(indexMagic)+4:]
	ix := &TranslationIndex{pages: make(map[[2]uint64]*TranslatedPage, min(n, 1<<16))}
	for i := uint32(0); i < n; i++ {
		if len(b) < 22 {
			return nil, bad("page %d of %d: truncated", i, n)
		}
		p := &TranslatedPage{
			File:   binary.LittleEndian.Uint64(b),
			Offset: binary.LittleEndian.Uint64(b[8:]),
			Unit:   binary.LittleEndian.Uint32(b[16:]),
		}
		k := int(binary.LittleEndian.Uint16(b[20:]))
		b = b[22:]
		switch {
		case p.Offset%PageSize != 0:
			return nil, bad("page %d: offset %#x is not page aligned", i, p.Offset)
		case p.Unit >= MaxUnits:
			return nil, bad("page %d: unit %d out of range", i, p.Unit)
		case len(b) < 2*k:
			return nil, bad("page %d: truncated slot list", i)
		}
		p.Slots = make([]uint16, k)
		for j := range p.Slots {
			p.Slots[j] = binary.LittleEndian.Uint16(b[2*j:])
			if p.Slots[j] >= PageSize {
				return nil, bad("page %d: slot %d out of range", i, p.Slots[j])
			}
		}
		b = b[2*k:]
		key := [2]uint64{p.File, p.Offset}
		if ix.pages[key] != nil {
			return nil, bad("page %d: file %d offset %#x listed twice", i, p.File, p.Offset)
		}
		ix.pages[key] = p
	}
	if len(b) != 0 {
		return nil, bad("%d bytes after the last page", len(b))
	}
	return ix, nil
}

// Lookup returns the translated unit of the page at offset of file, or
// nil.
func (ix *TranslationIndex) Lookup(file, offset uint64) *TranslatedPage {
	if ix == nil {
		return nil
	}
	return ix.pages[[2]uint64{file, offset}]
}

// Len is the number of translated pages.
func (ix *TranslationIndex) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.pages)
}

// SetTranslated records that the frame mapped at addr holds exactly the
// bytes tp was translated from: the loader calls it after filling the page
// from the file (every later write to the frame forgets it). Natively,
// where no translated code exists, it does nothing.
func (m *Memory) SetTranslated(addr uint64, tp *TranslatedPage) {
	if !translationsSupported {
		return
	}
	e := m.lookup(addr)
	if e == nil {
		return
	}
	e.pg.translated = tp
	// Decoded before the origin was known: decode again, marked.
	e.pg.code.Invalidate()
	if e.pg.foreign != nil {
		e.pg.foreign.Invalidate()
		e.pg.foreign = nil
	}
}

// markEntries writes the entries of tp into the decoded-instruction cache
// of a page.
func (cp *codePage) markEntries(tp *TranslatedPage) {
	cp.alive = &liveness{valid: cp.valid}
	for i, s := range tp.Slots {
		if s < slots {
			cp.insts[s] = inst{op: opTranslated, imm: uint64(tp.Unit)<<16 | uint64(i)}
		}
	}
}

// runTranslated runs translated code from the entry in the marked slot
// of cp at pc, with left instructions of budget, and returns where to
// continue and the budget left. It records the entry in the jump cache
// first, so that translated code that jumps to pc later goes there
// directly.
func (c *CPU) runTranslated(entry uint32, cp *codePage, pc uint64, left int64) (uint64, int64) {
	f := &c.frame
	c.Mem.PrepareFrame(f, pc, entry, &cp.alive.valid)
	f.X = uint64(uintptr(unsafe.Pointer(&c.X)))
	f.Base = cp.va
	f.Left = left
	c.TranslatedCalls++
	if translatedRun(unsafe.Pointer(f), entry) == TranslatedInterpret {
		c.interpretAt = f.PC + 1
	}
	return f.PC, f.Left
}

// PrepareFrame records in the address space's jump cache that translated
// code starts at pc with entry for as long as *valid holds, and sets the
// frame's TLB and jump cache addresses: what every CPU does before it
// calls translated code from pc (CallTranslated).
func (m *Memory) PrepareFrame(f *Frame, pc uint64, entry uint32, valid *bool) {
	if m.jumps == nil {
		m.jumps = new([jumpCacheSize]jumpEntry)
		for i := range m.jumps {
			m.jumps[i].pc = noJump
		}
	}
	m.jumps[(pc>>1)&(jumpCacheSize-1)] = jumpEntry{pc: pc, entry: uint64(entry), valid: valid}
	f.Jumps = uint64(uintptr(unsafe.Pointer(m.jumps)))
	f.RTLB = uint64(uintptr(unsafe.Pointer(&m.rtlb)))
	f.WTLB = uint64(uintptr(unsafe.Pointer(&m.wtlb)))
}

// CallTranslated runs translated code from entry with the frame f, which
// PrepareFrame and the caller filled, and returns the exit code
// (Translated*); f.PC and f.Left say where and with what budget to go on.
// Only WebAssembly builds hold translated code.
func CallTranslated(f *Frame, entry uint32) uint32 {
	return translatedRun(unsafe.Pointer(f), entry)
}

// TranslatedAt returns the translated unit of the bytes of the frame
// mapped at addr, or nil (SetTranslated).
func (m *Memory) TranslatedAt(addr uint64) *TranslatedPage {
	if e := m.lookup(addr); e != nil {
		return e.pg.translated
	}
	return nil
}

// interpretMarked executes, in the interpreter, the instruction in a marked
// slot that translated code handed back (TranslatedInterpret). It returns
// what step returns.
func (c *CPU) interpretMarked(cp *codePage, pc, instret uint64) (next uint64, retired, stop bool) {
	c.interpretAt = 0
	idx := (pc & pageMask) >> 1
	real, ok := c.decodeAt(cp, idx)
	if !ok {
		return pc, false, true
	}
	if stepExecutes(real.op) {
		return c.step(&real, cp, pc, instret)
	}
	// An instruction Run executes inline (translated code never hands
	// those back, but a slot must never be stuck): unmark the slot.
	cp.insts[idx] = real
	return pc, false, false
}

// stepExecutes reports whether step can execute op.
func stepExecutes(op uint8) bool {
	switch op {
	case opLoad, opLb, opLh, opLw, opLd, opLbu, opLhu, opLwu, opFlw, opFld,
		opStore, opSb, opSh, opSw, opSd, opFsw, opFsd,
		opAtomic, opFP, opCSR, opFenceI, opEcall, opEbreak, opIllegal:
		return true
	}
	return false
}

// The converter finds translatedRun's wrapper by this name and redirects
// its call of the TranslatedRunImport placeholder to the dispatcher.
const (
	TranslatedRunFunc   = "github.com/wasmrt/wasmrt/emulator/riscv64.translatedRun"
	TranslatedRunImport = "fd_prestat_get"
)
