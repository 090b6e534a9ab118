package linux

import (
	"crypto/rand"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// KernelRelease is the uname release the guest sees: new enough for
// glibc's and Go's feature checks.
const KernelRelease = "6.12.0-wasmrt"

func sysUname(t *Task, a args) (uint64, error) {
	var b [65 * 6]byte
	for i, s := range []string{"Linux", t.k.cfg.Hostname, KernelRelease, "#1 SMP PREEMPT_DYNAMIC", t.k.abi.Name, "(none)"} {
		copy(b[i*65:i*65+64], s)
	}
	return 0, t.copyOut(a[0], b[:])
}

// monotonicBase is the instant CLOCK_MONOTONIC counts from.
func (k *Kernel) monotonicBase() time.Time { return k.boot.Add(-time.Hour) }

func (t *Task) clockNow(id uint64) (time.Time, time.Duration, error) {
	k := t.k
	now := k.cfg.Clock()
	switch int32(id) {
	case abi.CLOCK_REALTIME, abi.CLOCK_REALTIME_COARSE:
		return now, 0, nil
	case abi.CLOCK_MONOTONIC, abi.CLOCK_MONOTONIC_RAW, abi.CLOCK_MONOTONIC_COARSE, abi.CLOCK_BOOTTIME:
		return time.Time{}, now.Sub(k.monotonicBase()), nil
	}
	if int32(id) < 0 || id == abi.CLOCK_PROCESS_CPUTIME_ID || id == abi.CLOCK_THREAD_CPUTIME_ID {
		d, err := t.cpuClock(int32(id))
		return time.Time{}, d, err
	}
	return time.Time{}, 0, abi.EINVAL
}

func putTimespec(sec, nsec int64) []byte {
	b := make([]byte, 16)
	le.PutUint64(b, uint64(sec))
	le.PutUint64(b[8:], uint64(nsec))
	return b
}

func sysClockGettime(t *Task, a args) (uint64, error) {
	wall, mono, err := t.clockNow(a[0])
	if err != nil {
		return 0, err
	}
	if !wall.IsZero() {
		return 0, t.copyOut(a[1], putTimespec(wall.Unix(), int64(wall.Nanosecond())))
	}
	return 0, t.copyOut(a[1], putTimespec(int64(mono/time.Second), int64(mono%time.Second)))
}

func sysClockGetres(t *Task, a args) (uint64, error) {
	if _, _, err := t.clockNow(a[0]); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	return 0, t.copyOut(a[1], putTimespec(0, 1))
}

func sysGettimeofday(t *Task, a args) (uint64, error) {
	if a[0] != 0 {
		now := t.k.cfg.Clock()
		if err := t.copyOut(a[0], putTimespec(now.Unix(), int64(now.Nanosecond()/1000))); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		return 0, t.copyOut(a[1], make([]byte, 8))
	}
	return 0, nil
}

// sleep blocks for d; the retry after the deadline returns 0. An
// interrupted sleep fails with EINTR (the remaining time is not reported).
func (t *Task) sleep(d time.Duration) (uint64, error) {
	if d <= 0 {
		return 0, nil
	}
	return 0, t.block(&waitState{deadline: t.k.cfg.Clock().Add(d), noRestart: true})
}

func sysNanosleep(t *Task, a args) (uint64, error) {
	if t.resume != nil {
		return 0, nil
	}
	d, err := t.readTimespec(a[0])
	if err != nil {
		return 0, err
	}
	return t.sleep(d)
}

func sysClockNanosleep(t *Task, a args) (uint64, error) {
	if t.resume != nil {
		return 0, nil
	}
	d, err := t.readTimespec(a[2])
	if err != nil {
		return 0, err
	}
	if a[1]&abi.TIMER_ABSTIME != 0 {
		wall, mono, err := t.clockNow(a[0])
		if err != nil {
			return 0, err
		}
		if !wall.IsZero() {
			d -= time.Duration(wall.UnixNano())
		} else {
			d -= mono
		}
	}
	return t.sleep(d)
}

func sysGetrandom(t *Task, a args) (uint64, error) {
	if a[2]&^7 != 0 {
		return 0, abi.EINVAL
	}
	buf := make([]byte, min(a[1], maxIO))
	rand.Read(buf)
	return uint64(len(buf)), t.copyOut(a[0], buf)
}

func sysPrlimit64(t *Task, a args) (uint64, error) {
	pid, res, newAddr, oldAddr := int(int32(a[0])), a[1], a[2], a[3]
	p := t.proc
	if pid != 0 && pid != p.pid {
		if p = t.k.process(pid); p == nil {
			return 0, abi.ESRCH
		}
	}
	if res >= abi.RLIM_NLIMITS {
		return 0, abi.EINVAL
	}
	if oldAddr != 0 {
		var b [16]byte
		le.PutUint64(b[:], p.rlimits[res][0])
		le.PutUint64(b[8:], p.rlimits[res][1])
		if err := t.copyOut(oldAddr, b[:]); err != nil {
			return 0, err
		}
	}
	if newAddr != 0 {
		var b [16]byte
		if err := t.copyIn(newAddr, b[:]); err != nil {
			return 0, err
		}
		cur, lim := le.Uint64(b[:]), le.Uint64(b[8:])
		if cur > lim {
			return 0, abi.EINVAL
		}
		if res == abi.RLIMIT_NOFILE && lim > maxFDs {
			return 0, abi.EPERM
		}
		p.rlimits[res] = [2]uint64{cur, lim}
	}
	return 0, nil
}

func sysGetrlimit(t *Task, a args) (uint64, error) {
	return sysPrlimit64(t, args{0, a[0], 0, a[1]})
}

func sysSetrlimit(t *Task, a args) (uint64, error) {
	return sysPrlimit64(t, args{0, a[0], a[1], 0})
}

func sysSchedGetaffinity(t *Task, a args) (uint64, error) {
	if a[1] < 8 || a[1]%8 != 0 {
		return 0, abi.EINVAL
	}
	b := make([]byte, 8)
	b[0] = 1 // one CPU: every task runs on the machine's single goroutine
	return 8, t.copyOut(a[2], b)
}

func sysSchedYield(t *Task, a args) (uint64, error) { return 0, nil }

func sysGetcpu(t *Task, a args) (uint64, error) {
	for _, p := range []uint64{a[0], a[1]} {
		if p != 0 {
			if err := t.writeU32(p, 0); err != nil {
				return 0, err
			}
		}
	}
	return 0, nil
}

func sysSysinfo(t *Task, a args) (uint64, error) {
	var b [112]byte
	k := t.k
	le.PutUint64(b[0:], uint64(k.cfg.Clock().Sub(k.monotonicBase())/time.Second))
	le.PutUint64(b[32:], k.limit*pageSize)
	le.PutUint64(b[40:], (k.limit-min(k.resident, k.limit))*pageSize)
	le.PutUint16(b[80:], uint16(len(k.procs)))
	le.PutUint32(b[104:], 1)
	return 0, t.copyOut(a[0], b[:])
}

func sysSetitimer(t *Task, a args) (uint64, error) {
	const itimerReal = 0
	if a[0] != itimerReal {
		return 0, abi.EINVAL
	}
	p := t.proc
	if a[2] != 0 {
		var b [32]byte
		if !p.alarm.IsZero() {
			left := max(p.alarm.Sub(t.k.cfg.Clock()), time.Microsecond)
			le.PutUint64(b[16:], uint64(left/time.Second))
			le.PutUint64(b[24:], uint64(left%time.Second/time.Microsecond))
		}
		if err := t.copyOut(a[2], b[:]); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		var b [32]byte
		if err := t.copyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		d := time.Duration(le.Uint64(b[16:]))*time.Second + time.Duration(le.Uint64(b[24:]))*time.Microsecond
		if d == 0 {
			p.alarm = time.Time{}
		} else {
			p.alarm = t.k.cfg.Clock().Add(d)
		}
	}
	return 0, nil
}

// riscv_hwprobe keys the guest may ask about.
const (
	hwprobeMvendorid   = 0
	hwprobeBaseBehav   = 3
	hwprobeIMAExt0     = 4
	hwprobeCPUPerf0    = 5
	hwprobeBaseIMA     = 1
	hwprobeExtFD       = 1
	hwprobeExtC        = 2
	hwprobeMisalignedE = 1 // emulated
)

func sysRiscvHwprobe(t *Task, a args) (uint64, error) {
	pairs, count := a[0], a[1]
	if count > 64 {
		return 0, abi.EINVAL
	}
	b := make([]byte, 16*count)
	if err := t.copyIn(pairs, b); err != nil {
		return 0, err
	}
	for i := uint64(0); i < count; i++ {
		key := int64(le.Uint64(b[16*i:]))
		var v uint64
		switch key {
		case hwprobeBaseBehav:
			v = hwprobeBaseIMA
		case hwprobeIMAExt0:
			v = hwprobeExtFD | hwprobeExtC
		case hwprobeCPUPerf0:
			v = hwprobeMisalignedE
		case 0, 1, 2:
		default:
			key = -1
		}
		le.PutUint64(b[16*i:], uint64(key))
		le.PutUint64(b[16*i+8:], v)
	}
	return 0, t.copyOut(pairs, b)
}

func sysRiscvFlushIcache(t *Task, a args) (uint64, error) {
	t.mm().mem.FlushCode()
	return 0, nil
}

func sysNoop(t *Task, a args) (uint64, error) { return 0, nil }

func sysGetpriority(t *Task, a args) (uint64, error) { return 20, nil }

func millis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

func sysPersonality(t *Task, a args) (uint64, error) { return 0, nil }

func sysGetitimer(t *Task, a args) (uint64, error) {
	if a[0] != 0 {
		return 0, abi.EINVAL
	}
	return sysSetitimer(t, args{0, 0, a[1]})
}

func sysSchedGetscheduler(t *Task, a args) (uint64, error) { return 0, nil }

func sysSchedGetparam(t *Task, a args) (uint64, error) { return 0, t.writeU32(a[1], 0) }

func sysSchedPriority(t *Task, a args) (uint64, error) { return 0, nil }
