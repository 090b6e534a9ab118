//go:build linux && amd64

package linux_test

import (
	"testing"

	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// amd64Cases run in the emulator's x86-64 CPU and natively on the host's
// (chrooted into the same tree): stdout and the exit status must match.
// Unlike the riscv64 oracle, the host runs every program natively, so
// scripts may start other programs freely.
var amd64Cases = []diffCase{
	cmd(fixtures.ImageBusybox, "busybox", "echo", "hi"),
	bb(`echo hello | tr a-z A-Z; seq 1 200 | sort -n | tail -3; seq 1 50 | awk '{s+=$1} END {print s}'`),
	bb(`i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo $i`),
	bb(`cat /etc/passwd | sha256sum; dd if=/dev/zero bs=1k count=64 2>/dev/null | md5sum`),
	bb(`mkdir /tmp/t && cd /tmp/t && echo a > a && mkdir b && echo c > b/c && tar czf /tmp/t.tgz . && mkdir /tmp/u && cd /tmp/u && tar xzf /tmp/t.tgz && find . | sort && cat b/c`),
	bb(`trap 'echo trapped' USR1; kill -USR1 $$; echo after; (exit 3); echo "status $?"`),
	bb(`kill -SEGV $$`),
	bb(`sleep 5 & kill $!; wait $!; echo "killed $?"`),
	bb(`printf '%s\n' 3.5 2.25 | awk '{s+=$1; p=p*1+$1*$1} END {printf "%.3f %g %e\n", s, p, s/7}'`),
	bb(`echo 'x y z' | xargs -n1 echo | wc -l; ls -la /usr/bin | head -3 | wc -l`),
	cmd(fixtures.ImageBashAMD64, "bash", "-c", `declare -A m=([a]=1 [b]=2); for k in "${!m[@]}"; do echo "$k=${m[$k]}"; done | sort; echo $((2**40 / 3))`),
	cmd(fixtures.ImageBashAMD64, "bash", "-c", `ls -l /usr/bin | wc -l; seq 1 1000 | sort -R --random-source=/dev/zero | head -2; echo $(( $(seq -s + 1 100) ))`),
	cmd(fixtures.ImageBashAMD64, "bash", "-c", `printf 'b\na\nc\n' | sort | tr '\n' ,; echo; date -d @86400 -u; stat -c '%A %U' /usr/bin/bash`),
	cmd(fixtures.ImageBashAMD64, "bash", "-c", `head -c 100000 /dev/zero | sha512sum; factor 1234567890123; echo abc | base64 | base64 -d`),
	cmd(fixtures.ImageBashAMD64, "bash", "-c", `f() { local x=$1; [ $x -le 1 ] && echo 1 && return; echo $(( x * $(f $((x-1))) )); }; f 15`),
	cmd(fixtures.ImageBashAMD64, "bash", "-c", `sleep 0.1 & wait; echo waited $?; mkfifo /tmp/f; (echo via fifo > /tmp/f &); cat /tmp/f`),
	cmd(fixtures.ImagePythonAMD64, "python3", "-c", `print("hello", 6*7)`),
	cmd(fixtures.ImagePythonAMD64, "python3", "-c", `import math; print(sum(i*i for i in range(10**5)), math.sqrt(2), 1/3, 2.5e-300*1e-10, float("nan"), repr(0.1+0.2), round(2.675, 2))`),
	cmd(fixtures.ImagePythonAMD64, "python3", "-c", `import hashlib, zlib; print(hashlib.sha256(b"x"*100000).hexdigest(), zlib.crc32(b"abc"*1000))`),
	cmd(fixtures.ImagePythonAMD64, "python3", "-c", `import os; r, w = os.pipe(); pid = os.fork()
if pid == 0:
    os.write(w, b"from child"); os._exit(5)
print(os.read(r, 100).decode(), os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))`),
	cmd(fixtures.ImagePythonAMD64, "python3", "-c", `import threading; out = []
def work(n): out.append(sum(range(n)))
ts = [threading.Thread(target=work, args=(10**4*i,)) for i in range(1, 5)]
[t.start() for t in ts]; [t.join() for t in ts]; print(sorted(out))`),
	cmd(fixtures.ImagePythonAMD64, "python3", "-c", `import signal, os
signal.signal(signal.SIGALRM, lambda s, f: print("alarm", s)); signal.alarm(1); signal.pause(); print("after")`),
	cmd(fixtures.ImagePythonAMD64, "python3", "-c", `print(f"{1e22:.17g} {2**0.5:.20f} {10**-7:e}", int("9"*50) % 97, divmod(-7, 2), 7.0 // 0.1, float.fromhex("0x1.8p-1074"))`),
	// V8 compiles JavaScript to x86-64 code at run time: the decoded-code
	// cache must follow its writes, W^X flips and code moved by the GC.
	cmd(fixtures.ImageNodeAMD64, "node", "-e", `console.log(1)`),
	cmd(fixtures.ImageNodeAMD64, "node", "-e", `let s = 0; for (let i = 0; i < 3e6; i++) s = (s + i * i) % 1000003; console.log(s);
const fs = require("fs"); fs.writeFileSync("/tmp/x.txt", "hello"); console.log(fs.readFileSync("/tmp/x.txt", "utf8"));
console.log(JSON.stringify({a: [1, 2.5, Math.sqrt(2)], d: new Date(0).toISOString()}), [3, 1, 2].sort(), (0.1 + 0.2).toFixed(20), Math.sin(1), Math.exp(-3.5), 2n ** 100n);
setTimeout(() => console.log("timer"), 10); Promise.resolve(5).then(v => console.log("promise", v));
console.log(require("crypto").createHash("sha256").update("abc").digest("hex"), Buffer.from("h\u00e9llo").toString("base64"), new Intl.NumberFormat("de-DE").format(1234567.891));`),
	cmd(fixtures.ImageNodeAMD64, "node", "-e", `const cp = require("child_process"); console.log(cp.execFileSync("/usr/bin/node", ["-p", "6*7"]).toString().trim());
const w = new (require("worker_threads").Worker)("require('worker_threads').parentPort.postMessage(42)", {eval: true}); w.on("message", m => console.log("worker", m));
process.on("exit", c => console.log("exit", c)); process.exitCode = 3;`),
	// HotSpot: its start-up checks CPUID, maps its class-data archive and
	// starts its threads; the probe (compiled from source by the
	// jdk.compiler module in the same run) adds code its JIT writes, null
	// checks and divisions by zero turned into exceptions from SIGSEGV and
	// SIGFPE, garbage collection and a thread pool. C1 only: C2 compiling
	// javac's hot methods would double the run (2.4 G instructions) for
	// nothing the C1 code does not already exercise.
	cmd(fixtures.ImageJavaAMD64, "java", "--version"),
	cmd(fixtures.ImageJavaAMD64, "java", "-XX:TieredStopAtLevel=1", fixtures.JavaProbePath),
}

func TestDifferentialAMD64(t *testing.T) {
	for _, tc := range amd64Cases {
		name := tc.image + ":" + joinArgs(tc.argv)
		t.Run(name, func(t *testing.T) {
			want, wantErr := runOracleFor(t, tc.image, "amd64", tc.argv, tc.stdin)
			got, gotErr, _ := runEmulatorFor(t, tc.image, "amd64", tc.argv, tc.stdin)
			if got != want {
				t.Errorf("%q:\nemulator: status %d, stdout:\n%s\nstderr:\n%s\nnative: status %d, stdout:\n%s\nstderr:\n%s",
					tc.argv, got.status, got.stdout, gotErr, want.status, want.stdout, wantErr)
			}
		})
	}
}
