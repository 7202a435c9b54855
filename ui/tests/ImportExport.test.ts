import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import ImportExport from "../src/components/ImportExport.svelte";
import { setLang } from "../src/lib/i18n.svelte";
import type { ImportSummary, SessionInfo } from "../src/lib/bindings";

const session: SessionInfo = {
  version: "0.1.0", desk_dir: "/tmp/desk", initialised: true, locked: false, lock_after_secs: 600, key_source: "env", export_dir: "/home/hc",
};

describe("import and export", () => {
  it("import shows the per-row error report", async () => {
    setLang("ja");
    const summary: ImportSummary = {
      report: {
        encoding: "utf8", layout: "standard", standard_order: true, rows_read: 3, imported: 2, rejected: 1,
        errors: [{ line: 3, column: "公表_年月日", value: "2020/13/40", message_ja: "日付が読めません。", message_en: "Unreadable date." }],
        errors_total: 1, warnings: [], warnings_total: 0,
      },
    } as unknown as ImportSummary;
    const calls: string[] = [];
    mockIPC((cmd, args) => {
      calls.push(cmd);
      if (cmd === "import_opendata") {
        expect((args as { path: string }).path).toBe("/data/130001.csv");
        return summary;
      }
      throw new Error(`unexpected ${cmd}`);
    }, { shouldMockEvents: true });
    const onchanged = vi.fn();
    render(ImportExport, { session, onchanged });
    const user = userEvent.setup();
    await user.type(screen.getByTestId("import-path"), "/data/130001.csv");
    await user.click(screen.getByTestId("run-import"));
    const result = await screen.findByTestId("import-result");
    expect(result.textContent).toMatch(/取り込んだ行:\s*2/);
    expect(result.textContent).toMatch(/取り込めなかった行:\s*1/);
    const errors = screen.getByTestId("import-errors").textContent ?? "";
    expect(errors).toContain("公表_年月日");
    expect(errors).toContain("日付が読めません。");
    expect(onchanged).toHaveBeenCalled();
  });

  it("export sends the chosen format and encoding (Shift_JIS)", async () => {
    setLang("ja");
    let sent: Record<string, unknown> = {};
    mockIPC((cmd, args) => {
      if (cmd === "export_cases") {
        sent = args as Record<string, unknown>;
        return { cases: 12, unmappable: 1 };
      }
      throw new Error(`unexpected ${cmd}`);
    }, { shouldMockEvents: true });
    render(ImportExport, { session, onchanged: vi.fn() });
    const user = userEvent.setup();
    expect((screen.getByTestId("export-path") as HTMLInputElement).value).toMatch(/^\/home\/hc\/todoke-cases-\d{4}-\d{2}-\d{2}\.csv$/);
    await user.click(screen.getByTestId("enc-sjis"));
    await user.click(screen.getByTestId("run-export"));
    const done = await screen.findByTestId("export-result");
    expect(done.textContent).toContain("12 件を出力しました");
    expect(done.textContent).toContain("〓");
    expect(sent.encoding).toBe("shift_jis");
    expect(sent.format).toBe("cases");
  });

  it("the system file dialogs fill the paths (CSV filter), and cancelling keeps what was typed", async () => {
    setLang("ja");
    const dialogs: { cmd: string; options: Record<string, unknown> }[] = [];
    let answer: string | null = "/home/hc/Downloads/130001_tokyo.csv";
    mockIPC((cmd, args) => {
      if (cmd === "plugin:dialog|open" || cmd === "plugin:dialog|save") {
        dialogs.push({ cmd, options: (args as { options: Record<string, unknown> }).options });
        return answer;
      }
      throw new Error(`unexpected ${cmd}`);
    }, { shouldMockEvents: true });
    render(ImportExport, { session, onchanged: vi.fn() });
    const user = userEvent.setup();
    await user.click(screen.getByTestId("choose-import"));
    await vi.waitFor(() => expect((screen.getByTestId("import-path") as HTMLInputElement).value).toBe("/home/hc/Downloads/130001_tokyo.csv"));
    expect(dialogs[0].cmd).toBe("plugin:dialog|open");
    expect(dialogs[0].options.multiple).toBe(false);
    expect(JSON.stringify(dialogs[0].options.filters)).toContain("csv");

    const suggested = (screen.getByTestId("export-path") as HTMLInputElement).value;
    answer = null; // the user cancels the save dialog
    await user.click(screen.getByTestId("choose-export"));
    await vi.waitFor(() => expect(dialogs.length).toBe(2));
    expect(dialogs[1].cmd).toBe("plugin:dialog|save");
    expect(dialogs[1].options.defaultPath).toBe(suggested);
    expect((screen.getByTestId("export-path") as HTMLInputElement).value).toBe(suggested);
    answer = "/media/usb/out.csv";
    await user.click(screen.getByTestId("choose-export"));
    await vi.waitFor(() => expect((screen.getByTestId("export-path") as HTMLInputElement).value).toBe("/media/usb/out.csv"));
  });
});
