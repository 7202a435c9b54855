// Background sync of the window: while signed in, a sync every `intervalMs`, never two at
// once; "Sync now" runs one at once. The desk decides everything (what to send, conflicts);
// this only starts syncs and keeps what the status bar shows.
import { api, asDeskError, onSyncProgress } from "./api";
import type { DeskError, SyncOverview, SyncStep, SyncSummary } from "./bindings";

export const sync = $state<{
  overview: SyncOverview | null;
  /** null: not known yet (no sync tried since the window opened). */
  online: boolean | null;
  running: boolean;
  step: SyncStep | null;
  last: SyncSummary | null;
  error: DeskError | null;
}>({ overview: null, online: null, running: false, step: null, last: null, error: null });

export const SYNC_INTERVAL_MS = 30_000;

/** Reads the figures again (account, outbox, conflicts, last sync). */
export async function refreshOverview(): Promise<SyncOverview | null> {
  try {
    sync.overview = await api.syncOverview();
  } catch {
    /* locked or closing: shown on the next refresh */
  }
  return sync.overview;
}

/** One sync, unless one is running or nobody is signed in. Resolves when it ends. */
export async function syncNow(): Promise<void> {
  if (sync.running || !sync.overview?.account) return;
  sync.running = true;
  sync.step = null;
  try {
    sync.last = await api.syncNow();
    sync.online = true;
    sync.error = null;
  } catch (e) {
    const err = asDeskError(e);
    if (err.code !== "sync_busy") {
      sync.error = err;
      sync.online = err.code === "offline" ? false : sync.online;
    }
  } finally {
    sync.running = false;
    sync.step = null;
    await refreshOverview();
  }
}

/** Starts the background sync; returns the function that stops it. */
export function startBackgroundSync(intervalMs = SYNC_INTERVAL_MS, onSynced?: () => void, active: () => boolean = () => true): () => void {
  const unlisten = onSyncProgress((p) => (sync.step = p));
  const tick = async () => {
    // A locked desk has no open database and no key: nothing to sync until unlocked.
    if (!active()) return;
    await refreshOverview();
    if (sync.overview?.account && !sync.running) {
      await syncNow();
      onSynced?.();
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return () => {
    clearInterval(timer);
    unlisten.then((f) => f());
  };
}

/** A fraction 0..1 for the progress bar, or null when the sync says nothing countable. */
export function stepFraction(step: SyncStep | null): number | null {
  if (!step) return null;
  if (step.phase === "pushing") {
    const total = step.sent + step.remaining;
    return total > 0 ? step.sent / total : null;
  }
  return null;
}
