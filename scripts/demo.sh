#!/usr/bin/env bash
# The demo: c2w on a bundled riscv64 image built from Debian's own packages
# (make fixtures). Shows intake (inspect), safe flattening into a rootfs image,
# and the image's contents.
set -euo pipefail
cd "$(dirname "$0")/.."
c2w=bin/c2w
img=oci-layout:.fixtures/oci/bash:latest
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$c2w" inspect "$img"
step "$c2w" inspect --platform linux/amd64 oci-layout:.fixtures/oci/busybox:latest
step "$c2w" rootfs "$img" "$out/bash.img"
printf '\n\033[1m$ %s\033[0m\n' "$c2w rootfs --list $out/bash.img | grep -E 'bin/(bash|ls)$|ld-linux'"
"$c2w" rootfs --list "$out/bash.img" | grep -E 'bin/(bash|ls)$|ld-linux'
printf '\n\033[1m$ %s\033[0m\n' "$c2w rootfs --list $out/bash.img | wc -l"
"$c2w" rootfs --list "$out/bash.img" | wc -l
echo
echo "The rootfs image is what the emulator reads in place; see docs/rootfs-format.md."
