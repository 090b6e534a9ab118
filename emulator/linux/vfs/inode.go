package vfs

import (
	"errors"
	"io"
	"os"
	"sort"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// ErrWouldBlock is returned by File operations that cannot make progress
// now; the caller retries when Poll reports readiness.
var ErrWouldBlock = errors.New("operation would block")

// Device numbers of the synthetic character devices.
var (
	devNull    = abi.Makedev(1, 3)
	devZero    = abi.Makedev(1, 5)
	devFull    = abi.Makedev(1, 7)
	devRandom  = abi.Makedev(1, 8)
	devURandom = abi.Makedev(1, 9)
	devTTY     = abi.Makedev(5, 0)
	devPTS0    = abi.Makedev(136, 0)
)

// fsDev is the st_dev every inode reports.
const fsDev = 0x801

// firstDynamicIno is the first inode number given to inodes created at run
// time; image inodes keep their own (smaller) numbers.
const firstDynamicIno = 1 << 32

// Inode is a file, directory, symlink, device node or fifo of the merged
// namespace.
type Inode struct {
	fs    *FS
	ino   uint64
	mode  uint32 // st_mode including the file type
	uid   uint32
	gid   uint32
	nlink uint32
	rdev  uint64
	mtime time.Time
	atime time.Time
	ctime time.Time

	// image is the rootfs inode this Inode still reads from: a regular
	// file's content until copy-up, a directory's entries until
	// materialized, a symlink's target. Zero for inodes created at run
	// time.
	image rootfs.Ino
	// data is a regular file's content once copied up (copied is set).
	data   fileData
	copied bool
	// target is a symlink's target.
	target string
	// xattrs are the extended attributes set at run time.
	xattrs map[string][]byte
	// watchers are the inotify watches on the inode; dentryDir and
	// dentryName where it was last named, whose watches hear about it
	// too (notify.go).
	watchers   []Watcher
	dentryDir  *Inode
	dentryName string
	// seals are a memfd's seals (sealable is set for memfds).
	seals    uint32
	sealable bool

	// Directories: parent and name locate it (a directory has exactly one
	// link from its parent); children holds its entries once loaded.
	parent   *Inode
	name     string
	children map[string]*Inode
	loaded   bool

	// pipe is the buffer of a fifo, created on first open.
	pipe *Pipe
	// host is the host path of an inode in a mounted host directory;
	// hostChildren keeps a host directory's Inodes by name and hostSize
	// a file's size at its last stat.
	host         string
	hostChildren map[string]*Inode
	hostSize     int64
	// hostPages are the pages of a host file that shared mappings map.
	hostPages *hostPages

	// open, when set, replaces opening: it returns an existing
	// description (a /proc/self/fd link to a pipe or stream).
	open func() *Description
}

// Mode returns st_mode.
func (n *Inode) Mode() uint32 { return n.mode }

// IsDir reports whether n is a directory.
func (n *Inode) IsDir() bool { return n.mode&abi.S_IFMT == abi.S_IFDIR }

// IsRegular reports whether n is a regular file.
func (n *Inode) IsRegular() bool { return n.mode&abi.S_IFMT == abi.S_IFREG }

// IsSymlink reports whether n is a symbolic link.
func (n *Inode) IsSymlink() bool { return n.mode&abi.S_IFMT == abi.S_IFLNK }

// Ino returns the inode number.
func (n *Inode) Ino() uint64 { return n.ino }

// Size returns the length of a regular file's content or a symlink's
// target.
func (n *Inode) Size() int64 {
	switch {
	case n.host != "" && !n.IsSymlink():
		return n.hostSize
	case n.IsRegular() && n.copied:
		return n.data.size
	case n.IsRegular() && n.image != 0:
		st, err := n.fs.img.Stat(n.image)
		if err != nil {
			return 0
		}
		return st.Size
	case n.IsSymlink():
		return int64(len(n.target))
	}
	return 0
}

// Stat returns the inode's metadata.
func (n *Inode) Stat() abi.Stat {
	if n.host != "" {
		if info, err := os.Lstat(n.host); err == nil {
			n.refreshHost(info)
		}
	}
	size := n.Size()
	st := abi.Stat{
		Dev: fsDev, Ino: n.ino, Mode: n.mode, Nlink: n.nlink, UID: n.uid, GID: n.gid,
		Rdev: n.rdev, Size: size, Blksize: 4096,
		AtimeSec: n.atime.Unix(), AtimeNsec: int64(n.atime.Nanosecond()),
		MtimeSec: n.mtime.Unix(), MtimeNsec: int64(n.mtime.Nanosecond()),
		CtimeSec: n.ctime.Unix(), CtimeNsec: int64(n.ctime.Nanosecond()),
	}
	switch {
	case n.IsDir():
		st.Size = 4096
		st.Blocks = 8
	case n.IsRegular():
		// Whole 4 KiB blocks, as ext4 and tmpfs allocate them, none
		// for holes; symlinks are inline (no blocks).
		if n.copied && n.host == "" {
			st.Blocks = n.data.allocated() / 512
		} else {
			st.Blocks = (size + 4095) / 4096 * 8
		}
	}
	return st
}

// ImageIno returns the rootfs inode number a regular file's content is
// still read from, or false once the file was written (copied up), for
// files created at run time and for host files. The converter names
// translated pages by it (docs/translation.md).
func (n *Inode) ImageIno() (uint64, bool) {
	if !n.IsRegular() || n.host != "" || n.copied || n.image == 0 {
		return 0, false
	}
	return uint64(n.image), true
}

// ReadAt reads a regular file's content at off.
func (n *Inode) ReadAt(p []byte, off int64) (int, error) {
	if !n.IsRegular() {
		return 0, abi.EINVAL
	}
	if off < 0 {
		return 0, abi.EINVAL
	}
	if n.host != "" {
		return n.hostReadAt(p, off)
	}
	if n.copied {
		k := n.data.readAt(p, off)
		if k < len(p) {
			return k, io.EOF
		}
		return k, nil
	}
	if n.image == 0 {
		return 0, io.EOF
	}
	k, err := n.fs.img.ReadAt(n.image, p, off)
	if err != nil && err != io.EOF {
		return k, abi.EIO
	}
	return k, err
}

// copyUp moves a regular file's content from the image into memory so it
// can be changed.
func (n *Inode) copyUp() error {
	if n.copied {
		return nil
	}
	size := n.Size()
	var d fileData
	buf := make([]byte, min(size, chunkSize))
	for off := int64(0); off < size; off += int64(len(buf)) {
		k, err := n.fs.img.ReadAt(n.image, buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && !(err == io.EOF && off+int64(k) == size) {
			return abi.EIO
		}
		d.writeAt(buf[:k], off)
	}
	n.data, n.copied = d, true
	return nil
}

// WriteAt writes p at off, growing the file.
func (n *Inode) WriteAt(p []byte, off int64) (int, error) {
	if !n.IsRegular() {
		return 0, abi.EINVAL
	}
	if n.host != "" {
		return n.hostWriteAt(p, off)
	}
	if err := n.copyUp(); err != nil {
		return 0, err
	}
	end := off + int64(len(p))
	if off < 0 || end < off {
		return 0, abi.EINVAL
	}
	if end > n.fs.maxFileSize {
		return 0, abi.EFBIG
	}
	if err := n.sealCheck(true, max(end, n.Size())); err != nil {
		return 0, err
	}
	n.data.writeAt(p, off)
	n.touch()
	n.Notify(InModify)
	return len(p), nil
}

// Truncate sets a regular file's length.
func (n *Inode) Truncate(size int64) error {
	if n.IsDir() {
		return abi.EISDIR
	}
	if !n.IsRegular() {
		return abi.EINVAL
	}
	if size < 0 {
		return abi.EINVAL
	}
	if size > n.fs.maxFileSize {
		return abi.EFBIG
	}
	if err := n.sealCheck(false, size); err != nil {
		return err
	}
	if n.host != "" {
		return n.hostTruncate(size)
	}
	if err := n.copyUp(); err != nil {
		return err
	}
	shrunk := size < n.data.size && n.data.frames != nil
	n.data.truncate(size)
	if shrunk && n.fs.FramesCut != nil {
		n.fs.FramesCut(n, size)
	}
	n.Notify(InModify)
	n.touch()
	return nil
}

func (n *Inode) touch() {
	now := n.fs.now()
	n.mtime, n.ctime = now, now
}

// Readlink returns a symlink's target.
func (n *Inode) Readlink() (string, error) {
	if !n.IsSymlink() {
		return "", abi.EINVAL
	}
	return n.target, nil
}

// Chmod changes the permission bits.
func (n *Inode) Chmod(mode uint32) error {
	if n.host != "" {
		return hostErrno(os.Chmod(n.host, os.FileMode(mode&0o777)))
	}
	n.mode = n.mode&abi.S_IFMT | mode&0o7777
	n.ctime = n.fs.now()
	n.Notify(InAttrib)
	return nil
}

// Chown changes the owner; ^uint32(0) leaves a field unchanged.
func (n *Inode) Chown(uid, gid uint32) {
	if uid != ^uint32(0) {
		n.uid = uid
	}
	if gid != ^uint32(0) {
		n.gid = gid
	}
	n.ctime = n.fs.now()
	n.Notify(InAttrib)
}

// SetTimes sets the access and modification times; nil leaves one as is.
func (n *Inode) SetTimes(atime, mtime *time.Time) error {
	if n.host != "" {
		return n.hostSetTimes(atime, mtime)
	}
	if atime != nil {
		n.atime = *atime
	}
	if mtime != nil {
		n.mtime = *mtime
	}
	n.ctime = n.fs.now()
	n.Notify(InAttrib)
	return nil
}

// load materializes a directory's entries from the image.
func (n *Inode) load() error {
	if n.loaded || n.host != "" {
		return nil
	}
	n.children = make(map[string]*Inode)
	n.loaded = true
	if n.image == 0 {
		return nil
	}
	var ferr error
	err := n.fs.img.ReadDir(n.image, 0, func(_ int, e rootfs.DirEntry) bool {
		c, err := n.fs.fromImage(e.Ino, n, e.Name)
		if err != nil {
			ferr = err
			return false
		}
		n.children[e.Name] = c
		return true
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return abi.EIO
	}
	return nil
}

// lookup returns the entry name of directory n.
func (n *Inode) lookup(name string) (*Inode, error) {
	if !n.IsDir() {
		return nil, abi.ENOTDIR
	}
	switch name {
	case ".", "":
		return n, nil
	case "..":
		if n.parent == nil {
			return n, nil
		}
		return n.parent, nil
	}
	if n.host != "" {
		return n.hostChild(name)
	}
	if err := n.load(); err != nil {
		return nil, err
	}
	c, ok := n.children[name]
	if !ok {
		return nil, abi.ENOENT
	}
	return c, nil
}

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string
	Ino  uint64
	Type uint8
}

// Entries lists a directory: ".", "..", then the entries in name order.
func (n *Inode) Entries() ([]DirEntry, error) {
	if !n.IsDir() {
		return nil, abi.ENOTDIR
	}
	if n.host != "" {
		return n.hostEntries()
	}
	if err := n.load(); err != nil {
		return nil, err
	}
	parent := n
	if n.parent != nil {
		parent = n.parent
	}
	out := make([]DirEntry, 0, len(n.children)+2)
	out = append(out, DirEntry{".", n.ino, abi.DT_DIR}, DirEntry{"..", parent.ino, abi.DT_DIR})
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := n.children[name]
		out = append(out, DirEntry{name, c.ino, abi.DirentType(c.mode)})
	}
	return out, nil
}

// Path returns the absolute path of a directory, as getcwd reports it.
func (n *Inode) Path() string {
	if n.parent == nil {
		return "/"
	}
	var parts []string
	for d := n; d.parent != nil; d = d.parent {
		parts = append(parts, d.name)
	}
	out := ""
	for i := len(parts) - 1; i >= 0; i-- {
		out += "/" + parts[i]
	}
	return out
}
