// The Reports screen (統計) in the real app window, on a throw-away desk of generated
// cases: the epidemic curve and the other charts, a table with hidden cells, CSV export,
// a chart saved as PNG (SVG → canvas → PNG in the webview), the quality list opening a
// case. Screenshots: tests/e2e/screenshots/reports-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startDriver, Session } from "./webdriver.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const target = process.env.CARGO_TARGET_DIR ?? "/var/tmp/todoke-target";
const app = process.env.TODOKE_APP ?? join(target, "debug", "todoke-desktop");
const cli = process.env.TODOKE_CLI ?? join(target, "debug", "todoke-cli");
const shots = join(here, "screenshots");
const work = mkdtempSync(join(tmpdir(), "todoke-e2e-reports-"));
const desk = join(work, "desk");
const env = {
  TODOKE_DESK_DIR: desk,
  TODOKE_DESK_KEY: randomBytes(32).toString("hex"),
  TODOKE_ORG: "HC131121",
  TODOKE_USER: "e2e-analyst",
  XDG_DATA_HOME: join(work, "data"),
  XDG_CACHE_HOME: join(work, "cache"),
  XDG_CONFIG_HOME: join(work, "config"),
  NO_AT_BRIDGE: "1",
  WEBKIT_DISABLE_COMPOSITING_MODE: "1",
};
let driver;
let s;

async function snap(name) {
  const file = join(shots, `reports-${name}.png`);
  await new Promise((r) => setTimeout(r, 300));
  try {
    execFileSync("import", ["-window", "root", file], { stdio: "pipe", timeout: 20000 });
  } catch {
    writeFileSync(file, await s.screenshot());
  }
}

before(async () => {
  assert.ok(existsSync(app), `no app at ${app}: cargo build -p todoke-desktop first`);
  assert.ok(existsSync(cli), `no CLI at ${cli}: cargo build -p todoke-cli first`);
  mkdirSync(shots, { recursive: true });
  const run = (...args) => execFileSync(cli, ["--desk", desk, ...args], { env: { ...process.env, ...env }, stdio: "pipe" });
  run("init", "--org", "HC131121");
  run("generate", "--cases", "1500", "--seed", "11");
  driver = await startDriver({ env });
  s = await Session.create(driver.base, app);
});

after(async () => {
  await s?.delete();
  await driver?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("reports: charts, hidden cells, CSV and PNG export, quality list", async () => {
  await s.waitFor('[data-nav="reports"]', { timeout: 30000 });
  await s.click('[data-nav="reports"]');
  await s.waitFor('[data-testid="report-table"]', { timeout: 60000 });
  const bars = await s.execute(`return document.querySelectorAll('[data-chart="new-positives"] rect.bar').length`);
  assert.ok(bars > 10, `the epidemic curve has bars (${bars})`);
  await snap("charts");

  // The sex × age table: hidden cells are marked, never shown as numbers.
  await s.select('[data-testid="report-select"]', "positives-by-sex-age-cumulative");
  const hidden = await s.execute(`return [...document.querySelectorAll('[data-testid="report-table"] td.suppressed')].map((td) => td.textContent)`);
  assert.ok(hidden.length > 0 && hidden.every((x) => x === "＊"), `hidden cells: ${hidden.length}`);
  await s.execute(`document.querySelector('[data-testid="report-table"]').scrollIntoView()`);
  await snap("table");

  const csv = join(work, "pyramid.csv");
  await s.clear('[data-testid="report-csv-path"]');
  await s.type('[data-testid="report-csv-path"]', csv);
  await s.click('[data-testid="report-sjis"]');
  await s.click('[data-testid="report-csv"]');
  await s.waitFor('[data-testid="report-notice"]', { timeout: 30000, test: (x) => x.includes("pyramid.csv") });
  const text = new TextDecoder("shift_jis").decode(readFileSync(csv));
  assert.ok(text.startsWith("週の初日,週の末日,性別,") && text.includes(",*,"), "Shift_JIS, Japanese header, hidden cells as *");

  const png = join(work, "curve.png");
  await s.type('[data-testid="png-path"]', png);
  await s.click('[data-testid="png-new-positives"]');
  await s.waitFor('[data-testid="report-notice"]', { timeout: 30000, test: (x) => x.includes("curve.png") });
  assert.deepEqual([...readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG file");
  copyFileSync(png, join(shots, "reports-chart-new-positives.png"));
  await s.click('[data-testid="pdf-pyramid"]');
  await s.waitFor('[data-testid="report-notice"]', { timeout: 30000, test: (x) => x.includes("curve.pdf") });
  const pdf = readFileSync(join(work, "curve.pdf"));
  assert.equal(pdf.subarray(0, 8).toString("latin1"), "%PDF-1.4");
  assert.ok(pdf.includes("/Subtype /Image"), "the chart is on the page");

  // A quality entry opens its case.
  const rows = await s.execute(`return document.querySelectorAll('[data-testid="quality-row"]').length`);
  if (rows > 0) {
    await s.execute(`document.querySelector('[data-testid="quality-row"]').scrollIntoView()`);
    await s.click('[data-testid="quality-row"] td');
    await s.waitFor('[data-testid="case-name"]', { timeout: 20000 });
    await snap("quality-opens-case");
  }
});
