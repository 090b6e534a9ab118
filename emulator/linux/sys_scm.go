package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// Ancillary data of AF_UNIX sockets (unix(7), cmsg(3)): descriptors
// (SCM_RIGHTS) and the sender's credentials (SCM_CREDENTIALS) travel with
// the bytes they were sent with. A stream socket keeps, for each send,
// the range of the stream it wrote: the first read that reaches a range
// sent with descriptors receives them and ends with that range (Linux
// ends a read after the buffer that carried descriptors), and a reader
// that asked for credentials (SO_PASSCRED) never reads across a change of
// credentials. A datagram carries its own. A read(2), or a recvmsg without
// room for them, closes descriptors it receives; so does closing the
// receiving socket with them still queued.

const (
	scmRights      = 1
	scmCredentials = 2
	scmMaxFD       = 253
	cmsgHdrSize    = 16
	ucredSize      = 12
	msgCtrunc      = 0x8
	msgCmsgCloexe  = 0x40000000
	// overflowID is the user and group reported for credentials that
	// were never attached (/proc/sys/kernel/overflowuid).
	overflowID = 65534
)

// ucred is struct ucred: a process and a user and group.
type ucred struct {
	pid      int32
	uid, gid uint32
}

func (c ucred) bytes() []byte {
	b := make([]byte, ucredSize)
	le.PutUint32(b, uint32(c.pid))
	le.PutUint32(b[4:], c.uid)
	le.PutUint32(b[8:], c.gid)
	return b
}

// sendCred is what SCM_CREDENTIALS carries when the sender gives none:
// its process and real ids.
func (t *Task) sendCred() *ucred {
	return &ucred{pid: int32(t.proc.pid), uid: t.proc.cred.ruid, gid: t.proc.cred.rgid}
}

// peerCred is what SO_PEERCRED reports of a process: its effective ids.
func (t *Task) peerCred() *ucred {
	return &ucred{pid: int32(t.proc.pid), uid: t.proc.cred.euid, gid: t.proc.cred.egid}
}

func sameCred(a, b *ucred) bool { return a == b || (a != nil && b != nil && *a == *b) }

// ancillary is what travels with sent bytes besides them.
type ancillary struct {
	descs []*vfs.Description
	// cred are the sender's credentials, when they were attached.
	cred *ucred
	// from is the sending socket's name (a datagram's source address).
	from []byte
}

// streamSend is the stream bytes [at, end) that one send wrote and what
// came with them.
type streamSend struct {
	at, end int64
	ancillary
}

// datagram is one queued message of a datagram or seqpacket socket.
type datagram struct {
	data []byte
	ancillary
}

func releaseDescs(ds []*vfs.Description) {
	for _, d := range ds {
		d.DecRef()
	}
}

func cmsgAlign(n uint64) uint64 { return (n + 7) &^ 7 }

// readControl reads the control messages of a sendmsg: the descriptions
// of its SCM_RIGHTS (referenced; the caller releases them if it does not
// send them) and the credentials of its SCM_CREDENTIALS, which must be
// the sender's own unless it is privileged.
func (t *Task) readControl(control, length uint64) (ancillary, error) {
	var anc ancillary
	if length == 0 {
		return anc, nil
	}
	if length > 1<<16 {
		return anc, abi.ENOBUFS
	}
	buf := make([]byte, length)
	if err := t.copyIn(control, buf); err != nil {
		return anc, err
	}
	fail := func(err error) (ancillary, error) {
		releaseDescs(anc.descs)
		return ancillary{}, err
	}
	for off := uint64(0); off+cmsgHdrSize <= length; {
		clen := le.Uint64(buf[off:])
		level, typ := int32(le.Uint32(buf[off+8:])), int32(le.Uint32(buf[off+12:]))
		if clen < cmsgHdrSize || clen > length-off {
			return fail(abi.EINVAL)
		}
		data := buf[off+cmsgHdrSize : off+clen]
		off += cmsgAlign(clen)
		if level != solSocket {
			// Messages of other levels are the protocol's; AF_UNIX has none.
			continue
		}
		switch typ {
		case scmRights:
			n := len(data) / 4
			if len(anc.descs)+n > scmMaxFD {
				return fail(abi.EINVAL)
			}
			for i := range n {
				d, err := t.fd(uint64(le.Uint32(data[4*i:])))
				if err != nil {
					return fail(abi.EBADF)
				}
				d.IncRef()
				anc.descs = append(anc.descs, d)
			}
		case scmCredentials:
			if len(data) != ucredSize {
				return fail(abi.EINVAL)
			}
			c := ucred{pid: int32(le.Uint32(data)), uid: le.Uint32(data[4:]), gid: le.Uint32(data[8:])}
			if err := t.checkSentCred(c); err != nil {
				return fail(err)
			}
			anc.cred = &c
		default:
			return fail(abi.EINVAL)
		}
	}
	return anc, nil
}

// checkSentCred applies Linux's rule for SCM_CREDENTIALS a sender gives:
// its own process (or CAP_SYS_ADMIN), one of its real, effective or saved
// user ids (or CAP_SETUID), and likewise for the group (or CAP_SETGID);
// the process must exist.
func (t *Task) checkSentCred(c ucred) error {
	cr := &t.proc.cred
	if c.uid == noChange || c.gid == noChange {
		return abi.EINVAL
	}
	root := cr.privileged()
	if !root && (int(c.pid) != t.proc.pid || !oneOf(c.uid, cr.ruid, cr.euid, cr.suid) || !oneOf(c.gid, cr.rgid, cr.egid, cr.sgid)) {
		return abi.EPERM
	}
	if c.pid <= 0 || t.k.process(int(c.pid)) == nil {
		return abi.ESRCH
	}
	return nil
}

// outgoing is what a send from s to the socket to carries: what sendmsg
// gave (descriptors once, though a send may be made again after
// blocking), the sending process's credentials when either end asks for
// them, and s's name.
func (s *unixSocket) outgoing(to *unixSocket) ancillary {
	var anc ancillary
	if s.sending != nil {
		anc = *s.sending
		s.sending.descs = nil
	}
	if anc.cred == nil && (s.opts.passCred || to.opts.passCred || to.unaccepted) && s.k.current != nil {
		anc.cred = s.k.current.sendCred()
	}
	anc.from = s.name
	return anc
}

// streamEnd is the stream offset just past what s has queued.
func (s *unixSocket) streamEnd() int64 { return s.inOff + int64(len(s.in)) }

// streamLimit cuts a read of n bytes from s's stream after the first send
// with descriptors that it reaches and, when s asks for credentials,
// before the first byte sent with other credentials than the first. It
// records in s.pickup what the read receives: the descriptors only when
// it takes what it reads.
func (s *unixSocket) streamLimit(n int, take bool) int {
	end := s.inOff + int64(n)
	// Consumed sends are trimmed: the first holds the read's first byte.
	first := s.sends[0].cred
	for i := range s.sends {
		r := &s.sends[i]
		if r.at >= end {
			break
		}
		if s.opts.passCred && !sameCred(first, r.cred) {
			end = r.at
			break
		}
		if r.descs != nil {
			end = min(end, r.end)
			if take {
				s.pickup.descs = r.descs
				r.descs = nil
			}
			break
		}
	}
	s.pickup.cred = first
	s.pickup.from = s.sends[0].from
	return int(end - s.inOff)
}

// consumeStream drops n read bytes and the sends they finish.
func (s *unixSocket) consumeStream(n int) {
	s.in = s.in[n:]
	s.inOff += int64(n)
	s.queued -= n
	i := 0
	for i < len(s.sends) && s.sends[i].end <= s.inOff {
		releaseDescs(s.sends[i].descs)
		i++
	}
	s.sends = s.sends[i:]
}

// putCmsg appends a control message to a recvmsg's control buffer of
// room bytes as put_cmsg does: cut to what fits, with MSG_CTRUNC, and
// nothing without room for the header.
func putCmsg(out []byte, room uint64, typ uint32, data []byte) ([]byte, uint32) {
	left := room - uint64(len(out))
	if left < cmsgHdrSize {
		return out, msgCtrunc
	}
	n := min(uint64(cmsgHdrSize+len(data)), left)
	var flags uint32
	if n < uint64(cmsgHdrSize+len(data)) {
		flags = msgCtrunc
	}
	msg := make([]byte, cmsgHdrSize+len(data))
	le.PutUint64(msg, n)
	le.PutUint32(msg[8:], solSocket)
	le.PutUint32(msg[12:], typ)
	copy(msg[cmsgHdrSize:], data)
	out = append(out, msg[:n]...)
	if pad := min(cmsgAlign(n), left) - n; pad > 0 {
		out = append(out, make([]byte, pad)...)
	}
	return out, flags
}

// deliverControl writes what the last read of s received into the
// control buffer of a recvmsg (room bytes at control): the credentials
// when s asks for them, then the descriptors, installed in t's table. It
// returns the control length used and MSG_CTRUNC when not all fit.
func (t *Task) deliverControl(s *unixSocket, control, room uint64, cloexec bool) (uint64, uint32, error) {
	got := s.pickup
	s.pickup = ancillary{}
	var out []byte
	var flags uint32
	if s.opts.passCred {
		c := ucred{uid: overflowID, gid: overflowID}
		if got.cred != nil {
			c = *got.cred
		}
		var f uint32
		out, f = putCmsg(out, room, scmCredentials, c.bytes())
		flags |= f
	}
	if descs := got.descs; len(descs) > 0 {
		fit := 0
		if left := room - uint64(len(out)); left >= cmsgHdrSize {
			fit = min(len(descs), int((left-cmsgHdrSize)/4))
		}
		if fit < len(descs) {
			flags |= msgCtrunc
			releaseDescs(descs[fit:])
			descs = descs[:fit]
		}
		fds := make([]byte, 0, 4*len(descs))
		for i, d := range descs {
			fd, err := t.proc.files.alloc(d, 0, cloexec)
			if err != nil {
				releaseDescs(descs[i:])
				flags |= msgCtrunc
				break
			}
			fds = le.AppendUint32(fds, uint32(fd))
		}
		if len(fds) > 0 {
			out, _ = putCmsg(out, room, scmRights, fds)
		}
	}
	if len(out) == 0 {
		return 0, flags, nil
	}
	return uint64(len(out)), flags, t.copyOut(control, out)
}
