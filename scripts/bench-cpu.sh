#!/bin/sh
# CPU benchmark of the riscv64 interpreter on two CPU-bound guest workloads
# from internal/cpubench/testdata:
#   sha256.c  SHA-256 over MIB MiB (arithmetic, a cipher's instruction mix),
#   mixed.c   ROUNDS rounds of hashing strings, a hash table, quicksort and
#             list walks (calls, branches, loads and stores),
# each run as
#   1. the same C program built natively for x86-64,
#   2. qemu-riscv64-static (JIT),
#   3. our interpreter built natively (internal/cpubench/runelf),
#   4. our interpreter compiled to wasip1 under wazero with a warm
#      compilation cache (internal/cpubench/wazerorun),
#   5. the same module with the program's code translated to WebAssembly
#      (internal/cpubench/translateelf, docs/translation.md), warm cache;
#      the module growth and the cold compile time are printed too,
#   6. and 7. the modules of 4 and 5 under wasmtime (scripts/wasmtimerun,
#      the wasmtime-go embedding from the Go module proxy), warm cache.
# Every runner is checked to print the same output. Last, BenchmarkRun of
# emulator/riscv64 (a guest loop, no ELF loader) runs natively and as a
# wasip1 test binary under wazero. Each measurement is
# repeated RUNS times (default 3) and the lowest wall and user CPU times
# are kept, which filters out other load on a shared machine. Prints one
# Markdown table per workload: wall and user CPU seconds, guest MIPS (the
# interpreter's instruction count over wall and over user time) and
# slowdown against native. Needs gcc, gcc-riscv64-linux-gnu,
# libc6-dev-riscv64-cross, qemu-user-static and GNU time (Debian package
# time).
# Usage: scripts/bench-cpu.sh [MIB [ROUNDS]]   (defaults 8 and 60)
set -eu
MIB=${1:-8}
ROUNDS=${2:-60}
RUNS=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
testdata=$root/internal/cpubench/testdata

for tool in gcc riscv64-linux-gnu-gcc qemu-riscv64-static /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-cpu: $tool not found" >&2; exit 1; }
done

for w in sha256 mixed; do
	gcc -O2 -o "$work/$w.x86" "$testdata/$w.c"
	riscv64-linux-gnu-gcc -O2 -static -o "$work/$w.rv" "$testdata/$w.c"
done
(cd "$root" && go build -o "$work/runelf" ./internal/cpubench/runelf)
(cd "$root" && GOOS=wasip1 GOARCH=wasm go build -o "$work/runelf.wasm" ./internal/cpubench/runelf)
(cd "$root" && go build -o "$work/wazerorun" ./internal/cpubench/wazerorun)
(cd "$root" && go build -o "$work/translateelf" ./internal/cpubench/translateelf)
(cd "$root/scripts/wasmtimerun" && go build -o "$work/wasmtimerun" .)
(cd "$root" && go test -c -o "$work/riscv64.test" ./emulator/riscv64)
(cd "$root" && GOOS=wasip1 GOARCH=wasm go test -c -o "$work/riscv64.test.wasm" ./emulator/riscv64)
mkdir -p "$work/cache"
cd "$work"
# runelf with each workload's code translated to WebAssembly
# (docs/translation.md), and the time wazero takes to compile it cold.
for w in sha256 mixed; do
	./translateelf runelf.wasm "$w.rv" "runelf-$w.wasm" 2>"translate-$w.txt"
	start=$(date +%s.%N)
	./wazerorun cache "runelf-$w.wasm" "$w.rv" 0 >/dev/null 2>&1
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	echo "$(cat "translate-$w.txt"); cold compile and a short run $secs s" >"translate-$w.txt"
done
# Warm the compilation caches.
./wazerorun cache runelf.wasm sha256.rv 0 >/dev/null 2>&1
for m in runelf.wasm runelf-sha256.wasm runelf-mixed.wasm; do
	./wasmtimerun "$m" sha256.rv 0 >/dev/null 2>&1
done
./wazerorun cache riscv64.test.wasm -test.run '^$' >/dev/null 2>&1

# measure NAME CMD... : runs CMD RUNS times, checks its output, records the
# lowest wall and user times and the interpreter's instruction count.
measure() {
	name=$1
	shift
	: >times.txt
	i=0
	while [ $i -lt "$RUNS" ]; do
		out=$(/usr/bin/time -f "%e %U" -o time.txt "$@" 2>stderr.txt) || { cat stderr.txt >&2; exit 1; }
		[ "$out" = "$want" ] || { echo "bench-cpu: $name printed $out, want $want" >&2; exit 1; }
		cat time.txt >>times.txt
		i=$((i + 1))
	done
	best=$(awk 'NR == 1 || $1 < w { w = $1 } NR == 1 || $2 < u { u = $2 } END { print w, u }' times.txt)
	echo "$name $best" >>results.txt
	grep -o '[0-9]* instructions' stderr.txt | cut -d' ' -f1 >>instructions.txt || true
}

# table WORKLOAD ARG DESCRIPTION
table() {
	w=$1 arg=$2
	want=$(./"$w.x86" "$arg")
	: >results.txt
	: >instructions.txt
	measure "native x86-64 (gcc -O2)" ./"$w.x86" "$arg"
	measure "qemu-riscv64-static" qemu-riscv64-static "$w.rv" "$arg"
	measure "interpreter, native Go" ./runelf "$w.rv" "$arg"
	measure "interpreter, wasip1 under wazero" ./wazerorun cache runelf.wasm "$w.rv" "$arg"
	measure "translated to wasm, under wazero" ./wazerorun cache "runelf-$w.wasm" "$w.rv" "$arg"
	measure "interpreter, wasip1 under wasmtime" ./wasmtimerun runelf.wasm "$w.rv" "$arg"
	measure "translated to wasm, under wasmtime" ./wasmtimerun "runelf-$w.wasm" "$w.rv" "$arg"
	insns=$(head -n1 instructions.txt)
	echo "Workload: $3, $insns riscv64 instructions; best of $RUNS runs."
	echo "Translation: $(sed 's/^translateelf: //' "translate-$w.txt")."
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
	echo
}

echo "$(nproc) CPUs, $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo
table sha256 "$MIB" "SHA-256 of $MIB MiB (sha256.c)"
table mixed "$ROUNDS" "$ROUNDS rounds of mixed.c"

echo "BenchmarkRun (go test -bench, emulator/riscv64):"
echo
echo '```'
./riscv64.test -test.run '^$' -test.bench BenchmarkRun -test.benchtime 50x | grep '^Benchmark' | sed 's/^/native: /'
./wazerorun cache riscv64.test.wasm -test.run '^$' -test.bench BenchmarkRun -test.benchtime 50x | grep '^Benchmark' | sed 's/^/wasip1: /'
echo '```'
