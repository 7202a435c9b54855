// Reading the report views (from todoke-desk) into chart series, and turning a drawn
// chart (SVG) into PNG bytes for publication. Nothing here computes a statistic.
import type { ReportCell, ReportView } from "./bindings";

export type Point = { label: string; value: number | null; suppressed: boolean };

export function column(view: ReportView, key: string): number {
  return view.columns.findIndex((c) => c.key === key);
}

/** A daily or weekly series: the first column (date or week start) and the column `key`. */
export function series(view: ReportView | undefined, key: string): Point[] {
  if (!view) return [];
  const k = column(view, key);
  if (k < 0) return [];
  return view.rows.map((r) => ({ label: r[0].code ?? r[0].ja, value: r[k].value, suppressed: r[k].suppressed }));
}

export type PyramidBand = { key: string; ja: string; en: string; male: ReportCell; female: ReportCell };

/** The last period of a sex × age table: one band per age group, men and women. */
export function pyramid(view: ReportView | undefined): PyramidBand[] {
  if (!view) return [];
  const sex = column(view, "sex");
  const total = column(view, "total");
  if (sex < 0 || total < 0) return [];
  const last = (code: string) => [...view.rows].reverse().find((r) => r[sex].code === code);
  const male = last("male");
  const female = last("female");
  if (!male || !female) return [];
  const bands: PyramidBand[] = [];
  for (let i = sex + 1; i < total; i++) {
    const c = view.columns[i];
    bands.push({ key: c.key, ja: c.ja, en: c.en, male: male[i], female: female[i] });
  }
  return bands;
}

/** PNG bytes of an SVG element, drawn at `scale` × its size on a white ground. */
export async function svgToPng(svg: SVGSVGElement, scale = 2): Promise<number[]> {
  const width = svg.viewBox.baseVal?.width || svg.clientWidth || 640;
  const height = svg.viewBox.baseVal?.height || svg.clientHeight || 320;
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute("width", String(width));
  copy.setAttribute("height", String(height));
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  const text = new XMLSerializer().serializeToString(copy);
  const url = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
  const img = new Image();
  await new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error("the chart could not be drawn"));
    img.src = url;
  });
  const canvas = document.createElement("canvas");
  canvas.width = width * scale;
  canvas.height = height * scale;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no canvas");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, "image/png"));
  if (!blob) throw new Error("no PNG");
  return Array.from(new Uint8Array(await blob.arrayBuffer()));
}
