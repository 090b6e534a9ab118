#!/usr/bin/env bash
# Runs CPython's own regression tests, module by module, in the converted
# python-tests fixture image and under qemu-riscv64 on the same root
# filesystem, and compares them (internal/guestconformance; the module list
# is internal/guestconformance/modules.txt). Fails when a module that passes
# under qemu does not pass in the converted image, unless the list marks it
# as a known difference.
#
# Needs root: qemu-riscv64 is registered with binfmt_misc (so that the
# programs tests start run under qemu too; an existing registration is
# kept) and the qemu side runs chrooted in its own namespaces.
#
# Environment: MODULES="test_a,test_b" runs a subset of the list;
# REPORT=FILE also writes the markdown table there; KEEP=DIR keeps the
# work directory (root filesystem, converted module, per-module logs) in
# DIR and reuses it on the next run; GUEST_TIMEOUT (per module and side,
# default 15m).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/local/go/bin:$PATH

if [ "$(id -u)" != 0 ]; then
	echo "conformance-guest: must run as root (binfmt_misc registration, chroot, namespaces)" >&2
	exit 2
fi
bash "$repo/scripts/apt-ensure.sh" qemu-user-static util-linux coreutils >&2
bash "$repo/scripts/fixtures.sh" >/dev/null

binfmt=/proc/sys/fs/binfmt_misc
if ! [ -e "$binfmt/register" ]; then
	mount -t binfmt_misc binfmt_misc "$binfmt"
fi
if ! [ -e "$binfmt/qemu-riscv64" ]; then
	# The F flag opens the interpreter now, so it runs inside the chroot.
	conf=/usr/lib/binfmt.d/qemu-riscv64.conf
	[ -e "$conf" ] || { echo "conformance-guest: $conf missing (qemu-user-static)" >&2; exit 2; }
	cat "$conf" >"$binfmt/register"
fi

work=${KEEP:-$(mktemp -d /tmp/guestconformance.XXXXXX)}
mkdir -p "$work"
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

echo "conformance-guest: building c2w" >&2
(cd "$repo" && make -s emulator-wasm && go build -trimpath -o "$work/c2w" ./cmd/c2w &&
	go build -o "$work/guestconformance" ./internal/guestconformance)

args=(-c2w "$work/c2w" -image "$repo/.fixtures/oci/python-tests"
	-modules "$repo/internal/guestconformance/modules.txt" -work "$work"
	-timeout "${GUEST_TIMEOUT:-15m}")
[ -z "${MODULES:-}" ] || args+=(-only "$MODULES")
[ -z "${REPORT:-}" ] || args+=(-report "$REPORT")
"$work/guestconformance" "${args[@]}"
