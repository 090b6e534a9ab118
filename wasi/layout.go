package wasi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// pageSize is the WebAssembly page size.
const pageSize = 65536

// checkSections walks the section headers (not their contents: wazero
// validates those) of a binary module, so that a wrong version or a
// truncated module is reported as such rather than as a decoding error.
func checkSections(b []byte) error {
	if len(b) < 8 {
		return errors.New("truncated module header")
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != 1 {
		return fmt.Errorf("binary format version %d; only version 1 (WebAssembly core 1.0/2.0) is supported", v)
	}
	for pos := 8; pos < len(b); {
		id := b[pos]
		size, n := binary.Uvarint(b[pos+1:])
		if n <= 0 || size > uint64(len(b)-pos-1-n) {
			return fmt.Errorf("section %d at offset %d: size runs past the end of the module", id, pos)
		}
		pos += 1 + n + int(size)
	}
	return nil
}
