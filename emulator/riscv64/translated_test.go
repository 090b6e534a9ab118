package riscv64

import (
	"errors"
	"reflect"
	"testing"
	"unsafe"
)

func TestTranslationIndexRoundTrip(t *testing.T) {
	pages := []TranslatedPage{
		{File: 7, Offset: 0, Unit: 0, Slots: []uint16{0, 2, 2047}},
		{File: 7, Offset: 3 * PageSize, Unit: 1, Slots: []uint16{5}},
		{File: 1 << 40, Offset: PageSize, Unit: MaxUnits - 1, Slots: []uint16{}},
	}
	ix, err := ParseTranslationIndex(EncodeTranslationIndex(pages))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != len(pages) {
		t.Fatalf("Len = %d, want %d", ix.Len(), len(pages))
	}
	for _, p := range pages {
		got := ix.Lookup(p.File, p.Offset)
		if got == nil || !reflect.DeepEqual(*got, p) {
			t.Errorf("Lookup(%d, %#x) = %+v, want %+v", p.File, p.Offset, got, p)
		}
	}
	if ix.Lookup(7, PageSize) != nil || ix.Lookup(8, 0) != nil {
		t.Error("Lookup found a page that is not in the index")
	}
	var none *TranslationIndex
	if none.Lookup(7, 0) != nil || none.Len() != 0 {
		t.Error("a nil index is not empty")
	}
}

func TestTranslationIndexRejectsMalformed(t *testing.T) {
	good := EncodeTranslationIndex([]TranslatedPage{{File: 1, Offset: PageSize, Unit: 3, Slots: []uint16{4, 6}}})
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := map[string][]byte{
		"empty":           nil,
		"bad magic":       edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"truncated page":  good[:len(good)-3],
		"trailing bytes":  append(append([]byte(nil), good...), 0),
		"unaligned page":  edit(func(b []byte) []byte { b[12+8] = 1; return b }),
		"unit too large":  edit(func(b []byte) []byte { b[12+16+2] = 1; return b }),
		"slot past page":  edit(func(b []byte) []byte { b[12+22] = 0x00; b[12+23] = 0x10; return b }),
		"count too large": edit(func(b []byte) []byte { b[8] = 2; return b }),
		"duplicate page": EncodeTranslationIndex([]TranslatedPage{
			{File: 1, Offset: 0, Unit: 0}, {File: 1, Offset: 0, Unit: 1}}),
	}
	for name, b := range cases {
		if _, err := ParseTranslationIndex(b); !errors.Is(err, ErrBadIndex) {
			t.Errorf("%s: err = %v, want ErrBadIndex", name, err)
		}
	}
}

// TestFrameLayout: translated code addresses Frame's words and the TLB
// entries by the exported offsets.
func TestFrameLayout(t *testing.T) {
	var f Frame
	var e tlbEntry
	got := []uintptr{unsafeOffsetof(&f, &f.X), unsafeOffsetof(&f, &f.RTLB), unsafeOffsetof(&f, &f.WTLB),
		unsafeOffsetof(&f, &f.Base), unsafeOffsetof(&f, &f.Left), unsafeOffsetof(&f, &f.PC)}
	want := []uintptr{FrameX, FrameRTLB, FrameWTLB, FrameBase, FrameLeft, FramePC}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Frame offsets %v, want %v", got, want)
	}
	if s := reflect.TypeOf(e).Size(); s != TLBEntrySize {
		t.Errorf("tlbEntry is %d bytes, want %d", s, TLBEntrySize)
	}
	if o := unsafeOffsetof(&e, &e.data); o != 8 {
		t.Errorf("tlbEntry.data at %d, want 8", o)
	}
	if o := unsafeOffsetof(&f, &f.Jumps); o != FrameJumps {
		t.Errorf("Frame.Jumps at %d, want %d", o, FrameJumps)
	}
	var j jumpEntry
	if s := reflect.TypeOf(j).Size(); s != JumpEntrySize {
		t.Errorf("jumpEntry is %d bytes, want %d", s, JumpEntrySize)
	}
	got = []uintptr{unsafeOffsetof(&j, &j.pc), unsafeOffsetof(&j, &j.entry), unsafeOffsetof(&j, &j.valid)}
	want = []uintptr{JumpEntryPC, JumpEntryEntry, JumpEntryCode}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jumpEntry offsets %v, want %v", got, want)
	}
}

func unsafeOffsetof[S, F any](s *S, f *F) uintptr {
	return uintptr(unsafe.Pointer(f)) - uintptr(unsafe.Pointer(s))
}
