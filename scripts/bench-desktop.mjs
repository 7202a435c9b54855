// TARGETS B9: cold start to a usable window (the case list rendered: the UI calls
// `ui_ready`, which writes $TODOKE_READY_FILE) and idle memory of the whole process tree
// (the app, WebKitWebProcess, WebKitNetworkProcess …) after 10 s idle. Writes JSON.
// Run inside a display and a D-Bus session: scripts/bench-desktop.sh does that.
//
//   node scripts/bench-desktop.mjs --runs 5 --cases 5000 --out bench-results/b9.json [--app PATH]
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const target = process.env.CARGO_TARGET_DIR ?? "/var/tmp/todoke-target";
const pick = (name) => [join(target, "release", name), join(target, "debug", name)].find(existsSync);
const app = arg("app", pick("todoke-desktop"));
const cli = arg("cli", pick("todoke-cli"));
const runs = Number(arg("runs", 5));
const cases = Number(arg("cases", 5000));
const idleSeconds = Number(arg("idle", 10));
const out = arg("out", "bench-results/b9.json");
if (!app) throw new Error("no todoke-desktop binary: cargo build --release -p todoke-desktop");

const work = mkdtempSync(join(tmpdir(), "todoke-b9-"));
const env = {
  ...process.env,
  TODOKE_DESK_DIR: join(work, "desk"),
  TODOKE_DESK_KEY: randomBytes(32).toString("hex"),
  TODOKE_ORG: "HC131121",
  XDG_DATA_HOME: join(work, "data"),
  XDG_CACHE_HOME: join(work, "cache"),
  NO_AT_BRIDGE: "1",
  WEBKIT_DISABLE_COMPOSITING_MODE: "1",
};

function children(pid) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}
function tree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]));
  return all;
}
function memory(pid) {
  const kb = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?";
    return { pid, name, rss_kb: kb(status, "VmRSS"), pss_kb: kb(rollup, "Pss"), anon_kb: kb(rollup, "Anonymous") };
  } catch {
    return null;
  }
}

async function once(i) {
  const ready = join(work, `ready-${i}.json`);
  const started = Date.now();
  const child = spawn(app, [], { env: { ...env, TODOKE_READY_FILE: ready }, stdio: "ignore" });
  let info = null;
  while (Date.now() - started < 60_000) {
    if (existsSync(ready)) {
      info = JSON.parse(readFileSync(ready, "utf8"));
      break;
    }
    if (child.exitCode !== null) break;
    await sleep(10);
  }
  if (!info) {
    child.kill("SIGKILL");
    throw new Error(`run ${i}: the window never showed the case list`);
  }
  await sleep(idleSeconds * 1000);
  const procs = tree(child.pid).map(memory).filter(Boolean);
  const rss = procs.reduce((a, p) => a + p.rss_kb, 0);
  const pss = procs.reduce((a, p) => a + p.pss_kb, 0);
  const anon = procs.reduce((a, p) => a + p.anon_kb, 0);
  for (const p of procs.reverse()) {
    try {
      process.kill(p.pid, "SIGTERM");
    } catch {
      /* gone */
    }
  }
  await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
  return {
    cold_start_ms: info.ready_unix_ms - started,
    ready_ms_since_main: info.ready_ms_since_main,
    idle_rss_mb: +(rss / 1024).toFixed(1),
    idle_pss_mb: +(pss / 1024).toFixed(1),
    idle_anon_mb: +(anon / 1024).toFixed(1),
    processes: procs.map((p) => ({
      name: p.name,
      rss_mb: +(p.rss_kb / 1024).toFixed(1),
      pss_mb: +(p.pss_kb / 1024).toFixed(1),
      anon_mb: +(p.anon_kb / 1024).toFixed(1),
    })),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  if (cases > 0 && cli) {
    execFileSync(cli, ["--desk", env.TODOKE_DESK_DIR, "init", "--org", "HC131121"], { env, stdio: "pipe" });
    execFileSync(cli, ["--desk", env.TODOKE_DESK_DIR, "generate", "--cases", String(cases), "--seed", "9"], { env, stdio: "pipe" });
  }
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = await once(i);
    console.log(`run ${i + 1}/${runs}: ready after ${r.cold_start_ms} ms, idle tree RSS ${r.idle_rss_mb} MB (PSS ${r.idle_pss_mb} MB)`);
    results.push(r);
  }
  const cold = results.map((r) => r.cold_start_ms);
  const rss = results.map((r) => r.idle_rss_mb);
  const pss = results.map((r) => r.idle_pss_mb);
  const anon = results.map((r) => r.idle_anon_mb);
  const report = {
    benchmark: "B9",
    what: "cold start to the case list rendered; idle memory of the whole process tree after " + idleSeconds + " s",
    target: { cold_start_ms: 1500, idle_memory_mb: 250 },
    binary: app,
    profile: app.includes("/release/") ? "release" : "debug",
    cases: cases > 0 && cli ? cases : 0,
    runs: results,
    cold_start_ms: { median: median(cold), max: Math.max(...cold), first: cold[0] },
    idle_rss_mb: { median: median(rss), max: Math.max(...rss) },
    idle_pss_mb: { median: median(pss), max: Math.max(...pss) },
    idle_anon_mb: { median: median(anon), max: Math.max(...anon) },
    memory_note:
      "RSS adds up the WebKit and GTK libraries once per process (about 108 MB of shared, clean pages each); " +
      "PSS shares them out, so the PSS sum is the tree's own footprint; anon is private heap only.",
    pass: { cold_start: median(cold) <= 1500, idle_memory_rss: median(rss) <= 250, idle_memory_pss: median(pss) <= 250 },
    measured_at: new Date().toISOString(),
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
  console.log(`B9: cold start median ${report.cold_start_ms.median} ms (target ≤ 1500), idle RSS median ${report.idle_rss_mb.median} MB (target ≤ 250), PSS ${report.idle_pss_mb.median} MB → ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
