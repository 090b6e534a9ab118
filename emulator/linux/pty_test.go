//go:build linux

package linux_test

import (
	"testing"

	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// ptyScript drives a pseudo-terminal from python3 the way terminal
// programs do: line editing and echo through the master, raw mode and
// VMIN/VTIME, FIONREAD, a child session with the slave as controlling
// terminal getting SIGINT from a typed ^C (ptyJobScript), and hangup on
// master close.
// Under qemu the requests reach the host kernel's ptys, so the output is
// Linux's.
const ptyScript = `
import os, select, fcntl, struct, sys, signal
signal.alarm(60)
sys.stdout.reconfigure(line_buffering=True)
TCGETS, TCSETS, FIONREAD, TIOCGWINSZ, TIOCSWINSZ = 0x5401, 0x5402, 0x541B, 0x5413, 0x5414
def drain(fd):
    out = b""
    # A real kernel echoes asynchronously: give it a moment.
    while select.select([fd], [], [], 0.3)[0]:
        try: b = os.read(fd, 4096)
        except OSError: break
        if not b: break
        out += b
    return out
def getattr_(fd): return list(struct.unpack("<IIIIB19B", fcntl.ioctl(fd, TCGETS, b"\0" * 36)))
def setattr_(fd, a): fcntl.ioctl(fd, TCSETS, struct.pack("<IIIIB19B", *a))
VTIME, VMIN = 5 + 5, 6 + 5
m, s = os.openpty()
print(os.ttyname(s).startswith("/dev/pts/"), os.isatty(m), os.isatty(s))
os.write(m, b"ab\x7fc\x15xy\x17z w\x7f\n")
print(os.read(s, 100), drain(m))
os.write(s, b"out\nline\n"); print(drain(m))
os.write(m, b"one\ntwo\n")
# A real kernel moves input to the line discipline asynchronously: wait
# (up to a second) until both lines are there before counting them.
for _ in range(100):
    n = struct.unpack("i", fcntl.ioctl(s, FIONREAD, b"\0\0\0\0"))[0]
    if n >= 8: break
    select.select([], [], [], 0.01)
print(n, os.read(s, 100), os.read(s, 100))
a = getattr_(s); print(a[0], a[1], a[3] & 0xffff, a[VMIN], a[VTIME])
a[0] &= ~0o2400; a[1] &= ~1; a[3] &= ~0o100013; a[VMIN] = 1; setattr_(s, a)
os.write(m, b"\x03q\r\x7f"); print(os.read(s, 10), drain(m))
a[VMIN], a[VTIME] = 0, 1; setattr_(s, a); print(os.read(s, 10))
fcntl.ioctl(m, TIOCSWINSZ, struct.pack("HHHH", 33, 99, 0, 0))
print(struct.unpack("HHHH", fcntl.ioctl(s, TIOCGWINSZ, b"\0" * 8))[:2])
os.close(m)
p = select.poll(); p.register(s); print(p.poll(0)[0][1] & 0x1d)
print(os.read(s, 10))
try: os.write(s, b"x")
except OSError as e: print("write", e.errno)
os.close(s)`

// TestPTY runs ptyScript in the emulator and under qemu.
func TestPTY(t *testing.T) {
	argv := []string{"python3", "-c", ptyScript}
	want, wantErr := runOracle(t, fixtures.ImagePython, argv, "")
	got, gotErr, _ := runEmulator(t, fixtures.ImagePython, argv, "")
	if got != want {
		t.Errorf("emulator: status %d, stdout:\n%s\nstderr:\n%s\nqemu: status %d, stdout:\n%s\nstderr:\n%s",
			got.status, got.stdout, gotErr, want.status, want.stdout, wantErr)
	}
}

// ptyJobScript: a child in its own session with the pty as controlling
// terminal (forkpty: setsid, TIOCSCTTY) is the foreground group, and ^C
// typed at the master interrupts its read after flushing the partial
// line and echoing ^C.
const ptyJobScript = `
import os, sys, signal
signal.alarm(60)
pid, m = os.forkpty()
if pid == 0:
    print("child", os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp(), os.ttyname(0) == os.ttyname(1))
    sys.stdout.flush()
    try: input()
    except KeyboardInterrupt: print("interrupted"); sys.stdout.flush(); os._exit(3)
    os._exit(0)
got = b""
while b"child" not in got or not got.endswith(b"\n"): got += os.read(m, 100)
os.write(m, b"partial\x03")
while True:
    try: b = os.read(m, 100)
    except OSError: break
    if not b: break
    got += b
print(got, os.waitpid(pid, 0)[1] >> 8)`

// TestPTYJobControl runs ptyJobScript in the emulator. It is not
// compared with qemu: the parent types ^C as soon as it sees the child's
// greeting, so on a real kernel the signal may land before the child
// reaches input(), and the outcome depends on timing.
func TestPTYJobControl(t *testing.T) {
	got, stderr, _ := runEmulator(t, fixtures.ImagePython, []string{"python3", "-c", ptyJobScript}, "")
	want := "b'child True True True\\r\\n^Cinterrupted\\r\\n' 3\n"
	if got.status != 0 || got.stdout != want {
		t.Errorf("status %d, stdout %q, want %q\nstderr:\n%s", got.status, got.stdout, want, stderr)
	}
}

// TestPTYNode: /dev/pts/N appears with devpts's default owner and mode
// while the master is open, refuses opening while locked, and goes away
// at hangup.
func TestPTYNode(t *testing.T) {
	got, stderr, _ := runEmulator(t, fixtures.ImagePython, []string{"python3", "-c", `
import os, fcntl, struct
m = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
n = struct.unpack("I", fcntl.ioctl(m, 0x80045430, b"\0\0\0\0"))[0]
name = "/dev/pts/%d" % n
st = os.stat(name); print(name, oct(st.st_mode), st.st_uid == os.getuid())
try: os.open(name, os.O_RDWR)
except OSError as e: print("locked", e.errno)
fcntl.ioctl(m, 0x40045431, struct.pack("i", 0))
s = os.open(name, os.O_RDWR | os.O_NOCTTY); print(os.ttyname(s) == name)
os.close(m); print(os.path.exists(name))
`}, "")
	want := "/dev/pts/0 0o20600 True\nlocked 5\nTrue\nFalse\n"
	if got.status != 0 || got.stdout != want {
		t.Errorf("status %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", got.status, got.stdout, want, stderr)
	}
}
