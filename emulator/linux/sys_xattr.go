package linux

import (
	"strings"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// Extended attributes (setxattr(2), getxattr(2), listxattr(2),
// removexattr(2) and their l- and f- forms) with Linux's namespace rules:
// user.* on regular files and directories for whoever may read or write
// the file, trusted.* for root only (hidden from others' listings),
// security.* readable by all and set by root; system.* (POSIX ACLs) and
// unknown namespaces are EOPNOTSUPP, as on a filesystem without ACLs.

const (
	xattrNameMax = 255
	xattrSizeMax = 64 << 10
)

// xattrPath, xattrLink and xattrFD say how an xattr call names its file.
const (
	xattrPath = iota
	xattrLink
	xattrFD
)

// xattrInode returns the inode the call's first argument names.
func (t *Task) xattrInode(how int, arg uint64) (*vfs.Inode, error) {
	if how == xattrFD {
		d, err := t.fd(arg)
		if err != nil {
			return nil, err
		}
		n := d.File.Inode()
		if n == nil {
			return nil, abi.EOPNOTSUPP
		}
		return n, nil
	}
	return t.lookupAt(abi.AT_FDCWD&0xffffffff, arg, 0, how == xattrPath)
}

// xattrName reads an attribute name and checks that the caller may get
// (write false) or set and remove it on n.
func (t *Task) xattrName(n *vfs.Inode, addr uint64, write bool) (string, error) {
	name, err := t.readString(addr)
	if err != nil {
		return "", err
	}
	if name == "" || len(name) > xattrNameMax {
		return "", abi.ERANGE
	}
	denied := abi.ENODATA
	if write {
		denied = abi.EPERM
	}
	root := t.proc.cred.privileged()
	switch ns, _, _ := strings.Cut(name, "."); ns {
	case "user":
		if !n.IsRegular() && !n.IsDir() {
			return "", denied
		}
		mask := uint32(vfs.MayRead)
		if write {
			mask = vfs.MayWrite
		}
		return name, t.k.fs.Access(n, mask)
	case "trusted":
		if !root {
			return "", denied
		}
	case "security":
		if write && !root {
			return "", abi.EPERM
		}
	default:
		return "", abi.EOPNOTSUPP
	}
	return name, nil
}

func (t *Task) setxattr(how int, a args) (uint64, error) {
	n, err := t.xattrInode(how, a[0])
	if err != nil {
		return 0, err
	}
	if a[4]&^(vfs.XattrCreate|vfs.XattrReplace) != 0 {
		return 0, abi.EINVAL
	}
	name, err := t.xattrName(n, a[1], true)
	if err != nil {
		return 0, err
	}
	if a[3] > xattrSizeMax {
		return 0, abi.E2BIG
	}
	value := make([]byte, a[3])
	if err := t.copyIn(a[2], value); err != nil {
		return 0, err
	}
	return 0, n.SetXattr(name, value, int(a[4]))
}

func (t *Task) getxattr(how int, a args) (uint64, error) {
	n, err := t.xattrInode(how, a[0])
	if err != nil {
		return 0, err
	}
	name, err := t.xattrName(n, a[1], false)
	if err != nil {
		return 0, err
	}
	v, err := n.GetXattr(name)
	if err != nil {
		return 0, err
	}
	return t.copyOutSized(a[2], a[3], v)
}

func (t *Task) listxattr(how int, a args) (uint64, error) {
	n, err := t.xattrInode(how, a[0])
	if err != nil {
		return 0, err
	}
	names, err := n.ListXattr()
	if err != nil {
		return 0, err
	}
	root := t.proc.cred.privileged()
	var list []byte
	for _, name := range names {
		if strings.HasPrefix(name, "trusted.") && !root {
			continue
		}
		list = append(append(list, name...), 0)
	}
	return t.copyOutSized(a[1], a[2], list)
}

func (t *Task) removexattr(how int, a args) (uint64, error) {
	n, err := t.xattrInode(how, a[0])
	if err != nil {
		return 0, err
	}
	name, err := t.xattrName(n, a[1], true)
	if err != nil {
		return 0, err
	}
	return 0, n.RemoveXattr(name)
}

// copyOutSized answers the size-probing convention of getxattr and
// listxattr: size 0 asks for the length, a smaller buffer is ERANGE.
func (t *Task) copyOutSized(addr, size uint64, b []byte) (uint64, error) {
	switch {
	case size == 0:
		return uint64(len(b)), nil
	case size < uint64(len(b)):
		return 0, abi.ERANGE
	}
	return uint64(len(b)), t.copyOut(addr, b)
}

func sysSetxattr(t *Task, a args) (uint64, error)     { return t.setxattr(xattrPath, a) }
func sysLsetxattr(t *Task, a args) (uint64, error)    { return t.setxattr(xattrLink, a) }
func sysFsetxattr(t *Task, a args) (uint64, error)    { return t.setxattr(xattrFD, a) }
func sysGetxattr(t *Task, a args) (uint64, error)     { return t.getxattr(xattrPath, a) }
func sysLgetxattr(t *Task, a args) (uint64, error)    { return t.getxattr(xattrLink, a) }
func sysFgetxattr(t *Task, a args) (uint64, error)    { return t.getxattr(xattrFD, a) }
func sysListxattr(t *Task, a args) (uint64, error)    { return t.listxattr(xattrPath, a) }
func sysLlistxattr(t *Task, a args) (uint64, error)   { return t.listxattr(xattrLink, a) }
func sysFlistxattr(t *Task, a args) (uint64, error)   { return t.listxattr(xattrFD, a) }
func sysRemovexattr(t *Task, a args) (uint64, error)  { return t.removexattr(xattrPath, a) }
func sysLremovexattr(t *Task, a args) (uint64, error) { return t.removexattr(xattrLink, a) }
func sysFremovexattr(t *Task, a args) (uint64, error) { return t.removexattr(xattrFD, a) }
