#!/usr/bin/env bash
# make bench (part): c2w IMAGE OUT.wasm end to end, on the riscv64 fixtures.
#   1. Conversion time and OUT.wasm size per fixture vs the compressed image.
#   2. Start to exit of `sh -c true` and `python3 -c pass` under wazero
#      (c2w run, cold and warm compilation cache), with qemu-riscv64-static
#      running the same binaries from the same layers as the reference.
#   3. The floor: a trivial Go wasip1 program (internal/wasmprobe) against
#      `sh -c true`, warm, in c2w run and under the wazero CLI.
#   4. Start-up against image size: busybox plus a layer of 0 to 300 MiB of
#      incompressible data (internal/bigimage), `sh -c true` warm in c2w run
#      and under the wazero CLI, with c2w run's peak RSS.
#   5. Many processes: shell loops that start a program 100 times (riscv64
#      busybox) and coreutils 60 times (Debian's amd64 bash), warm, against
#      the same loops natively (the amd64 image's own binaries, chrooted).
# Needs bin/c2w (make build) and the fixtures (make fixtures). Results are
# recorded by hand in docs/performance-pack.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
c2w=${C2W:-$PWD/bin/c2w} # C2W=another build compares against it
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ms() { # ms CMD...: wall milliseconds of one run, output discarded
	local s e
	s=$(date +%s%N)
	"$@" >/dev/null 2>&1 </dev/null || true
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
compressed() { # compressed layer bytes of an OCI layout's riscv64 image
	"$c2w" inspect --json --platform linux/riscv64 "oci-layout:.fixtures/oci/$1:latest" |
		python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))'
}

echo "== conversion: c2w IMAGE OUT.wasm =="
printf '%-8s %12s %12s %12s %10s\n' fixture image-MiB out.wasm-MiB overhead-MiB convert-ms
for f in busybox bash python; do
	img=$(compressed "$f")
	t=$(for _ in $(seq "$runs"); do ms "$c2w" -q --precompile=false --platform linux/riscv64 "oci-layout:.fixtures/oci/$f:latest" "$work/$f.wasm"; done | median)
	"$c2w" -q --precompile=false --platform linux/riscv64 "oci-layout:.fixtures/oci/$f:latest" "$work/$f.wasm"
	out=$(stat -c %s "$work/$f.wasm")
	printf '%-8s %12s %12s %12s %10s\n' "$f" "$(mib "$img")" "$(mib "$out")" "$(mib $((out - img)))" "$t"
done

echo
echo "== start to exit (ms, median of $runs; cold = empty compilation cache) =="
printf '%-22s %8s %8s %8s\n' command cold warm qemu
root=$work/root
mkdir -p "$root"
for f in busybox python; do
	dir=.fixtures/oci/$f/blobs/sha256
	manifest=$("$c2w" inspect --json --platform linux/riscv64 "oci-layout:.fixtures/oci/$f:latest" |
		python3 -c 'import json,sys; print(" ".join(l["digest"][7:] for l in json.load(sys.stdin)["layers"]))')
	mkdir -p "$root/$f"
	for l in $manifest; do tar -xzf "$dir/$l" -C "$root/$f" 2>/dev/null || true; done
done
bench() { # bench NAME FIXTURE QEMU-BINARY SKIP ARGS...: qemu runs the binary with ARGS minus the first SKIP
	local name=$1 f=$2 bin=$3 skip=$4
	shift 4
	local cold warm qemu
	cold=$(for i in $(seq "$runs"); do XDG_CACHE_HOME=$work/cold$i ms "$c2w" run "$work/$f.wasm" "$@"; done | median)
	XDG_CACHE_HOME=$work/warm "$c2w" run "$work/$f.wasm" "$@" >/dev/null 2>&1 || true
	warm=$(for _ in $(seq "$runs"); do XDG_CACHE_HOME=$work/warm ms "$c2w" run "$work/$f.wasm" "$@"; done | median)
	qemu=$(for _ in $(seq "$runs"); do ms qemu-riscv64-static -L "$root/$f" "$root/$f/$bin" "${@:$((skip + 1))}"; done | median)
	printf '%-22s %8s %8s %8s\n' "$name" "$cold" "$warm" "$qemu"
}
bench "sh -c true" busybox bin/busybox 0 sh -c true
bench "python3 -c pass" python usr/bin/python3 1 python3 -c pass

echo
echo "== the floor: a trivial Go wasip1 program, warm (ms, median of $runs) =="
GOOS=wasip1 GOARCH=wasm go build -trimpath -o "$work/probe.wasm" ./internal/wasmprobe
CGO_ENABLED=0 go build -o "$work/wazero" github.com/tetratelabs/wazero/cmd/wazero
floor() { # floor HOST-CMD...: median warm wall time
	"$@" >/dev/null 2>&1 || true
	for _ in $(seq "$runs"); do ms "$@"; done | median
}
fc=$(XDG_CACHE_HOME=$work/warm floor "$c2w" run "$work/probe.wasm" args)
sc=$(XDG_CACHE_HOME=$work/warm floor "$c2w" run "$work/busybox.wasm" sh -c true)
fw=$(floor "$work/wazero" run -cachedir "$work/wz" "$work/probe.wasm" args)
sw=$(floor "$work/wazero" run -cachedir "$work/wz" "$work/busybox.wasm" sh -c true)
printf '%-14s %10s %14s %8s\n' host "Go floor" "sh -c true" ratio
printf '%-14s %10s %14s %7.2fx\n' "c2w run" "$fc" "$sc" "$(awk -v a="$sc" -v b="$fc" 'BEGIN {print a / b}')"
printf '%-14s %10s %14s %7.2fx\n' "wazero CLI" "$fw" "$sw" "$(awk -v a="$sw" -v b="$fw" 'BEGIN {print a / b}')"

echo
echo "== start-up against image size: busybox + N MiB of incompressible data, sh -c true warm (median of $runs) =="
go build -o "$work/bigimage" ./internal/bigimage
printf '%8s %12s %12s %12s %14s\n' "data-MiB" "out.wasm-MiB" "c2w-run-ms" "wazero-ms" "c2w-run-RSS-MiB"
for n in ${SIZES:-0 10 100 300}; do
	"$work/bigimage" .fixtures/oci/busybox "$work/big.tar" "$n"
	"$c2w" -q "docker-archive:$work/big.tar" "$work/big.wasm"
	rm -f "$work/big.tar"
	out=$(stat -c %s "$work/big.wasm")
	tc=$(XDG_CACHE_HOME=$work/warm floor "$c2w" run "$work/big.wasm" sh -c true)
	tw=$(floor "$work/wazero" run -cachedir "$work/wz" "$work/big.wasm" sh -c true)
	rss=$(XDG_CACHE_HOME=$work/warm /usr/bin/time -f %M "$c2w" run "$work/big.wasm" sh -c true 2>&1 >/dev/null | tail -1)
	printf '%8s %12s %12s %12s %14s\n' "$n" "$(mib "$out")" "$tc" "$tw" "$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')"
done

echo
echo "== many processes: shell loops starting programs, warm (ms, median of $runs) =="
loop_true='i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done'
loop_coreutils='for i in $(seq 30); do ls / >/dev/null; cat /etc/os-release >/dev/null; done'
"$c2w" -q oci-layout:.fixtures/oci/bash-amd64:latest "$work/bash-amd64.wasm"
mkdir -p "$root/bash-amd64"
for l in $("$c2w" inspect --json oci-layout:.fixtures/oci/bash-amd64:latest |
	python3 -c 'import json,sys; print(" ".join(l["digest"][7:] for l in json.load(sys.stdin)["layers"]))'); do
	tar -xzf ".fixtures/oci/bash-amd64/blobs/sha256/$l" -C "$root/bash-amd64" 2>/dev/null || true
done
printf '%-44s %10s %10s\n' loop "c2w run" native
bt=$(XDG_CACHE_HOME=$work/warm floor "$c2w" run "$work/busybox.wasm" sh -c "$loop_true")
nt=$(floor sh -c "$loop_true")
printf '%-44s %10s %10s\n' "100 x /bin/true (busybox riscv64 sh)" "$bt" "$nt"
bc=$(XDG_CACHE_HOME=$work/warm floor "$c2w" run "$work/bash-amd64.wasm" bash -c "$loop_coreutils")
nc=$(floor chroot "$root/bash-amd64" bash -c "$loop_coreutils")
printf '%-44s %10s %10s\n' "30 x (ls; cat) (bash + coreutils amd64)" "$bc" "$nc"
