// The worker that runs a converted module: it fetches and compiles the
// module while reporting progress, then runs it under the WASI shim with
// the page's terminal as its standard streams. Standard input and window
// sizes come through the HostChannel (shared memory), so the module's
// waits for input (poll_oneoff) block this worker, not the page.

import { WASI, WASIProcExit, Fd, wasi } from "@bjorn3/browser_wasi_shim";
import { HostChannel, NET_OPEN, NET_CLOSED } from "./channel.js";

const ALL_RIGHTS = 0xffffffffffffffffn;

// HostDevice is a descriptor the worker implements itself: the terminal's
// (character devices) and the network's (stream sockets).
class HostDevice extends Fd {
  constructor(ino, filetype = wasi.FILETYPE_CHARACTER_DEVICE) {
    super();
    this.ino = BigInt(ino);
    this.filetype = filetype;
    this.flags = 0;
  }
  fd_fdstat_get() {
    const st = new wasi.Fdstat(this.filetype, this.flags);
    st.fs_rights_base = ALL_RIGHTS;
    st.fs_rights_inherited = ALL_RIGHTS;
    return { ret: wasi.ERRNO_SUCCESS, fdstat: st };
  }
  fd_fdstat_set_flags(flags) {
    this.flags = flags;
    return wasi.ERRNO_SUCCESS;
  }
  fd_filestat_get() {
    return { ret: wasi.ERRNO_SUCCESS, filestat: new wasi.Filestat(this.ino, this.filetype, 0n) };
  }
  // Not a preopened directory: the Go runtime skips it and goes on.
  fd_prestat_get() {
    return { ret: wasi.ERRNO_NOTDIR, prestat: null };
  }
  fd_close() {
    return wasi.ERRNO_SUCCESS;
  }
  // ready reports whether a read would not block.
  ready() {
    return true;
  }
}

// RingInput reads one of the channel's rings: the keyboard's bytes, or
// the network's.
class RingInput extends HostDevice {
  constructor(ino, filetype, channel, ring) {
    super(ino, filetype);
    this.channel = channel;
    this.ring = ring;
  }
  fd_read(size) {
    if (this.ring.available() > 0) {
      return { ret: wasi.ERRNO_SUCCESS, data: this.ring.read(size) };
    }
    if (this.ring.closed()) {
      return { ret: wasi.ERRNO_SUCCESS, data: new Uint8Array(0) };
    }
    if (this.flags & wasi.FDFLAGS_NONBLOCK) {
      return { ret: wasi.ERRNO_AGAIN, data: new Uint8Array(0) };
    }
    while (!this.ready()) {
      this.channel.waitChange(this.channel.sequence(), Infinity);
    }
    return this.fd_read(size);
  }
  ready() {
    return this.ring.available() > 0 || this.ring.closed();
  }
}

// The network: the module's --net takes the listening socket after the
// published ones (here the only one) and waits for its helper to connect.
// The page's WebSocket to the server's relay is that helper: once it is
// open, the listener has one connection to accept, whose reads come
// through the channel's network ring and whose writes go to the page.
class NetListener extends HostDevice {
  constructor(channel) {
    super(5, wasi.FILETYPE_SOCKET_STREAM);
    this.channel = channel;
    this.accepted = false;
  }
  accept() {
    if (this.channel.netState() === NET_CLOSED) {
      return { ret: wasi.ERRNO_IO };
    }
    if (this.accepted || this.channel.netState() !== NET_OPEN) {
      return { ret: wasi.ERRNO_AGAIN };
    }
    this.accepted = true;
    return { ret: wasi.ERRNO_SUCCESS, conn: new NetConnection(this.channel) };
  }
  ready() {
    return !this.accepted && this.channel.netState() !== 0;
  }
  fd_read() {
    return { ret: wasi.ERRNO_NOTCONN, data: new Uint8Array(0) };
  }
}

class NetConnection extends RingInput {
  constructor(channel) {
    super(6, wasi.FILETYPE_SOCKET_STREAM, channel, channel.network);
    this.writable = true;
  }
  fd_write(data) {
    if (!this.writable) return { ret: wasi.ERRNO_PIPE, nwritten: 0 };
    postMessage({ type: "net", data: data.slice() });
    return { ret: wasi.ERRNO_SUCCESS, nwritten: data.length };
  }
  shutdown() {
    if (this.writable) postMessage({ type: "net-close" });
    this.writable = false;
  }
  fd_close() {
    this.shutdown();
    return wasi.ERRNO_SUCCESS;
  }
}

// Window sizes for the module's --resize-fd: one "ROWS COLS" line per
// change.
class ResizeInput extends HostDevice {
  constructor(channel) {
    super(2);
    this.channel = channel;
    this.pending = new Uint8Array(0);
  }
  fd_read(size) {
    if (this.pending.length === 0 && this.channel.resized()) {
      const { rows, cols } = this.channel.size();
      this.pending = new TextEncoder().encode(`${rows} ${cols}\n`);
    }
    if (this.pending.length === 0) {
      return { ret: wasi.ERRNO_AGAIN, data: new Uint8Array(0) };
    }
    const data = this.pending.slice(0, size);
    this.pending = this.pending.slice(data.length);
    return { ret: wasi.ERRNO_SUCCESS, data };
  }
  ready() {
    return this.pending.length > 0 || this.channel.resized();
  }
}

// The site's directory, preopened at SITE_DIR for the module's
// --rootfs-file: it holds the rootfs image, read by HTTP range requests
// as the guest touches it (RangeFile).
const SITE_DIR = "/.c2w";

class SiteDirectory extends HostDevice {
  constructor(name, file) {
    super(7, wasi.FILETYPE_DIRECTORY);
    this.name = name;
    this.file = file;
  }
  fd_prestat_get() {
    return { ret: wasi.ERRNO_SUCCESS, prestat: wasi.Prestat.dir(SITE_DIR) };
  }
  path_open(dirflags, path, oflags) {
    if (path !== this.name) return { ret: wasi.ERRNO_NOENT, fd_obj: null };
    if (oflags & (wasi.OFLAGS_CREAT | wasi.OFLAGS_TRUNC | wasi.OFLAGS_DIRECTORY)) return { ret: wasi.ERRNO_ROFS, fd_obj: null };
    return { ret: wasi.ERRNO_SUCCESS, fd_obj: this.file };
  }
  path_filestat_get(flags, path) {
    if (path !== this.name) return { ret: wasi.ERRNO_NOENT, filestat: null };
    return this.file.fd_filestat_get();
  }
}

// RangeFile is a read-only file of the site fetched in blocks with
// synchronous range requests (a worker may make them), kept in a bounded
// cache.
const BLOCK = 256 * 1024;
const CACHED_BLOCKS = 512;

class RangeFile extends HostDevice {
  constructor(url, size) {
    super(8, wasi.FILETYPE_REGULAR_FILE);
    this.url = url;
    this.size = size;
    this.blocks = new Map(); // block index → bytes, oldest first
    this.fetched = 0;
    this.lastReport = 0;
  }
  fd_filestat_get() {
    return { ret: wasi.ERRNO_SUCCESS, filestat: new wasi.Filestat(this.ino, wasi.FILETYPE_REGULAR_FILE, BigInt(this.size)) };
  }
  fd_close() {
    return wasi.ERRNO_SUCCESS;
  }
  fd_pread(size, offset) {
    const start = Number(offset);
    const end = Math.min(start + size, this.size);
    if (start >= end) return { ret: wasi.ERRNO_SUCCESS, data: new Uint8Array(0) };
    try {
      this.load(Math.floor(start / BLOCK), Math.floor((end - 1) / BLOCK));
    } catch (err) {
      postMessage({ type: "warning", message: `reading the root file system: ${err.message}` });
      return { ret: wasi.ERRNO_IO, data: new Uint8Array(0) };
    }
    const out = new Uint8Array(end - start);
    for (let pos = start; pos < end; ) {
      const i = Math.floor(pos / BLOCK);
      const block = this.blocks.get(i);
      const from = pos - i * BLOCK;
      const n = Math.min(block.length - from, end - pos);
      out.set(block.subarray(from, from + n), pos - start);
      pos += n;
    }
    return { ret: wasi.ERRNO_SUCCESS, data: out };
  }
  // load makes blocks first..last present, one request per run of missing
  // blocks.
  load(first, last) {
    for (let i = first; i <= last; i++) {
      if (this.blocks.has(i)) {
        const b = this.blocks.get(i);
        this.blocks.delete(i);
        this.blocks.set(i, b); // most recently used last
        continue;
      }
      let j = i;
      while (j < last && !this.blocks.has(j + 1)) j++;
      const from = i * BLOCK;
      const to = Math.min((j + 1) * BLOCK, this.size);
      const data = this.request(from, to);
      for (let k = i; k <= j; k++) {
        this.blocks.set(k, data.subarray((k - i) * BLOCK, Math.min((k - i + 1) * BLOCK, data.length)));
      }
      while (this.blocks.size > CACHED_BLOCKS) {
        this.blocks.delete(this.blocks.keys().next().value);
      }
      i = j;
    }
  }
  request(from, to) {
    const xhr = new XMLHttpRequest();
    xhr.open("GET", this.url, false);
    xhr.responseType = "arraybuffer";
    xhr.setRequestHeader("Range", `bytes=${from}-${to - 1}`);
    xhr.send();
    const data = xhr.status === 206 || xhr.status === 200 ? new Uint8Array(xhr.response) : null;
    if (data === null || (xhr.status === 200 && data.length !== this.size) || (xhr.status === 206 && data.length !== to - from)) {
      throw new Error(`${this.url} bytes ${from}-${to - 1}: HTTP ${xhr.status} with ${data ? data.length : 0} bytes`);
    }
    // A server without ranges sent the whole file: keep what was asked.
    const part = xhr.status === 200 ? data.subarray(from, to) : data;
    this.fetched += part.length;
    const now = performance.now();
    if (now - this.lastReport > 100) {
      postMessage({ type: "rootfs", fetched: this.fetched, total: this.size });
      this.lastReport = now;
    }
    return part;
  }
}

// Output to the page's terminal.
class TerminalOutput extends HostDevice {
  constructor(ino, stream) {
    super(ino);
    this.stream = stream;
  }
  fd_write(data) {
    postMessage({ type: "output", stream: this.stream, data: data.slice() });
    return { ret: wasi.ERRNO_SUCCESS, nwritten: data.length };
  }
}

// pollOneoff is WASI's poll_oneoff for the module: clock subscriptions
// and reads and writes of the descriptors above. The shim's own handles a
// single clock only; the Go runtime polls its descriptors and a timeout
// in one call.
function pollOneoff(shim, channel, inPtr, outPtr, nsubs, neventsPtr) {
  const mem = () => new DataView(shim.inst.exports.memory.buffer);
  const subs = [];
  let view = mem();
  for (let i = 0; i < nsubs; i++) {
    const p = inPtr + i * 48;
    const sub = { userdata: view.getBigUint64(p, true), type: view.getUint8(p + 8) };
    if (sub.type === wasi.EVENTTYPE_CLOCK) {
      const clock = view.getUint32(p + 16, true);
      const timeout = view.getBigUint64(p + 24, true);
      const absolute = (view.getUint16(p + 40, true) & wasi.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) !== 0;
      const now = clockNow(clock);
      if (now === null) {
        return wasi.ERRNO_INVAL;
      }
      // Deadlines in performance.now() milliseconds.
      const ns = absolute ? timeout - now : timeout;
      sub.deadline = performance.now() + Number(ns > 0n ? ns : 0n) / 1e6;
    } else {
      sub.fd = view.getUint32(p + 16, true);
    }
    subs.push(sub);
  }
  for (;;) {
    const seq = channel.sequence();
    const now = performance.now();
    const events = [];
    let wait = Infinity;
    for (const sub of subs) {
      if (sub.type === wasi.EVENTTYPE_CLOCK) {
        if (now >= sub.deadline) {
          events.push({ sub, error: wasi.ERRNO_SUCCESS });
        } else {
          wait = Math.min(wait, sub.deadline - now);
        }
        continue;
      }
      const fd = shim.fds[sub.fd];
      if (fd === undefined) {
        events.push({ sub, error: wasi.ERRNO_BADF });
      } else if (sub.type === wasi.EVENTTYPE_FD_WRITE || !(fd instanceof HostDevice) || fd.ready()) {
        events.push({ sub, error: wasi.ERRNO_SUCCESS });
      }
    }
    if (events.length > 0) {
      view = mem();
      events.forEach((ev, i) => {
        const p = outPtr + i * 32;
        for (let b = 0; b < 32; b += 4) view.setUint32(p + b, 0, true);
        view.setBigUint64(p, ev.sub.userdata, true);
        view.setUint16(p + 8, ev.error, true);
        view.setUint8(p + 10, ev.sub.type);
      });
      view.setUint32(neventsPtr, events.length, true);
      return wasi.ERRNO_SUCCESS;
    }
    channel.waitChange(seq, wait);
  }
}

// clockNow returns WASI clock id's time in nanoseconds, or null for a
// clock the page does not have.
function clockNow(id) {
  switch (id) {
    case wasi.CLOCKID_REALTIME:
      return BigInt(Date.now()) * 1000000n;
    case wasi.CLOCKID_MONOTONIC:
    case wasi.CLOCKID_PROCESS_CPUTIME_ID:
    case wasi.CLOCKID_THREAD_CPUTIME_ID:
      return BigInt(Math.round(performance.now() * 1e6));
    default:
      return null;
  }
}

// compile fetches and compiles the module, streaming: compilation runs
// while bytes arrive, and a copy of the stream counts them for the
// progress bar.
async function compile(url, expectedBytes) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`fetching ${url}: HTTP ${response.status} ${response.statusText}`);
  }
  const counter = response.clone().body.getReader();
  (async () => {
    let loaded = 0;
    let last = 0;
    for (;;) {
      const { done, value } = await counter.read();
      if (done) break;
      loaded += value.length;
      const now = performance.now();
      if (now - last > 50) {
        postMessage({ type: "progress", loaded, total: expectedBytes });
        last = now;
      }
    }
    postMessage({ type: "progress", loaded, total: expectedBytes, done: true });
  })().catch(() => {});
  try {
    return await WebAssembly.compileStreaming(response);
  } catch (err) {
    throw new Error(`compiling ${url}: ${err.message}`);
  }
}

async function run(msg) {
  const { config, buffer } = msg;
  const channel = new HostChannel(buffer);
  const started = performance.now();
  const module = await compile(config.module, config.moduleBytes);
  postMessage({ type: "compiled", ms: performance.now() - started });
  const { rows, cols } = channel.size();
  const flags = ["--resize-fd", "3"];
  const fds = [
    new RingInput(1, wasi.FILETYPE_CHARACTER_DEVICE, channel, channel.keyboard),
    new TerminalOutput(3, 1),
    new TerminalOutput(4, 2),
    new ResizeInput(channel),
  ];
  if (config.rootfs) {
    const url = new URL(config.rootfs, location.href).href;
    fds.push(new SiteDirectory(config.rootfs, new RangeFile(url, config.rootfsBytes)));
    flags.push("--rootfs-file", `${SITE_DIR}/${config.rootfs}`);
  }
  if (msg.network) {
    flags.push("--net");
    fds.push(new NetListener(channel));
  }
  const args = [config.module, ...flags, ...(msg.args || config.args || [])];
  const env = [`LINES=${rows}`, `COLUMNS=${cols}`, "TERM=xterm-256color"];
  const shim = new WASI(args, env, fds, { debug: false });
  shim.wasiImport.poll_oneoff = (inPtr, outPtr, nsubs, neventsPtr) => pollOneoff(shim, channel, inPtr, outPtr, nsubs, neventsPtr);
  shim.wasiImport.sock_accept = (fd, flags, fdPtr) => {
    const l = shim.fds[fd];
    if (l === undefined) return wasi.ERRNO_BADF;
    if (!(l instanceof NetListener)) return wasi.ERRNO_NOTSOCK;
    const { ret, conn } = l.accept();
    if (ret !== wasi.ERRNO_SUCCESS) return ret;
    conn.flags = flags;
    shim.fds.push(conn);
    new DataView(shim.inst.exports.memory.buffer).setUint32(fdPtr, shim.fds.length - 1, true);
    return wasi.ERRNO_SUCCESS;
  };
  shim.wasiImport.sock_shutdown = (fd, how) => {
    const c = shim.fds[fd];
    if (c === undefined) return wasi.ERRNO_BADF;
    if (!(c instanceof NetConnection)) return wasi.ERRNO_NOTSOCK;
    if (how & wasi.SDFLAGS_WR) c.shutdown();
    return wasi.ERRNO_SUCCESS;
  };
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: shim.wasiImport });
  postMessage({ type: "started", ms: performance.now() - started });
  let code;
  try {
    code = shim.start(instance);
  } catch (err) {
    if (!(err instanceof WASIProcExit)) throw err;
    code = err.code;
  }
  postMessage({ type: "exit", code });
}

onmessage = (e) => {
  if (e.data.type !== "start") return;
  run(e.data).catch((err) => {
    postMessage({ type: "error", message: err && err.message ? err.message : String(err) });
  });
};
