package vfs

import (
	"io"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// File is what an open file description does; each kind of file (regular,
// directory, pipe end, device, host stream) implements it. Methods that do
// not apply return the errno Linux returns for that kind.
type File interface {
	Read(p []byte, off int64) (int, error)
	Write(p []byte, off int64) (int, error)
	// Seekable says whether the file has a position (read and write then
	// use and advance the description's offset); size gives SEEK_END.
	Seekable() bool
	Stat() abi.Stat
	// Poll returns the ready events among POLLIN|POLLOUT|POLLHUP|POLLERR.
	Poll() uint32
	// Release is called when the last descriptor referring to the
	// description is closed.
	Release()
	// Inode is the file's inode, nil for anonymous files such as pipes
	// created by pipe2.
	Inode() *Inode
}

// Description is an open file description: a File with its offset and
// status flags, shared by descriptors duplicated with dup or inherited
// across fork.
type Description struct {
	File   File
	Offset int64
	// Flags holds the access mode and status flags (O_APPEND, O_NONBLOCK).
	Flags uint32
	// Path is the name the file was opened under, for /proc and traces.
	Path string
	refs int
	// dirents is a directory's listing, taken when reading starts at
	// offset 0 so that entries do not move between getdents calls.
	dirents []DirEntry
	// onLastClose run when the last reference goes (OnLastClose).
	onLastClose []func()
}

// OnLastClose arranges for f to run when the last descriptor referring to
// the description is closed (the locks it owns are released then).
func (d *Description) OnLastClose(f func()) { d.onLastClose = append(d.onLastClose, f) }

// NewDescription returns a description with one reference.
func NewDescription(f File, flags uint32, path string) *Description {
	return &Description{File: f, Flags: flags, Path: path, refs: 1}
}

// IncRef adds a reference (a new descriptor or a forked table).
func (d *Description) IncRef() { d.refs++ }

// DecRef drops a reference and releases the file after the last.
func (d *Description) DecRef() {
	d.refs--
	if d.refs == 0 {
		for _, f := range d.onLastClose {
			f()
		}
		d.onLastClose = nil
		d.File.Release()
		if n := d.File.Inode(); n != nil && d.Flags&abi.O_PATH == 0 {
			if d.Writable() {
				n.Notify(InCloseWrite)
			} else {
				n.Notify(InCloseNowrite)
			}
		}
	}
}

// Readable and Writable report the access mode.
func (d *Description) Readable() bool { return d.Flags&abi.O_ACCMODE != abi.O_WRONLY }

// Writable reports whether the description was opened for writing.
func (d *Description) Writable() bool { return d.Flags&abi.O_ACCMODE != abi.O_RDONLY }

// Read reads at the description's offset (for seekable files) and
// advances it.
func (d *Description) Read(p []byte) (int, error) {
	if !d.Readable() {
		return 0, abi.EBADF
	}
	k, err := d.File.Read(p, d.Offset)
	if d.File.Seekable() {
		d.Offset += int64(k)
	}
	if err == io.EOF {
		err = nil
	}
	return k, err
}

// Write writes at the offset (the end with O_APPEND) and advances it.
func (d *Description) Write(p []byte) (int, error) {
	if !d.Writable() {
		return 0, abi.EBADF
	}
	if d.Flags&abi.O_APPEND != 0 && d.File.Seekable() {
		d.Offset = d.File.Stat().Size
	}
	k, err := d.File.Write(p, d.Offset)
	if d.File.Seekable() {
		d.Offset += int64(k)
	}
	return k, err
}

// Pread reads at off without moving the offset.
func (d *Description) Pread(p []byte, off int64) (int, error) {
	if !d.Readable() {
		return 0, abi.EBADF
	}
	if !d.File.Seekable() {
		return 0, abi.ESPIPE
	}
	if off < 0 {
		return 0, abi.EINVAL
	}
	k, err := d.File.Read(p, off)
	if err == io.EOF {
		err = nil
	}
	return k, err
}

// Pwrite writes at off without moving the offset.
func (d *Description) Pwrite(p []byte, off int64) (int, error) {
	if !d.Writable() {
		return 0, abi.EBADF
	}
	if !d.File.Seekable() {
		return 0, abi.ESPIPE
	}
	if off < 0 {
		return 0, abi.EINVAL
	}
	return d.File.Write(p, off)
}

// Seek implements lseek.
func (d *Description) Seek(off int64, whence int) (int64, error) {
	if !d.File.Seekable() {
		return 0, abi.ESPIPE
	}
	var base int64
	switch whence {
	case abi.SEEK_SET:
	case abi.SEEK_CUR:
		base = d.Offset
	case abi.SEEK_END:
		base = d.File.Stat().Size
	default:
		return 0, abi.EINVAL
	}
	n := base + off
	if n < 0 || (off > 0 && n < base) {
		return 0, abi.EINVAL
	}
	d.Offset = n
	if n == 0 {
		d.dirents = nil
	}
	return n, nil
}

// Getdents fills buf with linux_dirent64 records from the offset on and
// returns the bytes used; EINVAL when even one record does not fit.
func (d *Description) Getdents(size int) ([]byte, error) {
	n := d.File.Inode()
	if n == nil || !n.IsDir() {
		return nil, abi.ENOTDIR
	}
	if d.dirents == nil || d.Offset == 0 {
		ents, err := n.Entries()
		if err != nil {
			return nil, err
		}
		d.dirents = ents
	}
	var out []byte
	for d.Offset < int64(len(d.dirents)) {
		e := d.dirents[d.Offset]
		if len(out)+abi.Dirent64Len(e.Name) > size {
			if len(out) == 0 {
				return nil, abi.EINVAL
			}
			break
		}
		out = abi.AppendDirent64(out, e.Ino, d.Offset+1, e.Type, e.Name)
		d.Offset++
	}
	return out, nil
}

// inodeFile is an open regular file, directory or symlink (O_PATH).
type inodeFile struct {
	n *Inode
}

func (f *inodeFile) Read(p []byte, off int64) (int, error) {
	switch {
	case f.n.IsDir():
		return 0, abi.EISDIR
	case !f.n.IsRegular():
		return 0, abi.EINVAL
	}
	f.n.atime = f.n.fs.now()
	k, err := f.n.ReadAt(p, off)
	if k > 0 {
		f.n.Notify(InAccess)
	}
	return k, err
}

func (f *inodeFile) Write(p []byte, off int64) (int, error) {
	if f.n.IsDir() {
		return 0, abi.EISDIR
	}
	return f.n.WriteAt(p, off)
}

func (f *inodeFile) Seekable() bool { return true }
func (f *inodeFile) Stat() abi.Stat { return f.n.Stat() }
func (f *inodeFile) Poll() uint32   { return abi.POLLIN | abi.POLLOUT }
func (f *inodeFile) Release()       {}
func (f *inodeFile) Inode() *Inode  { return f.n }

// Open returns an open file description for n with openat's flags,
// applying O_TRUNC. path is recorded for /proc and traces.
func (fs *FS) Open(n *Inode, flags uint32, path string) (*Description, error) {
	acc := flags & abi.O_ACCMODE
	if n.open != nil {
		return n.open(), nil
	}
	if flags&abi.O_PATH != 0 {
		return NewDescription(&inodeFile{n: n}, flags&^abi.O_ACCMODE|abi.O_RDONLY, path), nil
	}
	if flags&abi.O_DIRECTORY != 0 && !n.IsDir() {
		return nil, abi.ENOTDIR
	}
	switch n.mode & abi.S_IFMT {
	case abi.S_IFDIR:
		if acc != abi.O_RDONLY {
			return nil, abi.EISDIR
		}
	case abi.S_IFREG:
		if flags&abi.O_TRUNC != 0 && acc != abi.O_RDONLY {
			if err := n.Truncate(0); err != nil {
				return nil, err
			}
		}
		if n.host != "" {
			f, err := fs.openHost(n, flags)
			if err != nil {
				return nil, err
			}
			return NewDescription(f, flags, path), nil
		}
	case abi.S_IFCHR:
		f, err := openDevice(fs, n)
		if err != nil {
			return nil, err
		}
		return NewDescription(f, flags, path), nil
	case abi.S_IFIFO:
		if n.pipe == nil {
			n.pipe = NewPipe()
		}
		// O_RDWR opens both ends at once and never waits (fifo(7)).
		f := n.pipe.open(acc != abi.O_WRONLY, acc != abi.O_RDONLY, n)
		return NewDescription(f, flags, path), nil
	case abi.S_IFLNK:
		return nil, abi.ELOOP
	default:
		return nil, abi.ENXIO
	}
	d := NewDescription(&inodeFile{n: n}, flags, path)
	n.Notify(InOpen)
	return d, nil
}
