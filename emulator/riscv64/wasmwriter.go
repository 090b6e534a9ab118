package riscv64

import "encoding/binary"

// wasmWriter assembles a WebAssembly function body for the translator,
// tracking the nesting depth of structured control so that branches can
// name their targets by depth.
type wasmWriter struct {
	b     []byte
	depth int
}

// WebAssembly value types and opcodes used by the translator.
const (
	valI32 = 0x7f
	valI64 = 0x7e

	opUnreachable   = 0x00
	opBlock         = 0x02
	opLoop          = 0x03
	opIf            = 0x04
	opElse          = 0x05
	opEnd           = 0x0b
	opBr            = 0x0c
	opBrIf          = 0x0d
	opBrTable       = 0x0e
	opDrop          = 0x1a
	opLocalGet      = 0x20
	opLocalSet      = 0x21
	opLocalTee      = 0x22
	opI64Load       = 0x29
	opI64Load8S     = 0x30
	opI64Load8U     = 0x31
	opI64Load16S    = 0x32
	opI64Load16U    = 0x33
	opI64Load32S    = 0x34
	opI64Load32U    = 0x35
	opI64Store      = 0x37
	opI64Store8     = 0x3c
	opI64Store16    = 0x3d
	opI64Store32    = 0x3e
	opI32Const      = 0x41
	opI64Const      = 0x42
	opI64Eqz        = 0x50
	opI64Eq         = 0x51
	opI64Ne         = 0x52
	opI64LtS        = 0x53
	opI64LtU        = 0x54
	opI64LeS        = 0x57
	opI64GeS        = 0x59
	opI64GeU        = 0x5a
	opI32Add        = 0x6a
	opI32And        = 0x71
	opI32Shl        = 0x74
	opI32ShrU       = 0x76
	opI64Add        = 0x7c
	opI64Sub        = 0x7d
	opI64Mul        = 0x7e
	opI64DivS       = 0x7f
	opI64DivU       = 0x80
	opI64RemS       = 0x81
	opI64RemU       = 0x82
	opI64And        = 0x83
	opI64Or         = 0x84
	opI64Xor        = 0x85
	opI64Shl        = 0x86
	opI64ShrS       = 0x87
	opI64ShrU       = 0x88
	opI32WrapI64    = 0xa7
	opI64ExtendI32U = 0xad
	opI64ExtendI32S = 0xac
	opI32Eqz        = 0x45
	opI32Load8U     = 0x2d
	opI32ShrS       = 0x75
	opI64Extend32S  = 0xc4
	opCall          = 0x10
	opReturn        = 0x0f
	blockEmpty      = 0x40
)

func (w *wasmWriter) byte(b byte) { w.b = append(w.b, b) }
func (w *wasmWriter) op(b byte)   { w.b = append(w.b, b) }

func (w *wasmWriter) u32(v uint32) { w.b = binary.AppendUvarint(w.b, uint64(v)) }

func (w *wasmWriter) sleb(v int64) {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			w.b = append(w.b, c)
			return
		}
		w.b = append(w.b, c|0x80)
	}
}

func (w *wasmWriter) i32Const(v int32) { w.op(opI32Const); w.sleb(int64(v)) }
func (w *wasmWriter) i64Const(v int64) { w.op(opI64Const); w.sleb(v) }
func (w *wasmWriter) get(l uint32)     { w.op(opLocalGet); w.u32(l) }
func (w *wasmWriter) set(l uint32)     { w.op(opLocalSet); w.u32(l) }
func (w *wasmWriter) tee(l uint32)     { w.op(opLocalTee); w.u32(l) }

// mem writes a load or store with alignment hint 2^align and a constant
// offset.
func (w *wasmWriter) mem(op byte, align, offset uint32) {
	w.op(op)
	w.u32(align)
	w.u32(offset)
}

// getReg pushes guest register r (x0 reads as zero).
func (w *wasmWriter) getReg(r uint8) {
	if r == 0 {
		w.i64Const(0)
		return
	}
	w.get(regLocal(r))
}

// switchOn opens the structured form of an n-way switch: n nested blocks,
// then a br_table on the index pushIndex leaves on the stack (an index out
// of range traps). The caller closes the blocks one by one with end, each
// followed by the code of case 0, 1, ...: a branch to the label closed
// before case i's code runs case i.
func (w *wasmWriter) switchOn(n int, pushIndex func()) {
	for range n {
		w.block()
	}
	w.block() // an index no case has
	pushIndex()
	w.op(opBrTable)
	w.u32(uint32(n))
	for i := range n {
		w.u32(uint32(i + 1))
	}
	w.u32(0)
	w.end()
	w.op(opUnreachable)
}

func (w *wasmWriter) block()  { w.op(opBlock); w.byte(blockEmpty); w.depth++ }
func (w *wasmWriter) loop()   { w.op(opLoop); w.byte(blockEmpty); w.depth++ }
func (w *wasmWriter) ifThen() { w.op(opIf); w.byte(blockEmpty); w.depth++ }

// ifResult opens an if whose arms leave a value of type t.
func (w *wasmWriter) ifResult(t byte) { w.op(opIf); w.byte(t); w.depth++ }

func (w *wasmWriter) end() { w.op(opEnd); w.depth-- }

// brIf branches to the label n levels out when the i32 on the stack is
// not zero.
func (w *wasmWriter) brIf(n int) { w.op(opBrIf); w.u32(uint32(n)) }

// br branches to the label n levels out (0 is the innermost).
func (w *wasmWriter) br(n int) { w.op(opBr); w.u32(uint32(n)) }
