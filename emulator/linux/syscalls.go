package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/arch"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// args are a system call's six raw arguments.
type args [6]uint64

// handler serves one system call: it decodes its arguments, does the work
// and returns the result or an error: an abi.Errno for the guest,
// errBlocked after parking the task, errNoReturn when the registers were
// replaced (execve, rt_sigreturn, exit).
type handler func(t *Task, a args) (uint64, error)

var (
	errBlocked  = errors.New("task blocked")
	errNoReturn = errors.New("no return value")
)

// support says how completely a system call is implemented, gVisor-style,
// so the table documents itself.
type support uint8

const (
	supported support = iota
	partial
)

type syscallDef struct {
	fn      handler
	support support
	note    string
	// pathArg is the 1-based position of a path argument to show in
	// traces; 0 for none.
	pathArg int
}

type syscallEntry struct {
	name string
	syscallDef
}

// buildTable binds the architecture's numbers to the handlers by name.
func buildTable(a *arch.ABI) []syscallEntry {
	var n uint64
	for nr := range a.SyscallNames {
		n = max(n, nr+1)
	}
	table := make([]syscallEntry, n)
	for nr, name := range a.SyscallNames {
		table[nr] = syscallEntry{name: name}
		if d, ok := syscalls[name]; ok {
			table[nr].syscallDef = d
		}
	}
	return table
}

func errnoReturn(e abi.Errno) uint64 { return uint64(-int64(e)) }

// syscall serves the system call t stopped at.
func (k *Kernel) syscall(t *Task) {
	nr, raw := t.ctx.Syscall()
	k.current = t
	var e *syscallEntry
	if nr < uint64(len(k.table)) {
		e = &k.table[nr]
	}
	var ret uint64
	var err error
	if e == nil || e.fn == nil {
		name := fmt.Sprintf("syscall_%d", nr)
		if e != nil && e.name != "" {
			name = e.name
		}
		k.unsupported[name]++
		err = abi.ENOSYS
	} else {
		ret, err = e.fn(t, args(raw))
	}
	if len(k.asyncFiles) > 0 {
		// Signal-driven I/O: the call may have made a file readable.
		k.checkAsync()
	}
	if k.cfg.Trace != nil && err != errBlocked {
		k.trace(t, nr, e, raw, ret, err)
	}
	switch err {
	case errBlocked:
		return
	case errNoReturn:
		t.resume = nil
		return
	}
	t.resume = nil
	if err != nil {
		var errno abi.Errno
		if !errors.As(err, &errno) {
			errno = abi.EIO
		}
		ret = errnoReturn(errno)
	}
	t.ctx.SetReturn(ret)
	t.ctx.SkipSyscall()
}

func (k *Kernel) trace(t *Task, nr uint64, e *syscallEntry, a [6]uint64, ret uint64, err error) {
	var b strings.Builder
	name := fmt.Sprintf("syscall_%d", nr)
	pathArg := -1
	if e != nil && e.name != "" {
		name = e.name
		pathArg = e.pathArg - 1
	}
	fmt.Fprintf(&b, "[pid %d] %s(", t.tid, name)
	for i := 0; i < 6; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == pathArg && t.proc.mm != nil {
			if s, perr := t.proc.mm.readString(a[i], 256); perr == nil {
				fmt.Fprintf(&b, "%q", s)
				continue
			}
		}
		fmt.Fprintf(&b, "%#x", a[i])
	}
	b.WriteString(") = ")
	var errno abi.Errno
	switch {
	case err == errNoReturn:
		b.WriteString("?")
	case errors.As(err, &errno):
		fmt.Fprintf(&b, "-1 %s", errno.Name())
	case err != nil:
		fmt.Fprintf(&b, "-1 EIO (%v)", err)
	default:
		fmt.Fprintf(&b, "%#x", ret)
	}
	b.WriteString("\n")
	fmt.Fprint(k.cfg.Trace, b.String())
}

// Helpers shared by the handlers.

func (t *Task) mm() *MM { return t.proc.mm }

func (t *Task) readString(addr uint64) (string, error) {
	s, err := t.mm().readString(addr, vfs.PathMax-1)
	if err != nil {
		return "", err
	}
	return s, nil
}

func (t *Task) copyIn(addr uint64, b []byte) error  { return t.mm().copyIn(addr, b) }
func (t *Task) copyOut(addr uint64, b []byte) error { return t.mm().copyOut(addr, b) }

func (t *Task) readU64(addr uint64) (uint64, error) {
	var b [8]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return le.Uint64(b[:]), nil
}

func (t *Task) writeU32(addr uint64, v uint32) error {
	var b [4]byte
	le.PutUint32(b[:], v)
	return t.copyOut(addr, b[:])
}

func (t *Task) writeU64(addr uint64, v uint64) error {
	var b [8]byte
	le.PutUint64(b[:], v)
	return t.copyOut(addr, b[:])
}

var le = binary.LittleEndian

// fileOf returns the open file of descriptor fd with its description when
// it is a T (an epoll, timerfd, inotify, pidfd or socket file), and
// wrongType when it is something else.
func fileOf[T vfs.File](t *Task, fd uint64, wrongType error) (*vfs.Description, T, error) {
	var zero T
	d, err := t.fd(fd)
	if err != nil {
		return nil, zero, err
	}
	f, ok := d.File.(T)
	if !ok {
		return nil, zero, wrongType
	}
	return d, f, nil
}
