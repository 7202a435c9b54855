// Static shell until the real front end lands: ask the Rust side who we are and show it.
"use strict";

window.addEventListener("DOMContentLoaded", async () => {
  const show = (id, text) => {
    document.getElementById(id).textContent = text;
  };
  try {
    const info = await window.__TAURI__.core.invoke("app_info");
    show("version", info.version);
    show("desk-dir", info.desk_dir);
  } catch (err) {
    const box = document.getElementById("error");
    box.textContent = `アプリ情報を取得できません / Cannot read app info: ${err}`;
    box.hidden = false;
  }
});
