package linux

import (
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// timerfd(2): timers that count their expirations in a descriptor, read
// (or polled, or waited for with epoll) by the guest. The kernel keeps the
// armed ones so that the scheduler, when every task waits, sleeps until
// the next expiry.

// timerFile is a timerfd. Expirations are counted lazily from the clock.
type timerFile struct {
	anonFile
	k        *Kernel
	clock    int32
	next     time.Time     // the next expiry on the kernel clock; zero: disarmed
	interval time.Duration // zero: one shot
	count    uint64        // expirations not read yet, up to next
}

// catchUp counts the expirations due by now.
func (f *timerFile) catchUp() {
	if f.next.IsZero() {
		return
	}
	now := f.k.cfg.Clock()
	if now.Before(f.next) {
		return
	}
	if f.interval == 0 {
		f.count++
		f.disarm()
		return
	}
	n := uint64(now.Sub(f.next)/f.interval) + 1
	f.count += n
	f.next = f.next.Add(time.Duration(n) * f.interval)
}

func (f *timerFile) disarm() {
	f.next = time.Time{}
	delete(f.k.timerfds, f)
}

func (f *timerFile) Read(p []byte, _ int64) (int, error) {
	if len(p) < 8 {
		return 0, abi.EINVAL
	}
	f.catchUp()
	if f.count == 0 {
		return 0, vfs.ErrWouldBlock
	}
	le.PutUint64(p, f.count)
	f.count = 0
	return 8, nil
}

func (f *timerFile) Release() { f.disarm() }
func (f *timerFile) Poll() uint32 {
	f.catchUp()
	if f.count > 0 {
		return abi.POLLIN
	}
	return 0
}

// nextTimerfd is the earliest expiry of an armed timerfd, or zero.
func (k *Kernel) nextTimerfd() time.Time {
	var next time.Time
	for f := range k.timerfds {
		if next.IsZero() || f.next.Before(next) {
			next = f.next
		}
	}
	return next
}

const (
	tfdTimerAbstime     = 1
	tfdTimerCancelOnSet = 2
	clockRealtimeAlarm  = 8
	clockBoottimeAlarm  = 9
	itimerspecSize      = 32
)

func sysTimerfdCreate(t *Task, a args) (uint64, error) {
	clock, flags := int32(a[0]), uint32(a[1])
	switch clock {
	case abi.CLOCK_REALTIME, abi.CLOCK_MONOTONIC, abi.CLOCK_BOOTTIME:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		return 0, abi.EPERM // needs CAP_WAKE_ALARM
	default:
		return 0, abi.EINVAL
	}
	if flags&^(abi.O_CLOEXEC|abi.O_NONBLOCK) != 0 {
		return 0, abi.EINVAL
	}
	d := vfs.NewDescription(&timerFile{k: t.k, clock: clock}, abi.O_RDWR|flags&abi.O_NONBLOCK, "anon_inode:[timerfd]")
	fd, err := t.proc.files.alloc(d, 0, flags&abi.O_CLOEXEC != 0)
	return uint64(fd), err
}

// timerfdOf returns the timer behind descriptor fd.
func (t *Task) timerfdOf(fd uint64) (*timerFile, error) {
	_, f, err := fileOf[*timerFile](t, fd, abi.EINVAL)
	return f, err
}

// setting encodes the timer's current setting as an itimerspec: the
// interval and the time left to the next expiry.
func (f *timerFile) setting() []byte {
	f.catchUp()
	var left time.Duration
	if !f.next.IsZero() {
		left = max(f.next.Sub(f.k.cfg.Clock()), 1)
	}
	b := make([]byte, 0, itimerspecSize)
	b = append(b, putTimespec(int64(f.interval/time.Second), int64(f.interval%time.Second))...)
	return append(b, putTimespec(int64(left/time.Second), int64(left%time.Second))...)
}

func sysTimerfdSettime(t *Task, a args) (uint64, error) {
	f, err := t.timerfdOf(a[0])
	if err != nil {
		return 0, err
	}
	flags := a[1]
	if flags&^(tfdTimerAbstime|tfdTimerCancelOnSet) != 0 {
		return 0, abi.EINVAL
	}
	interval, err := t.readTimespec(a[2])
	if err != nil {
		return 0, err
	}
	value, err := t.readTimespec(a[2] + 16)
	if err != nil {
		return 0, err
	}
	if a[3] != 0 {
		if err := t.copyOut(a[3], f.setting()); err != nil {
			return 0, err
		}
	}
	f.count = 0
	f.disarm()
	if value == 0 {
		return 0, nil
	}
	f.interval = interval
	switch {
	case flags&tfdTimerAbstime == 0:
		f.next = f.k.cfg.Clock().Add(value)
	case f.clock == abi.CLOCK_REALTIME:
		f.next = time.Unix(0, 0).Add(value)
	default:
		f.next = t.k.monotonicBase().Add(value)
	}
	t.k.timerfds[f] = struct{}{}
	return 0, nil
}

func sysTimerfdGettime(t *Task, a args) (uint64, error) {
	f, err := t.timerfdOf(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.copyOut(a[1], f.setting())
}
