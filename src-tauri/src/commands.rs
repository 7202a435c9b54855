//! Tauri commands: thin translations between the web UI and the core crates.

use std::path::PathBuf;

use serde::Serialize;

/// The desk directory this process serves, resolved once at start-up.
pub struct Desk(pub PathBuf);

/// What the UI shows in its header.
#[derive(Serialize)]
pub struct AppInfo {
    version: String,
    desk_dir: String,
}

#[tauri::command]
pub fn app_info(app: tauri::AppHandle, desk: tauri::State<'_, Desk>) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
        desk_dir: desk.0.display().to_string(),
    }
}
