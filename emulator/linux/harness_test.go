//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package linux_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// testEnv is the environment both the emulator and the oracle run with.
var testEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LC_ALL=C"}

// testImage is a fixture converted to a rootfs image (built once per test
// binary) and, on demand, extracted to a directory for the oracle.
type testImage struct {
	once    sync.Once
	img     *rootfs.Image
	err     error
	dirOnce sync.Once
	dir     string
	dirErr  error
}

var (
	imagesMu sync.Mutex
	images   = map[string]*testImage{}
	// scratch holds the extracted trees for the whole test binary.
	scratch string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if scratch != "" {
		os.RemoveAll(scratch)
	}
	os.Exit(code)
}

// loadImage converts fixture (an internal/fixtures image name) to a rootfs
// image, as c2w rootfs does.
func loadImage(t testing.TB, fixture string) *rootfs.Image {
	return loadImageFor(t, fixture, "riscv64")
}

// loadImageFor is loadImage for the image of architecture arch.
func loadImageFor(t testing.TB, fixture, arch string) *rootfs.Image {
	t.Helper()
	imagesMu.Lock()
	ti := images[fixture+"/"+arch]
	if ti == nil {
		ti = &testImage{}
		images[fixture+"/"+arch] = ti
	}
	imagesMu.Unlock()
	layout := fixtures.OCI(t, fixture)
	ti.once.Do(func() { ti.img, ti.err = linux.FixtureImageFor(layout, arch) })
	if ti.err != nil {
		t.Fatalf("fixture %s: %v", fixture, ti.err)
	}
	return ti.img
}

// oracleRoot extracts the fixture's rootfs image to a directory, so the
// oracle runs chrooted in exactly the tree the emulator sees.
func oracleRoot(t testing.TB, fixture string) string {
	t.Helper()
	if _, err := exec.LookPath("qemu-riscv64-static"); err != nil {
		t.Skip("qemu-riscv64-static not installed (Debian package qemu-user-static): no oracle")
	}
	return oracleRootFor(t, fixture, "riscv64")
}

// oracleRootFor is oracleRoot for the image of architecture arch.
func oracleRootFor(t testing.TB, fixture, arch string) string {
	t.Helper()
	img := loadImageFor(t, fixture, arch)
	imagesMu.Lock()
	ti := images[fixture+"/"+arch]
	var err error
	if scratch == "" {
		if scratch, err = os.MkdirTemp("", "linux-oracle-"); err != nil {
			imagesMu.Unlock()
			t.Fatal(err)
		}
	}
	imagesMu.Unlock()
	ti.dirOnce.Do(func() {
		dir := filepath.Join(scratch, fixture+"-"+arch)
		if ti.dirErr = extract(img, rootfs.RootIno, dir); ti.dirErr != nil {
			return
		}
		for _, d := range []string{"dev", "proc", "tmp"} {
			os.MkdirAll(filepath.Join(dir, d), 0o755)
		}
		os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
		ti.dir = dir
	})
	if ti.dirErr != nil {
		t.Fatalf("extract %s: %v", fixture, ti.dirErr)
	}
	if out, err := exec.Command("unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "sh", "-c", oracleSetupFor(arch)+"true", "oracle", ti.dir, oracleScratch(t)).CombinedOutput(); err != nil {
		t.Skipf("cannot set up the oracle sandbox (needs user namespaces with binfmt_misc, Linux >= 6.7): %v: %s", err, out)
	}
	return ti.dir
}

// oracleScratch returns a private directory for one oracle run. Its name
// avoids t.TempDir's, which carries the test name: a comma there would
// split overlayfs's mount options.
func oracleScratch(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "oracle-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// oracleSetup runs in a fresh user, mount and pid namespace with the
// tree as $1: it registers qemu-riscv64-static in a private binfmt_misc
// (so riscv64 programs can execve each other, as under a riscv64 kernel)
// and mounts /dev and /proc into the tree. Nothing leaks to the host.
const oracleSetup = `set -e
lower=$1; scratch=$2; shift 2
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
# Debian's registration, with the wrapper that preserves argv[0]
# (busybox picks its applet from it).
grep -v '^#' /usr/lib/binfmt.d/qemu-riscv64.conf > /proc/sys/fs/binfmt_misc/register
` + oracleTree

// oracleSetupFor returns the oracle's setup for images of arch: the
// host's own CPU runs amd64 images, without qemu.
func oracleSetupFor(arch string) string {
	if arch == "amd64" {
		return "set -e\nlower=$1; scratch=$2; shift 2\n" + oracleTree
	}
	return oracleSetup
}

// oracleTree makes the private writable tree of one oracle run.
const oracleTree = `# Every run gets a private writable layer over the extracted tree, like
# the emulator's in-memory overlay, so runs cannot see each other's files.
mount -t tmpfs tmpfs "$scratch"
mkdir "$scratch/upper" "$scratch/work" "$scratch/root"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$scratch/upper,workdir=$scratch/work" "$scratch/root"
root=$scratch/root
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
# What docker run (and the emulator) gives a container: /etc/hosts and
# /etc/hostname, dated as the image's /etc.
if [ -d "$root/etc" ]; then
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' > "$root/etc/hosts"
	echo localhost > "$root/etc/hostname"
	touch -r "$lower/etc" "$root/etc/hosts" "$root/etc/hostname" "$root/etc"
fi
`

// extract writes the tree under ino to dir.
func extract(img *rootfs.Image, ino rootfs.Ino, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var ents []rootfs.DirEntry
	if err := img.ReadDir(ino, 0, func(_ int, e rootfs.DirEntry) bool { ents = append(ents, e); return true }); err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name)
		st, err := img.Stat(e.Ino)
		if err != nil {
			return err
		}
		switch {
		case st.IsDir():
			if err := extract(img, e.Ino, p); err != nil {
				return err
			}
			os.Chmod(p, fs.FileMode(st.Mode&0o7777))
		case st.IsSymlink():
			target, err := img.Readlink(e.Ino)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, p); err != nil {
				return err
			}
		case st.IsRegular():
			buf := make([]byte, st.Size)
			if n, err := img.ReadAt(e.Ino, buf, 0); err != nil && !(errors.Is(err, io.EOF) && int64(n) == st.Size) {
				return fmt.Errorf("%s: %w", p, err)
			}
			if err := os.WriteFile(p, buf, fs.FileMode(st.Mode&0o777)); err != nil {
				return err
			}
			os.Chmod(p, fs.FileMode(st.Mode&0o7777))
		}
		ts := []unix.Timespec{unix.NsecToTimespec(st.Mtime().UnixNano()), unix.NsecToTimespec(st.Mtime().UnixNano())}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// result is what a differential case compares.
type result struct {
	stdout string
	status int
}

// runEmulator runs argv in the emulated machine.
func runEmulator(t testing.TB, fixture string, argv []string, stdin string) (result, string, *linux.Kernel) {
	t.Helper()
	return runEmulatorFor(t, fixture, "riscv64", argv, stdin)
}

// runEmulatorFor is runEmulator for the image of architecture arch.
func runEmulatorFor(t testing.TB, fixture, arch string, argv []string, stdin string) (result, string, *linux.Kernel) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImageFor(t, fixture, arch), Args: argv, Env: testEnv,
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		InstructionLimit: 20_000_000_000, Arch: linux.ArchABI(arch),
	})
	if err != nil {
		t.Fatalf("%q: %v", argv, err)
	}
	status, err := k.Run()
	if err != nil {
		t.Fatalf("%q: %v\nstderr:\n%s", argv, err, stderr.String())
	}
	return result{stdout.String(), status}, stderr.String(), k
}

// runOracle runs argv under qemu-riscv64-static chrooted into the same
// tree, with binfmt_misc so that programs can run other programs.
func runOracle(t testing.TB, fixture string, argv []string, stdin string) (result, string) {
	t.Helper()
	return runOracleFor(t, fixture, "riscv64", argv, stdin)
}

// runOracleFor is runOracle for the image of architecture arch: amd64
// programs run on the host's CPU.
func runOracleFor(t testing.TB, fixture, arch string, argv []string, stdin string) (result, string) {
	t.Helper()
	var root string
	if arch == "riscv64" {
		root = oracleRoot(t, fixture)
	} else {
		root = oracleRootFor(t, fixture, arch)
	}
	prog := argv[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The guest must not be pid 1 of the namespace (init ignores SIGKILL
	// from inside), so the shell waits for it and forwards its status.
	// env -i gives the guest exactly testEnv, without the PWD the shell
	// adds.
	script := oracleSetupFor(arch) + `env -i ` + strings.Join(testEnv, " ") + ` chroot "$root" "$@"`
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"--user", "--map-root-user", "--mount", "--pid", "--fork", "sh", "-c", script, "oracle", root, oracleScratch(t), prog}, argv[1:]...)...)
	cmd.Env = testEnv
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	status := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		status = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = 128 + int(ws.Signal())
		}
	case err != nil:
		t.Fatalf("oracle %q: %v", argv, err)
	}
	return result{stdout.String(), status}, stderr.String()
}
