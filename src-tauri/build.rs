fn main() {
    // The configuration lives at the repository root (next to ui/ and icons/), not in this
    // crate, so tell tauri-build where it is; `generate_context!` in main.rs names the same file.
    let attributes = tauri_build::Attributes::new().config_path("../tauri.conf.json");
    tauri_build::try_build(attributes).expect("tauri-build failed to read ../tauri.conf.json");
}
