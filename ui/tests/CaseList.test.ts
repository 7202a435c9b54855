import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import CaseList from "../src/components/CaseList.svelte";
import { codes } from "../src/lib/codes.svelte";
import { setLang } from "../src/lib/i18n.svelte";
import type { CaseQuery } from "../src/lib/bindings";
import { codeLists, summary } from "./fixtures";

function desk(total: number) {
  const queries: CaseQuery[] = [];
  mockIPC((cmd, args) => {
    const q = (args as { query: CaseQuery }).query;
    if (cmd === "count_cases") return q.text ? 1 : total;
    if (cmd === "search_cases") {
      queries.push(q);
      if (q.text) return [summary(424242)];
      const from = q.offset;
      return Array.from({ length: Math.max(0, Math.min(q.limit ?? total, total - from)) }, (_, k) => summary(from + k));
    }
    throw new Error(`unexpected ${cmd}`);
  });
  return queries;
}

describe("case list", () => {
  it("renders only the visible rows of a long list, fetching a page at a time", async () => {
    setLang("ja");
    codes.lists = codeLists;
    const queries = desk(50_000);
    const onready = vi.fn();
    render(CaseList, { onopen: vi.fn(), onready });
    await waitFor(() => expect(onready).toHaveBeenCalledOnce());
    expect(screen.getByTestId("case-count").textContent).toContain("50,000");
    const rows = document.querySelectorAll(".row");
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(60);
    expect(queries.every((q) => q.limit === 100)).toBe(true);
    expect(queries[0].offset).toBe(0);
  });

  it("search as you type; ↓ and Enter open the selected case", async () => {
    setLang("ja");
    codes.lists = codeLists;
    const queries = desk(300);
    const onopen = vi.fn();
    render(CaseList, { onopen });
    const user = userEvent.setup();
    await waitFor(() => expect(document.querySelectorAll(".row[data-case-id]").length).toBeGreaterThan(0));
    const grid = screen.getByTestId("case-rows");
    grid.focus();
    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowUp}{Enter}");
    expect(onopen).toHaveBeenCalledWith(summary(1).id);

    await user.type(screen.getByTestId("search"), "かんじゃ");
    await waitFor(() => expect(screen.getByTestId("case-count").textContent).toContain("1"));
    expect(queries.at(-1)?.text).toBe("かんじゃ");
    await waitFor(() => expect(screen.getByText("患者424242")).toBeTruthy());
  });

  it("sorts by a column and filters by status", async () => {
    setLang("ja");
    codes.lists = codeLists;
    const queries = desk(10);
    render(CaseList, { onopen: vi.fn() });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /生年月日/ }));
    await waitFor(() => expect(queries.at(-1)?.sort).toBe("birth_date"));
    await user.selectOptions(screen.getByTestId("filter-status"), "hospitalised");
    await waitFor(() => expect(queries.at(-1)?.status).toBe("hospitalised"));
    await user.click(screen.getByTestId("filter-unconfirmed"));
    await waitFor(() => expect(queries.at(-1)?.unconfirmed_only).toBe(true));
  });
});
