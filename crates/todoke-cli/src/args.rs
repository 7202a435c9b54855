//! The command line, as users type it.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "todoke-cli", version, about = "Todoke (届け) desk: infectious-disease cases, offline first")]
pub struct Cli {
    /// Desk folder (default: $TODOKE_DESK_DIR, else the platform data folder).
    #[arg(long, global = true, value_name = "DIR")]
    pub desk: Option<PathBuf>,
    /// Message language: ja (default) or en. Also $TODOKE_LANG.
    #[arg(long, global = true, value_name = "ja|en")]
    pub lang: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a new encrypted desk (key in the OS keyring, or $TODOKE_DESK_KEY).
    Init {
        /// Organisation code of this desk's health centre or clinic.
        #[arg(long)]
        org: Option<String>,
    },
    /// Enter, edit, show and list cases.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Report the notification (報告): sets submission and receipt dates.
    Notify { id: String },
    /// Mark the notification as checked by the health centre (保健所確認済).
    Confirm { id: String },
    /// Set the current status (現在のステータス), e.g. home_recovery or 自宅療養中.
    Status { id: String, status: String },
    /// Enable patient self-report (本人入力) for a case.
    SelfReport { id: String },
    /// Issue an exposure-notification processing number (処理番号).
    IssueNumber { id: String },
    /// Who needs a call today: no report, fever, low SpO2, breathlessness.
    Followup {
        #[arg(long)]
        json: bool,
    },
    /// Add a health observation (健康観察) from a JSON file ("-" for stdin).
    Observe { id: String, file: PathBuf },
    /// Import a file of cases.
    Import {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "opendata")]
        format: ImportFormat,
    },
    /// Export every case to a CSV file.
    Export {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "utf8-bom")]
        encoding: EncodingArg,
        #[arg(long, value_enum, default_value = "cases")]
        format: ExportFormatArg,
        /// Open-data layout: 19 columns (with 確定_年月日, 患者_職業, 患者_接触歴の有無フラグ) or the original 16.
        #[arg(long, default_value = "19", value_parser = ["16", "19"])]
        columns: String,
    },
    /// Generate realistic synthetic cases for demos and benchmarks.
    Generate {
        #[arg(long)]
        cases: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Days of epidemic before today that the cases spread over.
        #[arg(long, default_value_t = 180)]
        days: u32,
    },
    /// Surveillance statistics: the standard indicators (--list), input rate, data quality.
    Report(crate::report::ReportArgs),
    /// Sign in to the central server (the password is read from stdin).
    Login {
        /// Server address, e.g. https://todoke.example.jp (http:// only on loopback).
        #[arg(long)]
        server: String,
        /// Staff ID (ログインID).
        #[arg(long)]
        user: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// The 6-digit one-time password from the authenticator app.
        #[arg(long)]
        otp: String,
    },
    /// Send queued changes and receive the server's until caught up; exit 2 if anything is left unsent.
    Sync {
        #[arg(long)]
        json: bool,
        /// Transient failures in a row before giving up for now (changes stay queued).
        #[arg(long, default_value_t = 8)]
        max_retries: u32,
        /// First back-off delay in milliseconds (doubles per failure, with jitter, up to 60 s).
        #[arg(long, default_value_t = 500)]
        base_delay_ms: u64,
    },
    /// Conflicts awaiting a person: the field, both values, both authors.
    Conflicts {
        #[arg(long)]
        json: bool,
        /// Also list resolved ones.
        #[arg(long)]
        all: bool,
    },
    /// Choose a conflicting field's value; sent by the next sync.
    Resolve {
        conflict_id: String,
        /// mine, theirs, or a JSON value (e.g. '"090-1234-5678"').
        #[arg(long)]
        keep: String,
    },
}

#[derive(Subcommand)]
pub enum CaseCommand {
    /// Print a complete example case as JSON (the shape `case new` takes).
    Template,
    /// Enter a new case from a JSON file ("-" for stdin).
    New { file: PathBuf },
    /// Replace a case with an edited JSON file (as printed by `case show`).
    Edit { id: String, file: PathBuf },
    /// Print a case as JSON.
    Show {
        id: String,
        /// Also print observations, change history and pending changes.
        #[arg(long)]
        detail: bool,
    },
    /// List cases, newest first.
    List(ListArgs),
}

#[derive(clap::Args, Default)]
pub struct ListArgs {
    /// Kana (any width, hiragana or katakana) prefix, kanji substring, phone, or case id.
    #[arg(long)]
    pub search: Option<String>,
    /// Current status code or label.
    #[arg(long)]
    pub status: Option<String>,
    /// Diagnosis class code or label.
    #[arg(long = "class")]
    pub class: Option<String>,
    /// Only notifications not yet confirmed by the health centre.
    #[arg(long)]
    pub unconfirmed: bool,
    /// Report date from (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Report date to (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Responsible health centre (organisation code).
    #[arg(long = "health-centre")]
    pub health_centre: Option<String>,
    /// Sort by: report_date (default), diagnosis_date, name, status.
    #[arg(long)]
    pub sort: Option<String>,
    /// Oldest first.
    #[arg(long)]
    pub asc: bool,
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print JSON (every matching case unless --limit is given).
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ImportFormat {
    Opendata,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum EncodingArg {
    #[value(name = "utf8-bom")]
    Utf8Bom,
    #[value(name = "sjis")]
    Sjis,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Cases,
    Opendata,
}
