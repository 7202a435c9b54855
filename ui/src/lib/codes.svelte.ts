// Labels of coded values, from Rust (todoke_desk::code_lists): never written twice.
import type { CodeLabel, CodeLists } from "./bindings";
import { ui } from "./i18n.svelte";

export const codes = $state<{ lists: CodeLists | null }>({ lists: null });

export type ListName = Exclude<keyof CodeLists, "specimens_by_method">;

export function options(list: ListName): CodeLabel[] {
  return codes.lists ? codes.lists[list] : [];
}

export function label(list: ListName, code: string | null | undefined): string {
  if (code == null) return "";
  const found = options(list).find((c) => c.code === code);
  if (!found) return code;
  return ui.lang === "ja" ? found.ja : found.en;
}

/** The label of a policy item ("basic.birth_date"), for problems shown away from their field. */
export function itemLabel(path: string): string {
  const generic = path.replace(/\[[^\]]*\]/g, "[]");
  const found = options("items").find((c) => c.code === generic || c.code === path);
  return found ? (ui.lang === "ja" ? found.ja : found.en) : path;
}
