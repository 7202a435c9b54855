// A small W3C WebDriver client over fetch, enough to drive the Todoke window through
// tauri-driver (which forwards to WebKitWebDriver on Linux). No dependencies.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import net from "node:net";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts tauri-driver on free ports; `env` reaches the app it launches. */
export async function startDriver({ env = {}, log = () => {} } = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  const bin = process.env.TAURI_DRIVER ?? "tauri-driver";
  const child = spawn(bin, ["--port", String(port), "--native-port", String(nativePort), "--native-driver", process.env.WEBKIT_WEBDRIVER ?? "/usr/bin/WebKitWebDriver"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => log(String(d)));
  child.stderr.on("data", (d) => log(String(d)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${base}/status`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  return {
    base,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      }),
  };
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, application) {
    // No browserName: tauri-driver fills in what WebKitWebDriver needs.
    const r = await request(base, "POST", "/session", { capabilities: { alwaysMatch: { "tauri:options": { application } } } });
    return new Session(base, r.sessionId);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async delete() {
    await this.cmd("DELETE", "").catch(() => {});
  }

  async find(css) {
    const r = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return r[ELEMENT];
  }

  async findAll(css) {
    const r = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return r.map((e) => e[ELEMENT]);
  }

  /** Waits until `css` matches (and `test(text)` holds, when given); returns the element. */
  async waitFor(css, { timeout = 15000, test } = {}) {
    const end = Date.now() + timeout;
    let last = "";
    for (;;) {
      try {
        const el = await this.find(css);
        if (!test) return el;
        last = await this.text(el);
        if (test(last)) return el;
      } catch {
        /* not there yet */
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${css}${test ? ` (last text: ${JSON.stringify(last)})` : ""}`);
      await sleep(100);
    }
  }

  /** Waits until `script` (a function body) returns something truthy; returns it. */
  async waitUntil(script, args = [], { timeout = 15000, what = script } = {}) {
    const end = Date.now() + timeout;
    for (;;) {
      const v = await this.execute(script, args).catch(() => null);
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
      await sleep(100);
    }
  }

  async click(css) {
    const el = typeof css === "string" ? await this.waitFor(css) : css;
    await this.cmd("POST", `/element/${el}/click`, {});
  }

  async type(css, text) {
    const el = await this.waitFor(css);
    await this.cmd("POST", `/element/${el}/value`, { text });
  }

  async clear(css) {
    const el = await this.waitFor(css);
    await this.cmd("POST", `/element/${el}/clear`, {});
  }

  async text(el) {
    return this.cmd("GET", `/element/${el}/text`);
  }

  async textOf(css) {
    return this.text(await this.waitFor(css));
  }

  /** Chooses an option of a <select> by value (as a person would, through the change event). */
  async select(css, value) {
    await this.execute(
      `const s = document.querySelector(arguments[0]); if (!s) throw new Error("no select " + arguments[0]);
       s.focus(); s.value = arguments[1]; s.dispatchEvent(new Event("change", { bubbles: true }));`,
      [css, value],
    );
  }

  execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }
}

export const trace = [];

/**
 * The steps of one end-to-end story as subtests of `outer`: each runs only
 * when the one before passed; a failing step first calls `onFail(slug)`
 * (a screenshot, a trace), whose own failure is ignored.
 */
export function steps(outer, onFail) {
  let failed = false;
  return {
    test: (name, fn) =>
      outer.test(name, { skip: failed && "an earlier step failed" }, async () => {
        try {
          await fn();
        } catch (e) {
          failed = true;
          await Promise.resolve()
            .then(() => onFail(name.replace(/[^A-Za-z0-9]+/g, "-")))
            .catch(() => {});
          throw e;
        }
      }),
  };
}

async function request(base, method, path, body) {
  trace.push(`${new Date().toISOString()} ${method} ${path.replace(/^\/session\/[^/]+/, "")} ${body && !body.capabilities ? JSON.stringify(body).slice(0, 120) : ""}`);
  if (trace.length > 400) trace.shift();
  const r = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A hung page must fail the test, not hang it.
    signal: AbortSignal.timeout(Number(process.env.WEBDRIVER_TIMEOUT_MS ?? 60000)),
  });
  const json = await r.json().catch(() => ({}));
  if (!r.ok || (json.value && json.value.error)) {
    throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json.value ?? json).slice(0, 500)}`);
  }
  return json.value;
}
