// The Reports screen (統計) in the real app window, on a throw-away desk of generated
// cases: the epidemic curve and the other charts, the range fields showing the range in
// use, a table with hidden cells, CSV export, a chart saved as PNG (SVG → canvas → PNG in
// the webview), the input rate (published counts imported through the system file dialog,
// lagging area first, its reasons), the quality list opening a case.
// Screenshots: tests/e2e/screenshots/reports-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startDriver, Session, steps } from "./webdriver.mjs";

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
const run = (...args) => execFileSync(cli, ["--desk", desk, ...args], { env: { ...process.env, ...env }, stdio: "pipe" }).toString();

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

test("reports: charts, range, hidden cells, CSV and PNG export, input rate, quality list", async (outer) => {
  const t = steps(outer, (slug) => snap(`FAILED-${slug}`));

  await t.test("the charts, and the range fields show the range in use in year-month-day order", async () => {
    await s.waitFor('[data-nav="reports"]', { timeout: 30000 });
    await s.click('[data-nav="reports"]');
    await s.waitFor('[data-testid="report-table"]', { timeout: 60000 });
    const bars = await s.execute(`return document.querySelectorAll('[data-chart="new-positives"] rect.bar').length`);
    assert.ok(bars > 10, `the epidemic curve has bars (${bars})`);
    // The range fields hold the curve's first and last day (ISO order), never an empty US-ordered placeholder.
    const [from, to, firstDay, lastDay] = await s.execute(
      `const c = document.querySelector('[data-chart="new-positives"] svg');
       const texts = [...c.querySelectorAll("text.axis")].map((x) => x.textContent);
       return [document.querySelector('[data-testid="report-from"]').value, document.querySelector('[data-testid="report-to"]').value, texts[texts.length - 2], texts[texts.length - 1]];`,
    );
    assert.match(from, /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual([from, to], [firstDay, lastDay], "the fields show the charts' range");
    assert.match(await s.textOf('[data-testid="range-in-use"]'), /^集計期間: \d{4}年\d{1,2}月\d{1,2}日（.）/);
    await snap("charts");
  });

  await t.test("the sex × age table marks hidden cells and exports as Shift_JIS CSV", async () => {
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
  });

  await t.test("a chart as PNG and as PDF", async () => {
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
  });

  await t.test("input rate: published counts chosen in the system file dialog, lagging area first, its reasons, CSV", async () => {
    // The last 7 days with cases; what was entered per day in Tokyo (13) and in this health
    // centre's area (HC131121), as the CLI computes it from the same desk.
    const curve = JSON.parse(run("report", "new-positives", "--json"));
    const days = curve.rows.filter((r) => r[1] > 0).map((r) => r[0]).slice(-7);
    assert.equal(days.length, 7);
    // One case of this health centre diagnosed on the 3rd of those days and entered on the last: late.
    const late = JSON.parse(run("case", "template"));
    Object.assign(late.notification, {
      diagnosis_date: days[2], first_visit_date: days[2], onset_date: days[0],
      report_date: days[6], submitted_on: days[6], received_on: days[6], health_centre_confirmation: null,
    });
    late.jurisdiction.responsible_health_centre = "HC131121";
    writeFileSync(join(work, "late.json"), JSON.stringify(late));
    const lateId = run("case", "new", join(work, "late.json")).trim().split("\n").pop();
    const lateDays = (Date.parse(days[6]) - Date.parse(days[2])) / 86_400_000;
    const draft = join(work, "draft.csv");
    writeFileSync(draft, ["date,area,count", ...days.flatMap((d) => [`${d},13,1`, `${d},HC131121,1`])].join("\n"));
    const cliRate = JSON.parse(run("report", "input-rate", "--published", draft, "--json"));
    const entered = (area) => cliRate.rows.filter((r) => r[1] === area).reduce((n, r) => n + r[3], 0);
    const perDay = (area, d) => cliRate.rows.find((r) => r[0] === d && r[1] === area)[3];
    // Tokyo published what was entered; the health centre's area published 2 more each day (it lags).
    const counts = join(work, "published_130001.csv");
    writeFileSync(
      counts,
      "\ufeff日付,地域,人数\r\n" +
        days.map((d) => `${d},東京都,${perDay("13", d)}\r\n${d},HC131121,${perDay("HC131121", d) + 2}\r\n`).join("") +
        `${days[0]},13,たくさん\r\n2022-02-30,13,5\r\n`,
    );
    const hcEntered = entered("HC131121");
    const hcRate = Math.floor((hcEntered * 200 + (hcEntered + 14)) / (2 * (hcEntered + 14)));
    assert.ok(hcRate < 100);

    await s.execute(`document.querySelector('[data-testid="input-rate"]').scrollIntoView()`);
    await s.waitFor('[data-testid="rate-empty"]', { timeout: 20000 });
    // The GTK file chooser is a native window: Ctrl+L, the path, Enter (as a person would with the keyboard).
    await s.click('[data-testid="choose-counts"]');
    let dialog = "";
    for (let i = 0; i < 100 && !dialog; i++) {
      try {
        dialog = execFileSync("xdotool", ["search", "--onlyvisible", "--name", "公表数"], { stdio: "pipe" }).toString().trim().split("\n")[0];
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(dialog, "the system file dialog opened");
    execFileSync("xdotool", ["windowfocus", "--sync", dialog], { stdio: "pipe" });
    execFileSync("xdotool", ["key", "ctrl+l"], { stdio: "pipe" });
    await new Promise((r) => setTimeout(r, 300));
    execFileSync("xdotool", ["type", "--delay", "5", counts], { stdio: "pipe" });
    await new Promise((r) => setTimeout(r, 300));
    execFileSync("xdotool", ["key", "Return"], { stdio: "pipe" });
    await s.waitUntil(`return document.querySelector('[data-testid="counts-path"]').value === arguments[0]`, [counts], {
      what: "the chosen file fills the path",
    });
    await s.click('[data-testid="import-counts"]');
    const result = await s.textOf('[data-testid="counts-result"]');
    assert.match(result, /取り込んだ行: 14/);
    assert.match(result, /取り込めなかった行: 2/);
    const errors = await s.textOf('[data-testid="counts-errors"]');
    assert.ok(errors.includes("たくさん") && errors.includes("2022-02-30"), errors);
    assert.match(await s.textOf('[data-testid="counts-imports"]'), /published_130001\.csv（\d{4}-\d{2}-\d{2} \d{2}:\d{2}）/);

    // Lagging first: the health centre's area at its rate, then Tokyo at 100 %.
    const areas = await s.execute(
      `return [...document.querySelectorAll('[data-testid="rate-areas"] tbody tr')].map((tr) => [tr.dataset.area, ...[...tr.querySelectorAll("td")].map((td) => td.textContent.trim())])`,
    );
    assert.equal(areas[0][0], "HC131121");
    assert.deepEqual(areas[0].slice(2, 6), [String(hcEntered + 14), String(hcEntered), "-14", `${hcRate}%`]);
    assert.equal(areas[1][0], "13");
    assert.deepEqual(areas[1].slice(2, 6), [String(entered("13")), String(entered("13")), "0", "100%"]);
    assert.match(await s.textOf('[data-testid="rate-range"]'), new RegExp(`${Number(days[0].slice(0, 4))}年`));

    // Its chart: published and entered for each of the 7 days.
    assert.equal(await s.execute(`return document.querySelectorAll('[data-chart="input-rate"] rect.entered').length`), 7);
    assert.match(await s.execute(`return document.querySelector('[data-chart="input-rate"] svg').getAttribute("aria-label")`), /HC131121/);

    // Why the health centre lags: the cases behind it, each opening the case.
    await s.click('[data-testid="rate-areas"] tbody tr [data-testid="rate-why"]');
    await s.waitFor('[data-testid="rate-reasons"]', { timeout: 30000 });
    const reasons = await s.execute(`return [...document.querySelectorAll('[data-testid="reason-row"]')].map((tr) => tr.textContent)`);
    assert.ok(
      reasons.some((r) => r.includes("入力の遅れ") && r.includes(lateId.slice(0, 8)) && r.includes(`${lateDays}日遅れて入力`)),
      JSON.stringify(reasons),
    );
    await s.execute(`document.querySelector('[data-testid="input-rate"]').scrollIntoView()`);
    await snap("input-rate");

    // The per-week table (Wednesday to Tuesday) and its CSV.
    await s.click('[data-testid="rate-week"]');
    await s.waitUntil(`return [...document.querySelectorAll('[data-testid="rate-table"] tbody tr td:nth-child(2)')].some((td) => td.textContent.includes("〜"))`, [], {
      what: "weekly rows",
    });
    const out = join(work, "input-rate-week.csv");
    await s.clear('[data-testid="rate-csv-path"]');
    await s.type('[data-testid="rate-csv-path"]', out);
    await s.click('[data-testid="rate-csv"]');
    await s.waitFor('[data-testid="rate-notice"]', { timeout: 30000, test: (x) => x.includes("input-rate-week.csv") });
    const lines = readFileSync(out, "utf8").replace(/^\ufeff/, "").split("\r\n");
    assert.equal(lines[0], "地域コード,地域,週の初日,週の末日,公表数,入力数,差,入力率（%）");
    assert.ok(lines[1].startsWith("HC131121,保健所 HC131121,"), lines[1]);
    const weekStart = new Date(lines[1].split(",")[2] + "T00:00:00Z").getUTCDay();
    assert.equal(weekStart, 3, "weeks start on Wednesday");
    await snap("input-rate-weekly");

    // A reason opens its case.
    await s.execute(
      `[...document.querySelectorAll('[data-testid="reason-row"]')].find((tr) => tr.textContent.includes(arguments[0])).click()`,
      [lateId.slice(0, 8)],
    );
    await s.waitFor('[data-testid="case-name"]', { timeout: 20000, test: (x) => x.includes(late.basic.name) });
    await s.click('[data-nav="reports"]');
    await s.waitFor('[data-testid="report-table"]', { timeout: 60000 });
  });

  await t.test("a quality entry opens its case", async () => {
    const rows = await s.execute(`return document.querySelectorAll('[data-testid="quality-row"]').length`);
    if (rows > 0) {
      await s.execute(`document.querySelector('[data-testid="quality-row"]').scrollIntoView()`);
      await s.click('[data-testid="quality-row"] td');
      await s.waitFor('[data-testid="case-name"]', { timeout: 20000 });
      await snap("quality-opens-case");
    }
  });
});
