// Command embedtest is the guest half of convert/pack's guard test: a
// GOOS=wasip1 program that reads the blobs convert/pack embedded, stresses
// the Go heap and garbage collector, and prints what it found, so the test
// can check that the heap never overlaps the blobs.
//
//	embedtest list            print each blob's name and length
//	embedtest stress NAME...  allocate and collect heavily, check that no
//	                          heap object lies inside an active blob and
//	                          that passive blobs read the same before and
//	                          after, check each blob's CRC-32C, then print
//	                          "NAME SHA256"
//
// It exits with status 1 and a message on stderr when a blob is missing,
// the embed table is corrupt, or a heap object overlaps a blob.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"unsafe"

	"github.com/wasmrt/wasmrt/emulator/embed"
)

func main() { os.Exit(doMain(os.Args[1:], os.Stdout, os.Stderr)) }

func doMain(args []string, stdout, stderr io.Writer) int {
	if err := embed.Err(); err != nil {
		fmt.Fprintln(stderr, "embedtest:", err)
		return 1
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: embedtest list | stress NAME...")
		return 2
	}
	switch args[0] {
	case "list":
		for _, name := range embed.Names() {
			if s, ok := embed.OpenSegment(name); ok {
				fmt.Fprintf(stdout, "%s %d passive\n", name, s.Size())
				continue
			}
			b, _ := embed.Blob(name)
			fmt.Fprintf(stdout, "%s %d\n", name, len(b))
		}
		return 0
	case "stress":
		return stress(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "embedtest: unknown command %q\n", args[0])
	return 2
}

type span struct{ lo, hi uintptr }

func stress(names []string, stdout, stderr io.Writer) int {
	var blobs []span
	before := map[string][32]byte{}
	for _, name := range names {
		if s, ok := embed.OpenSegment(name); ok {
			sum, err := segmentSum(s)
			if err != nil {
				fmt.Fprintln(stderr, "embedtest:", err)
				return 1
			}
			before[name] = sum
			continue
		}
		b, ok := embed.Blob(name)
		if !ok {
			fmt.Fprintf(stderr, "embedtest: no blob named %q (have %q)\n", name, embed.Names())
			return 1
		}
		if len(b) > 0 {
			lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
			blobs = append(blobs, span{lo, lo + uintptr(len(b))})
		}
	}
	overlaps := func(p unsafe.Pointer, n int) bool {
		a := uintptr(p)
		for _, s := range blobs {
			if a < s.hi && s.lo < a+uintptr(n) {
				fmt.Fprintf(stderr, "embedtest: heap object %#x+%d overlaps a blob at %#x-%#x\n", a, n, s.lo, s.hi)
				return true
			}
		}
		return false
	}

	// Long-lived data: 96 MiB in 1 MiB chunks plus a map of 200,000
	// small objects, all written so that any overlap with a blob would
	// change its bytes, kept alive across every collection below.
	var keep [][]byte
	for i := 0; i < 96; i++ {
		c := make([]byte, 1<<20)
		for j := range c {
			c[j] = byte(i + j)
		}
		if overlaps(unsafe.Pointer(&c[0]), len(c)) {
			return 1
		}
		keep = append(keep, c)
	}
	index := make(map[int]*[4]int64, 200000)
	for i := 0; i < 200000; i++ {
		v := &[4]int64{int64(i), -1, -1, int64(i)}
		index[i] = v
	}
	// Short-lived garbage: 384 MiB in allocations from 16 KiB to 4 MiB,
	// with a collection forced every 64 MiB.
	allocated := 0
	for i := 0; allocated < 384<<20; i++ {
		n := 16 << 10 << (i % 9)
		g := make([]byte, n)
		for j := 0; j < n; j += 4096 {
			g[j] = 0xff
		}
		if overlaps(unsafe.Pointer(&g[0]), n) {
			return 1
		}
		allocated += n
		if allocated/(64<<20) != (allocated-n)/(64<<20) {
			runtime.GC()
		}
	}
	runtime.GC()
	runtime.GC()
	for i, c := range keep {
		for j, v := range c {
			if v != byte(i+j) {
				fmt.Fprintf(stderr, "embedtest: long-lived chunk %d changed at byte %d\n", i, j)
				return 1
			}
		}
	}
	for i, v := range index {
		if v[0] != int64(i) || v[3] != int64(i) {
			fmt.Fprintf(stderr, "embedtest: map entry %d changed\n", i)
			return 1
		}
	}
	for _, name := range names {
		if err := embed.Verify(name); err != nil {
			fmt.Fprintln(stderr, "embedtest:", err)
			return 1
		}
		var sum [32]byte
		if s, ok := embed.OpenSegment(name); ok {
			var err error
			if sum, err = segmentSum(s); err != nil {
				fmt.Fprintln(stderr, "embedtest:", err)
				return 1
			}
			if sum != before[name] {
				fmt.Fprintf(stderr, "embedtest: passive blob %q read differently after the collections\n", name)
				return 1
			}
		} else {
			b, _ := embed.Blob(name)
			sum = sha256.Sum256(b)
		}
		fmt.Fprintf(stdout, "%s %s\n", name, hex.EncodeToString(sum[:]))
	}
	return 0
}

// segmentSum hashes a passive blob read in pieces of varying sizes, so
// that reads start and end at unaligned offsets.
func segmentSum(s *embed.Segment) ([32]byte, error) {
	h := sha256.New()
	buf := make([]byte, 3<<20)
	for off, i := int64(0), 0; off < s.Size(); i++ {
		n := min(int64(1+(i*7919)%len(buf)), s.Size()-off)
		if err := s.ReadAt(buf[:n], off); err != nil {
			return [32]byte{}, err
		}
		h.Write(buf[:n])
		off += n
	}
	// Reads past the end must fail without touching the buffer.
	if err := s.ReadAt(buf[:1], s.Size()); err == nil {
		return [32]byte{}, fmt.Errorf("a read past the end of a %d-byte passive blob succeeded", s.Size())
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}
