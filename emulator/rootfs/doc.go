// Package rootfs reads the emulator's root file system image: a compact,
// read-only, random-access file system that the converter appends to the
// WebAssembly module and the emulator reads in place from linear memory.
// docs/rootfs-format.md specifies the format; format.go holds its layout.
//
// The package owns the format's constants and record encodings (shared with
// the converter's writer, so both sides agree by construction) and the
// reader the emulator's VFS is built on. Its shape follows a kernel's
// read-only file systems (squashfs, erofs): inodes are addressed by number,
// lookups go one path component at a time by binary search over sorted
// directory entries, and file content is read by offset, decoding only the
// chunks touched.
//
// Zero copy: Open never copies the image. Metadata is decoded field by field
// from the byte slice with encoding/binary, names and symlink targets are
// returned as strings that alias the image, and raw (uncompressed) chunks
// are available as slices of it (RawData), page-aligned so a later mmap can
// map them without copying.
//
// Hostile input: Open checks the checksums of the superblock and of every
// metadata section, then the structure of every record (bounds, with
// overflow-safe arithmetic; names; sort order; the directory tree), so the
// accessors cannot index out of range. File data is checked per chunk on
// first use (CRC-32C of the stored bytes) and a compressed chunk must
// inflate to exactly its recorded length, so a damaged image produces
// ErrCorrupt errors rather than wrong bytes, a panic or a decompression bomb.
//
// Concurrency: an Image is safe for use by multiple goroutines. The shared
// state is a bitmap of verified chunks (atomic) and a cache of decoded chunks
// (CacheBytes; mutex, held only to copy, never while inflating).
//
// The package imports only the standard library: it is compiled to wasip1
// as part of the emulator.
package rootfs
