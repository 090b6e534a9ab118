package linux

import (
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// cpuTime is the CPU time a thread, process or set of reaped children
// used: user time is host time spent executing guest instructions, system
// time host time spent in its system calls (what runSlice measures).
type cpuTime struct{ user, sys time.Duration }

func (c *cpuTime) add(o cpuTime) { c.user += o.user; c.sys += o.sys }

func (c cpuTime) total() time.Duration { return c.user + c.sys }

// cpu returns what p's threads used, the exited ones included.
func (p *Process) cpu() cpuTime {
	c := p.cpuGone
	for _, t := range p.threads {
		c.add(t.cpu)
	}
	return c
}

// cpuClock resolves a CPU-time clock id: CLOCK_PROCESS_CPUTIME_ID,
// CLOCK_THREAD_CPUTIME_ID or the ids clock_getcpuclockid and
// pthread_getcpuclockid make ((~pid << 3) | per-thread bit | which, where
// which is 0 for user+system, 1 for user, 2 for scheduler time).
func (t *Task) cpuClock(id int32) (time.Duration, error) {
	switch id {
	case abi.CLOCK_PROCESS_CPUTIME_ID:
		return t.proc.cpu().total(), nil
	case abi.CLOCK_THREAD_CPUTIME_ID:
		return t.cpu.total(), nil
	}
	which, perThread, pid := id&3, id&4 != 0, int(^(id >> 3))
	if which == 3 {
		return 0, abi.EINVAL
	}
	var c cpuTime
	switch {
	case perThread && pid == 0:
		c = t.cpu
	case perThread:
		o := t.k.taskByTID(pid)
		if o == nil || o.proc != t.proc {
			return 0, abi.EINVAL
		}
		c = o.cpu
	case pid == 0:
		c = t.proc.cpu()
	default:
		p := t.k.procs[pid]
		if p == nil {
			return 0, abi.EINVAL
		}
		c = p.cpu()
	}
	if which == 1 {
		return c.user, nil
	}
	return c.total(), nil
}

const (
	rusageSelf     = 0
	rusageChildren = -1
	rusageThread   = 1
)

func sysGetrusage(t *Task, a args) (uint64, error) {
	var c cpuTime
	switch int32(a[0]) {
	case rusageSelf:
		c = t.proc.cpu()
	case rusageChildren:
		c = t.proc.cpuChildren
	case rusageThread:
		c = t.cpu
	default:
		return 0, abi.EINVAL
	}
	// struct rusage: ru_utime and ru_stime (struct timeval), then 14
	// longs this layer does not count.
	b := make([]byte, 144)
	putTimeval(b[0:], c.user)
	putTimeval(b[16:], c.sys)
	return 0, t.copyOut(a[1], b)
}

func putTimeval(b []byte, d time.Duration) {
	le.PutUint64(b, uint64(d/time.Second))
	le.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

// clockTicks converts to the clock_t of times(2): USER_HZ, 100 per second.
func clockTicks(d time.Duration) uint64 { return uint64(d / (10 * time.Millisecond)) }

func sysTimes(t *Task, a args) (uint64, error) {
	if a[0] != 0 {
		self, children := t.proc.cpu(), t.proc.cpuChildren
		b := make([]byte, 32)
		le.PutUint64(b[0:], clockTicks(self.user))
		le.PutUint64(b[8:], clockTicks(self.sys))
		le.PutUint64(b[16:], clockTicks(children.user))
		le.PutUint64(b[24:], clockTicks(children.sys))
		if err := t.copyOut(a[0], b); err != nil {
			return 0, err
		}
	}
	return clockTicks(t.k.cfg.Clock().Sub(t.k.monotonicBase())), nil
}

// sysClockSettime refuses to set the clock, as Linux does for a process
// without CAP_SYS_TIME (which container engines drop): the guest's clock is
// the host's.
func sysClockSettime(t *Task, a args) (uint64, error) {
	switch int32(a[0]) {
	case abi.CLOCK_REALTIME:
		if _, err := t.readTimespec(a[1]); err != nil {
			return 0, err
		}
		return 0, abi.EPERM
	}
	return 0, abi.EINVAL
}

func sysSettimeofday(t *Task, a args) (uint64, error) { return 0, abi.EPERM }
