//! `todoke-cli report`: the standard indicators, input rate and data-quality
//! lists, computed by the desk (`todoke_desk` reports), printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use todoke_desk::{write_table, DeskError, DeskService, ExportEncoding};
use todoke_domain::Actor;
use todoke_reports::period::parse_weekday;
use todoke_reports::{
    parse_published, Area, Breakdown, Cell, Granularity, HeaderLang, Indicator, OpenDataFile, QualityOptions, ReportOptions, Table,
};
use todoke_store::KeyProvider;

use crate::output::Lang;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// Indicator (name or number 1–11, see --list), "all", "input-rate" or "quality".
    pub name: Option<String>,
    /// List the indicators with their Japanese and English titles.
    #[arg(long)]
    pub list: bool,
    /// First day (YYYY-MM-DD); default: the earliest diagnosis.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD); default: the latest diagnosis.
    #[arg(long)]
    pub to: Option<String>,
    /// day or week (default: the indicator's own).
    #[arg(long)]
    pub by: Option<String>,
    /// First day of a week (default: wed, as the ministry's weekly files).
    #[arg(long = "week-start", default_value = "wed")]
    pub week_start: String,
    /// Prefecture (13, 東京都), municipality code (131016) or health-centre code.
    #[arg(long)]
    pub area: Option<String>,
    /// Rows per prefecture or health-centre (trend tables).
    #[arg(long, value_parser = ["none", "prefecture", "health-centre"], default_value = "none")]
    pub breakdown: String,
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    #[arg(long)]
    pub csv: bool,
    /// input-rate: CSV of published counts (date,area,count).
    #[arg(long)]
    pub published: Option<PathBuf>,
    /// quality: the day the lists are made (default: today in JST).
    #[arg(long)]
    pub today: Option<String>,
    /// quality: list notifications unconfirmed for more than this many days.
    #[arg(long = "unconfirmed-days", default_value_t = 3)]
    pub unconfirmed_days: u32,
    /// quality: list care statuses unchanged for more than this many days.
    #[arg(long = "stale-days", default_value_t = 10)]
    pub stale_days: u32,
    /// The ministry's open-data wide layout (Date,ALL,Hokkaido,…,Okinawa; one row per day):
    /// new-positives, positives-cumulative, severe-trend, deaths-cumulative or number_of_deaths_daily.
    #[arg(long, conflicts_with_all = ["json", "breakdown", "by"])]
    pub wide: bool,
    /// Write CSV to this file (for "all": into this folder, one file per indicator).
    #[arg(long, conflicts_with = "json")]
    pub out: Option<PathBuf>,
    /// Encoding of --out.
    #[arg(long, value_enum, default_value = "utf8-bom", requires = "out")]
    pub encoding: crate::args::EncodingArg,
}

pub fn run(a: &ReportArgs, dir: &Path, keys: &dyn KeyProvider, actor: Actor, lang: Lang) -> Result<ExitCode, DeskError> {
    if a.list || a.name.is_none() {
        for i in Indicator::ALL {
            println!("{:>2}  {:<34} {}  /  {}", i.number(), i.slug(), i.title_ja(), i.title_en());
        }
        println!("    {:<34} {}", "all", lang.pick("上の11表すべて", "all eleven above"));
        println!(
            "    {:<34} {}",
            "input-rate --published FILE",
            lang.pick("入力率（公表数との比較）", "input rate against published counts")
        );
        println!("    {:<34} {}", "quality", lang.pick("データ品質の一覧", "data-quality lists"));
        return Ok(ExitCode::SUCCESS);
    }
    let name = a.name.as_deref().unwrap_or_default();
    let desk = DeskService::open(dir, keys, actor)?;
    let mut names: Vec<String> = vec![name.to_string()];
    let tables = match name {
        _ if a.wide => {
            let file = OpenDataFile::parse(name).map_err(|e| DeskError::bad_input(e.to_string(), e.to_string()))?;
            names = vec![file.file_name().trim_end_matches(".csv").to_string()];
            vec![desk.open_data_wide(file, &options(a)?)?]
        }
        "quality" => vec![quality(&desk, a)?],
        "input-rate" | "input_rate" => {
            let file = a.published.as_ref().ok_or_else(|| {
                DeskError::bad_input(
                    "input-rate には --published FILE（date,area,count）が必要です。",
                    "input-rate needs --published FILE (date,area,count).",
                )
            })?;
            let text = std::fs::read_to_string(file).map_err(|e| DeskError::io(&file.display().to_string(), e))?;
            let published = parse_published(&text).map_err(|e| DeskError::bad_input(e.to_string(), e.to_string()))?;
            vec![desk.input_rate(&published, &options(a)?)?]
        }
        _ => {
            // Check the name before reading the desk.
            let one = if name == "all" {
                None
            } else {
                Some(Indicator::parse(name).map_err(|e| {
                    DeskError::bad_input(format!("集計「{name}」はありません。--list で一覧を表示します。"), format!("{e}. See --list."))
                })?)
            };
            if one.is_none() {
                names = Indicator::ALL.iter().map(|i| i.slug().to_string()).collect();
            }
            desk.indicators(one, &options(a)?)?
        }
    };
    match &a.out {
        Some(out) => write(out, &tables, &names, a, lang)?,
        None => print(&tables, a, lang),
    }
    Ok(ExitCode::SUCCESS)
}

/// `--out`: one table to the file, several into the folder as `<name>.csv`.
fn write(out: &Path, tables: &[Table], names: &[String], a: &ReportArgs, lang: Lang) -> Result<(), DeskError> {
    let header = if lang == Lang::Ja { HeaderLang::Ja } else { HeaderLang::En };
    let encoding = match a.encoding {
        crate::args::EncodingArg::Utf8Bom => ExportEncoding::Utf8Bom,
        crate::args::EncodingArg::Sjis => ExportEncoding::ShiftJis,
    };
    let targets: Vec<PathBuf> = if tables.len() == 1 {
        vec![out.to_path_buf()]
    } else {
        std::fs::create_dir_all(out).map_err(|e| DeskError::io(&out.display().to_string(), e))?;
        names.iter().map(|n| out.join(format!("{n}.csv"))).collect()
    };
    for (table, path) in tables.iter().zip(&targets) {
        let replaced = write_table(path, table, encoding, header)?;
        eprintln!("{}", lang.pick(&format!("書き出しました: {}", path.display()), &format!("Written: {}", path.display())));
        if replaced > 0 {
            eprintln!(
                "{}",
                lang.pick(
                    &format!("  Shift_JIS にない文字を〓に置き換えたセル: {replaced}"),
                    &format!("  cells with characters Shift_JIS lacks, replaced by 〓: {replaced}")
                )
            );
        }
    }
    Ok(())
}

fn quality(desk: &DeskService, a: &ReportArgs) -> Result<Table, DeskError> {
    let today = a.today.as_deref().map(date).transpose()?.unwrap_or_else(todoke_desk::today_jst);
    desk.quality(today, QualityOptions { unconfirmed_days: a.unconfirmed_days, stale_status_days: a.stale_days })
}

fn options(a: &ReportArgs) -> Result<ReportOptions, DeskError> {
    let by =
        a.by.as_deref()
            .map(|s| {
                Granularity::parse(s).ok_or_else(|| {
                    DeskError::bad_input(format!("--by は day か week です（「{s}」）。"), format!("--by is day or week (got \"{s}\")."))
                })
            })
            .transpose()?;
    let week_start = parse_weekday(&a.week_start).ok_or_else(|| {
        DeskError::bad_input(
            format!("--week-start「{}」が読めません（例: wed, 水）。", a.week_start),
            format!("Cannot read --week-start \"{}\" (e.g. wed).", a.week_start),
        )
    })?;
    let breakdown = match a.breakdown.as_str() {
        "prefecture" => Breakdown::Prefecture,
        "health-centre" => Breakdown::HealthCentre,
        _ => Breakdown::None,
    };
    Ok(ReportOptions {
        from: a.from.as_deref().map(date).transpose()?,
        to: a.to.as_deref().map(date).transpose()?,
        by,
        week_start,
        area: a.area.as_deref().map(Area::parse).unwrap_or_default(),
        breakdown,
    })
}

fn date(s: &str) -> Result<NaiveDate, DeskError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        DeskError::bad_input(
            format!("日付「{s}」が読めません。YYYY-MM-DD で指定してください。"),
            format!("Cannot read the date \"{s}\". Use YYYY-MM-DD."),
        )
    })
}

/// Prints the tables; a closed pipe (`| head`) just ends the output.
fn print(tables: &[Table], a: &ReportArgs, lang: Lang) {
    let text = render(tables, a, lang);
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
}

fn render(tables: &[Table], a: &ReportArgs, lang: Lang) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let header = if lang == Lang::Ja { HeaderLang::Ja } else { HeaderLang::En };
    if a.json {
        let json = if tables.len() == 1 { serde_json::to_string_pretty(&tables[0]) } else { serde_json::to_string_pretty(tables) };
        let _ = writeln!(out, "{}", json.expect("tables serialise"));
        return out;
    }
    for (k, t) in tables.iter().enumerate() {
        if k > 0 {
            out.push('\n');
        }
        if a.csv {
            if tables.len() > 1 {
                let _ = writeln!(out, "# {}", lang.pick(&t.title_ja, &t.title_en));
            }
            out.push_str(&t.to_csv(header));
            continue;
        }
        let _ = writeln!(out, "{}", lang.pick(&t.title_ja, &t.title_en));
        let head: Vec<String> = t.columns.iter().map(|c| lang.pick(&c.ja, &c.en).to_string()).collect();
        let body: Vec<Vec<String>> = t.rows.iter().map(|r| r.iter().map(|c| cell_text(c, header)).collect()).collect();
        let widths: Vec<usize> = (0..head.len())
            .map(|j| std::iter::once(&head[j]).chain(body.iter().map(|r| &r[j])).map(|s| width(s)).max().unwrap_or(0))
            .collect();
        for line in std::iter::once(&head).chain(body.iter()) {
            let cells: Vec<String> = line.iter().zip(&widths).map(|(s, w)| format!("{}{s}", " ".repeat(w - width(s)))).collect();
            let _ = writeln!(out, "{}", cells.join("  "));
        }
        for note in &t.notes {
            let _ = writeln!(out, "  * {note}");
        }
    }
    out
}

fn cell_text(c: &Cell, lang: HeaderLang) -> String {
    match c {
        Cell::Percent(n) => format!("{n}%"),
        Cell::Empty => "-".into(),
        _ => c.csv(lang),
    }
}

/// Terminal columns: East Asian wide characters take two.
fn width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 }).sum()
}
