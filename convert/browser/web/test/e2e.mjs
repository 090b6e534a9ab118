// Drives a page c2w browser wrote in headless Chromium, as a person at
// the keyboard would, and prints what happened as one JSON object for the
// Go test (convert/browser) to check:
//
//   node e2e.mjs URL SCREENSHOT.png [BAD_URL]
//
// With E2E_GUEST_URL set (an http:// URL the guest can reach through the
// page's network), the guest also fetches it with busybox wget.
// Steps: load the page and wait for the shell's prompt; type
// `echo hello-$((6*7))`; `ls /`; `sleep 100` then ^C and `echo $?`; make
// the window smaller and ask `stty size`; keep a screenshot; then, with
// BAD_URL, load a site whose module is broken and read the page's error.
import { chromium } from "playwright-core";

const [url, screenshot, badURL] = process.argv.slice(2);
const result = { steps: {} };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});

// screen returns the terminal's lines, trailing blanks trimmed.
async function screen(page) {
  return page.evaluate(() => {
    const buf = globalThis.c2wTerminal.buffer.active;
    const lines = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i).translateToString(true));
    while (lines.length && lines[lines.length - 1] === "") lines.pop();
    return lines;
  });
}

// waitFor waits until test(lines) holds, and returns the lines.
async function waitFor(page, what, test, ms = 60000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const state = await page.evaluate(() => document.body.dataset.state);
    const lines = state === undefined ? [] : await screen(page).catch(() => []);
    if (test(lines)) return lines;
    if (state === "error" || state === "exited" || Date.now() > deadline) {
      const status = await page.evaluate(() => document.getElementById("status").textContent);
      throw new Error(`waiting for ${what}: page ${state} (${status}); screen:\n${lines.join("\n")}`);
    }
    await page.waitForTimeout(50);
  }
}

// atPrompt: the last line is the shell's prompt.
const atPrompt = (lines) => lines.length > 0 && /[#$]\s*$/.test(lines[lines.length - 1]);

async function step(name, fn) {
  const t0 = Date.now();
  result.steps[name] = await fn();
  result.steps[name].ms = Date.now() - t0;
}

try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  // The module's transfers: how it was encoded and how many bytes crossed.
  const transfers = [];
  const rootfsReads = [];
  page.on("requestfinished", async (req) => {
    if (req.url().endsWith("/rootfs.img")) {
      const resp = await req.response();
      rootfsReads.push({ status: resp.status(), range: req.headers()["range"] || "", bytes: (await req.sizes()).responseBodySize });
      return;
    }
    if (!req.url().endsWith("/module.wasm")) return;
    const resp = await req.response();
    const sizes = await req.sizes();
    transfers.push({ status: resp.status(), encoding: resp.headers()["content-encoding"] || "identity", bodyBytes: sizes.responseBodySize });
  });

  await step("boot", async () => {
    await page.goto(url);
    const lines = await waitFor(page, "the prompt", atPrompt, 120000);
    const size = await page.evaluate(() => [globalThis.c2wTerminal.rows, globalThis.c2wTerminal.cols]);
    return { lines, rows: size[0], cols: size[1], isolated: await page.evaluate(() => crossOriginIsolated) };
  });

  const run = async (command, done) => {
    const before = (await screen(page)).length;
    await page.keyboard.type(command);
    await page.keyboard.press("Enter");
    const lines = await waitFor(page, `${command} to finish`, (l) => l.length > before && done(l.slice(before - 1)));
    return lines.slice(before - 1);
  };
  const endsWithPrompt = (out) => out.length >= 2 && atPrompt(out);

  await step("echo", async () => ({ lines: await run("echo hello-$((6*7))", endsWithPrompt) }));
  await step("ls", async () => ({ lines: await run("ls /", endsWithPrompt) }));
  if (process.env.E2E_GUEST_URL) {
    await step("net", async () => ({ lines: await run(`wget -q -O- ${process.env.E2E_GUEST_URL}; echo wget=$?`, endsWithPrompt) }));
  }
  await step("interrupt", async () => {
    const before = (await screen(page)).length;
    await page.keyboard.type("sleep 100");
    await page.keyboard.press("Enter");
    await page.waitForTimeout(1000);
    const t0 = Date.now();
    await page.keyboard.press("Control+C");
    await waitFor(page, "the prompt after ^C", (l) => l.length > before && atPrompt(l), 20000);
    const interruptMs = Date.now() - t0;
    const status = await run("echo status=$?", endsWithPrompt);
    return { interruptMs, lines: status };
  });
  await step("resize", async () => {
    await page.setViewportSize({ width: 640, height: 400 });
    await page.waitForTimeout(500);
    const size = await page.evaluate(() => [globalThis.c2wTerminal.rows, globalThis.c2wTerminal.cols]);
    return { rows: size[0], cols: size[1], lines: await run("stty size", endsWithPrompt) };
  });
  await page.screenshot({ path: screenshot });
  // Load again: the browser's HTTP cache revalidates and its code cache
  // may hold the compiled module.
  await step("reload", async () => {
    await page.reload();
    await waitFor(page, "the prompt after reloading", atPrompt, 120000);
    return {};
  });
  result.transfers = transfers;
  result.rootfsReads = rootfsReads;
  result.consoleErrors = consoleErrors;

  if (badURL) {
    await step("bad", async () => {
      const bad = await context.newPage();
      await bad.goto(badURL);
      await bad.waitForFunction(() => ["error", "exited"].includes(document.body.dataset.state), null, { timeout: 60000 });
      return {
        state: await bad.evaluate(() => document.body.dataset.state),
        status: await bad.evaluate(() => document.getElementById("status").textContent),
      };
    });
  }
} catch (err) {
  result.error = err.message;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result, null, 1));
