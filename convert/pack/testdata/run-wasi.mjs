// Runs a WASI preview1 module under Node's node:wasi with the given
// arguments and exits with its status. Usage:
//   node --no-turbo-fast-api-calls run-wasi.mjs MODULE.wasm [ARG...]
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, exit } from 'node:process';

const [path, ...args] = argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [path, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(path));
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
exit(wasi.start(instance));
