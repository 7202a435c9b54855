import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import Reports from "../src/components/reports/Reports.svelte";
import { setLang } from "../src/lib/i18n.svelte";
import type { InputRateView, PublishedImportSummary, ReportCell, ReportView } from "../src/lib/bindings";

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
  [label("unconfirmed", "保健所未確認", "Unconfirmed"), { ...date("0190a0a0-0000-7000-8000-000000000002"), ja: "0190a0a0" }, label("y", "5日未確認", "5 days")],
]);

const noCounts: InputRateView = { from: null, to: null, by: "day", areas: null, periods: null, imports: [] };

function mock(sent: Record<string, unknown>[] = []) {
  mockIPC((cmd, args) => {
    sent.push({ cmd, ...(args as Record<string, unknown>) });
    if (cmd === "report_views") return [curve, pyramid, severe, care];
    if (cmd === "quality_view") return quality;
    if (cmd === "export_report") return 0;
    if (cmd === "input_rate_view") return noCounts;
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

  it("shows the range in use in the date fields, in year-month-day order, and moves it by keyboard", async () => {
    setLang("ja");
    const sent: Record<string, unknown>[] = [];
    mock(sent);
    render(Reports, { onopen: vi.fn(), exportDir: "/home/hc" });
    await screen.findByTestId("report-table");
    const from = screen.getByTestId("report-from") as HTMLInputElement;
    const to = screen.getByTestId("report-to") as HTMLInputElement;
    // The charts' own range (the epidemic curve's first and last day), not a US-ordered placeholder.
    expect(from.type).toBe("text");
    expect(from.value).toBe("2022-08-01");
    expect(to.value).toBe("2022-08-03");
    expect(screen.getByTestId("range-in-use").textContent).toContain("2022年8月1日（月） 〜 2022年8月3日（水）（3日間");
    const user = userEvent.setup();
    // A date typed the quick way, then Enter: the desk is asked for that range.
    await user.clear(from);
    await user.type(from, "20220802{Enter}");
    await vi.waitFor(() => expect(sent.filter((x) => x.cmd === "report_views").length).toBe(2));
    expect((sent.filter((x) => x.cmd === "report_views")[1].request as { from: string; to: string }).from).toBe("2022-08-02");
    // ↑ moves a day, Shift+↑ a week.
    await user.click(to);
    await user.keyboard("{ArrowUp}");
    expect(to.value).toBe("2022-08-04");
    await user.keyboard("{Shift>}{ArrowUp}{/Shift}");
    expect(to.value).toBe("2022-08-11");
    // An area: every indicator for it.
    await user.type(screen.getByTestId("report-area"), "HC131121{Enter}");
    await vi.waitFor(() => expect(sent.filter((x) => x.cmd === "report_views").length).toBe(3));
    expect((sent.filter((x) => x.cmd === "report_views")[2].request as { area: string }).area).toBe("HC131121");
    // A date that cannot be read is said so, and nothing is asked.
    await user.clear(from);
    await user.type(from, "8/2/2022{Enter}");
    expect((await screen.findByTestId("range-problem")).textContent).toContain("2026-11-21");
    expect(sent.filter((x) => x.cmd === "report_views").length).toBe(3);
  });

  it("imports published counts through the system file dialog and shows the input rate, lagging areas first, with the reasons", async () => {
    setLang("ja");
    const sent: Record<string, unknown>[] = [];
    let imported = false;
    const area = (code: string, ja: string, en: string): ReportCell => ({ ja, en, value: null, suppressed: false, code: ja });
    const text = (t: string): ReportCell => ({ ja: t, en: t, value: null, suppressed: false, code: t });
    const rateCols = [col("published", "公表数"), col("entered", "入力数"), col("difference", "差"), col("rate", "入力率（%）")];
    const areas = view("input-rate-areas", "入力率（地域別・期間計）", [col("area", "地域コード"), col("area_name", "地域"), ...rateCols], [
      [text("14"), area("14", "神奈川県", "Kanagawa"), num(6), num(2), num(-4), num(33)],
      [text("13"), area("13", "東京都", "Tokyo"), num(10), num(10), num(0), num(100)],
    ]);
    const periods = view("input-rate", "入力率（日別）", [col("area", "地域コード"), col("area_name", "地域"), col("date", "日付"), ...rateCols], [
      [text("14"), area("14", "神奈川県", "Kanagawa"), date("2022-08-03"), num(4), num(2), num(-2), num(50)],
      [text("13"), area("13", "東京都", "Tokyo"), date("2022-08-03"), num(10), num(10), num(0), num(100)],
    ]);
    const reasons = view("input-rate-reasons", "入力率の遅れの理由", [col("list", "区分"), col("case_id", "症例ID"), col("reason_ja", "理由"), col("reason_en", "Reason")], [
      [label("late_entry", "入力の遅れ", "Entered late"), text("0190a0a0-0000-7000-8000-000000000001"), text("報告日 2022-08-07: 4日遅れて入力"), text("4 days late")],
    ]);
    const summary: PublishedImportSummary = {
      import: { id: 1, file_name: "counts.csv", path: "/home/hc/counts.csv", imported_at: "2022-08-10T01:00:00Z", rows_read: 3, accepted: 2, refused: 1, first_date: "2022-08-03", last_date: "2022-08-03", in_force: 2 },
      rows_read: 3,
      accepted: 2,
      errors: [{ line: 4, column: "count", value: "many", message_ja: "人数「many」は0以上の整数ではありません。", message_en: "not a number" }],
    };
    mockIPC((cmd, args) => {
      sent.push({ cmd, ...(args as Record<string, unknown>) });
      if (cmd === "report_views") return [curve, pyramid, severe, care];
      if (cmd === "quality_view") return quality;
      if (cmd === "plugin:dialog|open") return "/home/hc/counts.csv";
      if (cmd === "import_published_counts") return ((imported = true), summary);
      if (cmd === "input_rate_view")
        return imported ? { from: "2022-08-03", to: "2022-08-03", by: "day", areas, periods, imports: [summary.import] } : noCounts;
      if (cmd === "input_rate_reasons") return reasons;
      if (cmd === "export_report") return 0;
      throw new Error(`unexpected ${cmd}`);
    });
    const onopen = vi.fn();
    render(Reports, { onopen, exportDir: "/home/hc" });
    await screen.findByTestId("rate-empty");
    const user = userEvent.setup();
    await user.click(screen.getByTestId("choose-counts"));
    await vi.waitFor(() => expect((screen.getByTestId("counts-path") as HTMLInputElement).value).toBe("/home/hc/counts.csv"));
    const dialog = sent.find((x) => x.cmd === "plugin:dialog|open")!.options as { title: string; filters: unknown };
    expect(dialog.title).toContain("公表数");
    await user.click(screen.getByTestId("import-counts"));
    expect((await screen.findByTestId("counts-result")).textContent).toMatch(/取り込んだ行: 2.*取り込めなかった行: 1/);
    const errors = screen.getByTestId("counts-errors");
    expect(within(errors).getByText("4")).toBeTruthy();
    expect(within(errors).getByText("many")).toBeTruthy();
    // When and from which file (JST).
    expect((await screen.findByTestId("counts-imports")).textContent).toContain("counts.csv（2022-08-10 10:00）");
    // Lagging area first, its rate marked.
    const first = (await screen.findByTestId("rate-areas")).querySelector("tbody tr")!;
    expect(first.textContent).toContain("神奈川県");
    expect(first.querySelector("td.far")!.textContent).toContain("33%");
    // The chart shows the lagging area's days: published and entered side by side, the rate above.
    const chart = document.querySelector('[data-chart="input-rate"] svg')!;
    expect(chart.getAttribute("aria-label")).toContain("神奈川県");
    expect(chart.querySelectorAll("rect.published").length).toBe(1);
    expect(chart.querySelector("rect.entered title")!.textContent).toBe("2022-08-03: 2");
    expect(chart.textContent).toContain("50%");
    await user.click(within(screen.getByTestId("rate-areas")).getByText("東京都"));
    expect(document.querySelector('[data-chart="input-rate"] svg')!.getAttribute("aria-label")).toContain("東京都");
    // Why: the cases behind it; a click opens the case; the same cases in the quality list.
    await user.click(within(first as HTMLElement).getByTestId("rate-why"));
    expect(sent.find((x) => x.cmd === "input_rate_reasons")).toMatchObject({ area: "14", from: "2022-08-03", to: "2022-08-03" });
    const reasonRow = await screen.findByTestId("reason-row");
    expect(reasonRow.textContent).toContain("4日遅れ");
    await user.click(reasonRow);
    expect(onopen).toHaveBeenCalledWith("0190a0a0-0000-7000-8000-000000000001");
    await user.click(screen.getByTestId("rate-show-quality"));
    expect((await screen.findByTestId("quality-filter")).textContent).toContain("1件");
    expect(screen.getAllByTestId("quality-row").length).toBe(1);
    expect(screen.getByTestId("quality-row").textContent).toContain("必須項目の未入力");
    await user.click(screen.getByTestId("quality-all"));
    expect(screen.getAllByTestId("quality-row").length).toBe(2);
    // CSV export of the per-day table, Shift_JIS.
    await user.click(screen.getByTestId("rate-sjis"));
    await user.click(screen.getByTestId("rate-csv"));
    await screen.findByTestId("rate-notice");
    const exported = sent.find((x) => x.cmd === "export_report")!;
    expect(exported.path).toBe("/home/hc/todoke-input-rate-day.csv");
    expect(exported.encoding).toBe("shift_jis");
    expect(exported.request).toMatchObject({ indicator: "input-rate", by: "day" });
    // Per week: asked of the desk.
    await user.click(screen.getByTestId("rate-week"));
    await vi.waitFor(() => expect(sent.some((x) => x.cmd === "input_rate_view" && (x.request as { by: string }).by === "week")).toBe(true));
  });
});
