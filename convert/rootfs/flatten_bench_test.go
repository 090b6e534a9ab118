package rootfs

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/wasmrt/wasmrt/convert/layer"
)

// benchImage is a generated multi-layer image: each layer's tar and its
// gzip and zstd blobs.
type benchImage struct {
	tars, gzips, zstds [][]byte
	uncompressed       int64
}

var (
	benchImageOnce sync.Once
	benchImageData benchImage
)

// flattenBenchImage returns a 128 MB image of four layers shaped like a
// distribution image: mostly small files, some medium and a few large ones,
// text and machine-code-like content (gzip and zstd halve it), upper layers
// that replace and white out lower files. It is built once per process.
func flattenBenchImage(b *testing.B) *benchImage {
	benchImageOnce.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		words := make([]string, 2000)
		for i := range words {
			n := 2 + rng.IntN(9)
			w := make([]byte, n)
			for j := range w {
				w[j] = byte('a' + rng.IntN(26))
			}
			words[i] = string(w)
		}
		layerSizes := []int64{60 << 20, 30 << 20, 20 << 20, 10 << 20}
		var written []string
		for li, size := range layerSizes {
			var entries []tarEntry
			dirs := map[string]bool{}
			var total int64
			for n := 0; total < size; n++ {
				name := fmt.Sprintf("usr/lib/pkg%03d/sub%d/file%05d-%d", rng.IntN(200), rng.IntN(4), n, li)
				if li > 0 && rng.IntN(10) == 0 && len(written) > 0 {
					name = written[rng.IntN(len(written))] // replace a lower file
				}
				if li > 0 && rng.IntN(20) == 0 && len(written) > 0 {
					victim := written[rng.IntN(len(written))]
					slash := strings.LastIndexByte(victim, '/')
					entries = append(entries, tarWhiteout(victim[:slash+1]+whiteoutPrefix+victim[slash+1:]))
				}
				for d := name; ; {
					slash := strings.LastIndexByte(d, '/')
					if slash < 0 {
						break
					}
					d = d[:slash]
					if dirs[d] {
						break
					}
					dirs[d] = true
					entries = append(entries, tarDir(d))
				}
				body := benchContent(rng, words)
				entries = append(entries, tarReg(name, string(body)))
				written = append(written, name)
				total += int64(len(body))
			}
			tarBytes := buildTar(b, entries...)
			benchImageData.tars = append(benchImageData.tars, tarBytes)
			benchImageData.gzips = append(benchImageData.gzips, benchCompress(b, tarBytes, "gzip"))
			benchImageData.zstds = append(benchImageData.zstds, benchCompress(b, tarBytes, "zstd"))
			benchImageData.uncompressed += int64(len(tarBytes))
		}
	})
	return &benchImageData
}

// benchContent returns one file's content: size drawn from a long-tailed
// distribution, half text-like, most of the rest machine-code-like, a few
// incompressible.
func benchContent(rng *rand.Rand, words []string) []byte {
	var size int
	switch r := rng.IntN(100); {
	case r < 70:
		size = 512 + rng.IntN(16<<10)
	case r < 97:
		size = 16<<10 + rng.IntN(496<<10)
	default:
		size = 1<<20 + rng.IntN(7<<20)
	}
	buf := make([]byte, 0, size+16)
	switch r := rng.IntN(100); {
	case r < 50:
		for len(buf) < size {
			buf = append(buf, words[rng.IntN(len(words))]...)
			if rng.IntN(12) == 0 {
				buf = append(buf, '\n')
			} else {
				buf = append(buf, ' ')
			}
		}
	case r < 92:
		// Instruction-like words: often a repeat of a recent one, otherwise
		// random with mostly small immediates.
		var recent [64]uint32
		for len(buf) < size {
			var w uint32
			if rng.IntN(2) == 0 {
				w = recent[rng.IntN(len(recent))]
			} else {
				w = rng.Uint32() & 0x00ff_ffff
				recent[rng.IntN(len(recent))] = w
			}
			buf = append(buf, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
		}
	default:
		for len(buf) < size {
			w := rng.Uint64()
			buf = append(buf, byte(w), byte(w>>8), byte(w>>16), byte(w>>24), byte(w>>32), byte(w>>40), byte(w>>48), byte(w>>56))
		}
	}
	return buf[:size]
}

func benchCompress(b *testing.B, data []byte, format string) []byte {
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch format {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zstd":
		w, err = zstd.NewWriter(&buf)
	}
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchDescriptors returns the matching descriptors of the image's blobs.
func benchDescriptors(img *benchImage, blobs [][]byte) []layer.Descriptor {
	descs := make([]layer.Descriptor, len(blobs))
	for i, blob := range blobs {
		descs[i] = layer.Descriptor{Digest: sha256Of(blob), DiffID: sha256Of(img.tars[i]), Size: int64(len(blob))}
	}
	return descs
}

// BenchmarkFlatten measures flattening the generated image through the real
// pipeline (layer.Decode with digest and diffID checks, then Tree.Apply),
// in MB/s of uncompressed tar. The decode-only and apply-only variants split
// the cost between decompression plus hashing and tar parsing plus storing.
func BenchmarkFlatten(b *testing.B) {
	img := flattenBenchImage(b)
	var compressed [3]int64
	for i := range img.tars {
		compressed[0] += int64(len(img.tars[i]))
		compressed[1] += int64(len(img.gzips[i]))
		compressed[2] += int64(len(img.zstds[i]))
	}
	b.Logf("image: %d layers, %.1f MB uncompressed, gzip %.1f MB, zstd %.1f MB",
		len(img.tars), float64(compressed[0])/1e6, float64(compressed[1])/1e6, float64(compressed[2])/1e6)

	for _, variant := range []struct {
		name  string
		blobs [][]byte
	}{{"gzip", img.gzips}, {"zstd", img.zstds}, {"uncompressed", img.tars}} {
		b.Run(variant.name, func(b *testing.B) {
			spill := b.TempDir()
			descs := benchDescriptors(img, variant.blobs)
			b.SetBytes(img.uncompressed)
			for b.Loop() {
				tree, err := NewTree(spill)
				if err != nil {
					b.Fatal(err)
				}
				for i, blob := range variant.blobs {
					if err := tree.ApplyLayer(bytes.NewReader(blob), descs[i], layer.Options{}, ApplyOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				tree.Close()
			}
		})
	}
	b.Run("decode-only/gzip", func(b *testing.B) {
		descs := benchDescriptors(img, img.gzips)
		b.SetBytes(img.uncompressed)
		for b.Loop() {
			for i, blob := range img.gzips {
				r, err := layer.Decode(bytes.NewReader(blob), descs[i], layer.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("apply-only", func(b *testing.B) {
		spill := b.TempDir()
		b.SetBytes(img.uncompressed)
		for b.Loop() {
			tree, err := NewTree(spill)
			if err != nil {
				b.Fatal(err)
			}
			for _, tarBytes := range img.tars {
				if err := tree.Apply(bytes.NewReader(tarBytes), ApplyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			tree.Close()
		}
	})
}
