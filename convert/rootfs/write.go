package rootfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/pierrec/lz4/v4"

	fsimg "github.com/wasmrt/wasmrt/emulator/rootfs"
)

// WriteOptions controls how Write stores file content.
type WriteOptions struct {
	// ChunkSize is the unit regular files are stored, compressed and read
	// in: a power of two from 4 KiB to 1 MiB. Zero means 64 KiB. Larger
	// chunks compress better; smaller ones make random reads cheaper.
	ChunkSize int
	// Codec compresses each chunk when that makes it smaller; chunks that
	// do not shrink are stored raw either way. CodecNone stores every
	// chunk raw.
	Codec Codec
	// RawExecutables stores ELF files (programs and shared libraries)
	// uncompressed whatever the codec: the emulator loads them into
	// guest memory at every start, and inflating them under wasm is much of
	// start-up (measured in docs/performance-pack.md), at the price of a
	// larger image.
	RawExecutables bool
	// Progress, if set, is called on Write's goroutine after each chunk is
	// written, with the regular-file bytes done so far and the total.
	Progress func(done, total int64)
}

// Codec is how chunks are compressed.
type Codec int

const (
	// CodecNone stores chunks uncompressed.
	CodecNone Codec = iota
	// CodecDeflate compresses chunks with DEFLATE: the smallest images,
	// the slowest to read under WebAssembly.
	CodecDeflate
	// CodecLZ4 compresses chunks as LZ4 blocks: images ~15% larger than
	// DEFLATE's that decode about 5× faster under WebAssembly, which is
	// what a container's start-up reads (docs/performance-pack.md).
	CodecLZ4
)

// Codecs names the codecs for command lines.
var Codecs = map[string]Codec{"none": CodecNone, "deflate": CodecDeflate, "lz4": CodecLZ4}

// DefaultWriteOptions returns the options c2w uses: 64 KiB chunks,
// LZ4-compressed.
func DefaultWriteOptions() WriteOptions {
	return WriteOptions{ChunkSize: fsimg.DefaultChunkSize, Codec: CodecLZ4}
}

// deflateLevel trades ratio for speed: klauspost's level 1 compresses
// several times faster than level 6 for a few percent more output, and the
// writer has to keep up with flattening.
const deflateLevel = 1

// Write encodes t as a rootfs image (docs/rootfs-format.md) to w. The output
// is a function of the tree and the options only, so the same tree always
// gives the same bytes. Inodes are numbered in Tree.Walk order from 1 (the
// root); an *Inode reached by several names is one inode whose link count is
// the number of names (a directory's is 2 plus its subdirectories, as on
// Linux). Chunks are compressed on runtime.GOMAXPROCS workers and written in
// order. Write refuses, naming the path, anything the format cannot hold
// faithfully: invalid names or modes, directory hard links or cycles,
// oversized symlink targets or xattrs, content shorter than its size.
func Write(w io.Writer, t *Tree, opts WriteOptions) error {
	cs := opts.ChunkSize
	if cs == 0 {
		cs = fsimg.DefaultChunkSize
	}
	if cs < fsimg.MinChunkSize || cs > fsimg.MaxChunkSize || cs&(cs-1) != 0 {
		return fmt.Errorf("rootfs image: chunk size %d is not a power of two between %d and %d", cs, fsimg.MinChunkSize, fsimg.MaxChunkSize)
	}
	if t == nil || t.Root == nil {
		return errors.New("rootfs image: tree has no root")
	}
	plan, err := planImage(t, uint64(cs))
	if err != nil {
		return fmt.Errorf("rootfs image: %w", err)
	}
	iw := &imgWriter{w: bufio.NewWriterSize(w, 1<<20)}
	iw.write(preamble())
	if err := iw.writeData(t, plan, cs, opts); err != nil {
		return fmt.Errorf("rootfs image: %w", err)
	}
	if err := iw.writeMetadata(plan, uint32(cs)); err != nil {
		return fmt.Errorf("rootfs image: %w", err)
	}
	if err := iw.w.Flush(); err != nil {
		return fmt.Errorf("rootfs image: %w", err)
	}
	return nil
}

func preamble() []byte {
	b := make([]byte, fsimg.PreambleSize)
	fsimg.PutPreamble(b)
	return b
}

// imgPlan is everything about the image except the chunk records, which are
// only known once the content has been encoded.
type imgPlan struct {
	nodes     []*Inode     // inode number n is nodes[n-1]
	paths     []string     // the first name of each inode, for messages
	entries   [][]imgEntry // each inode's directory entries, in name order
	records   []fsimg.InodeRecord
	dirents   []fsimg.DirentRecord
	xattrs    []fsimg.XattrRecord
	strs      imgStrings
	nchunks   uint32
	dataBytes int64 // total regular-file content
}

type imgEntry struct {
	name string
	ino  uint32
}

// planImage numbers the inodes, checks that the tree fits the format and
// builds the inode, directory-entry, xattr and string tables.
func planImage(t *Tree, cs uint64) (*imgPlan, error) {
	if !t.Root.IsDir() {
		return nil, fmt.Errorf("root has mode %#o, not a directory", t.Root.Mode)
	}
	p := &imgPlan{strs: imgStrings{index: map[string]uint32{}}}
	inos := map[*Inode]uint32{}
	if _, _, err := p.number(inos, "/", t.Root, cs); err != nil {
		return nil, err
	}
	if err := p.numberDir(inos, "", 1, t.Root, cs); err != nil {
		return nil, err
	}
	if err := p.buildRecords(cs); err != nil {
		return nil, err
	}
	return p, nil
}

// number returns n's inode number, assigning the next one if n is new.
func (p *imgPlan) number(inos map[*Inode]uint32, path string, n *Inode, cs uint64) (ino uint32, isNew bool, err error) {
	if ino, ok := inos[n]; ok {
		if n.IsDir() {
			return 0, false, fmt.Errorf("%s: directory is also reachable as %s (directory hard links and cycles are not allowed)", path, p.paths[ino-1])
		}
		return ino, false, nil
	}
	if len(p.nodes) == math.MaxUint32 {
		return 0, false, fmt.Errorf("%s: more than 2^32-1 inodes", path)
	}
	if err := checkInode(path, n, cs); err != nil {
		return 0, false, err
	}
	p.nodes = append(p.nodes, n)
	p.paths = append(p.paths, path)
	p.entries = append(p.entries, nil)
	ino = uint32(len(p.nodes))
	inos[n] = ino
	return ino, true, nil
}

// numberDir numbers dir's subtree in Tree.Walk's order (depth first, names
// in byte order), so inode numbers follow Walk. It does its own traversal
// because it must detect cycles, on which Walk would not terminate.
func (p *imgPlan) numberDir(inos map[*Inode]uint32, prefix string, dirIno uint32, dir *Inode, cs uint64) error {
	for _, name := range SortedNames(dir) {
		path := prefix + "/" + name
		if err := checkName(name); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		child := dir.Children[name]
		if child == nil {
			return fmt.Errorf("%s: entry has no inode", path)
		}
		ino, isNew, err := p.number(inos, path, child, cs)
		if err != nil {
			return err
		}
		p.entries[dirIno-1] = append(p.entries[dirIno-1], imgEntry{name, ino})
		if isNew && child.IsDir() {
			if err := p.numberDir(inos, path, ino, child, cs); err != nil {
				return err
			}
		}
	}
	return nil
}

// linkCounts returns each inode's link count: one per name for files; 2
// plus one per subdirectory for directories ("." and each child's "..").
func (p *imgPlan) linkCounts() []uint64 {
	nlink := make([]uint64, len(p.nodes))
	nlink[0] = 2 // the root has no name but "." and ".."
	for dir, es := range p.entries {
		for _, e := range es {
			if p.nodes[e.ino-1].IsDir() {
				nlink[e.ino-1] += 2
				nlink[dir]++
			} else {
				nlink[e.ino-1]++
			}
		}
	}
	return nlink
}

// buildRecords fills the inode, directory-entry, xattr and string tables
// and assigns each regular file its range of chunk records.
func (p *imgPlan) buildRecords(cs uint64) error {
	nlink := p.linkCounts()
	p.records = make([]fsimg.InodeRecord, len(p.nodes))
	var chunks uint64
	for i, n := range p.nodes {
		path := p.paths[i]
		if nlink[i] > math.MaxUint32 {
			return fmt.Errorf("%s: more than 2^32-1 links", path)
		}
		r := &p.records[i]
		*r = fsimg.InodeRecord{
			Mode:      n.Mode,
			Nlink:     uint32(nlink[i]),
			UID:       n.UID,
			GID:       n.GID,
			MtimeSec:  n.Mtime.Unix(),
			MtimeNsec: uint32(n.Mtime.Nanosecond()),
		}
		if err := p.addXattrs(r, n, path); err != nil {
			return err
		}
		switch n.Type() {
		case ModeRegular:
			count := (uint64(n.Size) + cs - 1) / cs
			if chunks+count > math.MaxUint32 {
				return fmt.Errorf("%s: more than 2^32-1 chunks in the image", path)
			}
			r.Size = uint64(n.Size)
			r.DataIndex, r.DataCount = uint32(chunks), uint32(count)
			chunks += count
			p.dataBytes += n.Size
		case ModeDir:
			r.Parent = 1 // the root's own; subdirectories' are set below
			es := p.entries[i]
			if uint64(len(p.dirents))+uint64(len(es)) > math.MaxUint32 {
				return fmt.Errorf("%s: more than 2^32-1 directory entries in the image", path)
			}
			r.DataIndex, r.DataCount = uint32(len(p.dirents)), uint32(len(es))
			for _, e := range es {
				off, err := p.strs.add(e.name)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				p.dirents = append(p.dirents, fsimg.DirentRecord{NameOffset: off, Ino: e.ino, NameLen: uint16(len(e.name))})
			}
		case ModeSymlink:
			off, err := p.strs.add(n.Target)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			r.Size = uint64(len(n.Target))
			r.DataIndex, r.DataCount = off, uint32(len(n.Target))
		case ModeChar, ModeBlock:
			r.Rdev = n.Rdev
		}
	}
	for dir, es := range p.entries {
		for _, e := range es {
			if p.nodes[e.ino-1].IsDir() {
				p.records[e.ino-1].Parent = uint32(dir + 1)
			}
		}
	}
	p.nchunks = uint32(chunks)
	return nil
}

func (p *imgPlan) addXattrs(r *fsimg.InodeRecord, n *Inode, path string) error {
	if len(n.Xattrs) == 0 {
		return nil
	}
	names := make([]string, 0, len(n.Xattrs))
	for k := range n.Xattrs {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(p.xattrs)+len(names) > math.MaxUint32 {
		return fmt.Errorf("%s: more than 2^32-1 xattrs in the image", path)
	}
	r.XattrIndex, r.XattrCount = uint32(len(p.xattrs)), uint32(len(names))
	for _, k := range names {
		v := n.Xattrs[k]
		if k == "" || len(k) > fsimg.MaxXattrNameLen || strings.IndexByte(k, 0) >= 0 {
			return fmt.Errorf("%s: xattr name %q must be 1 to %d bytes without NUL", path, k, fsimg.MaxXattrNameLen)
		}
		if len(v) > fsimg.MaxXattrValueLen {
			return fmt.Errorf("%s: xattr %q value is %d bytes, more than %d", path, k, len(v), fsimg.MaxXattrValueLen)
		}
		koff, err := p.strs.add(k)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		voff, err := p.strs.add(string(v))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		p.xattrs = append(p.xattrs, fsimg.XattrRecord{NameOffset: koff, ValueOffset: voff, ValueLen: uint32(len(v)), NameLen: uint16(len(k))})
	}
	return nil
}

// checkName rejects directory entry names Linux could not have created.
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("invalid entry name %q", name)
	case len(name) > fsimg.MaxNameLen:
		return fmt.Errorf("entry name is %d bytes, longer than %d", len(name), fsimg.MaxNameLen)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("entry name %q contains '/' or NUL", name)
	}
	return nil
}

// checkInode rejects metadata the format cannot represent.
func checkInode(path string, n *Inode, cs uint64) error {
	if n.Mode&^(ModeType|ModePerm) != 0 {
		return fmt.Errorf("%s: mode %#o has bits outside st_mode", path, n.Mode)
	}
	if ns := n.Mtime.Nanosecond(); ns < 0 || ns >= 1e9 {
		return fmt.Errorf("%s: mtime nanoseconds %d out of range", path, ns)
	}
	switch n.Type() {
	case ModeRegular:
		if n.Size < 0 || uint64(n.Size) > cs*math.MaxUint32 {
			return fmt.Errorf("%s: file size %d out of range", path, n.Size)
		}
	case ModeSymlink:
		if n.Target == "" || len(n.Target) > fsimg.MaxSymlinkLen || strings.IndexByte(n.Target, 0) >= 0 {
			return fmt.Errorf("%s: symlink target must be 1 to %d bytes without NUL (got %d bytes)", path, fsimg.MaxSymlinkLen, len(n.Target))
		}
	case ModeDir, ModeChar, ModeBlock, ModeFIFO, ModeSocket:
	default:
		return fmt.Errorf("%s: mode %#o has an unknown file type", path, n.Mode)
	}
	return nil
}

// imgStrings is the string section under construction. Equal strings are
// stored once: names like "lib" or "__init__.py" and equal xattr values
// recur throughout real images.
type imgStrings struct {
	buf   []byte
	index map[string]uint32
}

func (s *imgStrings) add(v string) (uint32, error) {
	if v == "" {
		return 0, nil
	}
	if off, ok := s.index[v]; ok {
		return off, nil
	}
	if uint64(len(s.buf))+uint64(len(v)) > math.MaxUint32 {
		return 0, errors.New("string section exceeds 4 GiB")
	}
	off := uint32(len(s.buf))
	s.buf = append(s.buf, v...)
	s.index[v] = off
	return off, nil
}

// imgWriter writes the image sequentially, tracking the offset.
type imgWriter struct {
	w      *bufio.Writer
	pos    uint64
	chunks []fsimg.ChunkRecord
	err    error
}

// features are the incompat feature bits the chunks written need.
func (iw *imgWriter) features() uint32 {
	for _, c := range iw.chunks {
		if c.Encoding == fsimg.EncodingLZ4 {
			return fsimg.FeatureLZ4
		}
	}
	return 0
}

func (iw *imgWriter) write(b []byte) {
	if iw.err != nil {
		return
	}
	n, err := iw.w.Write(b)
	iw.pos += uint64(n)
	iw.err = err
}

// pad writes zeros up to the next multiple of align.
func (iw *imgWriter) pad(align uint64) {
	if r := iw.pos % align; r != 0 {
		iw.write(zeroChunk[:align-r])
	}
}

// zeroChunk is a chunk of zeros to compare chunks against and to pad from.
var zeroChunk [fsimg.MaxChunkSize]byte

// chunkJob is one chunk on its way through the encoding pipeline.
type chunkJob struct {
	raw    []byte // the chunk's content
	packed []byte // deflate output buffer
	enc    uint8
	stored []byte // the bytes to store: raw or packed
	crc    uint32
	keep   bool // store raw: a chunk of an ELF file with RawExecutables
	err    error
	done   chan struct{}
}

// writeData encodes every regular file's chunks in inode order. One
// goroutine reads content from the tree, GOMAXPROCS workers encode, and this
// goroutine writes the results in order; a fixed set of jobs circulates, so
// memory stays bounded whatever the image size.
func (iw *imgWriter) writeData(t *Tree, p *imgPlan, cs int, opts WriteOptions) error {
	iw.chunks = make([]fsimg.ChunkRecord, 0, p.nchunks)
	workers := runtime.GOMAXPROCS(0)
	inflight := 4 * workers
	free := make(chan *chunkJob, inflight)
	for range inflight {
		free <- &chunkJob{raw: make([]byte, cs), packed: make([]byte, 0, cs), done: make(chan struct{}, 1)}
	}
	ordered := make(chan *chunkJob, inflight)
	work := make(chan *chunkJob, inflight)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(quit)

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ordered)
		defer close(work)
		readChunks(t, p, cs, opts.RawExecutables, free, work, ordered, quit)
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc := newChunkEncoder(opts.Codec)
			for j := range work {
				enc.encode(j)
				j.done <- struct{}{}
			}
		}()
	}

	var done int64
	for j := range ordered {
		<-j.done
		if j.err != nil {
			return j.err
		}
		rec := fsimg.ChunkRecord{Size: uint32(len(j.raw)), Encoding: j.enc}
		if j.enc != fsimg.EncodingZero {
			// Every chunk starts 8-aligned; raw chunks of a page or more
			// page-aligned, so the emulator can map their pages in place.
			if j.enc == fsimg.EncodingRaw && len(j.raw) >= fsimg.PageSize {
				iw.pad(fsimg.PageSize)
			} else {
				iw.pad(8)
			}
			rec.Offset, rec.StoredSize, rec.CRC = iw.pos, uint32(len(j.stored)), j.crc
			iw.write(j.stored)
			if iw.err != nil {
				return iw.err
			}
		}
		iw.chunks = append(iw.chunks, rec)
		done += int64(len(j.raw))
		free <- j
		if opts.Progress != nil {
			opts.Progress(done, p.dataBytes)
		}
	}
	if uint32(len(iw.chunks)) != p.nchunks {
		return fmt.Errorf("encoded %d chunks, planned %d", len(iw.chunks), p.nchunks)
	}
	return iw.err
}

// readChunks feeds every regular file's content, chunk by chunk in inode
// order, to the workers and, in the same order, to the writer.
func readChunks(t *Tree, p *imgPlan, cs int, rawELF bool, free <-chan *chunkJob, work, ordered chan<- *chunkJob, quit <-chan struct{}) {
	for i, n := range p.nodes {
		if !n.IsRegular() || n.Size == 0 {
			continue
		}
		sr, err := t.Content(n)
		switch {
		case err != nil:
			err = fmt.Errorf("%s: %w", p.paths[i], err)
		case sr.Size() != n.Size:
			err = fmt.Errorf("%s: content is %d bytes but the size is %d", p.paths[i], sr.Size(), n.Size)
		}
		elf := false
		for off := int64(0); off < n.Size; off += int64(cs) {
			var j *chunkJob
			select {
			case j = <-free:
			case <-quit:
				return
			}
			j.err = err
			j.raw = j.raw[:min(int64(cs), n.Size-off)]
			if j.err == nil {
				if _, rerr := io.ReadFull(sr, j.raw); rerr != nil {
					j.err = fmt.Errorf("%s: reading content at offset %d: %w", p.paths[i], off, rerr)
				}
			}
			if off == 0 {
				elf = rawELF && bytes.HasPrefix(j.raw, []byte("\x7fELF"))
			}
			j.keep = elf
			if j.err != nil {
				// Hand the failure to the writer in order and stop.
				j.done <- struct{}{}
				select {
				case ordered <- j:
				case <-quit:
				}
				return
			}
			select {
			case ordered <- j:
			case <-quit:
				return
			}
			select {
			case work <- j:
			case <-quit:
				return
			}
		}
	}
}

// chunkEncoder turns chunks into their stored form; each worker has one.
type chunkEncoder struct {
	codec Codec
	fw    *flate.Writer // CodecDeflate
	lz    lz4.Compressor
	sink  cappedBuffer
}

func newChunkEncoder(codec Codec) *chunkEncoder {
	e := &chunkEncoder{codec: codec}
	if codec == CodecDeflate {
		fw, err := flate.NewWriter(nil, deflateLevel)
		if err != nil {
			panic(fmt.Sprintf("flate level %d: %v", deflateLevel, err)) // a constant level is always valid
		}
		e.fw = fw
	}
	return e
}

func (e *chunkEncoder) encode(j *chunkJob) {
	if bytes.Equal(j.raw, zeroChunk[:len(j.raw)]) {
		j.enc, j.stored, j.crc = fsimg.EncodingZero, nil, 0
		return
	}
	j.enc, j.stored = fsimg.EncodingRaw, j.raw
	if !j.keep {
		switch e.codec {
		case CodecDeflate:
			// Give up as soon as the output reaches the input's size: such
			// a chunk is stored raw, and incompressible data is common
			// (archives, images, already-compressed files).
			e.sink = cappedBuffer{buf: j.packed[:0], limit: len(j.raw) - 1}
			e.fw.Reset(&e.sink)
			_, err := e.fw.Write(j.raw)
			if err == nil {
				err = e.fw.Close()
			}
			j.packed = e.sink.buf
			if err == nil {
				j.enc, j.stored = fsimg.EncodingDeflate, j.packed
			}
		case CodecLZ4:
			if bound := lz4.CompressBlockBound(len(j.raw)); cap(j.packed) < bound {
				j.packed = make([]byte, bound)
			}
			// 0 means incompressible; keep only real gains.
			if n, err := e.lz.CompressBlock(j.raw, j.packed[:cap(j.packed)]); err == nil && n > 0 && n < len(j.raw) {
				j.enc, j.stored = fsimg.EncodingLZ4, j.packed[:n]
			}
		}
	}
	j.crc = fsimg.Checksum(j.stored)
}

// cappedBuffer collects output up to limit bytes and fails beyond it.
type cappedBuffer struct {
	buf   []byte
	limit int
}

var errNoGain = errors.New("compressed chunk is not smaller")

func (c *cappedBuffer) Write(b []byte) (int, error) {
	if len(c.buf)+len(b) > c.limit {
		return 0, errNoGain
	}
	c.buf = append(c.buf, b...)
	return len(b), nil
}

// writeMetadata writes the metadata sections and the superblock after the
// data.
func (iw *imgWriter) writeMetadata(p *imgPlan, cs uint32) error {
	sb := fsimg.Superblock{
		Major:     fsimg.VersionMajor,
		Minor:     fsimg.VersionMinor,
		ChunkSize: cs,
		// Readers that cannot decode LZ4 must refuse the image.
		IncompatFeatures: iw.features(),
		PageSize:         fsimg.PageSize,
	}
	sb.Sections[fsimg.SectionData] = fsimg.Section{Offset: fsimg.PreambleSize, Size: iw.pos - fsimg.PreambleSize}

	inodes := make([]byte, len(p.records)*fsimg.InodeSize)
	for i := range p.records {
		p.records[i].Put(inodes[i*fsimg.InodeSize:])
	}
	dirents := make([]byte, len(p.dirents)*fsimg.DirentSize)
	for i := range p.dirents {
		p.dirents[i].Put(dirents[i*fsimg.DirentSize:])
	}
	xattrs := make([]byte, len(p.xattrs)*fsimg.XattrSize)
	for i := range p.xattrs {
		p.xattrs[i].Put(xattrs[i*fsimg.XattrSize:])
	}
	chunks := make([]byte, len(iw.chunks)*fsimg.ChunkRecordSize)
	for i := range iw.chunks {
		iw.chunks[i].Put(chunks[i*fsimg.ChunkRecordSize:])
	}
	for i, sec := range [...][]byte{
		fsimg.SectionInodes:  inodes,
		fsimg.SectionDirents: dirents,
		fsimg.SectionXattrs:  xattrs,
		fsimg.SectionChunks:  chunks,
		fsimg.SectionStrings: p.strs.buf,
	} {
		if i == fsimg.SectionData {
			continue
		}
		iw.pad(8)
		sb.Sections[i] = fsimg.Section{Offset: iw.pos, Size: uint64(len(sec)), CRC: fsimg.Checksum(sec)}
		iw.write(sec)
	}
	iw.pad(8)
	sb.ImageSize = iw.pos + fsimg.SuperblockSize
	sbb := make([]byte, fsimg.SuperblockSize)
	sb.Put(sbb)
	iw.write(sbb)
	return iw.err
}
