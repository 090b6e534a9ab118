#!/usr/bin/env bash
# Runs the OCI runtime-tools validation suite (v0.9.0) against wasmrt and
# Debian's runc in the same job and compares them per test file.
#
# Builds everything from scratch in a temporary directory outside the
# repository: the suite from the Go module proxy (it predates modules: a
# go.mod is added with runtime-spec pinned to v1.0.2, the last spec it
# compiles against, and selinux v1.0.0 for the label API runtimetest uses),
# its test binaries and wasmrt itself. Each test binary runs from the suite's
# root as root, serially, inside its own mount namespace (several tests leak
# mounts), with a per-test timeout. TAP "ok"/"not ok" lines are counted
# directly: node-tap's YAML blocks defeat prove, and a failed hook is
# reported as a skip.
#
# A test file passes when it exited 0 and printed no "not ok", and it did
# not end in an empty plan ("1..0", how the suite reports a test it could
# not run), and it printed something: tests that expect create to fail
# (process_capabilities_fail) print only the runtime's error and no TAP,
# while a container that died silently leaves the output empty. Exit status: 0 when wasmrt passes every file runc passes, 1
# otherwise.
#
# Environment: KEEP=1 keeps the work directory; TESTS="a b" runs a subset;
# CONFORMANCE_TIMEOUT (seconds per test file, default 120).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/local/go/bin:$PATH
timeout_s=${CONFORMANCE_TIMEOUT:-120}

if [ "$(id -u)" != 0 ]; then
	echo "conformance: must run as root (the suite creates namespaces and cgroups)" >&2
	exit 2
fi

bash "$repo/scripts/apt-ensure.sh" runc libseccomp-dev pkg-config gcc util-linux tar >&2

work=$(mktemp -d /tmp/wasmrt-conformance.XXXXXX)
cleanup() { [ "${KEEP:-}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

echo "conformance: building wasmrt" >&2
(cd "$repo" && go build -o "$work/wasmrt" ./cmd/wasmrt)

echo "conformance: fetching and building runtime-tools v0.9.0" >&2
src=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json github.com/opencontainers/runtime-tools@v0.9.0 |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "conformance: runtime-tools download failed" >&2; exit 2; }
suite="$work/runtime-tools"
cp -r "$src" "$suite"
chmod -R u+w "$suite"
(
	cd "$suite"
	cat >go.mod <<'MOD'
module github.com/opencontainers/runtime-tools

go 1.16
MOD
	go mod edit -require=github.com/opencontainers/runtime-spec@v1.0.2 \
		-require=github.com/opencontainers/selinux@v1.0.0
	GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1
	# tidy may raise the pins; put them back.
	go mod edit -require=github.com/opencontainers/runtime-spec@v1.0.2 \
		-require=github.com/opencontainers/selinux@v1.0.0
	GOFLAGS=-mod=mod go build -o runtimetest ./cmd/runtimetest
	mkdir -p bin
	GOFLAGS=-mod=mod go build -o bin/ ./validation/...
) >&2

tests=${TESTS:-$(cd "$suite/bin" && ls | sort)}

# run_one RUNTIME TEST -> prints "pass|fail ok notok"
run_one() {
	local runtime=$1 t=$2 log=$3 rc=0
	(cd "$suite" && RUNTIME=$runtime timeout -k 10 "$timeout_s" unshare -m --propagation private "bin/$t") >"$log" 2>&1 || rc=$?
	local ok notok
	ok=$(grep -c '^ok ' "$log" || true)
	notok=$(grep -c '^not ok ' "$log" || true)
	if [ "$rc" = 0 ] && [ "$notok" = 0 ] && [ -s "$log" ] && ! { [ "$ok" = 0 ] && grep -q '^1\.\.0' "$log"; }; then
		echo "pass $ok $notok"
	else
		echo "fail $ok $notok"
	fi
}

mkdir -p "$work/logs"
printf '%-40s %-16s %-16s\n' "test file" "runc" "wasmrt"
runc_pass=0 wasmrt_pass=0 total=0 regressions=()
for t in $tests; do
	total=$((total + 1))
	read -r r_res r_ok r_notok < <(run_one "$(command -v runc)" "$t" "$work/logs/$t.runc")
	read -r w_res w_ok w_notok < <(run_one "$work/wasmrt" "$t" "$work/logs/$t.wasmrt")
	[ "$r_res" = pass ] && runc_pass=$((runc_pass + 1))
	[ "$w_res" = pass ] && wasmrt_pass=$((wasmrt_pass + 1))
	if [ "$r_res" = pass ] && [ "$w_res" != pass ]; then
		regressions+=("$t")
	fi
	printf '%-40s %-16s %-16s\n' "$t" "$r_res ($r_ok/$((r_ok + r_notok)))" "$w_res ($w_ok/$((w_ok + w_notok)))"
done

if [ "${KEEP:-}" = 1 ]; then
	echo "logs: $work/logs"
fi
echo "conformance: runc passes $runc_pass of $total test files, wasmrt passes $wasmrt_pass of $total"
if [ ${#regressions[@]} -gt 0 ]; then
	echo "conformance: FAIL: runc passes but wasmrt fails: ${regressions[*]}"
	exit 1
fi
echo "conformance: OK: wasmrt passes every test file runc passes"
