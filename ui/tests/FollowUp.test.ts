import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import FollowUpList from "../src/components/FollowUpList.svelte";
import { codes } from "../src/lib/codes.svelte";
import { setLang } from "../src/lib/i18n.svelte";
import type { CaseSummary, FollowUpAssessment } from "../src/lib/bindings";
import { codeLists, summary } from "./fixtures";

const row = (i: number, a: Partial<FollowUpAssessment>): [CaseSummary, FollowUpAssessment] => [
  summary(i),
  { concerns: [], needs_call: false, last_reported_on: "2026-11-21", ...a },
];

describe("follow-up call list", () => {
  it("lists who needs a call first with their concerns (labels from Rust), all on request, and opens a case", async () => {
    setLang("ja");
    codes.lists = codeLists;
    const rows = [
      row(1, { concerns: ["no_report", "high_risk"], needs_call: true, last_reported_on: "2026-11-19" }),
      row(2, { concerns: ["fever"], needs_call: true }),
      row(3, { concerns: ["high_risk"] }),
    ];
    let calls = 0;
    mockIPC((cmd) => {
      if (cmd === "follow_up_list") return (calls++, rows);
      throw new Error(`unexpected ${cmd}`);
    });
    const onopen = vi.fn();
    render(FollowUpList, { onopen });
    const table = await screen.findByTestId("follow-up-rows");
    expect(screen.getByTestId("follow-up-count").textContent).toMatch(/要連絡:\s*2\s*\/\s*3/);
    const shown = table.querySelectorAll("tbody tr");
    expect(shown.length).toBe(2); // needs-call only by default
    expect(shown[0].textContent).toContain("患者1");
    expect(shown[0].textContent).toContain("本日の報告なし、重症化リスクあり");
    expect(shown[0].textContent).toContain("2026-11-19");
    expect(shown[1].textContent).toContain("発熱（38.0℃以上）");

    const user = userEvent.setup();
    await user.click(screen.getByTestId("needs-call-only"));
    await waitFor(() => expect(table.querySelectorAll("tbody tr").length).toBe(3));
    await user.click(table.querySelectorAll("tbody tr")[1]);
    expect(onopen).toHaveBeenCalledWith(summary(2).id);
    expect(calls).toBe(1);
  });

  it("speaks English when switched (words from i18n, concern labels from Rust)", async () => {
    setLang("en");
    codes.lists = codeLists;
    mockIPC((cmd) => {
      if (cmd === "follow_up_list") return [row(7, { concerns: ["fever", "high_risk"], needs_call: true })];
      throw new Error(`unexpected ${cmd}`);
    });
    render(FollowUpList, { onopen: vi.fn() });
    const table = await screen.findByTestId("follow-up-rows");
    expect(screen.getByRole("heading").textContent).toBe("Follow-up calls");
    expect(table.textContent).toContain("Fever (38.0 °C or higher), At risk of severe disease");
    setLang("ja");
  });
});
