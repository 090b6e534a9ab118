package linux

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mountTmpfsCopyUp mounts a tmpfs on dest and fills it with what the root
// filesystem had there (the tmpcopyup option). The directory is opened
// before the tmpfs hides it, and the copy reads through that descriptor,
// so no scratch mount point is needed. The tmpfs is mounted writable for
// the copy and made read-only afterwards if the options ask for it.
func mountTmpfsCopyUp(dest, source string, opts parsedOptions) error {
	if err := createMountPoint(dest, true); err != nil {
		return err
	}
	below, err := unix.Open(dest, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tmpcopyup: open %s: %w", dest, err)
	}
	defer unix.Close(below)
	if source == "" {
		source = "tmpfs"
	}
	data := opts.dataString()
	if err := unix.Mount(source, dest, "tmpfs", opts.flags&^unix.MS_RDONLY, data); err != nil {
		return fmt.Errorf("mount tmpfs with %q: %w", data, err)
	}
	above, err := unix.Open(dest, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tmpcopyup: open the new tmpfs at %s: %w", dest, err)
	}
	defer unix.Close(above)
	if err := copyDirContents(below, above, "", 0); err != nil {
		return fmt.Errorf("tmpcopyup: copy the root filesystem's content into the tmpfs: %w", err)
	}
	if opts.flags&unix.MS_RDONLY != 0 {
		if err := remountBind(dest, unix.MS_RDONLY); err != nil {
			return err
		}
	}
	return nil
}

// maxCopyDepth bounds the recursion of copyDirContents: the tree comes from
// an untrusted root filesystem, and each level holds two descriptors.
const maxCopyDepth = 256

// copyDirContents copies every entry of the directory open as src into the
// directory open as dst, recursively, keeping type, permissions, owner and
// modification time. Everything is resolved relative to the two
// descriptors with O_NOFOLLOW, so a symbolic link is copied as a link and
// never followed out of the tree. Sockets are skipped (they cannot be
// copied) and hard links become independent copies. rel names the
// directory in errors.
func copyDirContents(src, dst int, rel string, depth int) error {
	if depth > maxCopyDepth {
		return fmt.Errorf("%s: more than %d nested directories", rel, maxCopyDepth)
	}
	dup, err := unix.Dup(src)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	dir := os.NewFile(uintptr(dup), rel)
	entries, err := dir.ReadDir(-1)
	dir.Close()
	if err != nil {
		return fmt.Errorf("read directory %s: %w", rel, err)
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(rel, name)
		if err := copyEntry(src, dst, name, path, depth); err != nil {
			return err
		}
	}
	return nil
}

// copyEntry copies the entry name of directory src into directory dst.
func copyEntry(src, dst int, name, path string, depth int) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	perm := st.Mode & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dst, name, 0o700); err != nil {
			return fmt.Errorf("create directory %s: %w", path, err)
		}
		from, err := unix.Openat(src, name, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open directory %s: %w", path, err)
		}
		defer unix.Close(from)
		to, err := unix.Openat(dst, name, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open copied directory %s: %w", path, err)
		}
		defer unix.Close(to)
		if err := copyDirContents(from, to, path, depth+1); err != nil {
			return err
		}
	case unix.S_IFREG:
		if err := copyFile(src, dst, name, path, perm); err != nil {
			return err
		}
	case unix.S_IFLNK:
		target, err := readlinkat(src, name)
		if err != nil {
			return fmt.Errorf("read link %s: %w", path, err)
		}
		if err := unix.Symlinkat(target, dst, name); err != nil {
			return fmt.Errorf("create link %s: %w", path, err)
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if err := unix.Mknodat(dst, name, st.Mode&unix.S_IFMT|perm, int(st.Rdev)); err != nil {
			return fmt.Errorf("create node %s: %w", path, err)
		}
	default:
		return nil
	}
	return copyMetadata(dst, name, path, &st)
}

// copyFile copies a regular file's content; the copy is created
// owner-only and gets its final mode in copyMetadata.
func copyFile(src, dst int, name, path string, perm uint32) error {
	from, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	in := os.NewFile(uintptr(from), path)
	defer in.Close()
	to, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	out := os.NewFile(uintptr(to), path)
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", path, err)
	}
	return nil
}

// copyMetadata gives the copy its original owner, mode and times. The
// mode follows the owner change, which clears set-id bits.
func copyMetadata(dst int, name, path string, st *unix.Stat_t) error {
	if err := unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(dst, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod %s: %w", path, err)
		}
	}
	times := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(dst, name, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", path, err)
	}
	return nil
}

// readlinkat reads a symbolic link's target of any length.
func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size >= unix.PathMax {
			return "", errors.New("link target too long")
		}
	}
}
