package linux

import (
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// Socket options at SOL_SOCKET (socket(7)); the numbers are the generic
// ones riscv64 and x86-64 share.
const (
	soReuseaddr   = 2
	soBroadcast   = 6
	soKeepalive   = 9
	soLinger      = 13
	soPasscred    = 16
	soPeercred    = 17
	soRcvlowat    = 18
	soSndlowat    = 19
	soRcvtimeoOld = 20
	soSndtimeoOld = 21
	soAcceptconn  = 30
	soSndbufForce = 32
	soRcvbufForce = 33
	soProtocol    = 38
	soDomain      = 39
	soRcvtimeoNew = 66
	soSndtimeoNew = 67

	// Buffer sizes as Linux bounds them: a request is doubled (for the
	// kernel's bookkeeping), capped by net.core.[rw]mem_max unless
	// forced, and raised to the minimum a socket needs.
	sockMemMax    = 212992
	sockMinSndbuf = 4608
	sockMinRcvbuf = 2304
	// A socket timeout is kept in scheduler ticks (HZ=250, Debian's).
	sockTimeoutTick = 4 * time.Millisecond
)

// sockOptions are a socket's SOL_SOCKET settings. Those without an effect
// on AF_UNIX (SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST, SO_LINGER) are
// kept and reported, as Linux does.
type sockOptions struct {
	passCred                        bool
	reuseAddr, keepAlive, broadcast bool
	linger                          [8]byte
	sndbuf, rcvbuf                  int
	rcvTimeo, sndTimeo              time.Duration
}

func defaultSockOptions() sockOptions {
	return sockOptions{sndbuf: sockMemMax, rcvbuf: sockMemMax}
}

func sysGetsockopt(t *Task, a args) (uint64, error) {
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if a[1] != solSocket {
		return 0, abi.EOPNOTSUPP
	}
	room, err := t.readU32(a[4])
	if err != nil {
		return 0, err
	}
	if int32(room) < 0 {
		return 0, abi.EINVAL
	}
	o := &s.opts
	var v []byte
	flag := func(b bool) []byte {
		if b {
			return le.AppendUint32(nil, 1)
		}
		return le.AppendUint32(nil, 0)
	}
	switch a[2] {
	case soType:
		v = le.AppendUint32(nil, uint32(s.typ))
	case soError:
		v = le.AppendUint32(nil, 0)
	case soSndbuf:
		v = le.AppendUint32(nil, uint32(o.sndbuf))
	case soRcvbuf:
		v = le.AppendUint32(nil, uint32(o.rcvbuf))
	case soPasscred:
		v = flag(o.passCred)
	case soReuseaddr:
		v = flag(o.reuseAddr)
	case soKeepalive:
		v = flag(o.keepAlive)
	case soBroadcast:
		v = flag(o.broadcast)
	case soLinger:
		v = o.linger[:]
	case soAcceptconn:
		v = flag(s.listening)
	case soProtocol:
		v = le.AppendUint32(nil, 0)
	case soDomain:
		v = le.AppendUint32(nil, afUnix)
	case soRcvlowat, soSndlowat:
		v = le.AppendUint32(nil, 1)
	case soPeercred:
		c := ucred{uid: noChange, gid: noChange}
		if s.peerCred != nil {
			c = *s.peerCred
		}
		v = c.bytes()
	case soRcvtimeoOld, soRcvtimeoNew:
		v = timevalBytes(o.rcvTimeo)
	case soSndtimeoOld, soSndtimeoNew:
		v = timevalBytes(o.sndTimeo)
	default:
		return 0, abi.ENOPROTOOPT
	}
	v = v[:min(len(v), int(room))]
	if err := t.copyOut(a[3], v); err != nil {
		return 0, err
	}
	return 0, t.writeU32(a[4], uint32(len(v)))
}

func sysSetsockopt(t *Task, a args) (uint64, error) {
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if a[1] != solSocket {
		return 0, abi.EOPNOTSUPP
	}
	optlen := a[4]
	if int32(optlen) < 0 {
		return 0, abi.EINVAL
	}
	o := &s.opts
	switch a[2] {
	case soLinger:
		if optlen < 8 {
			return 0, abi.EINVAL
		}
		return 0, t.copyIn(a[3], o.linger[:])
	case soRcvtimeoOld, soRcvtimeoNew, soSndtimeoOld, soSndtimeoNew:
		d, err := t.sockTimeout(a[3], optlen)
		if err != nil {
			return 0, err
		}
		if a[2] == soRcvtimeoOld || a[2] == soRcvtimeoNew {
			o.rcvTimeo = d
		} else {
			o.sndTimeo = d
		}
		return 0, nil
	}
	if optlen < 4 {
		return 0, abi.EINVAL
	}
	n, err := t.readU32(a[3])
	if err != nil {
		return 0, err
	}
	v, on := int32(n), n != 0
	switch a[2] {
	case soPasscred:
		o.passCred = on
	case soReuseaddr:
		o.reuseAddr = on
	case soKeepalive:
		o.keepAlive = on
	case soBroadcast:
		o.broadcast = on
	case soSndbuf, soSndbufForce:
		size, err := bufferSize(t, v, a[2] == soSndbufForce, sockMinSndbuf)
		if err != nil {
			return 0, err
		}
		o.sndbuf = size
	case soRcvbuf, soRcvbufForce:
		size, err := bufferSize(t, v, a[2] == soRcvbufForce, sockMinRcvbuf)
		if err != nil {
			return 0, err
		}
		o.rcvbuf = size
	case soRcvlowat:
		// AF_UNIX reads ignore the low-water mark; Linux accepts it.
	default:
		return 0, abi.ENOPROTOOPT
	}
	return 0, nil
}

// bufferSize is the buffer a SO_SNDBUF/SO_RCVBUF request gets; the
// FORCE variants skip the cap and need CAP_NET_ADMIN.
func bufferSize(t *Task, v int32, force bool, least int) (int, error) {
	if force && !t.proc.cred.privileged() {
		return 0, abi.EPERM
	}
	n := int64(v)
	if !force {
		n = min(n, sockMemMax)
	}
	return int(max(2*n, int64(least))), nil
}

// sockTimeout reads a struct timeval for SO_RCVTIMEO/SO_SNDTIMEO: zero is
// no timeout, a negative one is none either (Linux warns and takes 0),
// microseconds outside [0, 1e6) are EDOM; the value is kept in whole ticks,
// rounded up.
func (t *Task) sockTimeout(addr, optlen uint64) (time.Duration, error) {
	if optlen < 16 {
		return 0, abi.EINVAL
	}
	var b [16]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec, usec := int64(le.Uint64(b[:])), int64(le.Uint64(b[8:]))
	if usec < 0 || usec >= 1e6 {
		return 0, abi.EDOM
	}
	if sec < 0 {
		// Linux warns and keeps a timeout of nothing: calls on the
		// socket fail at once instead of waiting.
		return -1, nil
	}
	if sec > 1<<31 {
		// Beyond what the kernel counts: no limit.
		return 0, nil
	}
	ticks := (time.Duration(usec)*time.Microsecond + sockTimeoutTick - 1) / sockTimeoutTick
	return time.Duration(sec)*time.Second + ticks*sockTimeoutTick, nil
}

func timevalBytes(d time.Duration) []byte {
	d = max(d, 0)
	b := le.AppendUint64(nil, uint64(d/time.Second))
	return le.AppendUint64(b, uint64(d%time.Second/time.Microsecond))
}

// socketTimeout is how long a blocking call on the socket behind d may
// wait for events (SO_RCVTIMEO for input, SO_SNDTIMEO for output); zero
// is no limit, negative no wait at all.
func socketTimeout(d *vfs.Description, events uint32) time.Duration {
	s, ok := d.File.(*unixSocket)
	if !ok {
		return 0
	}
	if events&abi.POLLOUT != 0 {
		return s.opts.sndTimeo
	}
	return s.opts.rcvTimeo
}
