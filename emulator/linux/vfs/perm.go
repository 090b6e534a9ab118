package vfs

import (
	"slices"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// Access bits for Permission, as MAY_EXEC, MAY_WRITE and MAY_READ in the
// kernel (and as access(2)'s X_OK, W_OK, R_OK).
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// Credentials are the file-system identity of the caller: its fsuid and
// fsgid (which follow the effective ids) and supplementary groups. Root
// (UID 0) holds CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_CHOWN; no other user
// holds any capability, as with a container's default capability set.
type Credentials struct {
	UID, GID uint32
	Groups   []uint32
}

// Root reports whether the caller has root's file capabilities.
func (c *Credentials) Root() bool { return c == nil || c.UID == 0 }

// InGroup reports whether gid is the caller's fsgid or a supplementary
// group.
func (c *Credentials) InGroup(gid uint32) bool {
	return c.GID == gid || slices.Contains(c.Groups, gid)
}

// caller returns the credentials checks run against; nil is root.
func (fs *FS) caller() *Credentials {
	if fs.Caller == nil {
		return nil
	}
	return fs.Caller()
}

// Permission checks that c may access n as mask (MayRead|MayWrite|MayExec)
// says, with the kernel's generic_permission rules: the owner, group or
// other bits apply, in that order of precedence; root may read and write
// anything and execute anything with an execute bit (or search any
// directory). Inodes of mounted host directories check only the execute
// bit: the host enforces its own ownership, which WASI does not expose.
func (n *Inode) Permission(c *Credentials, mask uint32) error {
	if c.Root() || n.host != "" {
		if mask&MayExec != 0 && !n.IsDir() && n.mode&0o111 == 0 {
			return abi.EACCES
		}
		return nil
	}
	bits := n.mode & 0o7
	switch {
	case c.UID == n.uid:
		bits = n.mode >> 6 & 0o7
	case c.InGroup(n.gid):
		bits = n.mode >> 3 & 0o7
	}
	if mask&^bits&0o7 != 0 {
		return abi.EACCES
	}
	return nil
}

// Access checks the calling task's access to n (see Permission).
func (fs *FS) Access(n *Inode, mask uint32) error {
	return n.Permission(fs.caller(), mask)
}

// IsOwner reports whether the caller owns n or has CAP_FOWNER, as chmod,
// utimes with explicit times and the sticky-bit rules require.
func (fs *FS) IsOwner(n *Inode) bool {
	c := fs.caller()
	return c.Root() || c.UID == n.uid
}

// mayDelete checks that the caller may remove or replace the entry victim
// of dir: write and search permission on dir and, in a sticky directory,
// ownership of the entry or of the directory.
func (fs *FS) mayDelete(dir, victim *Inode) error {
	c := fs.caller()
	if err := dir.Permission(c, MayWrite|MayExec); err != nil {
		return err
	}
	if dir.mode&abi.S_ISVTX != 0 && !c.Root() && dir.host == "" && c.UID != victim.uid && c.UID != dir.uid {
		return abi.EPERM
	}
	return nil
}

// newOwner returns the owner of an inode created in dir: the caller's
// fsuid, and its fsgid unless dir is set-group-ID (then dir's group, and
// a new directory inherits the set-group-ID bit).
func (fs *FS) newOwner(dir *Inode, mode uint32) (uid, gid, setgid uint32) {
	c := fs.caller()
	if c != nil {
		uid, gid = c.UID, c.GID
	}
	if dir.mode&abi.S_ISGID != 0 {
		gid = dir.gid
		if mode&abi.S_IFMT == abi.S_IFDIR {
			setgid = abi.S_ISGID
		}
	}
	return uid, gid, setgid
}
