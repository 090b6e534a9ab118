#!/usr/bin/env bash
# make bench (part): converted containers in a browser (docs/browser.md).
# Sites for the busybox and python fixtures (c2w browser), each with the
# rootfs fetched lazily (the default) and embedded in the module
# (--embed-rootfs), served by c2w serve; headless Chromium loads each page
# until the prompt appears (convert/browser/web/test/load.mjs), RUNS times
# cold (a new browser context: empty HTTP and code caches) and warm
# (reloading), and reports the module's size against the bytes that
# crossed the wire. Needs
# bin/c2w (make build), the fixtures, chromium and .cache/web (make web).
set -euo pipefail
cd "$(dirname "$0")/.."
c2w=${C2W:-$PWD/bin/c2w}
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
cp convert/browser/web/test/load.mjs .cache/web/load.mjs

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

printf '%-16s %10s %10s %10s %10s %14s %14s %s\n' site module br gzip "rootfs read" "cold (ms)" "warm (ms)" "cold milestones (ms): downloaded compiled started prompt"
for spec in 'busybox|[#$] ?$|' 'python|>>> ?$|python3'; do
	IFS='|' read -r image prompt cmd <<<"$spec"
	args=()
	[ -n "$cmd" ] && args=(-- "$cmd")
	"$c2w" -q --platform linux/riscv64 --precompile=false "oci-layout:.fixtures/oci/$image:latest" "$work/$image.wasm"
	for layout in lazy embedded; do
		name=$image-$layout
		flags=()
		[ "$layout" = embedded ] && flags=(--embed-rootfs)
		"$c2w" browser -q "${flags[@]}" "$work/$image.wasm" "$work/$name" "${args[@]}"
		port=$(free_port)
		"$c2w" serve --listen "127.0.0.1:$port" "$work/$name" 2>/dev/null &
		sleep 0.5
		node .cache/web/load.mjs "http://127.0.0.1:$port/" "$prompt" "$runs" >"$work/$name.json"
		node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
if (r.error) { console.error(r.error); process.exit(1); }
const fs = require("fs"), dir = process.argv[2], name = process.argv[3];
const size = (f) => (fs.statSync(dir + "/" + f).size / 1e6).toFixed(1) + " MB";
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const m = r.milestones.map((x) => [x.downloaded, x.compiled, x.started, x.prompt].join("/"));
const wire = r.transfers.reduce((a, b) => (b.bodyBytes > a.bodyBytes ? b : a));
console.log(name.padEnd(16), size("module.wasm").padStart(10), size("module.wasm.br").padStart(10), size("module.wasm.gz").padStart(10),
  ((med(r.rootfsBytes) / 1e6).toFixed(1) + " MB").padStart(10),
  String(med(r.cold)).padStart(14), String(med(r.warm)).padStart(14), m.join("  "),
  `(sent ${(wire.bodyBytes / 1e6).toFixed(1)} MB ${wire.encoding})`);
' "$work/$name.json" "$work/$name" "$name"
		kill %1 2>/dev/null || true
		wait 2>/dev/null || true
	done
done
