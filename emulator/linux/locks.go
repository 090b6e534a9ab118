package linux

import (
	"cmp"
	"math"
	"slices"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// Advisory file locks, shared by every process of the guest as the kernel
// shares them: fcntl(2) record locks (owned by a descriptor table, so
// released when the owner closes any descriptor of the file, not inherited
// by fork), open file description locks (F_OFD_*, owned by the
// description), which conflict with record locks, and flock(2) locks
// (owned by the description, whole file, a namespace of their own). They
// are the guest's own: processes on the host do not see them, even on a
// mounted host directory.

type lockKind uint8

const (
	posixLock lockKind = iota
	ofdLock
	flockLock
)

// lockToEOF is the end of a lock that extends to the end of the file,
// however long it grows.
const lockToEOF = math.MaxInt64

// fileLock is a held lock, or a request for one.
type fileLock struct {
	kind  lockKind
	table *fdTable         // owner of a record lock
	desc  *vfs.Description // owner of an OFD or flock lock
	pid   int              // reported by F_GETLK: the owner's pid, -1 for OFD locks
	write bool
	// start and end delimit the bytes [start, end).
	start, end int64
}

func (l *fileLock) sameOwner(o *fileLock) bool {
	if l.kind == posixLock || o.kind == posixLock {
		return l.kind == o.kind && l.table == o.table
	}
	return l.kind == o.kind && l.desc == o.desc
}

// conflicts reports whether l and o cannot be held together.
func (l *fileLock) conflicts(o *fileLock) bool {
	if (l.kind == flockLock) != (o.kind == flockLock) || l.sameOwner(o) {
		return false
	}
	return l.start < o.end && o.start < l.end && (l.write || o.write)
}

// lockWait is what a descriptor table waits for in F_SETLKW: task is
// blocked in ws while it lasts.
type lockWait struct {
	key  any
	req  *fileLock
	task *Task
	ws   *waitState
}

// lockTable holds every file's locks, by lockKey.
type lockTable struct {
	files map[any][]*fileLock
	waits map[*fdTable]lockWait
	// hooked are the descriptions whose last close already releases
	// their locks.
	hooked map[*vfs.Description]bool
}

func newLockTable() *lockTable {
	return &lockTable{files: map[any][]*fileLock{}, waits: map[*fdTable]lockWait{}, hooked: map[*vfs.Description]bool{}}
}

// lockKey identifies the file a description refers to: its inode, or the
// file itself for anonymous files (pipes, terminals).
func lockKey(d *vfs.Description) any {
	if n := d.File.Inode(); n != nil {
		return n
	}
	return d.File
}

// conflict returns a held lock that req conflicts with, or nil.
func (lt *lockTable) conflict(key any, req *fileLock) *fileLock {
	for _, l := range lt.files[key] {
		if req.conflicts(l) {
			return l
		}
	}
	return nil
}

// set gives req's owner exactly req's type over req's range (unlock:
// none), splitting and merging its other locks of the file as the kernel
// does. A flock request, covering the whole file, replaces the owner's
// flock lock.
func (lt *lockTable) set(key any, req *fileLock, unlock bool) {
	var out, mine []*fileLock
	for _, l := range lt.files[key] {
		switch {
		case !l.sameOwner(req):
			out = append(out, l)
		case l.end <= req.start || req.end <= l.start:
			mine = append(mine, l)
		default:
			// Keep the parts outside req's range.
			if l.start < req.start {
				left := *l
				left.end = req.start
				mine = append(mine, &left)
			}
			if req.end < l.end {
				right := *l
				right.start = req.end
				mine = append(mine, &right)
			}
		}
	}
	if !unlock {
		r := *req
		mine = append(mine, &r)
	}
	// Merge touching locks of the same type.
	slices.SortFunc(mine, func(a, b *fileLock) int { return cmp.Compare(a.start, b.start) })
	var merged []*fileLock
	for _, l := range mine {
		if n := len(merged); n > 0 && merged[n-1].write == l.write && merged[n-1].end >= l.start {
			merged[n-1].end = max(merged[n-1].end, l.end)
			continue
		}
		merged = append(merged, l)
	}
	out = append(out, merged...)
	if len(out) == 0 {
		delete(lt.files, key)
	} else {
		lt.files[key] = out
	}
	if req.desc != nil && !unlock && !lt.hooked[req.desc] {
		lt.hooked[req.desc] = true
		d := req.desc
		d.OnLastClose(func() { lt.releaseDesc(d) })
	}
}

// releaseTable drops the record locks that table holds on the file key:
// closing any descriptor of a file does that.
func (lt *lockTable) releaseTable(table *fdTable, key any) {
	lt.remove(key, func(l *fileLock) bool { return l.kind == posixLock && l.table == table })
}

// releaseDesc drops the OFD and flock locks of d, at its last close.
func (lt *lockTable) releaseDesc(d *vfs.Description) {
	delete(lt.hooked, d)
	for key := range lt.files {
		lt.remove(key, func(l *fileLock) bool { return l.kind != posixLock && l.desc == d })
	}
}

func (lt *lockTable) remove(key any, drop func(*fileLock) bool) {
	locks, ok := lt.files[key]
	if !ok {
		return // the common case: every close of an unlocked file
	}
	locks = slices.DeleteFunc(locks, drop)
	if len(locks) == 0 {
		delete(lt.files, key)
	} else {
		lt.files[key] = locks
	}
}

// deadlock reports whether table waiting for blocker would wait forever:
// blocker's owner waits, through a chain of record locks, for table.
func (lt *lockTable) deadlock(table *fdTable, blocker *fileLock) bool {
	for range 64 {
		if blocker.kind != posixLock {
			return false
		}
		if blocker.table == table {
			return true
		}
		w, ok := lt.waits[blocker.table]
		if !ok || w.task.blocked != w.ws {
			return false // not waiting (any more)
		}
		if blocker = lt.conflict(w.key, w.req); blocker == nil {
			return false
		}
	}
	return false
}

// struct flock on 64-bit Linux: l_type, l_whence (16 bits each), l_start,
// l_len (64 bits), l_pid (32 bits), padded to 32 bytes.
const flockSize = 32

// fcntlLock implements F_GETLK, F_SETLK, F_SETLKW and their OFD forms on
// descriptor d of the calling task's table.
func (t *Task) fcntlLock(d *vfs.Description, cmd, addr uint64) (uint64, error) {
	lt := t.k.locks
	raw := make([]byte, flockSize)
	if err := t.copyIn(addr, raw); err != nil {
		return 0, err
	}
	typ, whence := int16(le.Uint16(raw[0:])), int16(le.Uint16(raw[2:]))
	start, length := int64(le.Uint64(raw[8:])), int64(le.Uint64(raw[16:]))
	ofd := cmd == abi.F_OFD_GETLK || cmd == abi.F_OFD_SETLK || cmd == abi.F_OFD_SETLKW
	if ofd && le.Uint32(raw[24:]) != 0 {
		return 0, abi.EINVAL
	}
	switch whence {
	case abi.SEEK_SET:
	case abi.SEEK_CUR:
		start += d.Offset
	case abi.SEEK_END:
		start += d.File.Stat().Size
	default:
		return 0, abi.EINVAL
	}
	end := int64(lockToEOF)
	switch {
	case length > 0:
		if start > lockToEOF-length {
			return 0, abi.EOVERFLOW
		}
		end = start + length
	case length < 0:
		end, start = start, start+length
	}
	if start < 0 {
		return 0, abi.EINVAL
	}
	req := &fileLock{kind: posixLock, table: t.proc.files, pid: t.proc.pid, write: typ == abi.F_WRLCK, start: start, end: end}
	if ofd {
		req.kind, req.table, req.desc, req.pid = ofdLock, nil, d, -1
	}
	key := lockKey(d)
	if cmd == abi.F_GETLK || cmd == abi.F_OFD_GETLK {
		if typ != abi.F_RDLCK && typ != abi.F_WRLCK {
			return 0, abi.EINVAL
		}
		c := lt.conflict(key, req)
		if c == nil {
			le.PutUint16(raw[0:], abi.F_UNLCK)
			return 0, t.copyOut(addr, raw)
		}
		le.PutUint16(raw[0:], abi.F_RDLCK)
		if c.write {
			le.PutUint16(raw[0:], abi.F_WRLCK)
		}
		le.PutUint16(raw[2:], abi.SEEK_SET)
		le.PutUint64(raw[8:], uint64(c.start))
		n := int64(0)
		if c.end != lockToEOF {
			n = c.end - c.start
		}
		le.PutUint64(raw[16:], uint64(n))
		le.PutUint32(raw[24:], uint32(int32(c.pid)))
		return 0, t.copyOut(addr, raw)
	}
	delete(lt.waits, t.proc.files)
	switch typ {
	case abi.F_UNLCK:
		lt.set(key, req, true)
		return 0, nil
	case abi.F_RDLCK:
		if !d.Readable() {
			return 0, abi.EBADF
		}
	case abi.F_WRLCK:
		if !d.Writable() {
			return 0, abi.EBADF
		}
	default:
		return 0, abi.EINVAL
	}
	if c := lt.conflict(key, req); c != nil {
		if cmd != abi.F_SETLKW && cmd != abi.F_OFD_SETLKW {
			return 0, abi.EAGAIN
		}
		ws := &waitState{ready: func() bool { return lt.conflict(key, req) == nil }}
		if !ofd {
			if lt.deadlock(req.table, c) {
				return 0, abi.EDEADLK
			}
			lt.waits[req.table] = lockWait{key, req, t, ws}
		}
		return 0, t.block(ws)
	}
	lt.set(key, req, false)
	return 0, nil
}

func sysFlock(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	lt := t.k.locks
	op := a[1] &^ abi.LOCK_NB
	req := &fileLock{kind: flockLock, desc: d, pid: t.proc.pid, write: op == abi.LOCK_EX, start: 0, end: lockToEOF}
	key := lockKey(d)
	switch op {
	case abi.LOCK_UN:
		lt.set(key, req, true)
		return 0, nil
	case abi.LOCK_SH, abi.LOCK_EX:
	default:
		return 0, abi.EINVAL
	}
	if lt.conflict(key, req) != nil {
		// Converting a lock releases the old one first, as the kernel
		// does: the conversion is not atomic.
		lt.set(key, req, true)
		if a[1]&abi.LOCK_NB != 0 {
			return 0, abi.EAGAIN
		}
		return 0, t.block(&waitState{ready: func() bool { return lt.conflict(key, req) == nil }})
	}
	lt.set(key, req, false)
	return 0, nil
}
