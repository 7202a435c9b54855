// Reading dates as typed at a busy desk: 2026-11-20, 2026/11/20, 20261120. Whether a date
// is allowed (not in the future, after birth …) is the domain's business, not this.
export function parseDate(text: string): string | null {
  const s = text.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s) ?? /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return `${m[1]}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** Today in Japan (JST, no daylight saving), as YYYY-MM-DD. */
export function todayJst(now = new Date()): string {
  return new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/** Now in JST as RFC 3339 with its offset, for observation times. */
export function nowJstRfc3339(now = new Date()): string {
  return new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 16) + ":00+09:00";
}

/** "2026-11-20T09:30" or "2026-11-20 09:30" (JST) → RFC 3339; null when unreadable. */
export function parseJstDateTime(text: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m || parseDate(m[1]) === null || Number(m[2]) > 23 || Number(m[3]) > 59) return null;
  return `${m[1]}T${m[2].padStart(2, "0")}:${m[3]}:00+09:00`;
}

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An ISO date moved by `days` (negative: back); null when `iso` is not a date. */
export function addDays(iso: string, days: number): string | null {
  const p = parseDate(iso);
  if (!p) return null;
  const [y, m, d] = p.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both counted (2026-11-01..2026-11-01 → 1). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to + "T00:00:00Z") - Date.parse(from + "T00:00:00Z")) / 86_400_000) + 1;
}

/** A date for reading, in the language's order: ja 2026年11月21日（土）, en Sat 21 Nov 2026. */
export function longDate(iso: string, lang: "ja" | "en"): string {
  const p = parseDate(iso);
  if (!p) return iso;
  const [y, m, d] = p.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  const weekday = date.getUTCDay();
  if (lang === "ja") return `${y}年${m}月${d}日（${"日月火水木金土"[weekday]}）`;
  return `${["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][weekday]} ${d} ${MONTHS_EN[m - 1]} ${y}`;
}

/** An RFC 3339 time shown in JST: "2026-11-21 19:05". */
export function jstDateTime(rfc3339: string): string {
  const t = Date.parse(rfc3339);
  if (Number.isNaN(t)) return rfc3339;
  return new Date(t + 9 * 3600_000).toISOString().slice(0, 16).replace("T", " ");
}

/** A server time (RFC 3339) in Japan time: "2026年11月21日 09:30" / "21 Nov 2026 09:30 JST"; null when absent or unreadable. */
export function serverTime(iso: string | null | undefined, lang: "ja" | "en"): string | null {
  const ms = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms + 9 * 3600_000);
  const [y, mo, day, h, mi] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  const hm = `${String(h).padStart(2, "0")}:${String(mi).padStart(2, "0")}`;
  return lang === "ja" ? `${y}年${mo + 1}月${day}日 ${hm}` : `${day} ${MONTHS_EN[mo]} ${y} ${hm} JST`;
}
