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
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, err
	}
	if f.Machine != elf.EM_RISCV || f.Class != elf.ELFCLASS64 {
		return nil, fmt.Errorf("ELF is %v %v, not 64-bit RISC-V", f.Class, f.Machine)
	}
	leaders := codeLeaders(f, image)
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
		body, slots := TranslatePage(image[off:pageEnd[off]], leaders[off])
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
func codeLeaders(f *elf.File, image []byte) map[uint64][]uint16 {
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
	addFile := func(off uint64) {
		if off&1 != 0 || off >= uint64(len(image)) {
			return
		}
		page := off &^ pageMask
		if set[page] == nil {
			set[page] = make(map[uint16]bool)
		}
		set[page][uint16((off&pageMask)>>1)] = true
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
		if off&1 != 0 || visited[off] {
			continue
		}
		addFile(off)
		end := spanEnd(off)
		for !visited[off] {
			in, ok := decodeCode(image[:end], off)
			if !ok {
				break
			}
			visited[off] = true
			next := off + uint64(in.halfword)<<1
			if next&^pageMask != off&^pageMask {
				// Straight-line code continues on the next page: where
				// the previous page's unit leaves it.
				roots = append(roots, next)
			}
			switch {
			case in.op >= opBeq && in.op <= opBgeu:
				roots = append(roots, in.imm, next)
			case in.op == opJal || in.op == opJ:
				roots = append(roots, in.imm)
			}
			if in.op == opJal || in.op == opJalr || !translatable(in.op) {
				roots = append(roots, next) // where a call or the interpreter returns
			}
			if isControl(in.op) {
				break
			}
			off = next
		}
	}
	// A linear sweep of all the code for what the descent cannot reach
	// (functions only called indirectly, without a symbol).
	for _, s := range code {
		end := min(s.off+s.size, uint64(len(image)))
		for off := s.off; off+2 <= end; {
			in, ok := decodeCode(image[:end], off)
			if !ok {
				break
			}
			next := off + uint64(in.halfword)<<1
			if isControl(in.op) || !translatable(in.op) || next&^pageMask != off&^pageMask {
				addFile(next)
			}
			if in.op >= opBeq && in.op <= opBgeu || in.op == opJal || in.op == opJ {
				// Decoded at the file offset: in.imm is the target's
				// file offset when it stays in this span.
				if in.imm >= s.off && in.imm < end {
					addFile(in.imm)
				}
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
