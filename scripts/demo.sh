#!/usr/bin/env bash
# The demo: c2w turns a bundled riscv64 image built from Debian's own
# packages (make fixtures) into one WebAssembly module and runs a real Linux
# userland in it: under c2w's embedded wazero and, when present, Node's WASI.
set -euo pipefail
cd "$(dirname "$0")/.."
c2w=bin/c2w
bash_img=oci-layout:.fixtures/oci/bash:latest
python_img=oci-layout:.fixtures/oci/python:latest
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Keep the demo's compilation cache out of the user's.
export XDG_CACHE_HOME=$out/cache

show() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
step() { show "$@"; "$@"; }

step "$c2w" inspect "$bash_img"
step "$c2w" "$bash_img" "$out/bash.wasm"
step "$c2w" "$python_img" "$out/python.wasm"
step wasm-validate "$out/bash.wasm"
step wasm-validate "$out/python.wasm"
step "$c2w" run "$out/bash.wasm" bash -c 'uname -a; echo; ls /; echo; ls / | wc -l; cat /etc/os-release | head -2'
step "$c2w" run "$out/python.wasm" python3 -c 'import platform, sys; print(sys.version.split()[0], platform.machine(), sum(i * i for i in range(1000)))'
show "echo 'piped through stdin' | $c2w run $out/bash.wasm tr a-z A-Z"
echo 'piped through stdin' | "$c2w" run "$out/bash.wasm" tr a-z A-Z
mkdir -p "$out/host"
step "$c2w" run -v "$out/host:/data" "$out/bash.wasm" --workdir /data bash -c 'echo written by the guest > note; ls -l'
step cat "$out/host/note"
show "$c2w run $out/bash.wasm bash -c 'kill -TERM \$\$'; echo \"exit status \$?\""
"$c2w" run "$out/bash.wasm" bash -c 'kill -TERM $$' || echo "exit status $?"
if command -v node >/dev/null; then
	show "node --no-turbo-fast-api-calls (node:wasi) $out/bash.wasm bash -c 'uname -m'"
	node --no-turbo-fast-api-calls --no-warnings cmd/c2w/testdata/run-wasi.mjs "$out/bash.wasm" bash -c 'uname -m'
fi
echo
echo "One module, no Docker and no Go toolchain at conversion time: see README.md (Converting and running)."
