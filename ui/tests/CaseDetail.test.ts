import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import CaseDetail from "../src/components/CaseDetail.svelte";
import { codes } from "../src/lib/codes.svelte";
import { setLang } from "../src/lib/i18n.svelte";
import type { CaseDetail as Detail } from "../src/lib/bindings";
import { blankCase, codeLists, formCheck } from "./fixtures";

const ID = "0190a6e4-0000-7000-8000-0000000000bb";

function detail(): Detail {
  const c = { ...blankCase(), id: ID };
  c.basic.name = "届出 花子";
  c.notification.diagnosis_class = "confirmed";
  c.notification.report_date = "2026-11-20";
  c.notification.submitted_on = "2026-11-20";
  c.notification.received_on = "2026-11-20";
  return {
    case: c,
    rev: 3,
    observations: [],
    clusters: [],
    pending_ops: [],
    history: [
      { seq: 1, op_id: null, kind: "case.create", at: "2026-11-20T01:00:00Z", actor: { login: "nurse-a", org_code: "HC131121" }, changes: [] },
      {
        seq: 2,
        op_id: "0190a6e4-0000-7000-8000-0000000000c2",
        kind: "case.update",
        at: "2026-11-20T02:00:00Z",
        actor: { login: "nurse-b", org_code: "HC131121" },
        changes: [{ path: "measures.current_status", old: null, new: "hospitalised" }],
      },
    ],
  };
}

describe("case detail", () => {
  it("opens in tabs; 発生届 shows the report, submission and receipt dates; 変更履歴 shows who changed what", async () => {
    setLang("ja");
    codes.lists = codeLists;
    mockIPC((cmd) => {
      if (cmd === "open_case") return detail();
      if (cmd === "check_form") return formCheck();
      if (cmd === "change_states") return [{ op_id: "0190a6e4-0000-7000-8000-0000000000c2", status: "sent" }];
      throw new Error(`unexpected ${cmd}`);
    });
    render(CaseDetail, { id: ID, onchanged: vi.fn(), onopen: vi.fn(), onnewcontact: vi.fn(), onback: vi.fn() });
    expect((await screen.findByTestId("case-name")).textContent).toContain("届出 花子");
    const user = userEvent.setup();
    await user.click(screen.getByRole("tab", { name: "発生届" }));
    const dates = screen.getByTestId("report-dates").textContent ?? "";
    expect(dates).toMatch(/報告日\s*2026-11-20/);
    expect(dates).toMatch(/提出日\s*2026-11-20/);
    expect(dates).toMatch(/受理日\s*2026-11-20/);
    await user.click(screen.getByRole("tab", { name: "変更履歴" }));
    const history = (await screen.findByTestId("history")).textContent ?? "";
    expect(history).toContain("nurse-b");
    expect(history).toContain("measures.current_status");
    // Where the change stands with the server: the update was sent, not yet answered.
    await waitFor(() => expect(screen.getAllByTestId("change-state")[0].textContent).toContain("送信済み"));
  });

  it("an edit marks the case unsaved and 保存 sends it; a refusal is shown by field", async () => {
    setLang("ja");
    codes.lists = codeLists;
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "open_case") return detail();
      if (cmd === "check_form") return formCheck();
      if (cmd === "update_case") {
        sent.push((args as { case: unknown }).case);
        throw {
          code: "invalid",
          message_ja: "入力に1件の問題があります。保存していません。",
          message_en: "1 problem(s)",
          problems: [{ path: "basic.name", rule: "required", severity: "error", message_ja: "氏名が入力されていません。", message_en: "x" }],
        };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(CaseDetail, { id: ID, onchanged: vi.fn(), onopen: vi.fn(), onnewcontact: vi.fn(), onback: vi.fn() });
    const user = userEvent.setup();
    const name = await waitFor(() => {
      const el = document.querySelector<HTMLInputElement>('[data-path="basic.name"]');
      if (!el) throw new Error("not yet");
      return el;
    });
    expect((screen.getByTestId("save") as HTMLButtonElement).disabled).toBe(true);
    await user.clear(name);
    expect((screen.getByTestId("save") as HTMLButtonElement).disabled).toBe(false);
    await user.click(screen.getByTestId("save"));
    expect(await screen.findByTestId("action-error")).toBeTruthy();
    expect(sent).toHaveLength(1);
    const problem = document.querySelector('.field .problem[data-path="basic.name"]');
    expect(problem?.textContent).toContain("氏名が入力されていません");
  });

  it("措置 tab: enable self-report and issue a processing number (shown once to read out, then kept on the case)", async () => {
    setLang("ja");
    codes.lists = codeLists;
    const current = detail();
    const calls: string[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "open_case") return structuredClone(current);
      if (cmd === "check_form") return formCheck();
      if (cmd === "enable_self_report" || cmd === "issue_processing_number") {
        calls.push(cmd);
        expect((args as { id: string }).id).toBe(ID);
        if (cmd === "enable_self_report") {
          current.case.follow_up.self_report_enabled = true;
          return { case: current.case, warnings: [], possible_duplicates: [] };
        }
        current.case.follow_up.processing_number = "04718265";
        current.case.follow_up.processing_number_issued_on = "2026-11-21";
        return "04718265";
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onchanged = vi.fn();
    render(CaseDetail, { id: ID, onchanged, onopen: vi.fn(), onnewcontact: vi.fn(), onback: vi.fn() });
    const user = userEvent.setup();
    await screen.findByTestId("case-name");
    await user.click(screen.getByRole("tab", { name: "措置・現在のステータス" }));
    expect(screen.getByTestId("self-report-state").textContent).toBe("未設定");
    await user.click(screen.getByTestId("enable-self-report"));
    await waitFor(() => expect(screen.getByTestId("self-report-state").textContent).toBe("有効"));
    expect(screen.queryByTestId("enable-self-report")).toBeNull();
    expect(screen.getByTestId("notice").textContent).toContain("本人入力を有効にしました");

    await user.click(screen.getByTestId("issue-processing-number"));
    expect((await screen.findByTestId("issued-number")).textContent).toContain("04718265");
    await waitFor(() => expect(screen.getByTestId("processing-number").textContent).toBe("04718265"));
    expect(screen.queryByTestId("issue-processing-number")).toBeNull();
    expect(calls).toEqual(["enable_self_report", "issue_processing_number"]);
    expect(onchanged).toHaveBeenCalledTimes(2);
  });

  it("reloads when the desk changed elsewhere, but never over unsaved typing", async () => {
    setLang("ja");
    codes.lists = codeLists;
    const stored = detail();
    let opens = 0;
    mockIPC((cmd) => {
      if (cmd === "open_case") return (opens++, structuredClone(stored));
      if (cmd === "check_form") return formCheck();
      throw new Error(`unexpected ${cmd}`);
    });
    const props = { id: ID, version: 0, onchanged: vi.fn(), onopen: vi.fn(), onnewcontact: vi.fn(), onback: vi.fn() };
    const { rerender } = render(CaseDetail, props);
    expect((await screen.findByTestId("case-name")).textContent).toContain("届出 花子");
    stored.case.basic.name = "届出 花江"; // e.g. todoke-cli edited the case
    await rerender({ ...props, version: 1 });
    await waitFor(() => expect(screen.getByTestId("case-name").textContent).toContain("届出 花江"));
    expect(opens).toBe(2);

    const user = userEvent.setup();
    const name = document.querySelector<HTMLInputElement>('[data-path="basic.name"]')!;
    await user.type(name, "X");
    stored.case.basic.name = "別の名前";
    await rerender({ ...props, version: 2 });
    await new Promise((r) => setTimeout(r, 50));
    expect(opens).toBe(2);
    expect(name.value).toBe("届出 花江X");
  });
});
