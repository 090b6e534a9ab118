package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wasmrt/wasmrt/runtime/internal/linux"
)

// ConfigError is a problem in config.json, located by its JSON path.
type ConfigError struct {
	// Path is the JSON path, e.g. "process.capabilities.bounding[2]".
	Path string
	// Problem says what is wrong there.
	Problem string
}

func (e *ConfigError) Error() string { return "config.json: " + e.Path + ": " + e.Problem }

func cfgErr(path, format string, args ...any) error {
	return &ConfigError{Path: path, Problem: fmt.Sprintf(format, args...)}
}

// LoadSpec reads and validates bundle/config.json.
func LoadSpec(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read bundle config: %w", err)
	}
	spec, err := DecodeSpec(data)
	if err != nil {
		return nil, err
	}
	if err := ValidateSpec(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// DecodeSpec parses config.json, reporting type errors by JSON path and
// syntax errors by line and column.
func DecodeSpec(data []byte) (*specs.Spec, error) {
	var spec specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&spec); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			path := te.Field
			if path == "" {
				path = "(document)"
			}
			return nil, cfgErr(path, "expected %s, found JSON %s (line %d)", te.Type, te.Value, lineOf(data, te.Offset))
		case errors.As(err, &se):
			return nil, cfgErr(fmt.Sprintf("(line %d)", lineOf(data, se.Offset)), "invalid JSON: %v", se)
		}
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if dec.More() {
		return nil, cfgErr("(document)", "trailing data after the JSON object")
	}
	return &spec, nil
}

func lineOf(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

var namespaceTypes = map[specs.LinuxNamespaceType]bool{
	specs.PIDNamespace: true, specs.NetworkNamespace: true, specs.MountNamespace: true,
	specs.IPCNamespace: true, specs.UTSNamespace: true, specs.UserNamespace: true,
	specs.CgroupNamespace: true, specs.TimeNamespace: true,
}

// ValidateSpec checks what the runtime relies on, so that create fails
// before anything is set up and names the offending field.
func ValidateSpec(s *specs.Spec) error {
	if s.Version == "" {
		return cfgErr("ociVersion", "missing")
	}
	if !strings.HasPrefix(s.Version, "1.") {
		return cfgErr("ociVersion", "unsupported version %q (this runtime implements %s)", s.Version, specs.Version)
	}
	if s.Root == nil || s.Root.Path == "" {
		return cfgErr("root.path", "missing")
	}
	// process is optional for create; start then fails (runtime-spec).
	if s.Process != nil {
		if err := ValidateProcess("process", s.Process); err != nil {
			return err
		}
	}
	for i, m := range s.Mounts {
		p := fmt.Sprintf("mounts[%d]", i)
		if !filepath.IsAbs(m.Destination) {
			return cfgErr(p+".destination", "%q is not an absolute path", m.Destination)
		}
		if err := validateMount(p, m, s.Linux); err != nil {
			return err
		}
	}
	if err := validateHooks(s.Hooks); err != nil {
		return err
	}
	if s.Linux == nil {
		return cfgErr("linux", "missing: this runtime runs Linux containers")
	}
	return validateLinux(s)
}

// ValidateProcess checks a process (from config.json or exec -p).
func ValidateProcess(prefix string, p *specs.Process) error {
	if len(p.Args) == 0 || p.Args[0] == "" {
		return cfgErr(prefix+".args", "must name a program")
	}
	if p.Cwd == "" || !filepath.IsAbs(p.Cwd) {
		return cfgErr(prefix+".cwd", "%q is not an absolute path", p.Cwd)
	}
	for i, e := range p.Env {
		if !strings.Contains(e, "=") {
			return cfgErr(fmt.Sprintf("%s.env[%d]", prefix, i), "%q is not KEY=value", e)
		}
	}
	if c := p.Capabilities; c != nil {
		sets := []struct {
			name string
			caps []string
		}{{"bounding", c.Bounding}, {"effective", c.Effective}, {"inheritable", c.Inheritable}, {"permitted", c.Permitted}, {"ambient", c.Ambient}}
		for _, set := range sets {
			for i, name := range set.caps {
				if _, ok := linux.CapabilityNumber(name); !ok {
					return cfgErr(fmt.Sprintf("%s.capabilities.%s[%d]", prefix, set.name, i), "unknown capability %q", name)
				}
			}
		}
	}
	seen := map[string]bool{}
	for i, r := range p.Rlimits {
		path := fmt.Sprintf("%s.rlimits[%d]", prefix, i)
		if _, ok := linux.RlimitNumber(r.Type); !ok {
			return cfgErr(path+".type", "unknown rlimit %q", r.Type)
		}
		if seen[r.Type] {
			return cfgErr(path+".type", "%s listed twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return cfgErr(path, "soft limit %d exceeds hard limit %d", r.Soft, r.Hard)
		}
	}
	if p.Scheduler != nil {
		if err := linux.ValidateScheduler(p.Scheduler); err != nil {
			return cfgErr(prefix+".scheduler", "%v", err)
		}
	}
	if p.IOPriority != nil {
		if err := linux.ValidateIOPriority(p.IOPriority); err != nil {
			return cfgErr(prefix+".ioPriority", "%v", err)
		}
	}
	if p.ApparmorProfile != "" {
		if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
			return cfgErr(prefix+".apparmorProfile", "profile %q requested but AppArmor is not enabled on this host", p.ApparmorProfile)
		}
		return cfgErr(prefix+".apparmorProfile", "AppArmor profiles are not supported by this runtime")
	}
	if p.SelinuxLabel != "" {
		return cfgErr(prefix+".selinuxLabel", "label %q requested but SELinux is not supported by this runtime", p.SelinuxLabel)
	}
	return nil
}

// validateMount checks the mount options the runtime itself acts on:
// tmpcopyup, and idmapped mounts (runtime-spec: mappings only on bind
// mounts, uidMappings and gidMappings together, and without them the
// container's own user namespace mappings, which must then exist).
func validateMount(p string, m specs.Mount, l *specs.Linux) error {
	if hasMountOption(m.Options, "tmpcopyup") && m.Type != "tmpfs" {
		return cfgErr(p+".options", "tmpcopyup copies into a new tmpfs; the mount's type is %q, not tmpfs", m.Type)
	}
	mapped, _, _ := linux.MountIDMapping(m)
	if !mapped {
		return nil
	}
	if !linux.IsBindMount(m) {
		return cfgErr(p, "idmapped mounts (idmap, ridmap, uidMappings, gidMappings) need a bind mount: type \"bind\" or a bind or rbind option")
	}
	if (len(m.UIDMappings) == 0) != (len(m.GIDMappings) == 0) {
		return cfgErr(p+".uidMappings", "uidMappings and gidMappings must be given together")
	}
	if len(m.UIDMappings) == 0 {
		if l == nil || !hasNewUserNamespace(l) || len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0 {
			return cfgErr(p+".options", "an idmapped mount without uidMappings and gidMappings uses the container's user namespace mappings, but the container has no new user namespace with mappings")
		}
		return nil
	}
	if err := validateIDMappings(p+".uidMappings", m.UIDMappings); err != nil {
		return err
	}
	return validateIDMappings(p+".gidMappings", m.GIDMappings)
}

// validateIDMappings rejects ranges the kernel would refuse with a bare
// EINVAL: empty ones and ones that run past the 32-bit id space.
func validateIDMappings(p string, ms []specs.LinuxIDMapping) error {
	for i, e := range ms {
		if e.Size == 0 {
			return cfgErr(fmt.Sprintf("%s[%d].size", p, i), "must be positive")
		}
		if uint64(e.ContainerID)+uint64(e.Size) > 1<<32 || uint64(e.HostID)+uint64(e.Size) > 1<<32 {
			return cfgErr(fmt.Sprintf("%s[%d]", p, i), "range of %d ids from %d (container) / %d (host) exceeds the 32-bit id space", e.Size, e.ContainerID, e.HostID)
		}
	}
	return nil
}

func hasNewUserNamespace(l *specs.Linux) bool {
	for _, ns := range l.Namespaces {
		if ns.Type == specs.UserNamespace && ns.Path == "" {
			return true
		}
	}
	return false
}

func hasMountOption(opts []string, want string) bool {
	for _, o := range opts {
		if o == want {
			return true
		}
	}
	return false
}

func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	lists := []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	}
	for _, l := range lists {
		for i, hook := range l.hooks {
			p := fmt.Sprintf("hooks.%s[%d]", l.name, i)
			if !filepath.IsAbs(hook.Path) {
				return cfgErr(p+".path", "%q is not an absolute path", hook.Path)
			}
			if hook.Timeout != nil && *hook.Timeout <= 0 {
				return cfgErr(p+".timeout", "must be positive, got %d", *hook.Timeout)
			}
		}
	}
	return nil
}

func validateLinux(s *specs.Spec) error {
	l := s.Linux
	seen := map[specs.LinuxNamespaceType]bool{}
	hasUser := false
	for i, ns := range l.Namespaces {
		p := fmt.Sprintf("linux.namespaces[%d]", i)
		if !namespaceTypes[ns.Type] {
			return cfgErr(p+".type", "unknown namespace type %q", ns.Type)
		}
		if seen[ns.Type] {
			return cfgErr(p+".type", "namespace %q listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return cfgErr(p+".path", "%q is not an absolute path", ns.Path)
		}
		if ns.Type == specs.UserNamespace && ns.Path == "" {
			hasUser = true
		}
	}
	if hasUser && (len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0) {
		return cfgErr("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings")
	}
	if !seen[specs.UserNamespace] && (len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0) {
		return cfgErr("linux.uidMappings", "mappings given without a user namespace")
	}
	if len(l.TimeOffsets) > 0 && !seen[specs.TimeNamespace] {
		return cfgErr("linux.timeOffsets", "offsets given without a time namespace")
	}
	if (s.Hostname != "" || s.Domainname != "") && !seen[specs.UTSNamespace] {
		return cfgErr("hostname", "setting the hostname needs a new uts namespace")
	}
	if !seen[specs.MountNamespace] {
		if len(l.MaskedPaths) > 0 || len(l.ReadonlyPaths) > 0 {
			return cfgErr("linux.maskedPaths", "masked and read-only paths need a mount namespace: they would change the runtime's own mounts")
		}
		if s.Root.Readonly {
			return cfgErr("root.readonly", "a read-only root needs a mount namespace")
		}
	}
	if l.RootfsPropagation != "" {
		if _, ok := linux.PropagationFlag(l.RootfsPropagation); !ok {
			return cfgErr("linux.rootfsPropagation", "unknown propagation %q", l.RootfsPropagation)
		}
	}
	for i, d := range l.Devices {
		p := fmt.Sprintf("linux.devices[%d]", i)
		if !filepath.IsAbs(d.Path) || !strings.HasPrefix(filepath.Clean(d.Path), "/dev/") {
			return cfgErr(p+".path", "%q must be an absolute path under /dev", d.Path)
		}
		switch d.Type {
		case "c", "u", "b", "p":
		default:
			return cfgErr(p+".type", "unknown device type %q", d.Type)
		}
	}
	if l.Seccomp != nil {
		f, err := linux.BuildSeccomp(l.Seccomp)
		if err != nil {
			return cfgErr("linux.seccomp", "%v", err)
		}
		f.Release()
		if linux.UsesNotify(l.Seccomp) && l.Seccomp.ListenerPath == "" {
			return cfgErr("linux.seccomp.listenerPath", "required by SCMP_ACT_NOTIFY rules")
		}
	}
	if l.MountLabel != "" {
		return cfgErr("linux.mountLabel", "SELinux labels are not supported by this runtime")
	}
	if l.MemoryPolicy != nil {
		return cfgErr("linux.memoryPolicy", "NUMA memory policies are not supported by this runtime")
	}
	if len(l.NetDevices) > 0 {
		return cfgErr("linux.netDevices", "moving network devices into the container is not supported by this runtime")
	}
	if s.Process != nil && s.Process.ExecCPUAffinity != nil {
		return cfgErr("process.execCPUAffinity", "CPU affinity for exec is not supported by this runtime")
	}
	if l.IntelRdt != nil {
		return cfgErr("linux.intelRdt", "Intel RDT is not supported by this runtime")
	}
	if s.Process != nil && s.Process.Terminal && s.Process.ConsoleSize != nil && (s.Process.ConsoleSize.Height == 0 || s.Process.ConsoleSize.Width == 0) {
		return cfgErr("process.consoleSize", "height and width must be positive")
	}
	return nil
}
