//! Todoke desktop shell: opens the desk's window and answers the web UI's commands.
//!
//! Every command is a one-line translation into the core crates; nothing here decides
//! anything about cases.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod desk_dir;

use std::path::PathBuf;

use clap::Parser;

/// Todoke 届け — desktop app.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Desk directory (database and settings). Default: $TODOKE_DESK_DIR, else <data dir>/todoke.
    #[arg(long, value_name = "DIR")]
    desk: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let desk = match desk_dir::resolve(
        args.desk,
        std::env::var_os(desk_dir::ENV_VAR),
        dirs::data_dir(),
    ) {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("todoke-desktop: {err}");
            std::process::exit(2);
        }
    };

    tauri::Builder::default()
        .manage(commands::Desk(desk))
        .invoke_handler(tauri::generate_handler![commands::app_info])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Tauri runtime failed to start");
}
