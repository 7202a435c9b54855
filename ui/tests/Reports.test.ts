import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import Reports from "../src/components/reports/Reports.svelte";
import { setLang } from "../src/lib/i18n.svelte";
import type { ReportCell, ReportView } from "../src/lib/bindings";

const num = (v: number): ReportCell => ({ ja: String(v), en: String(v), value: v, suppressed: false, code: null });
const hidden: ReportCell = { ja: "*", en: "*", value: null, suppressed: true, code: null };
const date = (d: string): ReportCell => ({ ja: d, en: d, value: null, suppressed: false, code: d });
const label = (code: string, ja: string, en: string): ReportCell => ({ ja, en, value: null, suppressed: false, code });
const col = (key: string, ja: string, en = ja) => ({ key, ja, en });

function view(slug: string, title_ja: string, columns: ReturnType<typeof col>[], rows: ReportCell[][]): ReportView {
  return { slug, title_ja, title_en: slug, columns, rows, notes: [] };
}

const curve = view("new-positives", "新規陽性者数の推移", [col("date", "日付"), col("new_positives", "新規陽性者数")], [
  [date("2022-08-01"), num(3)],
  [date("2022-08-02"), num(0)],
  [date("2022-08-03"), num(7)],
]);
const ages = [col("under_10", "10歳未満"), col("10s", "10代")];
const pyramid = view(
  "positives-by-sex-age-cumulative",
  "性別・年代別陽性者数（累積）",
  [col("week_start", "週の初日"), col("week_end", "週の末日"), col("sex", "性別"), ...ages, col("total", "計")],
  [
    [date("2022-07-27"), date("2022-08-02"), label("male", "男", "Male"), num(5), hidden, num(8)],
    [date("2022-07-27"), date("2022-08-02"), label("female", "女", "Female"), hidden, num(6), num(9)],
  ],
);
const severe = view("severe-trend", "重症者数の推移", [col("date", "日付"), col("severe", "重症者数")], [[date("2022-08-01"), num(1)]]);
const care = view("requiring-care-trend", "入院治療等を要する者等推移", [col("date", "日付"), col("requiring_care", "入院治療等を要する者")], [
  [date("2022-08-01"), num(4)],
]);
const quality = view("quality", "データ品質", [col("list", "区分"), col("case_id", "症例ID"), col("reason_ja", "理由")], [
  [label("missing_required", "必須項目の未入力", "Missing"), { ...date("0190a0a0-0000-7000-8000-000000000001"), ja: "0190a0a0" }, label("x", "診断日がありません", "No diagnosis date")],
]);

function mock(sent: Record<string, unknown>[] = []) {
  mockIPC((cmd, args) => {
    sent.push({ cmd, ...(args as Record<string, unknown>) });
    if (cmd === "report_views") return [curve, pyramid, severe, care];
    if (cmd === "quality_view") return quality;
    if (cmd === "export_report") return 0;
    throw new Error(`unexpected ${cmd}`);
  });
}

describe("reports", () => {
  it("draws the epidemic curve and marks hidden cells in the pyramid and the table", async () => {
    setLang("ja");
    mock();
    render(Reports, { onopen: vi.fn(), exportDir: "/home/hc" });
    const table = await screen.findByTestId("report-table");
    // Two days with cases: two bars; a day with none draws none.
    const chart = document.querySelector('[data-chart="new-positives"] svg')!;
    expect(chart.querySelectorAll("rect.bar").length).toBe(2);
    // Pyramid: hidden cells are marked, never drawn as a bar.
    const pyr = document.querySelector('[data-chart="pyramid"] svg')!;
    expect(pyr.querySelector('[data-suppressed="male-10s"]')).not.toBeNull();
    expect(pyr.querySelector('[data-suppressed="female-under_10"]')).not.toBeNull();
    expect(pyr.querySelectorAll("rect.male").length).toBe(1);
    expect(pyr.querySelectorAll("rect.female").length).toBe(1);
    // The table of the chosen indicator.
    expect(within(table).getByText("新規陽性者数")).toBeTruthy();
    const user = userEvent.setup();
    await user.selectOptions(screen.getByTestId("report-select"), "positives-by-sex-age-cumulative");
    const cells = screen.getByTestId("report-table").querySelectorAll("td.suppressed");
    expect(cells.length).toBe(2);
    expect(cells[0].textContent).toBe("＊");
  });

  it("exports the chosen table as Shift_JIS CSV and opens a case from the quality list", async () => {
    setLang("en");
    const sent: Record<string, unknown>[] = [];
    mock(sent);
    const onopen = vi.fn();
    render(Reports, { onopen, exportDir: "/home/hc" });
    await screen.findByTestId("report-table");
    const user = userEvent.setup();
    await user.selectOptions(screen.getByTestId("report-select"), "severe-trend");
    expect((screen.getByTestId("report-csv-path") as HTMLInputElement).value).toBe("/home/hc/todoke-severe-trend.csv");
    await user.click(screen.getByTestId("report-sjis"));
    await user.click(screen.getByTestId("report-csv"));
    await screen.findByTestId("report-notice");
    const call = sent.find((s) => s.cmd === "export_report")!;
    expect(call.path).toBe("/home/hc/todoke-severe-trend.csv");
    expect(call.encoding).toBe("shift_jis");
    expect(call.english).toBe(true);
    expect((call.request as { indicator: string }).indicator).toBe("severe-trend");
    await user.click(screen.getAllByTestId("quality-row")[0]);
    expect(onopen).toHaveBeenCalledWith("0190a0a0-0000-7000-8000-000000000001");
  });
});
