package runtime_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// probe prints what a container process observes about itself. Each line
// must come out the same under wasmrt and under runc for the same bundle.
const probe = `
id
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status
echo "nofile $(ulimit -n) core $(ulimit -c)"
echo "umask $(umask) cwd $(pwd) host $(hostname)"
echo "oom $(cat /proc/self/oom_score_adj)"
echo "dev: $(ls /dev | tr '\n' ' ')"
echo "shm: $(touch /dev/shm/x && echo writable)"
echo "root: $(touch /x 2>&1 >/dev/null | grep -c Read-only)"
echo "masked kcore: $(cat /proc/kcore 2>&1 | wc -c)"
echo "readonly sys: $(echo 1 2>&1 >/proc/sys/kernel/shmmax | grep -c Read-only)"
echo "sysctl: $(cat /proc/sys/kernel/msgmax)"
echo "seccomp chdir: $(cd /tmp 2>&1 | grep -c 'not permitted')"
echo "pid1: $$"
echo "lo: $(cat /sys/class/net/lo/operstate) $(cat /sys/class/net/lo/flags)"
echo "env: $FOO"
grep -E ' /(dev|proc|sys)(/[a-z]+)? ' /proc/self/mountinfo | awk '{print $5, $6}' | sort
`

func TestSameAsRunc(t *testing.T) {
	requireRoot(t)
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("needs runc (Debian package runc) as the reference runtime")
	}
	e := newEnv(t)
	id := testID(t)
	umask := uint32(0o027)
	adj := 100
	e.spec.Hostname = "probe"
	e.spec.Process.Args = []string{"sh", "-c", probe}
	e.spec.Process.Env = append(e.spec.Process.Env, "FOO=bar baz")
	e.spec.Process.Cwd = "/tmp"
	e.spec.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: &umask}
	e.spec.Process.OOMScoreAdj = &adj
	caps := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	e.spec.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: caps, Permitted: caps, Effective: caps, Inheritable: caps[:1], Ambient: caps[:1],
	}
	e.spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 321, Hard: 654}, {Type: "RLIMIT_CORE", Soft: 0, Hard: 0}}
	e.spec.Linux.Sysctl = map[string]string{"kernel.msgmax": "4242"}
	e.spec.Linux.Namespaces = append(e.spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.IPCNamespace})
	e.spec.Linux.Namespaces = dedupNamespaces(e.spec.Linux.Namespaces)
	e.spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"chdir"}, Action: specs.ActErrno}},
	}
	// Both runtimes write in the same root filesystem; start from the same
	// state each time.
	e.spec.Root.Readonly = true
	e.writeSpec()

	ours, errs, code := e.run("run", "--bundle", e.bundle, id)
	if code != 0 {
		t.Fatalf("wasmrt run: exit %d: %s", code, errs)
	}
	cmd := exec.Command(runc, "--root", filepath.Join(t.TempDir(), "runc"), "run", "--bundle", e.bundle, id+"-runc")
	theirs, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("runc run: %v\n%s", err, theirs)
	}
	if ours != string(theirs) {
		t.Errorf("container view differs\n--- wasmrt\n%s\n--- runc\n%s", ours, theirs)
	}
	for _, want := range []string{"uid=1000 gid=1000 groups=10,20", "nofile 321", "umask 0027 cwd /tmp host probe", "oom 100", "sysctl: 4242", "seccomp chdir: 1", "pid1: 1", "env: bar baz", "lo: unknown 0x9"} {
		if !strings.Contains(ours, want) {
			t.Errorf("wasmrt output lacks %q:\n%s", want, ours)
		}
	}
}

func dedupNamespaces(in []specs.LinuxNamespace) []specs.LinuxNamespace {
	seen := map[specs.LinuxNamespaceType]bool{}
	var out []specs.LinuxNamespace
	for _, ns := range in {
		if !seen[ns.Type] {
			seen[ns.Type] = true
			out = append(out, ns)
		}
	}
	return out
}

// TestConsoleSocket checks the terminal path: the pty is made inside the
// container and its master arrives over --console-socket by SCM_RIGHTS.
func TestConsoleSocket(t *testing.T) {
	e := newEnv(t)
	id := testID(t)
	e.spec.Process.Terminal = true
	e.spec.Process.Args = []string{"sh", "-c", "test -t 0 && test -t 1 && echo tty-ok; tty"}
	e.writeSpec()
	master := e.createWithConsole(id)
	defer master.Close()
	e.mustRun("start", id)
	var out strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "/dev/pts/") {
		_ = master.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := master.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(out.String(), "tty-ok") || !strings.Contains(out.String(), "/dev/pts/0") {
		t.Fatalf("terminal output %q, want tty-ok and /dev/pts/0", out.String())
	}
}

// createWithConsole creates the container with a --console-socket and
// returns the pty master the container sends over it.
func (e *env) createWithConsole(id string) *os.File {
	t := e.t
	t.Helper()
	sockPath := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sockPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	masterCh := make(chan *os.File, 1)
	go func() {
		conn, err := l.AcceptUnix()
		if err != nil {
			masterCh <- nil
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			masterCh <- nil
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) != 1 {
			masterCh <- nil
			return
		}
		fds, _ := unix.ParseUnixRights(&msgs[0])
		if len(fds) != 1 {
			masterCh <- nil
			return
		}
		// Non-blocking, so that os.File polls it and read deadlines work.
		if err := unix.SetNonblock(fds[0], true); err != nil {
			masterCh <- nil
			return
		}
		masterCh <- os.NewFile(uintptr(fds[0]), "pty-master")
	}()
	e.mustRun("create", "--bundle", e.bundle, "--console-socket", sockPath, id)
	var master *os.File
	select {
	case master = <-masterCh:
	case <-time.After(10 * time.Second):
	}
	if master == nil {
		t.Fatal("no pty master received over the console socket")
	}
	return master
}

// readUntil reads from a pty master until want appears, or fails the test
// after the timeout.
func readUntil(t *testing.T, master *os.File, want string, timeout time.Duration) string {
	t.Helper()
	var out strings.Builder
	buf := make([]byte, 4096)
	deadline := time.Now().Add(timeout)
	for !strings.Contains(out.String(), want) {
		_ = master.SetReadDeadline(deadline)
		n, err := master.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("waiting for %q on the terminal: %v; got %q", want, err, out.String())
		}
	}
	return out.String()
}
