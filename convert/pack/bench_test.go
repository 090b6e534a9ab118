package pack

import (
	"fmt"
	"testing"
)

// BenchmarkEmbed100MB measures Embed alone: parse the Go module, locate
// the runtime, checksum and place a 100 MB blob and write the result.
func BenchmarkEmbed100MB(b *testing.B) {
	mod, _ := embedtestModule(b)
	blob := randomBlob(100<<20, 3)
	b.SetBytes(int64(len(blob)))
	for b.Loop() {
		if _, err := Embed(mod, Blob{Name: "rootfs", Data: blob}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartupWazero measures start to exit of a packed module that
// only looks its blobs up ("embedtest list"), under wazero with a warm
// compilation cache, for several blob sizes: host set-up (runtime, cache
// lookup, module decode), instantiation and the program's run.
func BenchmarkStartupWazero(b *testing.B) {
	mod, _ := embedtestModule(b)
	for _, size := range []int{0, 10 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("blob=%dMB", size>>20), func(b *testing.B) {
			out, err := Embed(mod, Blob{Name: "rootfs", Data: randomBlob(size, 4)})
			if err != nil {
				b.Fatal(err)
			}
			cache := b.TempDir()
			want := fmt.Sprintf("rootfs %d\n", size)
			if stdout, stderr, code := runWazero(b, cache, out, "list"); code != 0 || stdout != want {
				b.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			for b.Loop() {
				runWazero(b, cache, out, "list")
			}
		})
	}
}
