package embed

import (
	"errors"
	"testing"
)

func TestPlaceholderHasNoZeroByte(t *testing.T) {
	// The linker drops runs of zero bytes from data segments; the unfilled
	// table must be emitted whole so the converter can rewrite it.
	for _, w := range []uint64{Placeholder, Magic0, Magic1} {
		for i := 0; i < 8; i++ {
			if byte(w>>(8*i)) == 0 {
				t.Errorf("%#x has a zero byte", w)
			}
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	in := []Entry{{Name: "rootfs", Addr: 0x190000, Len: 100 << 20, CRC32C: 0xdeadbeef}, {Name: "config", Addr: 0x6590000, Len: 2, CRC32C: 1},
		{Name: "segment", Addr: 12, Len: 1 << 32, CRC32C: 0xffffffff, Passive: true}}
	table, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseTable(TableBytes(&table))
	if err != nil {
		t.Fatal(err)
	}
	out, state, err := Decode(parsed)
	if err != nil || state != Sealed || len(out) != 3 || out[0] != in[0] || out[1] != in[1] || out[2] != in[2] {
		t.Fatalf("Decode = %+v, %v, %v", out, state, err)
	}
	unfilled := UnfilledTable()
	if e, state, err := Decode(&unfilled); err != nil || state != Unfilled || e != nil {
		t.Fatalf("unfilled table: %+v, %v, %v", e, state, err)
	}
	// Any single changed word breaks the seal or the structure.
	for i := range table {
		bad := table
		bad[i] ^= 1 << (i % 64)
		if _, _, err := Decode(&bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("word %d changed: Decode error %v, want ErrCorrupt", i, err)
		}
	}
	// A resealed checksum word with a high bit other than the passive
	// one set is rejected.
	for _, bit := range []uint{33, 63} {
		bad := table
		bad[HeaderWords+SlotWords+SlotCRC32C] |= 1 << bit
		bad[WordSeal] = Seal(&bad)
		if _, _, err := Decode(&bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("checksum word bit %d set: Decode error %v, want ErrCorrupt", bit, err)
		}
	}
	// A resealed table with a hole between slots is still rejected.
	holed := table
	holed[HeaderWords+SlotName] = 0
	holed[WordSeal] = Seal(&holed)
	if _, _, err := Decode(&holed); !errors.Is(err, ErrCorrupt) {
		t.Errorf("hole before a used slot: %v", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	for name, entries := range map[string][]Entry{
		"empty name": {{Name: ""}},
		"long name":  {{Name: "ninechars"}},
		"upper case": {{Name: "RootFS"}},
		"duplicate":  {{Name: "a"}, {Name: "a"}},
		"overflow":   {{Name: "a", Addr: 1 << 63, Len: 1 << 63}},
		"too many":   {{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}, {Name: "e"}},
	} {
		if _, err := Encode(entries); err == nil {
			t.Errorf("%s: Encode accepted %+v", name, entries)
		}
	}
}
