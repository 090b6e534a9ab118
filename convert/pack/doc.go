// Package pack embeds byte blobs (the rootfs image, the image config) in a
// Go GOOS=wasip1 program that links emulator/embed, producing one
// self-contained module without a Go toolchain.
//
// # The recipe
//
// The Go runtime on WebAssembly starts its heap at runtime.end, read from
// runtime.firstmoduledata.end (runtime/mem_sbrk.go initBloc; sbrk then
// grows memory above it). Embed appends one active data segment per blob
// starting at the first 64 KiB page boundary at or above runtime.end,
// rewrites firstmoduledata.end to the page boundary after the last blob,
// raises the memory minimum to cover the blobs plus HeapHeadroom (room for
// the Go heap to grow without reallocating memory in hosts that copy it to
// grow), and fills in the embed table that
// emulator/embed declares. The blobs then lie above the data and bss
// sections, whose bounds the garbage collector's root scan uses, and below
// the heap, so the collector neither scans nor reuses them, and the program
// reads them in place.
//
// A blob marked Passive is instead appended to one passive data segment,
// which hosts keep with the module's bytes and copy nothing from when they
// instantiate it. Embed redirects the call inside emulator/embed's
// segmentRead wrapper (found by name in the name section) to a function it
// adds, which runs memory.init on that segment, so the program copies the
// pieces it reads. Start-up and resident memory then stay independent of
// the blob's size, in exchange for a copy on every read.
//
// # Finding the runtime
//
// The module carries no symbol table for data, so Embed finds
// firstmoduledata by its contents: the pclntab header (pcHeader, magic
// 0xfffffff1, minLC 1, pointer size 8) and a structure whose first word
// points at it. Every field the recipe relies on is cross-checked before
// anything is written: the six pclntab slices match the header's offsets,
// the data bounds are ordered noptrdata ≤ data ≤ bss ≤ noptrbss ≤ end, the
// structure lies in its own section between the pclntab and noptrdata (as
// Go 1.26's linker places it), runtime.lastmoduledatap points at it, no
// data segment reaches past end, and exactly one candidate qualifies. The
// Go release is read from the producers section and must be
// ValidatedGoRelease. A module from another release, or whose layout
// differs, is refused with ErrUnsupportedGo rather than being corrupted.
//
// Validated against Go 1.26.8 (the release go.mod names). The guard test
// TestGuardEmbedLargeBlob builds internal/embedtest with the toolchain,
// embeds more than 50 MB, active and passive, and checks the blob's hash
// after heavy allocation and forced collections under wazero and Node; TestGoReleasePinned fails
// when the toolchain is upgraded. Rerun both after any Go upgrade.
//
// Cost: Embed copies the module once and checksums each blob (CRC-32C);
// the WebAssembly rewriting is convert/pack/wasmbin.
package pack
