package linux

import (
	"bytes"
	"fmt"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// Socket constants (identical on riscv64 and x86-64).
const (
	afUnix        = 1
	sockStream    = 1
	sockDgram     = 2
	sockSeqpacket = 5
	sockTypeMask  = 0xf
	sockNonblock  = abi.O_NONBLOCK
	sockCloexec   = abi.O_CLOEXEC
	solSocket     = 1
	soType        = 3
	soError       = 4
	soSndbuf      = 7
	soRcvbuf      = 8
	shutRd        = 0
	shutWr        = 1
	shutRdwr      = 2
	msgDontwait   = 0x40
	msgPeek       = 0x2
	msgTrunc      = 0x20
	msgNosignal   = 0x4000
	afInet        = 2
	afInet6       = 10
)

// unixSocket is an AF_UNIX socket: unconnected, listening, or one end of
// a connection. Stream sockets queue bytes; datagram and seqpacket
// sockets queue messages and keep their boundaries.
type unixSocket struct {
	k    *Kernel
	typ  int
	peer *unixSocket
	// in holds what the peer sent to this end.
	in        []byte
	msgs      []datagram
	queued    int
	closed    bool
	shutRead  bool
	shutWrite bool
	// A bound socket has an address: its key in Kernel.unixNames (an
	// inode, or a NUL and the name for the abstract namespace) and its
	// name as getsockname reports it (sun_path's bytes: a path with its
	// terminating NUL, or the abstract name with its leading NUL). A
	// socket that accept returned, or a client's view of its server,
	// carries the listener's name. A listening socket queues
	// connections for accept.
	addr string
	name []byte
	// What each send queued with its bytes (sys_scm.go): for a stream,
	// sends covers in (inOff is the stream offset of in[0]); datagrams
	// carry theirs. pickup is what the last read received, for the
	// recvmsg that made it; sending what the sendmsg being served gives.
	sends   []streamSend
	inOff   int64
	pickup  ancillary
	sending *ancillary
	// peeking is set during a recv with MSG_PEEK: reads leave the data
	// (and any descriptors) queued.
	peeking bool
	// Options (socket(7), sys_sockopt.go).
	opts sockOptions
	// peerCred is SO_PEERCRED: the creator of a socket pair, the
	// listener of a connected client, the client of an accepted socket,
	// and for a listener, itself when it listened.
	peerCred *ucred
	// unaccepted is a connection's server end until accept returns it.
	// Until then what arrives carries credentials, whoever reads it.
	unaccepted bool
	listening  bool
	backlog    []*unixSocket
}

func newUnixSocket(k *Kernel, typ int) *unixSocket {
	return &unixSocket{k: k, typ: typ, opts: defaultSockOptions()}
}

// newSocketPair returns two connected sockets whose peer credentials are
// their creator's.
func newSocketPair(k *Kernel, typ int, creator *ucred) (*unixSocket, *unixSocket) {
	a, b := newUnixSocket(k, typ), newUnixSocket(k, typ)
	a.peer, b.peer = b, a
	a.peerCred, b.peerCred = creator, creator
	return a, b
}

func (s *unixSocket) stream() bool { return s.typ == sockStream }

// peerGone reports that nothing more will arrive.
func (s *unixSocket) peerGone() bool {
	return s.shutRead || (s.peer != nil && (s.peer.closed || s.peer.shutWrite))
}

func (s *unixSocket) Read(p []byte, _ int64) (int, error) {
	if s.peer == nil && len(s.msgs) == 0 {
		if s.typ == sockDgram && s.addr != "" {
			return 0, vfs.ErrWouldBlock
		}
		return 0, abi.ENOTCONN
	}
	// Descriptors taken by a read that was not a recvmsg are closed, as
	// Linux does.
	releaseDescs(s.pickup.descs)
	s.pickup = ancillary{}
	// A recv with MSG_PEEK reads the same bytes and leaves them queued
	// (with any descriptors sent with them).
	consume := !s.peeking
	if s.stream() {
		if len(s.in) == 0 {
			if s.peerGone() || len(p) == 0 {
				return 0, nil
			}
			return 0, vfs.ErrWouldBlock
		}
		n := s.streamLimit(len(p), consume)
		k := copy(p[:n], s.in)
		if consume {
			s.consumeStream(k)
		}
		return k, nil
	}
	if len(s.msgs) == 0 {
		if s.peerGone() {
			return 0, nil
		}
		return 0, vfs.ErrWouldBlock
	}
	m := s.msgs[0]
	s.pickup = ancillary{cred: m.cred, from: m.from}
	if consume {
		s.msgs = s.msgs[1:]
		s.pickup.descs = m.descs
		s.queued -= len(m.data)
	}
	return copy(p, m.data), nil
}

func (s *unixSocket) Write(p []byte, _ int64) (int, error) {
	if s.peer == nil {
		if s.typ == sockDgram {
			return 0, abi.EDESTADDRREQ
		}
		return 0, abi.ENOTCONN
	}
	return s.deliver(s.peer, p)
}

// deliver queues p, and what comes with it, at the receiving socket to.
func (s *unixSocket) deliver(to *unixSocket, p []byte) (int, error) {
	if s.shutWrite || to.closed || to.shutRead {
		if s.typ == sockDgram && to.closed {
			return 0, abi.ECONNREFUSED
		}
		return 0, abi.EPIPE
	}
	// What may be queued is the sender's buffer (SO_SNDBUF).
	limit := s.opts.sndbuf
	room := limit - to.queued
	if s.stream() {
		if room <= 0 {
			return 0, vfs.ErrWouldBlock
		}
		k := min(room, len(p))
		at := to.streamEnd()
		to.in = append(to.in, p[:k]...)
		to.queued += k
		to.sends = append(to.sends, streamSend{at: at, end: at + int64(k), ancillary: s.outgoing(to)})
		return k, nil
	}
	if len(p) > limit {
		return 0, abi.EMSGSIZE
	}
	if len(p) > room {
		return 0, vfs.ErrWouldBlock
	}
	if s.typ == sockDgram && s.opts.passCred && s.addr == "" {
		// A sender asking for credentials is given a name first, so
		// that replies can reach it (unix(7): autobind).
		s.autobind()
	}
	to.msgs = append(to.msgs, datagram{data: append([]byte(nil), p...), ancillary: s.outgoing(to)})
	to.queued += len(p)
	return len(p), nil
}

// Buffered is what FIONREAD reports: the bytes queued for a stream or a
// seqpacket socket, the next datagram's size for a datagram socket.
func (s *unixSocket) Buffered() int {
	if s.typ == sockDgram {
		if len(s.msgs) == 0 {
			return 0
		}
		return len(s.msgs[0].data)
	}
	return s.queued
}

func (s *unixSocket) Seekable() bool { return false }

func (s *unixSocket) Stat() abi.Stat {
	return abi.Stat{Dev: 0x8, Mode: abi.S_IFSOCK | 0o777, Nlink: 1, Blksize: 4096}
}

func (s *unixSocket) Poll() uint32 {
	if s.listening {
		if len(s.backlog) > 0 {
			return abi.POLLIN
		}
		return 0
	}
	var ev uint32
	if len(s.in) > 0 || len(s.msgs) > 0 || s.peerGone() {
		ev |= abi.POLLIN
	}
	if s.peer == nil {
		if s.typ == sockDgram {
			ev |= abi.POLLOUT
		}
		return ev
	}
	if s.peer.closed {
		ev |= abi.POLLHUP
	}
	if s.peer.queued < s.opts.sndbuf && !s.peer.closed {
		ev |= abi.POLLOUT
	}
	return ev
}

func (s *unixSocket) Release() {
	s.closed = true
	for _, r := range s.sends {
		releaseDescs(r.descs)
	}
	for _, m := range s.msgs {
		releaseDescs(m.descs)
	}
	releaseDescs(s.pickup.descs)
	s.sends, s.msgs, s.pickup = nil, nil, ancillary{}
	if s.addr != "" && s.k.unixNames[s.addr] == s {
		delete(s.k.unixNames, s.addr)
	}
	for _, c := range s.backlog {
		c.closed = true
	}
	s.backlog = nil
}

// autobind gives s a name of its own in the abstract namespace: a NUL
// and five hex digits, as Linux picks for a socket that needs an address
// and has none.
func (s *unixSocket) autobind() error {
	for range 1 << 20 {
		s.k.unixAutobind = (s.k.unixAutobind + 1) & 0xfffff
		name := []byte(fmt.Sprintf("\x00%05x", s.k.unixAutobind))
		if _, taken := s.k.unixNames[string(name)]; !taken {
			s.addr, s.name = string(name), name
			s.k.unixNames[s.addr] = s
			return nil
		}
	}
	return abi.ENOSPC
}

func (s *unixSocket) Inode() *vfs.Inode { return nil }

// socketKind checks socket(2)/socketpair(2)'s domain, type and protocol and
// returns the socket kind (type without its flags). Only AF_UNIX exists:
// networking is not part of the machine yet.
func socketKind(domain uint64, typ int, protocol uint64) (int, error) {
	if domain != afUnix {
		return 0, abi.EAFNOSUPPORT
	}
	kind := typ & sockTypeMask
	if kind != sockStream && kind != sockDgram && kind != sockSeqpacket {
		return 0, abi.EPROTONOSUPPORT
	}
	if typ&^(sockTypeMask|sockNonblock|sockCloexec) != 0 || (protocol != 0 && protocol != afUnix) {
		return 0, abi.EINVAL
	}
	return kind, nil
}

func sysSocketpair(t *Task, a args) (uint64, error) {
	if a[0] == afInet || a[0] == afInet6 {
		// Linux has socket pairs of AF_UNIX only.
		return 0, abi.EOPNOTSUPP
	}
	typ := int(a[1])
	kind, err := socketKind(a[0], typ, a[2])
	if err != nil {
		return 0, err
	}
	x, y := newSocketPair(t.k, kind, t.peerCred())
	flags := uint32(abi.O_RDWR | typ&sockNonblock)
	cloexec := typ&sockCloexec != 0
	dx := vfs.NewDescription(x, flags, "socket:")
	dy := vfs.NewDescription(y, flags, "socket:")
	fx, err := t.proc.files.alloc(dx, 0, cloexec)
	if err != nil {
		dy.DecRef()
		return 0, err
	}
	fy, err := t.proc.files.alloc(dy, 0, cloexec)
	if err != nil {
		t.proc.files.close(fx)
		return 0, err
	}
	var b [8]byte
	le.PutUint32(b[:], uint32(fx))
	le.PutUint32(b[4:], uint32(fy))
	if err := t.copyOut(a[3], b[:]); err != nil {
		t.proc.files.close(fx)
		t.proc.files.close(fy)
		return 0, err
	}
	return 0, nil
}

// socketOf returns the socket behind a descriptor.
func (t *Task) socketOf(fd uint64) (*vfs.Description, *unixSocket, error) {
	return fileOf[*unixSocket](t, fd, abi.ENOTSOCK)
}

// inetSocketOf returns the inet socket behind descriptor fd, or nil when
// fd is not one (socketOf then says why).
func (t *Task) inetSocketOf(fd uint64) (*vfs.Description, *inetSocket) {
	d, err := t.fd(fd)
	if err != nil {
		return nil, nil
	}
	if s, ok := d.File.(*inetSocket); ok {
		return d, s
	}
	return nil, nil
}

// withFlags applies MSG_DONTWAIT, MSG_PEEK and MSG_NOSIGNAL for one call.
func (t *Task) withFlags(d *vfs.Description, msgFlags uint64, fn func() (uint64, error)) (uint64, error) {
	if msgFlags&msgDontwait != 0 && d.Flags&abi.O_NONBLOCK == 0 {
		d.Flags |= abi.O_NONBLOCK
		defer func() { d.Flags &^= abi.O_NONBLOCK }()
	}
	if msgFlags&msgPeek != 0 {
		switch s := d.File.(type) {
		case *unixSocket:
			s.peeking = true
			defer func() { s.peeking = false }()
		case *inetSocket:
			s.peeking = true
			defer func() { s.peeking = false }()
		}
	}
	if msgFlags&msgNosignal != 0 {
		t.noSigpipe = true
		defer func() { t.noSigpipe = false }()
	}
	return fn()
}

func sysSendto(t *Task, a args) (uint64, error) {
	if d, is := t.inetSocketOf(a[0]); is != nil {
		return t.withFlags(d, a[3], func() (uint64, error) {
			if a[4] == 0 || a[5] == 0 {
				return t.writeCall(a[0], a[1], a[2], 0, false)
			}
			sa, err := t.sockaddrBytes(a[4], a[5])
			if err != nil {
				return 0, err
			}
			buf := make([]byte, min(a[2], maxIO))
			if err := t.copyIn(a[1], buf); err != nil {
				return 0, err
			}
			return t.inetSendTo(d, is, sa, buf)
		})
	}
	d, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	return t.withFlags(d, a[3], func() (uint64, error) {
		if a[4] == 0 || a[5] == 0 || s.typ == sockSeqpacket {
			return t.writeCall(a[0], a[1], a[2], 0, false)
		}
		buf := make([]byte, min(a[2], maxIO))
		if err := t.copyIn(a[1], buf); err != nil {
			return 0, err
		}
		return t.sendTo(d, s, a[4], a[5], buf)
	})
}

// sendTo sends buf to the address (addr, length): for a datagram socket,
// to the socket bound there; a stream socket has no use for one.
func (t *Task) sendTo(d *vfs.Description, s *unixSocket, addr, length uint64, buf []byte) (uint64, error) {
	if s.stream() {
		if s.peer != nil {
			return 0, abi.EISCONN
		}
		return 0, abi.EOPNOTSUPP
	}
	target, err := t.boundSocket(addr, length, sockDgram)
	if err != nil {
		return 0, err
	}
	k, err := s.deliver(target, buf)
	if err == vfs.ErrWouldBlock {
		if d.Flags&abi.O_NONBLOCK != 0 {
			return 0, abi.EAGAIN
		}
		return 0, t.block(&waitState{ready: func() bool {
			return target.closed || target.queued+len(buf) <= s.opts.sndbuf
		}})
	}
	return uint64(k), err
}

func sysRecvfrom(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	var from func() []byte
	switch s := d.File.(type) {
	case *unixSocket:
		from = func() []byte { return senderName(s.pickup.from) }
	case *inetSocket:
		from = func() []byte { return s.from }
	default:
		return 0, abi.ENOTSOCK
	}
	n, err := t.withFlags(d, a[3], func() (uint64, error) { return t.readCall(a[0], a[1], a[2], 0, false) })
	if err != nil {
		return 0, err
	}
	if a[4] != 0 && a[5] != 0 {
		err = t.writeSockaddr(a[4], a[5], from())
	}
	return n, err
}

// senderName is the address recvfrom reports for an AF_UNIX sender's
// name: none (length 0) when it has none.
func senderName(name []byte) []byte {
	if name == nil {
		return nil
	}
	return append(le.AppendUint16(nil, afUnix), name...)
}

// msghdr field offsets (64-bit).
const (
	msgName       = 0
	msgNamelen    = 8
	msgIov        = 16
	msgIovlen     = 24
	msgControl    = 32
	msgControllen = 40
	msgFlagsOff   = 48
	msghdrSize    = 56
)

func sysSendmsg(t *Task, a args) (uint64, error) {
	if d, is := t.inetSocketOf(a[0]); is != nil {
		var h [msghdrSize]byte
		if err := t.copyIn(a[1], h[:]); err != nil {
			return 0, err
		}
		return t.withFlags(d, a[2], func() (uint64, error) {
			name, namelen := le.Uint64(h[msgName:]), le.Uint32(h[msgNamelen:])
			if name == 0 || namelen == 0 {
				return t.writevCall(a[0], le.Uint64(h[msgIov:]), le.Uint64(h[msgIovlen:]), 0, false)
			}
			sa, err := t.sockaddrBytes(name, uint64(namelen))
			if err != nil {
				return 0, err
			}
			buf, err := t.gather(le.Uint64(h[msgIov:]), le.Uint64(h[msgIovlen:]))
			if err != nil {
				return 0, err
			}
			return t.inetSendTo(d, is, sa, buf)
		})
	}
	d, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	var h [msghdrSize]byte
	if err := t.copyIn(a[1], h[:]); err != nil {
		return 0, err
	}
	anc, err := t.readControl(le.Uint64(h[msgControl:]), le.Uint64(h[msgControllen:]))
	if err != nil {
		return 0, err
	}
	s.sending = &anc
	defer func() {
		// Descriptors not sent (the call failed or blocks and is made
		// again from the start) go back.
		releaseDescs(anc.descs)
		s.sending = nil
	}()
	if name, namelen := le.Uint64(h[msgName:]), le.Uint32(h[msgNamelen:]); name != 0 && namelen != 0 && s.typ != sockSeqpacket {
		return t.withFlags(d, a[2], func() (uint64, error) {
			buf, err := t.gather(le.Uint64(h[msgIov:]), le.Uint64(h[msgIovlen:]))
			if err != nil {
				return 0, err
			}
			return t.sendTo(d, s, name, uint64(namelen), buf)
		})
	}
	return t.withFlags(d, a[2], func() (uint64, error) {
		return t.writevCall(a[0], le.Uint64(h[msgIov:]), le.Uint64(h[msgIovlen:]), 0, false)
	})
}

// struct mmsghdr is a msghdr and the length the call stores for it.
const (
	mmsghdrSize   = msghdrSize + 8
	msgWaitforone = 0x10000
	// uioMaxiov bounds a sendmmsg/recvmmsg vector, as Linux's UIO_MAXIOV.
	uioMaxiov = 1024
)

// sendmmsg(2): sendmsg for each message of the vector.
func sysSendmmsg(t *Task, a args) (uint64, error) {
	return t.eachMessage(a, sysSendmsg)
}

// recvmmsg(2): recvmsg for each message of the vector. Only the first
// message is waited for, as with MSG_WAITFORONE: the others are what is
// already there (Linux waits for each unless MSG_WAITFORONE, and checks
// the timeout only between messages; callers take the count they get).
func sysRecvmmsg(t *Task, a args) (uint64, error) {
	return t.eachMessage(a, sysRecvmsg)
}

// eachMessage makes call for each struct mmsghdr of the vector at a[1]
// (a[2] of them, flags a[3]), storing each one's length, and returns how
// many succeeded. Only the first may block or fail the whole call; the
// later ones are made without waiting, and the first of them that fails
// ends the vector.
func (t *Task) eachMessage(a args, call func(*Task, args) (uint64, error)) (uint64, error) {
	vlen := min(a[2], uioMaxiov)
	flags := a[3] &^ msgWaitforone
	for i := uint64(0); i < vlen; i++ {
		hdr := a[1] + i*mmsghdrSize
		f := flags
		if i > 0 {
			f |= msgDontwait
		}
		n, err := call(t, args{a[0], hdr, f})
		if err != nil {
			if i == 0 {
				return 0, err
			}
			return i, nil
		}
		var l [4]byte
		le.PutUint32(l[:], uint32(n))
		if err := t.copyOut(hdr+msghdrSize, l[:]); err != nil {
			if i == 0 {
				return 0, err
			}
			return i, nil
		}
	}
	return vlen, nil
}

func sysRecvmsg(t *Task, a args) (uint64, error) {
	d, err := t.fd(a[0])
	if err != nil {
		return 0, err
	}
	s, _ := d.File.(*unixSocket)
	is, _ := d.File.(*inetSocket)
	if s == nil && is == nil {
		return 0, abi.ENOTSOCK
	}
	var h [msghdrSize]byte
	if err := t.copyIn(a[1], h[:]); err != nil {
		return 0, err
	}
	n, err := t.withFlags(d, a[2], func() (uint64, error) {
		return t.readvCall(a[0], le.Uint64(h[msgIov:]), le.Uint64(h[msgIovlen:]), 0, false)
	})
	if err != nil {
		return 0, err
	}
	var from []byte
	var used uint64
	var flags uint32
	if s != nil {
		from = senderName(s.pickup.from)
		used, flags, err = t.deliverControl(s, le.Uint64(h[msgControl:]), le.Uint64(h[msgControllen:]), a[2]&msgCmsgCloexe != 0)
		if err != nil {
			return 0, err
		}
	} else {
		from = is.from
		if is.truncated {
			flags |= msgTrunc
		}
	}
	namelen := uint32(0)
	if name := le.Uint64(h[msgName:]); name != 0 && from != nil {
		if err := t.copyOut(name, from[:min(len(from), int(le.Uint32(h[msgNamelen:])))]); err != nil {
			return 0, err
		}
		namelen = uint32(len(from))
	}
	le.PutUint32(h[msgNamelen:], namelen)
	le.PutUint64(h[msgControllen:], used)
	le.PutUint32(h[msgFlagsOff:], flags)
	return n, t.copyOut(a[1], h[:])
}

func sysShutdown(t *Task, a args) (uint64, error) {
	if _, is := t.inetSocketOf(a[0]); is != nil {
		return 0, is.shutdown(a[1])
	}
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	switch a[1] {
	case shutRd:
		s.shutRead = true
	case shutWr:
		s.shutWrite = true
	case shutRdwr:
		s.shutRead, s.shutWrite = true, true
	default:
		return 0, abi.EINVAL
	}
	return 0, nil
}

// sysSockname reports the unnamed AF_UNIX address of a socket pair end.
func sysGetsockname(t *Task, a args) (uint64, error) {
	if _, is := t.inetSocketOf(a[0]); is != nil {
		return 0, t.writeSockaddr(a[1], a[2], is.sockname())
	}
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.writeSockaddrUn(a[1], a[2], s.name)
}

func sysGetpeername(t *Task, a args) (uint64, error) {
	if _, is := t.inetSocketOf(a[0]); is != nil {
		sa, err := is.peername()
		if err != nil {
			return 0, err
		}
		return 0, t.writeSockaddr(a[1], a[2], sa)
	}
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if s.peer == nil {
		return 0, abi.ENOTCONN
	}
	return 0, t.writeSockaddrUn(a[1], a[2], s.peer.name)
}

func sysSocket(t *Task, a args) (uint64, error) {
	typ := int(a[1])
	var f vfs.File
	if a[0] == afInet || a[0] == afInet6 {
		kind := typ & sockTypeMask
		if typ&^(sockTypeMask|sockNonblock|sockCloexec) != 0 {
			return 0, abi.EINVAL
		}
		if err := inetProtocol(kind, a[2]); err != nil {
			return 0, err
		}
		s, err := t.k.newInetSocket(int(a[0]), kind)
		if err != nil {
			return 0, err
		}
		f = s
	} else {
		kind, err := socketKind(a[0], typ, a[2])
		if err != nil {
			return 0, err
		}
		f = newUnixSocket(t.k, kind)
	}
	d := vfs.NewDescription(f, uint32(abi.O_RDWR|typ&sockNonblock), "socket:")
	fd, err := t.proc.files.alloc(d, 0, typ&sockCloexec != 0)
	return uint64(fd), err
}

// sockaddrUn reads a struct sockaddr_un and returns its sun_path bytes as
// the socket's name: a path up to its first NUL, with that NUL; or, for
// the abstract namespace, a NUL and every byte of the name the length
// covers.
func (t *Task) sockaddrUn(addr, length uint64) ([]byte, error) {
	if length < 3 || length > 110 {
		return nil, abi.EINVAL
	}
	b := make([]byte, length)
	if err := t.copyIn(addr, b); err != nil {
		return nil, err
	}
	if le.Uint16(b) != afUnix {
		return nil, abi.EAFNOSUPPORT
	}
	path := b[2:]
	if path[0] == 0 {
		return path, nil
	}
	if i := bytes.IndexByte(path, 0); i >= 0 {
		path = path[:i]
	}
	return append(path, 0), nil
}

// writeSockaddrUn stores a struct sockaddr_un holding name at addr, cut to
// the caller's buffer length at lenAddr, and the address's whole length at
// lenAddr, as getsockname(2) does. A nil name is the unnamed address (the
// family alone).
func (t *Task) writeSockaddrUn(addr, lenAddr uint64, name []byte) error {
	return t.writeSockaddr(addr, lenAddr, append(le.AppendUint16(nil, afUnix), name...))
}

// writeSockaddr stores the address sa (a struct sockaddr's bytes) at addr,
// cut to the caller's buffer length at lenAddr, and its whole length at
// lenAddr; a nil sa is no address (length 0).
func (t *Task) writeSockaddr(addr, lenAddr uint64, sa []byte) error {
	if addr == 0 || lenAddr == 0 {
		return nil
	}
	room, err := t.readU32(lenAddr)
	if err != nil {
		return err
	}
	if int32(room) < 0 {
		return abi.EINVAL
	}
	if err := t.copyOut(addr, sa[:min(int(room), len(sa))]); err != nil {
		return err
	}
	return t.writeU32(lenAddr, uint32(len(sa)))
}

// unixKey names a bound socket in the kernel's table: the inode number of
// its socket file for a path, the name itself for an abstract address.
func (t *Task) unixKey(sunPath []byte, create bool) (string, error) {
	if sunPath[0] == 0 {
		return string(sunPath), nil
	}
	name := string(sunPath[:len(sunPath)-1])
	fs := t.k.fs
	if create {
		dir, base, err := fs.LookupParent(t.proc.fsc.cwd, name)
		if err != nil {
			return "", err
		}
		n, err := fs.Create(dir, base, abi.S_IFSOCK|0o777&^t.proc.fsc.umask)
		if err == abi.EEXIST {
			return "", abi.EADDRINUSE
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("ino:%d", n.Ino()), nil
	}
	n, err := fs.Lookup(t.proc.fsc.cwd, name, true)
	if err != nil {
		return "", err
	}
	if n.Mode()&abi.S_IFMT != abi.S_IFSOCK {
		return "", abi.ECONNREFUSED
	}
	return fmt.Sprintf("ino:%d", n.Ino()), nil
}

// boundSocket returns the socket of kind typ bound at the address
// (addr, length).
func (t *Task) boundSocket(addr, length uint64, typ int) (*unixSocket, error) {
	name, err := t.sockaddrUn(addr, length)
	if err != nil {
		return nil, err
	}
	key, err := t.unixKey(name, false)
	if err != nil {
		return nil, err
	}
	target, ok := t.k.unixNames[key]
	if !ok || target.closed || target.typ != typ {
		return nil, abi.ECONNREFUSED
	}
	return target, nil
}

// sockaddrBytes reads the struct sockaddr a call was given.
func (t *Task) sockaddrBytes(addr, length uint64) ([]byte, error) {
	if length > 128 {
		return nil, abi.EINVAL
	}
	sa := make([]byte, length)
	return sa, t.copyIn(addr, sa)
}

func sysBind(t *Task, a args) (uint64, error) {
	if _, is := t.inetSocketOf(a[0]); is != nil {
		sa, err := t.sockaddrBytes(a[1], a[2])
		if err != nil {
			return 0, err
		}
		return 0, is.bind(sa)
	}
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if s.addr != "" || s.peer != nil {
		return 0, abi.EINVAL
	}
	if a[2] == 2 {
		// The family alone: a name of the kernel's choosing.
		var family [2]byte
		if err := t.copyIn(a[1], family[:]); err != nil {
			return 0, err
		}
		if le.Uint16(family[:]) != afUnix {
			return 0, abi.EINVAL
		}
		return 0, s.autobind()
	}
	name, err := t.sockaddrUn(a[1], a[2])
	if err != nil {
		return 0, err
	}
	key, err := t.unixKey(name, true)
	if err != nil {
		return 0, err
	}
	if _, taken := t.k.unixNames[key]; taken {
		return 0, abi.EADDRINUSE
	}
	s.addr, s.name = key, name
	t.k.unixNames[key] = s
	return 0, nil
}

func sysListen(t *Task, a args) (uint64, error) {
	if _, is := t.inetSocketOf(a[0]); is != nil {
		// Linux caps the backlog at net.core.somaxconn (4096).
		backlog := int(int32(a[1]))
		if backlog < 0 || backlog > 4096 {
			backlog = 4096
		}
		if err := is.ep.Listen(backlog); err != nil {
			return 0, inet.Errno(err)
		}
		is.expose()
		return 0, nil
	}
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if s.typ == sockDgram {
		return 0, abi.EOPNOTSUPP
	}
	if s.addr == "" || s.peer != nil {
		return 0, abi.EINVAL
	}
	s.listening = true
	s.peerCred = t.peerCred()
	return 0, nil
}

func sysConnect(t *Task, a args) (uint64, error) {
	if d, is := t.inetSocketOf(a[0]); is != nil {
		sa, err := t.sockaddrBytes(a[1], a[2])
		if err != nil {
			return 0, err
		}
		return 0, t.inetConnect(d, is, sa)
	}
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if s.peer != nil || s.listening {
		return 0, abi.EISCONN
	}
	target, err := t.boundSocket(a[1], a[2], s.typ)
	if err != nil {
		return 0, err
	}
	if s.typ == sockDgram {
		s.peer = target
		return 0, nil
	}
	if !target.listening {
		return 0, abi.ECONNREFUSED
	}
	if len(target.backlog) >= 128 {
		return 0, abi.EAGAIN
	}
	if s.opts.passCred && s.addr == "" {
		if err := s.autobind(); err != nil {
			return 0, err
		}
	}
	server := newUnixSocket(t.k, s.typ)
	server.peer, server.name, server.peerCred, server.unaccepted = s, target.name, t.peerCred(), true
	s.peer, s.peerCred = server, target.peerCred
	target.backlog = append(target.backlog, server)
	return 0, nil
}

func sysAccept4(t *Task, a args) (uint64, error) {
	flags := a[3]
	if d, is := t.inetSocketOf(a[0]); is != nil {
		if flags&^(sockNonblock|sockCloexec) != 0 {
			return 0, abi.EINVAL
		}
		c, peer, err := t.inetAccept(d, is)
		if err != nil {
			return 0, err
		}
		nd := vfs.NewDescription(c, uint32(abi.O_RDWR|flags&sockNonblock), "socket:")
		fd, err := t.proc.files.alloc(nd, 0, flags&sockCloexec != 0)
		if err != nil {
			return 0, err
		}
		return uint64(fd), t.writeSockaddr(a[1], a[2], peer)
	}
	d, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if !s.listening || flags&^(sockNonblock|sockCloexec) != 0 {
		return 0, abi.EINVAL
	}
	if len(s.backlog) == 0 {
		if d.Flags&abi.O_NONBLOCK != 0 {
			return 0, abi.EAGAIN
		}
		return 0, t.block(&waitState{ready: func() bool { return len(s.backlog) > 0 || s.closed }})
	}
	conn := s.backlog[0]
	s.backlog = s.backlog[1:]
	conn.unaccepted = false
	conn.opts.passCred = s.opts.passCred
	nd := vfs.NewDescription(conn, uint32(abi.O_RDWR|flags&sockNonblock), "socket:")
	fd, err := t.proc.files.alloc(nd, 0, flags&sockCloexec != 0)
	if err != nil {
		return 0, err
	}
	// The client's address: its name if it bound one.
	if err := t.writeSockaddrUn(a[1], a[2], conn.peer.name); err != nil {
		return 0, err
	}
	return uint64(fd), nil
}

func sysAccept(t *Task, a args) (uint64, error) {
	return sysAccept4(t, args{a[0], a[1], a[2], 0})
}
