package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// openat2's struct open_how and RESOLVE_* flags.
const (
	openHowSize       = 24
	resolveNoXdev     = 0x01
	resolveNoMagic    = 0x02
	resolveNoSymlinks = 0x04
	resolveBeneath    = 0x08
	resolveInRoot     = 0x10
	resolveCached     = 0x20
)

func sysOpenat2(t *Task, a args) (uint64, error) {
	size := a[3]
	if size < openHowSize || size > 4096 {
		return 0, abi.EINVAL
	}
	how := make([]byte, size)
	if err := t.copyIn(a[2], how); err != nil {
		return 0, err
	}
	for _, b := range how[openHowSize:] {
		if b != 0 {
			return 0, abi.E2BIG
		}
	}
	flags, mode, resolve := le.Uint64(how[0:]), le.Uint64(how[8:]), le.Uint64(how[16:])
	if flags>>32 != 0 || mode>>12 != 0 || (mode != 0 && flags&(abi.O_CREAT|abi.O_TMPFILE) == 0) {
		return 0, abi.EINVAL
	}
	if resolve&^(resolveNoXdev|resolveNoMagic|resolveNoSymlinks|resolveBeneath|resolveInRoot|resolveCached) != 0 {
		return 0, abi.EINVAL
	}
	if resolve&(resolveBeneath|resolveInRoot|resolveNoSymlinks) != 0 {
		// Confinement to a directory tree is not implemented: refuse
		// rather than resolve less strictly than asked.
		return 0, abi.EOPNOTSUPP
	}
	return t.openat(a[0], a[1], uint32(flags), uint32(mode))
}

func sysFchmodat2(t *Task, a args) (uint64, error) {
	flags := uint32(a[3])
	n, err := t.lookupAt(a[0], a[1], flags, flags&abi.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return 0, err
	}
	if n.IsSymlink() {
		return 0, abi.EOPNOTSUPP
	}
	return 0, n.Chmod(uint32(a[2]))
}

func sysMemfdCreate(t *Task, a args) (uint64, error) {
	const (
		mfdCloexec      = 1
		mfdAllowSealing = 2
	)
	name, err := t.readString(a[0])
	if err != nil {
		return 0, err
	}
	if len(name) > 249 || a[1]&^(mfdCloexec|mfdAllowSealing) != 0 {
		return 0, abi.EINVAL
	}
	n := t.k.fs.AnonymousFile()
	n.MakeSealable(a[1]&mfdAllowSealing != 0)
	d, err := t.k.fs.Open(n, abi.O_RDWR, "/memfd:"+name+" (deleted)")
	if err != nil {
		return 0, err
	}
	fd, err := t.proc.files.alloc(d, 0, a[1]&mfdCloexec != 0)
	return uint64(fd), err
}

func sysCopyFileRange(t *Task, a args) (uint64, error) {
	in, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	out, err := t.fd(a[2])
	if err != nil {
		return 0, err
	}
	if a[5] != 0 {
		return 0, abi.EINVAL
	}
	if n := in.File.Inode(); n == nil || !n.IsRegular() {
		return 0, abi.EINVAL
	}
	if n := out.File.Inode(); n == nil || !n.IsRegular() || out.Flags&abi.O_APPEND != 0 {
		return 0, abi.EINVAL
	}
	buf := make([]byte, min(a[4], maxIO))
	var k int
	if a[1] != 0 {
		off, err := t.readU64(a[1])
		if err != nil {
			return 0, err
		}
		if k, err = in.Pread(buf, int64(off)); err != nil {
			return 0, err
		}
		if err := t.writeU64(a[1], off+uint64(k)); err != nil {
			return 0, err
		}
	} else if k, err = in.Read(buf); err != nil {
		return 0, err
	}
	var w int
	if a[3] != 0 {
		off, err := t.readU64(a[3])
		if err != nil {
			return 0, err
		}
		if w, err = out.Pwrite(buf[:k], int64(off)); err != nil {
			return 0, err
		}
		return uint64(w), t.writeU64(a[3], off+uint64(w))
	}
	w, err = out.Write(buf[:k])
	return uint64(w), err
}

func sysFallocate(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	n := d.File.Inode()
	if n == nil || !n.IsRegular() || !d.Writable() {
		return 0, abi.EBADF
	}
	mode, off, length := a[1], int64(a[2]), int64(a[3])
	if mode != 0 {
		// Only plain allocation; hole punching and friends are not there.
		return 0, abi.EOPNOTSUPP
	}
	if off < 0 || length <= 0 || off+length < off {
		return 0, abi.EINVAL
	}
	if end := off + length; end > n.Size() {
		return 0, n.Truncate(end)
	}
	return 0, nil
}
