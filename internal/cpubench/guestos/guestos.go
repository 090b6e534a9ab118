// Package guestos is a deliberately small stand-in for the emulator's
// Linux layer, for testing and benchmarking the riscv64 CPU on its own: it
// loads a static riscv64 ELF executable and serves the system calls that
// static glibc, musl and Go programs make while starting up, computing and
// printing (write, exit, brk, anonymous mmap, threads through clone and
// futex, and harmless answers for signals, identity, time and
// randomness). Everything else fails with ENOSYS. It is not the product's
// Linux layer and makes no attempt at isolation beyond what the CPU and
// Memory types provide.
package guestos

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"sync"
	"time"

	"github.com/wasmrt/wasmrt/emulator/embed"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
)

// Address-space layout.
const (
	stackTop  = 0x3f_ffff_f000
	stackSize = 8 << 20
	mmapTop   = 0x20_0000_0000
)

// Linux errno values returned (negated) by system calls.
const (
	errENOENT    = 2
	errEBADF     = 9
	errEAGAIN    = 11
	errENOMEM    = 12
	errEINVAL    = 22
	errENOTTY    = 25
	errESPIPE    = 29
	errENOSYS    = 38
	errETIMEDOUT = 110
)

// Process is a loaded program and its threads.
type Process struct {
	Mem    *riscv64.Memory
	Stdout io.Writer
	Stderr io.Writer
	// Unsupported counts the system calls answered with ENOSYS, by number.
	Unsupported map[uint64]int

	threads  []*thread
	nextTID  int
	mmapNext uint64
	exited   bool
	code     int
}

type thread struct {
	cpu      *riscv64.CPU
	tid      int
	clearTID uint64 // CLONE_CHILD_CLEARTID / set_tid_address
	futex    uint64 // address waited on, 0 if runnable
	timeout  bool   // the wait has a timeout
	done     bool
}

// Load maps a static riscv64 executable and prepares its initial thread
// with the given arguments and environment, as execve does.
func Load(image []byte, argv, envv []string) (*Process, error) {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, fmt.Errorf("parse ELF: %w", err)
	}
	if f.Machine != elf.EM_RISCV || f.Class != elf.ELFCLASS64 {
		return nil, fmt.Errorf("ELF is %v %v, want a 64-bit RISC-V executable", f.Class, f.Machine)
	}
	if f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("ELF type %v: only static executables are supported", f.Type)
	}
	mem := riscv64.NewMemory()
	var end, phdr uint64
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			return nil, errors.New("dynamically linked executable: only static executables are supported")
		case elf.PT_PHDR:
			phdr = p.Vaddr
		case elf.PT_LOAD:
		default:
			continue
		}
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		if p.Filesz > p.Memsz {
			return nil, fmt.Errorf("segment at %#x: file size %d exceeds memory size %d", p.Vaddr, p.Filesz, p.Memsz)
		}
		start := p.Vaddr &^ (riscv64.PageSize - 1)
		var perm riscv64.Perm
		if p.Flags&elf.PF_R != 0 {
			perm |= riscv64.PermRead
		}
		if p.Flags&elf.PF_W != 0 {
			perm |= riscv64.PermWrite
		}
		if p.Flags&elf.PF_X != 0 {
			perm |= riscv64.PermExec
		}
		if err := mem.Map(start, p.Vaddr+p.Memsz-start, perm); err != nil {
			return nil, fmt.Errorf("segment at %#x: %w", p.Vaddr, err)
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return nil, fmt.Errorf("segment at %#x: %w", p.Vaddr, err)
		}
		if err := mem.Poke(p.Vaddr, data); err != nil {
			return nil, fmt.Errorf("segment at %#x: %w", p.Vaddr, err)
		}
		if p.Flags&elf.PF_X != 0 && start == p.Vaddr {
			markTranslated(mem, image, p.Vaddr, p.Off, p.Filesz)
		}
		if p.Off == 0 && phdr == 0 {
			phdr = p.Vaddr + 64 // program headers follow the ELF header
		}
		end = max(end, p.Vaddr+p.Memsz)
	}
	mem.SetBrk((end + riscv64.PageSize - 1) &^ (riscv64.PageSize - 1))

	if err := mem.Map(stackTop-stackSize, stackSize, riscv64.PermRead|riscv64.PermWrite); err != nil {
		return nil, err
	}
	sp, err := buildStack(mem, argv, envv, []uint64{
		3, phdr, // AT_PHDR
		4, 56, // AT_PHENT
		5, uint64(len(f.Progs)), // AT_PHNUM
		6, riscv64.PageSize, // AT_PAGESZ
		9, f.Entry, // AT_ENTRY
		11, 0, 12, 0, 13, 0, 14, 0, // AT_UID, AT_EUID, AT_GID, AT_EGID
		16, 0x112d, // AT_HWCAP: I, M, A, F, D, C
		17, 100, // AT_CLKTCK
		23, 0, // AT_SECURE
	})
	if err != nil {
		return nil, err
	}
	cpu := &riscv64.CPU{Mem: mem, PC: f.Entry}
	cpu.X[2] = sp
	p := &Process{Mem: mem, Stdout: io.Discard, Stderr: io.Discard, Unsupported: map[uint64]int{}, nextTID: 1001, mmapNext: mmapTop}
	p.threads = []*thread{{cpu: cpu, tid: 1000}}
	return p, nil
}

// buildStack lays out argc, argv, envp and the auxiliary vector (plus the
// strings and AT_RANDOM bytes they point to) below stackTop.
func buildStack(mem *riscv64.Memory, argv, envv []string, aux []uint64) (uint64, error) {
	pos := uint64(stackTop)
	push := func(b []byte) uint64 {
		pos -= uint64(len(b))
		return pos
	}
	var blob []byte
	addrs := func(list []string) []uint64 {
		var out []uint64
		for _, s := range list {
			blob = append([]byte(s+"\x00"), blob...)
			out = append(out, pos-uint64(len(blob)))
		}
		return out
	}
	argvAddrs := addrs(argv)
	envAddrs := addrs(envv)
	random := []byte("0123456789abcdef")
	blob = append(random, blob...)
	randomAddr := pos - uint64(len(blob))
	base := push(blob)
	if err := mem.WriteBytes(base, blob); err != nil {
		return 0, err
	}
	aux = append(aux, 25, randomAddr, 0, 0) // AT_RANDOM, AT_NULL
	words := []uint64{uint64(len(argv))}
	words = append(words, argvAddrs...)
	words = append(words, 0)
	words = append(words, envAddrs...)
	words = append(words, 0)
	words = append(words, aux...)
	sp := (pos - uint64(len(words))*8) &^ 15
	buf := make([]byte, len(words)*8)
	for i, w := range words {
		binary.LittleEndian.PutUint64(buf[i*8:], w)
	}
	return sp, mem.WriteBytes(sp, buf)
}

// Run runs the process until it exits and returns its exit status.
// budget bounds the total number of guest instructions.
func (p *Process) Run(budget uint64) (int, error) {
	const slice = 200_000
	var used uint64
	for !p.exited {
		progressed := false
		for i := 0; i < len(p.threads) && !p.exited; i++ {
			t := p.threads[i]
			if t.done || t.futex != 0 {
				continue
			}
			progressed = true
			before := t.cpu.Instret
			ex := t.cpu.Run(slice)
			used += t.cpu.Instret - before
			switch ex.Reason {
			case riscv64.ExitBudget:
			case riscv64.ExitEcall:
				p.syscall(t)
				if !t.done {
					t.cpu.PC += 4
				}
			default:
				return 0, fmt.Errorf("thread %d: %v", t.tid, ex)
			}
		}
		if used > budget {
			return 0, fmt.Errorf("instruction budget of %d exhausted", budget)
		}
		if !progressed {
			// Every thread waits: time out one timed wait, or deadlock.
			woke := false
			for _, t := range p.threads {
				if !t.done && t.futex != 0 && t.timeout {
					t.futex, t.cpu.X[10] = 0, neg(errETIMEDOUT)
					woke = true
					break
				}
			}
			if !woke {
				return 0, errors.New("deadlock: every thread waits on a futex")
			}
		}
	}
	return p.code, nil
}

// Instructions returns the number of instructions retired by all threads.
func (p *Process) Instructions() uint64 {
	var n uint64
	for _, t := range p.threads {
		n += t.cpu.Instret
	}
	return n
}

// TranslatedCalls counts the calls into translated code of all threads.
func (p *Process) TranslatedCalls() uint64 {
	var n uint64
	for _, t := range p.threads {
		n += t.cpu.TranslatedCalls
	}
	return n
}

func neg(errno int) uint64 { return uint64(-int64(errno)) }

func (p *Process) syscall(t *thread) {
	c := t.cpu
	a := c.X[10:16]
	ret := uint64(0)
	mem := p.Mem
	switch nr := c.X[17]; nr {
	case 64: // write
		ret = p.write(a[0], a[1], a[2])
	case 66: // writev
		var total uint64
		for i := uint64(0); i < a[2]; i++ {
			var iov [16]byte
			if mem.ReadBytes(a[1]+16*i, iov[:]) != nil {
				ret = neg(errEINVAL)
				break
			}
			r := p.write(a[0], binary.LittleEndian.Uint64(iov[:]), binary.LittleEndian.Uint64(iov[8:]))
			if int64(r) < 0 {
				total = r
				break
			}
			total += r
		}
		if ret == 0 {
			ret = total
		}
	case 63: // read: stdin is empty
		ret = 0
	case 93: // exit: this thread only
		t.done = true
		if t.clearTID != 0 {
			mem.WriteBytes(t.clearTID, make([]byte, 4))
			p.wake(t.clearTID, 1)
		}
		if p.allDone() {
			p.exited, p.code = true, int(int32(a[0]))
		}
	case 94: // exit_group
		t.done = true
		p.exited, p.code = true, int(int32(a[0]))
	case 96: // set_tid_address
		t.clearTID = a[0]
		ret = uint64(t.tid)
	case 98:
		ret = p.futex(t, a[0], a[1], a[2], a[3])
	case 99, 132, 134, 135, 129, 130, 131, 233, 25, 57, 101, 124:
		// set_robust_list, sigaltstack, rt_sigaction, rt_sigprocmask,
		// kill, tkill, tgkill, madvise, fcntl, close, nanosleep,
		// sched_yield: accepted without effect. Old signal actions and
		// masks read as empty.
		switch nr {
		case 134:
			zero(mem, a[2], 32)
		case 135:
			zero(mem, a[2], 8)
		}
	case 29: // ioctl: nothing is a terminal
		ret = neg(errENOTTY)
	case 62: // lseek
		ret = neg(errESPIPE)
	case 56, 48, 78: // openat, faccessat, readlinkat: no files
		ret = neg(errENOENT)
	case 80, 79: // fstat, newfstatat
		ret = neg(errEBADF)
	case 113: // clock_gettime
		now := time.Now()
		var ts [16]byte
		binary.LittleEndian.PutUint64(ts[:], uint64(now.Unix()))
		binary.LittleEndian.PutUint64(ts[8:], uint64(now.Nanosecond()))
		if mem.WriteBytes(a[1], ts[:]) != nil {
			ret = neg(errEINVAL)
		}
	case 123: // sched_getaffinity: one CPU
		zero(mem, a[2], a[1])
		mem.WriteBytes(a[2], []byte{1})
		ret = 8
	case 160: // uname
		var u [65 * 6]byte
		for i, s := range []string{"Linux", "guest", "6.1.0", "#1", "riscv64", "(none)"} {
			copy(u[i*65:], s)
		}
		if mem.WriteBytes(a[0], u[:]) != nil {
			ret = neg(errEINVAL)
		}
	case 163, 261: // getrlimit, prlimit64
		out := a[1]
		if nr == 261 {
			out = a[3]
		}
		if out != 0 {
			var rl [16]byte
			binary.LittleEndian.PutUint64(rl[:], stackSize)
			binary.LittleEndian.PutUint64(rl[8:], ^uint64(0))
			mem.WriteBytes(out, rl[:])
		}
	case 172, 173: // getpid, getppid
		ret = 1000
	case 174, 175, 176, 177: // uid, euid, gid, egid
		ret = 0
	case 178: // gettid
		ret = uint64(t.tid)
	case 214: // brk
		ret = mem.Brk(a[0], mmapTop-(1<<30))
	case 215: // munmap
		if mem.Unmap(a[0], (a[1]+riscv64.PageSize-1)&^(riscv64.PageSize-1)) != nil {
			ret = neg(errEINVAL)
		}
	case 222: // mmap
		ret = p.mmap(a[0], a[1], a[2], a[3], int64(a[4]))
	case 226: // mprotect
		if mem.Protect(a[0], (a[1]+riscv64.PageSize-1)&^(riscv64.PageSize-1), prot(a[2])) != nil {
			ret = neg(errENOMEM)
		}
	case 220: // clone
		ret = p.clone(t, a[0], a[1], a[2], a[3], a[4])
	case 278: // getrandom: deterministic bytes, for reproducible output
		buf := make([]byte, a[1])
		for i := range buf {
			buf[i] = byte(i*131 + 7)
		}
		if mem.WriteBytes(a[0], buf) != nil {
			ret = neg(errEINVAL)
		} else {
			ret = a[1]
		}
	default:
		p.Unsupported[nr]++
		ret = neg(errENOSYS)
	}
	c.X[10] = ret
}

func zero(mem *riscv64.Memory, addr, n uint64) {
	if addr != 0 && n < 1<<20 {
		mem.WriteBytes(addr, make([]byte, n))
	}
}

func prot(p uint64) riscv64.Perm {
	var perm riscv64.Perm
	if p&1 != 0 {
		perm |= riscv64.PermRead
	}
	if p&2 != 0 {
		perm |= riscv64.PermWrite | riscv64.PermRead
	}
	if p&4 != 0 {
		perm |= riscv64.PermExec
	}
	return perm
}

func (p *Process) write(fd, addr, n uint64) uint64 {
	var w io.Writer
	switch fd {
	case 1:
		w = p.Stdout
	case 2:
		w = p.Stderr
	default:
		return neg(errEBADF)
	}
	if n > 1<<26 {
		return neg(errEINVAL)
	}
	buf := make([]byte, n)
	if p.Mem.ReadBytes(addr, buf) != nil {
		return neg(errEINVAL) // EFAULT in Linux; this shim only reports failure
	}
	w.Write(buf)
	return n
}

func (p *Process) mmap(addr, length, protBits, flags uint64, fd int64) uint64 {
	const mapFixed, mapAnon = 0x10, 0x20
	if flags&mapAnon == 0 || length == 0 {
		return neg(errENOSYS)
	}
	length = (length + riscv64.PageSize - 1) &^ (riscv64.PageSize - 1)
	if flags&mapFixed == 0 {
		if length > p.mmapNext-(1<<32) {
			return neg(errENOMEM)
		}
		p.mmapNext -= length
		addr = p.mmapNext
	}
	var err error
	if flags&0x01 != 0 { // MAP_SHARED
		err = p.Mem.MapShared(addr, length, prot(protBits))
	} else {
		err = p.Mem.Map(addr, length, prot(protBits))
	}
	if err != nil {
		return neg(errEINVAL)
	}
	return addr
}

func (p *Process) clone(t *thread, flags, stack, ptid, tls, ctid uint64) uint64 {
	const (
		cloneVM            = 0x100
		cloneSetTLS        = 0x80000
		cloneParentSetTID  = 0x100000
		cloneChildClearTID = 0x200000
		cloneChildSetTID   = 0x1000000
	)
	if flags&cloneVM == 0 {
		return neg(errENOSYS) // fork is the real Linux layer's business
	}
	child := &thread{cpu: t.cpu.Fork(p.Mem), tid: p.nextTID}
	p.nextTID++
	child.cpu.PC += 4 // past the ecall
	child.cpu.X[10] = 0
	if stack != 0 {
		child.cpu.X[2] = stack
	}
	if flags&cloneSetTLS != 0 {
		child.cpu.X[4] = tls
	}
	var tid [4]byte
	binary.LittleEndian.PutUint32(tid[:], uint32(child.tid))
	if flags&cloneParentSetTID != 0 {
		p.Mem.WriteBytes(ptid, tid[:])
	}
	if flags&cloneChildSetTID != 0 {
		p.Mem.WriteBytes(ctid, tid[:])
	}
	if flags&cloneChildClearTID != 0 {
		child.clearTID = ctid
	}
	p.threads = append(p.threads, child)
	return uint64(child.tid)
}

func (p *Process) futex(t *thread, addr, op, val, timeout uint64) uint64 {
	switch op & 0x7f {
	case 0, 9: // FUTEX_WAIT, FUTEX_WAIT_BITSET
		var cur [4]byte
		if p.Mem.ReadBytes(addr, cur[:]) != nil {
			return neg(errEINVAL)
		}
		if binary.LittleEndian.Uint32(cur[:]) != uint32(val) {
			return neg(errEAGAIN)
		}
		t.futex, t.timeout = addr, timeout != 0
		return 0
	case 1, 10: // FUTEX_WAKE, FUTEX_WAKE_BITSET
		return uint64(p.wake(addr, int(val)))
	}
	return neg(errENOSYS)
}

func (p *Process) wake(addr uint64, n int) int {
	woken := 0
	for _, o := range p.threads {
		if woken < n && !o.done && o.futex == addr {
			o.futex = 0
			o.cpu.X[10] = 0
			woken++
		}
	}
	return woken
}

func (p *Process) allDone() bool {
	for _, t := range p.threads {
		if !t.done {
			return false
		}
	}
	return true
}

// ImageID is the identity of an executable in a translation index: the
// FNV-1a hash of its bytes, so that translated code is only ever used
// for the very file it was made from.
func ImageID(image []byte) uint64 {
	h := fnv.New64a()
	h.Write(image)
	return h.Sum64()
}

var (
	indexOnce sync.Once
	index     *riscv64.TranslationIndex
)

// translations returns the translation index embedded in the running
// module, if any.
func translations() *riscv64.TranslationIndex {
	indexOnce.Do(func() {
		b, ok := embed.Blob(riscv64.TranslationIndexBlob)
		if !ok {
			return
		}
		ix, err := riscv64.ParseTranslationIndex(b)
		if err != nil {
			panic(fmt.Sprintf("guestos: embedded %s: %v", riscv64.TranslationIndexBlob, err))
		}
		index = ix
	})
	return index
}

// markTranslated records the translated units of the pages of an
// executable segment mapped at vaddr (page aligned) from offset off.
func markTranslated(mem *riscv64.Memory, image []byte, vaddr, off, filesz uint64) {
	ix := translations()
	if ix.Len() == 0 {
		return
	}
	id := ImageID(image)
	// Only whole pages of file bytes: the rest of a partial page is
	// zeros here, file bytes for the translator.
	for k := uint64(0); k+riscv64.PageSize <= filesz; k += riscv64.PageSize {
		if tp := ix.Lookup(id, off+k); tp != nil {
			mem.SetTranslated(vaddr+k, tp)
		}
	}
}
