package linux

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountFlag describes one fstab-style option: set or clear bits in the mount
// flags.
type mountFlag struct {
	clear bool
	flag  uintptr
}

var mountFlags = map[string]mountFlag{
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"iversion":      {false, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"loud":          {true, unix.MS_SILENT},
	"mand":          {false, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

var propagationFlags = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// PropagationFlag resolves a rootfsPropagation or mount propagation option.
func PropagationFlag(name string) (uintptr, bool) {
	f, ok := propagationFlags[name]
	return f, ok
}

// parsedOptions is a mount's option list split into what mount(2) takes.
type parsedOptions struct {
	flags       uintptr
	propagation []uintptr
	data        []string
	// attrSet and attrClear are recursive mount attributes ("rro",
	// "rnosuid", …) applied to the mount and every submount with
	// mount_setattr(2).
	attrSet, attrClear uint64
	// tmpCopyUp copies the root filesystem's content at the mount point
	// into a new tmpfs.
	tmpCopyUp bool
}

// recursiveAttrs maps the spec's recursive options to MOUNT_ATTR_* bits:
// positive entries set the bit, negative ones clear it.
var recursiveAttrs = map[string]struct {
	clear bool
	attr  uint64
}{
	"rro":          {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":          {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":      {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":        {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":       {false, unix.MOUNT_ATTR_NODEV},
	"rdev":         {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":      {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":        {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":  {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":    {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnoatime":     {false, unix.MOUNT_ATTR_NOATIME},
	"rrelatime":    {false, unix.MOUNT_ATTR_RELATIME},
	"rstrictatime": {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":   {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// runtimeOptions are spec options the runtime acts on itself; they are
// never passed to mount(2) as filesystem data.
var runtimeOptions = map[string]bool{
	// idmap and ridmap apply the mount's uidMappings/gidMappings (or the
	// container's) with MOUNT_ATTR_IDMAP, ridmap to submounts as well.
	"idmap": true, "ridmap": true,
	// tmpcopyup fills a new tmpfs with what the root filesystem had at
	// the mount point.
	"tmpcopyup": true,
}

// IsBindMount reports whether m is a bind mount: type "bind" or a "bind" or
// "rbind" option.
func IsBindMount(m specs.Mount) bool {
	return m.Type == "bind" || hasOption(m.Options, "bind") || hasOption(m.Options, "rbind")
}

// MountIDMapping reports whether m asks for an idmapped mount (an idmap or
// ridmap option, or mount mappings, which runtime-spec says should come
// with one of the options), whether the mapping also applies to submounts,
// and whether the source tree is cloned with its submounts.
func MountIDMapping(m specs.Mount) (mapped, recursiveMap, recursiveClone bool) {
	recursiveMap = hasOption(m.Options, "ridmap")
	mapped = recursiveMap || hasOption(m.Options, "idmap") || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
	recursiveClone = hasOption(m.Options, "rbind")
	return mapped, recursiveMap, recursiveClone
}

func parseMountOptions(options []string) parsedOptions {
	var p parsedOptions
	for _, o := range options {
		if a, ok := recursiveAttrs[o]; ok {
			if a.clear {
				p.attrClear |= a.attr
				p.attrSet &^= a.attr
			} else {
				p.attrSet |= a.attr
				p.attrClear &^= a.attr
			}
			continue
		}
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				p.flags &^= f.flag
			} else {
				p.flags |= f.flag
			}
			continue
		}
		if f, ok := propagationFlags[o]; ok {
			p.propagation = append(p.propagation, f)
			continue
		}
		if runtimeOptions[o] {
			p.tmpCopyUp = p.tmpCopyUp || o == "tmpcopyup"
			continue
		}
		p.data = append(p.data, o)
	}
	return p
}

func (p parsedOptions) dataString() string { return strings.Join(p.data, ",") }

// MountAll mounts mounts on top of each other at target, in order: the
// layers a snapshotter hands a shim for a container's root filesystem
// (an overlay, a bind of a directory, ...).
func MountAll(target string, mounts []specs.Mount) error {
	for i, m := range mounts {
		o := parseMountOptions(m.Options)
		typ := m.Type
		if IsBindMount(m) {
			typ = ""
		}
		if err := unix.Mount(m.Source, target, typ, o.flags&^unix.MS_REMOUNT, o.dataString()); err != nil {
			return fmt.Errorf("rootfs mount %d (%s %s on %s): %w", i, m.Type, m.Source, target, err)
		}
		if o.flags&unix.MS_BIND != 0 && o.flags&unix.MS_RDONLY != 0 {
			// A bind mount ignores MS_RDONLY until remounted.
			if err := unix.Mount("", target, "", o.flags|unix.MS_REMOUNT, ""); err != nil {
				return fmt.Errorf("rootfs mount %d: remount read-only: %w", i, err)
			}
		}
	}
	return nil
}

// UnmountAll removes every mount stacked at target.
func UnmountAll(target string) error {
	for range 64 {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			if err == unix.EINVAL || err == unix.ENOENT {
				return nil // nothing (more) mounted there
			}
			return fmt.Errorf("unmount %s: %w", target, err)
		}
	}
	return fmt.Errorf("unmount %s: still mounted after 64 unmounts", target)
}
