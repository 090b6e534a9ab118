package linux

import (
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/arch"
)

// The system calls x86-64 kept from before the *at family and the other
// generic replacements (riscv64 never had them). Each one is its modern
// counterpart with the arguments it implies.

const atFDCWD = abi.AT_FDCWD & 0xffffffff

func sysOpen(t *Task, a args) (uint64, error) {
	return sysOpenat(t, args{atFDCWD, a[0], a[1], a[2]})
}

func sysCreat(t *Task, a args) (uint64, error) {
	return sysOpenat(t, args{atFDCWD, a[0], abi.O_CREAT | abi.O_WRONLY | abi.O_TRUNC, a[1]})
}

func sysStat(t *Task, a args) (uint64, error) {
	return sysNewfstatat(t, args{atFDCWD, a[0], a[1], 0})
}

func sysLstat(t *Task, a args) (uint64, error) {
	return sysNewfstatat(t, args{atFDCWD, a[0], a[1], abi.AT_SYMLINK_NOFOLLOW})
}

func sysAccess(t *Task, a args) (uint64, error) {
	return sysFaccessat(t, args{atFDCWD, a[0], a[1]})
}

func sysPipe(t *Task, a args) (uint64, error) {
	return sysPipe2(t, args{a[0], 0})
}

func sysDup2(t *Task, a args) (uint64, error) {
	if a[0] == a[1] {
		// dup3 refuses equal descriptors; dup2 checks oldfd and returns it.
		if _, err := t.fd(a[0]); err != nil {
			return 0, err
		}
		return a[1], nil
	}
	return sysDup3(t, args{a[0], a[1], 0})
}

func sysFork(t *Task, a args) (uint64, error) {
	return sysClone(t, args{abi.SIGCHLD})
}

func sysVfork(t *Task, a args) (uint64, error) {
	return sysClone(t, args{abi.CLONE_VM | abi.CLONE_VFORK | abi.SIGCHLD})
}

func sysRename(t *Task, a args) (uint64, error) {
	return sysRenameat2(t, args{atFDCWD, a[0], atFDCWD, a[1], 0})
}

func sysRenameat(t *Task, a args) (uint64, error) {
	return sysRenameat2(t, args{a[0], a[1], a[2], a[3], 0})
}

func sysMkdir(t *Task, a args) (uint64, error) {
	return sysMkdirat(t, args{atFDCWD, a[0], a[1]})
}

func sysRmdir(t *Task, a args) (uint64, error) {
	return sysUnlinkat(t, args{atFDCWD, a[0], abi.AT_REMOVEDIR})
}

func sysUnlink(t *Task, a args) (uint64, error) {
	return sysUnlinkat(t, args{atFDCWD, a[0], 0})
}

func sysLink(t *Task, a args) (uint64, error) {
	return sysLinkat(t, args{atFDCWD, a[0], atFDCWD, a[1], 0})
}

func sysSymlink(t *Task, a args) (uint64, error) {
	return sysSymlinkat(t, args{a[0], atFDCWD, a[1]})
}

func sysReadlink(t *Task, a args) (uint64, error) {
	return sysReadlinkat(t, args{atFDCWD, a[0], a[1], a[2]})
}

func sysChmod(t *Task, a args) (uint64, error) {
	return sysFchmodat(t, args{atFDCWD, a[0], a[1], 0})
}

func sysChown(t *Task, a args) (uint64, error) {
	return sysFchownat(t, args{atFDCWD, a[0], a[1], a[2], 0})
}

func sysLchown(t *Task, a args) (uint64, error) {
	return sysFchownat(t, args{atFDCWD, a[0], a[1], a[2], abi.AT_SYMLINK_NOFOLLOW})
}

func sysMknod(t *Task, a args) (uint64, error) {
	return sysMknodat(t, args{atFDCWD, a[0], a[1], a[2]})
}

func sysGetpgrp(t *Task, a args) (uint64, error) {
	return sysGetpgid(t, args{0})
}

func sysEpollCreate(t *Task, a args) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, abi.EINVAL
	}
	return sysEpollCreate1(t, args{0})
}

func sysEpollWait(t *Task, a args) (uint64, error) {
	return sysEpollPwait(t, args{a[0], a[1], a[2], a[3], 0, 0})
}

func sysInotifyInit(t *Task, a args) (uint64, error) {
	return sysInotifyInit1(t, args{0})
}

func sysSignalfd(t *Task, a args) (uint64, error) {
	return sysSignalfd4(t, args{a[0], a[1], a[2], 0})
}

func sysEventfd(t *Task, a args) (uint64, error) {
	return sysEventfd2(t, args{a[0], 0})
}

func sysPoll(t *Task, a args) (uint64, error) {
	var timeout *time.Duration
	if ms := int64(int32(a[2])); ms >= 0 {
		d := millis(ms)
		timeout = &d
	}
	return t.poll(a[0], a[1], timeout)
}

func sysSelect(t *Task, a args) (uint64, error) {
	var timeout *time.Duration
	if a[4] != 0 && t.resume == nil {
		var b [16]byte
		if err := t.copyIn(a[4], b[:]); err != nil {
			return 0, err
		}
		sec, usec := int64(le.Uint64(b[:])), int64(le.Uint64(b[8:]))
		if sec < 0 || usec < 0 || usec >= 1e6 {
			return 0, abi.EINVAL
		}
		d := time.Duration(min(sec, 1<<32))*time.Second + time.Duration(usec)*time.Microsecond
		timeout = &d
	}
	return t.pselect(a, timeout)
}

func sysPause(t *Task, a args) (uint64, error) {
	// Only a signal ends the wait, with EINTR.
	return 0, t.block(&waitState{noRestart: true})
}

func sysAlarm(t *Task, a args) (uint64, error) {
	p := t.proc
	now := t.k.cfg.Clock()
	var left uint64
	if !p.alarm.IsZero() {
		// Linux rounds the seconds left to the nearest, and never to 0.
		d := max(p.alarm.Sub(now), time.Microsecond)
		left = max(uint64((d+time.Second/2)/time.Second), 1)
	}
	if secs := uint32(a[0]); secs == 0 {
		p.alarm = time.Time{}
	} else {
		p.alarm = now.Add(time.Duration(secs) * time.Second)
	}
	return left, nil
}

func sysTime(t *Task, a args) (uint64, error) {
	now := uint64(t.k.cfg.Clock().Unix())
	if a[0] != 0 {
		var b [8]byte
		le.PutUint64(b[:], now)
		if err := t.copyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	return now, nil
}

// timevalsToTimespecs reads two struct timevals at addr as the two
// struct timespecs utimens takes; addr 0 means now.
func (t *Task) timevalsToTimespecs(addr uint64) (*[32]byte, error) {
	if addr == 0 {
		return nil, nil
	}
	var tv, ts [32]byte
	if err := t.copyIn(addr, tv[:]); err != nil {
		return nil, err
	}
	for i := 0; i < 2; i++ {
		usec := le.Uint64(tv[16*i+8:])
		if usec >= 1e6 {
			return nil, abi.EINVAL
		}
		le.PutUint64(ts[16*i:], le.Uint64(tv[16*i:]))
		le.PutUint64(ts[16*i+8:], usec*1000)
	}
	return &ts, nil
}

func sysUtimes(t *Task, a args) (uint64, error) {
	times, err := t.timevalsToTimespecs(a[1])
	if err != nil {
		return 0, err
	}
	return t.utimens(atFDCWD, a[0], times, 0)
}

func sysFutimesat(t *Task, a args) (uint64, error) {
	times, err := t.timevalsToTimespecs(a[2])
	if err != nil {
		return 0, err
	}
	return t.utimens(a[0], a[1], times, 0)
}

func sysUtime(t *Task, a args) (uint64, error) {
	var times *[32]byte
	if a[1] != 0 {
		// struct utimbuf: actime, modtime in seconds.
		var b [16]byte
		if err := t.copyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		var ts [32]byte
		le.PutUint64(ts[0:], le.Uint64(b[0:]))
		le.PutUint64(ts[16:], le.Uint64(b[8:]))
		times = &ts
	}
	return t.utimens(atFDCWD, a[0], times, 0)
}

// sysGetdents returns struct linux_dirent records: getdents64's with the
// type moved from before the name to the record's last byte (both
// records have the same size).
func sysGetdents(t *Task, a args) (uint64, error) {
	out, err := t.dirents(a[0], a[2])
	if err != nil {
		return 0, err
	}
	for off := 0; off < len(out); {
		reclen := int(le.Uint16(out[off+16:]))
		rec := out[off : off+reclen]
		typ := rec[18]
		copy(rec[18:], rec[19:])
		rec[reclen-1] = typ
		off += reclen
	}
	return uint64(len(out)), t.copyOut(a[1], out)
}

// arch_prctl codes.
const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

func sysArchPrctl(t *Task, a args) (uint64, error) {
	sb, ok := t.ctx.(arch.SegmentBases)
	if !ok {
		return 0, abi.EINVAL
	}
	fs, gs := sb.Bases()
	switch a[0] {
	case archSetFS, archSetGS:
		if a[1] >= 1<<47 {
			return 0, abi.EPERM
		}
		if a[0] == archSetFS {
			fs = a[1]
		} else {
			gs = a[1]
		}
		sb.SetBases(fs, gs)
		return 0, nil
	case archGetFS, archGetGS:
		v := fs
		if a[0] == archGetGS {
			v = gs
		}
		var b [8]byte
		le.PutUint64(b[:], v)
		return 0, t.copyOut(a[1], b[:])
	}
	return 0, abi.EINVAL
}
