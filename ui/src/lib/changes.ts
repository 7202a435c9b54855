// Notices changes made to the desk outside this window (todoke-cli on the same desk, a
// sync run) by polling the desk's change marker; cheap: no table is read.
import { api } from "./api";

/** Polls every `everyMs` and calls `onchange` when the marker moved; returns a stop function. */
export function watchDesk(onchange: () => void, everyMs = 2000): () => void {
  let last: number | null = null;
  let busy = false;
  async function poll() {
    if (busy) return;
    busy = true;
    try {
      const marker = await api.changeMarker();
      if (last !== null && marker !== last) onchange();
      last = marker;
    } catch {
      last = null; // locked or closed: start again from the next answer
    } finally {
      busy = false;
    }
  }
  poll();
  const timer = setInterval(poll, everyMs);
  return () => clearInterval(timer);
}
