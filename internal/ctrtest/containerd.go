package ctrtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary is where Debian's containerd package installs the daemon.
const Binary = "/usr/bin/containerd"

// Containerd is a private containerd instance.
type Containerd struct {
	// Dir holds everything of the instance.
	Dir string
	// Address is its GRPC socket.
	Address string
	// Namespace is the containerd namespace ctr uses.
	Namespace string
	pathDir   string
	binary    string
	config    string
	cmd       *exec.Cmd
	log       *os.File
}

// Options configure Start.
type Options struct {
	// ShimDir is put first in containerd's PATH: where it finds
	// containerd-shim-NAME-v1 binaries.
	ShimDir string
	// Binary is the containerd daemon to run (Debian's when empty): a test
	// can run a newer containerd built from the Go module proxy. Debian's
	// ctr speaks to either.
	Binary string
	// CRI enables the CRI plugin with this extra configuration (TOML
	// under [plugins."io.containerd.grpc.v1.cri"]); nil disables it.
	CRI []string
}

// Start starts a containerd as root. It skips the test when not root or
// when containerd is not installed.
func Start(t testing.TB, o Options) *Containerd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: containerd and containers")
	}
	if o.Binary == "" {
		o.Binary = Binary
		if _, err := os.Stat(Binary); err != nil {
			t.Skipf("needs %s (Debian package containerd)", Binary)
		}
	}
	dir, err := os.MkdirTemp("", "ctd")
	if err != nil {
		t.Fatal(err)
	}
	c := &Containerd{Dir: dir, Address: filepath.Join(dir, "c.sock"), Namespace: fmt.Sprintf("wasmrt-test-%d", os.Getpid()), pathDir: o.ShimDir, binary: o.Binary}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "version = 2\nroot = %q\nstate = %q\n", filepath.Join(dir, "root"), filepath.Join(dir, "state"))
	if o.CRI == nil {
		cfg.WriteString("disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n")
	}
	fmt.Fprintf(&cfg, "[grpc]\n  address = %q\n[debug]\n  level = \"debug\"\n", c.Address)
	if o.CRI != nil {
		cfg.WriteString("[plugins.\"io.containerd.grpc.v1.cri\"]\n")
		for _, l := range o.CRI {
			cfg.WriteString(l + "\n")
		}
	}
	c.config = filepath.Join(dir, "config.toml")
	if err := os.WriteFile(c.config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if c.log, err = os.Create(filepath.Join(dir, "containerd.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(t) })
	c.start(t)
	return c
}

func (c *Containerd) start(t testing.TB) {
	t.Helper()
	c.cmd = exec.Command(c.binary, "--config", c.config)
	c.cmd.Env = append(os.Environ(), "PATH="+c.pathDir+":"+os.Getenv("PATH"))
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	// Its own session: a test's signals are not its.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, code := c.Ctr("version"); code == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not answer within 30 s; its log:\n%s", c.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart stops containerd (SIGTERM; running tasks and their shims stay)
// and starts it again.
func (c *Containerd) Restart(t testing.TB) {
	t.Helper()
	c.stop()
	c.start(t)
}

func (c *Containerd) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
	c.cmd = nil
}

// Log returns containerd's log so far (shim logs included).
func (c *Containerd) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "containerd.log"))
	return string(b)
}

// Ctr runs ctr against the instance and returns stdout, stderr and the
// exit code.
func (c *Containerd) Ctr(args ...string) (string, string, int) {
	return c.CtrIn("", args...)
}

// ctrTimeout bounds one ctr command: `ctr run` forwards SIGTERM to the
// task rather than ending, so a hung task must not hang the test.
const ctrTimeout = 2 * time.Minute

// CtrIn is Ctr with standard input.
func (c *Containerd) CtrIn(stdin string, args ...string) (string, string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), ctrTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"-a", c.Address, "-n", c.Namespace}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ctx.Err() != nil {
		code = -1
		fmt.Fprintf(&errb, "ctr did not finish within %v", ctrTimeout)
	} else if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

// MustCtr is Ctr that fails the test unless ctr succeeds.
func (c *Containerd) MustCtr(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, code := c.Ctr(args...)
	if code != 0 {
		t.Fatalf("ctr %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// Close stops containerd, kills what is left of the shims started from
// ShimDir and their containers, unmounts everything under Dir and removes
// it.
func (c *Containerd) Close(t testing.TB) {
	c.stop()
	if c.pathDir != "" {
		killExecutablesIn(c.pathDir)
	}
	if err := unmountUnder(c.Dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	// ctr puts containers under a cgroup named after the namespace; the
	// runtime removes the containers' own.
	for _, parent := range cgroupParents(c.Namespace) {
		for _, leaf := range CgroupsOf(c.Namespace) {
			_ = os.Remove(leaf)
		}
		_ = os.Remove(parent)
	}
	if c.log != nil {
		c.log.Close()
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// killExecutablesIn SIGKILLs every process running a binary from dir
// (including container inits, which are re-executions of the shim).
func killExecutablesIn(dir string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.HasPrefix(exe, dir+"/") {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Mounts lists the mount points at or below dir, deepest first.
func Mounts(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out, sc.Err()
}

func unmountUnder(dir string) error {
	mounts, err := Mounts(dir)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", m, err)
		}
	}
	return nil
}

// cgroupParents are the namespace's cgroup directories in every hierarchy.
func cgroupParents(namespace string) []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + namespace)
	if st, err := os.Stat("/sys/fs/cgroup/" + namespace); err == nil && st.IsDir() {
		dirs = append(dirs, "/sys/fs/cgroup/"+namespace)
	}
	return dirs
}

// CgroupsOf lists the containers' cgroups left under the namespace's.
func CgroupsOf(namespace string) []string {
	var out []string
	for _, parent := range cgroupParents(namespace) {
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, filepath.Join(parent, e.Name()))
			}
		}
	}
	return out
}
