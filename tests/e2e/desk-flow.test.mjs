// End to end through the real app window (tauri-driver → WebKitWebDriver), on a throw-away
// desk: create a case with the minimum items → report → confirm → change status → add an
// observation → search finds it → export. Every step saves a screenshot in
// tests/e2e/screenshots/. Run inside a display and a D-Bus session (scripts/e2e-desktop.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startDriver, Session, trace } from "./webdriver.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const target = process.env.CARGO_TARGET_DIR ?? "/var/tmp/todoke-target";
const app = process.env.TODOKE_APP ?? join(target, "debug", "todoke-desktop");
const cli = process.env.TODOKE_CLI ?? join(target, "debug", "todoke-cli");
const shots = join(here, "screenshots");
const generated = Number(process.env.TODOKE_E2E_CASES ?? 3000);

const work = mkdtempSync(join(tmpdir(), "todoke-e2e-"));
const desk = join(work, "desk");
const env = {
  TODOKE_DESK_DIR: desk,
  TODOKE_DESK_KEY: randomBytes(32).toString("hex"),
  TODOKE_ORG: "HC131121",
  TODOKE_USER: "e2e-nurse",
  XDG_DATA_HOME: join(work, "data"),
  XDG_CACHE_HOME: join(work, "cache"),
  XDG_CONFIG_HOME: join(work, "config"),
  NO_AT_BRIDGE: "1",
  WEBKIT_DISABLE_COMPOSITING_MODE: "1",
};
const driverLog = [];
let driver;
let s;
let shot = 0;

/** A screenshot of the real window as the X server shows it (WebKitWebDriver's own
 * screenshot command sometimes never answers under Xvfb); WebDriver's as a fallback. */
async function snap(name) {
  shot++;
  const file = join(shots, `${String(shot).padStart(2, "0")}-${name}.png`);
  await new Promise((r) => setTimeout(r, 300)); // let the last frame paint
  try {
    execFileSync("import", ["-window", "root", file], { stdio: "pipe", timeout: 20000 });
  } catch {
    writeFileSync(file, await s.screenshot());
  }
  return file;
}

const todayJst = () => new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);

before(async () => {
  assert.ok(existsSync(app), `no app at ${app}: cargo build -p todoke-desktop first`);
  mkdirSync(shots, { recursive: true });
  if (generated > 0 && existsSync(cli)) {
    const run = (...args) => execFileSync(cli, ["--desk", desk, ...args], { env: { ...process.env, ...env }, stdio: "pipe" });
    run("init", "--org", "HC131121");
    run("generate", "--cases", String(generated), "--seed", "7");
  }
  driver = await startDriver({ env, log: (l) => driverLog.push(l) });
  s = await Session.create(driver.base, app);
});

after(async () => {
  writeFileSync(join(shots, "driver.log"), driverLog.join(""));
  writeFileSync(join(shots, "webdriver-trace.log"), trace.join("\n"));
  await s?.delete();
  await driver?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("the desk's daily case workflow, offline", async (outer) => {
  // Each step runs only when the one before passed, and a failing step leaves a screenshot.
  let failed = false;
  const t = {
    test: (name, fn) =>
      outer.test(name, { skip: failed && "an earlier step failed" }, async () => {
        try {
          await fn();
        } catch (e) {
          failed = true;
          await snap(`FAILED-${name.replace(/[^A-Za-z0-9]+/g, "-")}`).catch(() => {});
          throw e;
        }
      }),
  };
  const today = todayJst();
  const name = "届出 花子";
  const kana = "トドケデ ハナコ";

  await t.test("the case list shows, with the offline indicator and the outbox count", async () => {
    await s.waitFor('[data-testid="case-count"]', { timeout: 30000, test: (x) => /\d/.test(x) && (generated === 0 || !/^0 /.test(x)) });
    assert.match(await s.textOf('[data-testid="net-state"]'), /オフライン（サーバー未設定）/);
    assert.match(await s.textOf('[data-testid="pending-count"]'), /送信待ち/);
    await snap("case-list");
  });

  let testPath;
  await t.test("surge entry: inline validation with the rule's message", async () => {
    await s.click('[data-nav="new"]');
    await s.waitFor('[data-path="notification.diagnosis_class"]');
    testPath = await s.execute(`return document.querySelector('[data-path$="].method"]').dataset.path.replace(/\\.method$/, "")`);
    await s.type(`[data-path="${testPath}.collected_on"]`, "2999-01-01");
    await s.waitFor(`.problem[data-path="${testPath}.collected_on"]`, { test: (x) => x.includes("未来") });
    await snap("surge-inline-problem");
    await s.clear(`[data-path="${testPath}.collected_on"]`);
  });

  await t.test("create a case with the minimum items and report it", async () => {
    await s.select('[data-path="notification.diagnosis_class"]', "confirmed");
    await s.type('[data-path="basic.name"]', name);
    await s.type('[data-path="basic.name_kana"]', kana);
    await s.select('[data-path="basic.sex"]', "female");
    await s.type('[data-path="basic.birth_date"]', "19850412");
    await s.select('[data-path="basic.residence.prefecture_code"]', "13");
    await s.type('[data-path="basic.residence"]', "東京都新宿区西新宿2-8-1");
    await s.type('[data-path="basic.phone"]', "03-5320-0000");
    await s.select(`[data-path="${testPath}.method"]`, "nucleic_acid");
    await s.select(`[data-path="${testPath}.specimen"]`, "saliva");
    await s.type(`[data-path="${testPath}.collected_on"]`, today);
    await s.select(`[data-path="${testPath}.result"]`, "positive");
    await s.type(`[data-path="${testPath}.result_on"]`, today);
    // Required marks are shown, and no error is left once the minimum items are in.
    assert.ok((await s.findAll(".req")).length >= 8, "required items are marked with ＊");
    // The live check follows the typing (debounced): wait until it has no error left.
    await s.waitUntil(`return document.querySelectorAll('.problem.error').length === 0`, [], { what: "no error is shown" });
    await snap("surge-filled");
    await s.click('[data-testid="surge-report"]');
    await s.waitFor('[data-testid="report-state"]', { test: (x) => x.includes(today) });
    assert.equal(await s.textOf('[data-testid="case-name"]'), `${name} ${kana}`);
    await s.click('[data-tab="notification"]');
    const dates = await s.textOf('[data-testid="report-dates"]');
    assert.ok(dates.includes(`報告日 ${today}`) && dates.includes(`提出日 ${today}`) && dates.includes(`受理日 ${today}`), dates);
    await snap("reported-notification-dates");
  });

  await t.test("保健所確認済", async () => {
    await s.click('[data-testid="confirm"]');
    await s.waitFor('[data-testid="confirm-state"]', { test: (x) => x.includes("✓") && x.includes(today) });
    await snap("confirmed");
  });

  await t.test("change the current status", async () => {
    await s.click('[data-tab="status"]');
    await s.select('[data-path="measures.current_status"]', "hospitalised");
    await s.click('[data-testid="set-status"]');
    await s.waitFor('[data-testid="case-status"]', { test: (x) => x === "入院中" });
    await snap("status-hospitalised");
  });

  await t.test("add health observations (with the chart)", async () => {
    await s.click('[data-tab="observation"]');
    const add = async (when, temp, spo2) => {
      await s.clear('[data-path="observed_at"]');
      await s.type('[data-path="observed_at"]', when);
      await s.type('[data-path="temperature"]', temp);
      await s.type('[data-path="spo2"]', spo2);
      await s.click('[data-testid="add-observation"]');
      await s.waitFor('[data-testid="observations"]', { test: (x) => x.includes(temp) });
    };
    await add(`${today} 08:00`, "38.4", "95");
    await add(`${today} 00:30`, "37.6", "97");
    // An impossible temperature is refused with the rule's message, next to its field.
    await s.clear('[data-path="observed_at"]');
    await s.type('[data-path="observed_at"]', `${today} 00:10`);
    await s.type('[data-path="temperature"]', "48");
    await s.click('[data-testid="add-observation"]');
    await s.waitFor('.problem[data-path="temperature"]', { test: (x) => x.length > 0 });
    await snap("observations-chart");
  });

  await t.test("the history shows who changed what", async () => {
    await s.click('[data-tab="history"]');
    await s.waitFor('[data-testid="history"]', { test: (x) => x.includes("e2e-nurse") && x.includes("current_status") });
    await snap("history");
  });

  await t.test("search as you type finds it (kana)", async () => {
    await s.click('[data-nav="list"]');
    await s.type('[data-testid="search"]', "とどけで");
    await s.waitUntil(`return document.querySelector('[data-testid="case-rows"]').textContent.includes(arguments[0])`, [name], {
      what: "the new case is listed",
    });
    assert.match(await s.textOf('[data-testid="case-count"]'), /^1 /);
    await snap("search-kana");
  });

  await t.test("English is one click away (labels of coded values come from Rust)", async () => {
    await s.click('[data-nav="lang"]');
    await s.waitFor('[data-nav="list"]', { test: (x) => x === "Cases" });
    await s.waitUntil(`return document.querySelector('[data-testid="case-rows"]').textContent.includes("Hospitalised")`, [], {
      what: "the status label is in English",
    });
    await snap("english");
    await s.click('[data-nav="lang"]');
    await s.waitFor('[data-nav="list"]', { test: (x) => x === "症例一覧" });
  });

  await t.test("export (Shift_JIS) with a progress bar and a summary", async () => {
    await s.click('[data-nav="io"]');
    const out = join(work, "export-sjis.csv");
    await s.clear('[data-testid="export-path"]');
    await s.type('[data-testid="export-path"]', out);
    await s.click('[data-testid="enc-sjis"]');
    await s.click('[data-testid="run-export"]');
    await s.waitFor('[data-testid="export-result"]', { timeout: 60000, test: (x) => /件を出力しました/.test(x) });
    await snap("export-done");
    const text = new TextDecoder("shift_jis").decode(readFileSync(out));
    assert.ok(text.includes(name), "the exported file holds the new case, in Shift_JIS");
  });

  await t.test("the desk locks and unlocks (key read again)", async () => {
    await s.click('[data-testid="lock"]');
    await s.waitFor('[data-testid="lock-screen"]');
    await snap("locked");
    await s.click('[data-testid="lock-screen"] button');
    // Back where the user was (the export page), the desk open again.
    await s.waitUntil(`return !document.querySelector('[data-testid="lock-screen"]') && !!document.querySelector('[data-testid="run-export"]')`, [], {
      timeout: 20000,
      what: "the desk is unlocked",
    });
    await s.click('[data-nav="list"]');
    await s.waitFor('[data-testid="case-count"]', { test: (x) => x.replace(/,/g, "").startsWith(`${generated + 1} `) || generated === 0 });
  });

  await t.test("a contact opens as a case of its own, linked both ways", async () => {
    await s.clear('[data-testid="search"]');
    await s.type('[data-testid="search"]', "とどけで");
    await s.waitUntil(`return document.querySelector('[data-testid="case-rows"]').textContent.includes(arguments[0])`, [name]);
    await s.click(".row[data-case-id]");
    await s.execute(`document.querySelector('[data-testid="case-rows"]').focus()`);
    await s.execute(`document.querySelector('[data-testid="case-rows"]').dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }))`);
    await s.waitFor('[data-testid="case-name"]', { test: (x) => x.includes(name) });
    await s.click('[data-tab="investigation"]');
    await s.click('[data-testid="add-contact"]');
    await s.type('[data-testid="contact-name"]', "届出 次郎");
    await s.type('[data-testid="contact-kana"]', "トドケデ ジロウ");
    await s.click('[data-testid="save"]');
    await s.waitFor('[data-testid="contact-open"]', { test: (x) => x.includes("症例として登録") });
    await s.click('[data-testid="contact-open"]');
    await s.waitFor('[data-path="basic.name"]');
    assert.equal(await s.execute(`return document.querySelector('[data-path="basic.name"]').value`), "届出 次郎");
    const tp = await s.execute(`return document.querySelector('[data-path$="].method"]').dataset.path.replace(/\\.method$/, "")`);
    await s.select('[data-path="notification.diagnosis_class"]', "suspected");
    await s.select('[data-path="basic.sex"]', "male");
    await s.type('[data-path="basic.birth_date"]', "19870203");
    await s.type('[data-path="basic.residence"]', "東京都新宿区西新宿2-8-1");
    await s.select(`[data-path="${tp}.method"]`, "antigen_qualitative");
    await s.select(`[data-path="${tp}.specimen"]`, "nasal_swab");
    await s.type(`[data-path="${tp}.collected_on"]`, today);
    await s.click('[data-testid="surge-save"]');
    await s.waitFor('[data-testid="case-name"]', { test: (x) => x.includes("届出 次郎") });
    await s.click('[data-tab="investigation"]');
    await s.waitFor('[data-testid="infected-by"]');
    await snap("contact-as-linked-case");
    await s.click('[data-testid="infected-by"]');
    await s.waitFor('[data-testid="case-name"]', { test: (x) => x.includes(name) });
    await s.click('[data-tab="investigation"]');
    await s.waitFor('[data-testid="contact-open"]', { test: (x) => x.startsWith("開く") });
  });
});
