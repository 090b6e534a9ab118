package linux

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/runtime/internal/threads"
)

// capabilityNumbers maps the names used in config.json to the kernel's
// capability numbers (linux/capability.h). Names outside this table are
// rejected at create time rather than silently ignored.
var capabilityNumbers = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// CapabilityNames lists every known capability name, for `features`.
func CapabilityNames() []string {
	names := make([]string, len(capabilityNumbers))
	for name, n := range capabilityNumbers {
		names[n] = name
	}
	return names
}

// CapabilityNumber resolves a capability name; the CAP_ prefix is required
// as in the spec, but matching is case-insensitive like other runtimes.
func CapabilityNumber(name string) (uint, bool) {
	n, ok := capabilityNumbers[strings.ToUpper(name)]
	return n, ok
}

// lastCap is the highest capability the running kernel knows.
func lastCap() uint {
	b, err := readFileString("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	var n uint
	if _, err := fmt.Sscanf(b, "%d", &n); err != nil {
		return 40
	}
	return n
}

type capSet [2]uint32

func toSet(names []string, limit uint) (capSet, error) {
	var s capSet
	for _, name := range names {
		n, ok := CapabilityNumber(name)
		if !ok {
			return s, fmt.Errorf("unknown capability %q", name)
		}
		if n > limit {
			// Known to the spec but not to this kernel: nothing to grant.
			continue
		}
		s[n/32] |= 1 << (n % 32)
	}
	return s, nil
}

func (s capSet) has(n uint) bool { return s[n/32]&(1<<(n%32)) != 0 }

// dropBoundingSet removes from the bounding set every capability not listed.
// It must run while the process still holds CAP_SETPCAP, i.e. before the
// user switch.
func dropBoundingSet(c *specs.LinuxCapabilities) error {
	if c == nil {
		c = &specs.LinuxCapabilities{}
	}
	last := lastCap()
	keep, err := toSet(c.Bounding, last)
	if err != nil {
		return fmt.Errorf("bounding set: %w", err)
	}
	for n := uint(0); n <= last; n++ {
		if keep.has(n) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop capability %d from the bounding set: %w", n, err)
		}
	}
	return nil
}

// applyCapabilities sets the effective, permitted and inheritable sets, then
// raises the ambient set (which requires the capability to be permitted and
// inheritable).
func applyCapabilities(c *specs.LinuxCapabilities) error {
	if c == nil {
		c = &specs.LinuxCapabilities{}
	}
	last := lastCap()
	eff, err := toSet(c.Effective, last)
	if err != nil {
		return fmt.Errorf("effective set: %w", err)
	}
	perm, err := toSet(c.Permitted, last)
	if err != nil {
		return fmt.Errorf("permitted set: %w", err)
	}
	inh, err := toSet(c.Inheritable, last)
	if err != nil {
		return fmt.Errorf("inheritable set: %w", err)
	}
	amb, err := toSet(c.Ambient, last)
	if err != nil {
		return fmt.Errorf("ambient set: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: eff[0], Permitted: perm[0], Inheritable: inh[0]},
		{Effective: eff[1], Permitted: perm[1], Inheritable: inh[1]},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for n := uint(0); n <= last; n++ {
		if !amb.has(n) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(n), 0, 0); err != nil {
			return fmt.Errorf("raise ambient capability %d (it must also be permitted and inheritable): %w", n, err)
		}
	}
	return nil
}

// restrictOtherThreads brings every other thread of the process within the
// capability sets c gives the program (see package threads): for programs
// that run in this process, on this thread, instead of replacing it.
func restrictOtherThreads(c *specs.LinuxCapabilities) error {
	if c == nil {
		c = &specs.LinuxCapabilities{}
	}
	last := lastCap()
	t := threads.Target{LastCap: int(last)}
	for _, set := range []struct {
		names []string
		dst   *uint64
	}{{c.Bounding, &t.Bounding}, {c.Permitted, &t.Permitted}, {c.Effective, &t.Effective}, {c.Inheritable, &t.Inheritable}} {
		s, err := toSet(set.names, last)
		if err != nil {
			return err
		}
		*set.dst = uint64(s[0]) | uint64(s[1])<<32
	}
	if err := threads.Restrict(t); err != nil {
		return fmt.Errorf("restrict the runtime's other threads: %w", err)
	}
	return nil
}
