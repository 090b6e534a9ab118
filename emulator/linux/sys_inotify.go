package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// inotify(7): watches on inodes that queue the events the VFS reports
// (vfs/notify.go) as struct inotify_event records. Events of files in
// host directories are those this layer causes; changes made on the host
// are not seen.

const (
	inNonblock = abi.O_NONBLOCK
	inCloexec  = abi.O_CLOEXEC

	inAllEvents  = 0xfff
	inUnmount    = 0x2000
	inQOverflow  = 0x4000
	inIgnored    = 0x8000
	inOnlydir    = 0x01000000
	inDontFollow = 0x02000000
	inExclUnlink = 0x04000000
	inMaskCreate = 0x10000000
	inMaskAdd    = 0x20000000
	inOneshot    = 0x80000000

	inotifyEventSize = 16
	// inotifyMaxQueued is /proc/sys/fs/inotify/max_queued_events.
	inotifyMaxQueued = 16384
	// inotifyMaxWatches bounds one instance's watches (Linux bounds them
	// per user: max_user_watches).
	inotifyMaxWatches = 8192
)

type inotifyFile struct {
	anonFile
	watches map[int32]*inotifyWatch
	byInode map[*vfs.Inode]*inotifyWatch
	nextWD  int32
	// queue holds the encoded events; queued counts them.
	queue  []byte
	queued int
	// last is the start of the last event in queue, for coalescing.
	last int
}

type inotifyWatch struct {
	f    *inotifyFile
	wd   int32
	n    *vfs.Inode
	mask uint32
}

// Event queues an event the watch asked for.
func (w *inotifyWatch) Event(n *vfs.Inode, mask uint32, name string, cookie uint32) {
	if mask&w.mask&inAllEvents == 0 {
		return
	}
	w.f.enqueue(w.wd, mask, cookie, name)
	if w.mask&inOneshot != 0 {
		w.f.remove(w)
	}
}

// Gone ends the watch of a deleted inode.
func (w *inotifyWatch) Gone(*vfs.Inode) { w.f.drop(w) }

// enqueue adds an event record, unless it repeats the last one queued
// (Linux coalesces those) or the queue is full (one IN_Q_OVERFLOW then).
func (f *inotifyFile) enqueue(wd int32, mask, cookie uint32, name string) {
	nameLen := 0
	if name != "" {
		nameLen = (len(name) + 1 + inotifyEventSize - 1) / inotifyEventSize * inotifyEventSize
	}
	rec := make([]byte, inotifyEventSize+nameLen)
	le.PutUint32(rec[0:], uint32(wd))
	le.PutUint32(rec[4:], mask)
	le.PutUint32(rec[8:], cookie)
	le.PutUint32(rec[12:], uint32(nameLen))
	copy(rec[inotifyEventSize:], name)
	if f.queued > 0 && string(f.queue[f.last:]) == string(rec) {
		return
	}
	if f.queued >= inotifyMaxQueued {
		if f.queued == inotifyMaxQueued {
			rec = make([]byte, inotifyEventSize)
			le.PutUint32(rec[0:], ^uint32(0))
			le.PutUint32(rec[4:], inQOverflow)
		} else {
			return
		}
	}
	f.last = len(f.queue)
	f.queue = append(f.queue, rec...)
	f.queued++
}

// remove ends a watch at the program's request or after IN_ONESHOT:
// IN_IGNORED is queued.
func (f *inotifyFile) remove(w *inotifyWatch) {
	w.n.Unwatch(w)
	f.drop(w)
}

// drop forgets a watch whose inode no longer has it.
func (f *inotifyFile) drop(w *inotifyWatch) {
	if f.watches[w.wd] != w {
		return
	}
	delete(f.watches, w.wd)
	delete(f.byInode, w.n)
	f.enqueue(w.wd, inIgnored, 0, "")
}

func (f *inotifyFile) Read(p []byte, _ int64) (int, error) {
	if f.queued == 0 {
		return 0, vfs.ErrWouldBlock
	}
	// Whole records only; a buffer too small for the first is EINVAL.
	n := 0
	for n < len(f.queue) {
		size := inotifyEventSize + int(le.Uint32(f.queue[n+12:]))
		if n+size > len(p) {
			break
		}
		n += size
		f.queued--
	}
	if n == 0 {
		return 0, abi.EINVAL
	}
	copy(p, f.queue[:n])
	f.queue = f.queue[n:]
	f.last -= n
	if f.queued == 0 {
		f.queue, f.last = nil, 0
	}
	return n, nil
}

// Buffered is what FIONREAD reports: the bytes of the queued events.
func (f *inotifyFile) Buffered() int { return len(f.queue) }

func (f *inotifyFile) Poll() uint32 {
	if f.queued > 0 {
		return abi.POLLIN
	}
	return 0
}

// Release ends every watch of the instance.
func (f *inotifyFile) Release() {
	for _, w := range f.watches {
		w.n.Unwatch(w)
	}
	f.watches, f.byInode, f.queue = nil, nil, nil
}

func sysInotifyInit1(t *Task, a args) (uint64, error) {
	flags := uint32(a[0])
	if flags&^(inNonblock|inCloexec) != 0 {
		return 0, abi.EINVAL
	}
	f := &inotifyFile{watches: map[int32]*inotifyWatch{}, byInode: map[*vfs.Inode]*inotifyWatch{}, nextWD: 1}
	d := vfs.NewDescription(f, abi.O_RDONLY|flags&inNonblock, "anon_inode:inotify")
	fd, err := t.proc.files.alloc(d, 0, flags&inCloexec != 0)
	return uint64(fd), err
}

func (t *Task) inotifyOf(fd uint64) (*inotifyFile, error) {
	_, f, err := fileOf[*inotifyFile](t, fd, abi.EINVAL)
	return f, err
}

func sysInotifyAddWatch(t *Task, a args) (uint64, error) {
	f, err := t.inotifyOf(a[0])
	if err != nil {
		return 0, err
	}
	mask := uint32(a[2])
	if mask&inAllEvents == 0 || mask&(inMaskAdd|inMaskCreate) == inMaskAdd|inMaskCreate {
		return 0, abi.EINVAL
	}
	n, err := t.lookupAt(abi.AT_FDCWD&0xffffffff, a[1], 0, mask&inDontFollow == 0)
	if err != nil {
		return 0, err
	}
	if mask&inOnlydir != 0 && !n.IsDir() {
		return 0, abi.ENOTDIR
	}
	if err := t.k.fs.Access(n, vfs.MayRead); err != nil {
		return 0, err
	}
	keep := mask & (inAllEvents | inOneshot | inExclUnlink)
	if w := f.byInode[n]; w != nil {
		if mask&inMaskCreate != 0 {
			return 0, abi.EEXIST
		}
		if mask&inMaskAdd != 0 {
			keep |= w.mask
		}
		w.mask = keep
		return uint64(w.wd), nil
	}
	if len(f.watches) >= inotifyMaxWatches {
		return 0, abi.ENOSPC
	}
	w := &inotifyWatch{f: f, wd: f.nextWD, n: n, mask: keep}
	f.nextWD++
	f.watches[w.wd], f.byInode[n] = w, w
	n.Watch(w)
	return uint64(w.wd), nil
}

func sysInotifyRmWatch(t *Task, a args) (uint64, error) {
	f, err := t.inotifyOf(a[0])
	if err != nil {
		return 0, err
	}
	w := f.watches[int32(a[1])]
	if w == nil {
		return 0, abi.EINVAL
	}
	f.remove(w)
	return 0, nil
}
