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
	OpI64Clz        = 0x79
	OpI64Ctz        = 0x7a
	OpI64Popcnt     = 0x7b
	OpI64Extend8S   = 0xc2
	OpI64Extend16S  = 0xc3
	OpI32Rotl       = 0x77
	OpI32Rotr       = 0x78
	OpI64Rotl       = 0x89
	OpI64Rotr       = 0x8a
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

// Else starts the else arm of the innermost if (IfThen or IfResult).
func (w *Writer) Else() { w.Op(OpElse) }

// ifResult opens an if whose arms leave a value of type t.
func (w *Writer) IfResult(t byte) { w.Op(OpIf); w.Byte(t); w.Depth++ }

func (w *Writer) End() { w.Op(OpEnd); w.Depth-- }

// brIf branches to the label n levels out when the i32 on the stack is
// not zero.
func (w *Writer) BrIf(n int) { w.Op(OpBrIf); w.U32(uint32(n)) }

// br branches to the label n levels out (0 is the innermost).
func (w *Writer) Br(n int) { w.Op(OpBr); w.U32(uint32(n)) }

// ValV128 is the 128-bit vector type (the SIMD instructions).
const ValV128 = 0x7b

// SIMD instructions: the 0xfd prefix, then these opcodes.
const (
	SimdLoad           = 0x00
	SimdStore          = 0x0b
	SimdConst          = 0x0c
	SimdShuffle        = 0x0d
	SimdI64x2Splat     = 0x12
	SimdI64x2Extract   = 0x1d
	SimdI64x2Replace   = 0x1e
	SimdI8x16Eq        = 0x23
	SimdI8x16GtS       = 0x27
	SimdI16x8Eq        = 0x2d
	SimdI16x8GtS       = 0x31
	SimdI32x4Eq        = 0x37
	SimdI32x4GtS       = 0x3b
	SimdAnd            = 0x4e
	SimdAndNot         = 0x4f
	SimdOr             = 0x50
	SimdXor            = 0x51
	SimdLoad64Zero     = 0x5d
	SimdI8x16Bitmask   = 0x64
	SimdI8x16NarrowS   = 0x65
	SimdI8x16NarrowU   = 0x66
	SimdI8x16Add       = 0x6e
	SimdI8x16AddSatS   = 0x6f
	SimdI8x16AddSatU   = 0x70
	SimdI8x16Sub       = 0x71
	SimdI8x16SubSatS   = 0x72
	SimdI8x16SubSatU   = 0x73
	SimdI8x16MinU      = 0x77
	SimdI8x16MaxU      = 0x79
	SimdI8x16AvgrU     = 0x7b
	SimdI16x8NarrowS   = 0x85
	SimdI16x8Shl       = 0x8b
	SimdI16x8ShrS      = 0x8c
	SimdI16x8ShrU      = 0x8d
	SimdI16x8Add       = 0x8e
	SimdI16x8AddSatS   = 0x8f
	SimdI16x8AddSatU   = 0x90
	SimdI16x8Sub       = 0x91
	SimdI16x8SubSatS   = 0x92
	SimdI16x8SubSatU   = 0x93
	SimdI16x8Mul       = 0x95
	SimdI16x8MinS      = 0x96
	SimdI16x8MaxS      = 0x98
	SimdI16x8AvgrU     = 0x9b
	SimdI32x4Shl       = 0xab
	SimdI32x4ShrS      = 0xac
	SimdI32x4ShrU      = 0xad
	SimdI32x4Add       = 0xae
	SimdI32x4Sub       = 0xb1
	SimdI32x4DotI16x8S = 0xba
	SimdI64x2Shl       = 0xcb
	SimdI64x2ShrS      = 0xcc
	SimdI64x2ShrU      = 0xcd
	SimdI64x2Add       = 0xce
	SimdI64x2Sub       = 0xd1
	SimdI64x2Eq        = 0xd6
)

// Simd writes a SIMD instruction without immediates.
func (w *Writer) Simd(op uint32) { w.Op(0xfd); w.U32(op) }

// SimdMem writes a SIMD load or store with alignment hint 2^align and a
// constant offset.
func (w *Writer) SimdMem(op, align, offset uint32) {
	w.Simd(op)
	w.U32(align)
	w.U32(offset)
}

// SimdLane writes a lane instruction (extract, replace) of lane i.
func (w *Writer) SimdLane(op uint32, i byte) {
	w.Simd(op)
	w.Byte(i)
}

// V128Const pushes the 16 bytes v.
func (w *Writer) V128Const(v [16]byte) {
	w.Simd(SimdConst)
	w.B = append(w.B, v[:]...)
}

// Shuffle writes i8x16.shuffle of the two vectors on the stack: result
// byte i is byte lanes[i] of their 32 bytes.
func (w *Writer) Shuffle(lanes [16]byte) {
	w.Simd(SimdShuffle)
	w.B = append(w.B, lanes[:]...)
}
