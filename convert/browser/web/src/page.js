// The page: an xterm.js terminal attached to the worker that runs the
// converted module. It shows download progress, the module's exit, and
// any failure in words on the page.

import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { HostChannel, Pump, NET_OPEN, NET_CLOSED } from "./channel.js";

const statusLine = document.getElementById("status");
const bar = document.getElementById("progress");

// state is what the page is doing, for people (the status line) and for
// scripts (document.body.dataset.state: loading, running, exited, error).
function state(name, text) {
  document.body.dataset.state = name;
  statusLine.textContent = text;
}

function fail(message) {
  state("error", message);
  statusLine.classList.add("error");
  bar.hidden = true;
}

function mib(n) {
  return (n / (1 << 20)).toFixed(1) + " MiB";
}

async function main() {
  if (!globalThis.crossOriginIsolated) {
    fail(
      "This page needs cross-origin isolation to pass keyboard input to the container: serve it with " +
        "`c2w serve DIR`, or send the headers Cross-Origin-Opener-Policy: same-origin and " +
        "Cross-Origin-Embedder-Policy: require-corp.",
    );
    return;
  }
  let config;
  try {
    const r = await fetch("c2w.json");
    if (!r.ok) throw new Error(`HTTP ${r.status} ${r.statusText}`);
    config = await r.json();
  } catch (err) {
    fail(`Cannot read the page's configuration c2w.json: ${err.message}`);
    return;
  }
  document.title = config.title;
  document.getElementById("title").textContent = config.title;

  const term = new Terminal({ cursorBlink: true, scrollback: 10000, fontSize: 14 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById("terminal"));
  fit.fit();
  globalThis.c2wTerminal = term;

  const channel = HostChannel.create(term.rows, term.cols);
  const encoder = new TextEncoder();
  const keyboard = new Pump((b) => channel.writeKeyboard(b));
  term.onData((s) => keyboard.push(encoder.encode(s)));
  term.onBinary((s) => keyboard.push(Uint8Array.from(s, (c) => c.charCodeAt(0))));
  term.onResize(({ rows, cols }) => channel.resize(rows, cols));
  new ResizeObserver(() => fit.fit()).observe(document.getElementById("terminal"));

  const params = new URLSearchParams(location.search);
  const network = config.network && params.get("net") !== "0" ? await openNetwork(channel, term) : null;

  state("loading", `Loading ${mib(config.moduleBytes)}…`);
  bar.max = config.moduleBytes;
  const worker = new Worker("c2w-worker.js");
  const args = params.getAll("arg");
  // Milestones since the page's start, for benchmarks.
  const timings = (globalThis.c2wTimings = {});
  worker.onmessage = (e) => {
    const m = e.data;
    const milestone = m.type === "progress" ? (m.done ? "downloaded" : "downloading") : m.type;
    if (!(milestone in timings)) timings[milestone] = Math.round(performance.now());
    switch (m.type) {
      case "progress":
        bar.value = m.loaded;
        if (!m.done) state("loading", `Loading ${mib(m.loaded)} of ${mib(config.moduleBytes)}`);
        else state("loading", "Compiling…");
        break;
      case "compiled":
        state("loading", "Starting…");
        break;
      case "started":
        bar.hidden = true;
        state("running", "running");
        term.focus();
        break;
      case "output":
        term.write(m.data);
        break;
      case "rootfs":
        if (document.body.dataset.state === "running") {
          state("running", `running · root file system: ${mib(m.fetched)} of ${mib(m.total)} fetched`);
        }
        break;
      case "warning":
        statusLine.textContent = m.message;
        break;
      case "net":
        network?.send(m.data);
        break;
      case "net-close":
        network?.close();
        break;
      case "exit":
        channel.closeKeyboard();
        network?.close();
        state("exited", `exited with status ${m.code}`);
        break;
      case "error":
        fail(m.message);
        term.write(`\r\n\x1b[31m${m.message}\x1b[0m\r\n`);
        break;
    }
  };
  worker.onerror = (e) => fail(`The worker failed: ${e.message || "could not load c2w-worker.js"}`);
  worker.postMessage({ type: "start", config, buffer: channel.buffer, args: args.length > 0 ? args : undefined, network: network !== null });
}

// openNetwork connects to the server's network relay (c2w serve --net),
// whose WebSocket carries the module's network link: what arrives goes
// into the channel's network ring. It resolves to the socket, or null
// (said on the terminal) when the server offers no network.
function openNetwork(channel, term) {
  return new Promise((resolve) => {
    const url = new URL(".c2w/net", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const inbound = new Pump((b) => channel.writeNetwork(b));
    let opened = false;
    ws.onopen = () => {
      opened = true;
      channel.setNetState(NET_OPEN);
      resolve(ws);
    };
    ws.onmessage = (e) => inbound.push(new Uint8Array(e.data));
    ws.onclose = () => {
      if (!opened) {
        term.write("\x1b[33mNo network: the server offers no relay at .c2w/net (serve the site with c2w serve --net).\x1b[0m\r\n");
        resolve(null);
        return;
      }
      inbound.finish(() => {
        channel.network.close();
        channel.setNetState(NET_CLOSED);
      });
    };
  });
}

main().catch((err) => fail(`The page failed: ${err.message}`));
