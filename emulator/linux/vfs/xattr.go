package vfs

import (
	"slices"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// Extended attributes, kept in memory per inode as tmpfs keeps them. The
// system call layer checks names, namespaces and permissions; files of
// host directories have none and refuse them (WASI has no xattr calls).

const (
	// XattrCreate and XattrReplace are setxattr's flags.
	XattrCreate  = 1
	XattrReplace = 2
)

// GetXattr returns the value of the attribute name.
func (n *Inode) GetXattr(name string) ([]byte, error) {
	if n.host != "" {
		return nil, abi.EOPNOTSUPP
	}
	v, ok := n.xattrs[name]
	if !ok {
		return nil, abi.ENODATA
	}
	return v, nil
}

// SetXattr sets the attribute name to value, as flags allow.
func (n *Inode) SetXattr(name string, value []byte, flags int) error {
	if n.host != "" {
		return abi.EOPNOTSUPP
	}
	_, exists := n.xattrs[name]
	switch {
	case flags&XattrCreate != 0 && exists:
		return abi.EEXIST
	case flags&XattrReplace != 0 && !exists:
		return abi.ENODATA
	}
	if n.xattrs == nil {
		n.xattrs = make(map[string][]byte)
	}
	n.xattrs[name] = slices.Clone(value)
	n.ctime = n.fs.now()
	n.Notify(InAttrib)
	return nil
}

// RemoveXattr deletes the attribute name.
func (n *Inode) RemoveXattr(name string) error {
	if n.host != "" {
		return abi.EOPNOTSUPP
	}
	if _, ok := n.xattrs[name]; !ok {
		return abi.ENODATA
	}
	delete(n.xattrs, name)
	n.ctime = n.fs.now()
	n.Notify(InAttrib)
	return nil
}

// ListXattr returns the names of the inode's attributes, sorted.
func (n *Inode) ListXattr() ([]string, error) {
	if n.host != "" {
		return nil, abi.EOPNOTSUPP
	}
	names := make([]string, 0, len(n.xattrs))
	for name := range n.xattrs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}
