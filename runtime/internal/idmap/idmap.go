package idmap

// #include <errno.h>
// int wasmrt_spawn_userns(void);
import "C"

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// FormatMappings renders mappings in the uid_map/gid_map format, one
// "containerID hostID size" line each.
func FormatMappings(m []specs.LinuxIDMapping) string {
	var sb strings.Builder
	for _, e := range m {
		fmt.Fprintf(&sb, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
	}
	return sb.String()
}

// UserNamespace returns an open descriptor of a new user namespace whose
// uid_map and gid_map hold uids and gids.
func UserNamespace(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	pid, errno := C.wasmrt_spawn_userns()
	if pid < 0 {
		return nil, fmt.Errorf("create a user namespace for an idmapped mount: %w", errno)
	}
	defer func() {
		_ = unix.Kill(int(pid), unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(int(pid), &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
	}()
	base := "/proc/" + strconv.Itoa(int(pid))
	if err := os.WriteFile(base+"/uid_map", []byte(FormatMappings(uids)), 0); err != nil {
		return nil, fmt.Errorf("write uid mappings %q: %w", strings.TrimSpace(FormatMappings(uids)), err)
	}
	if err := os.WriteFile(base+"/gid_map", []byte(FormatMappings(gids)), 0); err != nil {
		return nil, fmt.Errorf("write gid mappings %q: %w", strings.TrimSpace(FormatMappings(gids)), err)
	}
	f, err := os.Open(base + "/ns/user")
	if err != nil {
		return nil, fmt.Errorf("open the idmapping user namespace: %w", err)
	}
	return f, nil
}

// ErrNotSupported wraps the kernel's refusal to idmap a mount: the kernel
// is older than 5.12 or the filesystem cannot be idmapped.
var ErrNotSupported = errors.New("idmapped mounts are not supported here")

// Clone returns a detached copy of the mount at source with the user
// namespace's mapping applied. recursiveClone copies the submounts too
// (rbind); recursiveMap applies the mapping to those submounts as well
// (ridmap), otherwise only the top mount is mapped.
func Clone(source string, userns *os.File, recursiveClone, recursiveMap bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if recursiveClone {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, source, flags)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return nil, fmt.Errorf("clone %s: open_tree: %w (%w)", source, err, ErrNotSupported)
		}
		return nil, fmt.Errorf("clone %s: open_tree: %w", source, err)
	}
	tree := os.NewFile(uintptr(fd), source)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	setFlags := uint(unix.AT_EMPTY_PATH)
	if recursiveMap {
		setFlags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(fd, "", setFlags, attr); err != nil {
		tree.Close()
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
			var st unix.Statfs_t
			fs := "its filesystem"
			if unix.Statfs(source, &st) == nil {
				fs = fmt.Sprintf("its filesystem (magic %#x)", st.Type)
			}
			return nil, fmt.Errorf("idmap %s: mount_setattr(MOUNT_ATTR_IDMAP): %w: the kernel or %s does not support idmapped mounts (%w)", source, err, fs, ErrNotSupported)
		}
		return nil, fmt.Errorf("idmap %s: mount_setattr(MOUNT_ATTR_IDMAP): %w", source, err)
	}
	return tree, nil
}
