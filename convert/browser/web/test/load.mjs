// Measures a c2w site's load to prompt in headless Chromium: cold (a new
// browser context: empty HTTP and code caches) and warm (the same
// context reloading), and what the module cost over the wire.
//
//   node load.mjs URL PROMPT_REGEXP RUNS
//
// Prints one JSON object: cold and warm times in ms, the page's
// milestones of each cold load (ms since navigation: module downloaded
// ("progress" done), compiled, started, prompt), the module's transfers
// (encoding, body bytes), and the rootfs bytes each cold load fetched
// by range requests (0 when the rootfs is in the module).
import { chromium } from "playwright-core";

const [url, promptSource, runsArg] = process.argv.slice(2);
const prompt = new RegExp(promptSource);
const runs = Number(runsArg || 3);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const result = { cold: [], warm: [], transfers: [], milestones: [], rootfsBytes: [] };

async function untilPrompt(page) {
  const t0 = Date.now();
  await page.waitForFunction(
    (source) => {
      if (document.body.dataset.state === "error") throw new Error(document.getElementById("status").textContent);
      const term = globalThis.c2wTerminal;
      if (!term) return false;
      const buf = term.buffer.active;
      const line = buf.getLine(buf.baseY + buf.cursorY);
      return line !== undefined && new RegExp(source).test(line.translateToString(true));
    },
    prompt.source,
    { timeout: 180000, polling: 20 },
  );
  return Date.now() - t0;
}

try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    let rootfsBytes = 0;
    page.on("requestfinished", async (req) => {
      if (req.url().endsWith("/rootfs.img")) {
        rootfsBytes += (await req.sizes()).responseBodySize;
        return;
      }
      if (!req.url().includes("/module.wasm")) return;
      const resp = await req.response();
      const sizes = await req.sizes();
      result.transfers.push({ encoding: resp.headers()["content-encoding"] || "identity", bodyBytes: sizes.responseBodySize });
    });
    const t0 = Date.now();
    await page.goto(url);
    await untilPrompt(page);
    result.cold.push(Date.now() - t0);
    result.rootfsBytes.push(rootfsBytes);
    result.milestones.push(await page.evaluate(() => ({ ...globalThis.c2wTimings, prompt: Math.round(performance.now()) })));
    const t1 = Date.now();
    await page.reload();
    await untilPrompt(page);
    result.warm.push(Date.now() - t1);
    await context.close();
  }
} catch (err) {
  result.error = err.message;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
