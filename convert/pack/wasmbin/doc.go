// Package wasmbin reads and writes WebAssembly binary modules (the core
// specification's binary format, version 1) for the converter's packing
// step: it decodes and checks the structure of every standard section,
// edits memory limits, reads, searches and patches the module's initial
// memory image (its active data segments), appends data segments and
// writes the module back.
//
// Only what the converter edits is re-encoded: the memory, data and data
// count sections. Every other section, including custom sections and
// sections with identifiers this package does not know, is written back
// byte for byte where it was. Function bodies are checked for framing
// only; instruction-level validation is left to the host's validator.
//
// Hostile input: Parse checks every length and index against the bytes
// actually present, rejects unknown encodings with an error naming the
// section, the byte offset in the module and what is wrong (all such
// errors wrap ErrMalformed), and never panics. A parsed Module aliases the
// input; edits copy the bytes they change.
//
// It depends only on the standard library: no maintained Go rewriter of
// WebAssembly binaries exists, and the converter needs a small, auditable
// subset.
package wasmbin
