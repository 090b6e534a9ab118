package rootfs

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to Open and, when it accepts them, to every
// accessor (see exercise). Each input is tried as is and re-sealed with
// valid checksums, so mutations reach the structural checks rather than
// stopping at the first checksum. Seeds are the small golden images written
// by the converter (compact.img has every kind of record in 1 KB).
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"small.img", "compact.img"} {
		f.Add(goldenImage(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzImage(t, b)
		forged := bytes.Clone(b)
		reseal(forged)
		fuzzImage(t, forged)
	})
}

func fuzzImage(t *testing.T, b []byte) {
	im, err := openBoth(t, b)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open error %v is not ErrCorrupt", err)
		}
		return
	}
	exercise(t, im)
}
