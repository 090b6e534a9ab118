package linux

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"strings"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"

	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// ELF constants used by the loader.
const (
	elfHeaderSize = 64
	phdrSize      = 56
	maxPhdrs      = 512
	ptLoad        = 1
	ptInterp      = 3
	ptPhdr        = 6
	etExec        = 2
	etDyn         = 3
	// maxScriptDepth bounds #! interpreter chains (Linux allows 4).
	maxScriptDepth = 4
	// maxArgBytes bounds argv+envp strings (Linux: a quarter of the
	// stack limit).
	maxArgBytes = stackLimit / 4
)

type phdr struct {
	typ, flags                       uint32
	off, vaddr, filesz, memsz, align uint64
}

// elfImage is a parsed executable or interpreter.
type elfImage struct {
	file   *vfs.Inode
	typ    uint16
	entry  uint64
	phoff  uint64
	phnum  int
	phdrs  []phdr
	interp string
}

// readFull reads up to size bytes of a file from offset off.
func readFull(n *vfs.Inode, off int64, size int) ([]byte, error) {
	buf := make([]byte, size)
	k, err := n.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:k], nil
}

// parseELF validates an ELF header and its program headers. Anything
// malformed is ENOEXEC, as the kernel reports it.
func (k *Kernel) parseELF(f *vfs.Inode, hdr []byte) (*elfImage, error) {
	le := binary.LittleEndian
	if len(hdr) < elfHeaderSize || string(hdr[:4]) != "\x7fELF" || hdr[4] != 2 || hdr[5] != 1 {
		return nil, abi.ENOEXEC
	}
	im := &elfImage{file: f, typ: le.Uint16(hdr[16:]), entry: le.Uint64(hdr[24:]), phoff: le.Uint64(hdr[32:])}
	if le.Uint16(hdr[18:]) != k.abi.ELFMachine || (im.typ != etExec && im.typ != etDyn) {
		return nil, abi.ENOEXEC
	}
	if le.Uint16(hdr[54:]) != phdrSize {
		return nil, abi.ENOEXEC
	}
	im.phnum = int(le.Uint16(hdr[56:]))
	if im.phnum == 0 || im.phnum > maxPhdrs || im.phoff > 1<<32 {
		return nil, abi.ENOEXEC
	}
	raw, err := readFull(f, int64(im.phoff), im.phnum*phdrSize)
	if err != nil {
		return nil, err
	}
	if len(raw) != im.phnum*phdrSize {
		return nil, abi.ENOEXEC
	}
	for i := 0; i < im.phnum; i++ {
		b := raw[i*phdrSize:]
		p := phdr{typ: le.Uint32(b), flags: le.Uint32(b[4:]), off: le.Uint64(b[8:]), vaddr: le.Uint64(b[16:]),
			filesz: le.Uint64(b[32:]), memsz: le.Uint64(b[40:]), align: le.Uint64(b[48:])}
		if p.typ == ptLoad {
			if p.filesz > p.memsz || p.vaddr >= addressTop || p.memsz >= addressTop || p.vaddr+p.memsz >= addressTop ||
				p.off > 1<<40 || p.vaddr&pageMask != p.off&pageMask {
				return nil, abi.ENOEXEC
			}
		}
		if p.typ == ptInterp {
			if p.filesz == 0 || p.filesz > vfs.PathMax {
				return nil, abi.ENOEXEC
			}
			s, err := readFull(f, int64(p.off), int(p.filesz))
			if err != nil || len(s) != int(p.filesz) {
				return nil, abi.ENOEXEC
			}
			im.interp = strings.TrimRight(string(s), "\x00")
		}
		im.phdrs = append(im.phdrs, p)
	}
	return im, nil
}

// loadSegments maps the PT_LOAD segments (an ET_DYN image at base) as
// demand-paged file mappings and returns the bias applied and the end of
// the highest segment.
func (k *Kernel) loadSegments(mm *MM, im *elfImage, base uint64, name string) (bias, end uint64, err error) {
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range im.phdrs {
		if p.typ == ptLoad && p.memsz > 0 {
			lo = min(lo, p.vaddr&^pageMask)
			hi = max(hi, p.vaddr+p.memsz)
		}
	}
	if hi == 0 {
		return 0, 0, abi.ENOEXEC
	}
	if im.typ == etDyn {
		bias = base - lo
		if hi-lo > addressTop-base {
			return 0, 0, abi.ENOMEM
		}
	}
	for _, p := range im.phdrs {
		if p.typ != ptLoad || p.memsz == 0 {
			continue
		}
		var prot uint32
		if p.flags&4 != 0 {
			prot |= abi.PROT_READ
		}
		if p.flags&2 != 0 {
			prot |= abi.PROT_WRITE
		}
		if p.flags&1 != 0 {
			prot |= abi.PROT_EXEC
		}
		start := (p.vaddr + bias) &^ pageMask
		fileEnd := p.vaddr + bias + p.filesz
		memEnd := (p.vaddr + bias + p.memsz + pageMask) &^ pageMask
		v := vma{start: start, end: memEnd, prot: prot, file: im.file, fileOff: int64(p.off - (p.vaddr + bias - start)), fileEnd: fileEnd, name: name}
		if err := mm.insert(v); err != nil {
			return 0, 0, err
		}
		end = max(end, p.vaddr+bias+p.memsz)
	}
	return bias, end, nil
}

// lookupExecutable resolves path for execve: a regular file with an
// execute bit.
func (k *Kernel) lookupExecutable(cwd *vfs.Inode, path string) (*vfs.Inode, error) {
	n, err := k.fs.Lookup(cwd, path, true)
	if err != nil {
		return nil, err
	}
	if !n.IsRegular() {
		return nil, abi.EACCES
	}
	if err := k.fs.Access(n, vfs.MayExec); err != nil {
		return nil, err
	}
	return n, nil
}

// exec replaces t's process image with the program at path, as execve
// does. On failure the old image is untouched.
func (k *Kernel) exec(t *Task, path string, argv, envv []string) error {
	p := t.proc
	var size int
	for _, s := range argv {
		size += len(s) + 1
	}
	for _, s := range envv {
		size += len(s) + 1
	}
	if size > maxArgBytes {
		return abi.E2BIG
	}
	execfn := path
	var f *vfs.Inode
	var hdr []byte
	for depth := 0; ; depth++ {
		var err error
		if f, err = k.lookupExecutable(p.fsc.cwd, path); err != nil {
			return err
		}
		if hdr, err = readFull(f, 0, 256); err != nil {
			return err
		}
		if len(hdr) < 2 || hdr[0] != '#' || hdr[1] != '!' {
			break
		}
		if depth == maxScriptDepth {
			return abi.ELOOP
		}
		interp, arg, ok := parseShebang(hdr)
		if !ok {
			return abi.ENOEXEC
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, path)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv, path = nargv, interp
	}
	im, err := k.parseELF(f, hdr)
	if err != nil {
		return err
	}
	// The credentials the new image runs with: a set-user-ID or
	// set-group-ID file changes them (committed below, once exec cannot
	// fail).
	cred := p.cred
	var secure uint64
	if cred.execSetID(f) {
		secure = 1
	}
	mm := newMM(k)
	fail := func(err error) error {
		mm.release()
		return err
	}
	bias, end, err := k.loadSegments(mm, im, pieBase, path)
	if err != nil {
		return fail(err)
	}
	entry := im.entry + bias
	var interpBias uint64
	if im.interp != "" {
		in, err := k.lookupExecutableInterp(im.interp)
		if err != nil {
			return fail(err)
		}
		ihdr, err := readFull(in, 0, elfHeaderSize)
		if err != nil {
			return fail(err)
		}
		iim, err := k.parseELF(in, ihdr)
		if err != nil || iim.interp != "" {
			return fail(abi.ENOEXEC)
		}
		if interpBias, _, err = k.loadSegments(mm, iim, interpBase, im.interp); err != nil {
			return fail(err)
		}
		entry = iim.entry + interpBias
	}
	brk := (end + pageMask) &^ pageMask
	mm.brkStart, mm.brk = brk, brk
	if err := mm.insert(vma{start: stackTop - stackLimit, end: stackTop, prot: abi.PROT_READ | abi.PROT_WRITE, name: "[stack]"}); err != nil {
		return fail(err)
	}
	if err := mm.insert(vma{start: vdsoAddr, end: vdsoAddr + pageSize, prot: abi.PROT_READ | abi.PROT_EXEC, name: "[vdso]"}); err != nil {
		return fail(err)
	}
	if err := mm.poke(vdsoAddr, k.abi.SigreturnCode); err != nil {
		return fail(err)
	}
	phdrAddr := uint64(0)
	for _, ph := range im.phdrs {
		if ph.typ == ptPhdr {
			phdrAddr = ph.vaddr + bias
		}
	}
	if phdrAddr == 0 {
		for _, ph := range im.phdrs {
			if ph.typ == ptLoad && im.phoff >= ph.off && im.phoff-ph.off < ph.filesz {
				phdrAddr = ph.vaddr + (im.phoff - ph.off) + bias
				break
			}
		}
	}
	auxv := []uint64{
		abi.AT_HWCAP, k.abi.HWCap,
		abi.AT_PAGESZ, pageSize,
		abi.AT_CLKTCK, 100,
		abi.AT_PHDR, phdrAddr,
		abi.AT_PHENT, phdrSize,
		abi.AT_PHNUM, uint64(im.phnum),
		abi.AT_BASE, interpBias,
		abi.AT_FLAGS, 0,
		abi.AT_ENTRY, im.entry + bias,
		abi.AT_UID, uint64(cred.ruid), abi.AT_EUID, uint64(cred.euid),
		abi.AT_GID, uint64(cred.rgid), abi.AT_EGID, uint64(cred.egid),
		abi.AT_SECURE, secure,
	}
	sp, err := buildStack(mm, argv, envv, execfn, k.abi.Platform, auxv)
	if err != nil {
		return fail(err)
	}

	// Past this point exec cannot fail: tear down the old image.
	for _, o := range p.threads {
		if o != t && !o.exited {
			o.exited = true
		}
	}
	p.threads = []*Task{t}
	p.cred = cred
	if p.mm != nil {
		p.mm.release()
	}
	p.mm = mm
	t.ctx.Exec(mm.mem, entry, sp)
	t.clearTID = 0
	t.altSP, t.altSize, t.altFlags = 0, 0, abi.SS_DISABLE
	if p.files.users > 1 {
		p.files.users--
		p.files = p.files.fork()
	}
	p.files.closeOnExec()
	if p.sig.users > 1 {
		p.sig.users--
		c := *p.sig
		c.users = 1
		p.sig = &c
	}
	for i := range p.sig.act {
		if p.sig.act[i].handler != abi.SIG_IGN {
			p.sig.act[i] = sigAction{}
		}
	}
	if real, err := k.fs.Realpath(p.fsc.cwd, path); err == nil {
		p.exe = real
	} else {
		p.exe = path
	}
	p.args, p.env = argv, envv
	p.comm = baseName(execfn)
	if p.vforkParent != nil {
		p.vforkParent = nil
	}
	return nil
}

func (k *Kernel) lookupExecutableInterp(path string) (*vfs.Inode, error) {
	n, err := k.fs.Lookup(k.fs.Root(), path, true)
	if err != nil {
		return nil, err
	}
	if !n.IsRegular() {
		return nil, abi.EACCES
	}
	// The interpreter is mapped, not executed: read permission suffices.
	if err := k.fs.Access(n, vfs.MayRead); err != nil {
		return nil, err
	}
	return n, nil
}

// parseShebang splits a "#!interpreter [arg]" line.
func parseShebang(hdr []byte) (interp, arg string, ok bool) {
	line := string(hdr[2:])
	nl := strings.IndexByte(line, '\n')
	if nl < 0 {
		if len(hdr) >= 256 {
			return "", "", false
		}
	} else {
		line = line[:nl]
	}
	line = strings.Trim(line, " \t\r")
	if line == "" {
		return "", "", false
	}
	interp, arg, _ = strings.Cut(strings.ReplaceAll(line, "\t", " "), " ")
	return interp, strings.Trim(arg, " "), true
}

// buildStack lays out the initial stack as the kernel's
// create_elf_tables does: the executable's name at the very top, then the
// environment and argument strings, 16 random bytes, then (16-byte
// aligned) argc, argv, envp and the auxiliary vector.
func buildStack(mm *MM, argv, envv []string, execfn, platform string, auxv []uint64) (uint64, error) {
	pos := uint64(stackTop) - 8
	putStr := func(s string) (uint64, error) {
		pos -= uint64(len(s) + 1)
		return pos, mm.poke(pos, append([]byte(s), 0))
	}
	execfnAddr, err := putStr(execfn)
	if err != nil {
		return 0, err
	}
	if platform != "" {
		addr, err := putStr(platform)
		if err != nil {
			return 0, err
		}
		auxv = append(auxv, abi.AT_PLATFORM, addr)
	}
	envAddrs := make([]uint64, len(envv))
	for i := len(envv) - 1; i >= 0; i-- {
		if envAddrs[i], err = putStr(envv[i]); err != nil {
			return 0, err
		}
	}
	argAddrs := make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		if argAddrs[i], err = putStr(argv[i]); err != nil {
			return 0, err
		}
	}
	pos &^= 15
	var random [16]byte
	rand.Read(random[:])
	pos -= 16
	randomAddr := pos
	if err := mm.poke(pos, random[:]); err != nil {
		return 0, err
	}
	auxv = append(auxv, abi.AT_RANDOM, randomAddr, abi.AT_EXECFN, execfnAddr, abi.AT_NULL, 0)
	words := make([]uint64, 0, 3+len(argv)+len(envv)+len(auxv))
	words = append(words, uint64(len(argv)))
	words = append(words, argAddrs...)
	words = append(words, 0)
	words = append(words, envAddrs...)
	words = append(words, 0)
	words = append(words, auxv...)
	sp := (pos - uint64(len(words))*8) &^ 15
	buf := make([]byte, len(words)*8)
	for i, w := range words {
		binary.LittleEndian.PutUint64(buf[i*8:], w)
	}
	return sp, mm.poke(sp, buf)
}
