package vfs

import "github.com/wasmrt/wasmrt/emulator/linux/abi"

// SyntheticFile returns a read-only regular file outside the namespace
// holding content, for generated files such as /proc/self/maps.
func (fs *FS) SyntheticFile(content []byte) *Inode {
	n := fs.newInode(abi.S_IFREG | 0o444)
	n.data = newFileData(content)
	return n
}

// SyntheticLink returns a symlink outside the namespace, for /proc links.
func (fs *FS) SyntheticLink(target string) *Inode {
	n := fs.newInode(abi.S_IFLNK | 0o777)
	n.target = target
	return n
}

// SyntheticDir returns a directory outside the namespace whose entries
// are the given inodes, for /proc directories.
func (fs *FS) SyntheticDir(parent *Inode, name string, entries map[string]*Inode) *Inode {
	n := fs.newInode(abi.S_IFDIR | 0o555)
	n.loaded, n.children, n.parent, n.name = true, entries, parent, name
	return n
}

// SyntheticOpen returns an inode outside the namespace whose open returns
// open's description, for /proc/self/fd entries of pipes and streams.
func (fs *FS) SyntheticOpen(open func() *Description) *Inode {
	n := fs.newInode(abi.S_IFIFO | 0o600)
	n.open = open
	return n
}

// NamedFifo reports whether n is a fifo of the namespace (mkfifo), whose
// open waits for the other end; a /proc/self/fd link to a pipe is not.
func (n *Inode) NamedFifo() bool {
	return n.mode&abi.S_IFMT == abi.S_IFIFO && n.open == nil
}

// AnonymousFile returns an empty regular file outside the namespace
// (memfd_create).
func (fs *FS) AnonymousFile() *Inode {
	return fs.newInode(abi.S_IFREG | 0o777)
}
