package linux

import (
	"math/bits"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// signalfd(2): a descriptor from which the signals of a mask that are
// pending for the reading thread (its own or its process's) are read as
// struct signalfd_siginfo instead of being delivered; programs block them
// first. Readiness, like a read, is that of the task asking (the one the
// kernel is serving), as on Linux.

const signalfdInfoSize = 128

type signalFile struct {
	anonFile
	k    *Kernel
	mask abi.SigSet
}

// pending returns the signals of the mask pending for the task being
// served.
func (f *signalFile) pending() (abi.SigSet, *Task) {
	t := f.k.current
	if t == nil {
		return 0, nil
	}
	return (t.pending | t.proc.pending) & f.mask, t
}

func (f *signalFile) Read(p []byte, _ int64) (int, error) {
	if len(p) < signalfdInfoSize {
		return 0, abi.EINVAL
	}
	n := 0
	for n+signalfdInfoSize <= len(p) {
		set, t := f.pending()
		if set == 0 {
			break
		}
		sig := bits.TrailingZeros64(uint64(set)) + 1
		info := t.take(sig)
		b := p[n : n+signalfdInfoSize]
		clear(b)
		le.PutUint32(b[0:], uint32(sig))
		le.PutUint32(b[8:], uint32(info.code))
		le.PutUint32(b[12:], uint32(info.pid))
		le.PutUint32(b[16:], info.uid)
		if info.poll {
			le.PutUint32(b[20:], uint32(info.fd))
			le.PutUint32(b[28:], uint32(info.band))
		}
		le.PutUint32(b[40:], uint32(info.status))
		le.PutUint32(b[44:], uint32(info.value))
		le.PutUint64(b[48:], info.value)
		le.PutUint64(b[72:], info.addr)
		n += signalfdInfoSize
	}
	if n == 0 {
		return 0, vfs.ErrWouldBlock
	}
	return n, nil
}

func (f *signalFile) Poll() uint32 {
	if set, _ := f.pending(); set != 0 {
		return abi.POLLIN
	}
	return 0
}

func sysSignalfd4(t *Task, a args) (uint64, error) {
	fd, flags := int32(a[0]), a[3]
	if a[2] != 8 || flags&^uint64(abi.O_NONBLOCK|abi.O_CLOEXEC) != 0 {
		return 0, abi.EINVAL
	}
	v, err := t.readU64(a[1])
	if err != nil {
		return 0, err
	}
	// SIGKILL and SIGSTOP cannot be taken this way; Linux drops them.
	mask := abi.SigSet(v) &^ (abi.Bit(abi.SIGKILL) | abi.Bit(abi.SIGSTOP))
	if fd != -1 {
		d, err := t.fd(uint64(uint32(fd)))
		if err != nil {
			return 0, err
		}
		f, ok := d.File.(*signalFile)
		if !ok {
			return 0, abi.EINVAL
		}
		f.mask = mask
		return uint64(fd), nil
	}
	d := vfs.NewDescription(&signalFile{k: t.k, mask: mask}, abi.O_RDONLY|uint32(flags)&abi.O_NONBLOCK, "anon_inode:[signalfd]")
	nfd, err := t.proc.files.alloc(d, 0, flags&abi.O_CLOEXEC != 0)
	return uint64(nfd), err
}
