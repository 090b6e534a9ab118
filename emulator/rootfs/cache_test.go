package rootfs_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"testing"

	writer "github.com/wasmrt/wasmrt/convert/rootfs"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// imageWithFile writes an image (64 KiB LZ4 chunks) holding /prog, chunks
// chunks of compressible text that differ from chunk to chunk.
func imageWithFile(t *testing.T, chunks int) ([]byte, []byte) {
	t.Helper()
	const chunkSize = 64 << 10
	var content bytes.Buffer
	for i := 0; i < chunks; i++ {
		for line := 0; content.Len() < (i+1)*chunkSize; line++ {
			fmt.Fprintf(&content, "chunk %d line %d\n", i, line)
		}
		content.Truncate((i + 1) * chunkSize)
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	if err := tw.WriteHeader(&tar.Header{Name: "prog", Mode: 0o755, Size: int64(content.Len()), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(content.Bytes())
	tw.Close()
	tree, err := writer.NewTree(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if err := tree.Apply(&layer, writer.ApplyOptions{MaxFileSize: 1 << 30, MaxTotalSize: 1 << 30, MaxEntries: 10}); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if err := writer.Write(&img, tree, writer.DefaultWriteOptions()); err != nil {
		t.Fatal(err)
	}
	return img.Bytes(), content.Bytes()
}

// readPages reads one 4 KiB page of each chunk of prog in the given order
// and checks it.
func readPages(t *testing.T, im *rootfs.Image, ino rootfs.Ino, want []byte, order []int) {
	t.Helper()
	buf := make([]byte, 4096)
	for _, c := range order {
		off := c<<16 + (c%16)*4096
		if _, err := im.ReadAt(ino, buf, int64(off)); err != nil || !bytes.Equal(buf, want[off:off+4096]) {
			t.Fatalf("chunk %d: read %v, content equal %v", c, err, bytes.Equal(buf, want[off:off+4096]))
		}
	}
}

// TestChunkCacheHoldsAProgram: pages of a 3 MiB program read in one order
// and then in others, as page faults of successive execs do, decode each
// chunk once; a file larger than the cache's budget is decoded again.
func TestChunkCacheHoldsAProgram(t *testing.T) {
	const chunks = 48 // 3 MiB
	img, want := imageWithFile(t, chunks)
	im, err := rootfs.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	ino, err := im.LookupPath("/prog")
	if err != nil {
		t.Fatal(err)
	}
	var forward, backward, strided []int
	for c := 0; c < chunks; c++ {
		forward = append(forward, c)
		backward = append(backward, chunks-1-c)
		strided = append(strided, c*7%chunks)
	}
	readPages(t, im, ino, want, forward)
	readPages(t, im, ino, want, backward)
	readPages(t, im, ino, want, strided)
	if n := im.Decodes(); n != chunks {
		t.Errorf("%d chunk decodes for a %d-chunk file read three times, want %d", n, chunks, chunks)
	}

	// Twice the budget, read twice in order: the second pass finds
	// nothing of the first.
	big := 2 * rootfs.CacheBytes >> 16
	img, want = imageWithFile(t, big)
	if im, err = rootfs.Open(img); err != nil {
		t.Fatal(err)
	}
	if ino, err = im.LookupPath("/prog"); err != nil {
		t.Fatal(err)
	}
	forward = forward[:0]
	for c := 0; c < big; c++ {
		forward = append(forward, c)
	}
	readPages(t, im, ino, want, forward)
	readPages(t, im, ino, want, forward)
	if n := im.Decodes(); n != uint64(2*big) {
		t.Errorf("%d chunk decodes for a %d-chunk file read twice, want %d (the cache is bounded)", n, big, 2*big)
	}
}
