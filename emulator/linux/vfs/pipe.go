package vfs

import "github.com/wasmrt/wasmrt/emulator/linux/abi"

// PipeCapacity is the buffer size of a new pipe, Linux's default.
const PipeCapacity = 64 << 10

// PipeMaxSize is the largest capacity F_SETPIPE_SZ grants without
// CAP_SYS_RESOURCE, Linux's default /proc/sys/fs/pipe-max-size.
const PipeMaxSize = 1 << 20

// pipeMaxPrivileged bounds what even a privileged F_SETPIPE_SZ gets: Linux
// caps at 2^31 bytes; the guest's memory is far smaller, so a smaller cap
// keeps one pipe from claiming it all.
const pipeMaxPrivileged = 64 << 20

// Pipe is the buffer shared by the two ends of a pipe or fifo.
type Pipe struct {
	buf []byte
	// capacity is the buffer size (F_GETPIPE_SZ); 0 means PipeCapacity.
	capacity int
	readers  int
	writers  int
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
	return p.open(true, false, nil), p.open(false, true, nil)
}

// open adds an end that reads, writes or (a fifo opened O_RDWR) both;
// fifo is the fifo's inode, nil for an anonymous pipe.
func (p *Pipe) open(read, write bool, fifo *Inode) File {
	if write {
		p.writers++
		p.writerOpens++
	}
	if read {
		p.readers++
		p.readerOpens++
	}
	return &pipeEnd{p: p, read: read, write: write, fifo: fifo}
}

type pipeEnd struct {
	p           *Pipe
	read, write bool
	// fifo is the inode of a named pipe, which fstat reports.
	fifo *Inode
}

func (e *pipeEnd) Read(b []byte, _ int64) (int, error) {
	if !e.read {
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
	room := p.size() - len(p.buf)
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

func (p *Pipe) size() int {
	if p.capacity == 0 {
		return PipeCapacity
	}
	return p.capacity
}

// PipeSize returns the capacity of the pipe behind f (F_GETPIPE_SZ); ok is
// false when f is not a pipe or fifo end.
func PipeSize(f File) (size int, ok bool) {
	e, isPipe := f.(*pipeEnd)
	if !isPipe {
		return 0, false
	}
	return e.p.size(), true
}

// SetPipeSize sets the capacity of the pipe behind f as F_SETPIPE_SZ does:
// rounded up to a power-of-two number of pages, at most PipeMaxSize unless
// privileged (EPERM), never below what the pipe holds now (EBUSY). It
// returns the capacity set.
func SetPipeSize(f File, size uint64, privileged bool) (int, error) {
	e, isPipe := f.(*pipeEnd)
	if !isPipe {
		return 0, abi.EBADF
	}
	if size > 1<<31 {
		return 0, abi.EINVAL
	}
	n := 4096
	for uint64(n) < size {
		n <<= 1
	}
	switch {
	case n > PipeMaxSize && !privileged:
		return 0, abi.EPERM
	case n > pipeMaxPrivileged:
		return 0, abi.ENOMEM
	case n < len(e.p.buf):
		return 0, abi.EBUSY
	}
	e.p.capacity = n
	return n, nil
}

// pipeDev is the device of pipes (Linux's pipefs).
const pipeDev = 0xc

func (e *pipeEnd) Seekable() bool { return false }

func (e *pipeEnd) Stat() abi.Stat {
	if e.fifo != nil {
		return e.fifo.Stat()
	}
	return abi.Stat{Dev: pipeDev, Ino: 0, Mode: abi.S_IFIFO | 0o600, Nlink: 1, Blksize: 4096, Size: 0}
}

func (e *pipeEnd) Poll() uint32 {
	p := e.p
	var ev uint32
	if e.write {
		if p.readers == 0 {
			ev |= abi.POLLOUT | abi.POLLERR
		} else if len(p.buf) < p.size() {
			ev |= abi.POLLOUT
		}
	}
	if e.read {
		if len(p.buf) > 0 {
			ev |= abi.POLLIN
		}
		if p.writers == 0 {
			ev |= abi.POLLHUP
		}
	}
	return ev
}

func (e *pipeEnd) Release() {
	if e.write {
		e.p.writers--
	}
	if e.read {
		e.p.readers--
	}
}

func (e *pipeEnd) Inode() *Inode { return nil }

// Buffered returns the number of unread bytes (FIONREAD).
// PipeWritten returns, for the write end of a pipe or fifo, the bytes
// waiting in it to be read.
func PipeWritten(f File) (int, bool) {
	if e, ok := f.(*pipeEnd); ok && !e.read {
		return len(e.p.buf), true
	}
	return 0, false
}

func Buffered(f File) (int, bool) {
	switch e := f.(type) {
	case interface{ Buffered() int }:
		return e.Buffered(), true
	case *pipeEnd:
		if e.read {
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
	if e.read && e.write {
		return func() bool { return true }, true
	}
	if e.write {
		seen := p.readerOpens
		return func() bool { return p.readers > 0 || p.readerOpens > seen }, true
	}
	seen := p.writerOpens
	return func() bool { return p.writers > 0 || p.writerOpens > seen }, true
}
