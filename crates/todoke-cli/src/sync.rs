//! `login`, `sync`, `conflicts`, `resolve`: translations into the desk's sync calls.

use std::io::Read;
use std::process::ExitCode;

use todoke_desk::{DeskError, DeskService, Keep, SyncProgress};
use todoke_store::KeyProvider;
use uuid::Uuid;

use crate::args::Command;
use crate::output::Lang;
use crate::run::print_json;

/// Exit code when changes are left unsent.
pub const UNSENT: u8 = 2;

/// Runs a sync command; `None` for any other command.
pub fn run(desk: &mut DeskService, keys: &dyn KeyProvider, command: &Command, lang: Lang) -> Result<Option<ExitCode>, DeskError> {
    match command {
        Command::Login { server, user, otp, .. } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).map_err(|e| DeskError::io("stdin", e))?;
            let password = password.trim_end_matches(['\n', '\r']);
            let s = desk.sync_login(keys, server, user, password, otp)?;
            println!("{}: {} @ {} ({})", lang.pick("サインインしました", "Signed in"), s.login, s.org, s.server);
            Ok(Some(ExitCode::SUCCESS))
        }
        Command::Sync { json, max_retries, base_delay_ms } => {
            let quiet = *json;
            let progress = Box::new(move |p: &SyncProgress| {
                if quiet {
                    return;
                }
                match p {
                    SyncProgress::Pushing { sent, remaining } => eprintln!("  push: {sent} sent, {remaining} left"),
                    SyncProgress::Pulling { pages, changes, more } => {
                        eprintln!("  pull: {changes} changes in {pages} pages{}", if *more { " …" } else { "" })
                    }
                    SyncProgress::Waiting { millis, attempt } => eprintln!("  retry {} in {millis} ms", attempt + 1),
                }
            });
            let opts = todoke_sync::SyncOptions {
                max_retries: *max_retries,
                base_delay: std::time::Duration::from_millis(*base_delay_ms),
                ..todoke_sync::SyncOptions::default()
            };
            let report = desk.sync_with(keys, opts, progress)?;
            if *json {
                print_json(&report);
            } else {
                println!(
                    "{} {}, {} {}, {} {}, {} {} / {} {}",
                    lang.pick("送信: 反映", "sent: applied"),
                    report.applied,
                    lang.pick("競合", "conflicts"),
                    report.conflicts,
                    lang.pick("拒否", "refused"),
                    report.rejected,
                    lang.pick("受信: 変更", "received: changes"),
                    report.changes_pulled,
                    lang.pick("管轄外で削除", "removed (out of scope)"),
                    report.cases_removed,
                );
                for r in desk.rejected_ops()? {
                    eprintln!("  {} {} {}: {}", lang.pick("拒否", "refused"), r.kind, r.entity_id, lang.pick(&r.message_ja, &r.message_en));
                }
                if report.unsent > 0 {
                    eprintln!("{}: {}", lang.pick("未送信の変更が残っています", "Changes left unsent"), report.unsent);
                }
            }
            Ok(Some(if report.unsent > 0 { ExitCode::from(UNSENT) } else { ExitCode::SUCCESS }))
        }
        Command::Conflicts { json, all } => {
            let list = desk.conflicts(!*all)?;
            if *json {
                print_json(&list);
            } else {
                for c in &list {
                    println!(
                        "{}  {} {}  {}: {} ({}, {})  {}: {} ({}, {}){}",
                        c.conflict_id,
                        c.entity_id,
                        c.field,
                        lang.pick("サーバー", "server"),
                        c.server_value,
                        c.server_author,
                        server_time(c.server_at.as_deref(), lang),
                        lang.pick("こちら", "mine"),
                        c.client_value,
                        c.client_author,
                        server_time(c.client_at.as_deref(), lang),
                        if c.resolution_pending { lang.pick("  [解決を送信待ち]", "  [resolution queued]") } else { "" }
                    );
                }
            }
            Ok(Some(ExitCode::SUCCESS))
        }
        Command::Resolve { conflict_id, keep } => {
            let id = Uuid::parse_str(conflict_id.trim())
                .map_err(|_| DeskError::bad_input("競合IDの形式が正しくありません。", "The conflict id is not a valid id."))?;
            let keep = match keep.as_str() {
                "mine" => Keep::Mine,
                "theirs" => Keep::Theirs,
                other => Keep::Value(serde_json::from_str(other).map_err(|e| {
                    DeskError::bad_input(
                        format!("--keep は mine、theirs、またはJSONの値です（{e}）。文字列は '\"…\"' のように引用符で囲みます。"),
                        format!("--keep takes mine, theirs or a JSON value ({e}); quote strings like '\"…\"'."),
                    )
                })?),
            };
            let op = desk.resolve_conflict(id, keep)?;
            println!("{} ({op})", lang.pick("解決を送信待ちにしました。次の同期で送られます", "Resolution queued; the next sync sends it"));
            Ok(Some(ExitCode::SUCCESS))
        }
        _ => Ok(None),
    }
}

/// When a value reached the server, in Japan time as the app shows it:
/// 2026年11月21日 19:05 / 21 Nov 2026 19:05 JST. Display only (SYNC.md 9).
fn server_time(at: Option<&str>, lang: Lang) -> String {
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("JST");
    match at.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) {
        Some(t) => t.with_timezone(&jst).format(lang.pick("%Y年%-m月%-d日 %H:%M", "%-d %b %Y %H:%M JST")).to_string(),
        None => lang.pick("日時不明", "time unknown").to_string(),
    }
}
