package pack

import (
	"fmt"
	"testing"
)

// layouts names the two ways a blob can be packed.
var layouts = []struct {
	name    string
	passive bool
}{{"active", false}, {"passive", true}}

// BenchmarkEmbed100MB measures Embed alone: parse the Go module, locate
// the runtime, checksum and place a 100 MB blob (in memory, or in the
// passive segment, which also rewrites a function) and write the result.
func BenchmarkEmbed100MB(b *testing.B) {
	mod, _ := embedtestModule(b)
	blob := randomBlob(100<<20, 3)
	for _, l := range layouts {
		b.Run(l.name, func(b *testing.B) {
			b.SetBytes(int64(len(blob)))
			for b.Loop() {
				if _, err := Embed(mod, Blob{Name: "rootfs", Data: blob, Passive: l.passive}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStartupWazero measures start to exit of a packed module that
// only looks its blobs up ("embedtest list"), under wazero with a warm
// compilation cache, for several blob sizes and both layouts: host set-up
// (runtime, cache lookup, module decode), instantiation and the program's
// run.
func BenchmarkStartupWazero(b *testing.B) {
	mod, _ := embedtestModule(b)
	for _, l := range layouts {
		for _, size := range []int{0, 10 << 20, 100 << 20} {
			b.Run(fmt.Sprintf("%s/blob=%dMB", l.name, size>>20), func(b *testing.B) {
				out, err := Embed(mod, Blob{Name: "rootfs", Data: randomBlob(size, 4), Passive: l.passive})
				if err != nil {
					b.Fatal(err)
				}
				cache := b.TempDir()
				want := fmt.Sprintf("rootfs %d\n", size)
				if l.passive {
					want = fmt.Sprintf("rootfs %d passive\n", size)
				}
				if stdout, stderr, code := runWazero(b, cache, out, "list"); code != 0 || stdout != want {
					b.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
				}
				for b.Loop() {
					runWazero(b, cache, out, "list")
				}
			})
		}
	}
}
