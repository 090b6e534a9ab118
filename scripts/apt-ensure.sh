#!/usr/bin/env bash
# Installs the given Debian packages with apt-get when they are not
# installed yet, refreshing the package lists first. With --latest the
# packages are installed or upgraded to the newest version even when some
# version is present (used for debian-archive-keyring, whose newer releases
# add the keys of newer Debian suites).
#
# Usage: scripts/apt-ensure.sh [--latest] PACKAGE...
set -euo pipefail

latest=false
if [[ ${1:-} == --latest ]]; then
	latest=true
	shift
fi
if (($# == 0)); then
	echo "usage: $0 [--latest] PACKAGE..." >&2
	exit 2
fi

missing=()
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	if $latest || [[ $status != installed ]]; then
		missing+=("$pkg")
	fi
done
((${#missing[@]} == 0)) && exit 0

sudo=()
if ((EUID != 0)); then
	if ! command -v sudo >/dev/null; then
		echo "$0: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi
echo "apt-ensure: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
