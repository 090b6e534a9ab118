// Runs a WASI preview1 module under Node's node:wasi and exits with its
// status. Standard streams are passed through; every --preopen GUEST=HOST
// before the module becomes a preopened directory, and every --env K=V a
// WASI environment variable. Usage:
//   node --no-turbo-fast-api-calls --no-warnings run-wasi.mjs \
//     [--preopen GUEST=HOST]... [--env K=V]... MODULE.wasm [ARG...]
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, exit } from 'node:process';

const preopens = {};
const env = {};
let rest = argv.slice(2);
while (rest.length > 1 && (rest[0] === '--preopen' || rest[0] === '--env')) {
  const [guest, ...value] = rest[1].split('=');
  (rest[0] === '--preopen' ? preopens : env)[guest] = value.join('=');
  rest = rest.slice(2);
}
const [path, ...args] = rest;
const wasi = new WASI({ version: 'preview1', args: [path, ...args], env, preopens, returnOnExit: true });
let module;
try {
  module = await WebAssembly.compile(await readFile(path));
} catch (e) {
  console.error(`${path}: ${e.message}`);
  exit(70);
}
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
exit(wasi.start(instance));
