package linux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// inRoot resolves a container path under rootfs without letting symlinks in
// the (untrusted) root filesystem escape it.
func inRoot(rootfs, path string) (string, error) {
	p, err := securejoin.SecureJoin(rootfs, path)
	if err != nil {
		return "", fmt.Errorf("resolve %s in the root filesystem: %w", path, err)
	}
	return p, nil
}

// prepareRootfs sets propagation, makes the root filesystem a mount point
// and mounts everything listed in the spec under it. It runs in the new mount
// namespace before pivot_root.
func prepareRootfs(cfg *InitConfig) error {
	spec := cfg.Spec
	if !HasMountNamespace(spec) {
		// Sharing the runtime's mount namespace: leave its propagation
		// alone; the mounts below stay in that namespace (as they do with
		// other runtimes) and delete unmounts them.
		for i, m := range spec.Mounts {
			if err := mountEntry(cfg, i, m); err != nil {
				return fmt.Errorf("mounts[%d] (%s on %s): %w", i, m.Type, m.Destination, err)
			}
		}
		return createDevices(cfg)
	}
	propagation := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if spec.Linux != nil && spec.Linux.RootfsPropagation != "" {
		f, ok := PropagationFlag(spec.Linux.RootfsPropagation)
		if !ok {
			return fmt.Errorf("linux.rootfsPropagation: unknown value %q", spec.Linux.RootfsPropagation)
		}
		propagation = f
	}
	// Never let the container's mounts propagate back to the host: mark
	// everything a slave (or what the config asks) recursively first.
	if err := unix.Mount("", "/", "", propagation, ""); err != nil {
		return fmt.Errorf("set propagation of / to %#x: %w", propagation, err)
	}
	// pivot_root needs the new root's parent mount to be private.
	if err := makeParentPrivate(cfg.Rootfs); err != nil {
		return err
	}
	if err := unix.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount root filesystem %s: %w", cfg.Rootfs, err)
	}
	for i, m := range spec.Mounts {
		if err := mountEntry(cfg, i, m); err != nil {
			return fmt.Errorf("mounts[%d] (%s on %s): %w", i, m.Type, m.Destination, err)
		}
	}
	if err := createDevices(cfg); err != nil {
		return err
	}
	return nil
}

// HasMountNamespace reports whether the container gets a mount namespace of
// its own (new or joined) rather than the runtime's.
func HasMountNamespace(spec *specs.Spec) bool {
	if spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			return true
		}
	}
	return false
}

// chrootRoot enters the root filesystem without a mount namespace of its
// own, where neither pivot_root nor MS_MOVE may touch the shared tree.
func chrootRoot(rootfs string) error {
	if err := unix.Chroot(rootfs); err != nil {
		return fmt.Errorf("chroot %s: %w", rootfs, err)
	}
	return unix.Chdir("/")
}

// makeParentPrivate makes the mount containing path private if it is shared,
// since pivot_root refuses shared parents.
func makeParentPrivate(path string) error {
	mp, err := mountPointOf(path)
	if err != nil {
		return err
	}
	if err := unix.Mount("", mp, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", mp, err)
	}
	return nil
}

// mountPointOf finds the longest mount point that is a prefix of path.
func mountPointOf(path string) (string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("read mountinfo: %w", err)
	}
	best := "/"
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if (path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best = mp
		}
	}
	return best, nil
}

func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountEntry performs spec.Mounts[index].
func mountEntry(cfg *InitConfig, index int, m specs.Mount) error {
	if !filepath.IsAbs(m.Destination) {
		return fmt.Errorf("destination must be absolute")
	}
	opts := parseMountOptions(m.Options)
	dest, err := inRoot(cfg.Rootfs, m.Destination)
	if err != nil {
		return err
	}
	isBind := opts.flags&unix.MS_BIND != 0 || m.Type == "bind"
	if m.Type == "cgroup" {
		return mountCgroup(cfg, dest, opts)
	}
	source := m.Source
	treeFD, idmapped := cfg.MountFDs[index]
	switch {
	case idmapped:
		// An idmapped clone of the source, prepared by the runtime.
		if err := attachTree(treeFD, m.Source, dest); err != nil {
			return err
		}
		if rest := opts.flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); rest != 0 {
			if err := remountBind(dest, rest); err != nil {
				return err
			}
		}
	case isBind:
		if !filepath.IsAbs(source) {
			// Relative bind sources are relative to the bundle, which is
			// the working directory the runtime started the init in.
			if source, err = filepath.Abs(source); err != nil {
				return err
			}
		}
		fi, err := os.Stat(source)
		if err != nil {
			return fmt.Errorf("bind source: %w", err)
		}
		if err := createMountPoint(dest, fi.IsDir()); err != nil {
			return err
		}
		if err := unix.Mount(source, dest, "", unix.MS_BIND|(opts.flags&unix.MS_REC), ""); err != nil {
			return fmt.Errorf("bind %s: %w", source, err)
		}
		// Bind mounts ignore everything but MS_BIND|MS_REC on the first
		// call; the remaining flags take a remount.
		if rest := opts.flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); rest != 0 {
			if err := remountBind(dest, rest); err != nil {
				return err
			}
		}
	case opts.tmpCopyUp && m.Type == "tmpfs":
		if err := mountTmpfsCopyUp(dest, source, opts); err != nil {
			return err
		}
	default:
		if err := createMountPoint(dest, true); err != nil {
			return err
		}
		if source == "" {
			source = m.Type
		}
		data := opts.dataString()
		if err := unix.Mount(source, dest, m.Type, opts.flags, data); err != nil {
			if m.Type == "sysfs" && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
				// Without its own network namespace a container may not
				// mount sysfs; the host's, read-only, is the usual fallback.
				if err := unix.Mount("/sys", dest, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
					return fmt.Errorf("bind host /sys: %w", err)
				}
				return remountBind(dest, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
			}
			return fmt.Errorf("mount %s with %q: %w", m.Type, data, err)
		}
	}
	for _, p := range opts.propagation {
		if err := unix.Mount("", dest, "", p, ""); err != nil {
			return fmt.Errorf("set propagation %#x: %w", p, err)
		}
	}
	if opts.attrSet != 0 || opts.attrClear != 0 {
		attr := &unix.MountAttr{Attr_set: opts.attrSet, Attr_clr: opts.attrClear}
		if err := unix.MountSetattr(-1, dest, unix.AT_RECURSIVE, attr); err != nil {
			return fmt.Errorf("mount_setattr: %w", err)
		}
	}
	return nil
}

// attachTree moves the detached mount tree open as fd (a clone of source)
// onto dest, creating the mount point to match the tree's root.
func attachTree(fd int, source, dest string) error {
	tree := os.NewFile(uintptr(fd), source)
	defer tree.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("idmapped clone of %s: %w", source, err)
	}
	if err := createMountPoint(dest, st.Mode&unix.S_IFMT == unix.S_IFDIR); err != nil {
		return err
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dest, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach idmapped clone of %s: move_mount: %w", source, err)
	}
	return nil
}

// remountBind applies flags to an existing bind mount, keeping the lock
// flags the kernel requires to be repeated (nosuid, nodev, noexec, atime).
func remountBind(dest string, flags uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dest, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dest, err)
	}
	locked := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
	if err := unix.Mount("", dest, "", unix.MS_REMOUNT|unix.MS_BIND|flags|locked&^unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("remount %s with %#x: %w", dest, flags, err)
	}
	return nil
}

func createMountPoint(dest string, dir bool) error {
	if dir {
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return fmt.Errorf("create mount point: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("create mount point parent: %w", err)
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		if errors.Is(err, unix.EISDIR) {
			return nil
		}
		return fmt.Errorf("create mount point: %w", err)
	}
	return f.Close()
}

// mountCgroup mounts the container's view of the cgroup hierarchy. On a
// unified host that is cgroup2 itself; on v1 it is a tmpfs with each
// controller's container cgroup bind-mounted under its hierarchy name.
func mountCgroup(cfg *InitConfig, dest string, opts parsedOptions) error {
	if err := createMountPoint(dest, true); err != nil {
		return err
	}
	flags := opts.flags &^ (unix.MS_BIND | unix.MS_REC)
	if isUnified() {
		if err := unix.Mount("cgroup2", dest, "cgroup2", flags, ""); err != nil {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY) {
				if path := cfg.CgroupPaths[""]; path != "" {
					if err := unix.Mount(path, dest, "", unix.MS_BIND, ""); err != nil {
						return fmt.Errorf("bind cgroup %s: %w", path, err)
					}
					return remountBind(dest, flags)
				}
			}
			return fmt.Errorf("mount cgroup2: %w", err)
		}
		return nil
	}
	if err := unix.Mount("tmpfs", dest, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
		return fmt.Errorf("mount cgroup tmpfs: %w", err)
	}
	hierarchies, err := cgroupV1Hierarchies()
	if err != nil {
		return err
	}
	for name, hostMount := range hierarchies {
		src := hostMount
		for ctrl, path := range cfg.CgroupPaths {
			if ctrl != "" && strings.Contains(","+name+",", ","+ctrl+",") {
				src = path
				break
			}
		}
		target := filepath.Join(dest, name)
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", target, err)
		}
		if err := unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind cgroup %s: %w", src, err)
		}
		if err := remountBind(target, flags|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
			return err
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		return remountBind(dest, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
	}
	return nil
}

func isUnified() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// cgroupV1Hierarchies maps each v1 hierarchy's directory name under
// /sys/fs/cgroup (e.g. "cpu", "memory", "name=systemd" as "systemd") to its
// host mount point.
func cgroupV1Hierarchies() (map[string]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		sep := strings.Index(line, " - ")
		if sep < 0 {
			continue
		}
		pre, post := strings.Fields(line[:sep]), strings.Fields(line[sep+3:])
		if len(pre) < 5 || len(post) < 1 || post[0] != "cgroup" {
			continue
		}
		mp := unescapeMountinfo(pre[4])
		out[filepath.Base(mp)] = mp
	}
	return out, nil
}

// defaultDevices are created in every container unless the config lists a
// device at the same path (runtime-spec "Default Devices").
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// DefaultDevices returns the devices every container gets.
func DefaultDevices() []specs.LinuxDevice { return append([]specs.LinuxDevice(nil), defaultDevices...) }

func createDevices(cfg *InitConfig) error {
	// A /dev bind-mounted from the host already has its devices.
	for _, m := range cfg.Spec.Mounts {
		if filepath.Clean(m.Destination) == "/dev" && (m.Type == "bind" || hasOption(m.Options, "bind") || hasOption(m.Options, "rbind")) {
			return nil
		}
	}
	devs := map[string]specs.LinuxDevice{}
	var order []string
	add := func(d specs.LinuxDevice) {
		if _, ok := devs[d.Path]; !ok {
			order = append(order, d.Path)
		}
		devs[d.Path] = d
	}
	for _, d := range defaultDevices {
		add(d)
	}
	if cfg.Spec.Linux != nil {
		for _, d := range cfg.Spec.Linux.Devices {
			add(d)
		}
	}
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, p := range order {
		if err := createDevice(cfg.Rootfs, devs[p]); err != nil {
			return fmt.Errorf("device %s: %w", p, err)
		}
	}
	return createDevSymlinks(cfg)
}

func hasOption(opts []string, want string) bool {
	for _, o := range opts {
		if o == want {
			return true
		}
	}
	return false
}

func createDevice(rootfs string, d specs.LinuxDevice) error {
	dest, err := inRoot(rootfs, d.Path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	var mode uint32
	switch d.Type {
	case "c", "u":
		mode = unix.S_IFCHR
	case "b":
		mode = unix.S_IFBLK
	case "p":
		mode = unix.S_IFIFO
	default:
		return fmt.Errorf("unknown device type %q", d.Type)
	}
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(*d.FileMode) & 0o7777
	}
	_ = os.Remove(dest)
	err = unix.Mknod(dest, mode|perm, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	if errors.Is(err, unix.EPERM) && mode != unix.S_IFIFO {
		// In a user namespace mknod is refused; bind the host's node.
		if err := createMountPoint(dest, false); err != nil {
			return err
		}
		return unix.Mount(d.Path, dest, "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Lchown(dest, uid, gid); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}

func createDevSymlinks(cfg *InitConfig) error {
	links := [][2]string{
		{"/proc/self/fd", "/dev/fd"},
		{"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"},
		{"/proc/self/fd/2", "/dev/stderr"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "/dev/core"})
	}
	devpts := false
	for _, m := range cfg.Spec.Mounts {
		if filepath.Clean(m.Destination) == "/dev/pts" {
			devpts = true
		}
	}
	if devpts {
		links = append(links, [2]string{"pts/ptmx", "/dev/ptmx"})
	}
	for _, l := range links {
		dest, err := inRoot(cfg.Rootfs, l[1])
		if err != nil {
			return err
		}
		if l[1] == "/dev/ptmx" {
			_ = os.Remove(dest)
		}
		if err := os.Symlink(l[0], dest); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("symlink %s: %w", l[1], err)
		}
	}
	return nil
}

// pivotRoot makes rootfs the root of the mount namespace and detaches the
// old root, without needing a scratch directory: pivot_root(".", ".")
// stacks the old root on top of the new one, and the old root is then
// lazily unmounted from the same directory.
func pivotRoot(rootfs string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new root %s: %w", rootfs, err)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Keep the unmount below from propagating to the host.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root a slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRoot is the --no-pivot path: move the root filesystem over / and
// chroot into it. The old root stays reachable by a process that can escape
// the chroot, which is why pivot_root is the default.
func moveRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s to /: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return unix.Chdir("/")
}

// finishRootfs applies what must follow pivot_root: the root's propagation,
// masked and read-only paths, and a read-only root.
func finishRootfs(spec *specs.Spec) error {
	if spec.Linux != nil {
		if p := spec.Linux.RootfsPropagation; p != "" {
			f, _ := PropagationFlag(p)
			if err := unix.Mount("", "/", "", f, ""); err != nil {
				return fmt.Errorf("set rootfsPropagation %s: %w", p, err)
			}
		}
		for _, p := range spec.Linux.ReadonlyPaths {
			if err := readonlyPath(p); err != nil {
				return fmt.Errorf("linux.readonlyPaths %s: %w", p, err)
			}
		}
		for _, p := range spec.Linux.MaskedPaths {
			if err := maskPath(p); err != nil {
				return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
			}
		}
	}
	if spec.Root != nil && spec.Root.Readonly {
		if err := remountBind("/", unix.MS_RDONLY); err != nil {
			return fmt.Errorf("root.readonly: %w", err)
		}
	}
	return nil
}

func readonlyPath(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	return remountBind(p, unix.MS_RDONLY|unix.MS_REC)
}

func maskPath(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if fi.IsDir() {
		return unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0k")
	}
	return unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
}
