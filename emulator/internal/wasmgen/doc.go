// Package wasmgen writes WebAssembly function bodies: the instruction
// encoding and structured control the guest-code translators
// (docs/translation.md) emit with.
package wasmgen
