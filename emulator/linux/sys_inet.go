package linux

import (
	"bytes"
	"runtime"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// AF_INET and AF_INET6 sockets: endpoints of the machine's network stack
// (package inet: gVisor's netstack with a loopback interface), made on the
// first such socket. Reads and writes go through the vfs.File methods, so
// read, write, readv, writev, send, recv, poll, select and epoll treat them
// as any file; bind, connect, accept and the rest are the handlers of
// sys_socket.go, which pass inet sockets here.

// inetSocket is an AF_INET or AF_INET6 socket.
type inetSocket struct {
	k      *Kernel
	family int
	typ    int
	ep     tcpip.Endpoint
	wq     *waiter.Queue
	// unwatch stops the endpoint's changes from waking the kernel.
	unwatch func()
	// opts holds what the endpoint does not: the timeouts.
	opts sockOptions
	// peeking is set during a recv with MSG_PEEK; sendTo during a send to
	// an address; from is the sender of what the last read returned (a
	// datagram's source), and truncated whether it did not fit.
	peeking   bool
	sendTo    *tcpip.FullAddress
	from      []byte
	truncated bool
	// bound is the address bind gave, kept for a new endpoint (renew).
	bound *tcpip.FullAddress
	// exposed is the TCP port this listening socket told the host side
	// of (inet.Stack.Expose), 0 if none.
	exposed uint16
}

// inetStack returns the machine's network stack, made on first use.
func (k *Kernel) inetStack() (*inet.Stack, error) {
	if k.net == nil {
		s, err := inet.New()
		if err != nil {
			return nil, err
		}
		k.net = s
	}
	return k.net, nil
}

// newInetSocket makes a socket of family and kind (SOCK_STREAM,
// SOCK_DGRAM) with its endpoint.
func (k *Kernel) newInetSocket(family, kind int) (*inetSocket, error) {
	st, err := k.inetStack()
	if err != nil {
		return nil, err
	}
	ep, wq, err := st.NewEndpoint(family, kind)
	if err != nil {
		return nil, err
	}
	return k.adoptEndpoint(family, kind, ep, wq), nil
}

// adoptEndpoint wraps an endpoint (a new one, or one accept returned).
func (k *Kernel) adoptEndpoint(family, kind int, ep tcpip.Endpoint, wq *waiter.Queue) *inetSocket {
	return &inetSocket{k: k, family: family, typ: kind, ep: ep, wq: wq, unwatch: k.net.Watch(wq), opts: defaultSockOptions()}
}

// inetProtocol checks socket(2)'s protocol for an inet socket of kind.
func inetProtocol(kind int, protocol uint64) error {
	const ipprotoTCP, ipprotoUDP = 6, 17
	switch {
	case kind == sockStream && (protocol == 0 || protocol == ipprotoTCP),
		kind == sockDgram && (protocol == 0 || protocol == ipprotoUDP):
		return nil
	case kind != sockStream && kind != sockDgram:
		// SOCK_RAW needs what a sandbox does not give; SOCK_SEQPACKET
		// (SCTP) netstack does not have.
		return abi.ESOCKTNOSUPPORT
	}
	return abi.EPROTONOSUPPORT
}

func (s *inetSocket) Read(p []byte, _ int64) (int, error) {
	if len(p) == 0 && s.typ == sockStream {
		return 0, nil
	}
	w := tcpip.SliceWriter(p)
	res, err := s.ep.Read(&w, tcpip.ReadOptions{Peek: s.peeking, NeedRemoteAddr: s.typ == sockDgram})
	switch err.(type) {
	case nil:
	case *tcpip.ErrClosedForReceive:
		return 0, nil
	case *tcpip.ErrWouldBlock:
		return 0, vfs.ErrWouldBlock
	default:
		return 0, inet.Errno(err)
	}
	s.from, s.truncated = nil, res.Count < res.Total
	if s.typ == sockDgram {
		s.from = inet.Sockaddr(s.family, res.RemoteAddr)
	}
	return res.Count, nil
}

func (s *inetSocket) Write(p []byte, _ int64) (int, error) {
	n, err := s.ep.Write(bytes.NewReader(p), tcpip.WriteOptions{To: s.sendTo})
	switch err.(type) {
	case nil:
		return int(n), nil
	case *tcpip.ErrWouldBlock:
		return 0, vfs.ErrWouldBlock
	case *tcpip.ErrClosedForSend:
		return 0, abi.EPIPE
	}
	return 0, inet.Errno(err)
}

func (s *inetSocket) Seekable() bool { return false }

func (s *inetSocket) Stat() abi.Stat {
	return abi.Stat{Dev: 0x8, Mode: abi.S_IFSOCK | 0o777, Nlink: 1, Blksize: 4096}
}

// Poll is the endpoint's readiness: netstack's event bits are poll(2)'s.
func (s *inetSocket) Poll() uint32 {
	return uint32(s.ep.Readiness(waiter.EventIn | waiter.EventOut | waiter.EventErr | waiter.EventHUp | waiter.EventRdHUp | waiter.EventPri))
}

// Buffered is FIONREAD: the bytes a read could return now (the next
// datagram's size for UDP).
func (s *inetSocket) Buffered() int {
	n, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	if err != nil {
		return 0
	}
	return n
}

func (s *inetSocket) Release() {
	if s.exposed != 0 {
		s.k.net.Unexpose(s.exposed)
	}
	s.unwatch()
	s.ep.Close()
}

// expose tells the host side of the network that this socket, which
// just started listening, serves its port at an address connections
// from outside reach: the wildcard or the guest's own, not loopback.
func (s *inetSocket) expose() {
	if s.typ != sockStream || s.exposed != 0 {
		return
	}
	a, err := s.ep.GetLocalAddress()
	if err != nil || a.Port == 0 || (a.Addr.Len() != 0 && a.Addr != inet.GuestAddr && !a.Addr.Unspecified()) {
		return
	}
	s.exposed = a.Port
	s.k.net.Expose(a.Port)
}

func (s *inetSocket) Inode() *vfs.Inode { return nil }

// bind gives the socket the address sa.
func (s *inetSocket) bind(sa []byte) error {
	addr, family, err := inet.ParseSockaddr(s.family, sa)
	if err != nil {
		return err
	}
	if family != s.family {
		return abi.EAFNOSUPPORT
	}
	switch terr := s.ep.Bind(addr); terr.(type) {
	case nil:
		s.bound = &addr
		return nil
	case *tcpip.ErrNoPortAvailable:
		return abi.EADDRINUSE
	default:
		return inet.Errno(terr)
	}
}

// inetConnect connects s to sa, waiting for a stream connection to be made
// unless d is non-blocking (EINPROGRESS, then SO_ERROR tells).
func (t *Task) inetConnect(d *vfs.Description, s *inetSocket, sa []byte) error {
	addr, family, err := inet.ParseSockaddr(s.family, sa)
	if err != nil {
		return err
	}
	if family == inet.AFUnspec {
		if terr := s.ep.Disconnect(); terr != nil {
			if _, ok := terr.(*tcpip.ErrNotSupported); ok {
				return abi.EAFNOSUPPORT
			}
			return inet.Errno(terr)
		}
		return nil
	}
	addr = inet.Destination(addr, family)
	terr := s.ep.Connect(addr)
	if _, ok := terr.(*tcpip.ErrConnectionAborted); ok && s.typ == sockStream && t.resume == nil {
		// A TCP socket whose connection attempt failed may try again
		// on Linux; netstack's endpoint stays failed: start over with
		// a new one.
		if err := s.renew(); err != nil {
			return err
		}
		terr = s.ep.Connect(addr)
	}
	switch terr.(type) {
	case nil:
		return nil
	case *tcpip.ErrConnectStarted, *tcpip.ErrAlreadyConnecting:
		if d.Flags&abi.O_NONBLOCK != 0 && t.resume == nil {
			return inet.Errno(terr)
		}
		// Wait until the connection is made or fails, then ask again
		// (the call is made again from the start).
		return t.block(&waitState{ready: func() bool {
			return s.Poll()&(abi.POLLOUT|abi.POLLERR|abi.POLLHUP) != 0
		}})
	case *tcpip.ErrNoPortAvailable:
		if s.typ == sockStream {
			return abi.EADDRNOTAVAIL
		}
	}
	return inet.Errno(terr)
}

// renew replaces a failed stream endpoint with a new one with the same
// options and bound address.
func (s *inetSocket) renew() error {
	ep, wq, err := s.k.net.NewEndpoint(s.family, s.typ)
	if err != nil {
		return err
	}
	old, n := s.ep.SocketOptions(), ep.SocketOptions()
	n.SetReuseAddress(old.GetReuseAddress())
	n.SetReusePort(old.GetReusePort())
	n.SetKeepAlive(old.GetKeepAlive())
	n.SetDelayOption(old.GetDelayOption())
	n.SetCorkOption(old.GetCorkOption())
	n.SetV6Only(old.GetV6Only())
	n.SetLinger(old.GetLinger())
	n.SetSendBufferSize(old.GetSendBufferSize(), true)
	n.SetReceiveBufferSize(old.GetReceiveBufferSize(), true)
	if s.bound != nil {
		if terr := ep.Bind(*s.bound); terr != nil {
			ep.Close()
			return inet.Errno(terr)
		}
	}
	s.unwatch()
	s.ep.Close()
	s.ep, s.wq, s.unwatch = ep, wq, s.k.net.Watch(wq)
	return nil
}

// inetAccept takes a connection off a listening socket: the new socket
// and the peer's address.
func (t *Task) inetAccept(d *vfs.Description, s *inetSocket) (*inetSocket, []byte, error) {
	var peer tcpip.FullAddress
	ep, wq, terr := s.ep.Accept(&peer)
	if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
		if d.Flags&abi.O_NONBLOCK != 0 {
			return nil, nil, abi.EAGAIN
		}
		return nil, nil, t.ioWait(d, abi.POLLIN)
	}
	if terr != nil {
		return nil, nil, inet.Errno(terr)
	}
	c := t.k.adoptEndpoint(s.family, s.typ, ep, wq)
	return c, inet.Sockaddr(s.family, peer), nil
}

// sockname is getsockname's address.
func (s *inetSocket) sockname() []byte {
	a, err := s.ep.GetLocalAddress()
	if err != nil {
		a = tcpip.FullAddress{}
	}
	return inet.Sockaddr(s.family, a)
}

// peername is getpeername's address.
func (s *inetSocket) peername() ([]byte, error) {
	a, err := s.ep.GetRemoteAddress()
	if err != nil {
		return nil, abi.ENOTCONN
	}
	return inet.Sockaddr(s.family, a), nil
}

func (s *inetSocket) shutdown(how uint64) error {
	var f tcpip.ShutdownFlags
	switch how {
	case shutRd:
		f = tcpip.ShutdownRead
	case shutWr:
		f = tcpip.ShutdownWrite
	case shutRdwr:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return abi.EINVAL
	}
	return inet.Errno(s.ep.Shutdown(f))
}

// inetSendTo sends buf to the address sa (sendto, sendmsg with a name).
func (t *Task) inetSendTo(d *vfs.Description, s *inetSocket, sa, buf []byte) (uint64, error) {
	addr, family, err := inet.ParseSockaddr(s.family, sa)
	if err != nil {
		return 0, err
	}
	if s.typ == sockStream {
		// TCP ignores the address of a connected socket (Linux).
		if _, err := s.ep.GetRemoteAddress(); err == nil {
			return t.writeBuf(d, buf)
		}
		return 0, abi.EPIPE
	}
	if family == inet.AFUnspec {
		return t.writeBuf(d, buf)
	}
	addr = inet.Destination(addr, family)
	s.sendTo = &addr
	defer func() { s.sendTo = nil }()
	return t.writeBuf(d, buf)
}

// writeBuf writes buf to d as write(2) does, blocking while it cannot.
func (t *Task) writeBuf(d *vfs.Description, buf []byte) (uint64, error) {
	k, err := t.write(d, buf, 0, false)
	return uint64(k), err
}

// closeNetwork ends the network stack's connections and workers when the
// machine stops, once what the guest sent on published ports has gone out
// (for at most drainLimit: a host peer that stopped reading must not keep
// the machine).
func (k *Kernel) closeNetwork() {
	if k.net == nil {
		return
	}
	if k.hostSockets() {
		k.net.Drain(drainLimit)
	}
	if k.cfg.Network != nil {
		k.cfg.Network.Close()
	}
	k.net.S.Close()
}

// drainLimit bounds how long a stopping machine waits for published
// connections to deliver what the guest sent.
const drainLimit = 10 * time.Second

// yieldToNetwork lets the network stack's goroutines run: under wasip1
// they run only when the machine's goroutine yields. Goroutines waiting on
// host connections (Config.Publish, Config.Network) run only once the
// runtime polls the host, which it does when no goroutine can run: the
// machine sleeps a moment every millisecond for them. The sleep must
// outlast the scheduler's way to its poll: a timer that expired before
// is run at once and the poll skipped, which left a guest that computes
// deaf to the host for as long as it computed.
func (k *Kernel) yieldToNetwork() {
	if k.net == nil {
		return
	}
	runtime.Gosched()
	if k.hostSockets() {
		if now := k.cfg.Clock(); now.Sub(k.lastHostPoll) >= time.Millisecond {
			time.Sleep(hostPollSleep)
			k.lastHostPoll = now
		}
	}
}

// hostSockets reports whether the stack talks to the host through its
// sockets: published ports, the link of Config.Network.
func (k *Kernel) hostSockets() bool {
	return len(k.cfg.Publish) > 0 || k.cfg.Network != nil
}

// hostPollSleep is the machine's sleep for the runtime's poll of host
// sockets.
const hostPollSleep = 20 * time.Microsecond

// Option levels and names of inet sockets beyond SOL_SOCKET's.
const (
	solIP          = 0
	solTCP         = 6
	solIPv6        = 41
	ipTOS          = 1
	ipTTL          = 2
	ipRecverr      = 11
	ipv6Recverr    = 25
	tcpNodelay     = 1
	tcpMaxseg      = 2
	tcpCork        = 3
	tcpKeepidle    = 4
	tcpKeepintvl   = 5
	tcpKeepcnt     = 6
	tcpQuickack    = 12
	tcpUserTimeout = 18
	ipv6V6only     = 26
	ipv6Tclass     = 67
	soReuseport    = 15
	defaultTTL     = 64
)

// getsockopt returns the value of an option of an inet socket.
func (s *inetSocket) getsockopt(level, name uint64) ([]byte, error) {
	so := s.ep.SocketOptions()
	stream := s.typ == sockStream
	switch {
	case level == solSocket:
		switch name {
		case soType:
			return intBytes(s.typ), nil
		case soDomain:
			return intBytes(s.family), nil
		case soProtocol:
			if stream {
				return intBytes(solTCP), nil
			}
			return intBytes(17), nil
		case soError:
			// Reading the error clears it. Netstack may hold it twice
			// (the connection's hard error and the last one): take both.
			err := so.GetLastError()
			if err != nil {
				so.GetLastError()
			}
			return intBytes(errnoValue(inet.Errno(err))), nil
		case soReuseaddr:
			return boolBytes(so.GetReuseAddress()), nil
		case soReuseport:
			return boolBytes(so.GetReusePort()), nil
		case soKeepalive:
			return boolBytes(so.GetKeepAlive()), nil
		case soBroadcast:
			return boolBytes(so.GetBroadcast()), nil
		case soPasscred:
			return boolBytes(so.GetPassCred()), nil
		case soAcceptconn:
			return boolBytes(so.GetAcceptConn()), nil
		case soSndbuf:
			return intBytes(int(min(so.GetSendBufferSize(), 1<<31-1))), nil
		case soRcvbuf:
			return intBytes(int(min(so.GetReceiveBufferSize(), 1<<31-1))), nil
		case soRcvlowat:
			return intBytes(int(so.GetRcvlowat())), nil
		case soSndlowat:
			return intBytes(1), nil
		case soLinger:
			l := so.GetLinger()
			b := boolBytes(l.Enabled)
			return append(b, intBytes(int(l.Timeout/time.Second))...), nil
		case soRcvtimeoOld, soRcvtimeoNew:
			return timevalBytes(s.opts.rcvTimeo), nil
		case soSndtimeoOld, soSndtimeoNew:
			return timevalBytes(s.opts.sndTimeo), nil
		case soPeercred:
			return ucred{uid: noChange, gid: noChange}.bytes(), nil
		}
	case level == solTCP && stream:
		switch name {
		case tcpNodelay:
			return boolBytes(!so.GetDelayOption()), nil
		case tcpCork:
			return boolBytes(so.GetCorkOption()), nil
		case tcpQuickack:
			return boolBytes(so.GetQuickAck()), nil
		case tcpMaxseg:
			return s.intOpt(tcpip.MaxSegOption)
		case tcpKeepcnt:
			return s.intOpt(tcpip.KeepaliveCountOption)
		case tcpKeepidle:
			var v tcpip.KeepaliveIdleOption
			return durationOpt(s.ep.GetSockOpt(&v), time.Duration(v), time.Second)
		case tcpKeepintvl:
			var v tcpip.KeepaliveIntervalOption
			return durationOpt(s.ep.GetSockOpt(&v), time.Duration(v), time.Second)
		case tcpUserTimeout:
			var v tcpip.TCPUserTimeoutOption
			return durationOpt(s.ep.GetSockOpt(&v), time.Duration(v), time.Millisecond)
		}
	case level == solIP:
		switch name {
		case ipTOS:
			return s.intOpt(tcpip.IPv4TOSOption)
		case ipTTL:
			v, err := s.ep.GetSockOptInt(tcpip.IPv4TTLOption)
			if err == nil && v == tcpip.UseDefaultIPv4TTL {
				v = defaultTTL
			}
			return intBytes(v), inet.Errno(err)
		case ipRecverr:
			return boolBytes(so.GetIPv4RecvError()), nil
		}
	case level == solIPv6 && s.family != inet.AFInet6:
		return nil, abi.EOPNOTSUPP
	case level == solIPv6:
		switch name {
		case ipv6V6only:
			return boolBytes(so.GetV6Only()), nil
		case ipv6Recverr:
			return boolBytes(so.GetIPv6RecvError()), nil
		case ipv6Tclass:
			return s.intOpt(tcpip.IPv6TrafficClassOption)
		}
	}
	return nil, abi.ENOPROTOOPT
}

func (s *inetSocket) intOpt(o tcpip.SockOptInt) ([]byte, error) {
	v, err := s.ep.GetSockOptInt(o)
	if err != nil {
		return nil, inet.Errno(err)
	}
	return intBytes(v), nil
}

func durationOpt(err tcpip.Error, d, unit time.Duration) ([]byte, error) {
	if err != nil {
		return nil, inet.Errno(err)
	}
	return intBytes(int(d / unit)), nil
}

// errnoValue is the number of an errno error (0 for nil).
func errnoValue(err error) int {
	if e, ok := err.(abi.Errno); ok {
		return int(e)
	}
	return 0
}

// setsockopt sets an option of an inet socket to val.
func (s *inetSocket) setsockopt(t *Task, level, name uint64, val []byte) error {
	so := s.ep.SocketOptions()
	if level == solSocket {
		switch name {
		case soRcvtimeoOld, soRcvtimeoNew, soSndtimeoOld, soSndtimeoNew:
			return setTimeoutOpt(&s.opts, name, val)
		case soLinger:
			if len(val) < 8 {
				return abi.EINVAL
			}
			so.SetLinger(tcpip.LingerOption{Enabled: le.Uint32(val) != 0, Timeout: time.Duration(int32(le.Uint32(val[4:]))) * time.Second})
			return nil
		}
	}
	if len(val) < 4 {
		return abi.EINVAL
	}
	v := int(int32(le.Uint32(val)))
	on := v != 0
	stream := s.typ == sockStream
	switch {
	case level == solSocket:
		switch name {
		case soReuseaddr:
			so.SetReuseAddress(on)
		case soReuseport:
			so.SetReusePort(on)
		case soKeepalive:
			so.SetKeepAlive(on)
		case soBroadcast:
			so.SetBroadcast(on)
		case soPasscred:
			so.SetPassCred(on)
		case soSndbuf, soSndbufForce:
			size, err := bufferSize(t, name, int32(v))
			if err != nil {
				return err
			}
			so.SetSendBufferSize(int64(size), true)
		case soRcvbuf, soRcvbufForce:
			size, err := bufferSize(t, name, int32(v))
			if err != nil {
				return err
			}
			so.SetReceiveBufferSize(int64(size), true)
		case soRcvlowat:
			return inet.Errno(so.SetRcvlowat(int32(max(v, 1))))
		default:
			return abi.ENOPROTOOPT
		}
		return nil
	case level == solTCP && stream:
		switch name {
		case tcpNodelay:
			so.SetDelayOption(!on)
		case tcpCork:
			so.SetCorkOption(on)
		case tcpQuickack:
			so.SetQuickAck(on)
		case tcpMaxseg:
			return inet.Errno(s.ep.SetSockOptInt(tcpip.MaxSegOption, v))
		case tcpKeepcnt:
			if v < 1 || v > 127 {
				return abi.EINVAL
			}
			return inet.Errno(s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, v))
		case tcpKeepidle, tcpKeepintvl:
			if v < 1 || v > 32767 {
				return abi.EINVAL
			}
			if name == tcpKeepidle {
				o := tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)
				return inet.Errno(s.ep.SetSockOpt(&o))
			}
			o := tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)
			return inet.Errno(s.ep.SetSockOpt(&o))
		case tcpUserTimeout:
			if v < 0 {
				return abi.EINVAL
			}
			o := tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)
			return inet.Errno(s.ep.SetSockOpt(&o))
		default:
			return abi.ENOPROTOOPT
		}
		return nil
	case level == solIP:
		switch name {
		case ipTOS:
			return inet.Errno(s.ep.SetSockOptInt(tcpip.IPv4TOSOption, v&0xff))
		case ipTTL:
			if v == -1 {
				v = tcpip.UseDefaultIPv4TTL
			} else if v < 1 || v > 255 {
				return abi.EINVAL
			}
			return inet.Errno(s.ep.SetSockOptInt(tcpip.IPv4TTLOption, v))
		case ipRecverr:
			// glibc's resolver asks for it on its UDP sockets and gives
			// up when it is refused.
			so.SetIPv4RecvError(on)
			return nil
		}
	case level == solIPv6 && s.family != inet.AFInet6:
		return abi.EOPNOTSUPP
	case level == solIPv6:
		switch name {
		case ipv6V6only:
			if _, err := s.ep.GetLocalAddress(); err == nil && s.boundPort() != 0 {
				return abi.EINVAL
			}
			so.SetV6Only(on)
			return nil
		case ipv6Recverr:
			so.SetIPv6RecvError(on)
			return nil
		case ipv6Tclass:
			return inet.Errno(s.ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, v))
		}
	}
	return abi.ENOPROTOOPT
}

// boundPort is the socket's local port, 0 while unbound.
func (s *inetSocket) boundPort() uint16 {
	a, err := s.ep.GetLocalAddress()
	if err != nil {
		return 0
	}
	return a.Port
}
