#!/usr/bin/env bash
# Builds the real-software test fixtures under .fixtures/ at the repository
# root (what they are: internal/fixtures/doc.go):
#
#   1. resolves and downloads Debian packages with apt-get, using a private
#      apt configuration per suite and architecture (trixie/riscv64 and
#      bookworm/amd64) whose mirror is the one this machine's own apt
#      sources use; Release signatures are checked against
#      debian-archive-keyring;
#   2. cross-compiles the Go programs of internal/fixtures/src/go for
#      linux/riscv64;
#   3. runs internal/fixtures/mkfixtures to assemble the OCI image layouts
#      and archives from them.
#
# Everything is cached under .fixtures: a run whose inputs (this script,
# the generator, the Go sources, the resolved package lists) have not
# changed only prints the summary and touches no network. Outputs are built
# in a staging directory and renamed into place, so an interrupted run never
# leaves a half-written fixture behind.
#
# Environment:
#   FIXTURES_DEBIAN_MIRROR  Debian mirror URI to use instead of the one in
#                           the apt sources (for hosts that are not Debian).
#   GO                      go command (default: go on PATH, else
#                           /usr/local/go/bin/go).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly FIX=$ROOT/.fixtures
readonly KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The trixie signing keys ship in debian-archive-keyring from bookworm's
# 2023.3+deb12u1 on; this file is how to tell an older keyring.
readonly TRIXIE_KEY=/usr/share/keyrings/debian-archive-trixie-stable.gpg

log() { printf 'fixtures: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

go_command() {
	if [[ -n ${GO:-} ]]; then
		echo "$GO"
	elif command -v go >/dev/null; then
		echo go
	elif [[ -x /usr/local/go/bin/go ]]; then
		echo /usr/local/go/bin/go
	else
		die "no go command: install Go or set GO"
	fi
}

# debian_mirror prints the URI of the Debian archive this machine's apt
# sources use for its own release, as apt itself parsed them (one-line and
# deb822 formats, only the files apt reads).
debian_mirror() {
	local codename suite uri
	# shellcheck source=/dev/null
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[[ -n $codename ]] || die "cannot tell this system's release from /etc/os-release; set FIXTURES_DEBIAN_MIRROR"
	for suite in "$codename" stable oldstable testing unstable; do
		# shellcheck disable=SC2016 # $(REPO_URI) is apt's format syntax
		uri=$(apt-get indextargets --no-release-info --format '$(REPO_URI)' \
			'Identifier: Packages' "Release: $suite" | head -n 1)
		if [[ -n $uri ]]; then
			echo "$uri"
			return
		fi
	done
	die "no Debian archive for '$codename' in the apt sources; set FIXTURES_DEBIAN_MIRROR (e.g. http://deb.debian.org/debian)"
}

# apt_env SUITE ARCH writes a private apt configuration for one suite and
# architecture under .fixtures/apt/SUITE-ARCH and prints its directory. It
# keeps the host's Acquire settings (proxies, timeouts) and nothing else of
# the host's apt configuration: no other sources, preferences or hooks.
apt_env() {
	local suite=$1 arch=$2
	local dir=$FIX/apt/$suite-$arch
	mkdir -p "$dir/lists/partial" "$dir/cache" "$dir/debs/partial" "$dir/state"
	[[ -e $dir/state/status ]] || : >"$dir/state/status"
	printf 'deb [arch=%s target=Packages lang=none signed-by=%s] %s %s main\n' \
		"$arch" "$KEYRING" "$MIRROR" "$suite" >"$dir/sources.list"
	{
		echo 'Dir::Etc::Parts "/dev/null";'
		echo 'Dir::Etc::Main "/dev/null";'
		apt-config dump Acquire
		cat <<-EOF
			Dir::Etc::SourceList "$dir/sources.list";
			Dir::Etc::SourceParts "/dev/null";
			Dir::Etc::Preferences "/dev/null";
			Dir::Etc::PreferencesParts "/dev/null";
			Dir::State "$dir/state";
			Dir::State::Lists "$dir/lists";
			Dir::State::status "$dir/state/status";
			Dir::Cache "$dir/cache";
			Dir::Cache::pkgcache "";
			Dir::Cache::srcpkgcache "";
			Dir::Cache::Archives "$dir/debs";
			APT::Architecture "$arch";
			APT::Architectures { "$arch"; };
			APT::Install-Recommends "false";
			APT::Install-Suggests "false";
		EOF
	} >"$dir/apt.conf"
	echo "$dir"
}

declare -A UPDATED=()

# private_apt DIR ARGS... runs apt-get with the private configuration in DIR.
private_apt() {
	local dir=$1
	shift
	APT_CONFIG=$dir/apt.conf apt-get "$@"
}

# deb_set NAME SUITE ARCH PACKAGE... makes sure the packages and their
# dependency closure (no recommends) are downloaded and writes the list of
# their files to $STAGE/NAME.list. The closure is remembered with the files'
# SHA-256 in .fixtures/apt/SUITE-ARCH/NAME.sha256; while that list verifies,
# nothing is resolved or downloaded again.
deb_set() {
	local name=$1 suite=$2 arch=$3
	shift 3
	local dir
	dir=$(apt_env "$suite" "$arch")
	local sums=$dir/$name.sha256
	if ! [[ -s $sums ]] || ! (cd "$dir/debs" && sha256sum --quiet --strict -c "$sums" >/dev/null 2>&1); then
		ensure_host_packages
		if [[ -z ${UPDATED[$dir]:-} ]]; then
			log "updating the $suite/$arch package lists from $MIRROR"
			private_apt "$dir" -q update >&2 || die "apt-get update for $suite/$arch failed (is $MIRROR reachable and does it carry $suite?)"
			UPDATED[$dir]=1
		fi
		log "resolving and downloading $name: $*"
		# A simulated install into the empty status file lists the whole
		# closure, with the alternatives and virtual packages apt picks.
		local plan
		plan=$(private_apt "$dir" -s -q install "$@") || die "cannot resolve $* for $suite/$arch"
		local files=()
		while read -r pkg version pkgarch; do
			files+=("${pkg}_${version//:/%3a}_${pkgarch}.deb")
		done < <(awk '$1 == "Inst" { v = $3; sub(/^\(/, "", v); a = $NF; if (a == "[]") a = $(NF-1); gsub(/[][)]/, "", a); print $2, v, a }' <<<"$plan")
		((${#files[@]} > 0)) || die "apt planned no packages for $*: $plan"
		private_apt "$dir" -qq -y --download-only install "$@" >&2 || die "downloading $* failed"
		(cd "$dir/debs" && sha256sum -- "${files[@]}") >"$sums.tmp" || die "apt did not leave the expected files in $dir/debs"
		mv "$sums.tmp" "$sums"
	fi
	sed -E "s|^[0-9a-f]{64}  |$dir/debs/|" "$sums" >"$STAGE/$name.list"
}

HOST_PACKAGES_CHECKED=
# ensure_host_packages installs what downloading needs, once per run and only
# when something has to be downloaded.
ensure_host_packages() {
	[[ -z $HOST_PACKAGES_CHECKED ]] || return 0
	"$ROOT/scripts/apt-ensure.sh" apt dpkg gpgv debian-archive-keyring
	[[ -e $TRIXIE_KEY ]] || "$ROOT/scripts/apt-ensure.sh" --latest debian-archive-keyring
	[[ -e $TRIXIE_KEY ]] || die "debian-archive-keyring has no trixie keys ($TRIXIE_KEY missing)"
	HOST_PACKAGES_CHECKED=1
}

# recipe_hash prints a digest of every input of the fixtures, so that a
# change to any of them rebuilds the outputs.
recipe_hash() {
	{
		"$GO_CMD" version
		cd "$ROOT"
		find scripts/fixtures.sh internal/fixtures -type f \
			\( -name '*.go' -o -name '*.sh' -o -name '*.c' -o -name '*.java' \) ! -name '*_test.go' -print0 |
			sort -z | xargs -0 sha256sum
		cat "$STAGE"/*.list | tr '\n' '\0' | xargs -0 sha256sum
	} | sha256sum | cut -d' ' -f1
}

outputs_present() {
	local p
	for p in oci/busybox oci/bash oci/python oci/python-tests oci/bash-amd64 oci/python-amd64 oci/node-amd64 oci/java-amd64 \
		oci/layers oci/layers.expected.json oci/gobin \
		archives/busybox-oci.tar archives/busybox-docker.tar summary.txt; do
		[[ -e $FIX/$p ]] || return 1
	done
	local src
	for src in "$ROOT"/internal/fixtures/src/go/*/; do
		[[ -e $FIX/go/riscv64/$(basename "$src") ]] || return 1
	done
}

main() {
	mkdir -p "$FIX"
	exec 9>"$FIX/.lock"
	flock 9
	SECONDS=0
	GO_CMD=$(go_command)
	# Under the lock no other run is using a staging directory: any left
	# over is from a run that was killed.
	rm -rf "$FIX"/.staging.*
	STAGE=$(mktemp -d "$FIX/.staging.XXXXXX")
	trap 'rm -rf "$STAGE"' EXIT
	trap 'exit 130' INT TERM

	MIRROR=${FIXTURES_DEBIAN_MIRROR:-}
	if [[ -z $MIRROR ]]; then
		command -v apt-get >/dev/null || die "apt-get not found: fixtures need a Debian host or FIXTURES_DEBIAN_MIRROR"
		MIRROR=$(debian_mirror)
	fi

	deb_set busybox trixie riscv64 busybox-static
	deb_set busybox-amd64 bookworm amd64 busybox-static
	deb_set bash trixie riscv64 bash coreutils
	deb_set python trixie riscv64 python3.13-minimal
	deb_set python-tests trixie riscv64 python3.13 libpython3.13-testsuite sqlite3 bash coreutils
	deb_set bash-amd64 bookworm amd64 bash coreutils
	deb_set python-amd64 bookworm amd64 python3.11-minimal
	deb_set node-amd64 bookworm amd64 nodejs
	deb_set java-amd64 bookworm amd64 openjdk-17-jre-headless
	log "packages ready (${SECONDS}s)"

	local hash
	hash=$(recipe_hash)
	if outputs_present && [[ $(cat "$FIX/recipe.sha256" 2>/dev/null) == "$hash" ]]; then
		log "up to date (${SECONDS}s)"
		cat "$FIX/summary.txt"
		return
	fi

	local out=$STAGE/out
	mkdir -p "$out/go/riscv64"
	log "cross-compiling Go programs for linux/riscv64"
	local src
	for src in "$ROOT"/internal/fixtures/src/go/*/; do
		(cd "$ROOT" && GOOS=linux GOARCH=riscv64 CGO_ENABLED=0 "$GO_CMD" build -trimpath \
			-o "$out/go/riscv64/$(basename "$src")" "./internal/fixtures/src/go/$(basename "$src")")
	done

	log "assembling images"
	(cd "$ROOT" && "$GO_CMD" build -o "$STAGE/mkfixtures" ./internal/fixtures/mkfixtures)
	"$STAGE/mkfixtures" -out "$out/images" -gobin "$out/go/riscv64" \
		-busybox "$STAGE/busybox.list" -busybox-amd64 "$STAGE/busybox-amd64.list" \
		-bash "$STAGE/bash.list" -python "$STAGE/python.list" -python-tests "$STAGE/python-tests.list" \
		-bash-amd64 "$STAGE/bash-amd64.list" -python-amd64 "$STAGE/python-amd64.list" \
		-node-amd64 "$STAGE/node-amd64.list" -java-amd64 "$STAGE/java-amd64.list" >/dev/null
	mv "$out/images/oci" "$out/images/archives" "$out/images/summary.txt" "$out/"

	# Replace the outputs one directory at a time; the recipe stamp goes
	# last, so an interruption anywhere here means a rebuild next time.
	rm -f "$FIX/recipe.sha256"
	local d
	for d in oci archives go summary.txt; do
		rm -rf "$FIX/$d.old"
		if [[ -e $FIX/$d ]]; then mv "$FIX/$d" "$FIX/$d.old"; fi
		mv "$out/$d" "$FIX/$d"
		rm -rf "$FIX/$d.old"
	done
	echo "$hash" >"$FIX/recipe.sha256.tmp"
	mv "$FIX/recipe.sha256.tmp" "$FIX/recipe.sha256"
	log "built in ${SECONDS}s"
	cat "$FIX/summary.txt"
}

main "$@"
