// Sync through the real window: a real todoke-server process on loopback (demo
// organisations and users from `seed-demo`), a todoke-cli desk (中央保健所, user chuo) and
// the app's desk (the prefecture, user ken) edit the same case. The app signs in through
// its form (one-time password computed here per RFC 6238), syncs, merges an edit of
// another field, then gets one conflict on the same field, shows it in its inbox with
// both values, resolves it with one click, and both desks converge on the chosen value.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { startDriver, Session, steps, trace } from "./webdriver.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const target = process.env.CARGO_TARGET_DIR ?? "/var/tmp/todoke-target";
const app = process.env.TODOKE_APP ?? join(target, "debug", "todoke-desktop");
const cli = join(target, "debug", "todoke-cli");
const serverBin = join(target, "debug", "todoke-server");
const shots = join(here, "screenshots");
const work = mkdtempSync(join(tmpdir(), "todoke-e2e-sync-"));
const cliDesk = join(work, "desk-cli");
const cliKey = randomBytes(32).toString("hex");
let server;
let url;
const users = new Map(); // login → { password, secret }
let driver;
let s;

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits) of a base32 secret. */
function totp(secret, now = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, "0");
}

/** A one-time password not about to expire (the server accepts the current step). */
async function freshOtp(login) {
  const left = 30 - (Math.floor(Date.now() / 1000) % 30);
  if (left < 4) await sleep(left * 1000 + 200);
  return totp(users.get(login).secret);
}

function cliRun(args, input) {
  return execFileSync(cli, args, {
    input: input ?? "",
    env: { ...process.env, TODOKE_DESK_DIR: cliDesk, TODOKE_DESK_KEY: cliKey, TODOKE_USER: "chuo", TODOKE_LANG: "en" },
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
}
const cliCase = (id) => JSON.parse(cliRun(["case", "show", id]));
const cliSync = () => JSON.parse(cliRun(["sync", "--json"]));
function cliEdit(id, change) {
  const c = cliCase(id);
  change(c);
  cliRun(["case", "edit", id, "-"], JSON.stringify(c));
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const l = net.createServer();
    l.listen(0, "127.0.0.1", () => {
      const { port } = l.address();
      l.close(() => resolve(port));
    });
    l.on("error", reject);
  });
}

async function snap(name) {
  mkdirSync(shots, { recursive: true });
  const file = join(shots, `${name}.png`);
  try {
    execFileSync("import", ["-window", "root", file], { stdio: "pipe", timeout: 20000 });
  } catch {
    writeFileSync(file, await s.screenshot());
  }
}

const CASE = {
  basic: {
    name: "山田 花子", name_kana: "ヤマダ ハナコ", birth_date: "1979-04-12", sex: "female",
    residence: { prefecture_code: "13", municipality_code: "131121", text: "東京都世田谷区太子堂2-3-4" },
    phone: "090-1111-2222",
  },
  jurisdiction: { responsible_health_centre: "HC9901" },
  notification: { diagnosis_class: "confirmed", diagnosis_date: "2022-07-20" },
  tests: [
    { method: "nucleic_acid", specimen: "nasopharyngeal_swab", collected_on: "2022-07-19", result_on: "2022-07-20", result: "positive" },
  ],
};

before(async () => {
  const db = join(work, "server.db");
  const seeded = execFileSync(serverBin, ["seed-demo", "--db", db], { encoding: "utf8" });
  for (const line of seeded.split("\n")) {
    const words = line.trim().split(/\s+/);
    const pw = words.indexOf("password");
    const uri = words.find((w) => w.startsWith("otpauth://"));
    if (pw >= 0 && uri) users.set(words[0], { password: words[pw + 1], secret: new URL(uri).searchParams.get("secret") });
  }
  assert.ok(users.has("chuo") && users.has("ken"), `seed-demo printed the demo sign-ins: ${seeded}`);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(serverBin, ["serve", "--db", db, "--listen", `127.0.0.1:${port}`], { stdio: "ignore" });
  for (let i = 0; ; i++) {
    const up = await new Promise((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => (c.end(), resolve(true)));
      c.on("error", () => resolve(false));
    });
    if (up) break;
    assert.ok(i < 300, "the server started");
    await sleep(100);
  }
  cliRun(["init", "--org", "HC9901"]);
  cliRun(["login", "--server", url, "--user", "chuo", "--password-stdin", "--otp", await freshOtp("chuo")], users.get("chuo").password);

  driver = await startDriver({
    env: {
      TODOKE_DESK_DIR: join(work, "desk-app"),
      TODOKE_DESK_KEY: randomBytes(32).toString("hex"),
      TODOKE_ORG: "P99",
      TODOKE_USER: "ken",
      TODOKE_SERVER_URL: url,
      XDG_DATA_HOME: join(work, "data"),
      XDG_CACHE_HOME: join(work, "cache"),
    },
  });
  s = await Session.create(driver.base, app);
});

after(async () => {
  await s?.delete();
  await driver?.stop();
  server?.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
});

/** Sets a text field of the open case (by its item path) and saves. */
async function editField(path, value) {
  const css = `[data-path="${path}"]`;
  await s.clear(css);
  await s.type(css, value);
  await s.click('[data-testid="save"]');
  await s.waitFor('[data-testid="save"]', { test: (x) => !x.includes("*") });
}

/** Presses 今すぐ同期 and waits for the sync to end. */
async function syncApp() {
  await s.waitUntil(`const b = document.querySelector('[data-testid="sync-now"]'); return b && !b.disabled`, [], { what: "the sync button is ready" });
  await s.click('[data-testid="sync-now"]');
  await s.waitUntil(`const b = document.querySelector('[data-testid="sync-now"]'); return b && !b.disabled`, [], {
    timeout: 30000,
    what: "the sync ended",
  });
}

const fieldValue = (path) => s.execute(`return document.querySelector('[data-path="${path}"]').value`);

test("the app signs in, syncs, merges, shows one conflict in its inbox, resolves it; both desks converge", async (outer) => {
  const t = steps(outer, async (slug) => {
    await snap(`FAILED-sync-${slug}`).catch(() => {});
    console.error(trace.slice(-30).join("\n"));
  });
  let id;

  await t.test("todoke-cli enters a case and sends it", async () => {
    id = cliRun(["case", "new", "-"], JSON.stringify(CASE)).trim();
    const r = cliSync();
    assert.equal(r.applied, 1, JSON.stringify(r));
  });

  await t.test("a wrong one-time password is refused with a clear message", async () => {
    await s.waitFor('[data-testid="case-count"]', { timeout: 30000 });
    assert.match(await s.textOf('[data-testid="net-state"]'), /オフライン（サーバー未設定）/);
    await s.click('[data-nav="sync"]');
    await s.waitUntil(`return document.querySelector('[data-testid="signin-server"]')?.value === arguments[0]`, [url], {
      what: "the server address is prefilled from TODOKE_SERVER_URL",
    });
    await s.type('[data-testid="signin-login"]', "ken");
    await s.type('[data-testid="signin-password"]', users.get("ken").password);
    const good = await freshOtp("ken");
    await s.type('[data-testid="signin-otp"]', good === "000000" ? "111111" : "000000");
    await s.click('[data-testid="signin-submit"]');
    await s.waitFor('[data-testid="signin-error"]', { timeout: 20000, test: (x) => x.includes("ワンタイムパスワード") });
  });

  await t.test("the app signs in and its first sync brings the case", async () => {
    await s.clear('[data-testid="signin-password"]');
    await s.type('[data-testid="signin-password"]', users.get("ken").password);
    await s.type('[data-testid="signin-otp"]', await freshOtp("ken"));
    await s.click('[data-testid="signin-submit"]');
    await s.waitFor('[data-testid="account-login"]', { timeout: 30000, test: (x) => x === "ken" });
    await s.waitFor('[data-testid="last-sync"]', { timeout: 30000, test: (x) => /\d/.test(x) });
    assert.match(await s.textOf('[data-testid="net-state"]'), /オンライン/);
    await snap("sync-signed-in");
    await s.click('[data-nav="list"]');
    await s.waitUntil(`return document.querySelector('.row[data-case-id="${id}"]')`, [], { timeout: 20000, what: "the pulled case is listed" });
    await s.execute(`document.querySelector('.row[data-case-id="${id}"]').dispatchEvent(new MouseEvent("dblclick", { bubbles: true }))`);
    await s.waitFor('[data-testid="case-name"]', { test: (x) => x.includes("山田 花子") });
  });

  await t.test("different fields edited on both desks merge", async () => {
    cliEdit(id, (c) => (c.basic.phone = "090-9999-0000"));
    await editField("basic.occupation", "教員");
    assert.equal(cliSync().applied, 1);
    await syncApp();
    await s.waitFor('[data-testid="pending-count"]', { test: (x) => /送信待ち:\s*0/.test(x) });
    cliSync();
    const c = cliCase(id);
    assert.equal(c.basic.phone, "090-9999-0000");
    assert.equal(c.basic.occupation, "教員");
    await s.waitUntil(`return document.querySelector('[data-path="basic.phone"]').value === "090-9999-0000"`, [], {
      what: "the app shows the phone number todoke-cli entered",
    });
    assert.equal(await fieldValue("basic.occupation"), "教員");
  });

  await t.test("the same field edited on both desks: one conflict in the app's inbox, both values shown", async () => {
    cliEdit(id, (c) => (c.basic.name = "山田 華子"));
    assert.equal(cliSync().applied, 1);
    await editField("basic.name", "山田 花江");
    await syncApp();
    await s.waitFor('[data-testid="nav-conflicts"]', { timeout: 20000, test: (x) => x === "1" });
    await s.click('[data-nav="sync"]');
    await s.waitFor('[data-testid="conflict"]');
    assert.equal((await s.findAll('[data-testid="conflict"]')).length, 1);
    assert.equal(await s.textOf('[data-testid="conflict-mine"]'), "山田 花江");
    assert.equal(await s.textOf('[data-testid="conflict-theirs"]'), "山田 華子");
    assert.equal(await s.textOf('[data-testid="conflict-field"]'), "氏名");
    const item = await s.textOf('[data-testid="conflict"]');
    assert.match(item, /ken@P99/);
    assert.match(item, /chuo@HC9901/);
    await snap("sync-conflict-inbox");
  });

  await t.test("keeping the app's value with one click: both desks converge on it", async () => {
    await s.click('[data-testid="keep-mine"]');
    await s.waitFor('[data-testid="resolution-pending"]');
    await s.click('[data-testid="sync-now-view"]');
    await s.waitFor('[data-testid="no-conflicts"]', { timeout: 30000 });
    cliSync();
    const c = cliCase(id);
    assert.equal(c.basic.name, "山田 花江");
    assert.deepEqual(JSON.parse(cliRun(["conflicts", "--json"])), [], "no open conflict left on the CLI desk");
    await snap("sync-conflict-resolved");
  });

  await t.test("sign-out (after the confirmation) forgets the sign-in; the form is offered again", async () => {
    await s.click('[data-testid="sign-out"]');
    await s.waitFor('[data-testid="sign-out-confirm"]');
    await s.click('[data-testid="sign-out-yes"]');
    await s.waitFor('[data-testid="signed-out"]', { timeout: 30000 });
    await s.waitFor('[data-testid="sign-in"]');
    await s.waitFor('[data-testid="net-state"]', { test: (x) => /オフライン（サーバー未設定）/.test(x) });
    assert.equal((await s.findAll('[data-testid="sync-now"]')).length, 0, "no sync while signed out");
  });
});
