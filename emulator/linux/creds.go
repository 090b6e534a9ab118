package linux

import (
	"slices"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// credentials are a process's user and group ids, as credentials(7)
// describes them. Linux keeps them per thread, but glibc and Go change
// every thread of a process together, so the emulator keeps one set per
// process.
//
// Capabilities follow the traditional root model (no capability
// bounding or securebits): an effective uid of 0 holds CAP_SETUID,
// CAP_SETGID and CAP_KILL, and a file-system uid of 0 holds
// CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_CHOWN; nobody else holds any.
// Dropping every id to non-zero therefore drops root for good, as it does
// on Linux.
type credentials struct {
	ruid, euid, suid, fsuid uint32
	rgid, egid, sgid, fsgid uint32
	// groups are the supplementary groups. The slice is replaced, never
	// changed in place, so forked processes may share it.
	groups []uint32
	// fs is the view the VFS checks: fsuid, fsgid, groups.
	fs vfs.Credentials
}

// newCredentials returns the credentials of a process started as uid/gid
// with supplementary groups.
func newCredentials(uid, gid uint32, groups []uint32) credentials {
	c := credentials{ruid: uid, euid: uid, suid: uid, fsuid: uid, rgid: gid, egid: gid, sgid: gid, fsgid: gid,
		groups: slices.Clone(groups)}
	c.sync()
	return c
}

// sync refreshes the VFS view after a change.
func (c *credentials) sync() { c.fs = vfs.Credentials{UID: c.fsuid, GID: c.fsgid, Groups: c.groups} }

// privileged reports CAP_SETUID/CAP_SETGID/CAP_KILL.
func (c *credentials) privileged() bool { return c.euid == 0 }

// noChange is the id argument meaning "leave unchanged" ((uid_t)-1).
const noChange = ^uint32(0)

// oneOf reports whether id is one of the process's real, effective or
// saved ids: the only values an unprivileged process may switch to.
func oneOf(id, r, e, s uint32) bool { return id == r || id == e || id == s }

// setEffective changes the effective uid (or gid) and moves the
// file-system id along with it, as every set*id call does.
func setEffective(e, fs *uint32, v uint32) { *e, *fs = v, v }

func sysGetuid(t *Task, a args) (uint64, error)  { return uint64(t.proc.cred.ruid), nil }
func sysGeteuid(t *Task, a args) (uint64, error) { return uint64(t.proc.cred.euid), nil }
func sysGetgid(t *Task, a args) (uint64, error)  { return uint64(t.proc.cred.rgid), nil }
func sysGetegid(t *Task, a args) (uint64, error) { return uint64(t.proc.cred.egid), nil }

func sysGetresuid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return 0, t.putIDs(a, c.ruid, c.euid, c.suid)
}

func sysGetresgid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return 0, t.putIDs(a, c.rgid, c.egid, c.sgid)
}

func (t *Task) putIDs(a args, ids ...uint32) error {
	for i, id := range ids {
		if err := t.writeU32(a[i], id); err != nil {
			return err
		}
	}
	return nil
}

// setid implements setuid and setgid: root sets all four ids, others only
// the effective (and file-system) id, to their real or saved id.
func setid(c *credentials, v uint32, r, e, s, fs *uint32) error {
	switch {
	case v == noChange:
		return abi.EINVAL
	case c.privileged():
		*r, *s = v, v
		setEffective(e, fs, v)
	case v == *r || v == *s:
		setEffective(e, fs, v)
	default:
		return abi.EPERM
	}
	c.sync()
	return nil
}

func sysSetuid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return 0, setid(c, uint32(a[0]), &c.ruid, &c.euid, &c.suid, &c.fsuid)
}

func sysSetgid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return 0, setid(c, uint32(a[0]), &c.rgid, &c.egid, &c.sgid, &c.fsgid)
}

// setreid implements setreuid and setregid: an unprivileged caller may
// set the real id to its real or effective id and the effective id to
// any of its three; the saved id follows the new effective id whenever
// the real id is set or the effective id differs from the old real id.
func setreid(c *credentials, nr, ne uint32, r, e, s, fs *uint32) error {
	priv := c.privileged()
	if nr != noChange && !priv && nr != *r && nr != *e {
		return abi.EPERM
	}
	if ne != noChange && !priv && !oneOf(ne, *r, *e, *s) {
		return abi.EPERM
	}
	oldReal := *r
	if nr != noChange {
		*r = nr
	}
	if ne != noChange {
		setEffective(e, fs, ne)
	}
	if nr != noChange || (ne != noChange && ne != oldReal) {
		*s = *e
	}
	c.sync()
	return nil
}

func sysSetreuid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return 0, setreid(c, uint32(a[0]), uint32(a[1]), &c.ruid, &c.euid, &c.suid, &c.fsuid)
}

func sysSetregid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return 0, setreid(c, uint32(a[0]), uint32(a[1]), &c.rgid, &c.egid, &c.sgid, &c.fsgid)
}

// setresid implements setresuid and setresgid: an unprivileged caller may
// set each id to one of its current three.
func setresid(c *credentials, nr, ne, ns uint32, r, e, s, fs *uint32) error {
	if !c.privileged() {
		for _, v := range []uint32{nr, ne, ns} {
			if v != noChange && !oneOf(v, *r, *e, *s) {
				return abi.EPERM
			}
		}
	}
	if nr != noChange {
		*r = nr
	}
	if ne != noChange {
		setEffective(e, fs, ne)
	}
	if ns != noChange {
		*s = ns
	}
	c.sync()
	return nil
}

func sysSetresuid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return 0, setresid(c, uint32(a[0]), uint32(a[1]), uint32(a[2]), &c.ruid, &c.euid, &c.suid, &c.fsuid)
}

func sysSetresgid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return 0, setresid(c, uint32(a[0]), uint32(a[1]), uint32(a[2]), &c.rgid, &c.egid, &c.sgid, &c.fsgid)
}

// setfsid implements setfsuid and setfsgid: they return the old id and
// change it only when allowed (root, or one of the real, effective, saved
// or current file-system ids); they never fail.
func setfsid(c *credentials, v uint32, r, e, s, fs *uint32) uint64 {
	old := *fs
	if v != noChange && (c.privileged() || oneOf(v, *r, *e, *s) || v == *fs) {
		*fs = v
		c.sync()
	}
	return uint64(old)
}

func sysSetfsuid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return setfsid(c, uint32(a[0]), &c.ruid, &c.euid, &c.suid, &c.fsuid), nil
}

func sysSetfsgid(t *Task, a args) (uint64, error) {
	c := &t.proc.cred
	return setfsid(c, uint32(a[0]), &c.rgid, &c.egid, &c.sgid, &c.fsgid), nil
}

// ngroupsMax is NGROUPS_MAX.
const ngroupsMax = 65536

func sysGetgroups(t *Task, a args) (uint64, error) {
	size := int32(a[0])
	groups := t.proc.cred.groups
	switch {
	case size < 0:
		return 0, abi.EINVAL
	case size == 0:
		return uint64(len(groups)), nil
	case int(size) < len(groups):
		return 0, abi.EINVAL
	}
	b := make([]byte, 4*len(groups))
	for i, g := range groups {
		le.PutUint32(b[4*i:], g)
	}
	return uint64(len(groups)), t.copyOut(a[1], b)
}

func sysSetgroups(t *Task, a args) (uint64, error) {
	n := a[0]
	c := &t.proc.cred
	if n > ngroupsMax {
		return 0, abi.EINVAL
	}
	if !c.privileged() {
		return 0, abi.EPERM
	}
	b := make([]byte, 4*n)
	if err := t.copyIn(a[1], b); err != nil {
		return 0, err
	}
	groups := make([]uint32, n)
	for i := range groups {
		groups[i] = le.Uint32(b[4*i:])
	}
	// The kernel keeps the list sorted (groups_sort) for its searches;
	// getgroups returns it in that order.
	slices.Sort(groups)
	c.groups = groups
	c.sync()
	return 0, nil
}

// execSetID applies a set-user-ID or set-group-ID executable's owner at
// execve and makes the saved ids the effective ones, as the kernel does
// for every exec. It reports whether the ids changed (AT_SECURE).
func (c *credentials) execSetID(n *vfs.Inode) bool {
	st := n.Stat()
	secure := false
	if st.Mode&abi.S_ISUID != 0 && st.UID != c.euid {
		setEffective(&c.euid, &c.fsuid, st.UID)
		secure = true
	}
	// Set-group-ID without group execute marks mandatory locking, not a
	// privilege change.
	if st.Mode&abi.S_ISGID != 0 && st.Mode&0o010 != 0 && st.GID != c.egid {
		setEffective(&c.egid, &c.fsgid, st.GID)
		secure = true
	}
	c.suid, c.sgid = c.euid, c.egid
	c.sync()
	return secure
}

// maySignal reports whether the caller may send sig to target: root, a
// matching real or effective uid against the target's real or saved uid,
// or SIGCONT within the same session (kill(2)).
func (c *credentials) maySignal(sender, target *Process, sig int) bool {
	tc := &target.cred
	return c.privileged() || c.ruid == tc.ruid || c.ruid == tc.suid || c.euid == tc.ruid || c.euid == tc.suid ||
		(sig == abi.SIGCONT && sender.sid == target.sid)
}

func sysCapget(t *Task, a args) (uint64, error) {
	// Root holds every capability (effective, permitted, inheritable as
	// two 32-bit halves); other users hold none.
	if a[1] == 0 {
		return 0, nil
	}
	b := make([]byte, 24)
	if t.proc.cred.privileged() {
		for i := 0; i < 2; i++ {
			le.PutUint32(b[i*12:], ^uint32(0))
			le.PutUint32(b[i*12+4:], ^uint32(0))
		}
	}
	return 0, t.copyOut(a[1], b)
}
