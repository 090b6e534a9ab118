#!/usr/bin/env bash
# The x86-64 guest CPU next to the riscv64 one: the CPU benchmark's
# programs (internal/cpubench/testdata) built statically for each
# architecture, packed into an image each, converted with c2w and run by
# the whole emulator — natively compiled (c2w-emulator, which also counts
# the guest instructions) and as the converted module under wazero
# (c2w run, warm compilation cache) and Node, interpreted and with every
# page translated to WebAssembly (--translate=all) — against the program
# run natively on this x86-64 machine. Guest MIPS = instructions / wall
# time.
# Then the start-up of Debian's amd64 python3, node and java (the fixtures,
# when built) the same three ways.
# Usage: bench-cpu-x86.sh [SHA256_MIB] [MIXED_ROUNDS]
set -eu
MIB=${1:-4}
ROUNDS=${2:-20}
RUNS=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
testdata=$root/internal/cpubench/testdata

for tool in gcc riscv64-linux-gnu-gcc node /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-cpu-x86: $tool not found" >&2; exit 1; }
done
for w in sha256 mixed; do
	mkdir -p "$work/amd64" "$work/riscv64"
	gcc -O2 -static -o "$work/amd64/$w" "$testdata/$w.c"
	riscv64-linux-gnu-gcc -O2 -static -o "$work/riscv64/$w" "$testdata/$w.c"
done
(cd "$root" && go build -o "$work/mkimage" ./internal/cpubench/mkimage)
(cd "$root" && go build -o "$work/c2w-emulator" ./cmd/c2w-emulator)
c2w=$work/c2w
(cd "$root" && make -s emulator-wasm && go build -o "$c2w" ./cmd/c2w)
cd "$work"
for arch in amd64 riscv64; do
	./mkimage "layout-$arch" "$arch" "$arch/sha256" "$arch/mixed"
	"$c2w" -q "oci-layout:layout-$arch:latest" "$arch.wasm"
	"$c2w" -q --translate=all "oci-layout:layout-$arch:latest" "$arch-translated.wasm"
	"$c2w" rootfs -q "oci-layout:layout-$arch:latest" "$arch.img"
done

# best NAME CMD...: the lowest wall time of RUNS runs, checking the output.
best() {
	: >times.txt
	for _ in $(seq "$RUNS"); do
		out=$(/usr/bin/time -f "%e" -o time.txt "$@" 2>/dev/null) || { echo "bench-cpu-x86: $* failed" >&2; exit 1; }
		[ "$out" = "$want" ] || { echo "bench-cpu-x86: $* printed $out, want $want" >&2; exit 1; }
		cat time.txt >>times.txt
	done
	sort -n times.txt | head -n1
}

row() { # NAME SECONDS INSTRUCTIONS NATIVE_SECONDS
	# time(1) measures in hundredths: a native run below that has no ratio.
	awk -v n="$1" -v s="$2" -v i="$3" -v b="$4" 'BEGIN {
		slow = (b > 0) ? sprintf("%.0fx", s / b) : "n/a (native < 0.01 s)"
		printf "| %s | %.2f | %.0f | %s |\n", n, s, (s > 0) ? i / s / 1e6 : 0, slow }'
}

echo "$(nproc) CPUs, $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg); best of $RUNS runs."
echo
for w in sha256 mixed; do
	arg=$MIB
	[ "$w" = mixed ] && arg=$ROUNDS
	want=$(./amd64/$w "$arg")
	native=$(best ./amd64/$w "$arg")
	echo "$w $arg:"
	echo
	echo "| runner | wall s | guest MIPS | slowdown vs native |"
	echo "|---|---:|---:|---:|"
	row "native x86-64 (gcc -O2 -static)" "$native" 0 "$native"
	for arch in riscv64 amd64; do
		insns=$(./c2w-emulator -arch "$arch" -stats "$arch.img" "/bin/$w" "$arg" 2>&1 >/dev/null | grep -o '[0-9]* guest instructions' | cut -d' ' -f1)
		row "$arch guest, emulator native Go ($insns instructions)" "$(best ./c2w-emulator -arch "$arch" "$arch.img" "/bin/$w" "$arg")" "$insns" "$native"
		row "$arch guest, converted module under wazero (c2w run)" "$(best "$c2w" run "$arch.wasm" "/bin/$w" "$arg")" "$insns" "$native"
		row "$arch guest, converted module under Node" "$(best node --no-turbo-fast-api-calls --no-warnings "$root/cmd/c2w/testdata/run-wasi.mjs" "$arch.wasm" "/bin/$w" "$arg")" "$insns" "$native"
		row "$arch guest, translated (--translate=all) under wazero" "$(best "$c2w" run "$arch-translated.wasm" "/bin/$w" "$arg")" "$insns" "$native"
		row "$arch guest, translated (--translate=all) under Node" "$(best node --no-turbo-fast-api-calls --no-warnings "$root/cmd/c2w/testdata/run-wasi.mjs" "$arch-translated.wasm" "/bin/$w" "$arg")" "$insns" "$native"
	done
	echo
done

# Start-up of real programs: the amd64 fixtures, converted.
fix=$root/.fixtures/oci
if [ -d "$fix/python-amd64" ] && [ -d "$fix/node-amd64" ]; then
	echo "start-up (amd64 fixtures, warm compilation cache):"
	echo
	echo "| program | guest instructions | emulator native Go s | wazero (c2w run) s | Node s |"
	echo "|---|---:|---:|---:|---:|"
	for spec in "python-amd64|python3|-c pass" "node-amd64|node|-e console.log(1)" "java-amd64|java|--version"; do
		IFS='|' read -r image prog argv <<<"$spec"
		read -ra args <<<"$argv"
		[ -d "$fix/$image" ] || continue
		"$c2w" -q "oci-layout:$fix/$image:latest" "$image.wasm"
		"$c2w" rootfs -q "oci-layout:$fix/$image:latest" "$image.img"
		want=$(./c2w-emulator -arch amd64 "$image.img" "/usr/bin/$prog" "${args[@]}")
		insns=$(./c2w-emulator -arch amd64 -stats "$image.img" "/usr/bin/$prog" "${args[@]}" 2>&1 >/dev/null | grep -o '[0-9]* guest instructions' | cut -d' ' -f1)
		printf '| %s %s | %s | %s | %s | %s |\n' "$prog" "${args[*]}" "$insns" \
			"$(best ./c2w-emulator -arch amd64 "$image.img" "/usr/bin/$prog" "${args[@]}")" \
			"$(best "$c2w" run "$image.wasm" -- "$prog" "${args[@]}")" \
			"$(best node --no-turbo-fast-api-calls --no-warnings "$root/cmd/c2w/testdata/run-wasi.mjs" "$image.wasm" "$prog" "${args[@]}")"
	done
	echo
fi
