package wasmbin

import (
	"bytes"
	"fmt"
)

// SectionID identifies a section.
type SectionID byte

// Section identifiers of the core specification and its finished proposals.
const (
	SectionCustom    SectionID = 0
	SectionType      SectionID = 1
	SectionImport    SectionID = 2
	SectionFunction  SectionID = 3
	SectionTable     SectionID = 4
	SectionMemory    SectionID = 5
	SectionGlobal    SectionID = 6
	SectionExport    SectionID = 7
	SectionStart     SectionID = 8
	SectionElement   SectionID = 9
	SectionCode      SectionID = 10
	SectionData      SectionID = 11
	SectionDataCount SectionID = 12
	SectionTag       SectionID = 13
)

var sectionNames = [...]string{
	"custom section", "type section", "import section", "function section", "table section",
	"memory section", "global section", "export section", "start section", "element section",
	"code section", "data section", "data count section", "tag section",
}

func (id SectionID) String() string {
	if int(id) < len(sectionNames) {
		return sectionNames[id]
	}
	return fmt.Sprintf("section %d", byte(id))
}

// sectionOrder is the position each known non-custom section must take
// relative to the others (the data count section sits between the element
// and code sections, the tag section between memory and global).
var sectionOrder = map[SectionID]int{
	SectionType: 1, SectionImport: 2, SectionFunction: 3, SectionTable: 4, SectionMemory: 5,
	SectionTag: 6, SectionGlobal: 7, SectionExport: 8, SectionStart: 9, SectionElement: 10,
	SectionDataCount: 11, SectionCode: 12, SectionData: 13,
}

// Section is one section as it appears in the module.
type Section struct {
	ID      SectionID
	Name    string // custom sections only
	Offset  int    // of the section's identifier byte in the parsed module
	Payload []byte // the section's contents, aliasing the parsed module
}

// ValType is a value type byte (0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64,
// 0x7b v128, 0x70 funcref, 0x6f externref, or a typed reference).
type ValType byte

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

// Limits are the size limits of a memory (in pages) or table (in elements).
type Limits struct {
	Min, Max uint64
	HasMax   bool
	Shared   bool // threads proposal
	Is64     bool // memory64 proposal: 64-bit addresses
}

// ImportKind says what an import or export names.
type ImportKind byte

const (
	KindFunc   ImportKind = 0
	KindTable  ImportKind = 1
	KindMemory ImportKind = 2
	KindGlobal ImportKind = 3
	KindTag    ImportKind = 4
)

// Import is one entry of the import section. Which of the descriptor
// fields is meaningful depends on Kind.
type Import struct {
	Module, Name string
	Kind         ImportKind
	TypeIndex    uint32 // functions and tags
	Table        Table
	Memory       Limits
	Global       GlobalType
}

// Table is a table's element type and limits.
type Table struct {
	ElemType ValType
	Limits   Limits
}

// GlobalType is a global's value type and mutability.
type GlobalType struct {
	Type    ValType
	Mutable bool
}

// Global is a global defined by the module; Init is its constant
// initialiser expression, including the final end opcode.
type Global struct {
	GlobalType
	Init []byte
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  ImportKind
	Index uint32
}

// Element is one element segment, kept in its encoded form.
type Element struct {
	Raw []byte
}

// Code is one function body (locals and instructions), kept in its
// encoded form.
type Code struct {
	Body []byte
}

// Module is a parsed WebAssembly module. The slices hold the decoded
// contents of each section; Memories and Data (and, through it, the data
// count) affect what Encode writes, and so do Types, Functions and Code once
// changed through AddType, AppendFunction or SetBody.
type Module struct {
	Sections  []Section
	Types     []FuncType
	Imports   []Import
	Functions []uint32 // type index of each defined function
	Tables    []Table
	Memories  []Limits // memories the module defines (not imports)
	Tags      []uint32 // type index of each defined tag
	Globals   []Global
	Exports   []Export
	Start     *uint32
	Elements  []Element
	DataCount *uint32 // as declared; Encode rewrites it to len(Data)
	Code      []Code
	Data      []*DataSegment

	// typesChanged and codeChanged make Encode write the type, function
	// and code sections from the fields above instead of copying them.
	typesChanged, codeChanged bool
}

var magic = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// Parse decodes a module. The Module aliases b, which must not change while
// the Module is in use.
func Parse(b []byte) (*Module, error) {
	if len(b) < len(magic) || !bytes.Equal(b[:4], magic[:4]) {
		return nil, &FormatError{Section: "header", Offset: 0, Msg: "not a WebAssembly module (no \\0asm magic)"}
	}
	if !bytes.Equal(b[4:8], magic[4:]) {
		return nil, &FormatError{Section: "header", Offset: 4,
			Msg: fmt.Sprintf("binary format version % x is not 1 (a component or a future format)", b[4:8])}
	}
	m := &Module{}
	r := &reader{b: b, pos: len(magic), section: "module"}
	lastOrder := 0
	seen := map[SectionID]bool{}
	for !r.done() {
		id, start, payload, sr := nextSection(r)
		if r.err != nil {
			break
		}
		sec := Section{ID: id, Offset: start, Payload: payload}
		if order, known := sectionOrder[id]; known {
			if seen[id] {
				return nil, &FormatError{Section: id.String(), Offset: start, Msg: "section appears twice"}
			}
			if order < lastOrder {
				return nil, &FormatError{Section: id.String(), Offset: start, Msg: "section out of order"}
			}
			seen[id], lastOrder = true, order
		}
		if err := m.decodeSection(&sec, sr); err != nil {
			return nil, err
		}
		m.Sections = append(m.Sections, sec)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(m.Functions) != len(m.Code) {
		return nil, &FormatError{Section: "module", Offset: len(b),
			Msg: fmt.Sprintf("%d functions declared but %d bodies in the code section", len(m.Functions), len(m.Code))}
	}
	if m.DataCount != nil && int(*m.DataCount) != len(m.Data) {
		return nil, &FormatError{Section: "module", Offset: len(b),
			Msg: fmt.Sprintf("data count section says %d segments, data section has %d", *m.DataCount, len(m.Data))}
	}
	return m, nil
}

// nextSection reads the header of the section at r and skips its payload,
// which it returns with a reader of its own.
func nextSection(r *reader) (id SectionID, start int, payload []byte, pr *reader) {
	start = r.offset()
	id = SectionID(r.byte())
	size := r.u32()
	payloadStart := r.offset()
	payload = r.bytes(uint64(size))
	if r.err != nil {
		r.err = &FormatError{Section: id.String(), Offset: start,
			Msg: fmt.Sprintf("section header or %d-byte payload runs past the end of the module", size)}
	}
	return id, start, payload, &reader{b: payload, base: payloadStart, section: id.String()}
}

// PassiveDataLen returns the length of the longest passive data segment
// of the module b, decoding nothing but section headers and the data
// section's segment headers: what a caller needs to decide whether a
// module is worth parsing (Parse decodes every function body, tens of
// milliseconds for a Go program's module).
func PassiveDataLen(b []byte) (int, error) {
	if len(b) < len(magic) || !bytes.Equal(b[:len(magic)], magic) {
		return 0, &FormatError{Section: "header", Offset: 0, Msg: "not a version 1 WebAssembly module"}
	}
	r := &reader{b: b, pos: len(magic), section: "module"}
	for !r.done() {
		id, _, _, sr := nextSection(r)
		if r.err != nil || id != SectionData {
			continue
		}
		longest := 0
		for _, d := range decodeVec(sr, "data segments", 2, decodeDataSegment) {
			if d.Passive {
				longest = max(longest, len(d.Init))
			}
		}
		return longest, sr.err
	}
	return 0, r.err
}

func (m *Module) decodeSection(sec *Section, r *reader) error {
	switch sec.ID {
	case SectionCustom:
		// A name, then contents this package does not interpret.
		sec.Name = r.name()
		r.pos = len(r.b)
	case SectionType:
		m.Types = decodeVec(r, "types", 3, decodeFuncType)
	case SectionImport:
		m.Imports = decodeVec(r, "imports", 4, decodeImport)
	case SectionFunction:
		m.Functions = decodeVec(r, "functions", 1, (*reader).u32)
	case SectionTable:
		m.Tables = decodeVec(r, "tables", 3, decodeTable)
	case SectionMemory:
		m.Memories = decodeVec(r, "memories", 2, decodeLimits)
	case SectionTag:
		m.Tags = decodeVec(r, "tags", 2, decodeTag)
	case SectionGlobal:
		m.Globals = decodeVec(r, "globals", 3, decodeGlobal)
	case SectionExport:
		m.Exports = decodeVec(r, "exports", 3, decodeExport)
	case SectionStart:
		idx := r.u32()
		m.Start = &idx
	case SectionElement:
		m.Elements = decodeVec(r, "element segments", 2, decodeElement)
	case SectionDataCount:
		n := r.u32()
		m.DataCount = &n
	case SectionCode:
		m.Code = decodeVec(r, "function bodies", 2, decodeCode)
	case SectionData:
		m.Data = decodeVec(r, "data segments", 2, decodeDataSegment)
	default:
		// An identifier from a proposal this package does not know: keep
		// the bytes, they are written back unchanged.
		r.pos = len(r.b)
	}
	if r.err == nil && r.pos != len(r.b) {
		r.fail("%d unexpected bytes after the last entry", len(r.b)-r.pos)
	}
	return r.err
}

// decodeVec reads a vector whose elements take at least minSize bytes.
func decodeVec[T any](r *reader, what string, minSize int, elem func(*reader) T) []T {
	n := r.count(what, minSize)
	if r.err != nil {
		return nil
	}
	out := make([]T, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		v := elem(r)
		if r.err != nil {
			if fe, ok := r.err.(*FormatError); ok {
				fe.Msg = fmt.Sprintf("entry %d: %s", i, fe.Msg)
			}
			return nil
		}
		out = append(out, v)
	}
	return out
}

func decodeValType(r *reader) ValType {
	off := r.offset()
	t := ValType(r.byte())
	switch t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
	case 0x63, 0x64: // (ref null ht) and (ref ht) of the typed references proposal
		r.sleb(33)
	default:
		if r.err == nil {
			r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("unknown value type %#x", byte(t))}
		}
	}
	return t
}

func decodeFuncType(r *reader) FuncType {
	off := r.offset()
	if form := r.byte(); form != 0x60 && r.err == nil {
		r.err = &FormatError{Section: r.section, Offset: off,
			Msg: fmt.Sprintf("type form %#x is not a function type (0x60)", form)}
		return FuncType{}
	}
	params := decodeVec(r, "parameters", 1, decodeValType)
	results := decodeVec(r, "results", 1, decodeValType)
	return FuncType{Params: params, Results: results}
}

func decodeLimits(r *reader) Limits {
	off := r.offset()
	flags := r.byte()
	if flags > 7 {
		if r.err == nil {
			r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("unknown limits flags %#x", flags)}
		}
		return Limits{}
	}
	l := Limits{HasMax: flags&1 != 0, Shared: flags&2 != 0, Is64: flags&4 != 0}
	bits := uint(32)
	if l.Is64 {
		bits = 64
	}
	l.Min = r.uleb(bits)
	if l.HasMax {
		l.Max = r.uleb(bits)
		if r.err == nil && l.Max < l.Min {
			r.err = &FormatError{Section: r.section, Offset: off,
				Msg: fmt.Sprintf("maximum %d is below minimum %d", l.Max, l.Min)}
		}
	}
	return l
}

func decodeTable(r *reader) Table {
	return Table{ElemType: decodeValType(r), Limits: decodeLimits(r)}
}

func decodeGlobalType(r *reader) GlobalType {
	t := decodeValType(r)
	off := r.offset()
	mut := r.byte()
	if mut > 1 && r.err == nil {
		r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("mutability flag %#x is not 0 or 1", mut)}
	}
	return GlobalType{Type: t, Mutable: mut == 1}
}

func decodeTag(r *reader) uint32 {
	off := r.offset()
	if attr := r.byte(); attr != 0 && r.err == nil {
		r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("tag attribute %#x is not 0", attr)}
	}
	return r.u32()
}

func decodeImport(r *reader) Import {
	imp := Import{Module: r.name(), Name: r.name()}
	off := r.offset()
	imp.Kind = ImportKind(r.byte())
	switch imp.Kind {
	case KindFunc:
		imp.TypeIndex = r.u32()
	case KindTable:
		imp.Table = decodeTable(r)
	case KindMemory:
		imp.Memory = decodeLimits(r)
	case KindGlobal:
		imp.Global = decodeGlobalType(r)
	case KindTag:
		imp.TypeIndex = decodeTag(r)
	default:
		if r.err == nil {
			r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("unknown import kind %#x", byte(imp.Kind))}
		}
	}
	return imp
}

func decodeGlobal(r *reader) Global {
	return Global{GlobalType: decodeGlobalType(r), Init: decodeConstExpr(r)}
}

func decodeExport(r *reader) Export {
	e := Export{Name: r.name()}
	off := r.offset()
	e.Kind = ImportKind(r.byte())
	if e.Kind > KindTag && r.err == nil {
		r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("unknown export kind %#x", byte(e.Kind))}
	}
	e.Index = r.u32()
	return e
}

func decodeElement(r *reader) Element {
	start := r.pos
	off := r.offset()
	flags := r.u32()
	if flags > 7 {
		if r.err == nil {
			r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("unknown element segment flags %d", flags)}
		}
		return Element{}
	}
	// Bit 0: passive or declarative (no offset) unless bit 1 adds a
	// table index; bit 1: explicit table index (active) or declarative;
	// bit 2: elements are expressions rather than function indexes.
	active := flags&1 == 0
	if active && flags&2 != 0 {
		r.u32() // table index
	}
	if active {
		decodeConstExpr(r)
	}
	exprs := flags&4 != 0
	if flags&3 != 0 { // element kind or reference type follows
		if exprs {
			decodeValType(r)
		} else if kind := r.byte(); kind != 0 && r.err == nil {
			r.fail("element kind %#x is not funcref (0)", kind)
		}
	}
	if exprs {
		decodeVec(r, "element expressions", 2, decodeConstExpr)
	} else {
		decodeVec(r, "function indexes", 1, (*reader).u32)
	}
	return Element{Raw: r.b[start:r.pos]}
}

func decodeCode(r *reader) Code {
	size := r.u32()
	body := r.bytes(uint64(size))
	if r.err != nil {
		return Code{}
	}
	// Check the locals declaration, the part of a body whose framing is
	// independent of the instruction set.
	br := &reader{b: body, base: r.offset() - len(body), section: r.section}
	total := uint64(0)
	for _, n := range decodeVec(br, "local declarations", 2, func(br *reader) uint32 {
		n := br.u32()
		decodeValType(br)
		return n
	}) {
		total += uint64(n)
	}
	if br.err == nil && total > 50000 {
		// Engines refuse more locals than this; no valid body has them.
		br.fail("%d locals declared", total)
	}
	if br.err == nil && (len(body) == br.pos || body[len(body)-1] != 0x0b) {
		br.fail("function body does not end with the end opcode")
	}
	if br.err != nil {
		r.err = br.err
	}
	return Code{Body: body}
}

// decodeConstExpr reads a constant expression up to and including its end
// opcode and returns its bytes. It accepts the constant instructions of the
// core specification and the extended-constant, SIMD and reference-types
// proposals.
func decodeConstExpr(r *reader) []byte {
	start := r.pos
	for r.err == nil {
		off := r.offset()
		switch op := r.byte(); op {
		case 0x0b: // end
			return r.b[start:r.pos]
		case 0x41: // i32.const
			r.sleb(32)
		case 0x42: // i64.const
			r.sleb(64)
		case 0x43: // f32.const
			r.bytes(4)
		case 0x44: // f64.const
			r.bytes(8)
		case 0x23: // global.get
			r.u32()
		case 0xd0: // ref.null heaptype
			r.sleb(33)
		case 0xd2: // ref.func
			r.u32()
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // i32/i64 add, sub, mul
		case 0xfd: // SIMD prefix: only v128.const (12) is constant
			if sub := r.u32(); sub != 12 && r.err == nil {
				r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("SIMD opcode %d in a constant expression", sub)}
				return nil
			}
			r.bytes(16)
		default:
			if r.err == nil {
				r.err = &FormatError{Section: r.section, Offset: off, Msg: fmt.Sprintf("opcode %#x is not allowed in a constant expression", op)}
			}
			return nil
		}
	}
	return nil
}
