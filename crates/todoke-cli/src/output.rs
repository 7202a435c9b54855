//! How the CLI speaks: Japanese by default, English on request; problems
//! listed one per line with the field and the rule.

use todoke_desk::{DeskError, ErrorCode};
use todoke_domain::validate::{Problem, Severity};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn detect(flag: Option<&str>) -> Lang {
        let pick = flag.map(str::to_string).or_else(|| std::env::var("TODOKE_LANG").ok());
        match pick.as_deref() {
            Some(s) if s.starts_with("en") => Lang::En,
            _ => Lang::Ja,
        }
    }

    pub fn pick<'a>(&self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

pub fn problem_line(p: &Problem, lang: Lang) -> String {
    let sev = match (p.severity, lang) {
        (Severity::Error, Lang::Ja) => "エラー",
        (Severity::Error, Lang::En) => "error",
        (Severity::Warning, Lang::Ja) => "警告",
        (Severity::Warning, Lang::En) => "warning",
    };
    let rule = serde_json::to_value(p.rule).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    format!("  {sev} {} [{rule}]: {}", p.path, lang.pick(&p.message_ja, &p.message_en))
}

pub fn print_warnings(ws: &[Problem], lang: Lang) {
    for w in ws {
        eprintln!("{}", problem_line(w, lang));
    }
}

pub fn print_error(e: &DeskError, lang: Lang) {
    eprintln!("{}", lang.pick(&e.message_ja, &e.message_en));
    for p in &e.problems {
        eprintln!("{}", problem_line(p, lang));
    }
}

/// Exit codes scripts can rely on.
pub fn exit_code(e: &DeskError) -> u8 {
    match e.code {
        ErrorCode::Invalid | ErrorCode::BadInput => 1,
        ErrorCode::NotFound => 4,
        ErrorCode::NotInitialised | ErrorCode::Locked | ErrorCode::AlreadyInitialised | ErrorCode::WrongKey | ErrorCode::Keyring => 5,
        ErrorCode::Io => 6,
        ErrorCode::Storage => 7,
        ErrorCode::Offline | ErrorCode::SyncBusy => 8,
        ErrorCode::SignInNeeded => 9,
        ErrorCode::SyncRefused => 10,
    }
}

/// Exit code for an import that finished but skipped bad rows.
pub const PARTIAL_IMPORT: u8 = 3;
