package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// epoll event bits beyond the poll ones.
const (
	epollET      = 1 << 31
	epollOneshot = 1 << 30
	epollCtlAdd  = 1
	epollCtlDel  = 2
	epollCtlMod  = 3
)

// epollFile is an epoll instance: interest entries keyed by descriptor.
type epollFile struct {
	anonFile
	entries map[int]*epollEntry
}

type epollEntry struct {
	d      *vfs.Description
	events uint32
	data   uint64
	// reported and reportedIn are the readiness and the input waiting
	// when last returned, for edge-triggered entries.
	reported   uint32
	reportedIn int
	disabled   bool
}

func (e *epollFile) Poll() uint32 {
	if len(e.collect(1, false)) > 0 {
		return abi.POLLIN
	}
	return 0
}

// collect returns up to max ready events; consume updates edge and
// one-shot state.
func (e *epollFile) collect(max int, consume bool) [][2]uint64 {
	var out [][2]uint64
	for _, en := range e.entries {
		if len(out) >= max {
			break
		}
		if en.disabled {
			continue
		}
		ready := en.d.File.Poll() & (en.events | abi.POLLHUP | abi.POLLERR)
		if en.events&epollET != 0 {
			// An edge: a condition that was not there, or more input
			// (Linux wakes edge-triggered waiters at each arrival). It
			// reports the whole readiness, as Linux does.
			in, _ := vfs.Buffered(en.d.File)
			edge := ready&^en.reported != 0 || (ready&abi.POLLIN != 0 && in > en.reportedIn)
			if consume {
				en.reported, en.reportedIn = ready, in
			}
			if !edge {
				ready = 0
			}
		}
		if ready == 0 {
			continue
		}
		if consume && en.events&epollOneshot != 0 {
			en.disabled = true
		}
		out = append(out, [2]uint64{uint64(ready), en.data})
	}
	return out
}

func sysEpollCreate1(t *Task, a args) (uint64, error) {
	if a[0]&^abi.O_CLOEXEC != 0 {
		return 0, abi.EINVAL
	}
	d := vfs.NewDescription(&epollFile{entries: map[int]*epollEntry{}}, abi.O_RDWR, "anon_inode:[eventpoll]")
	fd, err := t.proc.files.alloc(d, 0, a[0]&abi.O_CLOEXEC != 0)
	return uint64(fd), err
}

func sysEpollCtl(t *Task, a args) (uint64, error) {
	ed, ep, err := fileOf[*epollFile](t, a[0], abi.EINVAL)
	if err != nil {
		return 0, err
	}
	fd := int(int32(a[2]))
	d, err := t.fd(a[2])
	if err != nil {
		return 0, err
	}
	if d == ed {
		return 0, abi.EINVAL
	}
	if n := d.File.Inode(); n != nil && (n.IsRegular() || n.IsDir()) {
		// Linux refuses files that are always ready.
		return 0, abi.EPERM
	}
	var ev [16]byte
	size, dataOff := t.epollEventLayout()
	if a[1] != epollCtlDel {
		if err := t.copyIn(a[3], ev[:size]); err != nil {
			return 0, err
		}
	}
	events, data := le.Uint32(ev[:]), le.Uint64(ev[dataOff:])
	switch a[1] {
	case epollCtlAdd:
		if _, ok := ep.entries[fd]; ok {
			return 0, abi.EEXIST
		}
		ep.entries[fd] = &epollEntry{d: d, events: events, data: data}
	case epollCtlMod:
		en, ok := ep.entries[fd]
		if !ok {
			return 0, abi.ENOENT
		}
		en.events, en.data, en.reported, en.disabled = events, data, 0, false
	case epollCtlDel:
		if _, ok := ep.entries[fd]; !ok {
			return 0, abi.ENOENT
		}
		delete(ep.entries, fd)
	default:
		return 0, abi.EINVAL
	}
	return 0, nil
}

// epollEventLayout returns the size of struct epoll_event and the offset
// of its data field in the guest's ABI.
func (t *Task) epollEventLayout() (size, dataOff int) {
	if t.k.abi.EpollPacked {
		return 12, 4
	}
	return 16, 8
}

func sysEpollPwait(t *Task, a args) (uint64, error) {
	_, ep, err := fileOf[*epollFile](t, a[0], abi.EINVAL)
	if err != nil {
		return 0, err
	}
	max := int(int32(a[2]))
	if max <= 0 || max > 1<<16 {
		return 0, abi.EINVAL
	}
	evs := ep.collect(max, true)
	timeout := int64(int32(a[3]))
	if len(evs) > 0 || timeout == 0 || (t.resume != nil && t.resume.timedOut) {
		size, dataOff := t.epollEventLayout()
		b := make([]byte, size*len(evs))
		for i, e := range evs {
			le.PutUint32(b[size*i:], uint32(e[0]))
			le.PutUint64(b[size*i+dataOff:], e[1])
		}
		return uint64(len(evs)), t.copyOut(a[1], b)
	}
	w := &waitState{noRestart: true, ready: func() bool { return len(ep.collect(1, false)) > 0 }}
	if t.resume != nil {
		w.deadline = t.resume.deadline
	} else if timeout > 0 {
		w.deadline = t.k.cfg.Clock().Add(millis(timeout))
	}
	return 0, t.block(w)
}

// eventFile is an eventfd counter.
type eventFile struct {
	anonFile
	count     uint64
	semaphore bool
}

func (e *eventFile) Read(p []byte, _ int64) (int, error) {
	if len(p) < 8 {
		return 0, abi.EINVAL
	}
	if e.count == 0 {
		return 0, vfs.ErrWouldBlock
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	e.count -= v
	le.PutUint64(p, v)
	return 8, nil
}

func (e *eventFile) Write(p []byte, _ int64) (int, error) {
	if len(p) < 8 {
		return 0, abi.EINVAL
	}
	v := le.Uint64(p)
	if v == ^uint64(0) {
		return 0, abi.EINVAL
	}
	if e.count+v < e.count || e.count+v == ^uint64(0) {
		return 0, vfs.ErrWouldBlock
	}
	e.count += v
	return 8, nil
}

func (e *eventFile) Poll() uint32 {
	ev := uint32(abi.POLLOUT)
	if e.count > 0 {
		ev |= abi.POLLIN
	}
	return ev
}

func sysEventfd2(t *Task, a args) (uint64, error) {
	const efdSemaphore = 1
	flags := uint32(a[1])
	if flags&^(abi.O_CLOEXEC|abi.O_NONBLOCK|efdSemaphore) != 0 {
		return 0, abi.EINVAL
	}
	d := vfs.NewDescription(&eventFile{count: uint64(uint32(a[0])), semaphore: flags&efdSemaphore != 0}, abi.O_RDWR|flags&abi.O_NONBLOCK, "anon_inode:[eventfd]")
	fd, err := t.proc.files.alloc(d, 0, flags&abi.O_CLOEXEC != 0)
	return uint64(fd), err
}
