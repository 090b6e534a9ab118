package wasmbin

import (
	"fmt"
	"slices"
)

// NumImportedFuncs is how many functions the module imports: defined
// functions are numbered after them.
func (m *Module) NumImportedFuncs() uint32 {
	n := uint32(0)
	for _, im := range m.Imports {
		if im.Kind == KindFunc {
			n++
		}
	}
	return n
}

// AddType returns the index of a function type equal to ft, appending one
// when the module has none.
func (m *Module) AddType(ft FuncType) uint32 {
	for i, t := range m.Types {
		if slices.Equal(t.Params, ft.Params) && slices.Equal(t.Results, ft.Results) {
			return uint32(i)
		}
	}
	m.Types = append(m.Types, FuncType{Params: slices.Clone(ft.Params), Results: slices.Clone(ft.Results)})
	m.typesChanged = true
	return uint32(len(m.Types) - 1)
}

// FuncType returns the type of function idx (imported or defined).
func (m *Module) FuncType(idx uint32) (FuncType, error) {
	ti, err := m.funcTypeIndex(idx)
	if err != nil {
		return FuncType{}, err
	}
	if int(ti) >= len(m.Types) {
		return FuncType{}, fmt.Errorf("wasmbin: function %d has type %d, but the module has %d types", idx, ti, len(m.Types))
	}
	return m.Types[ti], nil
}

func (m *Module) funcTypeIndex(idx uint32) (uint32, error) {
	i := uint32(0)
	for _, im := range m.Imports {
		if im.Kind != KindFunc {
			continue
		}
		if i == idx {
			return im.TypeIndex, nil
		}
		i++
	}
	if d := idx - i; idx >= i && int(d) < len(m.Functions) {
		return m.Functions[d], nil
	}
	return 0, fmt.Errorf("wasmbin: no function %d", idx)
}

// AppendFunction adds a function of type typeIndex whose body (local
// declarations, instructions and the final end) is body, and returns its
// index. Existing function indexes do not change.
func (m *Module) AppendFunction(typeIndex uint32, body []byte) uint32 {
	m.Functions = append(m.Functions, typeIndex)
	m.Code = append(m.Code, Code{Body: body})
	m.codeChanged = true
	return m.NumImportedFuncs() + uint32(len(m.Functions)-1)
}

// Body returns the body of defined function idx.
func (m *Module) Body(idx uint32) ([]byte, error) {
	imported := m.NumImportedFuncs()
	if idx < imported || int(idx-imported) >= len(m.Code) {
		return nil, fmt.Errorf("wasmbin: function %d is not defined by the module", idx)
	}
	return m.Code[idx-imported].Body, nil
}

// SetBody replaces the body of defined function idx.
func (m *Module) SetBody(idx uint32, body []byte) error {
	if _, err := m.Body(idx); err != nil {
		return err
	}
	m.Code[idx-m.NumImportedFuncs()].Body = body
	m.codeChanged = true
	return nil
}

// FunctionNames returns the function names of the name section (the
// function-names subsection), or nil when the module has none.
func (m *Module) FunctionNames() (map[uint32]string, error) {
	for _, s := range m.Sections {
		if s.ID != SectionCustom || s.Name != "name" {
			continue
		}
		r := &reader{b: s.Payload, section: "name"}
		r.name() // the section's own name
		for !r.done() && r.err == nil {
			id := r.byte()
			size := r.u32()
			sub := r.bytes(uint64(size))
			if r.err != nil || id != 1 {
				continue
			}
			sr := &reader{b: sub, section: "name"}
			names := map[uint32]string{}
			n := sr.count("function names", 2)
			for range n {
				idx := sr.u32()
				names[idx] = sr.name()
			}
			if sr.err != nil {
				return nil, sr.err
			}
			return names, nil
		}
		return nil, r.err
	}
	return nil, nil
}

// RedirectCalls rewrites every direct call (call, return_call) to function
// from in body into a call to function to, and returns the new body and how
// many calls it rewrote. The instructions are decoded one by one, so an
// immediate that happens to look like a call is never touched.
func RedirectCalls(body []byte, from, to uint32) ([]byte, int, error) {
	r := &reader{b: body, section: "code"}
	// Local declarations.
	for range r.count("local declarations", 2) {
		r.u32()
		decodeValType(r)
	}
	out := slices.Clone(body[:r.pos])
	n := 0
	for !r.done() && r.err == nil {
		start := r.pos
		op := r.byte()
		if op == 0x10 || op == 0x12 { // call, return_call
			if idx := r.u32(); r.err == nil && idx == from {
				out = appendUleb(append(out, op), uint64(to))
				n++
				continue
			}
		} else if err := skipImmediates(r, op); err != nil {
			return nil, 0, err
		}
		out = append(out, body[start:r.pos]...)
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	return out, n, nil
}

// skipImmediates reads the immediates of the instruction op. It knows the
// core instruction set with the bulk-memory, reference-types, sign-extension
// and saturating-conversion additions; other instructions (SIMD, exceptions,
// threads) are refused.
func skipImmediates(r *reader, op byte) error {
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if: block type
		r.sleb(33)
	case op == 0x0c || op == 0x0d: // br, br_if
		r.u32()
	case op == 0x0e: // br_table
		for range r.count("branch targets", 1) {
			r.u32()
		}
		r.u32()
	case op == 0x10 || op == 0x12 || op == 0xd2: // call, return_call, ref.func
		r.u32()
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select with types
		for range r.count("select types", 1) {
			decodeValType(r)
		}
	case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
		r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
		if align := r.u32(); align&0x40 != 0 {
			r.u32() // memory index (multi-memory)
		}
		r.uleb(64)
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41:
		r.sleb(32)
	case op == 0x42:
		r.sleb(64)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xd0: // ref.null
		r.sleb(33)
	case op == 0xfc:
		switch sub := r.u32(); {
		case sub <= 7: // saturating truncations
		case sub == 8 || sub == 12 || sub == 10 || sub == 14: // memory.init, table.init, memory.copy, table.copy
			r.u32()
			r.u32()
		case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17): // data.drop, memory.fill, elem.drop, table.grow/size/fill
			r.u32()
		default:
			return fmt.Errorf("wasmbin: instruction 0xfc %d is not supported", sub)
		}
	case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b ||
		(op >= 0x45 && op <= 0xc4) || op == 0xd1: // no immediates
	default:
		return fmt.Errorf("wasmbin: instruction %#x at body offset %d is not supported", op, r.pos-1)
	}
	return r.err
}

// AppendPassiveData appends a passive data segment (copied into memory
// only by memory.init) and returns its index. The module keeps init
// without copying it; Encode writes the data count section that
// memory.init needs.
func (m *Module) AppendPassiveData(init []byte) uint32 {
	m.Data = append(m.Data, &DataSegment{Passive: true, Init: init})
	return uint32(len(m.Data) - 1)
}

// MemoryInitBody is the body of a function (dst, off, n i32) → i32 that
// copies n bytes at off of passive data segment seg to dst in memory 0 with
// memory.init (trapping when either range is out of bounds) and returns 0.
func MemoryInitBody(seg uint32) []byte {
	b := []byte{0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfc, 8} // no locals; local.get 0 1 2; memory.init
	b = appendUleb(b, uint64(seg))
	return append(b, 0, 0x41, 0, 0x0b) // memory 0; i32.const 0; end
}
