// The live checks of a form (todoke_desk::check_form): required marks and problems by
// field path. Fields read it from context; rules are never evaluated here.
import { getContext, setContext } from "svelte";
import type { FormCheck, Problem } from "./bindings";

export class FormState {
  check = $state<FormCheck | null>(null);
  /** Problems of the last refused save (they replace the live ones until the next check). */
  refused = $state<Problem[] | null>(null);
  /** Paths of fields whose text could not be read (a date typed wrong): UI-only. */
  unreadable = $state<Record<string, boolean>>({});

  problems(): Problem[] {
    return this.refused ?? this.check?.problems ?? [];
  }
  problemsAt(path: string): Problem[] {
    return this.problems().filter((p) => p.path === path);
  }
  required(item: string): boolean {
    return this.check?.required.includes(item) ?? false;
  }
  onceKnown(item: string): boolean {
    return this.check?.required_once_known.includes(item) ?? false;
  }
  /** Problems none of the given field paths shows. */
  elsewhere(shown: Set<string>): Problem[] {
    return this.problems().filter((p) => !shown.has(p.path));
  }
}

const KEY = Symbol("form");
export const provideForm = (f: FormState) => setContext(KEY, f);
export const useForm = () => getContext<FormState | undefined>(KEY);

/** Calls `f` at most once per `ms`, after the last call. */
export function debounce<A extends unknown[]>(f: (...a: A) => void, ms: number): (...a: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...a: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => f(...a), ms);
  };
}
