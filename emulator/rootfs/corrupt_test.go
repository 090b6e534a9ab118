package rootfs

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// reseal recomputes the metadata checksums and the superblock checksum of a
// modified image, so the modification reaches the structural validation
// instead of stopping at a checksum. Section ranges that are out of bounds
// are left alone (Open rejects them anyway).
func reseal(b []byte) {
	if len(b) < SuperblockSize {
		return
	}
	sbb := b[len(b)-SuperblockSize:]
	sb := getSuperblock(sbb)
	for i := SectionInodes; i < NumSections; i++ {
		s := sb.Sections[i]
		if s.Offset <= uint64(len(b)) && s.Size <= uint64(len(b))-s.Offset {
			sb.Sections[i].CRC = Checksum(b[s.Offset : s.Offset+s.Size])
		}
	}
	var magic [8]byte
	copy(magic[:], sbb)
	sb.Put(sbb)
	copy(sbb, magic[:]) // keep a damaged magic damaged; it is not checksummed
}

// posTB names the modification in failure messages of shared checks.
type posTB struct {
	testing.TB
	what string
}

func (p posTB) Fatalf(format string, args ...any) {
	p.TB.Helper()
	p.TB.Fatalf("%s: "+format, append([]any{p.what}, args...)...)
}

// TestCorruptionNeverYieldsWrongData flips bits at every byte of the golden
// images. Open must fail with ErrCorrupt, or every answer must equal the
// undamaged image's, except reads of damaged chunks, which must fail with
// ErrCorrupt. After re-sealing the checksums (a deliberately forged image)
// Open and every accessor must still return errors or self-consistent
// answers, never panic or loop.
func TestCorruptionNeverYieldsWrongData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		masks []byte
		// stride > 1 samples the data section (its bytes only matter to
		// chunk checksums) while still covering all metadata.
		dataStride int
	}{
		{"small.img", []byte{0x01, 0x80, 0xff}, 1},
		{"compact.img", []byte{0x01, 0x80, 0xff}, 1},
		{"mixed.img", []byte{0x01, 0x80}, 7},
		{"lz4.img", []byte{0x01, 0x80}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := goldenImage(t, tc.name)
			base := exercise(t, mustOpen(t, orig))
			sb := getSuperblock(orig[len(orig)-SuperblockSize:])
			dataEnd := int(sb.Sections[SectionData].Offset + sb.Sections[SectionData].Size)
			img := make([]byte, len(orig))
			opened, damagedReads, forgedOpened := 0, 0, 0
			for pos := range orig {
				if pos >= PreambleSize && pos < dataEnd && pos%tc.dataStride != 0 {
					continue
				}
				for mi, mask := range tc.masks {
					copy(img, orig)
					img[pos] ^= mask
					tb := posTB{t, fmt.Sprintf("byte %d ^ %#02x", pos, mask)}
					if im, err := openBoth(tb, img); err != nil {
						if !errors.Is(err, ErrCorrupt) {
							tb.Fatalf("Open error %v is not ErrCorrupt", err)
						}
					} else {
						opened++
						damagedReads += compareViews(tb, base, exercise(tb, im))
					}
					if mi > 0 {
						continue // one forged variant per byte is enough
					}
					reseal(img)
					if im, err := openBoth(tb, img); err == nil {
						forgedOpened++
						exercise(tb, im)
					} else if !errors.Is(err, ErrCorrupt) {
						tb.Fatalf("Open of a forged image: error %v is not ErrCorrupt", err)
					}
				}
			}
			t.Logf("%d damaged images opened (%d reads refused), %d forged images opened", opened, damagedReads, forgedOpened)
			if damagedReads == 0 {
				t.Error("no damaged chunk was detected; the test is not reaching the data")
			}
		})
	}
}

// compareViews checks that a damaged image answered like the original, and
// returns how many reads it refused.
func compareViews(t posTB, want, got map[string]*fileView) int {
	if len(got) != len(want) {
		t.Fatalf("%d names, want %d", len(got), len(want))
	}
	refused := 0
	for path, w := range want {
		g := got[path]
		if g == nil {
			t.Fatalf("%q missing", path)
		}
		if g.stat != w.stat || g.target != w.target || g.xattrs != w.xattrs {
			t.Fatalf("%q: metadata changed: %+v %q %q, want %+v %q %q", path, g.stat, g.target, g.xattrs, w.stat, w.target, w.xattrs)
		}
		if g.readErr != nil {
			refused++
			continue
		}
		if !bytes.Equal(g.content, w.content) {
			t.Fatalf("%q: content changed without an error", path)
		}
	}
	return refused
}

func TestTruncatedOrExtended(t *testing.T) {
	for _, name := range []string{"small.img", "mixed.img"} {
		orig := goldenImage(t, name)
		for n := 0; n < len(orig); n++ {
			if name == "mixed.img" && n%13 != 0 && n < len(orig)-2*SuperblockSize {
				continue
			}
			if _, err := Open(orig[:n]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s truncated to %d bytes: Open error %v, want ErrCorrupt", name, n, err)
			}
		}
		for _, extra := range []int{1, 8, 256, 4096} {
			if _, err := Open(append(bytes.Clone(orig), make([]byte, extra)...)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s with %d bytes appended: Open error %v, want ErrCorrupt", name, extra, err)
			}
		}
	}
	if _, err := Open(nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open(nil) = %v", err)
	}
}

// imageEditor edits records of a valid image in place and re-seals it.
type imageEditor struct {
	b  []byte
	sb Superblock
}

func newEditor(t *testing.T, name string) *imageEditor {
	b := goldenImage(t, name)
	return &imageEditor{b: b, sb: getSuperblock(b[len(b)-SuperblockSize:])}
}

func (e *imageEditor) rec(sec int, i, size uint64) []byte {
	o := e.sb.Sections[sec].Offset + i*size
	return e.b[o : o+size]
}

func (e *imageEditor) inode(ino Ino, fn func(*InodeRecord)) {
	b := e.rec(SectionInodes, uint64(ino-1), InodeSize)
	r := getInode(b)
	fn(&r)
	r.Put(b)
}

func (e *imageEditor) dirent(i uint64, fn func(*DirentRecord)) {
	b := e.rec(SectionDirents, i, DirentSize)
	r := getDirent(b)
	fn(&r)
	r.Put(b)
}

func (e *imageEditor) chunk(i uint64, fn func(*ChunkRecord)) {
	b := e.rec(SectionChunks, i, ChunkRecordSize)
	r := getChunk(b)
	fn(&r)
	r.Put(b)
}

func (e *imageEditor) superblock(fn func(*Superblock)) {
	fn(&e.sb)
	e.sb.Put(e.b[len(e.b)-SuperblockSize:])
}

func (e *imageEditor) sealed() []byte { reseal(e.b); return e.b }

// Inode numbers in small.img, in Walk order.
const (
	smallEtc      Ino = 2
	smallHostname Ino = 3 // /etc/hostname
	smallLink     Ino = 4 // /hostname
)

// TestForgedImages checks that each structural rule is enforced, using
// images whose checksums are valid but whose records break one rule.
func TestForgedImages(t *testing.T) {
	cases := []struct {
		name string
		edit func(e *imageEditor)
		want string // in the error message
	}{
		{"unknown incompat feature", func(e *imageEditor) { e.superblock(func(s *Superblock) { s.IncompatFeatures = 4 }) }, "features 0x4"},
		{"next major version", func(e *imageEditor) { e.superblock(func(s *Superblock) { s.Major = 2 }) }, "version 2.1"},
		{"chunk size not a power of two", func(e *imageEditor) { e.superblock(func(s *Superblock) { s.ChunkSize = 5000 }) }, "chunk size 5000"},
		{"image size mismatch", func(e *imageEditor) { e.superblock(func(s *Superblock) { s.ImageSize += 8 }) }, "superblock says"},
		{"sections out of order", func(e *imageEditor) {
			e.superblock(func(s *Superblock) { s.Sections[SectionInodes].Offset = PreambleSize })
		}, "overlaps"},
		{"misaligned section", func(e *imageEditor) {
			e.superblock(func(s *Superblock) { s.Sections[SectionChunks].Offset += 4; s.Sections[SectionChunks].Size -= 24 })
		}, "not 8-byte aligned"},
		{"root not a directory", func(e *imageEditor) { e.inode(RootIno, func(r *InodeRecord) { r.Mode = modeFIFO | 0o755 }) }, "not a directory"},
		{"unknown mode bits", func(e *imageEditor) { e.inode(smallHostname, func(r *InodeRecord) { r.Mode |= 1 << 20 }) }, "unknown bits"},
		{"unknown file type", func(e *imageEditor) { e.inode(smallHostname, func(r *InodeRecord) { r.Mode = 0o030644 }) }, "unknown file type"},
		{"nanoseconds out of range", func(e *imageEditor) { e.inode(smallHostname, func(r *InodeRecord) { r.MtimeNsec = 1e9 }) }, "nanoseconds"},
		{"wrong chunk count", func(e *imageEditor) { e.inode(smallHostname, func(r *InodeRecord) { r.Size = DefaultChunkSize + 1 }) }, "chunks for"},
		{"chunk size disagrees with file size", func(e *imageEditor) { e.inode(smallHostname, func(r *InodeRecord) { r.Size = 8 }) }, "decodes to 7 bytes, want 8"},
		{"chunks outside the table", func(e *imageEditor) { e.inode(smallHostname, func(r *InodeRecord) { r.DataIndex = 1 }) }, "outside the chunk table"},
		{"symlink target out of bounds", func(e *imageEditor) { e.inode(smallLink, func(r *InodeRecord) { r.DataIndex = 1 << 30 }) }, "outside the string section"},
		{"symlink length disagrees with size", func(e *imageEditor) { e.inode(smallLink, func(r *InodeRecord) { r.Size = 3 }) }, "symlink target length"},
		{"directory entries outside the table", func(e *imageEditor) { e.inode(smallEtc, func(r *InodeRecord) { r.DataCount = 100 }) }, "outside the entry table"},
		{"xattrs outside the table", func(e *imageEditor) { e.inode(smallEtc, func(r *InodeRecord) { r.XattrCount = 1 }) }, "outside the xattr table"},
		{"parent out of range", func(e *imageEditor) { e.inode(smallEtc, func(r *InodeRecord) { r.Parent = 99 }) }, "parent 99"},
		{"wrong parent", func(e *imageEditor) { e.inode(smallEtc, func(r *InodeRecord) { r.Parent = uint32(smallEtc) }) }, "has parent 2"},
		{"entry names the root", func(e *imageEditor) { e.dirent(0, func(d *DirentRecord) { d.Ino = 1 }) }, "not a valid non-root inode"},
		{"directory named twice", func(e *imageEditor) { e.dirent(1, func(d *DirentRecord) { d.Ino = uint32(smallEtc) }) }, "more than one entry"},
		{"unnamed directory", func(e *imageEditor) { e.dirent(0, func(d *DirentRecord) { d.Ino = uint32(smallLink) }) }, "not named by any"},
		{"entries out of order", func(e *imageEditor) {
			e.dirent(0, func(d *DirentRecord) { d.NameOffset, d.NameLen = 3, 8 }) // "hostname" twice
		}, "strictly ascending"},
		{"slash in a name", func(e *imageEditor) {
			e.dirent(0, func(d *DirentRecord) { d.NameOffset, d.NameLen = 11, 12 }) // "etc/hostname"
		}, "invalid name"},
		{"empty name", func(e *imageEditor) { e.dirent(0, func(d *DirentRecord) { d.NameLen = 0 }) }, "invalid name"},
		{"unknown chunk encoding", func(e *imageEditor) { e.chunk(0, func(c *ChunkRecord) { c.Encoding = 4 }) }, "unknown encoding 4"},
		{"chunk outside the data section", func(e *imageEditor) { e.chunk(0, func(c *ChunkRecord) { c.Offset = 8 }) }, "outside the data section"},
		{"raw chunk with a wrong length", func(e *imageEditor) { e.chunk(0, func(c *ChunkRecord) { c.StoredSize = 6 }) }, "raw chunk stores 6 bytes for 7"},
		{"zero chunk with stored bytes", func(e *imageEditor) { e.chunk(0, func(c *ChunkRecord) { c.Encoding = EncodingZero }) }, "zero chunk has 7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEditor(t, "small.img")
			c.edit(e)
			_, err := Open(e.sealed())
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open error %v, want ErrCorrupt mentioning %q", err, c.want)
			}
		})
	}
}

// TestForgedChunkData checks the per-chunk defences: a checksum mismatch,
// and DEFLATE streams and LZ4 blocks that decode to more (a decompression
// bomb) or fewer bytes than the chunk records.
func TestForgedChunkData(t *testing.T) {
	for _, img := range []struct {
		name            string
		encoding        uint8
		longer, shorter string
	}{
		{"mixed.img", EncodingDeflate, "longer than the chunk", "shorter than the chunk"},
		{"lz4.img", EncodingLZ4, "does not decode to the chunk's", "does not decode to the chunk's"},
	} {
		t.Run(img.name, func(t *testing.T) { forgeChunkData(t, img.name, img.encoding, img.longer, img.shorter) })
	}
}

func forgeChunkData(t *testing.T, name string, encoding uint8, longer, shorter string) {
	// Find a file whose last chunk is compressed with the encoding.
	probe := mustOpen(t, goldenImage(t, name))
	var ino Ino
	var last uint32
	for n := Ino(1); n <= Ino(probe.NumInodes()); n++ {
		r := probe.inode(n)
		if r.Mode&modeType == modeRegular && r.DataCount > 0 && probe.chunk(r.DataIndex+r.DataCount-1).Encoding == encoding {
			ino, last = n, r.DataIndex+r.DataCount-1
			break
		}
	}
	if ino == 0 {
		t.Fatalf("%s has no file ending in a chunk of encoding %d", name, encoding)
	}
	size := probe.inode(ino).Size
	lastOff := int64(size) - int64(probe.chunk(last).Size)
	buf := make([]byte, 4096)

	for _, c := range []struct {
		name  string
		delta int // change of the recorded decoded length
		flip  bool
		want  string
	}{
		{"stream longer than the chunk", -1, false, longer},
		{"stream shorter than the chunk", +1, false, shorter},
		{"checksum mismatch", 0, true, "checksum mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEditor(t, name)
			var stored ChunkRecord
			e.chunk(uint64(last), func(r *ChunkRecord) {
				r.Size = uint32(int(r.Size) + c.delta)
				stored = *r
			})
			e.inode(ino, func(r *InodeRecord) { r.Size = uint64(int64(r.Size) + int64(c.delta)) })
			if c.flip {
				e.b[stored.Offset+uint64(stored.StoredSize)/2] ^= 0x10
			}
			im := mustOpen(t, e.sealed())
			_, err := im.ReadAt(ino, buf, lastOff)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ReadAt of the forged chunk: error %v, want ErrCorrupt mentioning %q", err, c.want)
			}
			// The error is not cached as data: a second read fails the same way.
			if _, err := im.ReadAt(ino, buf, lastOff); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("second ReadAt: %v", err)
			}
		})
	}
}

// TestLZ4WithoutFeature refuses LZ4 chunks in an image that does not
// declare them.
func TestLZ4WithoutFeature(t *testing.T) {
	e := newEditor(t, "lz4.img")
	e.superblock(func(s *Superblock) { s.IncompatFeatures = 0 })
	_, err := Open(e.sealed())
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "LZ4 chunk in an image without the LZ4 feature") {
		t.Fatalf("Open: %v", err)
	}
}

// TestForgedOverlaps checks that record ranges shared between inodes are
// refused: allowing them would make validation quadratic in the image size.
func TestForgedOverlaps(t *testing.T) {
	probe := mustOpen(t, goldenImage(t, "mixed.img"))
	var files []Ino
	var withXattrs Ino
	for n := Ino(1); n <= Ino(probe.NumInodes()); n++ {
		r := probe.inode(n)
		if r.Mode&modeType == modeRegular && r.Size > 0 {
			files = append(files, n)
		}
		if r.XattrCount > 0 {
			withXattrs = n
		}
	}
	if len(files) < 2 || withXattrs == 0 {
		t.Fatal("mixed.img lacks the files this test needs")
	}
	a := probe.inode(files[0])
	for _, c := range []struct {
		name, image string
		edit        func(e *imageEditor)
		want        string
	}{
		{"directory entries", "small.img", func(e *imageEditor) {
			e.inode(smallEtc, func(r *InodeRecord) { r.DataIndex, r.DataCount = 1, 1 })
		}, "overlap another directory's"},
		{"chunks", "mixed.img", func(e *imageEditor) {
			e.inode(files[1], func(r *InodeRecord) { r.Size, r.DataIndex, r.DataCount = a.Size, a.DataIndex, a.DataCount })
		}, "overlap another file's"},
		{"xattrs", "mixed.img", func(e *imageEditor) {
			x := probe.inode(withXattrs)
			e.inode(RootIno, func(r *InodeRecord) { r.XattrIndex, r.XattrCount = x.XattrIndex, x.XattrCount })
		}, "overlap another inode's"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEditor(t, c.image)
			c.edit(e)
			if _, err := Open(e.sealed()); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open error %v, want ErrCorrupt mentioning %q", err, c.want)
			}
		})
	}
}
