package linux

import (
	"testing"

	"github.com/wasmrt/wasmrt/emulator/linux/arch"
)

// TestFrameCacheIsBounded: past frameCacheSize pages the oldest entry
// leaves, its frame released (the address spaces mapping it keep it); a
// page asked for again while cached gets the same entry.
func TestFrameCacheIsBounded(t *testing.T) {
	var c frameCache
	mem := arch.NewMemory()
	oldest := c.slot(frameKey{1, 0})
	if _, err := mem.MapPrivateFrame(0x10000, oldest, arch.PermRead, func(*[arch.PageSize]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < frameCacheSize; i++ {
		c.slot(frameKey{2, uint64(i) * pageSize})
	}
	if *oldest == nil || c.slot(frameKey{1, 0}) != oldest {
		t.Fatal("a full cache lost its oldest entry before a new one came")
	}
	newest := c.slot(frameKey{3, 0})
	if *oldest != nil {
		t.Error("the oldest entry was not released when the cache was full")
	}
	if len(c.slots) != frameCacheSize || c.slot(frameKey{3, 0}) != newest {
		t.Errorf("%d entries (want %d), newest entry found again: %v", len(c.slots), frameCacheSize, c.slot(frameKey{3, 0}) == newest)
	}
	if _, ok := mem.Mapping(0x10000); !ok {
		t.Error("the address space lost the released frame")
	}
}
