#!/usr/bin/env bash
# Bundles the browser page (convert/browser/web) into convert/browser/dist,
# which c2w embeds: the npm packages package-lock.json pins are installed
# into .cache/web (npm ci, from the registry npm is configured with) and
# esbuild bundles the page and worker scripts and the style sheet. Reruns
# only what changed. Also leaves playwright-core in .cache/web for the
# browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
src=convert/browser/web
out=convert/browser/dist
work=.cache/web

mkdir -p "$work" "$out"
if ! cmp -s "$src/package-lock.json" "$work/.installed-lock" || [ ! -d "$work/node_modules" ]; then
	cp "$src/package.json" "$src/package-lock.json" "$work/"
	(cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
	cp "$src/package-lock.json" "$work/.installed-lock"
fi

# Up to date when every output is newer than every input.
newest_input=$(find "$src" scripts/build-web.sh -type f -newer "$out/c2w-worker.js" 2>/dev/null | head -1 || true)
if [ -f "$out/c2w-worker.js" ] && [ -z "$newest_input" ] && [ "$out/c2w-worker.js" -nt "$work/.installed-lock" ]; then
	exit 0
fi

rm -rf "$work/src" && cp -r "$src/src" "$work/src"
esbuild="$work/node_modules/.bin/esbuild"
common=(--bundle --minify --format=iife --target=chrome100,firefox100,safari16 --legal-comments=none --log-level=warning)
"$esbuild" "$work/src/page.js" "${common[@]}" --outfile="$out/c2w-page.js.tmp"
"$esbuild" "$work/src/worker.js" "${common[@]}" --outfile="$out/c2w-worker.js.tmp"
cat "$work/node_modules/@xterm/xterm/css/xterm.css" "$work/src/page.css" |
	"$esbuild" --loader=css --minify --log-level=warning > "$out/c2w.css.tmp"
cp "$work/src/index.html" "$out/index.html.tmp"
# The bundled packages' licences travel with every site.
{
	for pkg in @xterm/xterm @xterm/addon-fit @bjorn3/browser_wasi_shim; do
		dir="$work/node_modules/$pkg"
		version=$(node -p "require('./$dir/package.json').version")
		echo "== $pkg $version =="
		for f in "$dir"/LICENSE*; do
			cat "$f"
			echo
		done
	done
} > "$out/THIRD-PARTY-LICENSES.txt.tmp"
for f in c2w-page.js c2w-worker.js c2w.css index.html THIRD-PARTY-LICENSES.txt; do
	mv "$out/$f.tmp" "$out/$f"
done
