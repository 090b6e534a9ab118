//go:build !wasm

package embed

import "testing"

func TestNoBlobsOutsideWasm(t *testing.T) {
	if b, ok := Blob("rootfs"); ok || b != nil || Names() != nil || Err() != nil || Verify("rootfs") == nil {
		t.Error("a native build reports embedded blobs")
	}
}
