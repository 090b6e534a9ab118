package vfs

import (
	"encoding/binary"
	"strconv"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// PTYOutputCapacity bounds the slave output a master has not read yet;
// slave writes wait beyond it.
const PTYOutputCapacity = 64 << 10

// Pseudo-terminal device numbers: the multiplexer, and the slaves' major
// (/dev/pts/N is minor N).
const ptsMajor = 136

var devPTMX = abi.Makedev(5, 2)

// PTY is a Unix 98 pseudo-terminal pair made by opening /dev/ptmx: the
// master's writes are typed at the slave terminal, whose screen output
// the master reads.
type PTY struct {
	fs  *FS
	tty *TTY
	// screen is slave output the master has not read.
	screen []byte
	// Locked is set until unlockpt (TIOCSPTLCK 0): the slave cannot be
	// opened.
	Locked bool
	// masterOpen is cleared when the master is released (hangup);
	// slaves counts open slave descriptions, slaveOpened whether one
	// ever was (a master sees hangup only after that).
	masterOpen  bool
	slaves      int
	slaveOpened bool
	node        *Inode
	// dir is /dev/pts, which the node leaves at hangup.
	dir *Inode
}

// openPTMX makes a new pty pair with the lowest free index, creating
// /dev/pts/N owned by the caller with mode 0600 (devpts's defaults,
// which grantpt accepts), and returns its master.
func (fs *FS) openPTMX() (File, error) {
	pts, err := fs.Lookup(fs.root, "/dev/pts", false)
	if err != nil {
		return nil, err
	}
	if err := pts.load(); err != nil {
		return nil, err
	}
	if fs.ptys == nil {
		fs.ptys = make(map[int]*PTY)
	}
	idx := 0
	for {
		_, taken := pts.children[strconv.Itoa(idx)]
		if _, used := fs.ptys[idx]; !taken && !used {
			break
		}
		idx++
	}
	node, err := fs.Create(pts, strconv.Itoa(idx), abi.S_IFCHR|0o600)
	if err != nil {
		return nil, err
	}
	node.rdev = abi.Makedev(ptsMajor, uint32(idx))
	p := &PTY{fs: fs, Locked: true, masterOpen: true, node: node, dir: pts}
	p.tty = NewTTY(0, 0)
	// A fresh pty has Linux's tty_std_termios input flags, without the
	// IUTF8 a UTF-8 console carries.
	binary.LittleEndian.PutUint32(p.tty.Termios[0:], tICRNL|tIXON)
	p.tty.Index, p.tty.pty = idx, p
	p.tty.Screen = func(b []byte) { p.screen = append(p.screen, b...) }
	p.tty.Signal = func(sig int) {
		if fs.TerminalSignal != nil {
			fs.TerminalSignal(p.tty, sig)
		}
	}
	fs.ptys[idx] = p
	return &ptyMaster{p: p}, nil
}

// openPTS opens the slave with device number rdev.
func (fs *FS) openPTS(rdev uint64) (File, error) {
	for _, p := range fs.ptys {
		if p.node.rdev == rdev {
			return p.openSlave()
		}
	}
	if rdev == devPTS0 && fs.Console != nil {
		return fs.Console, nil
	}
	return nil, abi.EIO
}

func (p *PTY) openSlave() (File, error) {
	if p.Locked || !p.masterOpen {
		return nil, abi.EIO
	}
	p.slaves++
	p.slaveOpened = true
	return &ptySlave{p: p}, nil
}

// OpenTerminal opens tty again (/dev/tty naming a controlling terminal).
func (fs *FS) OpenTerminal(tty *TTY) (File, error) {
	if tty.pty != nil {
		return tty.pty.openSlave()
	}
	if fs.Console == nil {
		return nil, errNoTTY
	}
	return fs.Console, nil
}

// ptyMaster is the master side, /dev/ptmx's open file.
type ptyMaster struct{ p *PTY }

// Read returns slave output; EIO once every slave closed and nothing is
// left, as Linux.
func (m *ptyMaster) Read(b []byte, _ int64) (int, error) {
	p := m.p
	if len(p.screen) == 0 {
		if p.slaveOpened && p.slaves == 0 {
			return 0, abi.EIO
		}
		if len(b) == 0 {
			return 0, nil
		}
		return 0, ErrWouldBlock
	}
	n := copy(b, p.screen)
	p.screen = p.screen[n:]
	if len(p.screen) == 0 {
		p.screen = nil
	}
	return n, nil
}

// Write types at the slave, as much as its input queue takes.
func (m *ptyMaster) Write(b []byte, _ int64) (int, error) {
	t := m.p.tty
	if len(b) == 0 {
		return 0, nil
	}
	room := t.inputRoom()
	if room == 0 {
		return 0, ErrWouldBlock
	}
	n := min(room, len(b))
	t.Receive(b[:n])
	return n, nil
}

func (m *ptyMaster) Seekable() bool { return false }

func (m *ptyMaster) Stat() abi.Stat {
	return abi.Stat{Dev: 6, Ino: 87, Mode: abi.S_IFCHR | 0o666, Nlink: 1, Blksize: 1024, Rdev: devPTMX}
}

func (m *ptyMaster) Poll() uint32 {
	p := m.p
	var ev uint32
	if len(p.screen) > 0 {
		ev |= abi.POLLIN
	}
	if p.tty.inputRoom() > 0 {
		ev |= abi.POLLOUT
	}
	if p.slaveOpened && p.slaves == 0 {
		ev |= abi.POLLHUP
	}
	return ev
}

// Release hangs the pair up: /dev/pts/N goes away, slave reads see end
// of file and writes EIO, and the controlling session is told.
func (m *ptyMaster) Release() {
	p := m.p
	p.masterOpen = false
	p.tty.HungUp = true
	p.tty.FlushInput()
	name := strconv.Itoa(p.tty.Index)
	if p.dir.children[name] == p.node {
		delete(p.dir.children, name)
		p.node.nlink--
	}
	delete(p.fs.ptys, p.tty.Index)
	if p.tty.Signal != nil {
		p.tty.Signal(abi.SIGHUP)
	}
}

func (m *ptyMaster) Inode() *Inode { return nil }

// ptySlave is an open /dev/pts/N.
type ptySlave struct{ p *PTY }

func (s *ptySlave) Read(b []byte, _ int64) (int, error) {
	if s.p.tty.HungUp {
		return 0, nil
	}
	return s.p.tty.Read(b)
}

func (s *ptySlave) Write(b []byte, _ int64) (int, error) {
	p := s.p
	if p.tty.HungUp {
		return 0, abi.EIO
	}
	if len(b) == 0 {
		return 0, nil
	}
	room := PTYOutputCapacity - len(p.screen)
	if room <= 0 || p.tty.Stopped {
		return 0, ErrWouldBlock
	}
	n := min(room, len(b))
	return p.tty.Write(b[:n]), nil
}

func (s *ptySlave) Seekable() bool { return false }
func (s *ptySlave) Stat() abi.Stat { return s.p.node.Stat() }

func (s *ptySlave) Poll() uint32 {
	p := s.p
	if p.tty.HungUp {
		return abi.POLLIN | abi.POLLOUT | abi.POLLERR | abi.POLLHUP
	}
	var ev uint32
	if p.tty.Readable() {
		ev |= abi.POLLIN
	}
	if len(p.screen) < PTYOutputCapacity && !p.tty.Stopped {
		ev |= abi.POLLOUT
	}
	return ev
}

func (s *ptySlave) Release() { s.p.slaves-- }

// Inode is the /dev/pts/N node (chmod, chown and fstat act on it).
func (s *ptySlave) Inode() *Inode { return s.p.node }

// PTYMaster reports whether f is a pty master, and its pair.
func PTYMaster(f File) (*PTY, bool) {
	if m, ok := f.(*ptyMaster); ok {
		return m.p, true
	}
	return nil, false
}

// TTY returns the pair's slave terminal.
func (p *PTY) TTY() *TTY { return p.tty }

// FlushScreen discards slave output the master has not read.
func (p *PTY) FlushScreen() { p.screen = nil }

// PTYOfSlave reports whether f is a pty slave, and its pair.
func PTYOfSlave(f File) (*PTY, bool) {
	if s, ok := f.(*ptySlave); ok {
		return s.p, true
	}
	return nil, false
}
