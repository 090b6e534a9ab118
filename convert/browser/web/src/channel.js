// The channel from the page to the worker that runs the module: one
// SharedArrayBuffer holding two byte rings (the keyboard's input and the
// network's, when the guest has one) and the latest window size. The
// page writes; the worker reads, and sleeps on the sequence word with
// Atomics.wait while it has nothing to do, so a key press, a packet or a
// resize wakes it at once. Bytes the other way go by postMessage.

// Int32 slots of the control block.
const SEQ = 0; // bumped on every change; the word the worker waits on
const ROWS = 1;
const COLS = 2;
const RESIZES = 3; // bumped on every resize
const NET_STATE = 4; // NET_* below
const SLOTS = 8;
// Each ring's own slots: bytes written ever, bytes read ever (both wrap
// at 2^32), and 1 once its writer has no more.
const RING_SLOTS = 4;

export const NET_NONE = 0;
export const NET_OPEN = 1;
export const NET_CLOSED = 2;

class Ring {
  constructor(buffer, ctlOffset, dataOffset, size) {
    this.ctl = new Int32Array(buffer, ctlOffset, RING_SLOTS);
    this.data = new Uint8Array(buffer, dataOffset, size);
    this.size = size;
  }
  // write copies as much of bytes as there is room for; returns how many.
  write(bytes) {
    const w = Atomics.load(this.ctl, 0) >>> 0;
    const r = Atomics.load(this.ctl, 1) >>> 0;
    const n = Math.min(this.size - ((w - r) >>> 0), bytes.length);
    const start = w % this.size;
    const first = Math.min(n, this.size - start);
    this.data.set(bytes.subarray(0, first), start);
    this.data.set(bytes.subarray(first, n), 0);
    if (n > 0) Atomics.store(this.ctl, 0, (w + n) | 0);
    return n;
  }
  available() {
    return ((Atomics.load(this.ctl, 0) >>> 0) - (Atomics.load(this.ctl, 1) >>> 0)) >>> 0;
  }
  read(max) {
    const r = Atomics.load(this.ctl, 1) >>> 0;
    const n = Math.min(this.available(), max);
    const out = new Uint8Array(n);
    const start = r % this.size;
    const first = Math.min(n, this.size - start);
    out.set(this.data.subarray(start, start + first), 0);
    out.set(this.data.subarray(0, n - first), first);
    Atomics.store(this.ctl, 1, (r + n) | 0);
    return out;
  }
  close() {
    Atomics.store(this.ctl, 2, 1);
  }
  closed() {
    return Atomics.load(this.ctl, 2) === 1;
  }
}

const KEYBOARD_BYTES = 64 * 1024;
const NETWORK_BYTES = 4 * 1024 * 1024;

export class HostChannel {
  // buffer is the SharedArrayBuffer from create(), passed to the worker.
  constructor(buffer) {
    this.buffer = buffer;
    this.ctl = new Int32Array(buffer, 0, SLOTS);
    let off = SLOTS * 4;
    const kctl = off;
    const nctl = (off += RING_SLOTS * 4);
    const kdata = (off += RING_SLOTS * 4);
    const ndata = (off += KEYBOARD_BYTES);
    this.keyboard = new Ring(buffer, kctl, kdata, KEYBOARD_BYTES);
    this.network = new Ring(buffer, nctl, ndata, NETWORK_BYTES);
    this.seenResizes = 0;
  }

  static create(rows, cols) {
    const bytes = SLOTS * 4 + 2 * RING_SLOTS * 4 + KEYBOARD_BYTES + NETWORK_BYTES;
    const ch = new HostChannel(new SharedArrayBuffer(bytes));
    ch.ctl[ROWS] = rows;
    ch.ctl[COLS] = cols;
    return ch;
  }

  // Page side. Writes return how many bytes the ring took.

  writeKeyboard(bytes) {
    const n = this.keyboard.write(bytes);
    if (n > 0) this.wake();
    return n;
  }
  closeKeyboard() {
    this.keyboard.close();
    this.wake();
  }
  writeNetwork(bytes) {
    const n = this.network.write(bytes);
    if (n > 0) this.wake();
    return n;
  }
  setNetState(state) {
    Atomics.store(this.ctl, NET_STATE, state);
    this.wake();
  }
  resize(rows, cols) {
    Atomics.store(this.ctl, ROWS, rows);
    Atomics.store(this.ctl, COLS, cols);
    Atomics.add(this.ctl, RESIZES, 1);
    this.wake();
  }
  wake() {
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
  }

  // Worker side.

  netState() {
    return Atomics.load(this.ctl, NET_STATE);
  }
  // resized reports whether a resize came since the last size().
  resized() {
    return Atomics.load(this.ctl, RESIZES) !== this.seenResizes;
  }
  // size returns the latest window size and marks it seen.
  size() {
    this.seenResizes = Atomics.load(this.ctl, RESIZES);
    return { rows: Atomics.load(this.ctl, ROWS), cols: Atomics.load(this.ctl, COLS) };
  }
  // sequence returns the word to pass to waitChange.
  sequence() {
    return Atomics.load(this.ctl, SEQ);
  }
  // waitChange sleeps until the page changes something after sequence
  // seq was read, or ms milliseconds pass (Infinity: no limit).
  waitChange(seq, ms) {
    Atomics.wait(this.ctl, SEQ, seq, ms);
  }
}

// Pump writes queued byte arrays into a ring as room appears: the page
// cannot block, so what does not fit waits here and is retried.
export class Pump {
  constructor(write) {
    this.write = write;
    this.queue = [];
    this.timer = null;
    this.done = null;
  }
  push(bytes) {
    this.queue.push(bytes);
    this.flush();
  }
  // finish calls done once everything pushed so far is in the ring.
  finish(done) {
    this.done = done;
    this.flush();
  }
  flush() {
    while (this.queue.length > 0) {
      const n = this.write(this.queue[0]);
      if (n < this.queue[0].length) {
        this.queue[0] = this.queue[0].subarray(n);
        if (this.timer === null) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.flush();
          }, 5);
        }
        return;
      }
      this.queue.shift();
    }
    if (this.done) {
      const done = this.done;
      this.done = null;
      done();
    }
  }
}
