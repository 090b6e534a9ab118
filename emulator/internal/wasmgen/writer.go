package wasmgen

import "encoding/binary"

// Writer assembles a WebAssembly function body, tracking the nesting
// depth of structured control so that branches can name their targets by
// depth.
type Writer struct {
	// B is the body written so far.
	B []byte
	// Depth is the number of open blocks, loops and ifs.
	Depth int
}

// WebAssembly value types and opcodes used by the translators.
const (
	ValI32 = 0x7f
	ValI64 = 0x7e

	OpUnreachable   = 0x00
	OpBlock         = 0x02
	OpLoop          = 0x03
	OpIf            = 0x04
	OpElse          = 0x05
	OpEnd           = 0x0b
	OpBr            = 0x0c
	OpBrIf          = 0x0d
	OpBrTable       = 0x0e
	OpDrop          = 0x1a
	OpLocalGet      = 0x20
	OpLocalSet      = 0x21
	OpLocalTee      = 0x22
	OpI64Load       = 0x29
	OpI64Load8S     = 0x30
	OpI64Load8U     = 0x31
	OpI64Load16S    = 0x32
	OpI64Load16U    = 0x33
	OpI64Load32S    = 0x34
	OpI64Load32U    = 0x35
	OpI64Store      = 0x37
	OpI64Store8     = 0x3c
	OpI64Store16    = 0x3d
	OpI64Store32    = 0x3e
	OpI32Const      = 0x41
	OpI64Const      = 0x42
	OpI64Eqz        = 0x50
	OpI64Eq         = 0x51
	OpI64Ne         = 0x52
	OpI64LtS        = 0x53
	OpI64LtU        = 0x54
	OpI64LeS        = 0x57
	OpI64GeS        = 0x59
	OpI64GeU        = 0x5a
	OpI32Add        = 0x6a
	OpI32And        = 0x71
	OpI32Shl        = 0x74
	OpI32ShrU       = 0x76
	OpI64Add        = 0x7c
	OpI64Sub        = 0x7d
	OpI64Mul        = 0x7e
	OpI64DivS       = 0x7f
	OpI64DivU       = 0x80
	OpI64RemS       = 0x81
	OpI64RemU       = 0x82
	OpI64And        = 0x83
	OpI64Or         = 0x84
	OpI64Xor        = 0x85
	OpI64Shl        = 0x86
	OpI64ShrS       = 0x87
	OpI64ShrU       = 0x88
	OpI32WrapI64    = 0xa7
	OpI64ExtendI32U = 0xad
	OpI64ExtendI32S = 0xac
	OpI32Eqz        = 0x45
	OpI32Load8U     = 0x2d
	OpI32ShrS       = 0x75
	OpI64Extend32S  = 0xc4
	OpCall          = 0x10
	OpReturn        = 0x0f
	BlockEmpty      = 0x40
	OpSelect        = 0x1b
	OpI32Load       = 0x28
	OpI32Store      = 0x36
	OpI32Store16    = 0x3b
	OpI32Eq         = 0x46
	OpI32Ne         = 0x47
	OpI64GtS        = 0x55
	OpI64GtU        = 0x56
	OpI64LeU        = 0x58
	OpI32Or         = 0x72
	OpI32Xor        = 0x73
	OpI64Popcnt     = 0x7b
	OpI64Extend8S   = 0xc2
	OpI64Extend16S  = 0xc3
)

func (w *Writer) Byte(b byte) { w.B = append(w.B, b) }
func (w *Writer) Op(b byte)   { w.B = append(w.B, b) }

func (w *Writer) U32(v uint32) { w.B = binary.AppendUvarint(w.B, uint64(v)) }

func (w *Writer) Sleb(v int64) {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			w.B = append(w.B, c)
			return
		}
		w.B = append(w.B, c|0x80)
	}
}

func (w *Writer) I32Const(v int32) { w.Op(OpI32Const); w.Sleb(int64(v)) }
func (w *Writer) I64Const(v int64) { w.Op(OpI64Const); w.Sleb(v) }
func (w *Writer) Get(l uint32)     { w.Op(OpLocalGet); w.U32(l) }
func (w *Writer) Set(l uint32)     { w.Op(OpLocalSet); w.U32(l) }
func (w *Writer) Tee(l uint32)     { w.Op(OpLocalTee); w.U32(l) }

// mem writes a load or store with alignment hint 2^align and a constant
// offset.
func (w *Writer) Mem(op byte, align, offset uint32) {
	w.Op(op)
	w.U32(align)
	w.U32(offset)
}

// switchOn opens the structured form of an n-way switch: n nested blocks,
// then a br_table on the index pushIndex leaves on the stack (an index out
// of range traps). The caller closes the blocks one by one with end, each
// followed by the code of case 0, 1, ...: a branch to the label closed
// before case i's code runs case i.
func (w *Writer) SwitchOn(n int, pushIndex func()) {
	for range n {
		w.Block()
	}
	w.Block() // an index no case has
	pushIndex()
	w.Op(OpBrTable)
	w.U32(uint32(n))
	for i := range n {
		w.U32(uint32(i + 1))
	}
	w.U32(0)
	w.End()
	w.Op(OpUnreachable)
}

func (w *Writer) Block()  { w.Op(OpBlock); w.Byte(BlockEmpty); w.Depth++ }
func (w *Writer) Loop()   { w.Op(OpLoop); w.Byte(BlockEmpty); w.Depth++ }
func (w *Writer) IfThen() { w.Op(OpIf); w.Byte(BlockEmpty); w.Depth++ }

// ifResult opens an if whose arms leave a value of type t.
func (w *Writer) IfResult(t byte) { w.Op(OpIf); w.Byte(t); w.Depth++ }

func (w *Writer) End() { w.Op(OpEnd); w.Depth-- }

// brIf branches to the label n levels out when the i32 on the stack is
// not zero.
func (w *Writer) BrIf(n int) { w.Op(OpBrIf); w.U32(uint32(n)) }

// br branches to the label n levels out (0 is the innermost).
func (w *Writer) Br(n int) { w.Op(OpBr); w.U32(uint32(n)) }
