package riscv64

import (
	"bytes"
	"debug/elf"
	"fmt"
	"slices"
)

// TranslatedUnit is one translated page: where it is in its file, the
// slots where its blocks start, and the WebAssembly function body.
type TranslatedUnit struct {
	Offset uint64 // of the page in the file
	Slots  []uint16
	Body   []byte
}

// TranslateELF translates the executable pages of a riscv64 ELF file
// (executable or shared object) for which want(offset) is true (nil: all
// of them), in file-offset order.
func TranslateELF(image []byte, want func(offset uint64) bool) ([]TranslatedUnit, error) {
	return ELFCode{Machine: elf.EM_RISCV, SlotShift: 1, Step: codeStep, TranslatePage: TranslatePage}.Translate(image, want)
}

// ELFCode is what translating one architecture's ELF files takes: its
// machine, the log2 of its instruction alignment (slots are in that
// unit), how the leader sweep sees one instruction, and the page
// translator.
type ELFCode struct {
	Machine   elf.Machine
	SlotShift uint
	// Step decodes the instruction at off of code (decoded as if at
	// address off, so that direct targets are offsets too), reporting
	// false when code ends first.
	Step          func(code []byte, off uint64) (CodeStep, bool)
	TranslatePage func(page []byte, leaders []uint16) (body []byte, slots []uint16)
	// Starts are more leaders, by file page: where training saw blocks
	// start (targets of indirect jumps the sweep cannot know).
	Starts map[uint64][]uint16
}

// CodeStep is what the leader sweep needs of one instruction.
type CodeStep struct {
	// Len is its length in bytes.
	Len uint64
	// Target is a direct branch, jump or call target, if HasTarget.
	Target    uint64
	HasTarget bool
	// Ends says straight-line code ends after it (an unconditional
	// jump, a return; for riscv64 every branch and jump).
	Ends bool
	// Resume says execution also continues at the next instruction
	// from elsewhere: after a call returns, after the interpreter ran
	// an instruction the translator leaves to it, after a block that
	// ends at a conditional branch.
	Resume bool
}

// codeStep is riscv64's CodeStep.
func codeStep(code []byte, off uint64) (CodeStep, bool) {
	in, ok := decodeCode(code, off)
	if !ok {
		return CodeStep{}, false
	}
	st := CodeStep{Len: uint64(in.halfword) << 1, Ends: isControl(in.op)}
	switch {
	case in.op >= opBeq && in.op <= opBgeu:
		st.Target, st.HasTarget, st.Resume = in.imm, true, true
	case in.op == opJal || in.op == opJ:
		st.Target, st.HasTarget = in.imm, true
	}
	if in.op == opJal || in.op == opJalr || !translatable(in.op) {
		st.Resume = true
	}
	return st, true
}

// Translate translates the executable pages of an ELF file of a's
// machine for which want(offset) is true (nil: all of them), in
// file-offset order.
func (a ELFCode) Translate(image []byte, want func(offset uint64) bool) ([]TranslatedUnit, error) {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, err
	}
	if f.Machine != a.Machine || f.Class != elf.ELFCLASS64 {
		return nil, fmt.Errorf("ELF is %v %v, not 64-bit %v", f.Class, f.Machine, a.Machine)
	}
	leaders := a.codeLeaders(f, image)
	for page, starts := range a.Starts {
		l := append(leaders[page], starts...)
		slices.Sort(l)
		leaders[page] = slices.Compact(l)
	}
	// A page is translated when all of it is file bytes of an
	// executable segment's range: the loaders mark only such pages (a
	// page partly filled from the file reads differently depending on
	// who mapped it).
	pageEnd := make(map[uint64]uint64)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 || p.Filesz == 0 {
			continue
		}
		for off := p.Off &^ pageMask; off < p.Off+p.Filesz && off+PageSize <= uint64(len(image)); off += PageSize {
			pageEnd[off] = off + PageSize
		}
	}
	var pages []uint64
	for off := range leaders {
		if pageEnd[off] != 0 && (want == nil || want(off)) {
			pages = append(pages, off)
		}
	}
	slices.Sort(pages)
	var units []TranslatedUnit
	for _, off := range pages {
		body, slots := a.TranslatePage(image[off:pageEnd[off]], leaders[off])
		if body != nil {
			units = append(units, TranslatedUnit{Offset: off, Slots: slots, Body: body})
		}
	}
	return units, nil
}

// codeLeaders sweeps the code of f (its executable sections, or its
// executable segments when it has no section headers) and returns, per
// file page, the slots where a basic block is known to start: the start
// of the code, the entry point and function symbols, every instruction
// after a branch or jump, and every direct branch or jump target.
func (a ELFCode) codeLeaders(f *elf.File, image []byte) map[uint64][]uint16 {
	type span struct{ off, addr, size uint64 }
	var code []span
	for _, s := range f.Sections {
		if s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_EXECINSTR != 0 {
			code = append(code, span{s.Offset, s.Addr, s.Size})
		}
	}
	if len(code) == 0 {
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
				code = append(code, span{p.Off, p.Vaddr, p.Filesz})
			}
		}
	}
	set := make(map[uint64]map[uint16]bool)
	// addFile marks file offset off; addAddr a virtual address inside
	// one of the spans.
	align := uint64(1)<<a.SlotShift - 1
	addFile := func(off uint64) {
		if off&align != 0 || off >= uint64(len(image)) {
			return
		}
		page := off &^ pageMask
		if set[page] == nil {
			set[page] = make(map[uint16]bool)
		}
		set[page][uint16((off&pageMask)>>a.SlotShift)] = true
	}
	spanEnd := func(off uint64) uint64 {
		for _, s := range code {
			if off >= s.off && off < s.off+s.size {
				return min(s.off+s.size, uint64(len(image)))
			}
		}
		return 0
	}
	// Recursive descent from the entry point and the function symbols:
	// the exact instruction boundaries of the code they reach.
	var roots []uint64
	toFile := func(addr uint64) {
		for _, s := range code {
			if addr >= s.addr && addr < s.addr+s.size {
				roots = append(roots, s.off+addr-s.addr)
			}
		}
	}
	toFile(f.Entry)
	for _, get := range []func() ([]elf.Symbol, error){f.Symbols, f.DynamicSymbols} {
		syms, _ := get()
		for _, s := range syms {
			if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
				toFile(s.Value)
			}
		}
	}
	for _, s := range code {
		roots = append(roots, s.off)
	}
	visited := make(map[uint64]bool)
	for len(roots) > 0 {
		off := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		if off&align != 0 || visited[off] {
			continue
		}
		addFile(off)
		end := spanEnd(off)
		for !visited[off] {
			st, ok := a.Step(image[:end], off)
			if !ok {
				break
			}
			visited[off] = true
			next := off + st.Len
			if next&^pageMask != off&^pageMask {
				// Straight-line code continues on the next page: where
				// the previous page's unit leaves it.
				roots = append(roots, next)
			}
			if st.HasTarget {
				roots = append(roots, st.Target)
			}
			if st.Resume {
				roots = append(roots, next)
			}
			if st.Ends {
				break
			}
			off = next
		}
	}
	// A linear sweep of all the code for what the descent cannot reach
	// (functions only called indirectly, without a symbol).
	for _, s := range code {
		end := min(s.off+s.size, uint64(len(image)))
		for off := s.off; off < end; {
			st, ok := a.Step(image[:end], off)
			if !ok {
				break
			}
			next := off + st.Len
			if st.Ends || st.Resume || next&^pageMask != off&^pageMask {
				addFile(next)
			}
			// Decoded at the file offset: the target is the target's
			// file offset when it stays in this span.
			if st.HasTarget && st.Target >= s.off && st.Target < end {
				addFile(st.Target)
			}
			off = next
		}
	}
	out := make(map[uint64][]uint16, len(set))
	for page, m := range set {
		for s := range m {
			out[page] = append(out[page], s)
		}
		slices.Sort(out[page])
	}
	return out
}
