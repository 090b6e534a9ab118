package linux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func readFileString(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

var rlimitNumbers = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC,
	"RLIMIT_RSS": unix.RLIMIT_RSS, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

// RlimitNumber resolves an rlimit type name from config.json.
func RlimitNumber(name string) (int, bool) {
	n, ok := rlimitNumbers[name]
	return n, ok
}

func setRlimits(rl []specs.POSIXRlimit) error {
	for _, r := range rl {
		n, ok := RlimitNumber(r.Type)
		if !ok {
			return fmt.Errorf("rlimit %s: unknown type", r.Type)
		}
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := unix.Prlimit(0, n, &lim, nil); err != nil {
			return fmt.Errorf("rlimit %s (soft %d, hard %d): %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}

func writeSysctls(sysctl map[string]string) error {
	for key, value := range sysctl {
		if strings.Contains(key, "..") || strings.ContainsAny(key, "\x00") {
			return fmt.Errorf("sysctl %q: invalid name", key)
		}
		path := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
		if err := os.WriteFile(path, []byte(value), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
		}
	}
	return nil
}

func setOOMScoreAdj(adj *int) error {
	if adj == nil {
		return nil
	}
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*adj)), 0); err != nil {
		return fmt.Errorf("oomScoreAdj %d: %w", *adj, err)
	}
	return nil
}

// switchUser sets groups, gid and uid; capabilities survive the uid change
// via PR_SET_KEEPCAPS and are set explicitly afterwards.
func switchUser(u specs.User) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keep capabilities across setuid: %w", err)
	}
	// Each credential change below is broadcast to every thread of the
	// process (signals and a round trip per thread), so changes that
	// would set what is already there are skipped: a container running as
	// root, the common case, needs none.
	groups := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		groups = append(groups, int(g))
	}
	if current, err := unix.Getgroups(); err != nil || !slices.Equal(current, groups) {
		if err := unix.Setgroups(groups); err != nil {
			// setgroups is denied in a user namespace with setgroups=deny;
			// that is only an error when groups were asked for.
			if len(groups) > 0 || !errors.Is(err, unix.EPERM) {
				return fmt.Errorf("setgroups %v: %w", groups, err)
			}
		}
	}
	if r, e, s := unix.Getresgid(); r != int(u.GID) || e != int(u.GID) || s != int(u.GID) {
		if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
			return fmt.Errorf("setgid %d: %w", u.GID, err)
		}
	}
	if r, e, s := unix.Getresuid(); r != int(u.UID) || e != int(u.UID) || s != int(u.UID) {
		if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
			return fmt.Errorf("setuid %d: %w", u.UID, err)
		}
	}
	if u.Umask != nil {
		unix.Umask(int(*u.Umask))
	}
	return nil
}

var personalityDomains = map[specs.LinuxPersonalityDomain]uintptr{
	specs.PerLinux:   0x0000,
	specs.PerLinux32: 0x0008,
}

func setPersonality(p *specs.LinuxPersonality) error {
	if p == nil {
		return nil
	}
	d, ok := personalityDomains[p.Domain]
	if !ok {
		return fmt.Errorf("personality: unknown domain %q", p.Domain)
	}
	if len(p.Flags) > 0 {
		return fmt.Errorf("personality: flags %v are not defined by the spec", p.Flags)
	}
	if _, _, errno := unix.Syscall(unix.SYS_PERSONALITY, d, 0, 0); errno != 0 {
		return fmt.Errorf("personality %s: %w", p.Domain, errno)
	}
	return nil
}

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther:    0,
	specs.SchedFIFO:     1,
	specs.SchedRR:       2,
	specs.SchedBatch:    3,
	specs.SchedISO:      4,
	specs.SchedIdle:     5,
	specs.SchedDeadline: 6,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork:  0x01,
	specs.SchedFlagReclaim:      0x02,
	specs.SchedFlagDLOverrun:    0x04,
	specs.SchedFlagKeepPolicy:   0x08,
	specs.SchedFlagKeepParams:   0x10,
	specs.SchedFlagUtilClampMin: 0x20,
	specs.SchedFlagUtilClampMax: 0x40,
}

// schedAttr is struct sched_attr (SCHED_ATTR_SIZE_VER1).
type schedAttr struct {
	size     uint32
	policy   uint32
	flags    uint64
	nice     int32
	priority uint32
	runtime  uint64
	deadline uint64
	period   uint64
	utilMin  uint32
	utilMax  uint32
}

// ValidateScheduler checks a process.scheduler section without applying it.
func ValidateScheduler(s *specs.Scheduler) error {
	if _, ok := schedPolicies[s.Policy]; !ok {
		return fmt.Errorf("unknown policy %q", s.Policy)
	}
	for _, f := range s.Flags {
		if _, ok := schedFlags[f]; !ok {
			return fmt.Errorf("unknown flag %q", f)
		}
	}
	if s.Nice < -20 || s.Nice > 19 {
		return fmt.Errorf("nice %d outside -20..19", s.Nice)
	}
	return nil
}

func setScheduler(s *specs.Scheduler) error {
	if s == nil {
		return nil
	}
	if err := ValidateScheduler(s); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	attr := schedAttr{
		policy:   schedPolicies[s.Policy],
		nice:     s.Nice,
		priority: uint32(s.Priority),
		runtime:  s.Runtime,
		deadline: s.Deadline,
		period:   s.Period,
	}
	attr.size = uint32(unsafe.Sizeof(attr))
	for _, f := range s.Flags {
		attr.flags |= schedFlags[f]
	}
	if _, _, errno := unix.Syscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(&attr)), 0); errno != 0 {
		return fmt.Errorf("sched_setattr policy %s: %w", s.Policy, errno)
	}
	return nil
}

var ioprioClasses = map[specs.IOPriorityClass]uintptr{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

// ValidateIOPriority checks a process.ioPriority section.
func ValidateIOPriority(p *specs.LinuxIOPriority) error {
	if _, ok := ioprioClasses[p.Class]; !ok {
		return fmt.Errorf("unknown class %q", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return fmt.Errorf("priority %d outside 0..7", p.Priority)
	}
	return nil
}

func setIOPriority(p *specs.LinuxIOPriority) error {
	if p == nil {
		return nil
	}
	if err := ValidateIOPriority(p); err != nil {
		return fmt.Errorf("ioPriority: %w", err)
	}
	const whoProcess = 1
	value := ioprioClasses[p.Class]<<13 | uintptr(p.Priority)
	if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, whoProcess, 0, value); errno != 0 {
		return fmt.Errorf("ioprio_set %s/%d: %w", p.Class, p.Priority, errno)
	}
	return nil
}

// lookPath resolves the program the way execvp would, with the container's
// PATH, after pivot_root.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := isExecutable(name); err != nil {
			return "", fmt.Errorf("exec %s: %w", name, err)
		}
		return name, nil
	}
	for _, dir := range filepath.SplitList(searchPath(env)) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec %s: executable file not found in $PATH", name)
}

// searchPath is the container's PATH, or execvp's default.
func searchPath(env []string) string {
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	return path
}

func isExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("is a directory")
	}
	if fi.Mode()&0o111 == 0 {
		return os.ErrPermission
	}
	return nil
}

// setupConsole creates a pty inside the container, makes its slave the
// controlling terminal and stdio, and sends the master over the console
// socket with SCM_RIGHTS.
func setupConsole(consoleFD int, size *specs.Box) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("console: open /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("console: unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("console: pty number: %w", err)
	}
	slavePath := "/dev/pts/" + strconv.Itoa(n)
	if size != nil {
		ws := &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)}
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("console: set size: %w", err)
		}
	}
	if err := unix.Sendmsg(consoleFD, []byte(slavePath), unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("console: send pty master: %w", err)
	}
	slave, err := unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("console: open %s: %w", slavePath, err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("console: dup pty to fd %d: %w", fd, err)
		}
	}
	if slave > 2 {
		unix.Close(slave)
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("console: set controlling terminal: %w", err)
	}
	unix.Close(consoleFD)
	return nil
}

// closeExtraFDs marks every fd above the preserved range close-on-exec so
// the runtime's own descriptors never reach the container.
func closeExtraFDs(preserve int) error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list fds: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3+preserve {
			continue
		}
		unix.CloseOnExec(fd)
	}
	return nil
}
