import { afterEach } from "vitest";
import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";

// jsdom has no layout: give the list a ResizeObserver that never fires.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

afterEach(async () => {
  cleanup();
  // Components stop listening to events asynchronously: let them, then drop the mocks.
  await new Promise((r) => setTimeout(r, 0));
  clearMocks();
});
