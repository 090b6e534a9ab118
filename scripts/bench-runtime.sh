#!/usr/bin/env bash
# Measures create + start + wait + delete of a busybox `true` container for
# wasmrt, runc and crun (Debian packages) in the same run, and wasmrt's peak
# RSS. Each runtime runs the same bundle `run` N times (run = create, start,
# wait for exit, delete); the median wall time is reported with the ratio
# to crun.
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
bash "$repo/scripts/apt-ensure.sh" runc crun busybox-static time libseccomp-dev pkg-config gcc >&2

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

# bench NAME BINARY -> prints the median in milliseconds
bench() {
	local name=$1 bin=$2 root="$work/state-$1" times=()
	for i in $(seq 1 "$n"); do
		local start end
		start=$(date +%s%N)
		"$bin" --root "$root" run --bundle "$bundle" "bench-$i" >/dev/null
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
