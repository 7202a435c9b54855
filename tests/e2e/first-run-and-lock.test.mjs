// First start on an empty desk folder (the app creates the encrypted desk), then the
// inactivity lock: with TODOKE_LOCK_MINUTES=0.05 (3 s) the window locks by itself, the
// database is closed, and unlocking opens it again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startDriver, Session } from "./webdriver.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const target = process.env.CARGO_TARGET_DIR ?? "/var/tmp/todoke-target";
const app = process.env.TODOKE_APP ?? join(target, "debug", "todoke-desktop");
const shots = join(here, "screenshots");
const work = mkdtempSync(join(tmpdir(), "todoke-e2e-lock-"));
const desk = join(work, "desk");
let driver;
let s;

before(async () => {
  mkdirSync(shots, { recursive: true });
  driver = await startDriver({
    env: {
      TODOKE_DESK_DIR: desk,
      TODOKE_DESK_KEY: randomBytes(32).toString("hex"),
      TODOKE_ORG: "HC131121",
      TODOKE_LOCK_MINUTES: "0.05",
      XDG_DATA_HOME: join(work, "data"),
      XDG_CACHE_HOME: join(work, "cache"),
    },
  });
  s = await Session.create(driver.base, app);
});

after(async () => {
  await s?.delete();
  await driver?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("first start creates the encrypted desk; inactivity locks it; unlock reopens it", async () => {
  await s.waitFor('[data-testid="case-count"]', { timeout: 30000, test: (x) => x.startsWith("0 ") });
  assert.ok(existsSync(join(desk, "desk.json")), "desk.json was written");
  const info = JSON.parse(readFileSync(join(desk, "desk.json"), "utf8"));
  assert.ok(info.desk_id, "desk.json names the desk and holds nothing personal");
  // The database is not readable as plain SQLite: it is encrypted.
  const head = readFileSync(join(desk, "desk.db")).subarray(0, 16).toString("latin1");
  assert.notEqual(head, "SQLite format 3\u0000");

  await s.waitFor('[data-testid="lock-screen"]', { timeout: 20000 });
  try {
    execFileSync("import", ["-window", "root", join(shots, "lock-after-inactivity.png")], { stdio: "pipe", timeout: 20000 });
  } catch {
    writeFileSync(join(shots, "lock-after-inactivity.png"), await s.screenshot());
  }
  await s.click('[data-testid="lock-screen"] button');
  await s.waitFor('[data-testid="case-count"]', { timeout: 20000 });
});
