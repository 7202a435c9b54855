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
    compute, compute_all, input_rate, open_data_wide, quality_table, Area, Cell, Granularity, HeaderLang, Indicator, OpenDataFile,
    PublishedCount, QualityChecker, QualityOptions, ReportOptions, ReportRow, Table,
};

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
    pub fn export_report(&self, path: &Path, request: &ReportRequest, encoding: ExportEncoding, english: bool) -> Result<u64, DeskError> {
        let tables = self.indicators(request.indicator()?, &request.options()?)?;
        let table = tables.first().ok_or_else(|| DeskError::bad_input("集計を1つ選んでください。", "Choose one report."))?;
        if tables.len() > 1 {
            return Err(DeskError::bad_input("書き出す集計を1つ選んでください。", "Choose one report to export."));
        }
        write_table(path, table, encoding, if english { HeaderLang::En } else { HeaderLang::Ja })
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
