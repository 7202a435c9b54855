import { describe, expect, it, vi } from "vitest";
import { mockIPC } from "@tauri-apps/api/mocks";
import { watchDesk } from "../src/lib/changes";
import { api, LOCKED_ERROR_EVENT } from "../src/lib/api";

describe("changes made outside the window", () => {
  it("the change marker is polled; only a move calls back, a locked desk does not", async () => {
    vi.useFakeTimers();
    let marker = 10;
    let locked = false;
    mockIPC((cmd) => {
      if (cmd !== "change_marker") throw new Error(`unexpected ${cmd}`);
      if (locked) throw { code: "locked", message_ja: "ロック", message_en: "locked", problems: [] };
      return marker;
    });
    const onchange = vi.fn();
    const stop = watchDesk(onchange, 1000);
    await vi.advanceTimersByTimeAsync(2500);
    expect(onchange).not.toHaveBeenCalled();
    marker = 11; // e.g. todoke-cli committed an edit
    await vi.advanceTimersByTimeAsync(1000);
    expect(onchange).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(onchange).toHaveBeenCalledTimes(1);
    locked = true;
    await vi.advanceTimersByTimeAsync(2000);
    locked = false;
    marker = 40; // reopened: a new baseline, not a change
    await vi.advanceTimersByTimeAsync(1000);
    expect(onchange).toHaveBeenCalledTimes(1);
    stop();
    vi.useRealTimers();
  });

  it("a call that finds the desk locked tells the window", async () => {
    mockIPC(() => {
      throw { code: "locked", message_ja: "窓口はロックされています。", message_en: "The desk is locked.", problems: [] };
    });
    const heard = vi.fn();
    window.addEventListener(LOCKED_ERROR_EVENT, heard);
    await expect(api.search({} as never)).rejects.toMatchObject({ code: "locked" });
    expect(heard).toHaveBeenCalledOnce();
    window.removeEventListener(LOCKED_ERROR_EVENT, heard);
  });
});
