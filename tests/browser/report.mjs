// The HTML report in a real browser: Debian's headless Chromium driven by playwright-core.
// Usage: node report.mjs REPORT.html [SCREENSHOT.png]
// Fails unless the page loads with no console error, no page error and no network request
// (it is self-contained), and each filter (verdict, level, spec area, tier) changes what is
// shown; a case opens to its exchange.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const [file, screenshot] = process.argv.slice(2);
if (!file) {
  console.error("usage: node report.mjs REPORT.html [SCREENSHOT.png]");
  process.exit(2);
}
const url = "file://" + resolve(file);
const profile = mkdtempSync(join(tmpdir(), "ic-chromium-"));
const failures = [];
const fail = (m) => failures.push(m);

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") fail(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => fail(`page error: ${e.message}`));
  page.on("request", (r) => {
    if (r.url() !== url) fail(`network request: ${r.url()}`);
  });
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });

  const state = () =>
    page.evaluate(() => ({
      shown: document.getElementById("shown").textContent,
      rows: document.querySelectorAll("#cases details.case").length,
      keys: Array.from(document.querySelectorAll("#cases details.case"))
        .slice(0, 50)
        .map((d) => d.getAttribute("data-key"))
        .join("\n"),
      matrix: Array.from(document.querySelectorAll("#matrix .bar"))
        .map((b) => b.getAttribute("data-share") || "-")
        .join(","),
    }));
  const initial = await state();
  if (!initial.rows) fail("no case shown at first");
  console.log(`loaded: ${initial.shown}`);

  // Each filter: some option changes what is shown; "all" brings the page back.
  for (const [id, what] of [
    ["f-verdict", "verdict"],
    ["f-level", "level"],
    ["f-area", "spec area"],
    ["f-tier", "tier"],
  ]) {
    const values = await page.$$eval(`#${id} option`, (os) => os.map((o) => o.value).filter((v) => v));
    let changed = null;
    for (const v of values) {
      await page.selectOption(`#${id}`, v);
      const s = await state();
      if (s.shown !== initial.shown || s.keys !== initial.keys || s.matrix !== initial.matrix) {
        changed = { v, s };
        break;
      }
    }
    if (!changed) fail(`no ${what} option (${values.join(", ")}) changes what is shown`);
    else console.log(`${what} = ${changed.v}: ${changed.s.shown}`);
    if (id === "f-verdict" && changed) {
      // Every row shown has a result with that verdict.
      const ok = await page.$$eval(
        "#cases details.case",
        (ds, v) => ds.every((d) => d.querySelector(`summary .v-${v}`)),
        changed.v,
      );
      if (!ok) fail(`a row shown without the verdict ${changed.v}`);
    }
    await page.selectOption(`#${id}`, "");
    const back = await state();
    if (back.shown !== initial.shown) fail(`${what} = all does not restore the page: ${back.shown}`);
  }

  // A case opens to its exchange: a curl line, or the reason it has none (a skip).
  await page.click("#cases details.case > summary");
  const opened = await page.$eval("#cases details.case", (d) => ({
    open: d.open,
    results: d.querySelectorAll(".result").length,
    curl: d.querySelectorAll("pre.curl").length,
    reason: (d.querySelector(".reason") || {}).textContent || "",
  }));
  if (!opened.open || !opened.results) fail(`the first case does not open: ${JSON.stringify(opened)}`);
  console.log(`first case: ${opened.results} result(s), ${opened.curl} curl line(s)`);

  if (screenshot) {
    // The page as a vendor first sees it, its first case open.
    await page.setViewportSize({ width: 1400, height: 2100 });
    await page.evaluate(() => {
      const d = document.querySelector("#cases details.case");
      if (d) d.open = true;
    });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(200);
    await page.screenshot({ path: screenshot, fullPage: false });
    console.log(`screenshot: ${screenshot}`);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log("the HTML report passes in Chromium");
