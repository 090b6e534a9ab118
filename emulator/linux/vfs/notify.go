package vfs

// File-system events for inotify (inotify(7)): the operations of this
// package report what they did to the inodes involved, and to the watches
// of the directory an inode was last named in (Inode.dentryDir), with its
// name. Watchers (the system call layer's inotify instances) register per
// inode; with none, reporting costs a nil check.

// Event bits, as inotify_event.mask carries them.
const (
	InAccess       = 0x1
	InModify       = 0x2
	InAttrib       = 0x4
	InCloseWrite   = 0x8
	InCloseNowrite = 0x10
	InOpen         = 0x20
	InMovedFrom    = 0x40
	InMovedTo      = 0x80
	InCreate       = 0x100
	InDelete       = 0x200
	InDeleteSelf   = 0x400
	InMoveSelf     = 0x800
	InIsdir        = 0x40000000
)

// Watcher receives the events of an inode it watches. name is the child's
// name for events a directory reports about a child, empty otherwise.
type Watcher interface {
	Event(n *Inode, mask uint32, name string, cookie uint32)
	// Gone tells the watcher its inode was deleted: it must stop
	// watching (IN_IGNORED).
	Gone(n *Inode)
}

// Watch adds w to n's watchers.
func (n *Inode) Watch(w Watcher) { n.watchers = append(n.watchers, w) }

// Unwatch removes w from n's watchers.
func (n *Inode) Unwatch(w Watcher) {
	for i, o := range n.watchers {
		if o == w {
			n.watchers = append(n.watchers[:i], n.watchers[i+1:]...)
			return
		}
	}
}

func (n *Inode) isdirBit() uint32 {
	if n.IsDir() {
		return InIsdir
	}
	return 0
}

// notifySelf reports mask to n's own watchers.
func (n *Inode) notifySelf(mask uint32) {
	// A watch may end while it hears the event (IN_ONESHOT): iterate over
	// a copy.
	for _, w := range append([]Watcher(nil), n.watchers...) {
		w.Event(n, mask|n.isdirBit(), "", 0)
	}
}

// notifyDir reports mask about child name to dir's watchers.
func notifyDir(dir *Inode, child *Inode, mask uint32, name string, cookie uint32) {
	if dir == nil {
		return
	}
	for _, w := range append([]Watcher(nil), dir.watchers...) {
		w.Event(dir, mask|child.isdirBit(), name, cookie)
	}
}

// Notify reports an event about n (IN_ACCESS, IN_MODIFY, IN_ATTRIB,
// IN_OPEN, IN_CLOSE_*) to the watchers of the directory it is named in,
// then to its own (Linux's order).
func (n *Inode) Notify(mask uint32) {
	if d := n.dentryDir; d != nil && d.watchers != nil {
		notifyDir(d, n, mask, n.dentryName, 0)
	}
	n.notifySelf(mask)
}

// named records where n was last given a name, for its parent's watches.
func (n *Inode) named(dir *Inode, name string) { n.dentryDir, n.dentryName = dir, name }

// deleted reports that n lost its last name: IN_DELETE_SELF, and its
// watches end.
func (n *Inode) deleted() {
	if n.watchers == nil {
		return
	}
	n.notifySelf(InDeleteSelf)
	ws := n.watchers
	n.watchers = nil
	for _, w := range ws {
		w.Gone(n)
	}
}
