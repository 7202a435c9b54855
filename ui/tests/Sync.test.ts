import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import SignIn from "../src/components/sync/SignIn.svelte";
import ConflictsInbox from "../src/components/sync/ConflictsInbox.svelte";
import StatusBar from "../src/components/StatusBar.svelte";
import { codes } from "../src/lib/codes.svelte";
import { setLang } from "../src/lib/i18n.svelte";
import { sync } from "../src/lib/sync.svelte";
import type { ConflictItem, RejectedItem, SyncOverview } from "../src/lib/bindings";
import { codeLists } from "./fixtures";

const CASE_ID = "0190a6e4-0000-7000-8000-0000000000cc";
const CONFLICT_ID = "0190a6e4-0000-7000-8000-0000000000c1";

function conflict(): ConflictItem {
  return {
    case_id: CASE_ID,
    case_name: "競合 太郎",
    conflict: {
      conflict_id: CONFLICT_ID, entity: "case", entity_id: CASE_ID, field: "basic.phone", base_seq: 3,
      server_value: "03-1111-2222", client_value: "090-3333-4444", server_author: "chuo@HC9901/desk-a", client_author: "ken@P99/desk-b",
      status: "open", resolution_pending: false, server_at: "2026-11-20T23:05:00Z", client_at: "2026-11-21T00:30:00Z",
    },
  };
}

function rejected(): RejectedItem {
  return {
    case_id: CASE_ID,
    case_name: "競合 太郎",
    op: {
      op_id: "0190a6e4-0000-7000-8000-0000000000d1", kind: "case.update", entity: "case", entity_id: CASE_ID, code: "out_of_scope",
      message_ja: "この症例を変更する権限がありません。", message_en: "You may not change this case.",
    },
  };
}

function overview(partial: Partial<SyncOverview> = {}): SyncOverview {
  return {
    account: { server: "http://127.0.0.1:8443", login: "chuo", org: "HC131016", role: "staff" },
    outbox: { pending: 2, sent: 1, applied: 10, conflict: 1, rejected: 0 },
    unsent: 3, open_conflicts: 1, rejected: 0, last_sync: "2026-11-21T00:30:00Z",
    ...partial,
  };
}

describe("sign-in form", () => {
  it("sends server, ID, password and one-time password; the server's refusal is shown in Japanese", async () => {
    setLang("ja");
    const calls: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "sync_login") {
        calls.push(args as Record<string, unknown>);
        throw {
          code: "sign_in_needed", problems: [],
          message_ja: "ID、パスワード、またはワンタイムパスワードが違います。確かめてもう一度入力してください。",
          message_en: "The ID, password or one-time password is wrong. Check them and try again.",
        };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onsignedin = vi.fn();
    render(SignIn, { server: "http://127.0.0.1:8443", onsignedin });
    expect((screen.getByTestId("signin-server") as HTMLInputElement).value).toBe("http://127.0.0.1:8443");
    const user = userEvent.setup();
    await user.click(screen.getByTestId("signin-submit"));
    expect((await screen.findByTestId("signin-error")).textContent).toContain("すべての項目を入力してください");
    expect(calls).toHaveLength(0);
    await user.type(screen.getByTestId("signin-login"), "chuo");
    await user.type(screen.getByTestId("signin-password"), "pw-123");
    await user.type(screen.getByTestId("signin-otp"), "123456");
    await user.click(screen.getByTestId("signin-submit"));
    expect((await screen.findByTestId("signin-error")).textContent).toContain("ワンタイムパスワードが違います");
    expect(calls).toEqual([{ server: "http://127.0.0.1:8443", login: "chuo", password: "pw-123", otp: "123456" }]);
    expect(onsignedin).not.toHaveBeenCalled();
    // The one-time password is cleared for the next try.
    expect((screen.getByTestId("signin-otp") as HTMLInputElement).value).toBe("");
  });

  it("a successful sign-in hands the account on", async () => {
    setLang("en");
    mockIPC((cmd) => {
      if (cmd === "sync_login") return { server: "http://h", login: "ken", org: "PREF13", role: "staff" };
      throw new Error(`unexpected ${cmd}`);
    });
    const onsignedin = vi.fn();
    render(SignIn, { server: "http://h", onsignedin });
    const user = userEvent.setup();
    await user.type(screen.getByTestId("signin-login"), "ken");
    await user.type(screen.getByTestId("signin-password"), "x");
    await user.type(screen.getByTestId("signin-otp"), "000000");
    await user.click(screen.getByTestId("signin-submit"));
    await waitFor(() => expect(onsignedin).toHaveBeenCalledWith({ server: "http://h", login: "ken", org: "PREF13", role: "staff" }));
  });
});

describe("conflicts inbox", () => {
  it("shows the case, the item's label, both values and both authors; a click keeps one", async () => {
    setLang("ja");
    codes.lists = codeLists;
    let open = [conflict()];
    const resolved: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "conflict_inbox") return open;
      if (cmd === "rejected_inbox") return [rejected()];
      if (cmd === "resolve_conflict") {
        resolved.push(args as Record<string, unknown>);
        open = [{ ...conflict(), conflict: { ...conflict().conflict, resolution_pending: true } }];
        return "0190a6e4-0000-7000-8000-0000000000e1";
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onopen = vi.fn();
    const onresolved = vi.fn();
    render(ConflictsInbox, { onopen, onresolved });
    const item = await screen.findByTestId("conflict");
    expect(item.textContent).toContain("競合 太郎");
    expect(screen.getByTestId("conflict-field").textContent).toBe("電話番号");
    expect(screen.getByTestId("conflict-mine").textContent).toBe("090-3333-4444");
    expect(screen.getByTestId("conflict-theirs").textContent).toBe("03-1111-2222");
    expect(item.textContent).toContain("入力者: ken@P99");
    expect(item.textContent).toContain("入力者: chuo@HC9901");
    // When each value reached the server, in Japan time.
    expect(screen.getByTestId("conflict-theirs-at").textContent).toBe("サーバー受信: 2026年11月21日 08:05");
    expect(screen.getByTestId("conflict-mine-at").textContent).toBe("サーバー受信: 2026年11月21日 09:30");
    expect(screen.getByTestId("rejected-reason").textContent).toBe("この症例を変更する権限がありません。");
    const user = userEvent.setup();
    await user.click(screen.getByTestId("keep-theirs"));
    expect(resolved).toEqual([{ conflict_id: CONFLICT_ID, keep: "theirs" }]);
    await screen.findByTestId("resolution-pending");
    expect((screen.getByTestId("keep-mine") as HTMLButtonElement).disabled).toBe(true);
    expect(onresolved).toHaveBeenCalled();
    await user.click(screen.getByTestId("conflict-case"));
    expect(onopen).toHaveBeenCalledWith(CASE_ID);
  });
});

describe("conflicts inbox in English", () => {
  it("shows when each value reached the server in English, and says so when the server did not keep it", async () => {
    setLang("en");
    codes.lists = codeLists;
    const older = { ...conflict(), conflict: { ...conflict().conflict, conflict_id: "0190a6e4-0000-7000-8000-0000000000c2", server_at: null, client_at: null } };
    mockIPC((cmd) => {
      if (cmd === "conflict_inbox") return [conflict(), older];
      if (cmd === "rejected_inbox") return [];
      throw new Error(`unexpected ${cmd}`);
    });
    render(ConflictsInbox, { onopen: vi.fn() });
    await screen.findAllByTestId("conflict");
    const theirs = screen.getAllByTestId("conflict-theirs-at").map((e) => e.textContent);
    const mine = screen.getAllByTestId("conflict-mine-at").map((e) => e.textContent);
    expect(theirs).toEqual(["Reached the server: 21 Nov 2026 08:05 JST", "Reached the server: time unknown"]);
    expect(mine).toEqual(["Reached the server: 21 Nov 2026 09:30 JST", "Reached the server: time unknown"]);
    setLang("ja");
  });
});

describe("status bar", () => {
  const session = { version: "0.1.0", desk_dir: "/d", initialised: true, locked: false, lock_after_secs: 600, key_source: "env", export_dir: "/h" };

  it("not signed in: offline, no sync button", () => {
    setLang("ja");
    sync.overview = overview({ account: null, unsent: 5 });
    sync.online = null;
    render(StatusBar, { status: null, session, locked: false, onlock: vi.fn() });
    expect(screen.getByTestId("net-state").textContent).toContain("オフライン（サーバー未設定）");
    expect(screen.getByTestId("pending-count").textContent).toMatch(/送信待ち:\s*5/);
    expect(screen.queryByTestId("sync-now")).toBeNull();
  });

  it("signed in: last sync, outbox, conflicts; Sync now runs one sync and shows online", async () => {
    setLang("en");
    sync.overview = overview();
    sync.online = null;
    sync.running = false;
    let syncs = 0;
    mockIPC((cmd) => {
      if (cmd === "sync_now") {
        syncs++;
        return { applied: 3, conflicts: 0, rejected: 0, changes_pulled: 4, cases_removed: 0, unsent: 0 };
      }
      if (cmd === "sync_overview") return overview({ unsent: 0, last_sync: "2026-11-21T00:45:00Z" });
      throw new Error(`unexpected ${cmd}`);
    });
    const onsynced = vi.fn();
    render(StatusBar, { status: null, session, locked: false, onlock: vi.fn(), onsynced });
    expect(screen.getByTestId("net-state").textContent).toContain("Checking the connection");
    expect(screen.getByTestId("pending-count").textContent).toMatch(/Waiting to send:\s*3/);
    expect(screen.getByTestId("conflict-count").textContent).toMatch(/Conflicts:\s*1/);
    expect(screen.getByTestId("last-sync").textContent).toContain("21/11/2026");
    const user = userEvent.setup();
    await user.click(screen.getByTestId("sync-now"));
    await waitFor(() => expect(onsynced).toHaveBeenCalled());
    expect(syncs).toBe(1);
    expect(screen.getByTestId("net-state").textContent).toContain("Online");
    expect(screen.getByTestId("pending-count").textContent).toMatch(/Waiting to send:\s*0/);
    expect(screen.getByTestId("last-sync").textContent).toContain("09:45");
  });

  it("a sync that cannot reach the server shows offline", async () => {
    setLang("en");
    sync.overview = overview();
    sync.online = true;
    sync.running = false;
    mockIPC((cmd) => {
      if (cmd === "sync_now") throw { code: "offline", message_ja: "接続できません。", message_en: "Cannot reach the server.", problems: [] };
      if (cmd === "sync_overview") return overview();
      throw new Error(`unexpected ${cmd}`);
    });
    render(StatusBar, { status: null, session, locked: false, onlock: vi.fn() });
    await userEvent.setup().click(screen.getByTestId("sync-now"));
    await waitFor(() => expect(screen.getByTestId("net-state").textContent).toContain("Offline (cannot reach"));
    expect(sync.error?.message_en).toBe("Cannot reach the server.");
  });

  it("a running sync shows its progress: a bar while sending, the first download named as such", () => {
    setLang("ja");
    sync.overview = overview({ last_sync: null });
    sync.running = true;
    sync.step = { phase: "pushing", sent: 1, remaining: 3 };
    const { unmount } = render(StatusBar, { status: null, session, locked: false, onlock: vi.fn() });
    const bar = screen.getByTestId("sync-progress");
    expect(bar.textContent).toContain("送信中 1/4");
    expect((bar.querySelector("progress") as HTMLProgressElement).value).toBe(0.25);
    expect((screen.getByTestId("sync-now") as HTMLButtonElement).disabled).toBe(true);
    unmount();
    sync.step = { phase: "pulling", pages: 2, changes: 400, more: true };
    render(StatusBar, { status: null, session, locked: false, onlock: vi.fn() });
    expect(screen.getByTestId("sync-progress").textContent).toContain("初回同期中");
    expect(screen.getByTestId("sync-progress").textContent).toContain("400件の変更");
    sync.running = false;
    sync.step = null;
  });
});
