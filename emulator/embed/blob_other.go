//go:build !wasm

package embed

import "fmt"

// Blob reports that nothing is embedded: only WebAssembly builds carry an
// embed table.
func Blob(name string) ([]byte, bool) { return nil, false }

// Names returns no names outside WebAssembly builds.
func Names() []string { return nil }

// Err returns nil outside WebAssembly builds: there is no table to be wrong.
func Err() error { return nil }

// Verify fails outside WebAssembly builds: nothing is embedded.
func Verify(name string) error { return fmt.Errorf("embed: no blob named %q", name) }
