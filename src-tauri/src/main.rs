//! Todoke desktop shell: opens the desk's window and answers the web UI's commands.
//!
//! Every command is a one-line translation into `todoke-desk`; nothing here decides
//! anything about cases. Nothing personal is ever logged: this crate logs nothing but
//! start-up failures, which carry no case data.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod session;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Todoke 届け — desktop app.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Desk directory (database and settings). Default: $TODOKE_DESK_DIR, else <data dir>/todoke/desk.
    #[arg(long, value_name = "DIR")]
    desk: Option<PathBuf>,
    /// Minutes of inactivity before the desk locks. Default: $TODOKE_LOCK_MINUTES, else 10.
    #[arg(long, value_name = "MINUTES")]
    lock_minutes: Option<f64>,
}

fn main() {
    let started = session::StartClock::now();
    // The UI is a few small scripts: JavaScriptCore's JIT buys nothing here and costs
    // about 9 MB of the web process (TARGETS B9, idle memory). Set before any thread or
    // web process starts; an explicit JSC_useJIT in the environment wins.
    if std::env::var_os("JSC_useJIT").is_none() {
        std::env::set_var("JSC_useJIT", "false");
    }
    let args = Args::parse();
    let dir = todoke_store::resolve_desk_dir(args.desk.as_deref());
    let minutes = args
        .lock_minutes
        .or_else(|| std::env::var("TODOKE_LOCK_MINUTES").ok().and_then(|m| m.parse().ok()))
        .filter(|m: &f64| m.is_finite() && *m > 0.0)
        .unwrap_or(10.0);
    let session = session::Session::new(dir, session::local_actor(), Duration::from_secs_f64(minutes * 60.0), started);

    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(session.clone())
        .setup(move |app| {
            lean_webview(app);
            session::watch_inactivity(session, app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session_info,
            commands::open_desk,
            commands::lock,
            commands::touch,
            commands::ui_ready,
            commands::code_lists,
            commands::desk_status,
            commands::search_cases,
            commands::count_cases,
            commands::open_case,
            commands::new_case_draft,
            commands::new_test_draft,
            commands::contact_case_draft,
            commands::check_form,
            commands::create_case,
            commands::update_case,
            commands::report,
            commands::confirm,
            commands::set_status,
            commands::set_status_many,
            commands::enable_self_report,
            commands::issue_processing_number,
            commands::follow_up_list,
            commands::change_marker,
            commands::add_observation,
            commands::save_tests,
            commands::transfer_responsible,
            commands::add_related_health_centre,
            commands::link_contact,
            commands::clusters,
            commands::import_opendata,
            commands::export_cases,
            // reports
            commands::report_views,
            commands::quality_view,
            commands::export_report,
            commands::import_published_counts,
            commands::input_rate_view,
            commands::input_rate_reasons,
            commands::save_chart_png,
            commands::save_chart_pdf,
            commands::sync_login,
            commands::sync_now,
            commands::sync_overview,
            commands::conflict_inbox,
            commands::rejected_inbox,
            commands::resolve_conflict,
            commands::sign_out,
            commands::change_states,
            commands::default_server_url,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Tauri runtime failed to start");
}

/// One local page, no browsing: WebKit's document-viewer cache model keeps the least in
/// memory (TARGETS B9, idle memory).
#[cfg(target_os = "linux")]
fn lean_webview(app: &tauri::App) {
    use tauri::Manager;
    use webkit2gtk::{CacheModel, WebContextExt, WebViewExt};
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.with_webview(|webview| {
            if let Some(context) = webview.inner().context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn lean_webview(_: &tauri::App) {}
