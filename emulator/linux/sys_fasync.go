package linux

import (
	"math"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// Signal-driven I/O and directory notification (fcntl(2): F_SETOWN,
// F_GETOWN, F_SETOWN_EX, F_GETOWN_EX, F_SETSIG, F_GETSIG, O_ASYNC and
// F_NOTIFY). An open file description may name an owner, a process, a
// thread or a process group, to be signalled: with O_ASYNC when the file
// becomes readable or writable or more input arrives, with F_NOTIFY on a
// directory (dnotify) when its entries change. The signal is SIGIO, or
// the one F_SETSIG chose, which then carries the descriptor and the event
// in its siginfo.
//
// Linux raises the signal inside the operation that changed the file.
// Here the kernel compares the readiness of the descriptions with O_ASYNC
// after every system call and at every scheduling round, so the signal is
// pending when the call that caused it returns, as it is on Linux.

const (
	fSetsig    = 10
	fGetsig    = 11
	fSetownEx  = 15
	fGetownEx  = 16
	fNotify    = 1026
	oAsync     = 0o20000
	ownerTID   = 0
	ownerPID   = 1
	ownerPGRP  = 2
	pollIn     = 1 // si_code of the event (POLL_IN, ...)
	pollOut    = 2
	pollMsg    = 3
	dnAccess   = 0x1
	dnModify   = 0x2
	dnCreate   = 0x4
	dnDelete   = 0x8
	dnRename   = 0x10
	dnAttrib   = 0x20
	dnMulti    = 0x80000000
	dnAllKinds = dnAccess | dnModify | dnCreate | dnDelete | dnRename | dnAttrib
)

// fileOwner is the f_owner of an open file description, with its
// signal-driven I/O and dnotify state.
type fileOwner struct {
	// kind is ownerTID, ownerPID or ownerPGRP; id 0 is no owner.
	kind, id int
	// sig is F_SETSIG's signal; 0 sends plain SIGIO.
	sig int
	// uid and euid of who set the owner: the signal goes only where
	// they could send one (sigio_perm).
	uid, euid uint32
	// O_ASYNC: fd is the descriptor of the F_SETFL that turned it on
	// (si_fd); ev, in and out the readiness, input waiting and output
	// not yet taken by the reader, last seen.
	async   bool
	fd      int
	ev      uint32
	in, out int
	// notify are the F_NOTIFY requests made through the description.
	notify *dnotify
}

// owner returns d's owner record, made on first use and dropped with the
// description.
func (k *Kernel) owner(d *vfs.Description) *fileOwner {
	if o := k.owners[d]; o != nil {
		return o
	}
	o := &fileOwner{}
	k.owners[d] = o
	d.OnLastClose(func() {
		if o.notify != nil {
			o.notify.stop()
		}
		delete(k.owners, d)
		delete(k.asyncFiles, d)
	})
	return o
}

// fcntlOwner serves the owner, signal and notification commands of fcntl.
func (t *Task) fcntlOwner(d *vfs.Description, fd int, cmd, arg uint64) (uint64, error) {
	k := t.k
	switch cmd {
	case abi.F_GETOWN:
		o := k.owners[d]
		if o == nil {
			return 0, nil
		}
		if o.kind == ownerPGRP {
			return uint64(-int64(o.id)), nil
		}
		return uint64(o.id), nil
	case abi.F_SETOWN:
		who := int32(arg)
		if who == math.MinInt32 {
			return 0, abi.EINVAL
		}
		if who < 0 {
			return 0, t.setOwner(d, ownerPGRP, int(-who))
		}
		return 0, t.setOwner(d, ownerPID, int(who))
	case fGetownEx:
		var b [8]byte
		if o := k.owners[d]; o != nil {
			le.PutUint32(b[:], uint32(o.kind))
			le.PutUint32(b[4:], uint32(o.id))
		} else {
			le.PutUint32(b[:], ownerPID)
		}
		return 0, t.copyOut(arg, b[:])
	case fSetownEx:
		var b [8]byte
		if err := t.copyIn(arg, b[:]); err != nil {
			return 0, err
		}
		kind, who := int(le.Uint32(b[:])), int32(le.Uint32(b[4:]))
		if kind > ownerPGRP || who < 0 {
			return 0, abi.EINVAL
		}
		return 0, t.setOwner(d, kind, int(who))
	case fGetsig:
		if o := k.owners[d]; o != nil {
			return uint64(o.sig), nil
		}
		return 0, nil
	case fSetsig:
		if arg > abi.NSIG {
			return 0, abi.EINVAL
		}
		k.owner(d).sig = int(arg)
		return 0, nil
	case fNotify:
		return 0, t.dnotify(d, fd, uint32(arg))
	}
	return 0, abi.EINVAL
}

// setOwner makes the process, thread or group (kind, id) d's owner; id 0
// removes the owner.
func (t *Task) setOwner(d *vfs.Description, kind, id int) error {
	if id != 0 {
		found := false
		switch kind {
		case ownerTID:
			found = t.k.taskByTID(id) != nil
		case ownerPID:
			found = t.k.process(id) != nil
		case ownerPGRP:
			for _, p := range t.k.procs {
				found = found || (p.pgid == id && !p.zombie)
			}
		}
		if !found {
			return abi.ESRCH
		}
	}
	t.k.owner(d).set(t, kind, id)
	return nil
}

// set makes (kind, id) the owner, set by t: the signal goes only where
// t's ids could send one.
func (o *fileOwner) set(t *Task, kind, id int) {
	o.kind, o.id = kind, id
	o.uid, o.euid = t.proc.cred.ruid, t.proc.cred.euid
}

// setAsync turns O_ASYNC on or off for d, set through descriptor fd.
func (t *Task) setAsync(d *vfs.Description, fd int, on bool) {
	k := t.k
	if !on {
		if o := k.owners[d]; o != nil {
			o.async = false
		}
		delete(k.asyncFiles, d)
		return
	}
	o := k.owner(d)
	if !o.async {
		o.async, o.fd = true, fd
		o.ev = d.File.Poll()
		o.in, o.out = ioLevels(d.File)
	}
	k.asyncFiles[d] = o
}

// checkAsync signals the owners of descriptions with O_ASYNC: POLL_IN when
// the file became readable, received more input or hung up, POLL_OUT when
// it became writable or, writable, had output taken by its reader (Linux
// signals pipes and sockets at every write and every read).
func (k *Kernel) checkAsync() {
	for d, o := range k.asyncFiles {
		ev := d.File.Poll()
		in, out := ioLevels(d.File)
		rose := ev &^ o.ev
		if rose&(abi.POLLIN|abi.POLLHUP) != 0 || (ev&abi.POLLIN != 0 && in > o.in) {
			k.sendSigio(o, o.fd, pollIn)
		}
		if rose&abi.POLLOUT != 0 || (ev&abi.POLLOUT != 0 && out < o.out) {
			k.sendSigio(o, o.fd, pollOut)
		}
		o.ev, o.in, o.out = ev, in, out
	}
}

// ioLevels returns the input waiting to be read from f and the output it
// wrote that its reader has not taken yet, where f keeps count.
func ioLevels(f vfs.File) (in, out int) {
	in, _ = vfs.Buffered(f)
	if s, ok := f.(*unixSocket); ok && s.peer != nil {
		out = s.peer.queued
	} else {
		out, _ = vfs.PipeWritten(f)
	}
	return in, out
}

// sigioBand is si_band for each POLL_* event.
var sigioBand = [...]int64{
	pollIn:  abi.POLLIN | abi.POLLRDNORM,
	pollOut: abi.POLLOUT | abi.POLLWRNORM | abi.POLLWRBAND,
	pollMsg: abi.POLLIN | abi.POLLRDNORM | abi.POLLMSG,
}

// sendSigio sends the owner's signal for event reason (POLL_IN, ...) on
// descriptor fd.
func (k *Kernel) sendSigio(o *fileOwner, fd int, reason int32) {
	if o.id == 0 {
		return
	}
	sig, info := abi.SIGIO, sigInfo{code: abi.SI_KERNEL}
	if o.sig != 0 {
		sig, info = o.sig, sigInfo{code: reason, poll: true, band: sigioBand[reason], fd: int32(fd)}
	}
	allowed := func(p *Process) bool {
		c := &p.cred
		return o.euid == 0 || o.euid == c.suid || o.euid == c.ruid || o.uid == c.suid || o.uid == c.ruid
	}
	switch o.kind {
	case ownerTID:
		if t := k.taskByTID(o.id); t != nil && allowed(t.proc) {
			k.sendThreadSignal(t, sig, info)
		}
	case ownerPID:
		if p := k.process(o.id); p != nil && allowed(p) {
			k.sendSignal(p, sig, info)
		}
	case ownerPGRP:
		for _, p := range k.procs {
			if p.pgid == o.id && allowed(p) {
				k.sendSignal(p, sig, info)
			}
		}
	}
}

// dnotify is the F_NOTIFY requests made through one description of a
// directory: a watcher of the directory's inode.
type dnotify struct {
	k    *Kernel
	dir  *vfs.Inode
	o    *fileOwner
	fd   int
	mask uint32
}

// dnotify serves F_NOTIFY: watch the directory behind d for the DN_*
// events of mask (once, or until changed with DN_MULTISHOT), signalling
// the calling process; a mask without event kinds removes the watch.
func (t *Task) dnotify(d *vfs.Description, fd int, mask uint32) error {
	n := d.File.Inode()
	if n == nil || !n.IsDir() {
		return abi.ENOTDIR
	}
	o := t.k.owner(d)
	if mask&dnAllKinds == 0 {
		if o.notify != nil {
			o.notify.stop()
			o.notify = nil
		}
		return nil
	}
	// The caller becomes the owner (Linux sets it on every F_NOTIFY).
	o.set(t, ownerPID, t.proc.pid)
	if o.notify == nil {
		o.notify = &dnotify{k: t.k, dir: n, o: o}
		n.Watch(o.notify)
	}
	o.notify.fd, o.notify.mask = fd, mask
	return nil
}

func (w *dnotify) stop() { w.dir.Unwatch(w) }

// Event maps an inotify event of the directory to dnotify's kinds: an
// entry moved out counts as renamed (reported first, as a separate event,
// for any rename, as Linux does since it reports FS_RENAME) and deleted,
// one moved in as created.
func (w *dnotify) Event(_ *vfs.Inode, mask uint32, _ string, _ uint32) {
	switch {
	case mask&vfs.InAccess != 0:
		w.fire(dnAccess)
	case mask&vfs.InModify != 0:
		w.fire(dnModify)
	case mask&vfs.InAttrib != 0:
		w.fire(dnAttrib)
	case mask&(vfs.InCreate|vfs.InMovedTo) != 0:
		w.fire(dnCreate)
	case mask&vfs.InDelete != 0:
		w.fire(dnDelete)
	case mask&vfs.InMovedFrom != 0:
		w.fire(dnRename)
		w.fire(dnDelete)
	}
}

// fire signals an event of the given kind if the watch asks for it; a
// watch without DN_MULTISHOT ends with its first event.
func (w *dnotify) fire(kind uint32) {
	if w.mask&kind == 0 {
		return
	}
	w.k.sendSigio(w.o, w.fd, pollMsg)
	if w.mask&dnMulti == 0 {
		w.mask = 0
		w.stop()
		w.o.notify = nil
	}
}

// Gone ends the watch when the directory is deleted.
func (w *dnotify) Gone(*vfs.Inode) {
	w.stop()
	w.o.notify = nil
}
