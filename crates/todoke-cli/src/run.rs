//! Dispatch: parse what the user gave, call the desk, print the result.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use todoke_desk::{DeskError, DeskService, ExportFormat};
use todoke_domain::{Actor, Case, CurrentStatus, DiagnosisClass, Labelled, Observation};
use todoke_exchange::Encoding;
use todoke_store::{CaseQuery, SortKey};

use crate::args::*;
use crate::output::{self, Lang};
use crate::progress;
use crate::report;

pub fn run(cli: Cli, lang: Lang) -> Result<ExitCode, DeskError> {
    let dir = todoke_store::resolve_desk_dir(cli.desk.as_deref());
    let keys = todoke_store::default_key_provider();
    let actor = local_actor();
    if let Command::Init { org } = &cli.command {
        let actor = Actor { org_code: org.clone().unwrap_or_default(), ..actor };
        DeskService::init(&dir, keys.as_ref(), actor)?;
        println!("{}: {}", lang.pick("デスクを作成しました", "Desk created"), dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Report(args) = &cli.command {
        return report::run(args, &dir, keys.as_ref(), actor, lang);
    }
    let mut desk = DeskService::open(&dir, keys.as_ref(), actor)?;
    if let Some(code) = crate::sync::run(&mut desk, keys.as_ref(), &cli.command, lang)? {
        return Ok(code);
    }
    match cli.command {
        Command::Init { .. } | Command::Report(_) => unreachable!("handled above"),
        Command::Login { .. } | Command::Sync { .. } | Command::Conflicts { .. } | Command::Resolve { .. } => unreachable!("handled above"),
        Command::Case(c) => case_command(&mut desk, c, lang),
        Command::Notify { id } => {
            let id = desk.resolve_id(&id)?;
            let (saved, outcome) = desk.report(id)?;
            let n = &saved.case.notification;
            println!(
                "{} {}: {} {} / {} {}",
                lang.pick("報告しました", "Reported"),
                id,
                lang.pick("提出日", "submitted"),
                fmt_date(n.submitted_on),
                lang.pick("受理日", "received"),
                fmt_date(n.received_on),
            );
            if outcome.kind == todoke_domain::lifecycle::ReportKind::Edit {
                println!("{}", lang.pick("（同じ類型の届出の修正として扱いました。報告日は変わりません）", "(an edit of the same notification: the report date is unchanged)"));
            }
            output::print_warnings(&saved.warnings, lang);
            Ok(ExitCode::SUCCESS)
        }
        Command::Confirm { id } => {
            let id = desk.resolve_id(&id)?;
            let saved = desk.confirm(id)?;
            println!("{} {id}", lang.pick("保健所確認済にしました", "Confirmed by the health centre:"));
            output::print_warnings(&saved.warnings, lang);
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { id, status } => {
            let id = desk.resolve_id(&id)?;
            let status = CurrentStatus::parse(&status).ok_or_else(|| unknown_value("ステータス", "status", &status, CurrentStatus::ALL))?;
            let saved = desk.set_status(id, status)?;
            println!("{} {id}: {}", lang.pick("ステータスを変更しました", "Status changed"), label(&status, lang));
            output::print_warnings(&saved.warnings, lang);
            Ok(ExitCode::SUCCESS)
        }
        Command::SelfReport { id } => {
            let id = desk.resolve_id(&id)?;
            desk.enable_self_report(id)?;
            println!("{} {id}", lang.pick("本人入力を有効にしました", "Self-report enabled:"));
            Ok(ExitCode::SUCCESS)
        }
        Command::IssueNumber { id } => {
            let id = desk.resolve_id(&id)?;
            let number = desk.issue_processing_number(id)?;
            println!("{}: {number}", lang.pick("処理番号", "Processing number"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Followup { json } => {
            let list = desk.follow_up_list()?;
            if json {
                let rows: Vec<_> = list.iter().map(|(s, a)| serde_json::json!({ "case": s, "assessment": a })).collect();
                print_json(&rows);
                return Ok(ExitCode::SUCCESS);
            }
            for (s, a) in &list {
                let concerns: Vec<&str> = a.concerns.iter().map(|c| label(c, lang)).collect();
                let mark = if a.needs_call { lang.pick("要連絡", "CALL") } else { "-" };
                println!("{mark:<6} {}  {:<12} {}  {}", s.id, s.name, fmt_date(a.last_reported_on), concerns.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Observe { id, file } => {
            let id = desk.resolve_id(&id)?;
            let obs: Observation = read_json(&file)?;
            let obs = desk.add_observation(id, obs)?;
            println!("{} {}", lang.pick("健康観察を追加しました", "Observation added"), obs.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file, format: ImportFormat::Opendata } => {
            let pb = progress::bar(lang.pick("取込", "Import"));
            let summary = desk.import_opendata(&file, &mut progress::callback(&pb))?;
            pb.finish_and_clear();
            let r = &summary.report;
            println!("{}: {} / {} {}", lang.pick("取込みました", "Imported"), r.imported, r.rows_read, lang.pick("行", "rows"));
            for w in &r.warnings {
                let line = w.line.map(|l| format!("{} {l} ", lang.pick("行", "line"))).unwrap_or_default();
                eprintln!("  {}{line}{}", lang.pick("警告 ", "warning "), lang.pick(&w.message_ja, &w.message_en));
            }
            for e in &r.errors {
                eprintln!(
                    "  {} {} [{}] \"{}\": {}",
                    lang.pick("行", "line"),
                    e.line,
                    e.column.as_deref().unwrap_or("-"),
                    e.value,
                    lang.pick(&e.message_ja, &e.message_en)
                );
            }
            if r.errors_total > r.errors.len() as u64 {
                eprintln!("  … {} {}", r.errors_total - r.errors.len() as u64, lang.pick("件のエラーは省略しました", "more errors not shown"));
            }
            if r.errors_total == 0 {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "{}",
                    lang.pick(
                        &format!("{}行は取り込めませんでした。上の理由を直して、その行だけを取り込み直せます。", r.errors_total),
                        &format!("{} row(s) were not imported. Fix the reasons above and import those rows again.", r.errors_total)
                    )
                );
                Ok(ExitCode::from(output::PARTIAL_IMPORT))
            }
        }
        Command::Export { file, encoding, format, columns } => {
            let enc = match encoding {
                EncodingArg::Utf8Bom => Encoding::Utf8Bom,
                EncodingArg::Sjis => Encoding::ShiftJis,
            };
            let fmt = match format {
                ExportFormatArg::Cases => ExportFormat::Cases,
                ExportFormatArg::Opendata if columns == "16" => ExportFormat::OpenDataBase16,
                ExportFormatArg::Opendata => ExportFormat::OpenData,
            };
            let pb = progress::bar(lang.pick("出力", "Export"));
            let summary = desk.export(&file, fmt, enc, &mut progress::callback(&pb))?;
            pb.finish_and_clear();
            println!("{}: {} {} → {}", lang.pick("出力しました", "Exported"), summary.cases, lang.pick("件", "cases"), file.display());
            if summary.unmappable > 0 {
                eprintln!(
                    "{}",
                    lang.pick(
                        &format!("Shift_JISで表せない文字を含む{}か所を「〓」に置き換えました。正確な文字が必要なら UTF-8 で出力してください。", summary.unmappable),
                        &format!("{} cell(s) had characters Shift_JIS cannot hold; they were replaced by 〓. Export as UTF-8 to keep them exact.", summary.unmappable)
                    )
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { cases, seed, days } => {
            let pb = progress::bar(lang.pick("生成", "Generate"));
            let n = desk.generate(cases, seed, days, &mut progress::callback(&pb))?;
            pb.finish_and_clear();
            println!("{}: {n}", lang.pick("デモ症例を生成しました", "Generated demo cases"));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn case_command(desk: &mut DeskService, c: CaseCommand, lang: Lang) -> Result<ExitCode, DeskError> {
    match c {
        CaseCommand::Template => {
            // No id: `case new` gives each new case its own.
            let case = Case { id: uuid::Uuid::nil(), ..todoke_synth::sample_case(1) };
            print_json(&case);
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::New { file } => {
            let case: Case = read_json(&file)?;
            let saved = desk.create_case(case)?;
            println!("{}", saved.case.id);
            output::print_warnings(&saved.warnings, lang);
            for d in &saved.possible_duplicates {
                eprintln!(
                    "  {} {} {} {}",
                    lang.pick("重複の可能性（フリガナ・生年月日・性別が一致）:", "possible duplicate (same kana, birth date and sex):"),
                    d.id,
                    d.name,
                    d.name_kana
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::Edit { id, file } => {
            let id = desk.resolve_id(&id)?;
            let mut case: Case = read_json(&file)?;
            if !case.id.is_nil() && case.id != id {
                return Err(DeskError::bad_input(
                    format!("ファイルのID {} が指定したID {id} と違います。", case.id),
                    format!("The file's id {} differs from the id given, {id}.", case.id),
                ));
            }
            case.id = id;
            let saved = desk.update_case(case)?;
            println!("{} {id}", lang.pick("保存しました", "Saved"));
            output::print_warnings(&saved.warnings, lang);
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::Show { id, detail } => {
            let id = desk.resolve_id(&id)?;
            if detail {
                print_json(&desk.open_case(id)?);
            } else {
                print_json(&desk.get(id)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::List(args) => list(desk, args, lang),
    }
}

fn list(desk: &DeskService, a: ListArgs, lang: Lang) -> Result<ExitCode, DeskError> {
    let mut q = CaseQuery { text: a.search.clone(), unconfirmed_only: a.unconfirmed, ..Default::default() };
    if let Some(s) = &a.status {
        q.status = Some(CurrentStatus::parse(s).ok_or_else(|| unknown_value("ステータス", "status", s, CurrentStatus::ALL))?);
    }
    if let Some(c) = &a.class {
        q.diagnosis_class = Some(DiagnosisClass::parse(c).ok_or_else(|| unknown_value("類型", "class", c, DiagnosisClass::ALL))?);
    }
    q.report_from = a.from.as_deref().map(parse_date).transpose()?;
    q.report_to = a.to.as_deref().map(parse_date).transpose()?;
    q.responsible_health_centre = a.health_centre.clone();
    if let Some(s) = &a.sort {
        q.sort = SortKey::parse(s).ok_or_else(|| {
            DeskError::bad_input(
                format!("並べ替え「{s}」は使えません。report_date, diagnosis_date, name, status のどれかです。"),
                format!("Cannot sort by \"{s}\". Use report_date, diagnosis_date, name or status."),
            )
        })?;
    }
    q.ascending = a.asc;
    // JSON prints every match unless --limit; the table shows a screenful.
    q.limit = a.limit.or(if a.json { None } else { Some(50) });
    let rows = desk.search(&q)?;
    if a.json {
        print_json(&rows);
        return Ok(ExitCode::SUCCESS);
    }
    for r in &rows {
        println!(
            "{}  {}  {:<12} {:<16} {}  {}  {}",
            r.id,
            fmt_date(r.report_date),
            r.name,
            r.name_kana,
            fmt_date(r.birth_date),
            r.diagnosis_class.map(|c| label(&c, lang)).unwrap_or("-"),
            r.current_status.map(|s| label(&s, lang)).unwrap_or("-"),
        );
    }
    let total = desk.count(&CaseQuery { limit: None, ..q })?;
    if total as usize > rows.len() {
        eprintln!("{}", lang.pick(&format!("{} 件中 {} 件を表示", total, rows.len()), &format!("showing {} of {}", rows.len(), total)));
    }
    Ok(ExitCode::SUCCESS)
}

fn label<L: Labelled>(v: &L, lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => v.ja(),
        Lang::En => v.en(),
    }
}

fn fmt_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

fn parse_date(s: &str) -> Result<NaiveDate, DeskError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        DeskError::bad_input(format!("日付「{s}」が読めません。YYYY-MM-DD で指定してください。"), format!("Cannot read the date \"{s}\". Use YYYY-MM-DD."))
    })
}

fn unknown_value<T: Labelled + Copy>(ja: &str, en: &str, got: &str, all: &[T]) -> DeskError {
    let options: Vec<&str> = all.iter().map(|v| v.ja()).collect();
    DeskError::bad_input(
        format!("{ja}「{got}」は使えません。使える値: {}", options.join("、")),
        format!("Unknown {en} \"{got}\". Allowed: {}", all.iter().map(|v| v.en()).collect::<Vec<_>>().join(", ")),
    )
}

/// The person at this desk until staff sign-in exists: $TODOKE_USER, else the OS user.
fn local_actor() -> Actor {
    let login = std::env::var("TODOKE_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "desk".into());
    Actor { login, org_code: String::new() }
}

fn read_json<T: serde::de::DeserializeOwned>(file: &Path) -> Result<T, DeskError> {
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map_err(|e| DeskError::io("stdin", e))?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| DeskError::io(&file.display().to_string(), e))?;
    }
    serde_json::from_str(&text).map_err(|e| {
        DeskError::bad_input(
            format!("{} の {}行{}列目が読めません: {e}。case template の形に合わせてください。", file.display(), e.line(), e.column()),
            format!("Cannot read {} at line {}, column {}: {e}. Follow the shape printed by `case template`.", file.display(), e.line(), e.column()),
        )
    })
}

pub(crate) fn print_json<T: serde::Serialize>(v: &T) {
    println!("{}", serde_json::to_string_pretty(v).expect("domain types serialise"));
}
