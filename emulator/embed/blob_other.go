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

// Segment reads a passive blob; outside WebAssembly builds there are none.
type Segment struct{}

// OpenSegment reports that nothing is embedded.
func OpenSegment(name string) (*Segment, bool) { return nil, false }

// Size is 0: there is no blob.
func (*Segment) Size() int64 { return 0 }

// ReadAt fails: there is no blob.
func (*Segment) ReadAt(p []byte, off int64) error {
	return fmt.Errorf("embed: no passive blobs outside WebAssembly")
}
