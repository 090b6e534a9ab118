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

var procPidFiles = []string{"cmdline", "comm", "maps", "stat", "status"}

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
	return fs.SyntheticDir(fs.Root(), strconv.Itoa(p.pid), entries)
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
	case "comm":
		return comm + "\n", true
	case "stat":
		var vsize, rss uint64
		if p.mm != nil {
			for _, v := range p.mm.vmas {
				vsize += v.end - v.start
			}
			rss = p.mm.resident
		}
		return fmt.Sprintf("%d (%s) R %d %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 %d 0 0 %d %d 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
			p.pid, comm, ppid, p.pgid, p.sid, len(p.threads), vsize, rss), true
	case "status":
		c := &p.cred
		groups := make([]string, len(c.groups))
		for i, g := range c.groups {
			groups[i] = strconv.FormatUint(uint64(g), 10)
		}
		return fmt.Sprintf("Name:\t%s\nState:\tR (running)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nGroups:\t%s\nThreads:\t%d\n",
			comm, p.pid, p.pid, ppid, c.ruid, c.euid, c.suid, c.fsuid, c.rgid, c.egid, c.sgid, c.fsgid,
			strings.Join(groups, " "), len(p.threads)), true
	}
	return "", false
}
