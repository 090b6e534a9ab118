package linux

import (
	"strings"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// maxIO bounds the bytes one read or write moves, so a guest cannot make
// the host allocate without limit; callers see a short count as usual.
const maxIO = 1 << 20

func (t *Task) fd(a uint64) (*vfs.Description, error) {
	return t.proc.files.get(int(int32(a)))
}

// base returns the directory a *at path is relative to.
func (t *Task) base(dirfd uint64, path string) (*vfs.Inode, error) {
	if strings.HasPrefix(path, "/") {
		return t.k.fs.Root(), nil
	}
	if int32(dirfd) == abi.AT_FDCWD {
		return t.proc.fsc.cwd, nil
	}
	d, err := t.fd(dirfd)
	if err != nil {
		return nil, err
	}
	n := d.File.Inode()
	if n == nil || !n.IsDir() {
		return nil, abi.ENOTDIR
	}
	return n, nil
}

// lookupAt resolves a *at path argument; AT_EMPTY_PATH with "" names the
// descriptor itself.
func (t *Task) lookupAt(dirfd, pathAddr uint64, flags uint32, follow bool) (*vfs.Inode, error) {
	path, err := t.readString(pathAddr)
	if err != nil {
		return nil, err
	}
	if path == "" && flags&abi.AT_EMPTY_PATH != 0 {
		if int32(dirfd) == abi.AT_FDCWD {
			return t.proc.fsc.cwd, nil
		}
		d, err := t.fd(dirfd)
		if err != nil {
			return nil, err
		}
		if n := d.File.Inode(); n != nil {
			return n, nil
		}
		return nil, errNotInode
	}
	base, err := t.base(dirfd, path)
	if err != nil {
		return nil, err
	}
	return t.k.fs.Lookup(base, path, follow)
}

// errNotInode marks a descriptor with no inode (a pipe, a host stream):
// stat-like calls use the file's own Stat instead.
var errNotInode = abi.EBADF

func (t *Task) parentAt(dirfd, pathAddr uint64) (*vfs.Inode, string, error) {
	path, err := t.readString(pathAddr)
	if err != nil {
		return nil, "", err
	}
	base, err := t.base(dirfd, path)
	if err != nil {
		return nil, "", err
	}
	return t.k.fs.LookupParent(base, path)
}

func sysOpenat(t *Task, a args) (uint64, error) {
	return t.openat(a[0], a[1], uint32(a[2]), uint32(a[3]))
}

func (t *Task) openat(dirfd, pathAddr uint64, flags, mode uint32) (uint64, error) {
	if r := t.resume; r != nil && r.opened != nil {
		// A fifo open whose peer has appeared.
		fd, err := t.proc.files.alloc(r.opened, 0, flags&abi.O_CLOEXEC != 0)
		return uint64(fd), err
	}
	path, err := t.readString(pathAddr)
	if err != nil {
		return 0, err
	}
	fs := t.k.fs
	var n *vfs.Inode
	created := false
	if flags&abi.O_CREAT != 0 {
		parent, name, err := t.parentAt(dirfd, pathAddr)
		if err != nil {
			return 0, err
		}
		n, err = fs.Lookup(parent, name, flags&(abi.O_NOFOLLOW|abi.O_EXCL) == 0)
		switch {
		case err == abi.ENOENT:
			if name == "." || name == ".." || strings.HasSuffix(path, "/") {
				return 0, abi.EISDIR
			}
			if n, err = fs.Create(parent, name, abi.S_IFREG|mode&0o7777&^t.proc.fsc.umask); err != nil {
				return 0, err
			}
			created = true
		case err != nil:
			return 0, err
		case flags&abi.O_EXCL != 0:
			return 0, abi.EEXIST
		case n.IsDir():
			return 0, abi.EISDIR
		}
	} else {
		base, err := t.base(dirfd, path)
		if err != nil {
			return 0, err
		}
		if n, err = fs.Lookup(base, path, flags&abi.O_NOFOLLOW == 0); err != nil {
			return 0, err
		}
	}
	if n.IsSymlink() && flags&abi.O_PATH == 0 {
		return 0, abi.ELOOP
	}
	if !created && flags&abi.O_PATH == 0 {
		if err := fs.Access(n, openMask(flags)); err != nil {
			return 0, err
		}
	}
	d, err := fs.Open(n, flags&^(abi.O_CREAT|abi.O_EXCL|abi.O_NOCTTY|abi.O_TRUNC|abi.O_CLOEXEC), path)
	if err != nil {
		return 0, err
	}
	if peer, ok := vfs.FifoPeer(d.File); ok && n.NamedFifo() && !peer() {
		switch {
		case flags&abi.O_NONBLOCK == 0:
			return 0, t.block(&waitState{ready: peer, opened: d})
		case flags&abi.O_ACCMODE == abi.O_WRONLY:
			d.DecRef()
			return 0, abi.ENXIO
		}
	}
	t.k.openedTerminal(t.proc, d, flags)
	if flags&abi.O_TRUNC != 0 && n.IsRegular() && flags&abi.O_ACCMODE != abi.O_RDONLY {
		if err := n.Truncate(0); err != nil {
			d.DecRef()
			return 0, err
		}
	}
	fd, err := t.proc.files.alloc(d, 0, flags&abi.O_CLOEXEC != 0)
	return uint64(fd), err
}

// openMask is the access an open with flags needs (may_open).
func openMask(flags uint32) uint32 {
	var mask uint32
	switch flags & abi.O_ACCMODE {
	case abi.O_RDONLY:
		mask = vfs.MayRead
	case abi.O_WRONLY:
		mask = vfs.MayWrite
	default:
		mask = vfs.MayRead | vfs.MayWrite
	}
	if flags&abi.O_TRUNC != 0 {
		mask |= vfs.MayWrite
	}
	return mask
}

func sysClose(t *Task, a args) (uint64, error) {
	return 0, t.proc.files.close(int(int32(a[0])))
}

func sysCloseRange(t *Task, a args) (uint64, error) {
	first, last := uint32(a[0]), uint32(a[1])
	if first > last {
		return 0, abi.EINVAL
	}
	const cloexecFlag = 4
	for fd, e := range t.proc.files.fds {
		if uint32(fd) >= first && uint32(fd) <= last {
			if a[2]&cloexecFlag != 0 {
				e.cloexec = true
				t.proc.files.fds[fd] = e
			} else {
				t.proc.files.close(fd)
			}
		}
	}
	return 0, nil
}

// ioWait parks t until d is ready for events, unless d is non-blocking.
func (t *Task) ioWait(d *vfs.Description, events uint32) error {
	if d.Flags&abi.O_NONBLOCK != 0 {
		return abi.EAGAIN
	}
	w := &waitState{ready: func() bool { return d.File.Poll()&(events|abi.POLLHUP|abi.POLLERR) != 0 }}
	if limit := socketTimeout(d, events); limit != 0 {
		// SO_RCVTIMEO/SO_SNDTIMEO: EAGAIN when it passes; a signal
		// ends the wait with EINTR even under SA_RESTART (signal(7)).
		if limit < 0 || (t.resume != nil && t.resume.timedOut) {
			return abi.EAGAIN
		}
		w.deadline, w.noRestart = t.k.cfg.Clock().Add(limit), true
	}
	return t.block(w)
}

func (t *Task) read(d *vfs.Description, buf []byte, pos int64, positional bool) (int, error) {
	var k int
	var err error
	if positional {
		k, err = d.Pread(buf, pos)
	} else {
		k, err = d.Read(buf)
	}
	if err == vfs.ErrWouldBlock {
		if tty, ok := vfs.TTYOf(d.File); ok {
			if _, master := vfs.PTYMaster(d.File); !master {
				return t.ttyReadWait(d, tty, buf)
			}
		}
		return 0, t.ioWait(d, abi.POLLIN)
	}
	return k, err
}

// ttyReadWait waits for terminal input, at most VTIME in non-canonical
// mode, after which the read returns what arrived (possibly nothing).
func (t *Task) ttyReadWait(d *vfs.Description, tty *vfs.TTY, buf []byte) (int, error) {
	limit := tty.ReadTimeout()
	if limit == 0 {
		return 0, t.ioWait(d, abi.POLLIN)
	}
	if t.resume != nil && t.resume.timedOut {
		return tty.ReadAvailable(buf), nil
	}
	if d.Flags&abi.O_NONBLOCK != 0 {
		return 0, abi.EAGAIN
	}
	return 0, t.block(&waitState{
		ready: func() bool {
			// Poll also feeds the console's pending host input.
			return d.File.Poll()&(abi.POLLHUP|abi.POLLERR) != 0 || tty.ReadWouldComplete(len(buf))
		},
		deadline: t.k.cfg.Clock().Add(limit),
	})
}

func (t *Task) write(d *vfs.Description, buf []byte, pos int64, positional bool) (int, error) {
	var k int
	var err error
	if positional {
		k, err = d.Pwrite(buf, pos)
	} else {
		k, err = d.Write(buf)
	}
	switch err {
	case vfs.ErrWouldBlock:
		return 0, t.ioWait(d, abi.POLLOUT)
	case abi.EPIPE:
		if t.noSigpipe {
			break
		}
		t.k.sendThreadSignal(t, abi.SIGPIPE, sigInfo{code: abi.SI_USER, pid: int32(t.proc.pid)})
	}
	return k, err
}

func sysRead(t *Task, a args) (uint64, error) { return t.readCall(a[0], a[1], a[2], 0, false) }
func sysPread(t *Task, a args) (uint64, error) {
	return t.readCall(a[0], a[1], a[2], int64(a[3]), true)
}

func (t *Task) readCall(fd, addr, count uint64, pos int64, positional bool) (uint64, error) {
	d, err := t.fd(fd)
	if err != nil {
		return 0, err
	}
	if n := d.File.Inode(); n != nil && n.IsDir() {
		return 0, abi.EISDIR
	}
	buf := make([]byte, min(count, maxIO))
	k, err := t.read(d, buf, pos, positional)
	if err != nil {
		return 0, err
	}
	return uint64(k), t.copyOut(addr, buf[:k])
}

func sysWrite(t *Task, a args) (uint64, error) { return t.writeCall(a[0], a[1], a[2], 0, false) }
func sysPwrite(t *Task, a args) (uint64, error) {
	return t.writeCall(a[0], a[1], a[2], int64(a[3]), true)
}

func (t *Task) writeCall(fd, addr, count uint64, pos int64, positional bool) (uint64, error) {
	d, err := t.fd(fd)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, min(count, maxIO))
	if err := t.copyIn(addr, buf); err != nil {
		return 0, err
	}
	k, err := t.write(d, buf, pos, positional)
	return uint64(k), err
}

// iovecs reads an iovec array.
func (t *Task) iovecs(addr, cnt uint64) ([][2]uint64, uint64, error) {
	if cnt > 1024 {
		return nil, 0, abi.EINVAL
	}
	raw := make([]byte, 16*cnt)
	if err := t.copyIn(addr, raw); err != nil {
		return nil, 0, err
	}
	out := make([][2]uint64, cnt)
	var total uint64
	for i := range out {
		out[i] = [2]uint64{le.Uint64(raw[16*i:]), le.Uint64(raw[16*i+8:])}
		total += out[i][1]
		if int64(out[i][1]) < 0 || int64(total) < 0 {
			return nil, 0, abi.EINVAL
		}
	}
	return out, total, nil
}

func sysReadv(t *Task, a args) (uint64, error) { return t.readvCall(a[0], a[1], a[2], 0, false) }
func sysPreadv(t *Task, a args) (uint64, error) {
	return t.readvCall(a[0], a[1], a[2], int64(a[3]), true)
}

func (t *Task) readvCall(fd, iov, cnt uint64, pos int64, positional bool) (uint64, error) {
	d, err := t.fd(fd)
	if err != nil {
		return 0, err
	}
	vecs, total, err := t.iovecs(iov, cnt)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, min(total, maxIO))
	k, err := t.read(d, buf, pos, positional)
	if err != nil {
		return 0, err
	}
	rest := buf[:k]
	for _, v := range vecs {
		if len(rest) == 0 {
			break
		}
		m := min(uint64(len(rest)), v[1])
		if err := t.copyOut(v[0], rest[:m]); err != nil {
			return 0, err
		}
		rest = rest[m:]
	}
	return uint64(k), nil
}

func sysWritev(t *Task, a args) (uint64, error) { return t.writevCall(a[0], a[1], a[2], 0, false) }
func sysPwritev(t *Task, a args) (uint64, error) {
	return t.writevCall(a[0], a[1], a[2], int64(a[3]), true)
}

func (t *Task) writevCall(fd, iov, cnt uint64, pos int64, positional bool) (uint64, error) {
	d, err := t.fd(fd)
	if err != nil {
		return 0, err
	}
	buf, err := t.gather(iov, cnt)
	if err != nil {
		return 0, err
	}
	k, err := t.write(d, buf, pos, positional)
	return uint64(k), err
}

// gather reads what an iovec array points at (at most maxIO bytes) into
// one buffer.
func (t *Task) gather(iov, cnt uint64) ([]byte, error) {
	vecs, total, err := t.iovecs(iov, cnt)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, min(total, maxIO))
	for _, v := range vecs {
		m := min(v[1], uint64(cap(buf)-len(buf)))
		chunk := buf[len(buf) : len(buf)+int(m)]
		if err := t.copyIn(v[0], chunk); err != nil {
			return nil, err
		}
		buf = buf[:len(buf)+int(m)]
	}
	return buf, nil
}

func sysLseek(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	off, err := d.Seek(int64(a[1]), int(a[2]))
	return uint64(off), err
}

func sysDup(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	d.IncRef()
	fd, err := t.proc.files.alloc(d, 0, false)
	return uint64(fd), err
}

func sysDup3(t *Task, a args) (uint64, error) {
	oldfd, newfd := int(int32(a[0])), int(int32(a[1]))
	if a[2]&^abi.O_CLOEXEC != 0 || oldfd == newfd {
		return 0, abi.EINVAL
	}
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	if newfd < 0 || newfd >= maxFDs {
		return 0, abi.EBADF
	}
	d.IncRef()
	t.proc.files.install(newfd, d, a[2]&abi.O_CLOEXEC != 0)
	return uint64(newfd), nil
}

func sysFcntl(t *Task, a args) (uint64, error) {
	fd := int(int32(a[0]))
	files := t.proc.files
	e, ok := files.fds[fd]
	if !ok {
		return 0, abi.EBADF
	}
	switch a[1] {
	case abi.F_DUPFD, abi.F_DUPFD_CLOEXEC:
		if a[2] >= maxFDs {
			return 0, abi.EINVAL
		}
		e.d.IncRef()
		n, err := files.alloc(e.d, int(a[2]), a[1] == abi.F_DUPFD_CLOEXEC)
		return uint64(n), err
	case abi.F_GETFD:
		if e.cloexec {
			return abi.FD_CLOEXEC, nil
		}
		return 0, nil
	case abi.F_SETFD:
		e.cloexec = a[2]&abi.FD_CLOEXEC != 0
		files.fds[fd] = e
		return 0, nil
	case abi.F_GETFL:
		return uint64(e.d.Flags), nil
	case abi.F_SETFL:
		const changeable = abi.O_APPEND | abi.O_NONBLOCK | oAsync
		if (e.d.Flags^uint32(a[2]))&oAsync != 0 {
			t.setAsync(e.d, fd, a[2]&oAsync != 0)
		}
		e.d.Flags = e.d.Flags&^changeable | uint32(a[2])&changeable
		return 0, nil
	case abi.F_GETLK, abi.F_SETLK, abi.F_SETLKW, abi.F_OFD_GETLK, abi.F_OFD_SETLK, abi.F_OFD_SETLKW:
		return t.fcntlLock(e.d, a[1], a[2])
	case abi.F_GETPIPE_SZ:
		n, ok := vfs.PipeSize(e.d.File)
		if !ok {
			return 0, abi.EBADF
		}
		return uint64(n), nil
	case abi.F_SETPIPE_SZ:
		n, err := vfs.SetPipeSize(e.d.File, a[2], t.proc.cred.privileged())
		return uint64(n), err
	case abi.F_SETOWN, abi.F_GETOWN, fSetownEx, fGetownEx, fSetsig, fGetsig, fNotify:
		return t.fcntlOwner(e.d, fd, a[1], a[2])
	case abi.F_ADD_SEALS, abi.F_GET_SEALS:
		n := e.d.File.Inode()
		if n == nil {
			return 0, abi.EINVAL
		}
		seals, ok := n.Seals()
		switch {
		case !ok:
			return 0, abi.EINVAL
		case a[1] == abi.F_GET_SEALS:
			return uint64(seals), nil
		case !e.d.Writable():
			return 0, abi.EPERM
		}
		return 0, n.AddSeals(uint32(a[2]), t.k.writablySharedMapped(n))
	}
	return 0, abi.EINVAL
}

func sysPipe2(t *Task, a args) (uint64, error) {
	flags := uint32(a[1])
	if flags&^(abi.O_CLOEXEC|abi.O_NONBLOCK) != 0 {
		return 0, abi.EINVAL
	}
	r, w := vfs.Ends()
	rd := vfs.NewDescription(r, abi.O_RDONLY|flags&abi.O_NONBLOCK, "pipe:")
	wd := vfs.NewDescription(w, abi.O_WRONLY|flags&abi.O_NONBLOCK, "pipe:")
	cloexec := flags&abi.O_CLOEXEC != 0
	rfd, err := t.proc.files.alloc(rd, 0, cloexec)
	if err != nil {
		wd.DecRef()
		return 0, err
	}
	wfd, err := t.proc.files.alloc(wd, 0, cloexec)
	if err != nil {
		t.proc.files.close(rfd)
		return 0, err
	}
	var b [8]byte
	le.PutUint32(b[:], uint32(rfd))
	le.PutUint32(b[4:], uint32(wfd))
	if err := t.copyOut(a[0], b[:]); err != nil {
		t.proc.files.close(rfd)
		t.proc.files.close(wfd)
		return 0, err
	}
	return 0, nil
}

func sysIoctl(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	switch a[1] {
	case abi.FIONBIO:
		v, err := t.readU32(a[2])
		if err != nil {
			return 0, err
		}
		if v != 0 {
			d.Flags |= abi.O_NONBLOCK
		} else {
			d.Flags &^= abi.O_NONBLOCK
		}
		return 0, nil
	case abi.FIOCLEX, abi.FIONCLEX:
		fd := int(int32(a[0]))
		e := t.proc.files.fds[fd]
		e.cloexec = a[1] == abi.FIOCLEX
		t.proc.files.fds[fd] = e
		return 0, nil
	case abi.FIONREAD:
		n, ok := vfs.Buffered(d.File)
		if !ok {
			if in := d.File.Inode(); in != nil && in.IsRegular() {
				n = int(max(in.Size()-d.Offset, 0))
			} else {
				return 0, abi.ENOTTY
			}
		}
		return 0, t.writeU32(a[2], uint32(n))
	}
	if tty, ok := vfs.TTYOf(d.File); ok {
		return t.ttyIoctl(d.File, tty, a[1], a[2])
	}
	// Terminal requests on anything else fail as on a pipe or file.
	return 0, abi.ENOTTY
}

func (t *Task) readU32(addr uint64) (uint32, error) {
	var b [4]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return le.Uint32(b[:]), nil
}

// statAt returns the stat of what a *at call names.
func (t *Task) statAt(dirfd, pathAddr uint64, flags uint32) (abi.Stat, error) {
	n, err := t.lookupAt(dirfd, pathAddr, flags, flags&abi.AT_SYMLINK_NOFOLLOW == 0)
	if err == errNotInode {
		d, derr := t.fd(dirfd)
		if derr != nil {
			return abi.Stat{}, derr
		}
		return d.File.Stat(), nil
	}
	if err != nil {
		return abi.Stat{}, err
	}
	return n.Stat(), nil
}

// encodeStat encodes st as the architecture's struct stat.
func (k *Kernel) encodeStat(st *abi.Stat) []byte {
	b := make([]byte, k.abi.StatSize)
	k.abi.PutStat(b, st)
	return b
}

func sysFstat(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	st := d.File.Stat()
	return 0, t.copyOut(a[1], t.k.encodeStat(&st))
}

func sysNewfstatat(t *Task, a args) (uint64, error) {
	st, err := t.statAt(a[0], a[1], uint32(a[3]))
	if err != nil {
		return 0, err
	}
	return 0, t.copyOut(a[2], t.k.encodeStat(&st))
}

func sysStatx(t *Task, a args) (uint64, error) {
	st, err := t.statAt(a[0], a[1], uint32(a[2]))
	if err != nil {
		return 0, err
	}
	var b [abi.StatxSize]byte
	abi.PutStatx(b[:], &st)
	return 0, t.copyOut(a[4], b[:])
}

func sysGetdents64(t *Task, a args) (uint64, error) {
	out, err := t.dirents(a[0], a[2])
	if err != nil {
		return 0, err
	}
	return uint64(len(out)), t.copyOut(a[1], out)
}

// dirents reads struct linux_dirent64 records of directory fd, at most
// count bytes.
func (t *Task) dirents(fd, count uint64) ([]byte, error) {
	d, err := t.fd(fd)
	if err != nil {
		return nil, err
	}
	return d.Getdents(int(min(count, maxIO)))
}

func sysReadlinkat(t *Task, a args) (uint64, error) {
	n, err := t.lookupAt(a[0], a[1], 0, false)
	if err != nil {
		return 0, err
	}
	target, err := n.Readlink()
	if err != nil {
		return 0, err
	}
	if int64(a[3]) <= 0 {
		return 0, abi.EINVAL
	}
	b := []byte(target)
	if uint64(len(b)) > a[3] {
		b = b[:a[3]]
	}
	return uint64(len(b)), t.copyOut(a[2], b)
}

func sysFaccessat(t *Task, a args) (uint64, error) {
	return t.access(a[0], a[1], uint32(a[2]), 0)
}

func sysFaccessat2(t *Task, a args) (uint64, error) {
	return t.access(a[0], a[1], uint32(a[2]), uint32(a[3]))
}

func (t *Task) access(dirfd, path uint64, mode, flags uint32) (uint64, error) {
	if mode&^7 != 0 {
		return 0, abi.EINVAL
	}
	// access checks with the real ids unless AT_EACCESS asks for the
	// effective ones, so a set-user-ID program can ask what its caller
	// may do; the path walk uses them too.
	c := &t.proc.cred
	check := &vfs.Credentials{UID: c.ruid, GID: c.rgid, Groups: c.groups}
	if flags&abi.AT_EACCESS != 0 {
		check = &vfs.Credentials{UID: c.euid, GID: c.egid, Groups: c.groups}
	}
	saved := c.fs
	c.fs = *check
	n, err := t.lookupAt(dirfd, path, flags, flags&abi.AT_SYMLINK_NOFOLLOW == 0)
	c.fs = saved
	if err != nil {
		return 0, err
	}
	return 0, n.Permission(check, mode)
}

func sysMkdirat(t *Task, a args) (uint64, error) {
	parent, name, err := t.parentAt(a[0], a[1])
	if err != nil {
		return 0, err
	}
	_, err = t.k.fs.Mkdir(parent, name, uint32(a[2])&^t.proc.fsc.umask)
	return 0, err
}

func sysMknodat(t *Task, a args) (uint64, error) {
	mode := uint32(a[2])
	typ := mode & abi.S_IFMT
	if typ != abi.S_IFIFO && typ != abi.S_IFREG && typ != 0 {
		return 0, abi.EPERM
	}
	if typ == 0 {
		typ = abi.S_IFREG
	}
	parent, name, err := t.parentAt(a[0], a[1])
	if err != nil {
		return 0, err
	}
	_, err = t.k.fs.Create(parent, name, typ|mode&0o7777&^t.proc.fsc.umask)
	return 0, err
}

func sysUnlinkat(t *Task, a args) (uint64, error) {
	if a[2]&^abi.AT_REMOVEDIR != 0 {
		return 0, abi.EINVAL
	}
	parent, name, err := t.parentAt(a[0], a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.k.fs.Unlink(parent, name, a[2]&abi.AT_REMOVEDIR != 0)
}

func sysRenameat2(t *Task, a args) (uint64, error) {
	od, on, err := t.parentAt(a[0], a[1])
	if err != nil {
		return 0, err
	}
	nd, nn, err := t.parentAt(a[2], a[3])
	if err != nil {
		return 0, err
	}
	return 0, t.k.fs.Rename(od, on, nd, nn, uint32(a[4]))
}

func sysSymlinkat(t *Task, a args) (uint64, error) {
	target, err := t.readString(a[0])
	if err != nil {
		return 0, err
	}
	parent, name, err := t.parentAt(a[1], a[2])
	if err != nil {
		return 0, err
	}
	_, err = t.k.fs.Symlink(parent, name, target)
	return 0, err
}

func sysLinkat(t *Task, a args) (uint64, error) {
	flags := uint32(a[4])
	n, err := t.lookupAt(a[0], a[1], flags, flags&abi.AT_SYMLINK_FOLLOW != 0)
	if err != nil {
		return 0, err
	}
	parent, name, err := t.parentAt(a[2], a[3])
	if err != nil {
		return 0, err
	}
	return 0, t.k.fs.Link(parent, name, n)
}

func sysFchmod(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	if n := d.File.Inode(); n != nil {
		return 0, t.chmod(n, uint32(a[1]))
	}
	return 0, nil
}

// chmod changes n's mode if the caller owns it (or is root); a caller
// outside the file's group cannot set its set-group-ID bit.
func (t *Task) chmod(n *vfs.Inode, mode uint32) error {
	fs := t.k.fs
	if !fs.IsOwner(n) {
		return abi.EPERM
	}
	if c := &t.proc.cred.fs; !c.Root() && !c.InGroup(n.Stat().GID) {
		mode &^= abi.S_ISGID
	}
	return n.Chmod(mode)
}

// chown changes n's owner and group: only root may give a file away;
// its owner may change the group to one of its own groups. A regular
// file loses its set-user-ID bit, and its set-group-ID bit when group
// executable, as the kernel does on every chown.
func (t *Task) chown(n *vfs.Inode, uid, gid uint32) error {
	c := &t.proc.cred.fs
	st := n.Stat()
	if !c.Root() {
		owner := c.UID == st.UID
		if uid != noChange && (!owner || uid != st.UID) {
			return abi.EPERM
		}
		if gid != noChange && (!owner || gid != st.GID && !c.InGroup(gid)) {
			return abi.EPERM
		}
	}
	if uid == noChange && gid == noChange {
		return nil
	}
	n.Chown(uid, gid)
	if !n.IsDir() {
		mode := st.Mode &^ abi.S_ISUID
		if mode&0o010 != 0 {
			mode &^= abi.S_ISGID
		}
		if mode != st.Mode {
			return n.Chmod(mode & 0o7777)
		}
	}
	return nil
}

func sysFchmodat(t *Task, a args) (uint64, error) {
	n, err := t.lookupAt(a[0], a[1], 0, true)
	if err != nil {
		return 0, err
	}
	return 0, t.chmod(n, uint32(a[2]))
}

func sysFchown(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	if n := d.File.Inode(); n != nil {
		return 0, t.chown(n, uint32(a[1]), uint32(a[2]))
	}
	return 0, nil
}

func sysFchownat(t *Task, a args) (uint64, error) {
	flags := uint32(a[4])
	n, err := t.lookupAt(a[0], a[1], flags, flags&abi.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return 0, err
	}
	return 0, t.chown(n, uint32(a[2]), uint32(a[3]))
}

func sysUtimensat(t *Task, a args) (uint64, error) {
	var times *[32]byte
	if a[2] != 0 {
		var b [32]byte
		if err := t.copyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		times = &b
	}
	return t.utimens(a[0], a[1], times, uint32(a[3]))
}

// utimens sets the access and modification times of the file at path
// (or of dirfd when path is 0) from two struct timespecs, or to now when
// times is nil.
func (t *Task) utimens(dirfd, path uint64, times *[32]byte, flags uint32) (uint64, error) {
	a := args{dirfd, path}
	var n *vfs.Inode
	var err error
	if a[1] == 0 {
		d, derr := t.fd(a[0])
		if derr != nil {
			return 0, derr
		}
		if n = d.File.Inode(); n == nil {
			return 0, nil
		}
	} else if n, err = t.lookupAt(a[0], a[1], flags, flags&abi.AT_SYMLINK_NOFOLLOW == 0); err != nil {
		return 0, err
	}
	now := t.k.cfg.Clock()
	fs := t.k.fs
	// Setting both times to now needs ownership or write permission;
	// anything else needs ownership (utimensat(2)).
	toNow := func() error {
		if fs.IsOwner(n) {
			return nil
		}
		return fs.Access(n, vfs.MayWrite)
	}
	if times == nil {
		if err := toNow(); err != nil {
			return 0, err
		}
		return 0, n.SetTimes(&now, &now)
	}
	b := times
	const utimeNow, utimeOmit = 1<<30 - 1, 1<<30 - 2
	an, mn := le.Uint64(b[8:]), le.Uint64(b[24:])
	switch {
	case an == utimeOmit && mn == utimeOmit:
	case (an == utimeNow || an == utimeOmit) && (mn == utimeNow || mn == utimeOmit):
		if err := toNow(); err != nil {
			return 0, err
		}
	case !fs.IsOwner(n):
		return 0, abi.EPERM
	}
	pick := func(sec, nsec uint64) *time.Time {
		switch nsec {
		case utimeNow:
			return &now
		case utimeOmit:
			return nil
		}
		tm := time.Unix(int64(sec), int64(nsec))
		return &tm
	}
	return 0, n.SetTimes(pick(le.Uint64(b[0:]), le.Uint64(b[8:])), pick(le.Uint64(b[16:]), le.Uint64(b[24:])))
}

func sysTruncate(t *Task, a args) (uint64, error) {
	n, err := t.lookupAt(abi.AT_FDCWD&0xffffffff, a[0], 0, true)
	if err != nil {
		return 0, err
	}
	if n.IsDir() {
		return 0, abi.EISDIR
	}
	if err := t.k.fs.Access(n, vfs.MayWrite); err != nil {
		return 0, err
	}
	return 0, n.Truncate(int64(a[1]))
}

func sysFtruncate(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	n := d.File.Inode()
	if n == nil || !d.Writable() {
		return 0, abi.EINVAL
	}
	return 0, n.Truncate(int64(a[1]))
}

func sysFsync(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	return 0, vfs.Sync(d.File)
}

// sysSync writes back every shared mapping's changed pages of host files;
// the rest of the machine's files live in memory.
func sysSync(t *Task, a args) (uint64, error) {
	seen := map[*MM]bool{}
	for _, p := range t.k.procs {
		if m := p.mm; m != nil && !seen[m] {
			seen[m] = true
			m.syncShared(0, addressTop)
		}
	}
	return 0, nil
}

func sysGetcwd(t *Task, a args) (uint64, error) {
	path := t.proc.fsc.cwd.Path()
	b := append([]byte(path), 0)
	if uint64(len(b)) > a[1] {
		return 0, abi.ERANGE
	}
	return uint64(len(b)), t.copyOut(a[0], b)
}

func sysChdir(t *Task, a args) (uint64, error) {
	n, err := t.lookupAt(abi.AT_FDCWD&0xffffffff, a[0], 0, true)
	if err != nil {
		return 0, err
	}
	if !n.IsDir() {
		return 0, abi.ENOTDIR
	}
	if err := t.k.fs.Access(n, vfs.MayExec); err != nil {
		return 0, err
	}
	t.proc.fsc.cwd = n
	return 0, nil
}

func sysFchdir(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	n := d.File.Inode()
	if n == nil || !n.IsDir() {
		return 0, abi.ENOTDIR
	}
	if err := t.k.fs.Access(n, vfs.MayExec); err != nil {
		return 0, err
	}
	t.proc.fsc.cwd = n
	return 0, nil
}

func sysUmask(t *Task, a args) (uint64, error) {
	old := t.proc.fsc.umask
	t.proc.fsc.umask = uint32(a[0]) & 0o777
	return uint64(old), nil
}

// putStatfs writes a struct statfs describing the in-memory file system.
func (t *Task) putStatfs(addr uint64) error {
	var b [120]byte
	le.PutUint64(b[0:], 0x01021994) // TMPFS_MAGIC: writes land in memory
	le.PutUint64(b[8:], 4096)
	le.PutUint64(b[16:], t.k.limit)
	le.PutUint64(b[24:], t.k.limit-min(t.k.resident, t.k.limit))
	le.PutUint64(b[32:], t.k.limit-min(t.k.resident, t.k.limit))
	le.PutUint64(b[40:], 1<<20)
	le.PutUint64(b[48:], 1<<20)
	le.PutUint64(b[64:], 255)
	le.PutUint64(b[72:], 4096)
	return t.copyOut(addr, b[:])
}

func sysStatfs(t *Task, a args) (uint64, error) {
	if _, err := t.lookupAt(abi.AT_FDCWD&0xffffffff, a[0], 0, true); err != nil {
		return 0, err
	}
	return 0, t.putStatfs(a[1])
}

func sysFstatfs(t *Task, a args) (uint64, error) {
	if _, err := t.fd(a[0]); err != nil {
		return 0, err
	}
	return 0, t.putStatfs(a[1])
}

func sysSendfile(t *Task, a args) (uint64, error) {
	out, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	in, err := t.fd(a[1])
	if err != nil {
		return 0, err
	}
	buf := make([]byte, min(a[3], maxIO))
	var k int
	if a[2] != 0 {
		off, err := t.readU64(a[2])
		if err != nil {
			return 0, err
		}
		if k, err = t.read(in, buf, int64(off), true); err != nil {
			return 0, err
		}
		defer t.writeU64(a[2], off+uint64(k))
	} else if k, err = t.read(in, buf, 0, false); err != nil {
		return 0, err
	}
	w, err := t.write(out, buf[:k], 0, false)
	if err == errBlocked {
		// The input was consumed: report what was written instead of
		// retrying (sendfile may return a short count).
		return 0, abi.EAGAIN
	}
	return uint64(w), err
}

// pollFDs computes revents for a pollfd array.
func (t *Task) pollFDs(raw []byte) int {
	ready := 0
	for i := 0; i+8 <= len(raw); i += 8 {
		fd := int32(le.Uint32(raw[i:]))
		events := uint32(le.Uint16(raw[i+4:]))
		var rev uint32
		if fd >= 0 {
			d, err := t.proc.files.get(int(fd))
			if err != nil {
				rev = abi.POLLNVAL
			} else {
				rev = d.File.Poll() & (events | abi.POLLHUP | abi.POLLERR)
			}
		}
		le.PutUint16(raw[i+6:], uint16(rev))
		if rev != 0 {
			ready++
		}
	}
	return ready
}

func sysPpoll(t *Task, a args) (uint64, error) {
	var timeout *time.Duration
	if a[2] != 0 && t.resume == nil {
		d, err := t.readTimespec(a[2])
		if err != nil {
			return 0, err
		}
		timeout = &d
	}
	return t.poll(a[0], a[1], timeout)
}

// poll waits for the pollfd array at fdsAddr; a nil timeout waits for
// ever.
func (t *Task) poll(fdsAddr, nfds uint64, timeout *time.Duration) (uint64, error) {
	if nfds > maxFDs {
		return 0, abi.EINVAL
	}
	raw := make([]byte, 8*nfds)
	if err := t.copyIn(fdsAddr, raw); err != nil {
		return 0, err
	}
	n := t.pollFDs(raw)
	if n > 0 || (t.resume != nil && t.resume.timedOut) {
		return uint64(n), t.copyOut(fdsAddr, raw)
	}
	w := &waitState{noRestart: true, ready: func() bool { return t.pollFDs(append([]byte(nil), raw...)) > 0 }}
	if t.resume != nil {
		w.deadline = t.resume.deadline
	} else if timeout != nil {
		if *timeout == 0 {
			return 0, t.copyOut(fdsAddr, raw)
		}
		w.deadline = t.k.cfg.Clock().Add(*timeout)
	}
	return 0, t.block(w)
}

// selectReady evaluates fd_set bitmaps in place. A descriptor in a set
// that is not open fails the call with EBADF, as select(2) does.
func (t *Task) selectReady(nfds int, sets [3][]byte) (int, error) {
	n := 0
	for fd := 0; fd < nfds; fd++ {
		byteIdx, bit := fd/8, byte(1)<<(fd%8)
		var ev uint32
		want := false
		for _, s := range sets {
			if s != nil && s[byteIdx]&bit != 0 {
				want = true
			}
		}
		if !want {
			continue
		}
		d, err := t.proc.files.get(fd)
		if err != nil {
			return 0, abi.EBADF
		}
		ev = d.File.Poll()
		masks := [3]uint32{abi.POLLIN | abi.POLLHUP | abi.POLLERR, abi.POLLOUT | abi.POLLERR, abi.POLLPRI}
		for i, s := range sets {
			if s == nil || s[byteIdx]&bit == 0 {
				continue
			}
			if ev&masks[i] != 0 {
				n++
			} else {
				s[byteIdx] &^= bit
			}
		}
	}
	return n, nil
}

func sysPselect6(t *Task, a args) (uint64, error) {
	var timeout *time.Duration
	if a[4] != 0 && t.resume == nil {
		d, err := t.readTimespec(a[4])
		if err != nil {
			return 0, err
		}
		timeout = &d
	}
	return t.pselect(a, timeout)
}

// pselect waits for the descriptor sets at a[1], a[2] and a[3] (of a[0]
// descriptors); a nil timeout waits for ever.
func (t *Task) pselect(a args, timeout *time.Duration) (uint64, error) {
	nfds := int(a[0])
	if nfds < 0 || nfds > maxFDs {
		return 0, abi.EINVAL
	}
	size := (nfds + 63) / 64 * 8
	var sets [3][]byte
	for i := 0; i < 3; i++ {
		if a[1+i] != 0 {
			sets[i] = make([]byte, size)
			if err := t.copyIn(a[1+i], sets[i]); err != nil {
				return 0, err
			}
		}
	}
	orig := [3][]byte{clone(sets[0]), clone(sets[1]), clone(sets[2])}
	n, err := t.selectReady(nfds, sets)
	if err != nil {
		return 0, err
	}
	finish := func() (uint64, error) {
		for i, s := range sets {
			if s != nil {
				if err := t.copyOut(a[1+i], s); err != nil {
					return 0, err
				}
			}
		}
		return uint64(n), nil
	}
	if n > 0 || (t.resume != nil && t.resume.timedOut) {
		return finish()
	}
	w := &waitState{noRestart: true, ready: func() bool {
		// A descriptor closed meanwhile wakes the call to fail it.
		n, err := t.selectReady(nfds, [3][]byte{clone(orig[0]), clone(orig[1]), clone(orig[2])})
		return n > 0 || err != nil
	}}
	if t.resume != nil {
		w.deadline = t.resume.deadline
	} else if timeout != nil {
		if *timeout == 0 {
			return finish()
		}
		w.deadline = t.k.cfg.Clock().Add(*timeout)
	}
	return 0, t.block(w)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (t *Task) readTimespec(addr uint64) (time.Duration, error) {
	var b [16]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec, nsec := int64(le.Uint64(b[:])), int64(le.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, abi.EINVAL
	}
	if sec > 1<<32 {
		sec = 1 << 32
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}
