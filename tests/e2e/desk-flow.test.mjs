// End to end through the real app window (tauri-driver → WebKitWebDriver), on a throw-away
// desk: create a case with the minimum items → report → confirm → change status → self-report
// and a processing number → add an observation → search finds it → an edit by todoke-cli
// shows up → follow-up call list → bulk status change → export → lock → a contact as a case →
// import an open-data CSV (per-row errors) through the system file dialog. Every step saves a
// screenshot in tests/e2e/screenshots/. Run inside a display and a D-Bus session
// (scripts/e2e-desktop.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startDriver, Session, steps, trace } from "./webdriver.mjs";

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
const cliRun = (...args) => execFileSync(cli, ["--desk", desk, ...args], { env: { ...process.env, ...env }, stdio: "pipe" }).toString();
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
    cliRun("init", "--org", "HC131121");
    cliRun("generate", "--cases", String(generated), "--seed", "7");
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
  const t = steps(outer, (slug) => snap(`FAILED-${slug}`));
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

  await t.test("follow-up: enable self-report, issue a processing number", async () => {
    assert.equal(await s.textOf('[data-testid="self-report-state"]'), "未設定");
    await s.click('[data-testid="enable-self-report"]');
    await s.waitFor('[data-testid="self-report-state"]', { test: (x) => x === "有効" });
    await s.click('[data-testid="issue-processing-number"]');
    const shown = await s.textOf('[data-testid="issued-number"]');
    const number = shown.match(/\d{8}/)?.[0];
    assert.ok(number, `an 8-digit number is shown: ${shown}`);
    await s.waitFor('[data-testid="processing-number"]', { test: (x) => x === number });
    assert.equal((await s.findAll('[data-testid="issue-processing-number"]')).length, 0, "issued once only");
    await snap("follow-up-self-report-processing-number");
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

  await t.test("an edit made by todoke-cli on the same desk shows in the open list", async () => {
    const row = `.row[data-case-id]`;
    await s.waitUntil(`return document.querySelector(arguments[0])?.textContent.includes("入院中")`, [row]);
    const id = await s.execute(`return document.querySelector(arguments[0]).dataset.caseId`, [row]);
    cliRun("status", id, "自宅療養中");
    // No click, no key: the window notices the desk changed and refreshes the row.
    await s.waitUntil(`return document.querySelector(arguments[0])?.textContent.includes("自宅療養中")`, [row], {
      timeout: 15000,
      what: "the list shows the status todoke-cli set",
    });
    await snap("outside-edit-refreshed");
    // The open case follows too.
    await s.execute(`document.querySelector(arguments[0]).dispatchEvent(new MouseEvent("dblclick", { bubbles: true }))`, [row]);
    await s.waitFor('[data-testid="case-status"]', { test: (x) => x === "自宅療養中" });
    cliRun("status", id, "宿泊療養中");
    await s.waitFor('[data-testid="case-status"]', { timeout: 15000, test: (x) => x === "宿泊療養中" });
    await s.click('[data-nav="list"]');
  });

  await t.test("the follow-up call list: who needs a call, with concerns; a row opens the case", async () => {
    await s.click('[data-nav="followup"]');
    await s.waitFor('[data-testid="follow-up-rows"]', { timeout: 30000 });
    const count = await s.textOf('[data-testid="follow-up-count"]');
    const [, calls, all] = count.replace(/,/g, "").match(/要連絡:\s*(\d+)\s*\/\s*(\d+)/) ?? [];
    assert.ok(Number(all) >= 1 && Number(calls) >= 1, count);
    // The case todoke-cli just put in home recovery reported 38.4 °C today: it needs a call.
    const text = await s.textOf('[data-testid="follow-up-rows"]');
    const mine = text.split("\n").find((l) => l.includes(name)) ?? "";
    assert.ok(mine.includes("発熱") && mine.includes("要連絡"), `the new home-recovery case is listed with its concern: ${mine}`);
    await snap("follow-up-list");
    await s.execute(`[...document.querySelectorAll('[data-testid="follow-up-rows"] tbody tr')].find((r) => r.textContent.includes(arguments[0])).click()`, [name]);
    await s.waitFor('[data-testid="case-name"]', { test: (x) => x.includes(name) });
    await s.click('[data-nav="list"]');
  });

  await t.test("bulk status change on ticked cases", async () => {
    await s.clear('[data-testid="search"]');
    await s.execute(`document.querySelector('[data-testid="search"]').dispatchEvent(new Event("input", { bubbles: true }))`);
    await s.waitUntil(`return document.querySelectorAll('[data-testid="row-check"]').length > 3`, []);
    const ids = await s.execute(`const rows = [...document.querySelectorAll(".row[data-case-id]")].slice(1, 3);
      for (const r of rows) r.querySelector('[data-testid="row-check"]').click();
      return rows.map((r) => r.dataset.caseId);`);
    await s.waitFor('[data-testid="bulk-count"]', { test: (x) => x.startsWith("2 ") });
    await s.select('[data-testid="bulk-status"]', "hotel_recovery");
    await s.click('[data-testid="bulk-apply"]');
    await s.waitFor('[data-testid="bulk-notice"]', { test: (x) => x.includes("2 件のステータスを変更しました") });
    for (const id of ids) {
      await s.waitUntil(`return document.querySelector('.row[data-case-id="' + arguments[0] + '"]')?.textContent.includes("宿泊療養中")`, [id], {
        what: `case ${id} shows 宿泊療養中`,
      });
    }
    await snap("bulk-status");
    // Saved in the desk (read back by another process).
    const listed = JSON.parse(cliRun("case", "list", "--status", "hotel_recovery", "--json"));
    for (const id of ids) assert.ok(JSON.stringify(listed).includes(id), `${id} is in hotel recovery on the desk`);
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
    // While locked, every desk call answers the "locked" code (messages in both languages).
    const refusal = await s.execute(
      `return window.__TAURI_INTERNALS__.invoke("desk_status").then(() => null, (e) => e)`,
    );
    assert.equal(refusal?.code, "locked", JSON.stringify(refusal));
    assert.ok(refusal.message_ja.includes("ロック") && refusal.message_en.includes("locked"), JSON.stringify(refusal));
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

  await t.test("import an open-data CSV chosen in the system file dialog: cases appear, bad rows are listed", async () => {
    const csv = join(work, "130001_opendata.csv");
    const header = "No,全国地方公共団体コード,都道府県名,市区町村名,公表_年月日,曜日,発症_年月日,患者_居住地,患者_年代,患者_性別,患者_属性,患者_状態,患者_症状,患者_渡航歴の有無フラグ,備考,退院済フラグ";
    writeFileSync(csv, [header,
      "1,130001,東京都,,2020-03-01,日,,都内,20代,男性,,,,,,",
      "2,130001,東京都,,2020-03-02,月,,都内,40代,女性,,,,,,1",
      "3,130001,東京都,,2020/02/30,火,,都内,30代,男性,,,,,,",
      "4,130001,東京都,,2020-03-04,水,,都内,70代,女性,,,,,,",
      ""].join("\r\n"));
    await s.click('[data-nav="list"]');
    await s.clear('[data-testid="search"]');
    await s.execute(`document.querySelector('[data-testid="search"]').dispatchEvent(new Event("input", { bubbles: true }))`);
    await s.waitFor('[data-testid="case-count"]', { test: (x) => !x.startsWith("1 ") });
    await new Promise((r) => setTimeout(r, 500));
    const before = Number((await s.textOf('[data-testid="case-count"]')).replace(/[^0-9]/g, ""));
    await s.click('[data-nav="io"]');
    // The GTK file chooser is a native window outside the web view: drive it with xdotool
    // (Ctrl+L, type the path, Enter), as a person would with the keyboard.
    await s.click('[data-testid="choose-import"]');
    let dialog = "";
    for (let i = 0; i < 100 && !dialog; i++) {
      try {
        dialog = execFileSync("xdotool", ["search", "--onlyvisible", "--name", "取込"], { stdio: "pipe" }).toString().trim().split("\n")[0];
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(dialog, "the system file dialog opened");
    await snap("file-dialog");
    // No window manager under Xvfb: give the dialog the keyboard focus directly.
    execFileSync("xdotool", ["windowfocus", "--sync", dialog], { stdio: "pipe" });
    execFileSync("xdotool", ["key", "ctrl+l"], { stdio: "pipe" });
    await new Promise((r) => setTimeout(r, 300));
    execFileSync("xdotool", ["type", "--delay", "5", csv], { stdio: "pipe" });
    await new Promise((r) => setTimeout(r, 300));
    execFileSync("xdotool", ["key", "Return"], { stdio: "pipe" });
    await s.waitUntil(`return document.querySelector('[data-testid="import-path"]').value === arguments[0]`, [csv], {
      what: "the chosen file fills the path",
    });
    await s.click('[data-testid="run-import"]');
    const result = await s.textOf('[data-testid="import-result"]');
    assert.match(result, /読んだ行:\s*4/);
    assert.match(result, /取り込んだ行:\s*3/);
    assert.match(result, /取り込めなかった行:\s*1/);
    const errors = await s.textOf('[data-testid="import-errors"]');
    assert.ok(errors.includes("公表_年月日") && errors.includes("2020/02/30"), errors);
    await snap("import-errors");
    await s.click('[data-nav="list"]');
    await s.waitFor('[data-testid="case-count"]', { test: (x) => x.replace(/,/g, "").startsWith(`${before + 3} `) });
    await snap("imported-cases-listed");
  });
});
