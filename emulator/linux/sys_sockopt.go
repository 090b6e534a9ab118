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
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	room, err := t.readU32(a[4])
	if err != nil {
		return 0, err
	}
	if int32(room) < 0 {
		return 0, abi.EINVAL
	}
	var v []byte
	switch s := d.File.(type) {
	case *unixSocket:
		v, err = s.getsockopt(a[1], a[2])
	case *inetSocket:
		v, err = s.getsockopt(a[1], a[2])
	default:
		return 0, abi.ENOTSOCK
	}
	if err != nil {
		return 0, err
	}
	v = v[:min(len(v), int(room))]
	if err := t.copyOut(a[3], v); err != nil {
		return 0, err
	}
	return 0, t.writeU32(a[4], uint32(len(v)))
}

// getsockopt returns the value of an option of an AF_UNIX socket.
func (s *unixSocket) getsockopt(level, name uint64) ([]byte, error) {
	if level != solSocket {
		return nil, abi.EOPNOTSUPP
	}
	o := &s.opts
	switch name {
	case soType:
		return intBytes(s.typ), nil
	case soError:
		return intBytes(0), nil
	case soSndbuf:
		return intBytes(o.sndbuf), nil
	case soRcvbuf:
		return intBytes(o.rcvbuf), nil
	case soPasscred:
		return boolBytes(o.passCred), nil
	case soReuseaddr:
		return boolBytes(o.reuseAddr), nil
	case soKeepalive:
		return boolBytes(o.keepAlive), nil
	case soBroadcast:
		return boolBytes(o.broadcast), nil
	case soLinger:
		return o.linger[:], nil
	case soAcceptconn:
		return boolBytes(s.listening), nil
	case soProtocol:
		return intBytes(0), nil
	case soDomain:
		return intBytes(afUnix), nil
	case soRcvlowat, soSndlowat:
		return intBytes(1), nil
	case soPeercred:
		c := ucred{uid: noChange, gid: noChange}
		if s.peerCred != nil {
			c = *s.peerCred
		}
		return c.bytes(), nil
	case soRcvtimeoOld, soRcvtimeoNew:
		return timevalBytes(o.rcvTimeo), nil
	case soSndtimeoOld, soSndtimeoNew:
		return timevalBytes(o.sndTimeo), nil
	}
	return nil, abi.ENOPROTOOPT
}

func sysSetsockopt(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	optlen := a[4]
	if int32(optlen) < 0 {
		return 0, abi.EINVAL
	}
	val := make([]byte, min(optlen, 256))
	if err := t.copyIn(a[3], val); err != nil {
		return 0, err
	}
	switch s := d.File.(type) {
	case *unixSocket:
		return 0, s.setsockopt(t, a[1], a[2], val)
	case *inetSocket:
		return 0, s.setsockopt(t, a[1], a[2], val)
	}
	return 0, abi.ENOTSOCK
}

// setsockopt sets an option of an AF_UNIX socket to val.
func (s *unixSocket) setsockopt(t *Task, level, name uint64, val []byte) error {
	if level != solSocket {
		return abi.EOPNOTSUPP
	}
	o := &s.opts
	switch name {
	case soLinger:
		if len(val) < 8 {
			return abi.EINVAL
		}
		copy(o.linger[:], val)
		return nil
	case soRcvtimeoOld, soRcvtimeoNew, soSndtimeoOld, soSndtimeoNew:
		return setTimeoutOpt(o, name, val)
	}
	if len(val) < 4 {
		return abi.EINVAL
	}
	v := int32(le.Uint32(val))
	on := v != 0
	switch name {
	case soPasscred:
		o.passCred = on
	case soReuseaddr:
		o.reuseAddr = on
	case soKeepalive:
		o.keepAlive = on
	case soBroadcast:
		o.broadcast = on
	case soSndbuf, soSndbufForce:
		size, err := bufferSize(t, name, v)
		if err != nil {
			return err
		}
		o.sndbuf = size
	case soRcvbuf, soRcvbufForce:
		size, err := bufferSize(t, name, v)
		if err != nil {
			return err
		}
		o.rcvbuf = size
	case soRcvlowat:
		// Accepted and reported as 1: reads here return what is queued
		// without waiting for the mark, which Linux stream sockets do.
	default:
		return abi.ENOPROTOOPT
	}
	return nil
}

// setTimeoutOpt sets SO_RCVTIMEO or SO_SNDTIMEO (name) from a struct
// timeval.
func setTimeoutOpt(o *sockOptions, name uint64, val []byte) error {
	d, err := sockTimeout(val)
	if err != nil {
		return err
	}
	if name == soRcvtimeoOld || name == soRcvtimeoNew {
		o.rcvTimeo = d
	} else {
		o.sndTimeo = d
	}
	return nil
}

// bufferSize is the buffer a SO_SNDBUF/SO_RCVBUF request (name) of v
// gets; the FORCE variants skip the cap and need CAP_NET_ADMIN.
func bufferSize(t *Task, name uint64, v int32) (int, error) {
	force := name == soSndbufForce || name == soRcvbufForce
	if force && !t.proc.cred.privileged() {
		return 0, abi.EPERM
	}
	least := sockMinRcvbuf
	if name == soSndbuf || name == soSndbufForce {
		least = sockMinSndbuf
	}
	n := int64(v)
	if !force {
		n = min(n, sockMemMax)
	}
	return int(max(2*n, int64(least))), nil
}

// sockTimeout reads a struct timeval for SO_RCVTIMEO/SO_SNDTIMEO: zero is
// no timeout; microseconds outside [0, 1e6) are EDOM; the value is kept
// in whole ticks, rounded up.
func sockTimeout(b []byte) (time.Duration, error) {
	if len(b) < 16 {
		return 0, abi.EINVAL
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

// boolBytes and intBytes encode an int option's value.
func boolBytes(b bool) []byte {
	if b {
		return le.AppendUint32(nil, 1)
	}
	return le.AppendUint32(nil, 0)
}

func intBytes(v int) []byte { return le.AppendUint32(nil, uint32(int32(v))) }

func timevalBytes(d time.Duration) []byte {
	d = max(d, 0)
	b := le.AppendUint64(nil, uint64(d/time.Second))
	return le.AppendUint64(b, uint64(d%time.Second/time.Microsecond))
}

// socketTimeout is how long a blocking call on the socket behind d may
// wait for events (SO_RCVTIMEO for input, SO_SNDTIMEO for output); zero
// is no limit, negative no wait at all.
func socketTimeout(d *vfs.Description, events uint32) time.Duration {
	var o *sockOptions
	switch s := d.File.(type) {
	case *unixSocket:
		o = &s.opts
	case *inetSocket:
		o = &s.opts
	default:
		return 0
	}
	if events&abi.POLLOUT != 0 {
		return o.sndTimeo
	}
	return o.rcvTimeo
}
