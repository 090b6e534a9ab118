// Package embed gives a WebAssembly program built from this repository
// zero-copy access to byte blobs that the converter (convert/pack) appends to
// the finished module, without a Go toolchain at conversion time.
//
// # Contract between the program and the converter
//
// The package owns one statically initialised variable, the embed table: a
// [TableWords]uint64 array in the program's data section. Before packing it
// holds the 16-byte magic (Magic0, Magic1), the header word (Header: format
// Version in the low 32 bits, MaxBlobs in the high 32 bits) and Placeholder
// in every other word. Placeholder has no zero byte, so the Go linker, which
// leaves runs of zero bytes out of its data segments, emits the whole table
// as initialised bytes that the converter can find by the magic and rewrite
// in place.
//
// The converter places each blob in its own active data segment starting on
// a 64 KiB WebAssembly page boundary past the Go image (past runtime.end),
// moves the Go runtime's heap start over the blobs, and then rewrites the
// table: one slot per blob (name, linear-memory address, length, CRC-32C of
// the contents), zero words in unused slots, and the seal word (WordSeal)
// set to Seal of the table. A table whose seal matches is "sealed"; one that
// still carries the placeholders is "unfilled"; anything else is corrupt.
// Encode and Decode implement both directions so that the converter and the
// program agree by construction.
//
// # Passive blobs
//
// A blob may instead stay in the module's passive blob segment, a passive
// data segment the converter appends: the host keeps it with the module's
// bytes and copies nothing into linear memory when it instantiates the
// module, so start-up and resident memory do not grow with the blob. Its
// slot has bit 32 of the checksum word set and Addr is its offset in that
// segment. Segment reads such a blob piece by piece: the package declares
// segmentRead as a WASI import with the signature (i32, i32, i32) → i32 of
// fd_prestat_dir_name, so that a module nobody packed still links against
// every host, and the converter redirects the one call in the import's
// wrapper to a function it adds, which copies from the segment with
// memory.init. The wrapper is found by its name in the module's name
// section (SegmentReadFunc), so the module must keep that section.
//
// # Reading blobs
//
// Blob returns a slice that aliases linear memory: no copy, no allocation
// proportional to the blob, and no work at start-up beyond validating the
// 160-byte table. The memory lies outside every range the garbage collector
// scans or manages (it is below the heap and above the data and bss
// sections), so holding the slice costs nothing and the bytes never move.
// Callers must treat the bytes as read-only. Verify checks a blob's
// CRC-32C on demand; it reads every byte, so call it only when that cost is
// acceptable.
//
// In builds for anything other than GOARCH=wasm there is no table and Blob
// reports that nothing is embedded.
package embed
