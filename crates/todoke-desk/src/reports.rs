//! Statistics on the desk (DOMAIN.md §5): the standard indicators, the input
//! rate and the data-quality lists, computed by `todoke_reports` from the
//! report rows the store keeps beside each case (`case_stat`), so no case
//! document is parsed for an indicator.

use std::path::Path;
use todoke_domain::policy::Policy;
use todoke_domain::validate::Context;

use todoke_reports::{
    compute, compute_all, input_rate, open_data_wide, quality_table, Granularity, HeaderLang, Indicator, OpenDataFile, PublishedCount,
    QualityChecker, QualityOptions, ReportOptions, ReportRow, Table,
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
