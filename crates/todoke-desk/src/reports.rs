//! Statistics on the desk (DOMAIN.md §5): the standard indicators, the input
//! rate and the data-quality lists, computed by `todoke_reports` from the
//! report rows the store keeps beside each case (`case_stat`), so no case
//! document is parsed for an indicator.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use todoke_domain::policy::Policy;
use todoke_domain::validate::Context;
use todoke_reports::{
    compute, compute_all, input_rate, input_rate_report, lag_reasons, lag_table, open_data_wide, quality_table, read_published, Area, Cell,
    Granularity, HeaderLang, Indicator, InputRateOptions, OpenDataFile, PublishedCount, QualityChecker, QualityList, QualityOptions,
    ReportOptions, ReportRow, Table,
};
use todoke_store::PublishedImport;

use crate::{DeskError, DeskService, ExportEncoding};

impl DeskService {
    /// Every live case's report row, from the store's packed rows.
    pub fn report_rows(&self) -> Result<Vec<ReportRow>, DeskError> {
        Ok(self.store().report_rows()?)
    }

    /// The same rows built by parsing every case document: the slow path the
    /// packed rows must always agree with (tests compare them).
    pub fn report_rows_from_documents(&self) -> Result<Vec<ReportRow>, DeskError> {
        let mut rows = Vec::new();
        self.store().for_each_case(|case| -> Result<(), DeskError> {
            rows.extend(ReportRow::from_case(&case));
            Ok(())
        })?;
        Ok(rows)
    }

    /// One indicator, or all eleven when `indicator` is `None`, suppression applied.
    pub fn indicators(&self, indicator: Option<Indicator>, opts: &ReportOptions) -> Result<Vec<Table>, DeskError> {
        let rows = self.report_rows()?;
        let clusters = self.store().clusters()?;
        Ok(match indicator {
            Some(i) => vec![compute(i, &rows, &clusters, opts)],
            None => compute_all(&rows, &clusters, opts),
        })
    }

    /// 入力率: published counts against cases entered on this desk.
    pub fn input_rate(&self, published: &[PublishedCount], opts: &ReportOptions) -> Result<Table, DeskError> {
        let rows = self.report_rows()?;
        Ok(input_rate(&rows, published, opts.by.unwrap_or(Granularity::Day), opts.week_start))
    }

    /// The data-quality lists as of `today` (these need whole cases: they
    /// check every rule of the form).
    pub fn quality(&self, today: chrono::NaiveDate, options: QualityOptions) -> Result<Table, DeskError> {
        let policy = Policy::default_rules();
        let mut checker = QualityChecker::new(Context::new(today, &policy), options);
        self.store().for_each_case(|case| -> Result<(), DeskError> {
            // Observations matter only for self-report gaps.
            let observations = if case.follow_up.self_report_enabled { self.open_case(case.id)?.observations } else { Vec::new() };
            checker.add(&case, &observations);
            Ok(())
        })?;
        Ok(quality_table(&checker.finish()))
    }
}

impl DeskService {
    /// The ministry's wide open-data file (`Date,ALL,Hokkaido,…,Okinawa`).
    pub fn open_data_wide(&self, file: OpenDataFile, opts: &ReportOptions) -> Result<Table, DeskError> {
        Ok(open_data_wide(file, &self.report_rows()?, opts))
    }
}

/// Writes a table as spreadsheet CSV (CRLF, UTF-8 with BOM or Shift_JIS,
/// formulas guarded), header and labels in `lang`; suppressed cells are `*`.
/// Written to a `.partial` file first, then renamed: a failed write leaves
/// no half file. Returns how many cells lost a character to 〓 (Shift_JIS).
pub fn write_table(path: &Path, table: &Table, encoding: ExportEncoding, lang: HeaderLang) -> Result<u64, DeskError> {
    let tmp = path.with_extension("partial");
    let file = std::fs::File::create(&tmp).map_err(|e| DeskError::io(&tmp.display().to_string(), e))?;
    let head: Vec<String> = table
        .columns
        .iter()
        .map(|c| match lang {
            HeaderLang::Ja => c.ja.clone(),
            HeaderLang::En => c.en.clone(),
            HeaderLang::Key => c.key.to_string(),
        })
        .collect();
    let body = table.rows.iter().map(|r| r.iter().map(|c| c.csv(lang)).collect::<Vec<_>>());
    let replaced = todoke_exchange::write_table_csv(file, encoding.into(), std::iter::once(head).chain(body)).map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        DeskError::bad_input(e.message_ja(), e.message_en())
    })?;
    std::fs::rename(&tmp, path).map_err(|e| DeskError::io(&path.display().to_string(), e))?;
    Ok(replaced)
}

/// What the app asks for: one indicator (slug or number) or all, over a range.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportRequest {
    /// An indicator's slug or number; `None`: all eleven.
    pub indicator: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// "day" or "week"; `None`: the indicator's own.
    pub by: Option<String>,
    /// Prefecture, municipality or health-centre code; `None`: every case on the desk.
    pub area: Option<String>,
}

/// A table as the app shows it: every cell with its text in both languages,
/// its number for charts and whether it was suppressed (small-cell rule).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportView {
    /// The indicator's slug ("new-positives"), "quality" or "input-rate".
    pub slug: String,
    pub title_ja: String,
    pub title_en: String,
    pub columns: Vec<ReportColumn>,
    pub rows: Vec<Vec<ReportCell>>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportColumn {
    pub key: String,
    pub ja: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportCell {
    pub ja: String,
    pub en: String,
    /// The number (counts, rates, percentages); `None` for text, dates and hidden cells.
    pub value: Option<f64>,
    /// Not published (1–4 persons, or hidden so that such a cell cannot be recovered).
    pub suppressed: bool,
    /// A code for programs: a coded value's code ("male"), a date, a case id.
    pub code: Option<String>,
}

impl ReportView {
    pub fn of(slug: &str, t: &Table) -> ReportView {
        let cell = |c: &Cell| {
            let (ja, en) = (c.csv(HeaderLang::Ja), c.csv(HeaderLang::En));
            let value = match c {
                Cell::Count(n) | Cell::Percent(n) => Some(*n as f64),
                Cell::Decimal(x) => Some(*x),
                _ => None,
            };
            let code = match c {
                Cell::Label { code, .. } => Some(code.to_string()),
                Cell::Name { ja, .. } => Some(ja.clone()),
                Cell::Date(d) => Some(d.to_string()),
                Cell::Text(s) => Some(s.clone()),
                _ => None,
            };
            ReportCell { ja, en, value, suppressed: matches!(c, Cell::Suppressed), code }
        };
        ReportView {
            slug: slug.to_string(),
            title_ja: t.title_ja.clone(),
            title_en: t.title_en.clone(),
            columns: t.columns.iter().map(|c| ReportColumn { key: c.key.to_string(), ja: c.ja.clone(), en: c.en.clone() }).collect(),
            rows: t.rows.iter().map(|r| r.iter().map(cell).collect()).collect(),
            notes: t.notes.clone(),
        }
    }
}

impl ReportRequest {
    fn indicator(&self) -> Result<Option<Indicator>, DeskError> {
        match self.indicator.as_deref() {
            None | Some("all") => Ok(None),
            Some(s) => Indicator::parse(s)
                .map(Some)
                .map_err(|_| DeskError::bad_input(format!("集計「{s}」はありません。"), format!("There is no report \"{s}\"."))),
        }
    }

    fn options(&self) -> Result<ReportOptions, DeskError> {
        let by = self
            .by
            .as_deref()
            .map(|s| {
                Granularity::parse(s).ok_or_else(|| {
                    DeskError::bad_input(format!("集計単位は day か week です（「{s}」）。"), format!("By is day or week (got \"{s}\")."))
                })
            })
            .transpose()?;
        Ok(ReportOptions {
            from: self.from,
            to: self.to,
            by,
            area: self.area.as_deref().map(Area::parse).unwrap_or_default(),
            ..ReportOptions::default()
        })
    }
}

impl DeskService {
    /// The indicators the app shows, one view per table.
    pub fn report_views(&self, request: &ReportRequest) -> Result<Vec<ReportView>, DeskError> {
        let one = request.indicator()?;
        let tables = self.indicators(one, &request.options()?)?;
        let slugs: Vec<&str> = match one {
            Some(i) => vec![i.slug()],
            None => Indicator::ALL.iter().map(|i| i.slug()).collect(),
        };
        Ok(slugs.iter().zip(&tables).map(|(s, t)| ReportView::of(s, t)).collect())
    }

    /// The data-quality lists as of today (JST), with the case id of each entry.
    pub fn quality_view(&self) -> Result<ReportView, DeskError> {
        Ok(ReportView::of("quality", &self.quality(crate::today_jst(), QualityOptions::default())?))
    }

    /// Writes one requested indicator as spreadsheet CSV (see [`write_table`]).
    /// `indicator` "input-rate": the per-day (or per-week) input-rate table of the stored published counts.
    pub fn export_report(&self, path: &Path, request: &ReportRequest, encoding: ExportEncoding, english: bool) -> Result<u64, DeskError> {
        let lang = if english { HeaderLang::En } else { HeaderLang::Ja };
        if request.is_input_rate() {
            let report = self.input_rate_for(request)?.ok_or_else(no_published_counts)?;
            return write_table(path, &report.periods, encoding, lang);
        }
        let tables = self.indicators(request.indicator()?, &request.options()?)?;
        let table = tables.first().ok_or_else(|| DeskError::bad_input("集計を1つ選んでください。", "Choose one report."))?;
        if tables.len() > 1 {
            return Err(DeskError::bad_input("書き出す集計を1つ選んでください。", "Choose one report to export."));
        }
        write_table(path, table, encoding, lang)
    }
}

/// Saves a chart image the app drew (PNG only: the bytes must be a PNG).
pub fn write_png(path: &Path, png: &[u8]) -> Result<(), DeskError> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !png.starts_with(SIGNATURE) {
        return Err(DeskError::bad_input("PNG画像ではありません。", "This is not a PNG image."));
    }
    std::fs::write(path, png).map_err(|e| DeskError::io(&path.display().to_string(), e))
}

// ---------------------------------------------------------------- input rate (入力率)

/// What importing a published-counts file did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PublishedImportSummary {
    /// The import as stored; `None` when no row could be read (nothing was stored).
    pub import: Option<PublishedImport>,
    /// Rows with data read (the header and blank lines not counted).
    pub rows_read: u64,
    pub accepted: u64,
    /// Every refused row: its line, column, value and reason.
    pub errors: Vec<todoke_exchange::RowError>,
}

/// The input rate as the Reports screen shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InputRateView {
    /// The range in use (whole weeks when weekly); `None` when no count is stored for the range.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// "day" or "week".
    pub by: String,
    /// One row per area over the range, lagging areas first.
    pub areas: Option<ReportView>,
    /// One row per area and day (or week), lagging areas first.
    pub periods: Option<ReportView>,
    /// Every import of published counts, newest first.
    pub imports: Vec<PublishedImport>,
}

/// Published-counts files are small (one row per day and area); a bigger file is refused unread.
const MAX_PUBLISHED_FILE: u64 = 32 * 1024 * 1024;

fn no_published_counts() -> DeskError {
    DeskError::bad_input(
        "公表数がありません。先に市区町村の公表数CSV（日付,地域,人数）を取り込んでください。",
        "No published counts yet. Import the municipalities' published counts CSV (date,area,count) first.",
    )
}

impl ReportRequest {
    fn is_input_rate(&self) -> bool {
        matches!(self.indicator.as_deref(), Some("input-rate" | "input_rate"))
    }
}

impl DeskService {
    /// Imports a published-counts CSV (`date,area,count`; UTF-8 with or
    /// without BOM, or Shift_JIS): every good row is kept in the desk (a
    /// count already stored for the same day and area is replaced), every bad
    /// row is listed by line. Areas are stored in canonical form ("東京都" → "13").
    pub fn import_published(&mut self, path: &Path) -> Result<PublishedImportSummary, DeskError> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| DeskError::io(&shown, e))?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) > MAX_PUBLISHED_FILE {
            return Err(DeskError::bad_input(
                format!("{shown} は大きすぎます（32 MiB まで）。公表数のファイル（日付,地域,人数）か確認してください。"),
                format!("{shown} is too large (32 MiB at most). Check that it is a published-counts file (date,area,count)."),
            ));
        }
        let (_, text) = todoke_exchange::decode_text(std::io::BufReader::new(file)).map_err(|e| DeskError::io(&shown, e))?;
        let (mut counts, errors) = read_published(&text);
        for c in &mut counts {
            c.area = Area::parse(&c.area).code();
        }
        let errors: Vec<todoke_exchange::RowError> = errors
            .into_iter()
            .map(|e| todoke_exchange::RowError {
                line: e.line,
                column: e.column,
                value: e.value,
                message_ja: e.message_ja,
                message_en: e.message_en,
            })
            .collect();
        let rows_read = (counts.len() + errors.len()) as u64;
        let accepted = counts.len() as u64;
        let import = if counts.is_empty() {
            None
        } else {
            let name = path.file_name().map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
            let at = self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Some(self.desk.save_published(&name, &shown, &at, rows_read, errors.len() as u64, &counts)?)
        };
        Ok(PublishedImportSummary { import, rows_read, accepted, errors })
    }

    /// Every import of published counts, newest first.
    pub fn published_imports(&self) -> Result<Vec<PublishedImport>, DeskError> {
        Ok(self.store().published_imports()?)
    }

    fn input_rate_for(&self, request: &ReportRequest) -> Result<Option<todoke_reports::InputRateReport>, DeskError> {
        let published = self.store().published_counts()?;
        if published.is_empty() {
            return Ok(None);
        }
        let opts = request.options()?;
        let rows = self.report_rows()?;
        Ok(input_rate_report(
            &rows,
            &published,
            InputRateOptions { by: opts.by.unwrap_or(Granularity::Day), week_start: opts.week_start, from: opts.from, to: opts.to },
        ))
    }

    /// 入力率 of the stored published counts against the cases on this desk,
    /// over the request's range (else the published counts' range), per day or week.
    pub fn input_rate_view(&self, request: &ReportRequest) -> Result<InputRateView, DeskError> {
        let report = self.input_rate_for(request)?;
        let by = if request.options()?.by == Some(Granularity::Week) { "week" } else { "day" };
        Ok(InputRateView {
            from: report.as_ref().map(|r| r.from),
            to: report.as_ref().map(|r| r.to),
            by: by.to_string(),
            areas: report.as_ref().map(|r| ReportView::of("input-rate-areas", &r.areas)),
            periods: report.as_ref().map(|r| ReportView::of("input-rate", &r.periods)),
            imports: self.published_imports()?,
        })
    }

    /// Why an area's entered count lags over `from..=to`: its positive cases
    /// of those days (and those with no date to count on) that were entered
    /// late, never reported, or lack a residence, then their entries on the
    /// data-quality lists (unconfirmed, missing items, inconsistent dates);
    /// for a prefecture or municipality also the cases of those days with
    /// no residence at all (counted in no area). One row per case and reason,
    /// with the case id to open it.
    pub fn input_rate_reasons(&self, area: &str, from: NaiveDate, to: NaiveDate) -> Result<ReportView, DeskError> {
        let area = Area::parse(area);
        let placed_by_residence = !matches!(area, Area::HealthCentre(_));
        let ids: Vec<uuid::Uuid> = self
            .report_rows()?
            .into_iter()
            .filter(|r| r.positive && r.positive_on.is_none_or(|d| d >= from && d <= to))
            .filter(|r| area.contains(r) || (placed_by_residence && r.prefecture == 0 && r.municipality == 0))
            .map(|r| r.id)
            .collect();
        let policy = Policy::default_rules();
        let mut checker = QualityChecker::new(Context::new(self.clock.today(), &policy), QualityOptions::default());
        let mut lag = Vec::new();
        for id in ids {
            let detail = self.open_case(id)?;
            lag.extend(lag_reasons(&detail.case));
            checker.add(&detail.case, &detail.observations);
        }
        let quality: Vec<_> = checker
            .finish()
            .into_iter()
            .filter(|i| matches!(i.list, QualityList::MissingRequired | QualityList::Unconfirmed | QualityList::InconsistentDates))
            .collect();
        Ok(ReportView::of("input-rate-reasons", &lag_table(&lag, &quality)))
    }
}
