//! Import of the open-data patient list: each good row becomes an anonymous
//! historical `Case`; each bad row is reported by its physical line.

use std::io::{BufReader, Read};

use chrono::NaiveDate;
use todoke_domain::{Address, Case, CurrentStatus, DiagnosisClass, Origin, Publication};
use uuid::Uuid;

use crate::csv_reader::{CsvReader, Record, RecordProblem, MAX_FIELD_CHARS};
use crate::decode::{self, CountingReader, DetectedEncoding};
use crate::opendata_columns::{OpenDataColumn, OpenDataLayout};
use crate::opendata_values::*;
use crate::residence::{Publisher, ResidenceCache};
use crate::ExchangeError;

/// Errors kept in the report; more are counted, not kept (memory stays flat).
pub const MAX_REPORTED_ERRORS: usize = 10_000;
/// Warnings kept in the report; more are counted.
pub const MAX_REPORTED_WARNINGS: usize = 1_000;
/// Dates before this are refused: the first cases were reported in December 2019.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2019, 12, 1) {
    Some(d) => d,
    None => unreachable!(),
};
const PROGRESS_EVERY: u64 = 10_000;
/// Values quoted in messages are cut to this many characters.
const VALUE_CHARS: usize = 100;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// The encoding the file was read in.
    pub encoding: DetectedEncoding,
    /// `Extended19` when the file had any of 確定_年月日, 患者_職業,
    /// 患者_接触歴の有無フラグ: pass it to `write_opendata` to write the same columns.
    pub layout: OpenDataLayout,
    /// The header is exactly `layout`'s standard header: exporting the
    /// imported cases gives back the same columns in the same order.
    pub standard_order: bool,
    /// Data rows read (blank lines not counted).
    pub rows_read: u64,
    /// Rows handed to `on_case`.
    pub imported: u64,
    /// Rows refused (each has at least one entry in `errors`, unless truncated).
    pub rejected: u64,
    /// One entry per refused value, in file order; at most `MAX_REPORTED_ERRORS`.
    pub errors: Vec<RowError>,
    /// Errors found in total (more than `errors.len()` when truncated).
    pub errors_total: u64,
    /// Things imported but worth knowing (unknown columns, weekday that does
    /// not match the date, undecodable bytes ...); at most `MAX_REPORTED_WARNINGS`.
    pub warnings: Vec<ImportWarning>,
    pub warnings_total: u64,
}

/// A refused row: where, what and why, in Japanese and English.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RowError {
    /// Physical line in the file where the row starts; the header is line 1.
    pub line: u64,
    /// Header name of the offending column; `None` when the row as a whole is wrong.
    pub column: Option<String>,
    /// The offending value as read (cut to 100 characters).
    pub value: String,
    pub message_ja: String,
    pub message_en: String,
}

/// Something noticed that did not stop a row from importing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportWarning {
    /// `None` for the file as a whole.
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: String,
    pub message_ja: String,
    pub message_en: String,
}

/// Passed to the progress callback every 10,000 rows and at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportProgress {
    /// Bytes of the input consumed so far (compare with the file size).
    pub bytes_read: u64,
    pub rows_read: u64,
    pub imported: u64,
}

fn cut(value: &str) -> String {
    match value.char_indices().nth(VALUE_CHARS) {
        Some((i, _)) => format!("{}…", &value[..i]),
        None => value.to_string(),
    }
}

struct Notes {
    errors: Vec<RowError>,
    errors_total: u64,
    warnings: Vec<ImportWarning>,
    warnings_total: u64,
}

impl Notes {
    fn error(&mut self, e: RowError) {
        self.errors_total += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(e);
        }
    }
    fn warn(&mut self, line: Option<u64>, column: Option<&str>, value: &str, ja: String, en: String) {
        self.warnings_total += 1;
        if self.warnings.len() < MAX_REPORTED_WARNINGS {
            self.warnings.push(ImportWarning {
                line,
                column: column.map(str::to_string),
                value: cut(value),
                message_ja: ja,
                message_en: en,
            });
        }
    }
}

/// Reads a patient list (陽性患者属性) and hands each good row to `on_case`
/// as an anonymous historical case, streaming: memory does not grow with the
/// file.
///
/// The encoding is detected: a byte-order mark means UTF-8 (or UTF-16);
/// otherwise text that is valid UTF-8 is UTF-8, anything else is read as
/// Shift_JIS (CP932). Columns are found by header name in any order; unknown
/// columns are reported once as a warning and ignored. Dates after `today`
/// are refused.
///
/// Bad rows are reported in `ImportReport::errors` by physical line and do
/// not stop the import. The import stops with an error only when the file is
/// not a patient list at all, when reading fails, or when `on_case` fails.
pub fn read_opendata<R: Read, E>(
    input: R,
    today: NaiveDate,
    mut on_case: impl FnMut(Case) -> Result<(), E>,
    mut progress: impl FnMut(&ImportProgress),
) -> Result<ImportReport, ExchangeError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (counting, bytes_read) = CountingReader::new(input);
    let (encoding, decoded) = decode::utf8_reader(counting)?;
    let mut reader = CsvReader::new(BufReader::with_capacity(64 * 1024, decoded));
    let mut rec = Record::default();
    let mut notes = Notes { errors: vec![], errors_total: 0, warnings: vec![], warnings_total: 0 };

    // Header: the first line that is not blank.
    loop {
        if !reader.read_record(&mut rec)? {
            return Err(ExchangeError::Empty);
        }
        if !rec.is_blank() {
            break;
        }
    }
    if let Some(problem) = rec.problem {
        let (reason_ja, reason_en) = match problem {
            RecordProblem::UnterminatedQuote => ("引用符（\"）が閉じられていません", "a quote (\") is never closed"),
            _ => ("長すぎます", "it is too long"),
        };
        return Err(ExchangeError::BadHeader { reason_ja, reason_en });
    }
    let header_line = rec.line;
    let names: Vec<String> = (0..rec.len()).map(|i| rec.field(i).into_owned()).collect();
    let mut index: [Option<usize>; 19] = [None; 19];
    let mut unknown = vec![];
    let mut seen_order = vec![];
    for (i, name) in names.iter().enumerate() {
        match OpenDataColumn::from_header(name) {
            Some(col) if index[col.index()].is_none() => {
                index[col.index()] = Some(i);
                seen_order.push(col);
            }
            Some(col) => notes.warn(
                Some(header_line),
                Some(col.name()),
                name,
                format!("列「{}」が2回あります。最初の列を使い、{}列目は無視します。", col.name(), i + 1),
                format!("Column \"{}\" appears twice; the first is used, column {} is ignored.", col.name(), i + 1),
            ),
            None => unknown.push(name.clone()),
        }
    }
    let required = [OpenDataColumn::PublishedOn, OpenDataColumn::AgeBand, OpenDataColumn::Sex];
    let missing: Vec<&'static str> = required.iter().filter(|c| index[c.index()].is_none()).map(|c| c.name()).collect();
    if !missing.is_empty() {
        return Err(ExchangeError::NotOpenData { missing, found: names.iter().take(50).map(|n| cut(n)).collect() });
    }
    if !unknown.is_empty() {
        let list = unknown.iter().map(|n| format!("「{}」", cut(n))).collect::<Vec<_>>().join("");
        notes.warn(
            Some(header_line),
            None,
            &unknown.join(","),
            format!("知らない列 {list} は取り込まず、無視します。"),
            format!("Unknown column(s) {list} are ignored (not imported)."),
        );
    }
    let extended = [OpenDataColumn::ConfirmedOn, OpenDataColumn::Occupation, OpenDataColumn::ContactFlag];
    let layout = if extended.iter().any(|c| index[c.index()].is_some()) { OpenDataLayout::Extended19 } else { OpenDataLayout::Base16 };
    let standard_order = unknown.is_empty() && seen_order == layout.columns() && names.len() == seen_order.len();

    let mut ctx = RowContext { index, names, today, cache: ResidenceCache::default(), warned_codes: Vec::new() };
    let mut rows_read = 0u64;
    let mut imported = 0u64;
    let mut rejected = 0u64;
    let mut blank = 0u64;
    let mut replaced_lines = 0u64;

    while reader.read_record(&mut rec)? {
        if rec.is_blank() || (rec.problem.is_none() && (0..rec.len()).all(|i| rec.field(i).trim().is_empty())) {
            blank += 1;
            continue;
        }
        rows_read += 1;
        match ctx.row(&rec, &mut notes) {
            Some(case) => {
                if (0..rec.len()).any(|i| rec.field(i).contains('\u{fffd}')) {
                    replaced_lines += 1;
                    if replaced_lines <= 20 {
                        notes.warn(
                            Some(rec.line),
                            None,
                            "",
                            "文字コードとして読めないバイトがあり、「\u{fffd}」に置き換えました。".into(),
                            "Bytes that are not valid text in the file's encoding were replaced by \"\u{fffd}\".".into(),
                        );
                    }
                }
                on_case(case).map_err(|e| ExchangeError::Sink { line: rec.line, source: e.into() })?;
                imported += 1;
            }
            None => rejected += 1,
        }
        if rows_read % PROGRESS_EVERY == 0 {
            progress(&ImportProgress { bytes_read: bytes_read.get(), rows_read, imported });
        }
    }
    if blank > 0 {
        notes.warn(None, None, "", format!("空の行 {blank} 行を読み飛ばしました。"), format!("{blank} empty row(s) skipped."));
    }
    if replaced_lines > 20 {
        notes.warn(
            None,
            None,
            "",
            format!("読めないバイトを置き換えた行は全部で {replaced_lines} 行です。"),
            format!("{replaced_lines} row(s) in all had unreadable bytes replaced."),
        );
    }
    progress(&ImportProgress { bytes_read: bytes_read.get(), rows_read, imported });
    Ok(ImportReport {
        encoding,
        layout,
        standard_order,
        rows_read,
        imported,
        rejected,
        errors: notes.errors,
        errors_total: notes.errors_total,
        warnings: notes.warnings,
        warnings_total: notes.warnings_total,
    })
}

/// A date cell as published, or empty when it is exactly what
/// `format_date` writes for `parsed` (the ISO form, or empty for no date):
/// most files need nothing kept.
fn text_unless_iso(raw: std::borrow::Cow<'_, str>, parsed: Option<NaiveDate>) -> String {
    if raw == format_date(parsed) {
        String::new()
    } else {
        raw.into_owned()
    }
}

struct RowContext {
    index: [Option<usize>; 19],
    names: Vec<String>,
    today: NaiveDate,
    cache: ResidenceCache,
    /// Publisher codes already warned about (a file has one or a few).
    warned_codes: Vec<String>,
}

impl RowContext {
    fn get<'r>(&self, rec: &'r Record, col: OpenDataColumn) -> std::borrow::Cow<'r, str> {
        match self.index[col.index()] {
            Some(i) => rec.field(i),
            None => std::borrow::Cow::Borrowed(""),
        }
    }

    /// The case of a row, or `None` with its errors noted.
    fn row(&mut self, rec: &Record, notes: &mut Notes) -> Option<Case> {
        use OpenDataColumn as C;
        let line = rec.line;
        if let Some(problem) = rec.problem {
            let (column, ja, en) = match problem {
                RecordProblem::FieldTooLong(i) => (
                    Some(self.names.get(i).cloned().unwrap_or_else(|| format!("{}列目", i + 1))),
                    format!("セルが長すぎます（{MAX_FIELD_CHARS}文字まで）。"),
                    format!("Cell is longer than {MAX_FIELD_CHARS} characters."),
                ),
                RecordProblem::TooManyFields | RecordProblem::RecordTooLong => {
                    (None, "行が長すぎます。".to_string(), "Row is too long.".to_string())
                }
                RecordProblem::UnterminatedQuote => (
                    None,
                    "引用符（\"）が閉じられていません。この行からファイルの終わりまでを1行として読みました。".to_string(),
                    "A quote (\") is never closed: everything from this line to the end of the file was read as one row.".to_string(),
                ),
            };
            let value = match problem {
                RecordProblem::FieldTooLong(i) => cut(&rec.field(i)),
                _ => cut(&rec.field(0)),
            };
            notes.error(RowError { line, column, value, message_ja: ja, message_en: en });
            return None;
        }
        if rec.field_count != self.names.len() {
            notes.error(RowError {
                line,
                column: None,
                value: cut(&(0..rec.len()).map(|i| rec.field(i)).collect::<Vec<_>>().join(",")),
                message_ja: format!("列の数が {} です（ヘッダーは {} 列）。", rec.field_count, self.names.len()),
                message_en: format!("Row has {} columns; the header has {}.", rec.field_count, self.names.len()),
            });
            return None;
        }

        let errors_before = notes.errors_total;
        let mut fail = |col: OpenDataColumn, value: &str, ja: String, en: String| {
            notes.error(RowError { line, column: Some(col.name().to_string()), value: cut(value), message_ja: ja, message_en: en });
        };
        let today = self.today;
        let date = |col: OpenDataColumn,
                    raw: &str,
                    parsed: Result<Option<NaiveDate>, ()>,
                    fail: &mut dyn FnMut(OpenDataColumn, &str, String, String)|
         -> Option<NaiveDate> {
            match parsed {
                Err(()) => {
                    fail(
                        col,
                        raw,
                        "日付として読めません（例: 2020-01-24、2020/1/24）。".into(),
                        "Not a date (expected e.g. 2020-01-24 or 2020/1/24).".into(),
                    );
                    None
                }
                Ok(Some(d)) if d > today => {
                    fail(col, raw, format!("未来の日付です（今日は {today}）。"), format!("Date is in the future (today is {today})."));
                    None
                }
                Ok(Some(d)) if d < EARLIEST_DATE => {
                    fail(col, raw, format!("{EARLIEST_DATE} より前の日付です。"), format!("Date is before {EARLIEST_DATE}."));
                    None
                }
                Ok(d) => d,
            }
        };

        let published_raw = self.get(rec, C::PublishedOn);
        let published = if published_raw.trim().is_empty() {
            fail(C::PublishedOn, "", "公表日がありません。".into(), "Publication date is missing.".into());
            None
        } else {
            date(C::PublishedOn, &published_raw, parse_date(&published_raw), &mut fail)
        };
        let onset_raw = self.get(rec, C::OnsetOn);
        let onset = date(C::OnsetOn, &onset_raw, parse_onset(&onset_raw), &mut fail);
        let confirmed_raw = self.get(rec, C::ConfirmedOn);
        let confirmed = date(C::ConfirmedOn, &confirmed_raw, parse_date(&confirmed_raw), &mut fail);
        if let (Some(o), Some(p)) = (onset, published) {
            if o > p {
                fail(
                    C::OnsetOn,
                    &onset_raw,
                    format!("発症日が公表日（{p}）より後です。"),
                    format!("Onset date is after the publication date ({p})."),
                );
            }
        }
        if let (Some(o), Some(c)) = (onset, confirmed) {
            if o > c {
                fail(
                    C::OnsetOn,
                    &onset_raw,
                    format!("発症日が確定日（{c}）より後です。"),
                    format!("Onset date is after the confirmation date ({c})."),
                );
            }
        }
        if let (Some(c), Some(p)) = (confirmed, published) {
            if c > p {
                fail(
                    C::ConfirmedOn,
                    &confirmed_raw,
                    format!("確定日が公表日（{p}）より後です。"),
                    format!("Confirmation date is after the publication date ({p})."),
                );
            }
        }

        let age_raw = self.get(rec, C::AgeBand);
        let age_band = parse_age_band(&age_raw).unwrap_or_else(|()| {
            fail(
                C::AgeBand,
                &age_raw,
                "年代として読めません（10歳未満、10代〜90代、100歳以上、不明 のいずれか）。".into(),
                "Not an age group (one of 10歳未満, 10代 to 90代, 100歳以上, 不明).".into(),
            );
            None
        });
        let sex_raw = self.get(rec, C::Sex);
        let sex = parse_sex(&sex_raw).unwrap_or_else(|()| {
            fail(
                C::Sex,
                &sex_raw,
                "性別として読めません（男性、女性、不明 のいずれか）。".into(),
                "Not a sex (one of 男性, 女性, 不明).".into(),
            );
            None
        });
        let discharged_raw = self.get(rec, C::DischargedFlag);
        let discharged = parse_discharged(&discharged_raw).unwrap_or_else(|()| {
            fail(
                C::DischargedFlag,
                &discharged_raw,
                "退院済フラグは 1、0 または空欄です。".into(),
                "The discharged flag must be 1, 0 or empty.".into(),
            );
            false
        });
        let code_raw = self.get(rec, C::LocalGovernmentCode);
        let code = parse_lgcode(&code_raw).unwrap_or_else(|()| {
            fail(
                C::LocalGovernmentCode,
                &code_raw,
                "全国地方公共団体コードは6桁の数字です。".into(),
                "The local-government code must be 6 digits.".into(),
            );
            None
        });
        if notes.errors_total > errors_before {
            return None;
        }
        let published = published?;

        let weekday_raw = self.get(rec, C::Weekday);
        let weekday = weekday_of(&weekday_raw);
        if !weekday.is_empty() && weekday != weekday_ja(published) {
            notes.warn(
                Some(line),
                Some(C::Weekday.name()),
                weekday,
                format!("曜日が公表日 {published}（{}）と合いません。公表日の曜日で書き出します。", weekday_ja(published)),
                format!(
                    "Weekday does not match the publication date {published} ({}); exports will write the date's weekday.",
                    weekday_ja(published)
                ),
            );
        }

        let prefecture_name = self.get(rec, C::PrefectureName).into_owned();
        let municipality_name = self.get(rec, C::MunicipalityName).into_owned();
        let publisher = Publisher::resolve(code.as_deref(), &prefecture_name, &municipality_name);
        if let Some(code) = &code {
            if publisher.prefecture.is_none() && !self.warned_codes.contains(code) && self.warned_codes.len() < 100 {
                self.warned_codes.push(code.clone());
                notes.warn(
                    Some(line),
                    Some(C::LocalGovernmentCode.name()),
                    code,
                    "この全国地方公共団体コードは参照データにありません（合併などで変わった可能性があります）。".into(),
                    "This local-government code is not in the reference data (it may have changed in a merger).".into(),
                );
            }
        }
        let residence = self.get(rec, C::Residence).into_owned();
        let placed = self.cache.place(&residence, publisher);
        let condition = self.get(rec, C::Condition).into_owned();

        let reported_on = confirmed.unwrap_or(published);
        let mut case = Case { id: Uuid::now_v7(), origin: Some(Origin::OpenDataImport), ..Case::default() };
        case.basic.sex = sex;
        case.basic.reported_age_band = age_band;
        case.basic.residence = Address {
            prefecture_code: placed.prefecture_code,
            municipality_code: placed.municipality_code,
            text: residence.clone(),
            ..Address::default()
        };
        let n = &mut case.notification;
        n.diagnosis_class = Some(DiagnosisClass::Confirmed);
        n.reported_class = Some(DiagnosisClass::Confirmed);
        n.onset_date = onset;
        n.diagnosis_date = Some(reported_on);
        n.report_date = Some(reported_on);
        n.submitted_on = Some(reported_on);
        n.received_on = Some(reported_on);
        case.measures.current_status = if condition.trim() == "死亡" {
            Some(CurrentStatus::Died)
        } else if discharged {
            Some(CurrentStatus::RecoveryEnded)
        } else {
            None
        };
        case.publication = Some(Publication {
            number: self.get(rec, C::No).into_owned(),
            published_on: Some(published),
            publisher_code: code_raw.into_owned(),
            prefecture_name,
            municipality_name,
            residence,
            attribute: self.get(rec, C::Attribute).into_owned(),
            condition,
            symptoms: self.get(rec, C::Symptoms).into_owned(),
            travel_flag: self.get(rec, C::TravelFlag).into_owned(),
            contact_flag: self.get(rec, C::ContactFlag).into_owned(),
            discharged_flag: discharged_raw.into_owned(),
            confirmed_on: confirmed,
            occupation: self.get(rec, C::Occupation).into_owned(),
            remarks: self.get(rec, C::Remarks).into_owned(),
            age_text: age_raw.into_owned(),
            sex_text: sex_raw.into_owned(),
            weekday: weekday_raw.into_owned(),
            published_on_text: text_unless_iso(published_raw, Some(published)),
            onset_text: text_unless_iso(onset_raw, onset),
            confirmed_on_text: text_unless_iso(confirmed_raw, confirmed),
        });
        Some(case)
    }
}
