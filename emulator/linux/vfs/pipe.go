package vfs

import "github.com/wasmrt/wasmrt/emulator/linux/abi"

// PipeCapacity is the buffer size of a pipe, Linux's default.
const PipeCapacity = 64 << 10

// Pipe is the buffer shared by the two ends of a pipe or fifo.
type Pipe struct {
	buf     []byte
	readers int
	writers int
	// readerOpens and writerOpens count the opens of each end ever, so
	// a fifo opener can wait for the other side to have appeared even if
	// it has already gone again.
	readerOpens int
	writerOpens int
}

// NewPipe returns an empty pipe with no ends open.
func NewPipe() *Pipe { return &Pipe{} }

// Ends returns a new read end and write end of a fresh pipe.
func Ends() (r, w File) {
	p := NewPipe()
	return p.open(false), p.open(true)
}

func (p *Pipe) open(write bool) File {
	if write {
		p.writers++
		p.writerOpens++
	} else {
		p.readers++
		p.readerOpens++
	}
	return &pipeEnd{p: p, write: write}
}

type pipeEnd struct {
	p     *Pipe
	write bool
}

func (e *pipeEnd) Read(b []byte, _ int64) (int, error) {
	if e.write {
		return 0, abi.EBADF
	}
	p := e.p
	if len(p.buf) == 0 {
		if p.writers == 0 {
			return 0, nil
		}
		if len(b) == 0 {
			return 0, nil
		}
		return 0, ErrWouldBlock
	}
	k := copy(b, p.buf)
	p.buf = p.buf[k:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	return k, nil
}

func (e *pipeEnd) Write(b []byte, _ int64) (int, error) {
	if !e.write {
		return 0, abi.EBADF
	}
	p := e.p
	if p.readers == 0 {
		return 0, abi.EPIPE
	}
	room := PipeCapacity - len(p.buf)
	if room <= 0 {
		return 0, ErrWouldBlock
	}
	// Writes of at most PIPE_BUF bytes are atomic: all or nothing.
	if len(b) <= 4096 && len(b) > room {
		return 0, ErrWouldBlock
	}
	k := min(room, len(b))
	p.buf = append(p.buf, b[:k]...)
	return k, nil
}

func (e *pipeEnd) Seekable() bool { return false }

func (e *pipeEnd) Stat() abi.Stat {
	return abi.Stat{Dev: 0xc, Ino: 0, Mode: abi.S_IFIFO | 0o600, Nlink: 1, Blksize: 4096, Size: 0}
}

func (e *pipeEnd) Poll() uint32 {
	p := e.p
	var ev uint32
	if e.write {
		if p.readers == 0 {
			return abi.POLLOUT | abi.POLLERR
		}
		if len(p.buf) < PipeCapacity {
			ev |= abi.POLLOUT
		}
		return ev
	}
	if len(p.buf) > 0 {
		ev |= abi.POLLIN
	}
	if p.writers == 0 {
		ev |= abi.POLLHUP
	}
	return ev
}

func (e *pipeEnd) Release() {
	if e.write {
		e.p.writers--
	} else {
		e.p.readers--
	}
}

func (e *pipeEnd) Inode() *Inode { return nil }

// Buffered returns the number of unread bytes (FIONREAD).
func Buffered(f File) (int, bool) {
	switch e := f.(type) {
	case *pipeEnd:
		if !e.write {
			return len(e.p.buf), true
		}
	case *Stream:
		if e.TTY != nil {
			e.TTY.Pump()
			return e.TTY.Buffered(), true
		}
	case *ptySlave:
		return e.p.tty.Buffered(), true
	case *ptyMaster:
		return len(e.p.screen), true
	}
	return 0, false
}

// FifoPeer returns, for a description of a fifo end, a function that
// reports whether the other end has been opened since now: opening a fifo
// blocks until then. ok is false for anything else.
func FifoPeer(f File) (ready func() bool, ok bool) {
	e, isPipe := f.(*pipeEnd)
	if !isPipe {
		return nil, false
	}
	p := e.p
	if e.write {
		seen := p.readerOpens
		return func() bool { return p.readers > 0 || p.readerOpens > seen }, true
	}
	seen := p.writerOpens
	return func() bool { return p.writers > 0 || p.writerOpens > seen }, true
}
