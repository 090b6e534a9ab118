package wasi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// pageSize is the WebAssembly page size.
const pageSize = 65536

// layout is what the host reads from a module's section headers before
// compiling it.
type layout struct {
	codeSize uint64
}

// readLayout walks the section headers (not their contents: wazero
// validates those) of a binary module.
func readLayout(b []byte) (layout, error) {
	var l layout
	if len(b) < 8 {
		return l, errors.New("truncated module header")
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != 1 {
		return l, fmt.Errorf("binary format version %d; only version 1 (WebAssembly core 1.0/2.0) is supported", v)
	}
	for pos := 8; pos < len(b); {
		id := b[pos]
		size, n := binary.Uvarint(b[pos+1:])
		if n <= 0 || size > uint64(len(b)-pos-1-n) {
			return l, fmt.Errorf("section %d at offset %d: size runs past the end of the module", id, pos)
		}
		if id == 10 {
			l.codeSize = size
		}
		pos += 1 + n + int(size)
	}
	return l, nil
}
