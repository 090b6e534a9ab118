// The terminal channel between the page and the worker that runs the
// module: one SharedArrayBuffer holding the keyboard's bytes (a ring) and
// the latest window size. The page writes; the worker reads, and sleeps
// on the sequence word with Atomics.wait while it has nothing to do, so a
// key press or a resize wakes it at once.

// Int32 slots of the control block.
const SEQ = 0; // bumped on every write; the word the worker waits on
const WRITTEN = 1; // bytes written into the ring, ever (wraps at 2^32)
const READ = 2; // bytes the worker took, ever
const ROWS = 3;
const COLS = 4;
const RESIZES = 5; // bumped on every resize
const CLOSED = 6; // 1 once the page has no more input
const SLOTS = 8;

export const RING_BYTES = 64 * 1024;

export class TerminalChannel {
  // buffer is the SharedArrayBuffer from create(), passed to the worker.
  constructor(buffer) {
    this.buffer = buffer;
    this.ctl = new Int32Array(buffer, 0, SLOTS);
    this.ring = new Uint8Array(buffer, SLOTS * 4, RING_BYTES);
    this.seenResizes = 0;
  }

  static create(rows, cols) {
    const ch = new TerminalChannel(new SharedArrayBuffer(SLOTS * 4 + RING_BYTES));
    ch.ctl[ROWS] = rows;
    ch.ctl[COLS] = cols;
    return ch;
  }

  // Page side.

  // write copies as much of bytes as the ring has room for and returns
  // how many it took.
  write(bytes) {
    const w = Atomics.load(this.ctl, WRITTEN) >>> 0;
    const r = Atomics.load(this.ctl, READ) >>> 0;
    const room = RING_BYTES - ((w - r) >>> 0);
    const n = Math.min(room, bytes.length);
    for (let i = 0; i < n; i++) {
      this.ring[(w + i) % RING_BYTES] = bytes[i];
    }
    if (n > 0) {
      Atomics.store(this.ctl, WRITTEN, (w + n) | 0);
      this.wake();
    }
    return n;
  }

  resize(rows, cols) {
    Atomics.store(this.ctl, ROWS, rows);
    Atomics.store(this.ctl, COLS, cols);
    Atomics.add(this.ctl, RESIZES, 1);
    this.wake();
  }

  close() {
    Atomics.store(this.ctl, CLOSED, 1);
    this.wake();
  }

  wake() {
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
  }

  // Worker side.

  // available returns how many input bytes wait.
  available() {
    return ((Atomics.load(this.ctl, WRITTEN) >>> 0) - (Atomics.load(this.ctl, READ) >>> 0)) >>> 0;
  }

  closed() {
    return Atomics.load(this.ctl, CLOSED) === 1;
  }

  // read takes up to max waiting bytes.
  read(max) {
    const r = Atomics.load(this.ctl, READ) >>> 0;
    const n = Math.min(this.available(), max);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.ring[(r + i) % RING_BYTES];
    }
    Atomics.store(this.ctl, READ, (r + n) | 0);
    return out;
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

  // waitChange sleeps until the page writes after sequence seq was read,
  // or ms milliseconds pass (Infinity: no limit).
  waitChange(seq, ms) {
    Atomics.wait(this.ctl, SEQ, seq, ms);
  }
}
