#!/usr/bin/env bash
# make bench: every benchmark, each next to its peer in the same run.
#   1. Intake: c2w's open + verify + flatten (+ write) of a ~250 MB image vs
#      go-containerregistry's mutate.Extract ("crane export") — MB/s and ratio.
#   2. Layer decoding/applying and rootfs image writing/reading micro-benchmarks.
#   3. The riscv64 CPU: our interpreter (native and wasip1 under wazero) vs
#      qemu-riscv64-static and the same program built for x86-64.
#   4. The x86-64 CPU next to the riscv64 one, whole emulator, vs native.
# Results are recorded by hand in docs/performance.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== intake: c2w vs crane export (MB/s of file content) =="
go test -run '^$' -bench 'BenchmarkConvert' -benchtime 3x ./convert | tee "$out"
awk '/BenchmarkConvert\// { split($1, n, "/"); sub(/-[0-9]+$/, "", n[2]); mbs[n[2]] = $(NF-1) }
     END { if (mbs["peer-crane-export"] > 0)
             for (k in mbs) if (k != "peer-crane-export")
               printf "  %-20s %8.1f MB/s  %.2fx crane export\n", k, mbs[k], mbs[k] / mbs["peer-crane-export"] }' "$out"

echo
echo "== layers and rootfs images =="
go test -run '^$' -bench 'BenchmarkFlatten|BenchmarkWrite|BenchmarkReadAt' -benchtime 3x ./convert/rootfs

echo
echo "== riscv64 CPU =="
bash scripts/bench-cpu.sh 8

echo
echo "== x86-64 CPU =="
bash scripts/bench-cpu-x86.sh
