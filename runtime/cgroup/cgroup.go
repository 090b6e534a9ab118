package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	_ "github.com/opencontainers/cgroups/devices" // registers device-rule support for v1 and v2
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/cgroups/manager"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Manager is a container's cgroup.
type Manager struct {
	m   cgroups.Manager
	res *cgroups.Resources
}

// Path resolves the spec's cgroupsPath: absolute paths are taken from the
// hierarchy root, relative ones below the runtime's own cgroup (done by the
// library), and an empty one becomes /wasmrt/<id>. With systemd naming,
// "slice:prefix:name" becomes the cgroupfs path systemd would use for that
// scope, /<expanded slice>/<prefix>-<name>.scope.
func Path(cgroupsPath, id string, systemd bool) (string, error) {
	if systemd {
		if cgroupsPath == "" {
			cgroupsPath = "system.slice:wasmrt:" + id
		}
		parts := strings.Split(cgroupsPath, ":")
		if len(parts) != 3 {
			return "", fmt.Errorf("linux.cgroupsPath %q: with --systemd-cgroup it must be slice:prefix:name", cgroupsPath)
		}
		slice, err := expandSlice(parts[0])
		if err != nil {
			return "", fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
		}
		scope := parts[2] + ".scope"
		if parts[1] != "" {
			scope = parts[1] + "-" + scope
		}
		return slice + "/" + scope, nil
	}
	if cgroupsPath == "" {
		return "/wasmrt/" + id, nil
	}
	return cgroupsPath, nil
}

// expandSlice turns "a-b.slice" into "/a.slice/a-b.slice" (systemd's slice
// nesting); the empty slice is system.slice.
func expandSlice(slice string) (string, error) {
	if slice == "" {
		slice = "system.slice"
	}
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%q is not a slice name", slice)
	}
	if name == "-" {
		return "", nil
	}
	path := ""
	prefix := ""
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			return "", fmt.Errorf("%q is not a slice name", slice)
		}
		prefix += part
		path += "/" + prefix + ".slice"
		prefix += "-"
	}
	return path, nil
}

// New returns the manager for a new container without touching the
// hierarchy yet.
func New(id string, linux *specs.Linux, systemd bool) (*Manager, error) {
	var res *specs.LinuxResources
	var devs []specs.LinuxDevice
	path := ""
	if linux != nil {
		res = linux.Resources
		devs = linux.Devices
		path = linux.CgroupsPath
	}
	r, err := Resources(res, devs)
	if err != nil {
		return nil, err
	}
	p, err := Path(path, id, systemd)
	if err != nil {
		return nil, err
	}
	cfg := &cgroups.Cgroup{Path: p, Resources: r}
	m, err := manager.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", cfg.Path, err)
	}
	return &Manager{m: m, res: r}, nil
}

// Load returns the manager for an existing container's cgroup paths.
func Load(paths map[string]string) (*Manager, error) {
	if len(paths) == 0 {
		return nil, errors.New("container has no recorded cgroup")
	}
	cfg := &cgroups.Cgroup{Resources: &cgroups.Resources{}}
	m, err := manager.NewWithPaths(cfg, paths)
	if err != nil {
		return nil, fmt.Errorf("load cgroup %v: %w", paths, err)
	}
	return &Manager{m: m}, nil
}

// Create makes the cgroup and sets its limits before any process joins
// it, so that the container's first process can be started inside it.
func (c *Manager) Create() error {
	if err := c.m.Apply(-1); err != nil {
		return fmt.Errorf("create cgroup: %w", err)
	}
	// The v1 manager ignores a nil argument, so pass the limits explicitly.
	if err := c.m.Set(c.res); err != nil {
		return fmt.Errorf("set cgroup limits: %w", err)
	}
	return nil
}

// OpenUnified opens the cgroup's directory on a host with only the unified
// (v2) hierarchy, for starting a process directly inside it with
// clone3(CLONE_INTO_CGROUP). Moving a running process by writing
// cgroup.procs takes the kernel's cgroup thread-group lock for writing,
// which waits for an RCU grace period: milliseconds per container. It
// returns nil, nil on a v1 or hybrid host, where only AddPid works.
func (c *Manager) OpenUnified() (*os.File, error) {
	if !cgroups.IsCgroup2UnifiedMode() {
		return nil, nil
	}
	dir := c.m.Path("")
	if dir == "" {
		return nil, nil
	}
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	return f, nil
}

// AddPid adds pid to the existing cgroup (for exec).
func (c *Manager) AddPid(pid int) error {
	for _, p := range c.m.GetPaths() {
		if err := cgroups.WriteCgroupProc(p, pid); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("add pid %d to cgroup %s: %w", pid, p, err)
		}
	}
	return nil
}

// Update applies new limits to a running container; devices are the
// container's linux.devices, which stay allowed.
func (c *Manager) Update(res *specs.LinuxResources, devices []specs.LinuxDevice) error {
	r, err := Resources(res, devices)
	if err != nil {
		return err
	}
	if err := c.m.Set(r); err != nil {
		return fmt.Errorf("update cgroup limits: %w", err)
	}
	return nil
}

// Paths is what the state file records to find the cgroup again.
func (c *Manager) Paths() map[string]string { return c.m.GetPaths() }

// Pids lists every process in the cgroup and its children.
func (c *Manager) Pids() ([]int, error) { return c.m.GetAllPids() }

// Freeze pauses (true) or resumes (false) every process in the cgroup.
func (c *Manager) Freeze(frozen bool) error {
	state := cgroups.Thawed
	if frozen {
		state = cgroups.Frozen
	}
	if err := c.m.Freeze(state); err != nil {
		return fmt.Errorf("set freezer to %s: %w", state, err)
	}
	return nil
}

// Frozen reports whether the cgroup is frozen.
func (c *Manager) Frozen() bool {
	s, err := c.m.GetFreezerState()
	return err == nil && s == cgroups.Frozen
}

// Stats returns the controllers' statistics.
func (c *Manager) Stats() (*cgroups.Stats, error) { return c.m.GetStats() }

// OOMKills counts the processes the kernel's OOM killer has killed in the
// cgroup: oom_kill in memory.oom_control (v1) or memory.events (v2).
func (c *Manager) OOMKills() (uint64, error) {
	paths := c.m.GetPaths()
	file := filepath.Join(paths["memory"], "memory.oom_control")
	if paths["memory"] == "" || cgroups.IsCgroup2UnifiedMode() {
		file = filepath.Join(paths[""], "memory.events")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s has no oom_kill count", file)
}

// Destroy removes the cgroup; processes must be gone.
func (c *Manager) Destroy() error {
	if err := c.m.Destroy(); err != nil {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	return nil
}

// Exists reports whether any of the cgroup's directories remains.
func Exists(paths map[string]string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// allowedByDefault are the device rules every container gets after the
// config's own (matching the default devices created in /dev, plus ptys).
var allowedByDefault = []*devices.Rule{
	{Type: devices.CharDevice, Major: 1, Minor: 3, Permissions: "rwm", Allow: true},                  // null
	{Type: devices.CharDevice, Major: 1, Minor: 5, Permissions: "rwm", Allow: true},                  // zero
	{Type: devices.CharDevice, Major: 1, Minor: 7, Permissions: "rwm", Allow: true},                  // full
	{Type: devices.CharDevice, Major: 1, Minor: 8, Permissions: "rwm", Allow: true},                  // random
	{Type: devices.CharDevice, Major: 1, Minor: 9, Permissions: "rwm", Allow: true},                  // urandom
	{Type: devices.CharDevice, Major: 5, Minor: 0, Permissions: "rwm", Allow: true},                  // tty
	{Type: devices.CharDevice, Major: 5, Minor: 2, Permissions: "rwm", Allow: true},                  // ptmx
	{Type: devices.CharDevice, Major: 136, Minor: devices.Wildcard, Permissions: "rwm", Allow: true}, // pts
}

// Resources converts the spec's resources to the library's. Device rules
// are: deny everything, then the config's rules, then allow the default
// devices and every device listed in linux.devices (the spec requires them
// to be usable in the container). A nil input still yields those device
// rules, as a container without resources must not reach host devices.
func Resources(r *specs.LinuxResources, created []specs.LinuxDevice) (*cgroups.Resources, error) {
	out := &cgroups.Resources{}
	out.Devices = append(out.Devices, &devices.Rule{Type: devices.WildcardDevice, Major: devices.Wildcard, Minor: devices.Wildcard, Permissions: "rwm", Allow: false})
	allowCreated := func() {
		out.Devices = append(out.Devices, allowedByDefault...)
		for _, d := range created {
			t := devices.CharDevice
			switch d.Type {
			case "b":
				t = devices.BlockDevice
			case "p":
				continue // FIFOs are not subject to the device cgroup
			}
			out.Devices = append(out.Devices, &devices.Rule{Type: t, Major: d.Major, Minor: d.Minor, Permissions: "rwm", Allow: true})
		}
	}
	if r == nil {
		allowCreated()
		return out, nil
	}
	for i, d := range r.Devices {
		t := devices.WildcardDevice
		switch d.Type {
		case "", "a":
		case "c":
			t = devices.CharDevice
		case "b":
			t = devices.BlockDevice
		default:
			return nil, fmt.Errorf("linux.resources.devices[%d].type: unknown device type %q", i, d.Type)
		}
		rule := &devices.Rule{Type: t, Major: devices.Wildcard, Minor: devices.Wildcard, Permissions: devices.Permissions(d.Access), Allow: d.Allow}
		if d.Major != nil {
			rule.Major = *d.Major
		}
		if d.Minor != nil {
			rule.Minor = *d.Minor
		}
		if strings.Trim(d.Access, "rwm") != "" {
			return nil, fmt.Errorf("linux.resources.devices[%d].access: %q is not a combination of r, w and m", i, d.Access)
		}
		if rule.Permissions == "" {
			rule.Permissions = "rwm"
		}
		out.Devices = append(out.Devices, rule)
	}
	allowCreated()
	if m := r.Memory; m != nil {
		setI64(&out.Memory, m.Limit)
		setI64(&out.MemoryReservation, m.Reservation)
		setI64(&out.MemorySwap, m.Swap)
		out.MemorySwappiness = m.Swappiness
		if m.DisableOOMKiller != nil {
			out.OomKillDisable = *m.DisableOOMKiller
		}
		if m.CheckBeforeUpdate != nil {
			out.MemoryCheckBeforeUpdate = *m.CheckBeforeUpdate
		}
	}
	if c := r.CPU; c != nil {
		setU64(&out.CpuShares, c.Shares)
		setI64(&out.CpuQuota, c.Quota)
		setU64(&out.CpuPeriod, c.Period)
		out.CpuBurst = c.Burst
		setI64(&out.CpuRtRuntime, c.RealtimeRuntime)
		setU64(&out.CpuRtPeriod, c.RealtimePeriod)
		out.CpusetCpus = c.Cpus
		out.CpusetMems = c.Mems
		out.CPUIdle = c.Idle
		if out.CpuShares != 0 && cgroups.IsCgroup2UnifiedMode() {
			out.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(out.CpuShares)
		}
	}
	if p := r.Pids; p != nil {
		limit := p.Limit
		if limit == nil {
			limit = new(int64)
		}
		if *limit <= 0 {
			v := int64(-1)
			limit = &v
		}
		out.PidsLimit = limit
	}
	if b := r.BlockIO; b != nil {
		setU16(&out.BlkioWeight, b.Weight)
		setU16(&out.BlkioLeafWeight, b.LeafWeight)
		for _, d := range b.WeightDevice {
			var w, lw uint16
			setU16(&w, d.Weight)
			setU16(&lw, d.LeafWeight)
			out.BlkioWeightDevice = append(out.BlkioWeightDevice, cgroups.NewWeightDevice(d.Major, d.Minor, w, lw))
		}
		out.BlkioThrottleReadBpsDevice = throttle(b.ThrottleReadBpsDevice)
		out.BlkioThrottleWriteBpsDevice = throttle(b.ThrottleWriteBpsDevice)
		out.BlkioThrottleReadIOPSDevice = throttle(b.ThrottleReadIOPSDevice)
		out.BlkioThrottleWriteIOPSDevice = throttle(b.ThrottleWriteIOPSDevice)
	}
	for _, h := range r.HugepageLimits {
		out.HugetlbLimit = append(out.HugetlbLimit, &cgroups.HugepageLimit{Pagesize: h.Pagesize, Limit: h.Limit})
	}
	if n := r.Network; n != nil {
		if n.ClassID != nil {
			out.NetClsClassid = *n.ClassID
		}
		for _, p := range n.Priorities {
			out.NetPrioIfpriomap = append(out.NetPrioIfpriomap, &cgroups.IfPrioMap{Interface: p.Name, Priority: int64(p.Priority)})
		}
	}
	if len(r.Rdma) > 0 {
		out.Rdma = map[string]cgroups.LinuxRdma{}
		for k, v := range r.Rdma {
			out.Rdma[k] = cgroups.LinuxRdma{HcaHandles: v.HcaHandles, HcaObjects: v.HcaObjects}
		}
	}
	if len(r.Unified) > 0 {
		out.Unified = r.Unified
	}
	return out, nil
}

func throttle(in []specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	var out []*cgroups.ThrottleDevice
	for _, d := range in {
		out = append(out, cgroups.NewThrottleDevice(d.Major, d.Minor, d.Rate))
	}
	return out
}

func setI64(dst *int64, v *int64) {
	if v != nil {
		*dst = *v
	}
}

func setU64(dst *uint64, v *uint64) {
	if v != nil {
		*dst = *v
	}
}

func setU16(dst *uint16, v *uint16) {
	if v != nil {
		*dst = *v
	}
}
