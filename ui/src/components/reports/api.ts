// The Reports screen's calls into the desktop shell (commands in src-tauri's reports block).
import { invoke } from "@tauri-apps/api/core";
import { asDeskError } from "../../lib/api";
import type { ExportEncoding, InputRateView, PublishedImportSummary, ReportRequest, ReportView } from "../../lib/bindings";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asDeskError(e);
  }
}

export const reportsApi = {
  views: (request: ReportRequest) => call<ReportView[]>("report_views", { request }),
  quality: () => call<ReportView>("quality_view"),
  exportCsv: (path: string, request: ReportRequest, encoding: ExportEncoding, english: boolean) =>
    call<number>("export_report", { path, request, encoding, english }),
  importCounts: (path: string) => call<PublishedImportSummary>("import_published_counts", { path }),
  inputRate: (request: ReportRequest) => call<InputRateView>("input_rate_view", { request }),
  inputRateReasons: (area: string, from: string, to: string) => call<ReportView>("input_rate_reasons", { area, from, to }),
  savePng: (path: string, png: number[]) => call<void>("save_chart_png", { path, png }),
  savePdf: (path: string, png: number[], title: string) => call<void>("save_chart_pdf", { path, png, title }),
};
