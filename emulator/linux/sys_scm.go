package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// Descriptor passing over AF_UNIX sockets (SCM_RIGHTS, unix(7)). The
// sender's descriptions travel with the data they were sent with: for a
// stream socket, the range of the stream that send wrote (the first read
// that reaches the range receives them and ends with the range, as Linux
// ends a read after the buffer that carried descriptors); for datagrams,
// their message. A read(2) or a recvmsg without room for them closes
// them; so does closing the receiving socket with them still queued.

const (
	solSocket64   = 1
	scmRights     = 1
	scmMaxFD      = 253
	cmsgHdrSize   = 16
	msgCtrunc     = 0x8
	msgCmsgCloexe = 0x40000000
)

// inFlight are descriptions sent with the stream bytes [at, end).
type inFlight struct {
	at, end int64
	descs   []*vfs.Description
}

func releaseDescs(ds []*vfs.Description) {
	for _, d := range ds {
		d.DecRef()
	}
}

func cmsgAlign(n uint64) uint64 { return (n + 7) &^ 7 }

// readRights reads the control messages of a sendmsg and returns the
// descriptions of its SCM_RIGHTS (referenced; the caller releases them if
// it does not send them).
func (t *Task) readRights(control, length uint64) ([]*vfs.Description, error) {
	if length == 0 {
		return nil, nil
	}
	if length > 1<<16 {
		return nil, abi.EINVAL
	}
	buf := make([]byte, length)
	if err := t.copyIn(control, buf); err != nil {
		return nil, err
	}
	var descs []*vfs.Description
	fail := func(err error) ([]*vfs.Description, error) {
		releaseDescs(descs)
		return nil, err
	}
	for off := uint64(0); off+cmsgHdrSize <= length; {
		clen := le.Uint64(buf[off:])
		level, typ := int32(le.Uint32(buf[off+8:])), int32(le.Uint32(buf[off+12:]))
		if clen < cmsgHdrSize || clen > length-off {
			return fail(abi.EINVAL)
		}
		if level != solSocket64 || typ != scmRights {
			return fail(abi.EINVAL)
		}
		n := (clen - cmsgHdrSize) / 4
		if len(descs)+int(n) > scmMaxFD {
			return fail(abi.EINVAL)
		}
		for i := uint64(0); i < n; i++ {
			d, err := t.fd(uint64(le.Uint32(buf[off+cmsgHdrSize+4*i:])))
			if err != nil {
				return fail(abi.EBADF)
			}
			d.IncRef()
			descs = append(descs, d)
		}
		off += cmsgAlign(clen)
	}
	return descs, nil
}

// attachRights queues descs at the receiving end of s, with the n bytes
// a write of s just delivered (streamAt is where they start in the
// receiver's stream).
func (s *unixSocket) attachRights(to *unixSocket, streamAt int64, n uint64, descs []*vfs.Description) {
	if s.stream() {
		to.rights = append(to.rights, inFlight{at: streamAt, end: streamAt + int64(n), descs: descs})
		return
	}
	for len(to.msgRights) < len(to.msgs) {
		to.msgRights = append(to.msgRights, nil)
	}
	to.msgRights[len(to.msgs)-1] = descs
}

// streamEnd is the stream offset just past what s has queued.
func (s *unixSocket) streamEnd() int64 { return s.inOff + int64(len(s.in)) }

// streamLimit ends a read of n bytes with the first range sent with
// descriptors that it reaches, and, when the read takes what it reads,
// picks those descriptors up.
func (s *unixSocket) streamLimit(n int, take bool) int {
	if len(s.rights) > 0 {
		if r := s.rights[0]; r.at < s.inOff+int64(n) {
			if take {
				s.pickup = r.descs
				s.rights = s.rights[1:]
			}
			n = min(n, int(max(r.end-s.inOff, 1)))
		}
	}
	return n
}

// deliverRights installs the descriptions the last read picked up in t's
// descriptor table and writes the SCM_RIGHTS message into the control
// buffer of a recvmsg (room bytes at control). It returns the control
// length used and the MSG_CTRUNC flag when not all fit.
func (t *Task) deliverRights(s *unixSocket, control, room uint64, cloexec bool) (uint64, uint32, error) {
	descs := s.pickup
	s.pickup = nil
	if len(descs) == 0 {
		return 0, 0, nil
	}
	fit := 0
	if room >= cmsgHdrSize {
		fit = min(len(descs), int((room-cmsgHdrSize)/4))
	}
	var flags uint32
	if fit < len(descs) {
		flags = msgCtrunc
		releaseDescs(descs[fit:])
		descs = descs[:fit]
	}
	if fit == 0 {
		return 0, flags, nil
	}
	msg := make([]byte, cmsgHdrSize+4*fit)
	le.PutUint64(msg, uint64(len(msg)))
	le.PutUint32(msg[8:], solSocket64)
	le.PutUint32(msg[12:], scmRights)
	for i, d := range descs {
		fd, err := t.proc.files.alloc(d, 0, cloexec)
		if err != nil {
			releaseDescs(descs[i:])
			flags = msgCtrunc
			msg = msg[:cmsgHdrSize+4*i]
			le.PutUint64(msg, uint64(len(msg)))
			break
		}
		le.PutUint32(msg[cmsgHdrSize+4*i:], uint32(fd))
	}
	if len(msg) == cmsgHdrSize {
		return 0, flags, nil
	}
	return min(cmsgAlign(uint64(len(msg))), room), flags, t.copyOut(control, msg)
}
