package linux

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// procLookup serves /proc and the absolute paths below it, generated on
// each lookup from the kernel's state: /proc/self and /proc/<pid> with exe,
// cwd, root, fd/N, maps, cmdline, comm, stat and status, plus cpuinfo,
// meminfo, uptime, loadavg and mounts. handled is false outside /proc.
func (k *Kernel) procLookup(path string, follow bool) (n *vfs.Inode, handled bool, err error) {
	t := k.current
	rest, found := strings.CutPrefix(path, "/proc")
	if t == nil || !found || (rest != "" && rest[0] != '/') {
		return nil, false, nil
	}
	rest = strings.Trim(rest, "/")
	first, sub, _ := strings.Cut(rest, "/")
	fs := k.fs
	if rest == "" {
		return k.procRoot(t), true, nil
	}
	if gen, ok := k.procGlobal(first); ok && sub == "" {
		return fs.SyntheticFile([]byte(gen)), true, nil
	}
	var p *Process
	switch first {
	case "self", "thread-self":
		p = t.proc
		if sub == "" && !follow {
			return fs.SyntheticLink(strconv.Itoa(p.pid)), true, nil
		}
	default:
		pid, perr := strconv.Atoi(first)
		if perr != nil {
			return nil, true, abi.ENOENT
		}
		if p = k.process(pid); p == nil {
			return nil, true, abi.ENOENT
		}
	}
	if sub == "" {
		return k.procPidDir(p), true, nil
	}
	if sub == "fd" {
		return k.procFDDir(p), true, nil
	}
	for name, dir := range map[string]func(*Process) *vfs.Inode{"fdinfo": k.procFDInfoDir, "task": k.procTaskDir} {
		if sub == name {
			return dir(p), true, nil
		}
		if inner, ok := strings.CutPrefix(sub, name+"/"); ok {
			n, err := fs.Lookup(dir(p), inner, follow)
			return n, true, err
		}
	}
	if fdName, ok := strings.CutPrefix(sub, "fd/"); ok {
		fd, perr := strconv.Atoi(fdName)
		if perr != nil {
			return nil, true, abi.ENOENT
		}
		d, derr := p.files.get(fd)
		if derr != nil {
			return nil, true, abi.ENOENT
		}
		if !follow {
			return fs.SyntheticLink(d.Path), true, nil
		}
		if n := d.File.Inode(); n != nil {
			return n, true, nil
		}
		return fs.SyntheticOpen(func() *vfs.Description { d.IncRef(); return d }), true, nil
	}
	if target, ok := k.procLink(p, sub); ok {
		if !follow {
			return fs.SyntheticLink(target), true, nil
		}
		n, err := fs.Lookup(fs.Root(), target, true)
		return n, true, err
	}
	if content, ok := k.procPidFile(p, sub); ok {
		return fs.SyntheticFile([]byte(content)), true, nil
	}
	return nil, true, abi.ENOENT
}

var procGlobalNames = []string{"cpuinfo", "loadavg", "meminfo", "mounts", "stat", "uptime"}

func (k *Kernel) procGlobal(name string) (string, bool) {
	switch name {
	case "cpuinfo":
		return "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc_zicsr_zifencei\nmmu\t\t: sv39\n\n", true
	case "meminfo":
		total := k.limit * pageSize / 1024
		free := (k.limit - min(k.resident, k.limit)) * pageSize / 1024
		return fmt.Sprintf("MemTotal:       %8d kB\nMemFree:        %8d kB\nMemAvailable:   %8d kB\n", total, free, free), true
	case "uptime":
		up := k.cfg.Clock().Sub(k.boot).Seconds()
		return fmt.Sprintf("%.2f %.2f\n", up, up), true
	case "mounts":
		return "rootfs / rootfs rw 0 0\nproc /proc proc rw 0 0\n", true
	case "loadavg":
		return fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", len(k.tasks), k.nextPID-1), true
	case "stat":
		// One hart that has been running guest code since boot: all of
		// the uptime is user time, in USER_HZ (100) ticks, as top and ps
		// read it.
		ticks := int64(k.cfg.Clock().Sub(k.boot).Seconds() * 100)
		cpu := fmt.Sprintf("%d 0 0 0 0 0 0 0 0 0", ticks)
		return fmt.Sprintf("cpu  %s\ncpu0 %s\nintr 0\nctxt 0\nbtime %d\nprocesses %d\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
			cpu, cpu, k.boot.Unix(), k.nextPID-1), true
	}
	return "", false
}

func (k *Kernel) procRoot(t *Task) *vfs.Inode {
	fs := k.fs
	entries := map[string]*vfs.Inode{"self": fs.SyntheticLink(strconv.Itoa(t.proc.pid))}
	for _, name := range procGlobalNames {
		s, _ := k.procGlobal(name)
		entries[name] = fs.SyntheticFile([]byte(s))
	}
	for _, p := range k.procList() {
		if !p.zombie {
			entries[strconv.Itoa(p.pid)] = k.procPidDir(p)
		}
	}
	return fs.SyntheticDir(fs.Root(), "proc", entries)
}

var procPidFiles = []string{"cmdline", "comm", "environ", "maps", "mountinfo", "mounts", "stat", "statm", "status"}

func (k *Kernel) procPidDir(p *Process) *vfs.Inode {
	fs := k.fs
	entries := map[string]*vfs.Inode{}
	for _, name := range procPidFiles {
		s, _ := k.procPidFile(p, name)
		entries[name] = fs.SyntheticFile([]byte(s))
	}
	for _, name := range []string{"exe", "cwd", "root"} {
		target, _ := k.procLink(p, name)
		entries[name] = fs.SyntheticLink(target)
	}
	entries["fd"] = k.procFDDir(p)
	entries["fdinfo"] = k.procFDInfoDir(p)
	entries["task"] = k.procTaskDir(p)
	return fs.SyntheticDir(fs.Root(), strconv.Itoa(p.pid), entries)
}

// procTaskDir is /proc/PID/task: one directory per thread, with the
// process's comm, stat and status (this layer keeps them per process).
func (k *Kernel) procTaskDir(p *Process) *vfs.Inode {
	entries := map[string]*vfs.Inode{}
	for _, t := range p.threads {
		files := map[string]*vfs.Inode{}
		for _, name := range []string{"comm", "stat", "status"} {
			s, _ := k.procPidFile(p, name)
			files[name] = k.fs.SyntheticFile([]byte(s))
		}
		entries[strconv.Itoa(t.tid)] = k.fs.SyntheticDir(k.fs.Root(), strconv.Itoa(t.tid), files)
	}
	return k.fs.SyntheticDir(k.fs.Root(), "task", entries)
}

// procFDInfoDir is /proc/PID/fdinfo: each descriptor's offset and flags.
func (k *Kernel) procFDInfoDir(p *Process) *vfs.Inode {
	entries := map[string]*vfs.Inode{}
	if p.files != nil {
		for fd, e := range p.files.fds {
			flags := e.d.Flags
			if e.cloexec {
				flags |= abi.O_CLOEXEC
			}
			var ino uint64
			if n := e.d.File.Inode(); n != nil {
				ino = n.Ino()
			}
			s := fmt.Sprintf("pos:\t%d\nflags:\t0%o\nmnt_id:\t1\nino:\t%d\n", e.d.Offset, flags, ino)
			entries[strconv.Itoa(fd)] = k.fs.SyntheticFile([]byte(s))
		}
	}
	return k.fs.SyntheticDir(k.fs.Root(), "fdinfo", entries)
}

// memoryUse returns the bytes p's mappings span and the pages it has
// resident, for /proc/PID/stat, statm and status.
func (p *Process) memoryUse() (vsize, residentPages uint64) {
	if p.mm == nil {
		return 0, 0
	}
	for _, v := range p.mm.vmas {
		vsize += v.end - v.start
	}
	return vsize, p.mm.resident
}

// procState is the state letter of /proc/PID/stat and status: zombie,
// stopped, sleeping when every thread waits, else running.
func procState(p *Process) (byte, string) {
	switch {
	case p.zombie:
		return 'Z', "zombie"
	case p.stopped:
		return 'T', "stopped"
	}
	for _, t := range p.threads {
		if t.blocked == nil {
			return 'R', "running"
		}
	}
	return 'S', "sleeping"
}

func (k *Kernel) procFDDir(p *Process) *vfs.Inode {
	entries := map[string]*vfs.Inode{}
	if p.files != nil {
		for fd, e := range p.files.fds {
			entries[strconv.Itoa(fd)] = k.fs.SyntheticLink(e.d.Path)
		}
	}
	return k.fs.SyntheticDir(k.fs.Root(), "fd", entries)
}

func (k *Kernel) procLink(p *Process, name string) (string, bool) {
	switch name {
	case "exe":
		return p.exe, true
	case "cwd":
		return p.fsc.cwd.Path(), true
	case "root":
		return "/", true
	}
	return "", false
}

func (k *Kernel) procPidFile(p *Process, name string) (string, bool) {
	ppid := 0
	if p.parent != nil {
		ppid = p.parent.pid
	}
	comm := p.comm
	if len(comm) > 15 {
		comm = comm[:15]
	}
	switch name {
	case "maps":
		if p.mm == nil {
			return "", true
		}
		return p.mm.mapsText(), true
	case "cmdline":
		if len(p.args) == 0 {
			return "", true
		}
		return strings.Join(p.args, "\x00") + "\x00", true
	case "environ":
		if len(p.env) == 0 {
			return "", true
		}
		return strings.Join(p.env, "\x00") + "\x00", true
	case "mounts":
		s, _ := k.procGlobal("mounts")
		return s, true
	case "mountinfo":
		return "1 0 0:1 / / rw - rootfs rootfs rw\n2 1 0:2 / /proc rw,nosuid,nodev,noexec - proc proc rw\n", true
	case "statm":
		vsize, rss := p.memoryUse()
		return fmt.Sprintf("%d %d 0 0 0 0 0\n", vsize/pageSize, rss), true
	case "comm":
		return comm + "\n", true
	case "stat":
		vsize, rss := p.memoryUse()
		state, _ := procState(p)
		self, children := p.cpu(), p.cpuChildren
		return fmt.Sprintf("%d (%s) %c %d %d %d 0 -1 4194560 0 0 0 0 %d %d %d %d 20 0 %d 0 %d %d %d 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
			p.pid, comm, state, ppid, p.pgid, p.sid,
			clockTicks(self.user), clockTicks(self.sys), clockTicks(children.user), clockTicks(children.sys),
			len(p.threads), clockTicks(p.started.Sub(k.boot)), vsize, rss), true
	case "status":
		c := &p.cred
		groups := make([]string, len(c.groups))
		for i, g := range c.groups {
			groups[i] = strconv.FormatUint(uint64(g), 10)
		}
		state, stateName := procState(p)
		vsize, rss := p.memoryUse()
		var blocked, threadPending abi.SigSet
		if len(p.threads) > 0 {
			blocked, threadPending = p.threads[0].mask, p.threads[0].pending
		}
		var ignored, caught abi.SigSet
		if p.sig != nil {
			for sig := 1; sig <= abi.NSIG; sig++ {
				switch p.sig.act[sig].handler {
				case abi.SIG_DFL:
				case abi.SIG_IGN:
					ignored |= abi.Bit(sig)
				default:
					caught |= abi.Bit(sig)
				}
			}
		}
		return fmt.Sprintf("Name:\t%s\nUmask:\t%04o\nState:\t%c (%s)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n"+
			"Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nGroups:\t%s\n"+
			"VmSize:\t%8d kB\nVmRSS:\t%8d kB\nThreads:\t%d\n"+
			"SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n"+
			"Cpus_allowed:\t1\nCpus_allowed_list:\t0\n",
			comm, p.fsc.umask, state, stateName, p.pid, p.pid, ppid,
			c.ruid, c.euid, c.suid, c.fsuid, c.rgid, c.egid, c.sgid, c.fsgid, strings.Join(groups, " "),
			vsize/1024, rss*pageSize/1024, len(p.threads),
			uint64(threadPending), uint64(p.pending), uint64(blocked), uint64(ignored), uint64(caught)), true
	}
	return "", false
}
