#!/bin/sh
# CPU benchmark of the riscv64 interpreter: one CPU-bound guest workload
# (SHA-256 over MIB MiB, internal/cpubench/testdata/sha256.c) run as
#   1. the same C program built natively for x86-64,
#   2. qemu-riscv64-static (JIT),
#   3. our interpreter built natively (internal/cpubench/runelf),
#   4. our interpreter compiled to wasip1 under wazero with a warm
#      compilation cache (internal/cpubench/wazerorun).
# Prints a Markdown table: wall and user CPU seconds, guest MIPS (from the
# interpreter's instruction count; wall-clock based) and slowdown against
# native. Needs gcc, gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross,
# qemu-user-static and GNU time (Debian package time).
# Usage: scripts/bench-cpu.sh [MIB]   (default 8)
set -eu
MIB=${1:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$root/internal/cpubench/testdata/sha256.c

for tool in gcc riscv64-linux-gnu-gcc qemu-riscv64-static /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-cpu: $tool not found" >&2; exit 1; }
done

gcc -O2 -o "$work/sha256.x86" "$src"
riscv64-linux-gnu-gcc -O2 -static -o "$work/sha256.rv" "$src"
(cd "$root" && go build -o "$work/runelf" ./internal/cpubench/runelf)
(cd "$root" && GOOS=wasip1 GOARCH=wasm go build -o "$work/runelf.wasm" ./internal/cpubench/runelf)
(cd "$root" && go build -o "$work/wazerorun" ./internal/cpubench/wazerorun)
mkdir -p "$work/cache"
cd "$work"
# Warm the compilation cache and check every variant computes the same digest.
want=$(./sha256.x86 1)
got=$(./wazerorun cache runelf.wasm sha256.rv 1 2>/dev/null)
[ "$want" = "$got" ] || { echo "bench-cpu: wasm digest $got, want $want" >&2; exit 1; }

# measure NAME CMD... : runs CMD, checks its digest, records wall/user time.
want=$(./sha256.x86 "$MIB")
measure() {
	name=$1
	shift
	out=$(/usr/bin/time -f "%e %U" -o time.txt "$@" 2>stderr.txt) || { cat stderr.txt >&2; exit 1; }
	[ "$out" = "$want" ] || { echo "bench-cpu: $name digest $out, want $want" >&2; exit 1; }
	read -r wall user <time.txt
	echo "$name $wall $user" >>results.txt
	grep -o '[0-9]* instructions' stderr.txt | cut -d' ' -f1 >>instructions.txt || true
}
: >results.txt
: >instructions.txt
measure "native x86-64 (gcc -O2)" ./sha256.x86 "$MIB"
measure "qemu-riscv64-static" qemu-riscv64-static sha256.rv "$MIB"
measure "interpreter, native Go" ./runelf sha256.rv "$MIB"
measure "interpreter, wasip1 under wazero" ./wazerorun cache runelf.wasm sha256.rv "$MIB"
insns=$(head -n1 instructions.txt)

echo "Workload: SHA-256 of $MIB MiB, $insns riscv64 instructions. $(nproc) CPUs, $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| runner | wall s | user s | guest MIPS (wall) | guest MIPS (user CPU) | slowdown vs native (wall) |"
echo "|---|---:|---:|---:|---:|---:|"
native=$(sed -n 1p results.txt | awk '{print $(NF-1)}')
while read -r line; do
	name=${line% * *}
	wall=$(echo "$line" | awk '{print $(NF-1)}')
	user=$(echo "$line" | awk '{print $NF}')
	awk -v n="$name" -v w="$wall" -v u="$user" -v i="$insns" -v b="$native" 'BEGIN {
		mw = (w > 0) ? i / w / 1e6 : 0; mu = (u > 0) ? i / u / 1e6 : 0
		printf "| %s | %.2f | %.2f | %.0f | %.0f | %.1fx |\n", n, w, u, mw, mu, (b > 0) ? w / b : 0 }'
done <results.txt
