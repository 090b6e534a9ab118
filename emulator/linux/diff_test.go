//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package linux_test

import (
	"testing"

	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// diffCase is one command run both in the emulator and under
// qemu-riscv64-static on the same tree; stdout and the exit status must
// match. qemu cannot execve another riscv64 program without binfmt_misc,
// so oracle cases are single programs: busybox shell scripts work because
// busybox runs its applets in-process, bash scripts must stick to
// builtins, and coreutils run one at a time.
type diffCase struct {
	image string
	argv  []string
	stdin string
}

func bb(script string) diffCase {
	return diffCase{image: fixtures.ImageBusybox, argv: []string{"sh", "-c", script}}
}

func bash(script string) diffCase {
	return diffCase{image: fixtures.ImageBash, argv: []string{"bash", "-c", script}}
}

func cmd(image string, argv ...string) diffCase { return diffCase{image: image, argv: argv} }

// diffCases: add one line per command.
var diffCases = []diffCase{
	cmd(fixtures.ImageBusybox, "busybox", "echo", "hi"),
	bb(`echo hello | tr a-z A-Z`),
	bb(`for i in 1 2 3 4 5; do echo $i; done | sort -r | wc -l`),
	bb(`(echo sub; exit 3); echo "status $?"`),
	bb(`x=$(echo inner | sed s/inner/outer/); echo "$x"`),
	bb(`ls -la /usr/bin | head -3 | wc -l; ls /`),
	bb(`cat /etc/passwd | sha256sum`),
	bb(`seq 1 200 | sort -n | tail -3; seq 1 50 | awk '{s+=$1} END {print s}'`),
	bb(`printf 'b\na\nc\n' | sort; echo abc | wc -c`),
	bb(`f() { echo "f:$1"; return 4; }; f one; echo "rc $?"`),
	bb(`cat <<EOF
here doc $((6*7))
EOF`),
	bb(`echo data > /tmp/f && cat /tmp/f && rm /tmp/f && ls /tmp`),
	bb(`mkdir -p /tmp/d/e && echo x > /tmp/d/e/f && mv /tmp/d /tmp/g && find /tmp/g | sort`),
	bb(`sleep 0 & wait; echo waited $?`),
	bb(`trap 'echo trapped' USR1; kill -USR1 $$; echo after`),
	bb(`exit 7`),
	bb(`kill -9 $$`),
	bb(`ls /nonexistent; echo $?`),
	bb(`echo a:b:c | cut -d: -f2; echo hello world | grep -o wor; expr 3 + 4`),
	bb(`i=0; while [ $i -lt 100 ]; do i=$((i+1)); done; echo $i`),
	bb(`echo 'x y z' | xargs -n1 echo | wc -l`),
	bb(`readlink /bin; cd /usr/bin && pwd && cd .. && pwd`),
	bb(`echo one > /tmp/a; ln -s /tmp/a /tmp/l; cat /tmp/l; ln /tmp/a /tmp/h; stat -c '%h %s' /tmp/a`),
	bb(`find / -xdev -name 'p*' -not -path '/proc/*' -not -path '/dev/*' | sort | head`),
	bb(`tar cf - /etc 2>/dev/null | tar tf - | sort`),
	bb(`dd if=/dev/zero bs=1k count=64 2>/dev/null | md5sum`),
	bb(`head -c 100000 /dev/zero | wc -c`),
	bb(`yes | head -2; echo "pipe status $?"`),
	bb(`kill -SEGV $$`),
	bb(`sleep 5 & kill $!; wait $!; echo "killed $?"`),
	bb(`sleep 5 & p=$!; kill -STOP $p; kill -CONT $p; kill $p; wait $p; echo "stopped, continued, killed: $?"`),
	bb(`(sleep 0.2; echo late) & echo early; wait; echo done`),
	bb(`printf '#!/bin/sh\necho script "$@"\nexit 4\n' > /tmp/s; chmod +x /tmp/s; /tmp/s one two; echo "rc $?"`),
	bb(`printf '\177ELF\2\1\1junk' > /tmp/x; chmod +x /tmp/x; /tmp/x 2>/dev/null; echo "rc $?"`),
	bb(`printf '#!/tmp/y\n' > /tmp/y; chmod +x /tmp/y; /tmp/y 2>/dev/null; echo "rc $?"`),
	bb(`mkfifo /tmp/ff; (echo through fifo > /tmp/ff &); cat /tmp/ff`),
	bb(`exec 3>/tmp/o; echo fd3 >&3; exec 3>&-; cat /tmp/o; echo x >> /tmp/o; wc -l < /tmp/o`),
	bb(`test -d /proc/self && echo has proc; readlink /proc/self/exe; tr '\0' ' ' < /proc/self/cmdline; echo`),
	bb(`find / -xdev -not -path '/proc*' -not -path '/dev*' | sort`),
	bb(`mkdir /tmp/t && cd /tmp/t && echo a > a && mkdir b && echo c > b/c && tar czf /tmp/t.tgz . && mkdir /tmp/u && cd /tmp/u && tar xzf /tmp/t.tgz && find . | sort && cat b/c`),
	bb(`grep -r root /etc | sort; sed -n '1p;$p' /etc/passwd; awk -F: '{print NF, $1}' /etc/passwd`),
	bb(`echo "a b c" | (read x y z; echo "$z $y $x")`),
	bb(`set -- 1 2 3; while [ $# -gt 0 ]; do echo arg $1; shift; done; case abc in a*) echo matched;; esac`),
	bash(`while read -r l; do echo "[$l]"; done < <(printf 'p\nq\n'); cat <(echo procsub)`),
	bash(`set +m; for i in 1 2 3; do (echo job $i) & done | sort; wait; echo all`),
	bash(`f(){ echo "f:$1"; }; f a; a=(x y z); echo ${#a[@]} ${a[1]}; echo $((2**10))`),
	bash(`x=$(echo sub; exit 2); echo "$x $?"; echo a b | { read p q; echo "$q$p"; }`),
	bash(`declare -A m; m[k]=v; echo ${m[k]}; s="hello"; echo ${s^^} ${s:1:3}`),
	bash(`for i in {1..5}; do printf '%d,' $i; done; echo; (exit 9); echo $?`),
	bash(`trap 'echo bye' EXIT; echo hi`),
	bash(`mapfile -t lines < <(printf 'a\nb\nc\n'); echo ${#lines[@]} ${lines[2]}; printf -v v '%05d' 42; echo $v; [[ abc123 =~ ([a-z]+)([0-9]+) ]] && echo ${BASH_REMATCH[2]}`),
	bash(`set -e; f() { false; echo not reached; }; trap 'echo "err at $LINENO"' ERR; (f) || echo "caught $?"`),
	bash(`coproc C { read x; echo "co:$x"; }; echo ping >&${C[1]}; read -r r <&${C[0]}; echo $r; wait`),
	bash(`sleep 0.2 & sleep 0.1 & wait -n; echo first; wait; echo all; echo $BASH_VERSION | cut -d. -f1`),
	cmd(fixtures.ImageBash, "ls", "-l", "/usr/bin"),
	cmd(fixtures.ImageBash, "ls", "-lR", "/usr/lib/riscv64-linux-gnu/engines-3", "/etc"),
	// Directory sizes depend on the host file system the oracle runs on.
	bash(`ls -lR /usr/lib | grep -v '^d' | grep -v '^total' | sort | sha256sum; ls /usr/bin | wc -l`),
	bash(`cat /etc/passwd | sort -r | head -2; echo $(ls /usr) | tr ' ' ,`),
	cmd(fixtures.ImageBash, "sort", "/etc/passwd"),
	cmd(fixtures.ImageBash, "sha256sum", "/usr/bin/bash"),
	cmd(fixtures.ImageBash, "wc", "/usr/bin/ls"),
	{image: fixtures.ImageBash, argv: []string{"sort", "-r"}, stdin: "b\na\nc\n"},
	py(`import json, re, hashlib; print(json.dumps({"k": [1, 2.5, None]}, sort_keys=True)); print(re.sub(r"(\w+)@(\w+)", r"\2 at \1", "user@host")); print(hashlib.sha256(b"abc").hexdigest())`),
	py(`import threading
lock = threading.Lock(); total = [0]
def work(n):
    for i in range(n):
        with lock: total[0] += 1
ts = [threading.Thread(target=work, args=(2000,)) for _ in range(2)]
[t.start() for t in ts]; [t.join() for t in ts]
print("threads", total[0])`),
	py(`import os, sys, subprocess
pid = os.fork()
if pid == 0:
    os._exit(5)
print("child", os.WEXITSTATUS(os.waitpid(pid, 0)[1]))
with open("/tmp/x.txt", "w") as f: f.write("hello\n")
print(open("/tmp/x.txt").read().strip(), sorted(os.listdir("/tmp")))
out = subprocess.run([sys.executable, "-c", "print(6*7)"], capture_output=True, text=True)
print("sub", out.stdout.strip(), out.returncode)`),
	py(`import signal, time
got = []
signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
signal.alarm(1)
time.sleep(3)
print("alarm", got)`),
	py(`import sys; sys.exit(3)`),
	py(`import socket, os
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind("/tmp/sock"); srv.listen(1); print(oct(os.stat("/tmp/sock").st_mode))
if os.fork() == 0:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect("/tmp/sock")
    c.sendall(b"hello over unix"); print("child got", c.recv(100), flush=True); os._exit(0)
conn, _ = srv.accept()
print("server got", conn.recv(100), flush=True); conn.sendall(b"reply"); os.wait()
d1 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d1.bind("\0abstract")
d2 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d2.sendto(b"dgram", "\0abstract"); print(d1.recv(10))
for f in (lambda: socket.socket(socket.AF_UNIX).connect("/tmp/nosock"), lambda: socket.socket(socket.AF_UNIX).bind("/tmp/sock")):
    try: f()
    except OSError as e: print("errno", e.errno)`),
	py(`import os, signal, time
pid = os.fork()
if pid == 0:
    time.sleep(3); os._exit(7)
os.kill(pid, signal.SIGSTOP)
p, st = os.waitpid(pid, os.WUNTRACED); print("stopped", os.WIFSTOPPED(st), os.WSTOPSIG(st))
os.kill(pid, signal.SIGCONT)
p, st = os.waitpid(pid, os.WCONTINUED); print("continued", os.WIFCONTINUED(st))
os.kill(pid, signal.SIGTERM)
p, st = os.waitpid(pid, 0); print("term", os.WIFSIGNALED(st), os.WTERMSIG(st))`),
	py(`import os
fd = os.memfd_create("m"); os.write(fd, b"memfd data"); os.lseek(fd, 0, 0); print(os.read(fd, 100))
with open("/tmp/src", "wb") as f: f.write(b"0123456789")
s = os.open("/tmp/src", os.O_RDONLY); d = os.open("/tmp/dst", os.O_RDWR | os.O_CREAT, 0o644)
print(os.copy_file_range(s, d, 5, 2, 0)); os.posix_fallocate(d, 0, 20)
print(os.fstat(d).st_size, open("/tmp/dst", "rb").read())
os.mkfifo("/tmp/fifo"); print(oct(os.stat("/tmp/fifo").st_mode))
os.symlink("src", "/tmp/ln"); print(os.readlink("/tmp/ln"), os.path.realpath("/tmp/ln"))
os.rename("/tmp/src", "/tmp/moved"); print(sorted(os.listdir("/tmp")))`),
	py(`import socket, os
a, b = socket.socketpair()
a.sendall(b"ping"); print(b.recv(10))
if os.fork() == 0:
    b.sendall(b"from child"); os._exit(0)
print(a.recv(100)); os.wait()
x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
x.send(b"m1"); x.send(b"m2"); print(y.recv(10), y.recv(10))
a.close(); print(b.recv(10))`),
	cmd(fixtures.ImageGobin, "/usr/local/bin/hello", "a", "b c"),
	cmd(fixtures.ImageGobin, "/usr/local/bin/goroutines"),
	cmd(fixtures.ImageGobin, "/usr/local/bin/files"),
	cmd(fixtures.ImageGobin, "/usr/local/bin/floats"),
}

func py(script string) diffCase {
	return diffCase{image: fixtures.ImagePython, argv: []string{"python3", "-c", script}}
}

func TestDifferential(t *testing.T) {
	for _, tc := range diffCases {
		name := tc.image + ":" + joinArgs(tc.argv)
		t.Run(name, func(t *testing.T) {
			want, wantErr := runOracle(t, tc.image, tc.argv, tc.stdin)
			got, gotErr, _ := runEmulator(t, tc.image, tc.argv, tc.stdin)
			if got != want {
				t.Errorf("%q:\nemulator: status %d, stdout:\n%s\nstderr:\n%s\nqemu: status %d, stdout:\n%s\nstderr:\n%s",
					tc.argv, got.status, got.stdout, gotErr, want.status, want.stdout, wantErr)
			}
		})
	}
}

func joinArgs(argv []string) string {
	s := ""
	for i, a := range argv {
		if i > 0 {
			s += " "
		}
		s += a
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}
