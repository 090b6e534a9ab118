package vfs

import (
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// FS is the merged namespace: the image below, the in-memory overlay above.
type FS struct {
	img     *rootfs.Image
	root    *Inode
	byImage map[rootfs.Ino]*Inode
	nextIno uint64
	// Clock returns the time stamped on created and modified inodes.
	Clock func() time.Time
	// maxFileSize bounds one in-memory file, so a guest cannot exhaust
	// host memory through a single write at a huge offset.
	maxFileSize int64
	// moveCookie numbers renames for inotify's IN_MOVED_* pairs.
	moveCookie uint32
	// FramesCut, when set, is told that a file with shared frames
	// (frames.go) shrank to size: memory mappings must stop mapping its
	// pages past the end, whose next touch faults.
	FramesCut func(n *Inode, size int64)
	// Console, when set, is what /dev/tty opens: the machine's terminal.
	Console File
	// ControllingTerminal, when set, returns the caller's controlling
	// terminal (nil for none), which /dev/tty opens.
	ControllingTerminal func() *TTY
	// TerminalSignal, when set, is how a pty's line discipline signals
	// (TTY.Signal).
	TerminalSignal func(tty *TTY, sig int)
	// ptys are the pseudo-terminal pairs by index.
	ptys map[int]*PTY
	// Special, when set, resolves absolute paths below /proc/ (including
	// symlink targets such as /dev/stdin's): the kernel generates them.
	// handled is false to fall back to the tree.
	Special func(path string, follow bool) (n *Inode, handled bool, err error)
	// Caller, when set, returns the credentials of the task on whose
	// behalf the namespace is used: path walks, creation, removal and
	// renames check them. Unset means root.
	Caller func() *Credentials
}

// New returns the namespace of img with an empty overlay and the standard
// device nodes under /dev.
func New(img *rootfs.Image) (*FS, error) {
	fs := &FS{img: img, byImage: make(map[rootfs.Ino]*Inode), nextIno: firstDynamicIno, Clock: time.Now, maxFileSize: 1 << 32}
	root, err := fs.fromImage(img.Root(), nil, "")
	if err != nil {
		return nil, fmt.Errorf("rootfs root directory: %w", err)
	}
	if !root.IsDir() {
		return nil, fmt.Errorf("rootfs root inode is not a directory (mode %#o)", root.mode)
	}
	fs.root = root
	if err := fs.populateDev(); err != nil {
		return nil, err
	}
	for _, dir := range []string{"tmp", "proc"} {
		if _, err := root.lookup(dir); err == abi.ENOENT {
			if _, err := fs.Mkdir(root, dir, 0o1777); err != nil {
				return nil, fmt.Errorf("create /%s: %w", dir, err)
			}
		}
	}
	return fs, nil
}

func (fs *FS) now() time.Time { return fs.Clock() }

// Root returns the root directory.
func (fs *FS) Root() *Inode { return fs.root }

// fromImage returns the Inode for image inode ino, creating it once (so
// hard links share it).
func (fs *FS) fromImage(ino rootfs.Ino, parent *Inode, name string) (*Inode, error) {
	if n, ok := fs.byImage[ino]; ok {
		return n, nil
	}
	st, err := fs.img.Stat(ino)
	if err != nil {
		return nil, err
	}
	mt := st.Mtime()
	n := &Inode{fs: fs, ino: uint64(ino), mode: st.Mode, uid: st.UID, gid: st.GID, nlink: st.Nlink,
		rdev: st.Rdev, mtime: mt, atime: mt, ctime: mt, image: ino, parent: parent, name: name,
		dentryDir: parent, dentryName: name}
	if st.IsSymlink() {
		if n.target, err = fs.img.Readlink(ino); err != nil {
			return nil, err
		}
	}
	if !st.IsRegular() && !st.IsDir() {
		n.image = 0
		if st.IsSymlink() {
			n.image = ino
		}
	}
	fs.byImage[ino] = n
	return n, nil
}

func (fs *FS) newInode(mode uint32) *Inode {
	now := fs.now()
	fs.nextIno++
	return &Inode{fs: fs, ino: fs.nextIno, mode: mode, nlink: 1, mtime: now, atime: now, ctime: now, copied: mode&abi.S_IFMT == abi.S_IFREG}
}

// maxSymlinks is the kernel's limit on symlinks followed in one lookup.
const maxSymlinks = 40

// PathMax is the longest path accepted, with its NUL (PATH_MAX).
const PathMax = 4096

// Lookup resolves path relative to dir (absolute paths start at the
// root). follow says whether a symlink in the last component is
// followed.
func (fs *FS) Lookup(dir *Inode, path string, follow bool) (*Inode, error) {
	links := 0
	return fs.walk(dir, path, follow, &links)
}

func (fs *FS) walk(dir *Inode, path string, follow bool, links *int) (*Inode, error) {
	if path == "" {
		return nil, abi.ENOENT
	}
	if len(path) >= PathMax {
		return nil, abi.ENAMETOOLONG
	}
	if fs.Special != nil && (strings.HasPrefix(path, "/proc/") || path == "/proc") {
		if n, handled, err := fs.Special(path, follow); handled {
			return n, err
		}
	}
	cur := dir
	if strings.HasPrefix(path, "/") {
		cur = fs.root
	}
	trailingSlash := strings.HasSuffix(path, "/")
	comps := strings.Split(path, "/")
	for i, c := range comps {
		if c == "" || c == "." {
			if c == "." && !cur.IsDir() {
				return nil, abi.ENOTDIR
			}
			continue
		}
		if len(c) > rootfs.MaxNameLen {
			return nil, abi.ENAMETOOLONG
		}
		if cred := fs.caller(); !cred.Root() && cur.IsDir() {
			if err := cur.Permission(cred, MayExec); err != nil {
				return nil, err
			}
		}
		next, err := cur.lookup(c)
		if err != nil {
			return nil, err
		}
		last := i == len(comps)-1 || allEmpty(comps[i+1:])
		if next.IsSymlink() && (!last || follow || trailingSlash) {
			*links++
			if *links > maxSymlinks {
				return nil, abi.ELOOP
			}
			// Continue with the target followed by the rest of the path,
			// so that a target below /proc reaches the kernel with the
			// components after it.
			rest := strings.Join(comps[i+1:], "/")
			target := next.target
			if rest != "" {
				target = strings.TrimSuffix(target, "/") + "/" + rest
			}
			return fs.walk(cur, target, follow, links)
		}
		cur = next
	}
	if trailingSlash && !cur.IsDir() {
		return nil, abi.ENOTDIR
	}
	return cur, nil
}

func allEmpty(comps []string) bool {
	for _, c := range comps {
		if c != "" && c != "." {
			return false
		}
	}
	return true
}

// LookupParent resolves all but the last component of path and returns
// that directory and the last component ("" for the root, "." or ".."
// verbatim).
func (fs *FS) LookupParent(dir *Inode, path string) (*Inode, string, error) {
	if path == "" {
		return nil, "", abi.ENOENT
	}
	if len(path) >= PathMax {
		return nil, "", abi.ENAMETOOLONG
	}
	trimmed := strings.TrimRight(path, "/")
	if trimmed == "" {
		return fs.root, ".", nil
	}
	i := strings.LastIndexByte(trimmed, '/')
	name := trimmed[i+1:]
	if len(name) > rootfs.MaxNameLen {
		return nil, "", abi.ENAMETOOLONG
	}
	parent := dir
	if i >= 0 {
		prefix := trimmed[:i+1]
		var err error
		if parent, err = fs.Lookup(dir, prefix, true); err != nil {
			return nil, "", err
		}
	}
	if !parent.IsDir() {
		return nil, "", abi.ENOTDIR
	}
	return parent, name, nil
}

// Create makes a new inode called name in dir. It fails with EEXIST if
// the name is taken.
func (fs *FS) Create(dir *Inode, name string, mode uint32) (*Inode, error) {
	if dir.IsDir() {
		if err := fs.Access(dir, MayWrite|MayExec); err != nil {
			return nil, err
		}
	}
	if dir.host != "" {
		return fs.hostCreate(dir, name, mode, "")
	}
	if err := checkNewName(dir, name); err != nil {
		return nil, err
	}
	uid, gid, setgid := fs.newOwner(dir, mode)
	n := fs.newInode(mode | setgid)
	n.uid, n.gid = uid, gid
	if n.IsDir() {
		n.nlink = 2
		n.loaded = true
		n.children = make(map[string]*Inode)
		n.parent, n.name = dir, name
		dir.nlink++
	}
	dir.children[name] = n
	n.named(dir, name)
	dir.touch()
	notifyDir(dir, n, InCreate, name, 0)
	return n, nil
}

// WriteFile replaces the entry name of dir (unless a directory) with a
// regular file holding data, dated mtime: what the machine itself places
// in the guest's tree before it starts.
func (fs *FS) WriteFile(dir *Inode, name string, mode uint32, data []byte, mtime time.Time) error {
	if old, err := dir.lookup(name); err == nil {
		if old.IsDir() {
			return abi.EISDIR
		}
		if err := fs.Unlink(dir, name, false); err != nil {
			return err
		}
	}
	n, err := fs.Create(dir, name, abi.S_IFREG|mode)
	if err != nil {
		return err
	}
	if _, err = n.WriteAt(data, 0); err != nil {
		return err
	}
	return n.SetTimes(&mtime, &mtime)
}

func checkNewName(dir *Inode, name string) error {
	if !dir.IsDir() {
		return abi.ENOTDIR
	}
	if name == "." || name == ".." || name == "" {
		return abi.EEXIST
	}
	if len(name) > rootfs.MaxNameLen {
		return abi.ENAMETOOLONG
	}
	if err := dir.load(); err != nil {
		return err
	}
	if _, ok := dir.children[name]; ok {
		return abi.EEXIST
	}
	return nil
}

// Mkdir creates a directory.
func (fs *FS) Mkdir(dir *Inode, name string, perm uint32) (*Inode, error) {
	return fs.Create(dir, name, abi.S_IFDIR|perm&0o7777)
}

// Symlink creates a symbolic link to target.
func (fs *FS) Symlink(dir *Inode, name, target string) (*Inode, error) {
	if target == "" {
		return nil, abi.ENOENT
	}
	if dir.host != "" {
		return fs.hostCreate(dir, name, abi.S_IFLNK|0o777, target)
	}
	n, err := fs.Create(dir, name, abi.S_IFLNK|0o777)
	if err != nil {
		return nil, err
	}
	n.target = target
	return n, nil
}

// Link adds a hard link to a non-directory inode.
func (fs *FS) Link(dir *Inode, name string, target *Inode) error {
	if target.IsDir() {
		return abi.EPERM
	}
	if err := fs.Access(dir, MayWrite|MayExec); err != nil {
		return err
	}
	switch {
	case dir.host != "" && target.host != "":
		if err := hostName(name); err != nil {
			return err
		}
		if err := os.Link(target.host, path.Join(dir.host, name)); err != nil {
			return hostErrno(err)
		}
		return nil
	case dir.host != "" || target.host != "":
		return abi.EXDEV
	}
	if err := checkNewName(dir, name); err != nil {
		return err
	}
	dir.children[name] = target
	target.nlink++
	target.ctime = fs.now()
	dir.touch()
	target.notifySelf(InAttrib)
	notifyDir(dir, target, InCreate, name, 0)
	return nil
}

// Unlink removes name from dir: a non-directory, or with rmdir an empty
// directory.
func (fs *FS) Unlink(dir *Inode, name string, rmdir bool) error {
	if name == "." {
		return abi.EINVAL
	}
	if name == ".." {
		return abi.ENOTEMPTY
	}
	n, err := dir.lookup(name)
	if err != nil {
		return err
	}
	if err := fs.mayDelete(dir, n); err != nil {
		return err
	}
	if dir.host != "" {
		return fs.hostUnlink(dir, name, rmdir)
	}
	if rmdir {
		if !n.IsDir() {
			return abi.ENOTDIR
		}
		if n == fs.root {
			return abi.EBUSY
		}
		if err := n.load(); err != nil {
			return err
		}
		if len(n.children) != 0 {
			return abi.ENOTEMPTY
		}
		dir.nlink--
		n.nlink = 0
	} else {
		if n.IsDir() {
			return abi.EISDIR
		}
		n.nlink--
	}
	delete(dir.children, name)
	n.ctime = fs.now()
	dir.touch()
	if !rmdir {
		n.notifySelf(InAttrib)
	}
	notifyDir(dir, n, InDelete, name, 0)
	if n.nlink == 0 {
		n.deleted()
	}
	return nil
}

// Rename moves oldDir/oldName to newDir/newName with renameat2 semantics.
func (fs *FS) Rename(oldDir *Inode, oldName string, newDir *Inode, newName string, flags uint32) error {
	if oldName == "." || oldName == ".." || newName == "." || newName == ".." {
		return abi.EBUSY
	}
	if len(newName) > rootfs.MaxNameLen {
		return abi.ENAMETOOLONG
	}
	n, err := oldDir.lookup(oldName)
	if err != nil {
		return err
	}
	if !newDir.IsDir() {
		return abi.ENOTDIR
	}
	if err := fs.mayDelete(oldDir, n); err != nil {
		return err
	}
	if victim, err := newDir.lookup(newName); err == nil {
		if err := fs.mayDelete(newDir, victim); err != nil {
			return err
		}
	} else if err := fs.Access(newDir, MayWrite|MayExec); err != nil {
		return err
	}
	if n.IsDir() && oldDir != newDir {
		// Its ".." entry changes.
		if err := fs.Access(n, MayWrite); err != nil {
			return err
		}
	}
	switch {
	case oldDir.host != "" && newDir.host != "" && flags == 0:
		return fs.hostRename(oldDir, oldName, newDir, newName)
	case oldDir.host != "" || newDir.host != "":
		// Moving between the host and memory is a copy: mv falls back to
		// one on EXDEV, as across real mounts.
		return abi.EXDEV
	}
	if err := newDir.load(); err != nil {
		return err
	}
	if n.IsDir() {
		// A directory cannot move below itself.
		for d := newDir; d != nil; d = d.parent {
			if d == n {
				return abi.EINVAL
			}
		}
	}
	victim, exists := newDir.children[newName]
	if flags&abi.RENAME_NOREPLACE != 0 && exists {
		return abi.EEXIST
	}
	if flags&abi.RENAME_EXCHANGE != 0 {
		if !exists {
			return abi.ENOENT
		}
		oldDir.children[oldName], newDir.children[newName] = victim, n
		fs.reparent(victim, oldDir, oldName)
		fs.reparent(n, newDir, newName)
		fs.notifyMove(oldDir, oldName, newDir, newName, n)
		fs.notifyMove(newDir, newName, oldDir, oldName, victim)
		return nil
	}
	if exists {
		if victim == n {
			return nil
		}
		switch {
		case n.IsDir() && !victim.IsDir():
			return abi.ENOTDIR
		case !n.IsDir() && victim.IsDir():
			return abi.EISDIR
		case victim.IsDir():
			if err := victim.load(); err != nil {
				return err
			}
			if len(victim.children) != 0 {
				return abi.ENOTEMPTY
			}
			newDir.nlink--
		default:
			victim.nlink--
		}
	}
	delete(oldDir.children, oldName)
	newDir.children[newName] = n
	if n.IsDir() && oldDir != newDir {
		oldDir.nlink--
		newDir.nlink++
	}
	fs.reparent(n, newDir, newName)
	oldDir.touch()
	newDir.touch()
	fs.notifyMove(oldDir, oldName, newDir, newName, n)
	if exists && (victim.nlink == 0 || victim.IsDir()) {
		victim.deleted()
	}
	return nil
}

// notifyMove reports a rename: IN_MOVED_FROM and IN_MOVED_TO with one
// cookie to the directories, IN_MOVE_SELF to the inode.
func (fs *FS) notifyMove(oldDir *Inode, oldName string, newDir *Inode, newName string, n *Inode) {
	if oldDir.watchers == nil && newDir.watchers == nil && n.watchers == nil {
		return
	}
	fs.moveCookie++
	notifyDir(oldDir, n, InMovedFrom, oldName, fs.moveCookie)
	notifyDir(newDir, n, InMovedTo, newName, fs.moveCookie)
	n.notifySelf(InMoveSelf)
}

func (fs *FS) reparent(n, dir *Inode, name string) {
	if n.IsDir() {
		n.parent, n.name = dir, name
	}
	n.named(dir, name)
	n.ctime = fs.now()
}

// Realpath returns the canonical absolute path of what path names
// relative to dir, with every symlink resolved, as realpath(3) and
// /proc/self/exe report it.
func (fs *FS) Realpath(dir *Inode, path string) (string, error) {
	return fs.realpath(dir, path, 0)
}

func (fs *FS) realpath(dir *Inode, path string, depth int) (string, error) {
	if depth > maxSymlinks {
		return "", abi.ELOOP
	}
	parent, name, err := fs.LookupParent(dir, path)
	if err != nil {
		return "", err
	}
	n, err := parent.lookup(name)
	if err != nil {
		return "", err
	}
	if n.IsSymlink() {
		return fs.realpath(parent, n.target, depth+1)
	}
	if n.IsDir() {
		return n.Path(), nil
	}
	if parent.parent == nil {
		return "/" + name, nil
	}
	return parent.Path() + "/" + name, nil
}
