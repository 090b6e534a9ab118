package rootfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Linux st_mode file-type bits. The tree stores modes exactly as the guest
// kernel would report them, so the writer and the emulator need no mapping.
const (
	ModeType    = 0o170000
	ModeSocket  = 0o140000
	ModeSymlink = 0o120000
	ModeRegular = 0o100000
	ModeBlock   = 0o060000
	ModeDir     = 0o040000
	ModeChar    = 0o020000
	ModeFIFO    = 0o010000

	ModeSetuid = 0o4000
	ModeSetgid = 0o2000
	ModeSticky = 0o1000
	ModePerm   = 0o7777 // permission bits including setuid, setgid and sticky
)

// Inode is one file-system object of a flattened root file system. Hard links
// are several directory entries that point at the same *Inode.
type Inode struct {
	Mode   uint32 // Linux st_mode: type | setuid/setgid/sticky | rwx bits
	UID    uint32
	GID    uint32
	Mtime  time.Time
	Rdev   uint64            // device number (Linux makedev encoding) for block/char devices
	Xattrs map[string][]byte // extended attributes, e.g. security.capability
	Target string            // symlink target, verbatim (never resolved on the host)

	// Size is the length of a regular file's content.
	Size int64
	// content locates a regular file's bytes in the tree's spill store.
	content extent

	// Children maps names to entries; only directories have it (non-nil).
	Children map[string]*Inode
}

// extent is a byte range in the spill store.
type extent struct{ off, size int64 }

// IsDir reports whether the inode is a directory.
func (i *Inode) IsDir() bool { return i.Mode&ModeType == ModeDir }

// IsRegular reports whether the inode is a regular file.
func (i *Inode) IsRegular() bool { return i.Mode&ModeType == ModeRegular }

// Type returns the file-type bits of Mode.
func (i *Inode) Type() uint32 { return i.Mode & ModeType }

// NewDir returns a directory inode with the given permission bits, owned by
// root, dated at the Unix epoch (what a layer that names no parent implies).
func NewDir(perm uint32) *Inode {
	return &Inode{Mode: ModeDir | perm&ModePerm, Mtime: time.Unix(0, 0).UTC(), Children: map[string]*Inode{}}
}

// Tree is a flattened root file system held in memory (metadata) and in an
// unlinked temporary spill file (regular-file content), so images larger than
// memory can be flattened and nothing is left on disk if the process dies.
type Tree struct {
	Root *Inode

	spill   *os.File
	w       *bufio.Writer
	written int64 // bytes appended to the spill file
}

// NewTree returns an empty tree whose root is a 0755 directory owned by root.
// Content is spilled to an unlinked temporary file in dir ("" means the
// system's temporary directory).
func NewTree(dir string) (*Tree, error) {
	f, err := os.CreateTemp(dir, "c2w-rootfs-spill-*")
	if err != nil {
		return nil, fmt.Errorf("rootfs spill file: %w", err)
	}
	// Unlink at once: the data lives only as long as the open descriptor.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("rootfs spill file: %w", err)
	}
	return &Tree{
		Root:  NewDir(0o755),
		spill: f,
		w:     bufio.NewWriterSize(f, 1<<20),
	}, nil
}

// Close releases the spill file. The tree's content is unreadable afterwards.
func (t *Tree) Close() error {
	if t.spill == nil {
		return nil
	}
	err := t.spill.Close()
	t.spill = nil
	return err
}

// ContentBytes is the total number of content bytes the tree has stored,
// including content later replaced or deleted (it bounds disk use).
func (t *Tree) ContentBytes() int64 { return t.written }

// SetContent copies up to limit bytes from r into the spill store and makes
// them ino's content. It reads exactly until EOF; if r has more than limit
// bytes it returns ErrContentTooLarge (the bytes read so far stay in the spill
// file but are not referenced).
func (t *Tree) SetContent(ino *Inode, r io.Reader, limit int64) (int64, error) {
	if t.spill == nil {
		return 0, errors.New("rootfs: tree is closed")
	}
	off := t.written
	n, err := io.Copy(t.w, io.LimitReader(r, limit))
	t.written += n
	if err != nil {
		return n, err
	}
	if n == limit {
		// Probe for one more byte: content longer than limit is an error.
		var one [1]byte
		if m, _ := io.ReadFull(r, one[:]); m > 0 {
			return n, ErrContentTooLarge
		}
	}
	ino.Size = n
	ino.content = extent{off: off, size: n}
	return n, nil
}

// ErrContentTooLarge is returned by SetContent when content exceeds its limit.
var ErrContentTooLarge = errors.New("content exceeds the size limit")

// Content returns a reader over a regular file's content.
func (t *Tree) Content(ino *Inode) (*io.SectionReader, error) {
	if t.spill == nil {
		return nil, errors.New("rootfs: tree is closed")
	}
	if err := t.w.Flush(); err != nil {
		return nil, fmt.Errorf("rootfs spill file: %w", err)
	}
	return io.NewSectionReader(t.spill, ino.content.off, ino.content.size), nil
}

// Walk calls fn for every entry of the tree in depth-first order with
// directory entries sorted by name (byte order), starting with the root
// ("/"). Paths are absolute and slash-separated. A hard-linked inode is
// visited once per name. If fn returns an error the walk stops with it.
func (t *Tree) Walk(fn func(path string, ino *Inode) error) error {
	if err := fn("/", t.Root); err != nil {
		return err
	}
	return walkDir("", t.Root, fn)
}

func walkDir(prefix string, dir *Inode, fn func(string, *Inode) error) error {
	for _, name := range SortedNames(dir) {
		child := dir.Children[name]
		p := prefix + "/" + name
		if err := fn(p, child); err != nil {
			return err
		}
		if child.IsDir() {
			if err := walkDir(p, child, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// SortedNames returns a directory's entry names in byte order.
func SortedNames(dir *Inode) []string {
	names := make([]string, 0, len(dir.Children))
	for n := range dir.Children {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup resolves an absolute or relative path inside the tree, following
// symlinks (also in the last component) as if the tree's root were the file
// system's root: ".." and absolute targets never leave it. It returns nil
// when the path does not exist or resolves through a non-directory.
func (t *Tree) Lookup(p string) *Inode {
	stack := []*Inode{t.Root}
	work := reversed(strings.Split(p, "/"))
	links, steps := 0, 0
	for len(work) > 0 {
		c := work[len(work)-1]
		work = work[:len(work)-1]
		if steps++; steps > maxResolveSteps {
			return nil
		}
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		cur := stack[len(stack)-1]
		if !cur.IsDir() {
			return nil
		}
		child, ok := cur.Children[c]
		if !ok {
			return nil
		}
		if child.Type() == ModeSymlink {
			if links++; links > maxSymlinks {
				return nil
			}
			if strings.HasPrefix(child.Target, "/") {
				stack = stack[:1]
			}
			work = append(work, reversed(strings.Split(child.Target, "/"))...)
			continue
		}
		stack = append(stack, child)
	}
	return stack[len(stack)-1]
}

func reversed(s []string) []string {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}
