package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// Host directories mounted into the namespace (on wasip1, the runtime's
// preopened directories). An Inode with a host path reads and changes the
// host file directly: nothing is cached but the Inode identities, so
// changes made on the host are seen at once. Symbolic links found on the
// host are resolved by the namespace's own walker, inside the guest's
// root, never by the host, so a link cannot lead outside the mount.

// Mount places the host directory hostDir at guestPath (created in the
// overlay if missing), hiding what the image had there.
func (fs *FS) Mount(guestPath, hostDir string) error {
	info, err := os.Stat(hostDir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return &os.PathError{Op: "mount", Path: hostDir, Err: errors.New("not a directory")}
	}
	parent, name, err := fs.mkdirAll(guestPath)
	if err != nil {
		return &os.PathError{Op: "mount", Path: guestPath, Err: err}
	}
	n := fs.newInode(abi.S_IFDIR | uint32(info.Mode().Perm()))
	n.host, n.parent, n.name = hostDir, parent, name
	n.hostChildren = map[string]*Inode{}
	if old, ok := parent.children[name]; ok && old.IsDir() {
		parent.nlink--
	}
	parent.children[name] = n
	parent.nlink++
	return nil
}

// mkdirAll creates the overlay directories leading to p and returns the
// last one's parent and name.
func (fs *FS) mkdirAll(p string) (*Inode, string, error) {
	clean := path.Clean("/" + p)
	if clean == "/" {
		return nil, "", abi.EBUSY
	}
	dir := fs.root
	parts := splitPath(clean)
	for _, c := range parts[:len(parts)-1] {
		next, err := dir.lookup(c)
		if err == abi.ENOENT {
			next, err = fs.Mkdir(dir, c, 0o755)
		}
		if err != nil {
			return nil, "", err
		}
		if !next.IsDir() {
			return nil, "", abi.ENOTDIR
		}
		dir = next
	}
	if err := dir.load(); err != nil {
		return nil, "", err
	}
	return dir, parts[len(parts)-1], nil
}

func splitPath(p string) []string {
	var out []string
	for _, c := range bytesSplit(p) {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func bytesSplit(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

// hostErrno maps a host error to the errno the guest sees.
func hostErrno(err error) error {
	if err == nil {
		return nil
	}
	for _, m := range []struct {
		target error
		errno  abi.Errno
	}{
		{fs.ErrNotExist, abi.ENOENT}, {fs.ErrExist, abi.EEXIST}, {fs.ErrPermission, abi.EACCES},
		{syscall.ENOTEMPTY, abi.ENOTEMPTY}, {syscall.ENOTDIR, abi.ENOTDIR}, {syscall.EISDIR, abi.EISDIR},
		{syscall.EXDEV, abi.EXDEV}, {syscall.ELOOP, abi.ELOOP}, {syscall.ENOSPC, abi.ENOSPC},
		{syscall.EROFS, abi.EROFS}, {syscall.ENAMETOOLONG, abi.ENAMETOOLONG}, {syscall.EINVAL, abi.EINVAL},
	} {
		if errors.Is(err, m.target) {
			return m.errno
		}
	}
	return abi.EIO
}

// hostMode converts a host FileMode to st_mode.
func hostMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	switch {
	case m.IsDir():
		return mode | abi.S_IFDIR
	case m&fs.ModeSymlink != 0:
		return mode | abi.S_IFLNK
	case m&fs.ModeNamedPipe != 0:
		return mode | abi.S_IFIFO
	case m&fs.ModeSocket != 0:
		return mode | abi.S_IFSOCK
	case m&fs.ModeCharDevice != 0:
		return mode | abi.S_IFCHR
	case m&fs.ModeDevice != 0:
		return mode | abi.S_IFBLK
	}
	return mode | abi.S_IFREG
}

// hostName checks a single path component before it is joined to a host
// path: "", ".", ".." and anything with a slash would name another file
// than the entry asked for, possibly outside the mount.
func hostName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || len(name) > 255 {
		return abi.EINVAL
	}
	return nil
}

// hostChild returns the Inode for name in host directory dir, reusing the
// previous Inode while the host entry keeps its type.
func (dir *Inode) hostChild(name string) (*Inode, error) {
	if err := hostName(name); err != nil {
		return nil, err
	}
	p := path.Join(dir.host, name)
	info, err := os.Lstat(p)
	if err != nil {
		delete(dir.hostChildren, name)
		return nil, hostErrno(err)
	}
	mode := hostMode(info.Mode())
	if c, ok := dir.hostChildren[name]; ok && c.mode&abi.S_IFMT == mode&abi.S_IFMT {
		c.refreshHost(info)
		return c, nil
	}
	c := dir.fs.newInode(mode)
	c.host, c.copied = p, false
	c.refreshHost(info)
	if c.IsDir() {
		c.parent, c.name = dir, name
		c.hostChildren = map[string]*Inode{}
	}
	if c.IsSymlink() {
		if c.target, err = os.Readlink(p); err != nil {
			return nil, hostErrno(err)
		}
	}
	dir.hostChildren[name] = c
	return c, nil
}

func (n *Inode) refreshHost(info fs.FileInfo) {
	n.mode = hostMode(info.Mode())
	n.mtime, n.ctime, n.atime = info.ModTime(), info.ModTime(), info.ModTime()
	n.hostSize = info.Size()
}

// hostEntries lists a host directory.
func (n *Inode) hostEntries() ([]DirEntry, error) {
	ents, err := os.ReadDir(n.host)
	if err != nil {
		return nil, hostErrno(err)
	}
	parent := n
	if n.parent != nil {
		parent = n.parent
	}
	out := []DirEntry{{".", n.ino, abi.DT_DIR}, {"..", parent.ino, abi.DT_DIR}}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		c, err := n.hostChild(e.Name())
		if err != nil {
			continue // vanished meanwhile
		}
		out = append(out, DirEntry{e.Name(), c.ino, abi.DirentType(c.mode)})
	}
	return out, nil
}

// hostFile is an open host regular file.
type hostFile struct {
	n *Inode
	f *os.File
}

func (h *hostFile) Read(p []byte, off int64) (int, error) {
	k, err := h.f.ReadAt(p, off)
	h.n.hostPages.readPages(p[:k], off)
	if err == io.EOF {
		return k, io.EOF
	}
	return k, hostErrno(err)
}

func (h *hostFile) Write(p []byte, off int64) (int, error) {
	k, err := h.f.WriteAt(p, off)
	h.n.wroteHost(p[:k], off)
	return k, hostErrno(err)
}

// wroteHost records k bytes written to the host file at off: in the
// mapped pages, and in the length.
func (n *Inode) wroteHost(p []byte, off int64) {
	n.hostPages.wrotePages(p, off)
	n.hostSize = max(n.hostSize, off+int64(len(p)))
}

func (h *hostFile) Seekable() bool { return true }

func (h *hostFile) Stat() abi.Stat {
	if info, err := h.f.Stat(); err == nil {
		h.n.refreshHost(info)
	}
	return h.n.Stat()
}

func (h *hostFile) Poll() uint32  { return abi.POLLIN | abi.POLLOUT }
func (h *hostFile) Release()      { h.f.Close() }
func (h *hostFile) Inode() *Inode { return h.n }

func (fs *FS) openHost(n *Inode, flags uint32) (File, error) {
	if !n.IsRegular() {
		return &inodeFile{n: n}, nil
	}
	var oflag int
	switch flags & abi.O_ACCMODE {
	case abi.O_WRONLY:
		oflag = os.O_WRONLY
	case abi.O_RDWR:
		oflag = os.O_RDWR
	default:
		oflag = os.O_RDONLY
	}
	f, err := os.OpenFile(n.host, oflag, 0)
	if err != nil {
		return nil, hostErrno(err)
	}
	return &hostFile{n: n, f: f}, nil
}

func (n *Inode) hostReadAt(p []byte, off int64) (int, error) {
	f, err := os.Open(n.host)
	if err != nil {
		return 0, hostErrno(err)
	}
	defer f.Close()
	k, err := f.ReadAt(p, off)
	n.hostPages.readPages(p[:k], off)
	if err == io.EOF {
		return k, io.EOF
	}
	return k, hostErrno(err)
}

func (n *Inode) hostWriteAt(p []byte, off int64) (int, error) {
	f, err := os.OpenFile(n.host, os.O_WRONLY, 0)
	if err != nil {
		return 0, hostErrno(err)
	}
	defer f.Close()
	k, err := f.WriteAt(p, off)
	n.wroteHost(p[:k], off)
	return k, hostErrno(err)
}

func (fs *FS) hostCreate(dir *Inode, name string, mode uint32, target string) (*Inode, error) {
	if name == "." || name == ".." || name == "" {
		return nil, abi.EEXIST
	}
	if err := hostName(name); err != nil {
		return nil, err
	}
	p := path.Join(dir.host, name)
	var err error
	switch mode & abi.S_IFMT {
	case abi.S_IFDIR:
		err = os.Mkdir(p, os.FileMode(mode&0o777))
	case abi.S_IFLNK:
		err = os.Symlink(target, p)
	case abi.S_IFREG:
		var f *os.File
		if f, err = os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, os.FileMode(mode&0o777)); err == nil {
			f.Close()
		}
	default:
		return nil, abi.EPERM
	}
	if err != nil {
		return nil, hostErrno(err)
	}
	return dir.hostChild(name)
}

func (fs *FS) hostUnlink(dir *Inode, name string, rmdir bool) error {
	c, err := dir.hostChild(name)
	if err != nil {
		return err
	}
	switch {
	case rmdir && !c.IsDir():
		return abi.ENOTDIR
	case !rmdir && c.IsDir():
		return abi.EISDIR
	}
	if err := os.Remove(c.host); err != nil {
		return hostErrno(err)
	}
	delete(dir.hostChildren, name)
	return nil
}

func (fs *FS) hostRename(oldDir *Inode, oldName string, newDir *Inode, newName string) error {
	c, err := oldDir.hostChild(oldName)
	if err != nil {
		return err
	}
	if err := hostName(newName); err != nil {
		return err
	}
	if err := os.Rename(c.host, path.Join(newDir.host, newName)); err != nil {
		return hostErrno(err)
	}
	delete(oldDir.hostChildren, oldName)
	delete(newDir.hostChildren, newName)
	return nil
}

func (n *Inode) hostSetTimes(atime, mtime *time.Time) error {
	info, err := os.Stat(n.host)
	if err != nil {
		return hostErrno(err)
	}
	a, m := info.ModTime(), info.ModTime()
	if atime != nil {
		a = *atime
	}
	if mtime != nil {
		m = *mtime
	}
	return hostErrno(os.Chtimes(n.host, a, m))
}
