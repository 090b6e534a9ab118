package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// pidfd_open(2) and pidfd_send_signal(2): a descriptor for a process,
// readable (POLLIN) once it has exited, that signals and waitid(P_PIDFD)
// address without the races of reused pids. Python's asyncio watches its
// children this way.

// pidFile is a pidfd.
type pidFile struct {
	anonFile
	p *Process
}

// exited reports whether the process has ended (a zombie, or reaped).
func (f *pidFile) exited() bool { return f.p.zombie || f.p.k.procs[f.p.pid] != f.p }

func (f *pidFile) Poll() uint32 {
	if f.exited() {
		return abi.POLLIN
	}
	return 0
}

// pPIDFD is waitid's idtype for a pidfd.
const pPIDFD = 3

func sysPidfdOpen(t *Task, a args) (uint64, error) {
	pid, flags := int(int32(a[0])), uint32(a[1])
	if flags&^abi.O_NONBLOCK != 0 || pid <= 0 {
		return 0, abi.EINVAL
	}
	p := t.k.procs[pid]
	if p == nil {
		if t.k.taskByTID(pid) != nil {
			return 0, abi.EINVAL // a thread, not a thread group
		}
		return 0, abi.ESRCH
	}
	d := vfs.NewDescription(&pidFile{p: p}, abi.O_RDWR|flags&abi.O_NONBLOCK, "anon_inode:[pidfd]")
	fd, err := t.proc.files.alloc(d, 0, true)
	return uint64(fd), err
}

// pidfdProcess returns the process behind descriptor fd.
func (t *Task) pidfdProcess(fd uint64) (*pidFile, error) {
	_, f, err := fileOf[*pidFile](t, fd, abi.EBADF)
	return f, err
}

func sysPidfdSendSignal(t *Task, a args) (uint64, error) {
	f, err := t.pidfdProcess(a[0])
	if err != nil {
		return 0, err
	}
	sig := a[1]
	switch {
	case a[3] != 0 || a[2] != 0:
		return 0, abi.EINVAL
	case sig != 0 && !validSignal(sig):
		return 0, abi.EINVAL
	case f.exited():
		return 0, abi.ESRCH
	case !t.proc.cred.maySignal(t.proc, f.p, int(sig)):
		return 0, abi.EPERM
	}
	if sig != 0 {
		t.k.sendSignal(f.p, int(sig), sigInfo{code: abi.SI_USER, pid: int32(t.proc.pid), uid: t.proc.cred.ruid})
	}
	return 0, nil
}
