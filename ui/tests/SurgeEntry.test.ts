import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import SurgeEntry from "../src/components/SurgeEntry.svelte";
import { codes } from "../src/lib/codes.svelte";
import { setLang } from "../src/lib/i18n.svelte";
import type { Case, DeskError } from "../src/lib/bindings";
import { TEST_ID, blankCase, codeLists, formCheck, problem, summary } from "./fixtures";

type Calls = { cmd: string; args: Record<string, unknown> }[];

function desk(handlers: Record<string, (args: Record<string, unknown>) => unknown>): Calls {
  const calls: Calls = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args: args as Record<string, unknown> });
    const h = handlers[cmd];
    if (!h) throw new Error(`unexpected command ${cmd}`);
    return h(args as Record<string, unknown>);
  });
  return calls;
}

function setup() {
  setLang("ja");
  codes.lists = codeLists;
}

const labelOf = (text: string) => screen.getByText((_, el) => el?.tagName === "LABEL" && el.textContent?.startsWith(text) === true);

describe("surge entry (新規登録)", () => {
  it("marks the required items with ＊ and the once-known ones with △", async () => {
    setup();
    desk({ new_case_draft: () => blankCase(), check_form: () => formCheck() });
    render(SurgeEntry, { onsaved: vi.fn(), oncancel: vi.fn() });
    await waitFor(() => expect(labelOf("氏名").querySelector(".req")).not.toBeNull());
    expect(labelOf("生年月日").querySelector(".req")?.textContent).toBe("＊");
    expect(labelOf("検査方法").querySelector(".req")).not.toBeNull();
    // Not required now: no mark; required once known: △.
    expect(labelOf("フリガナ").querySelector(".req")).toBeNull();
    expect(labelOf("電話番号").querySelector(".once")).not.toBeNull();
  });

  it("shows each problem next to its field, by path, in the UI language", async () => {
    setup();
    const future = problem(
      "basic.birth_date",
      "future_date",
      "生年月日が未来の日付になっています。",
      "The date of birth is in the future.",
    );
    const method = problem(`tests[${TEST_ID}].method`, "required", "検査方法が入力されていません。", "The test method is missing.");
    desk({ new_case_draft: () => blankCase(), check_form: () => formCheck([future, method]) });
    render(SurgeEntry, { onsaved: vi.fn(), oncancel: vi.fn() });

    const birth = await screen.findByText("生年月日が未来の日付になっています。");
    expect(birth.closest(".field")?.querySelector("input")?.dataset.path).toBe("basic.birth_date");
    expect(birth.closest(".field")?.classList.contains("invalid")).toBe(true);
    const m = screen.getByText("検査方法が入力されていません。");
    expect(m.closest(".field")?.querySelector("select")?.dataset.path).toBe(`tests[${TEST_ID}].method`);

    setLang("en");
    expect(await screen.findByText("The date of birth is in the future.")).toBeTruthy();
    setLang("ja");
  });

  it("reads a typed date and sends the case as entered to check_form", async () => {
    setup();
    const checked: Case[] = [];
    desk({
      new_case_draft: () => blankCase(),
      check_form: (a) => (checked.push(a.case as Case), formCheck()),
    });
    render(SurgeEntry, { onsaved: vi.fn(), oncancel: vi.fn() });
    const user = userEvent.setup();
    const birth = await screen.findByText((_, el) => el?.tagName === "INPUT" && (el as HTMLInputElement).dataset.path === "basic.birth_date");
    await user.type(birth, "19800131");
    await waitFor(() => expect(checked.at(-1)?.basic.birth_date).toBe("1980-01-31"));
    await user.clear(birth);
    await user.type(birth, "1980-02-30");
    expect(await screen.findByText("日付は YYYY-MM-DD（または YYYYMMDD）で入力してください")).toBeTruthy();
  });

  it("warns of a possible duplicate (same kana, birth date and sex)", async () => {
    setup();
    desk({ new_case_draft: () => blankCase(), check_form: () => formCheck([], [summary(7)]) });
    render(SurgeEntry, { onsaved: vi.fn(), oncancel: vi.fn() });
    const warning = await screen.findByTestId("duplicate-warning");
    expect(warning.textContent).toContain("患者7");
    expect(warning.textContent).toContain("カンジャ7");
  });

  it("報告 saves and reports; a refusal shows every problem and saves nothing", async () => {
    setup();
    const refusal: DeskError = {
      code: "invalid",
      message_ja: "入力に1件の問題があります。保存していません。",
      message_en: "1 problem(s) in the input. Nothing was saved.",
      problems: [problem("basic.name", "required", "氏名が入力されていません。", "The name is missing.")],
    };
    const calls = desk({
      new_case_draft: () => blankCase(),
      check_form: () => formCheck(),
      create_case: () => {
        throw refusal;
      },
    });
    const onsaved = vi.fn();
    render(SurgeEntry, { onsaved, oncancel: vi.fn() });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("surge-report"));
    expect((await screen.findByTestId("save-error")).textContent).toContain("保存していません");
    const nameProblem = screen.getByText("氏名が入力されていません。");
    expect(nameProblem.closest(".field")?.querySelector("input")?.dataset.path).toBe("basic.name");
    expect(onsaved).not.toHaveBeenCalled();
    expect(calls.some((c) => c.cmd === "report")).toBe(false);
  });

  it("keyboard only: Tab from the first field reaches 報告, and submitting creates then reports", async () => {
    setup();
    const saved = { ...blankCase(), id: "0190a6e4-0000-7000-8000-0000000000aa" };
    const calls = desk({
      new_case_draft: () => blankCase(),
      check_form: () => formCheck(),
      create_case: () => ({ case: saved, warnings: [], possible_duplicates: [] }),
      report: () => [{ case: saved, warnings: [], possible_duplicates: [] }, {}],
    });
    const onsaved = vi.fn();
    render(SurgeEntry, { onsaved, oncancel: vi.fn() });
    const user = userEvent.setup();
    await waitFor(() => expect(document.activeElement?.getAttribute("data-path")).toBe("notification.diagnosis_class"));
    const fields = document.querySelectorAll("form [data-path]").length;
    for (let i = 0; i < fields; i++) await user.tab();
    expect(document.activeElement?.getAttribute("data-testid")).toBe("surge-report");
    await user.keyboard("{Enter}");
    await waitFor(() => expect(onsaved).toHaveBeenCalledWith(saved.id));
    expect(calls.map((c) => c.cmd).filter((c) => c !== "check_form")).toEqual(["new_case_draft", "create_case", "report"]);
  });
});
