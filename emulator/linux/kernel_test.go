//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package linux_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/syncbuf"
)

// TestProcesses checks what the oracle cannot show the same way (its
// process tree includes the sandbox's helpers): ps sees the pipeline.
func TestProcesses(t *testing.T) {
	got, stderr, _ := runEmulator(t, fixtures.ImageBusybox, []string{"sh", "-c", "ps -o pid,ppid,comm | cat"}, "")
	lines := strings.Split(strings.TrimSpace(got.stdout), "\n")
	if got.status != 0 || len(lines) != 4 || !strings.Contains(lines[0], "PID") || !strings.Contains(got.stdout, " sh") {
		t.Errorf("ps in a pipeline: status %d, stdout:\n%s\nstderr:\n%s", got.status, got.stdout, stderr)
	}
}

// TestTop runs busybox top once: it needs /proc/stat, /proc/meminfo,
// /proc/loadavg and the per-process stat files, whose values the oracle
// would take from the host.
func TestTop(t *testing.T) {
	got, stderr, _ := runEmulator(t, fixtures.ImageBusybox, []string{"sh", "-c", "top -b -n 1; head -1 /proc/stat"}, "")
	if got.status != 0 || !strings.Contains(got.stdout, "Load average:") || !strings.Contains(got.stdout, "top -b -n 1") ||
		!strings.Contains(got.stdout, "\ncpu  ") {
		t.Errorf("top: status %d, stdout:\n%s\nstderr:\n%s", got.status, got.stdout, stderr)
	}
}

// TestTrace checks the strace-style log: system calls with their result,
// unknown ones as ENOSYS.
func TestTrace(t *testing.T) {
	var trace bytes.Buffer
	k, err := linux.New(linux.Config{Image: loadImage(t, fixtures.ImageBusybox), Args: []string{"busybox", "cat", "/nonexistent"}, Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	status, err := k.Run()
	if err != nil || status != 1 {
		t.Fatalf("status %d, %v", status, err)
	}
	for _, want := range []string{`openat(0xffffffffffffff9c, "/nonexistent", `, ") = -1 ENOENT", "exit_group(0x1", "] rseq("} {
		if !strings.Contains(trace.String(), want) {
			t.Errorf("trace lacks %q:\n%s", want, trace.String())
		}
	}
	if k.Unsupported()["rseq"] == 0 {
		t.Errorf("rseq not counted as unsupported: %v", k.Unsupported())
	}
}

// TestMemoryLimit: a guest that touches more memory than the budget is
// killed like the kernel's OOM killer would (SIGKILL, status 137), and
// the machine survives.
func TestMemoryLimit(t *testing.T) {
	var stderr bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImage(t, fixtures.ImageBusybox), Args: []string{"sh", "-c", "dd if=/dev/zero bs=64M count=1 | wc -c; echo survived $?"},
		Stdout: &stderr, Stderr: &stderr, MemoryLimit: 32 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	status, err := k.Run()
	if err != nil {
		t.Fatalf("machine failed: %v", err)
	}
	if status != 0 || !strings.Contains(stderr.String(), "survived") {
		t.Errorf("status %d, output:\n%s", status, stderr.String())
	}
	if !strings.Contains(stderr.String(), "memory") && !strings.Contains(stderr.String(), "Killed") && !strings.Contains(stderr.String(), "survived 0") {
		t.Logf("output:\n%s", stderr.String())
	}
}

// TestHostileStart: a missing program or a non-executable fails New with
// a clear error instead of starting a machine.
func TestHostileStart(t *testing.T) {
	img := loadImage(t, fixtures.ImageBusybox)
	for _, argv := range [][]string{{"/nonexistent"}, {"/etc/passwd"}, {"/etc"}} {
		if _, err := linux.New(linux.Config{Image: img, Args: argv}); err == nil {
			t.Errorf("New(%q) succeeded", argv)
		}
	}
}

// TestSignalFrames compiles testdata/signals.c (handlers that inspect
// siginfo and ucontext, edit the saved pc, use the alternate stack, rely on
// sigreturn restoring FP state, SA_RESTART against EINTR, deaths by
// signal) and compares its output in the emulator with qemu-riscv64.
func TestSignalFrames(t *testing.T) {
	prog, want, _ := cOracle(t, "testdata/signals.c", "-lm")
	got, stderr := runCProgram(t, prog)
	if got.stdout != want || got.status != 128+int(syscall.SIGTERM) {
		t.Errorf("emulator: status %d, stdout:\n%s\nstderr:\n%s\nqemu:\n%s", got.status, got.stdout, stderr, want)
	}
}

// TestCProgramsMatchQemu compiles C programs of testdata and compares
// their output and exit status in the emulator with qemu-riscv64 (whose
// system calls are the host kernel's): locks.c (fcntl record locks between
// processes: conflicts, F_GETLK, splitting, release on close, blocking and
// EDEADLK; open file description locks; flock) and timerfd.c (blocking and
// non-blocking reads, periodic counts, gettime, absolute times, epoll),
// pidfd.c (a child watched, signalled and waited for through a pidfd),
// fsmisc.c (extended attributes, select on a closed descriptor, pipe
// capacity, sparse files, CPU-time clocks, several epoll events, an alarm
// interrupting select), mmapshared.c (MAP_SHARED file mappings) and
// ttyflow.c (tcflow and IXON on a pty) and scmrights.c (descriptor
// passing over AF_UNIX streams and datagrams), signalfd.c, inotify.c,
// memfd.c (file seals), fasync.c (signal-driven I/O, dnotify),
// sigqueue.c (queued real-time signals), inet.c and privatemap.c
// (private mappings of an image file, whose frames processes share,
// written by one of them).
func TestCProgramsMatchQemu(t *testing.T) {
	for _, src := range []string{"testdata/locks.c", "testdata/timerfd.c", "testdata/pidfd.c", "testdata/fsmisc.c", "testdata/mmapshared.c", "testdata/ttyflow.c", "testdata/scmrights.c", "testdata/signalfd.c", "testdata/inotify.c", "testdata/memfd.c", "testdata/fasync.c", "testdata/sigqueue.c", "testdata/inet.c", "testdata/privatemap.c"} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			prog, want, status := cOracle(t, src)
			got, stderr := runCProgram(t, prog)
			if got.stdout != want || got.status != status {
				t.Errorf("emulator: status %d, stdout:\n%s\nstderr:\n%s\nqemu: status %d, stdout:\n%s", got.status, got.stdout, stderr, status, want)
			}
		})
	}
}

// TestCProgramsMatchHost compiles C programs of testdata for riscv64
// and for the host, and compares their output in the emulator with the
// host's: for system calls whose structures are the same on both, where
// qemu-user's translation is not faithful. scmcreds.c (credentials over
// AF_UNIX, socket options): qemu drops MSG_CTRUNC of a truncated
// control message.
func TestCProgramsMatchHost(t *testing.T) {
	for _, src := range []string{"testdata/scmcreds.c"} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			prog, _, _ := cOracle(t, src)
			bin := filepath.Join(t.TempDir(), "native")
			if out, err := exec.Command("gcc", "-O1", "-o", bin, src).CombinedOutput(); err != nil {
				t.Fatalf("compile %s for the host: %v\n%s", src, err, out)
			}
			want, err := exec.Command(bin).Output()
			if err != nil {
				t.Fatalf("host run of %s: %v", src, err)
			}
			got, stderr := runCProgram(t, prog)
			if got.stdout != string(want) || got.status != 0 {
				t.Errorf("emulator: status %d, stdout:\n%s\nstderr:\n%s\nhost:\n%s", got.status, got.stdout, stderr, want)
			}
		})
	}
}

// cOracle compiles a C program of testdata statically for riscv64 and runs
// it under qemu-riscv64-static: the program, its stdout and exit status.
func cOracle(t *testing.T, src string, flags ...string) (prog []byte, stdout string, status int) {
	t.Helper()
	bin := cCompile(t, src, flags...)
	stdout, status = qemuRun(t, bin)
	prog, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return prog, stdout, status
}

// cCompile compiles a C program of testdata statically for riscv64 and
// returns the executable's path; it skips the test when there is no
// cross compiler or no qemu to run the result.
func cCompile(t *testing.T, src string, flags ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("riscv64-linux-gnu-gcc")
	if err != nil {
		t.Skip("riscv64-linux-gnu-gcc not installed (Debian gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross)")
	}
	if _, err := exec.LookPath("qemu-riscv64-static"); err != nil {
		t.Skip("qemu-riscv64-static not installed (Debian qemu-user-static): no oracle")
	}
	bin := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c"))
	args := append([]string{"-static", "-O1", "-o", bin, src}, flags...)
	if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("compile %s: %v\n%s", src, err, out)
	}
	return bin
}

// qemuRun runs a riscv64 executable under qemu-riscv64-static: its stdout
// and exit status (128+N when signal N ended it).
func qemuRun(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	var want bytes.Buffer
	cmd := exec.Command("qemu-riscv64-static", append([]string{bin}, args...)...)
	cmd.Stdout = &want
	status := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("oracle: %v", err)
		}
		status = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = 128 + int(ws.Signal())
		}
	}
	return want.String(), status
}

// runCProgram runs prog in the busybox image; the program reaches the
// guest through standard input, the way a user would copy a file into a
// container.
func runCProgram(t *testing.T, prog []byte) (result, string) {
	t.Helper()
	got, stderr, _ := runEmulator(t, fixtures.ImageBusybox, []string{"sh", "-c", "cat > /tmp/p; chmod +x /tmp/p; /tmp/p"}, string(prog))
	return got, stderr
}

// TestHostMount: a host directory mounted in the guest is read and
// written in place, and its symlinks resolve inside the guest's root.
func TestHostMount(t *testing.T) {
	outside := t.TempDir()
	host := filepath.Join(outside, "share")
	if err := os.Mkdir(host, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "in.txt"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(host, "escape")); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImage(t, fixtures.ImageBusybox), Stdout: &stdout, Stderr: &stderr,
		Mounts: []linux.Mount{{Host: host, Guest: "/mnt/data"}},
		Args: []string{"sh", "-c", `cat /mnt/data/in.txt; echo out > /mnt/data/out.txt; mkdir /mnt/data/d; mv /mnt/data/out.txt /mnt/data/d/;
cmp /mnt/data/escape /etc/passwd && echo same; rm /mnt/data/in.txt; cp /etc/group /mnt/data/d/; ls /mnt/data /mnt/data/d
ln /mnt/data/d/group /mnt/data/.. 2>/dev/null; mkdir /mnt/data/../outside; touch /mnt/data/d/../../x; mv /mnt/data/d/group /mnt/data/.. 2>/dev/null; true`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := k.Run(); err != nil || status != 0 {
		t.Fatalf("status %d, %v\n%s", status, err, stderr.String())
	}
	want := "from host\nsame\n/mnt/data:\nd\nescape\n\n/mnt/data/d:\ngroup\nout.txt\n"
	if stdout.String() != want {
		t.Errorf("guest output:\n%s\nwant:\n%s", stdout.String(), want)
	}
	if b, err := os.ReadFile(filepath.Join(host, "d", "out.txt")); err != nil || string(b) != "out\n" {
		t.Errorf("host sees %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(host, "in.txt")); !os.IsNotExist(err) {
		t.Errorf("removed file still on the host: %v", err)
	}
	if ents, err := os.ReadDir(outside); err != nil || len(ents) != 1 {
		t.Errorf("the guest wrote next to the mounted directory: %v, %v", ents, err)
	}
}

// TestHostSharedMapping runs testdata/mmaphost.c on a mounted host
// directory and compares with qemu-riscv64 (on a host directory too):
// writable shared mappings of host files are coherent inside the guest,
// and what stores changed reaches the host file.
func TestHostSharedMapping(t *testing.T) {
	prog, want, _ := cOracle(t, "testdata/mmaphost.c")
	host := t.TempDir()
	var stdout, stderr bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImage(t, fixtures.ImageBusybox), Stdout: &stdout, Stderr: &stderr, Env: testEnv,
		Stdin:  bytes.NewReader(prog),
		Mounts: []linux.Mount{{Host: host, Guest: "/mnt/host"}},
		Args:   []string{"sh", "-c", "cat > /tmp/p; chmod +x /tmp/p; /tmp/p /mnt/host"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := k.Run(); err != nil || status != 0 || stdout.String() != want {
		t.Fatalf("status %d, %v, stdout:\n%s\nstderr:\n%s\nqemu:\n%s", status, err, stdout.String(), stderr.String(), want)
	}
	b, err := os.ReadFile(filepath.Join(host, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	// Stores at 0 and 4097 and the write at 100 survive; 5000 and 9000
	// were cut by the shrink and read as zeros after the file grew again.
	if len(b) != 3*4096 || b[0] != 'X' || b[100] != 'W' || b[4097] != 'Q' || b[5000] != 0 || b[9000] != 0 || b[1] != 'a' {
		t.Errorf("host file: %d bytes, [0]=%q [1]=%q [100]=%q [4097]=%q [5000]=%q [9000]=%q", len(b), b[0], b[1], b[100], b[4097], b[5000], b[9000])
	}
}

// TestTerminal: with a terminal configured, the standard streams are a
// tty whose settings and window size programs can read and change.
func TestTerminal(t *testing.T) {
	var stdout, stderr bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImage(t, fixtures.ImageBusybox), Stdout: &stdout, Stderr: &stderr,
		Terminal: &linux.Terminal{Rows: 30, Cols: 100},
		Args: []string{"sh", "-c", `test -t 0 && test -t 1 && echo tty; tty; stty size; stty -echo; stty -a | grep -c -- -echo;
stty rows 40 cols 120; stty size; echo via-dev-tty > /dev/tty; test -t 0 < /etc/passwd || echo file-not-tty`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := k.Run(); err != nil || status != 0 {
		t.Fatalf("status %d, %v\n%s", status, err, stderr.String())
	}
	// The terminal's output processing (ONLCR) ends lines with CR LF.
	want := "tty\r\n/dev/pts/0\r\n30 100\r\n1\r\n40 120\r\nvia-dev-tty\r\nfile-not-tty\r\n"
	if stdout.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s\nstderr:\n%s", stdout.String(), want, stderr.String())
	}
}

// TestConsoleResize: a host resize reaches the guest as a new window size
// and SIGWINCH to the foreground group, also while the machine waits for
// the host (a read of the terminal that gets no input).
func TestConsoleResize(t *testing.T) {
	stdin, feed := io.Pipe()
	defer feed.Close()
	var stdout syncbuf.Buffer
	var stderr bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImage(t, fixtures.ImageBusybox), Stdin: stdin, Stdout: &stdout, Stderr: &stderr, Env: testEnv,
		Terminal: &linux.Terminal{Rows: 24, Cols: 80},
		Args: []string{"sh", "-c", `trap 'echo winch; stty size; n=$((n+1)); test $n = 2 && exit 3' WINCH; stty size; echo ready
while :; do read x; done`},
	})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() { s, err := k.Run(); done <- result{s, err} }()
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stdout.String(), want); {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the output: %q\nstderr:\n%s", want, stdout.String(), stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("ready\r\n")
	k.ResizeConsole(50, 132)
	waitFor("winch\r\n50 132\r\n")
	k.ResizeConsole(10, 20)
	select {
	case r := <-done:
		want := "24 80\r\nready\r\nwinch\r\n50 132\r\nwinch\r\n10 20\r\n"
		if r.err != nil || r.status != 3 || stdout.String() != want {
			t.Errorf("status %d, %v, output %q; want 3, %q\nstderr:\n%s", r.status, r.err, stdout.String(), want, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the second resize did not end the guest: %q", stdout.String())
	}
}

// TestNoLeaks: hundreds of short-lived processes, pipes and command
// substitutions give their memory and pids back.
func TestNoLeaks(t *testing.T) {
	got, stderr, _ := runEmulator(t, fixtures.ImageBusybox, []string{"sh", "-c", `free() { awk '/MemFree/{print $2}' /proc/meminfo; }
a=$(free); for i in $(seq 150); do (echo $i > /dev/null) & done; wait
for i in $(seq 50); do x=$(echo $i | cat | wc -c); done; b=$(free)
echo $((a - b < 1024)); ls /proc | grep -c '^[0-9]'`}, "")
	// The shell and the final pipeline (ls, grep) are all that is left.
	if got.status != 0 || got.stdout != "1\n3\n" {
		t.Errorf("status %d, stdout %q (want 1: under 1 MiB retained, and 3 processes)\nstderr:\n%s", got.status, got.stdout, stderr)
	}
}

// TestHostInputDoesNotStall runs a pipeline whose first task reads the
// host's standard input, which stays open without data, while another
// task prints and the shell exits: the machine must not wait for the
// host.
func TestHostInputDoesNotStall(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	var stdout, stderr bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImage(t, fixtures.ImageBusybox), Args: []string{"sh", "-c", `cat & echo printed; sleep 0.1; kill $!; echo done`},
		Env: testEnv, Stdin: r, Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	status, err := k.Run()
	if err != nil || status != 0 || stdout.String() != "printed\ndone\n" {
		t.Errorf("status %d, err %v, stdout %q, stderr %q", status, err, stdout.String(), stderr.String())
	}
}

// TestHostInputWakes feeds input after the guest started waiting for it:
// the machine blocks on the host, then delivers it.
func TestHostInputWakes(t *testing.T) {
	r, w := io.Pipe()
	go func() {
		time.Sleep(50 * time.Millisecond)
		io.WriteString(w, "late line\n")
		w.Close()
	}()
	var stdout bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImage(t, fixtures.ImageBusybox), Args: []string{"sh", "-c", `read x; echo "got $x"; cat; echo eof`},
		Env: testEnv, Stdin: r, Stdout: &stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := k.Run(); err != nil || status != 0 || stdout.String() != "got late line\neof\n" {
		t.Errorf("status %d, err %v, stdout %q", status, err, stdout.String())
	}
}

// TestProcPidFiles checks the /proc/PID files that ps, psutil and
// Python's own tests read, in a shell whose state is known: its
// environment, one thread, a sleeping child, a blocked signal, an ignored
// one and a caught one, a descriptor at a known offset.
func TestProcPidFiles(t *testing.T) {
	script := `trap 'echo' USR1; trap '' USR2
sleep 5 & child=$!
exec 3</etc/passwd; read -r line <&3
tr '\0' '\n' < /proc/self/environ | grep '^PATH='
ls /proc/$$/task
echo $(( ${#line} + 1 )) $(sed -n 's/^pos:\t//p' /proc/$$/fdinfo/3)
cut -d' ' -f3 /proc/$child/stat
grep '^State' /proc/$child/status
grep -E '^(SigIgn|SigCgt)' /proc/$$/status
wc -w < /proc/$$/statm
grep -c '^[0-9]* [0-9]* [0-9:]* / / ' /proc/$$/mountinfo
echo $$
kill $child`
	got, stderr, _ := runEmulator(t, fixtures.ImageBusybox, []string{"sh", "-c", script}, "")
	lines := strings.Split(strings.TrimSpace(got.stdout), "\n")
	if len(lines) != 10 {
		t.Fatalf("status %d, stdout:\n%s\nstderr:\n%s", got.status, got.stdout, stderr)
	}
	pid := lines[9]
	n, _, _ := strings.Cut(lines[2], " ")
	want := []string{
		testEnv[0],
		pid,         // the shell's only thread
		n + " " + n, // the offset after one line
		"S",         // the child sleeps
		"State:\tS (sleeping)",
		fmt.Sprintf("SigIgn:\t%016x", uint64(1)<<(12-1)),
		fmt.Sprintf("SigCgt:\t%016x", uint64(1)<<(10-1)),
		"7",
		"1",
	}
	for i, w := range want {
		if i == 6 {
			// The shell catches SIGCHLD and others too; SIGUSR1's bit
			// must be set.
			var v uint64
			if _, err := fmt.Sscanf(lines[i], "SigCgt:\t%x", &v); err != nil || v&(1<<(10-1)) == 0 {
				t.Errorf("line %d: %q, want SigCgt with SIGUSR1's bit", i, lines[i])
			}
			continue
		}
		if i == 5 {
			var v uint64
			if _, err := fmt.Sscanf(lines[i], "SigIgn:\t%x", &v); err != nil || v&(1<<(12-1)) == 0 {
				t.Errorf("line %d: %q, want SigIgn with SIGUSR2's bit", i, lines[i])
			}
			continue
		}
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i, lines[i], w)
		}
	}
}
