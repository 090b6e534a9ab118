package rootfs

import (
	"io/fs"
	"strings"
	"time"
	"unsafe"
)

// Stat is an inode's metadata, in the form of Linux struct stat.
type Stat struct {
	Ino       Ino
	Mode      uint32 // Linux st_mode: file type, setuid/setgid/sticky and permission bits
	Nlink     uint32
	UID       uint32
	GID       uint32
	Rdev      uint64 // Linux dev_t of a character or block device; 0 otherwise
	Size      int64  // regular file: content length; symlink: target length; 0 otherwise
	MtimeSec  int64
	MtimeNsec int64
}

// Mtime returns the modification time.
func (s Stat) Mtime() time.Time { return time.Unix(s.MtimeSec, s.MtimeNsec) }

// IsDir reports whether the inode is a directory.
func (s Stat) IsDir() bool { return s.Mode&modeType == modeDir }

// IsRegular reports whether the inode is a regular file.
func (s Stat) IsRegular() bool { return s.Mode&modeType == modeRegular }

// IsSymlink reports whether the inode is a symbolic link.
func (s Stat) IsSymlink() bool { return s.Mode&modeType == modeSymlink }

// Root returns the root directory's inode number.
func (im *Image) Root() Ino { return RootIno }

// record returns ino's inode record, or ErrInvalid for a number that names
// no inode.
func (im *Image) record(ino Ino) (InodeRecord, error) {
	if ino == 0 || uint32(ino) > im.ninodes {
		return InodeRecord{}, ErrInvalid
	}
	return im.inode(ino), nil
}

func (im *Image) dirRecord(ino Ino) (InodeRecord, error) {
	r, err := im.record(ino)
	if err != nil {
		return r, err
	}
	if r.Mode&modeType != modeDir {
		return r, ErrNotDir
	}
	return r, nil
}

// Stat returns ino's metadata.
func (im *Image) Stat(ino Ino) (Stat, error) {
	r, err := im.record(ino)
	if err != nil {
		return Stat{}, err
	}
	st := Stat{
		Ino:       ino,
		Mode:      r.Mode,
		Nlink:     r.Nlink,
		UID:       r.UID,
		GID:       r.GID,
		MtimeSec:  r.MtimeSec,
		MtimeNsec: int64(r.MtimeNsec),
	}
	switch r.Mode & modeType {
	case modeRegular, modeSymlink:
		st.Size = int64(r.Size) // validated ≤ MaxInt64
	case modeChar, modeBlock:
		st.Rdev = r.Rdev
	}
	return st, nil
}

// Lookup returns the inode that name refers to in directory dir. name is a
// single path component; "." is dir itself and ".." its parent (the root's
// parent is the root). It returns ErrNotDir if dir is not a directory and
// ErrNotExist, unwrapped so that the frequent miss costs no allocation, if
// there is no such entry. The lookup is a binary search over the directory's
// sorted entries.
func (im *Image) Lookup(dir Ino, name string) (Ino, error) {
	r, err := im.dirRecord(dir)
	if err != nil {
		return 0, err
	}
	switch name {
	case ".":
		return dir, nil
	case "..":
		return Ino(r.Parent), nil
	}
	lo, hi := r.DataIndex, r.DataIndex+r.DataCount
	for lo < hi {
		mid := lo + (hi-lo)/2
		d := im.dirent(mid)
		switch c := strings.Compare(im.str(d.NameOffset, uint32(d.NameLen)), name); {
		case c == 0:
			return Ino(d.Ino), nil
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, ErrNotExist
}

// LookupPath resolves a slash-separated path from the root without following
// symbolic links: every component but the last must be a directory (a
// symlink there yields ErrNotDir; resolving links is the caller's job).
// Empty and "." components are skipped and ".." goes to the parent, so "/",
// "" and "." all name the root. Errors are *fs.PathError values naming path.
func (im *Image) LookupPath(path string) (Ino, error) {
	ino := RootIno
	rest := path
	for rest != "" {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		if comp == "" || comp == "." {
			continue
		}
		next, err := im.Lookup(ino, comp)
		if err != nil {
			return 0, &fs.PathError{Op: "lookup", Path: path, Err: err}
		}
		ino = next
	}
	return ino, nil
}

// DirEntry is one entry of a directory.
type DirEntry struct {
	Name string // aliases the image
	Ino  Ino
	Type uint32 // file-type bits of the entry's st_mode (Mode & 0o170000), as getdents' d_type needs
}

// ReadDir calls fn for dir's entries in name order (byte order), starting at
// entry index start (0 is the first entry), until fn returns false or the
// entries run out. index is the entry's position, so a getdents
// implementation can resume after it with start = index+1. "." and ".." are
// not stored; callers synthesize them. A start past the end calls fn for
// nothing.
func (im *Image) ReadDir(dir Ino, start int, fn func(index int, e DirEntry) bool) error {
	r, err := im.dirRecord(dir)
	if err != nil {
		return err
	}
	if start < 0 {
		return ErrInvalid
	}
	for i := uint64(start); i < uint64(r.DataCount); i++ {
		d := im.dirent(r.DataIndex + uint32(i))
		e := DirEntry{
			Name: im.str(d.NameOffset, uint32(d.NameLen)),
			Ino:  Ino(d.Ino),
			Type: im.inode(Ino(d.Ino)).Mode & modeType,
		}
		if !fn(int(i), e) {
			break
		}
	}
	return nil
}

// Readlink returns a symbolic link's target, verbatim. It returns ErrInvalid
// if ino is not a symlink (as readlink(2) does).
func (im *Image) Readlink(ino Ino) (string, error) {
	r, err := im.record(ino)
	if err != nil {
		return "", err
	}
	if r.Mode&modeType != modeSymlink {
		return "", ErrInvalid
	}
	return im.str(r.DataIndex, r.DataCount), nil
}

// Xattrs calls fn for each of ino's extended attributes in name order until
// fn returns false. value aliases the image and must not be modified.
func (im *Image) Xattrs(ino Ino, fn func(name string, value []byte) bool) error {
	r, err := im.record(ino)
	if err != nil {
		return err
	}
	for i := uint32(0); i < r.XattrCount; i++ {
		x := im.xattr(r.XattrIndex + i)
		if !fn(im.str(x.NameOffset, uint32(x.NameLen)), im.bytes(x.ValueOffset, x.ValueLen)) {
			break
		}
	}
	return nil
}

// Xattr returns the value of ino's extended attribute name, or ErrNoXattr.
// The value aliases the image and must not be modified.
func (im *Image) Xattr(ino Ino, name string) ([]byte, error) {
	r, err := im.record(ino)
	if err != nil {
		return nil, err
	}
	lo, hi := r.XattrIndex, r.XattrIndex+r.XattrCount
	for lo < hi {
		mid := lo + (hi-lo)/2
		x := im.xattr(mid)
		switch c := strings.Compare(im.str(x.NameOffset, uint32(x.NameLen)), name); {
		case c == 0:
			return im.bytes(x.ValueOffset, x.ValueLen), nil
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return nil, ErrNoXattr
}

// bytes returns a validated range of the string section with its capacity
// clipped, so appending to it cannot write into the image.
func (im *Image) bytes(off, n uint32) []byte {
	end := uint64(off) + uint64(n)
	return im.strs[off:end:end]
}

// str returns a validated range of the string section as a string without
// copying. This is sound because the image is never modified while open.
func (im *Image) str(off, n uint32) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&im.strs[off], n)
}
