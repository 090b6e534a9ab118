#!/usr/bin/env bash
# Measures create + start + wait + delete of a busybox `true` container for
# wasmrt, runc and crun (Debian packages) in the same run, and wasmrt's peak
# RSS. Each runtime runs the same bundle `run` N times (run = create, start,
# wait for exit, delete); the median wall time is reported with the ratio
# to crun.
#
# Then the same for WebAssembly containers with the same isolation: a C
# module that returns at once (wasi-libc) and a Go module (wasmprobe) under
# wasmrt, warm (compilation cache filled) and cold (no cache), against runc
# running the wazero CLI inside a container on the same module (the
# comparison runwasi publishes), warm (its -cachedir on a bind mount) and
# cold.
#
# Usage: scripts/bench-runtime.sh [N]   (default N=50; root required)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/local/go/bin:$PATH
n=${1:-50}
if [ "$(id -u)" != 0 ]; then
	echo "bench-runtime: must run as root" >&2
	exit 2
fi
# crun refuses cgroup v1-hybrid hosts; on one, measure all three runtimes on
# the host's cgroup2 hierarchy, mounted as /sys/fs/cgroup in a private mount
# namespace, so they do the same cgroup work.
if [ -z "${BENCH_IN_NS:-}" ] && [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] &&
	[ -e /sys/fs/cgroup/unified/cgroup.controllers ]; then
	exec env BENCH_IN_NS=1 unshare -m sh -c \
		'mount --make-rprivate / && mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec bash "$0" "$@"' "$0" "$@"
fi
bash "$repo/scripts/apt-ensure.sh" runc crun busybox-static time libseccomp-dev pkg-config gcc \
	clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 >&2

work=$(mktemp -d /tmp/wasmrt-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Statically linked (libseccomp.a from libseccomp-dev), as a release build
# would be: each run starts the binary twice (the CLI and the re-executed
# init), and the dynamic loader costs about 0.2 ms per start.
(cd "$repo" && go build -tags netgo,osusergo -ldflags '-linkmode=external -extldflags=-static' -o "$work/wasmrt" ./cmd/wasmrt)

bundle="$work/bundle"
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
# The default isolation of `wasmrt spec`, running `true`, declared as
# runtime-spec 1.0.2 so that Debian's crun 1.8 accepts it. There is no
# linux.resources: crun needs CAP_SYS_RESOURCE (for RLIMIT_MEMLOCK) to load
# device filters, which some sandboxes withhold; every runtime still creates
# and removes the container's cgroup.
cat >"$bundle/config.json" <<'JSON'
{
	"ociVersion": "1.0.2",
	"root": {"path": "rootfs", "readonly": true},
	"process": {
		"args": ["true"], "cwd": "/",
		"env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		"capabilities": {
			"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
		},
		"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
		"noNewPrivileges": true
	},
	"hostname": "bench",
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
		{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
		{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
		{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
		{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
	],
	"linux": {
		"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
		"maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
		"readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
	}
}
JSON
for rt in "$work/wasmrt" runc crun; do
	"$rt" --root "$work/check" run --bundle "$bundle" check >/dev/null ||
		{ echo "bench-runtime: $rt cannot run the bundle" >&2; exit 1; }
done

# bench NAME BINARY [BUNDLE [FLAGS...]] -> prints the median in milliseconds
bench() {
	local name=$1 bin=$2 b=${3:-$bundle} root="$work/state-$1" times=()
	shift $(($# < 3 ? $# : 3))
	for i in $(seq 1 "$n"); do
		local start end
		start=$(date +%s%N)
		"$bin" --root "$root" "$@" run --bundle "$b" "bench-$i" >/dev/null
		end=$(date +%s%N)
		times+=($(((end - start) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f\n", m / 1000}'
}

w=$(bench wasmrt "$work/wasmrt")
r=$(bench runc "$(command -v runc)")
c=$(bench crun "$(command -v crun)")
rss=$(/usr/bin/time -f %M "$work/wasmrt" --root "$work/state-rss" run --bundle "$bundle" rss 2>&1 >/dev/null | tail -1)

echo "create+start+wait+delete of busybox true, median of $n runs"
printf '%-8s %10s %12s\n' runtime "median ms" "vs crun"
for row in "wasmrt $w" "runc $r" "crun $c"; do
	set -- $row
	printf '%-8s %10s %11.2fx\n' "$1" "$2" "$(awk -v a="$2" -v b="$c" 'BEGIN {print a / b}')"
done
echo "wasmrt peak RSS (run): ${rss} KiB"
echo "cgroup hierarchy: $(stat -f -c %T /sys/fs/cgroup)"

# WebAssembly: the same isolation, the program a module.
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/wazero" github.com/tetratelabs/wazero/cmd/wazero)
(cd "$repo" && GOOS=wasip1 GOARCH=wasm go build -trimpath -o "$work/probe.wasm" ./internal/wasmprobe)
printf 'int main(void) { return 0; }\n' >"$work/true.c"
clang-14 --target=wasm32-wasi -O2 -o "$work/true.wasm" "$work/true.c"
# wasm_bundle NAME MODULE ARGS-JSON [MOUNTS-JSON] -> a bundle running ARGS
wasm_bundle() {
	local dir="$work/bundle-$1"
	mkdir -p "$dir/rootfs/cache"
	cp "$2" "$dir/rootfs/"
	cp "$work/wazero" "$dir/rootfs/wazero"
	python3 - "$bundle/config.json" "$dir/config.json" "$3" "${4:-[]}" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = json.loads(sys.argv[3])
c["mounts"] += json.loads(sys.argv[4])
json.dump(c, open(sys.argv[2], "w"))
PY
	echo "$dir"
}
mkdir -p "$work/wazero-cache"
cache_mount='[{"destination": "/cache", "type": "bind", "source": "'"$work/wazero-cache"'", "options": ["rbind", "rw"]}]'
c_wasm=$(wasm_bundle c "$work/true.wasm" '["/true.wasm"]')
go_wasm=$(wasm_bundle go "$work/probe.wasm" '["/probe.wasm", "args"]')
c_wazero=$(wasm_bundle c-wazero "$work/true.wasm" '["/wazero", "run", "-cachedir", "/cache", "/true.wasm"]' "$cache_mount")
c_wazero_cold=$(wasm_bundle c-wazero-cold "$work/true.wasm" '["/wazero", "run", "/true.wasm"]')
go_wazero=$(wasm_bundle go-wazero "$work/probe.wasm" '["/wazero", "run", "-cachedir", "/cache", "/probe.wasm", "args"]' "$cache_mount")
go_wazero_cold=$(wasm_bundle go-wazero-cold "$work/probe.wasm" '["/wazero", "run", "/probe.wasm", "args"]')
wcache=(--wasm-cache "$work/wasmrt-cache")
# Fill both caches.
"$work/wasmrt" --root "$work/warm" "${wcache[@]}" run --bundle "$c_wasm" warm >/dev/null
"$work/wasmrt" --root "$work/warm" "${wcache[@]}" run --bundle "$go_wasm" warm >/dev/null
runc --root "$work/warm" run --bundle "$c_wazero" warm >/dev/null
runc --root "$work/warm" run --bundle "$go_wazero" warm >/dev/null

wn=$(bench wasmrt-native "$work/wasmrt")
wcw=$(bench wasmrt-c-warm "$work/wasmrt" "$c_wasm" "${wcache[@]}")
wcc=$(bench wasmrt-c-cold "$work/wasmrt" "$c_wasm" --wasm-cache "")
rcw=$(bench runc-c-warm runc "$c_wazero")
rcc=$(bench runc-c-cold runc "$c_wazero_cold")
wgw=$(bench wasmrt-go-warm "$work/wasmrt" "$go_wasm" "${wcache[@]}")
wgc=$(bench wasmrt-go-cold "$work/wasmrt" "$go_wasm" --wasm-cache "")
rgw=$(bench runc-go-warm runc "$go_wazero")
rgc=$(bench runc-go-cold runc "$go_wazero_cold")
wrss=$(/usr/bin/time -f %M "$work/wasmrt" --root "$work/state-rss" "${wcache[@]}" run --bundle "$c_wasm" rss 2>&1 >/dev/null | tail -1)

echo
echo "WebAssembly containers, create+start+wait+delete, median of $n runs"
echo "(module: true.wasm $(stat -c %s "$work/true.wasm") bytes, C/wasi-libc; probe.wasm $(stat -c %s "$work/probe.wasm") bytes, Go)"
printf '%-40s %10s %16s\n' container "median ms" "vs wasmrt native"
for row in "wasmrt:native-busybox-true $wn" \
	"wasmrt:C-module-warm $wcw" "wasmrt:C-module-cold $wcc" "runc+wazero-CLI:C-module-warm $rcw" "runc+wazero-CLI:C-module-cold $rcc" \
	"wasmrt:Go-module-warm $wgw" "wasmrt:Go-module-cold $wgc" "runc+wazero-CLI:Go-module-warm $rgw" "runc+wazero-CLI:Go-module-cold $rgc"; do
	set -- $row
	printf '%-40s %10s %15.2fx\n' "$1" "$2" "$(awk -v a="$2" -v b="$wn" 'BEGIN {print a / b}')"
done
echo "wasmrt peak RSS (run of the C module, warm): ${wrss} KiB"
