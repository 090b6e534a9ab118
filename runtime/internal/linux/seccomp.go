package linux

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// seccompActions maps the spec's action names to libseccomp actions; the
// errno-carrying actions get their return code applied in toAction.
var seccompActions = map[specs.LinuxSeccompAction]libseccomp.ScmpAction{
	specs.ActKill:        libseccomp.ActKillThread,
	specs.ActKillThread:  libseccomp.ActKillThread,
	specs.ActKillProcess: libseccomp.ActKillProcess,
	specs.ActTrap:        libseccomp.ActTrap,
	specs.ActErrno:       libseccomp.ActErrno,
	specs.ActTrace:       libseccomp.ActTrace,
	specs.ActAllow:       libseccomp.ActAllow,
	specs.ActLog:         libseccomp.ActLog,
	specs.ActNotify:      libseccomp.ActNotify,
}

var seccompOps = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// SeccompActionNames lists the supported actions, for `features`.
func SeccompActionNames() []string {
	var out []string
	for a := range seccompActions {
		out = append(out, string(a))
	}
	return out
}

// SeccompOperatorNames lists the supported operators, for `features`.
func SeccompOperatorNames() []string {
	var out []string
	for o := range seccompOps {
		out = append(out, string(o))
	}
	return out
}

func toAction(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	act, ok := seccompActions[a]
	if !ok {
		return 0, fmt.Errorf("unknown action %q", a)
	}
	switch act {
	case libseccomp.ActErrno:
		code := int16(unix.EPERM)
		if errnoRet != nil {
			code = int16(*errnoRet)
		}
		act = act.SetReturnCode(code)
	case libseccomp.ActTrace:
		if errnoRet != nil {
			act = act.SetReturnCode(int16(*errnoRet))
		}
	}
	return act, nil
}

// BuildSeccomp turns the spec's seccomp section into a libseccomp filter.
// The caller loads and releases it. It also serves create-time validation.
func BuildSeccomp(s *specs.LinuxSeccomp) (*libseccomp.ScmpFilter, error) {
	def, err := toAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	f, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("create filter: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Release()
		}
	}()
	// The runtime, not libseccomp, decides no_new_privs.
	if err := f.SetNoNewPrivsBit(false); err != nil {
		return nil, fmt.Errorf("clear filter no_new_privs attribute: %w", err)
	}
	for i, a := range s.Architectures {
		arch, err := libseccomp.GetArchFromString(strings.TrimPrefix(string(a), "SCMP_ARCH_"))
		if err != nil {
			return nil, fmt.Errorf("architectures[%d]: %w", i, err)
		}
		if err := f.AddArch(arch); err != nil {
			return nil, fmt.Errorf("architectures[%d] %s: %w", i, a, err)
		}
	}
	for i, flag := range s.Flags {
		switch flag {
		case specs.LinuxSeccompFlagLog:
			err = f.SetLogBit(true)
		case specs.LinuxSeccompFlagSpecAllow:
			err = f.SetSSB(true)
		case specs.LinuxSeccompFlagWaitKillableRecv:
			err = f.SetWaitKill(true)
		default:
			err = fmt.Errorf("unsupported flag %q", flag)
		}
		if err != nil {
			return nil, fmt.Errorf("flags[%d]: %w", i, err)
		}
	}
	for i, rule := range s.Syscalls {
		act, err := toAction(rule.Action, rule.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		var conds []libseccomp.ScmpCondition
		for j, a := range rule.Args {
			op, ok := seccompOps[a.Op]
			if !ok {
				return nil, fmt.Errorf("syscalls[%d].args[%d]: unknown operator %q", i, j, a.Op)
			}
			vals := []uint64{a.Value}
			if op == libseccomp.CompareMaskedEqual {
				vals = append(vals, a.ValueTwo)
			}
			c, err := libseccomp.MakeCondition(a.Index, op, vals...)
			if err != nil {
				return nil, fmt.Errorf("syscalls[%d].args[%d]: %w", i, j, err)
			}
			conds = append(conds, c)
		}
		for _, name := range rule.Names {
			call, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				// Profiles list syscalls of every architecture; a name
				// this one lacks is skipped as other runtimes do.
				continue
			}
			if act == def {
				continue
			}
			if err := addRule(f, call, act, conds); err != nil {
				return nil, fmt.Errorf("syscalls[%d] %s: %w", i, name, err)
			}
		}
	}
	ok = true
	return f, nil
}

// addRule adds one syscall rule. Conditions on distinct arguments are
// ANDed in one rule; libseccomp cannot AND two conditions on the same
// argument, and profiles use repeated arguments to mean "any of these
// values" (e.g. personality(0) or personality(8)), so those become one
// rule per condition.
func addRule(f *libseccomp.ScmpFilter, call libseccomp.ScmpSyscall, act libseccomp.ScmpAction, conds []libseccomp.ScmpCondition) error {
	if len(conds) == 0 {
		return f.AddRule(call, act)
	}
	seen := map[uint]bool{}
	repeated := false
	for _, c := range conds {
		repeated = repeated || seen[c.Argument]
		seen[c.Argument] = true
	}
	if !repeated {
		return f.AddRuleConditional(call, act, conds)
	}
	for _, c := range conds {
		if err := f.AddRuleConditional(call, act, []libseccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	return nil
}

// compiledSeccomp is a filter translated to BPF ahead of time, so that
// loading it needs no memory allocation: it is installed after the rlimits
// (a low RLIMIT_AS would make libseccomp's own allocations fail).
type compiledSeccomp struct {
	spec    *specs.LinuxSeccomp
	program []unix.SockFilter
	flags   uintptr
}

func compileSeccomp(s *specs.LinuxSeccomp) (*compiledSeccomp, error) {
	f, err := BuildSeccomp(s)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	defer f.Release()
	raw, err := exportBPF(f)
	if err != nil {
		return nil, fmt.Errorf("seccomp: compile filter: %w", err)
	}
	const insnSize = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(raw) == 0 || len(raw)%insnSize != 0 {
		return nil, fmt.Errorf("seccomp: compiled filter has %d bytes, not whole instructions", len(raw))
	}
	prog := make([]unix.SockFilter, len(raw)/insnSize)
	for i := range prog {
		b := raw[i*insnSize:]
		prog[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:]),
		}
	}
	c := &compiledSeccomp{spec: s, program: prog}
	for _, flag := range s.Flags {
		switch flag {
		case specs.LinuxSeccompFlagLog:
			c.flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			c.flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case specs.LinuxSeccompFlagWaitKillableRecv:
			c.flags |= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
		}
	}
	if UsesNotify(s) {
		c.flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	return c, nil
}

// exportBPF returns the filter's BPF program. It goes through a memfd
// because exporting to memory needs libseccomp 2.6, newer than Debian 12's.
func exportBPF(f *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd: %w", err)
	}
	file := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, err
	}
	if _, err := file.Seek(0, 0); err != nil {
		return nil, err
	}
	return io.ReadAll(file)
}

// syncThreads makes load install the filter on every thread of the
// process, for programs that run in it rather than replacing it.
func (c *compiledSeccomp) syncThreads() {
	c.flags |= unix.SECCOMP_FILTER_FLAG_TSYNC
	if c.flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		// Without it the kernel refuses TSYNC with a listener: both
		// report through the return value.
		c.flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
}

// load installs the filter on the calling thread, which is the one that
// executes the program. With a SCMP_ACT_NOTIFY rule it sends the listener
// fd over listener, a connection to listenerPath the runtime opened on the
// host (the path is not reachable from inside the container's mount
// namespace).
func (c *compiledSeccomp) load(state *specs.State, listener *os.File) error {
	prog := unix.SockFprog{Len: uint16(len(c.program)), Filter: &c.program[0]}
	fd, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, c.flags, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return fmt.Errorf("seccomp: load filter: %w", errno)
	}
	if c.flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
		return nil
	}
	defer unix.Close(int(fd))
	return sendSeccompListener(c.spec, state, int(fd), listener)
}

// UsesNotify reports whether the filter has a SCMP_ACT_NOTIFY rule.
func UsesNotify(s *specs.LinuxSeccomp) bool {
	for _, r := range s.Syscalls {
		if r.Action == specs.ActNotify {
			return true
		}
	}
	return false
}

// sendSeccompListener implements the spec's listenerPath protocol: one
// message carrying the container process state as JSON and the listener fd
// as SCM_RIGHTS.
func sendSeccompListener(s *specs.LinuxSeccomp, state *specs.State, fd int, listener *os.File) error {
	if listener == nil {
		return errors.New("seccomp: SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath")
	}
	ps := specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      os.Getpid(),
		Metadata: s.ListenerMetadata,
	}
	if state != nil {
		ps.State = *state
	}
	payload, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	if err := unix.Sendmsg(int(listener.Fd()), payload, unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("seccomp: send listener fd to %s: %w", s.ListenerPath, err)
	}
	return nil
}
