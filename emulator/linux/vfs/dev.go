package vfs

import (
	"crypto/rand"
	"io"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// populateDev creates /dev with the character devices every program
// expects, replacing whatever the image has there (images record device
// nodes as metadata only).
func (fs *FS) populateDev() error {
	root := fs.root
	if err := root.load(); err != nil {
		return err
	}
	if old, ok := root.children["dev"]; ok && old.IsDir() {
		root.nlink--
	}
	delete(root.children, "dev")
	dev, err := fs.Mkdir(root, "dev", 0o755)
	if err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		rdev uint64
		perm uint32
	}{
		{"null", devNull, 0o666}, {"zero", devZero, 0o666}, {"full", devFull, 0o666},
		{"random", devRandom, 0o666}, {"urandom", devURandom, 0o666}, {"tty", devTTY, 0o666},
		{"ptmx", devPTMX, 0o666},
	} {
		n, err := fs.Create(dev, d.name, abi.S_IFCHR|d.perm)
		if err != nil {
			return err
		}
		n.rdev = d.rdev
	}
	for _, l := range [][2]string{{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}} {
		if _, err := fs.Symlink(dev, l[0], l[1]); err != nil {
			return err
		}
	}
	for _, d := range []string{"shm", "pts"} {
		if _, err := fs.Mkdir(dev, d, 0o1777); err != nil {
			return err
		}
	}
	return nil
}

// deviceFile is an open character device.
type deviceFile struct {
	n *Inode
}

// errNoTTY is what opening /dev/tty fails with when the machine has no
// terminal.
var errNoTTY = abi.ENXIO

func openDevice(fs *FS, n *Inode) (File, error) {
	switch n.rdev {
	case devNull, devZero, devFull, devRandom, devURandom:
		return &deviceFile{n: n}, nil
	case devTTY:
		if fs.ControllingTerminal != nil {
			tty := fs.ControllingTerminal()
			if tty == nil {
				return nil, errNoTTY
			}
			return fs.OpenTerminal(tty)
		}
		if fs.Console == nil {
			return nil, errNoTTY
		}
		return fs.Console, nil
	case devPTMX:
		return fs.openPTMX()
	}
	if n.rdev>>8&0xfff == ptsMajor {
		return fs.openPTS(n.rdev)
	}
	return nil, abi.ENXIO
}

func (f *deviceFile) Read(p []byte, _ int64) (int, error) {
	switch f.n.rdev {
	case devNull:
		return 0, io.EOF
	case devZero, devFull:
		clear(p)
		return len(p), nil
	default:
		// The host's cryptographic generator: guests seed keys from it.
		rand.Read(p)
		return len(p), nil
	}
}

func (f *deviceFile) Write(p []byte, _ int64) (int, error) {
	if f.n.rdev == devFull {
		return 0, abi.ENOSPC
	}
	return len(p), nil
}

func (f *deviceFile) Seekable() bool { return false }
func (f *deviceFile) Stat() abi.Stat { return f.n.Stat() }
func (f *deviceFile) Poll() uint32   { return abi.POLLIN | abi.POLLOUT }
func (f *deviceFile) Release()       {}
func (f *deviceFile) Inode() *Inode  { return f.n }

// Stream is a host byte stream (the machine's standard input, output or
// error) seen by the guest as a character device: a terminal when TTY is
// set.
type Stream struct {
	// In is the host input a readable stream reads; W the host writer.
	In *HostInput
	W  io.Writer
	// TTY, when set, makes the stream the machine's terminal; Node is
	// then its device node (/dev/pts/0), which stat reports.
	TTY  *TTY
	Node *Inode
	// Ino numbers a stream that is not a terminal among pipes.
	Ino uint64
}

// Read returns host input received so far, or ErrWouldBlock while the
// host has sent nothing: the task then parks until Poll reports input.
func (s *Stream) Read(p []byte, _ int64) (int, error) {
	if s.TTY != nil {
		return s.TTY.consoleRead(p)
	}
	if s.In == nil {
		return 0, nil
	}
	return s.In.Read(p)
}

// Write writes to the host.
func (s *Stream) Write(p []byte, _ int64) (int, error) {
	if s.W == nil {
		return 0, abi.EBADF
	}
	if s.TTY != nil {
		if s.TTY.Stopped {
			return 0, ErrWouldBlock
		}
		return s.TTY.Write(p), nil
	}
	k, err := s.W.Write(p)
	if err != nil {
		return k, abi.EIO
	}
	return k, nil
}

// Seekable is false: host streams are character devices.
func (s *Stream) Seekable() bool { return false }

// Stat reports the terminal's device node, or, for a stream that is not
// a terminal, a pipe: what a container's standard streams are under
// `docker run` without -t. (C libraries choose their buffering from it:
// glibc line-buffers a character device of a terminal's major number.)
func (s *Stream) Stat() abi.Stat {
	if s.Node != nil {
		return s.Node.Stat()
	}
	return abi.Stat{Dev: pipeDev, Ino: s.Ino, Mode: abi.S_IFIFO | 0o600, Nlink: 1, Blksize: 4096}
}

// Poll reports input once the host sent some (or ended); output is
// always ready.
func (s *Stream) Poll() uint32 {
	ev := uint32(abi.POLLOUT)
	if s.TTY != nil {
		s.TTY.Pump()
		if s.TTY.Stopped {
			ev = 0
		}
		if s.TTY.Readable() || (s.In != nil && s.In.ended) {
			ev |= abi.POLLIN
		}
		return ev
	}
	if s.In == nil || s.In.Ready() {
		ev |= abi.POLLIN
	}
	return ev
}

// Release does nothing: the host owns the stream.
func (s *Stream) Release() {}

// Inode is nil: host streams are not in the namespace.
func (s *Stream) Inode() *Inode { return nil }
