//! Export of cases as the open-data patient list, streaming.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use todoke_domain::{AgeBand, Case, CurrentStatus, Labelled, Origin, Sex, YesNoUnknown};
use uuid::Uuid;

use crate::csv_writer::CsvWriter;
use crate::opendata_columns::OpenDataLayout;
use crate::opendata_values::*;
use crate::{Encoding, ExchangeError};

/// Replaced cells kept in the report; more are counted.
pub const MAX_REPORTED_UNMAPPABLE: usize = 10_000;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportReport {
    /// Cases written, one data row each (the header not counted).
    pub cases: u64,
    /// Soft-deleted cases passed in and left out.
    pub skipped_deleted: u64,
    /// Open-data export only: cases passed in that are not positives
    /// (suspected patients, close contacts, no class yet) and were left out.
    pub skipped_not_positive: u64,
    /// Cells in which a character that Shift_JIS cannot hold (𠮷, emoji …)
    /// was written as 〓; at most `MAX_REPORTED_UNMAPPABLE`.
    pub unmappable: Vec<Unmappable>,
    /// Such cells in total.
    pub unmappable_total: u64,
}

/// A cell that lost a character in a Shift_JIS export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Unmappable {
    /// Data row, 1 = the first row after the header.
    pub row: u64,
    /// Header name of the column.
    pub column: &'static str,
    pub case_id: Uuid,
}

/// Runs the row loop shared by both exports.
pub(crate) fn write_rows<W: Write>(
    out: W,
    encoding: Encoding,
    header: &[&'static str],
    cases: impl IntoIterator<Item = Case>,
    mut row: impl FnMut(&Case, u64, &mut Vec<String>),
) -> Result<ExportReport, ExchangeError> {
    let mut w = CsvWriter::new(out, encoding)?;
    for name in header {
        w.field(name);
    }
    w.end_row()?;
    let mut report = ExportReport::default();
    let mut cells: Vec<String> = Vec::with_capacity(header.len());
    for case in cases {
        if case.deleted.is_some() {
            report.skipped_deleted += 1;
            continue;
        }
        report.cases += 1;
        cells.clear();
        row(&case, report.cases, &mut cells);
        debug_assert_eq!(cells.len(), header.len());
        for cell in &cells {
            w.field(cell);
        }
        w.end_row()?;
        for column in w.take_replaced() {
            report.unmappable_total += 1;
            if report.unmappable.len() < MAX_REPORTED_UNMAPPABLE {
                report.unmappable.push(Unmappable { row: report.cases, column: header[column], case_id: case.id });
            }
        }
    }
    w.finish()?;
    Ok(report)
}

/// Writes cases as the open-data patient list (陽性患者属性) with all 19
/// columns (`OpenDataLayout::Extended19`), so that nothing imported is
/// dropped. To give back a 16-column file as it was imported, use
/// `write_opendata_layout` with the layout the `ImportReport` names.
pub fn write_opendata<W: Write>(out: W, encoding: Encoding, cases: impl IntoIterator<Item = Case>) -> Result<ExportReport, ExchangeError> {
    write_opendata_layout(out, encoding, OpenDataLayout::Extended19, cases)
}

/// Writes cases as the open-data patient list (陽性患者属性) in `layout`'s
/// columns, standard order, CRLF line ends. `write_opendata` is this with
/// `OpenDataLayout::Extended19`.
///
/// Imported cases (`Origin::OpenDataImport` with a `Publication`) are written
/// from what was imported, so a file in the standard column order exports
/// byte for byte as it was read, in whichever accepted spellings it used.
/// Where the case has a structured value the structured value wins
/// (年代, 性別, 発症日, 居住地 text), so later corrections show: the
/// published spelling of 年代, 性別, 曜日 and the dates
/// (`Publication::age_text`, `sex_text`, `weekday`, `published_on_text`,
/// `onset_text`, `confirmed_on_text`) is written only while it still reads
/// as the case's current value (曜日: the weekday of 公表_年月日); once the
/// value was edited to something else, or when no spelling was kept, the
/// value is written in the standard spelling. The 退院済フラグ follows the
/// current status when that changed.
///
/// Other cases are written from their record: No = running row number,
/// 公表 = report date, 年代 from the age at diagnosis, 居住地 = residence
/// municipality name. Occupation, attribute, symptoms and remarks are left
/// empty for them: publication of such details is a decision of the
/// publisher (感染症法 art. 16), not a default.
///
/// Only positives are written (類型 確定例, 無症状病原体保有者, 感染症死亡者の
/// 死体: `DiagnosisClass::is_positive`): the list is of 陽性患者, and a
/// suspected patient or a close contact must not be published as one even
/// if the caller's selection let it through. Soft-deleted cases are left out
/// too. Both are counted in the report.
pub fn write_opendata_layout<W: Write>(
    out: W,
    encoding: Encoding,
    layout: OpenDataLayout,
    cases: impl IntoIterator<Item = Case>,
) -> Result<ExportReport, ExchangeError> {
    let columns = layout.columns();
    let header = layout.header();
    let not_positive = std::cell::Cell::new(0u64);
    let positives = cases.into_iter().filter(|c| {
        let keep = c.deleted.is_some() || c.notification.diagnosis_class.is_some_and(|d| d.is_positive());
        if !keep {
            not_positive.set(not_positive.get() + 1);
        }
        keep
    });
    let mut report = write_rows(out, encoding, &header, positives, |case, row, cells| {
        let mut values = match (&case.publication, case.origin) {
            (Some(_), Some(Origin::OpenDataImport)) => imported_values(case),
            _ => entered_values(case, row),
        };
        for c in columns {
            cells.push(std::mem::take(&mut values[c.index()]));
        }
    })?;
    report.skipped_not_positive = not_positive.get();
    Ok(report)
}

fn ended(status: Option<CurrentStatus>) -> bool {
    matches!(status, Some(CurrentStatus::RecoveryEnded))
}

fn imported_values(case: &Case) -> [String; 19] {
    let p = case.publication.as_ref().expect("checked by caller");
    let status = case.measures.current_status;
    // The flag as published, unless the status has changed since.
    let flag_says_ended = parse_discharged(&p.discharged_flag).unwrap_or(false);
    let discharged = if flag_says_ended == ended(status) || status == Some(CurrentStatus::Died) {
        p.discharged_flag.clone()
    } else if ended(status) {
        "1".to_string()
    } else {
        String::new()
    };
    let residence = if case.basic.residence.text.is_empty() { p.residence.clone() } else { case.basic.residence.text.clone() };
    // The published spelling while it still says what the case says now
    // (`published_or`), else the current value in the standard spelling.
    let onset = case.notification.onset_date;
    let band = case.basic.reported_age_band.or_else(|| band_at_diagnosis(case));
    let weekday = p.published_on.map(weekday_ja);
    [
        p.number.clone(),
        p.publisher_code.clone(),
        p.prefecture_name.clone(),
        p.municipality_name.clone(),
        published_or(&p.published_on_text, parse_date, p.published_on, || format_date(p.published_on)),
        published_or(&p.weekday, |t| Ok(weekday == Some(weekday_of(t))), true, || weekday.unwrap_or("").to_string()),
        published_or(&p.onset_text, parse_onset, onset, || format_date(onset)),
        residence,
        published_or(&p.age_text, parse_age_band, band, || format_age_band(band).to_string()),
        published_or(&p.sex_text, parse_sex, case.basic.sex, || format_sex(case.basic.sex).to_string()),
        p.attribute.clone(),
        p.condition.clone(),
        p.symptoms.clone(),
        p.travel_flag.clone(),
        p.remarks.clone(),
        discharged,
        published_or(&p.confirmed_on_text, parse_date, p.confirmed_on, || format_date(p.confirmed_on)),
        p.occupation.clone(),
        p.contact_flag.clone(),
    ]
}

/// Whole years from `birth` to `on`.
pub(crate) fn age_on(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// The day age is counted at: diagnosis, else report.
pub(crate) fn diagnosis_day(case: &Case) -> Option<NaiveDate> {
    let n = &case.notification;
    n.diagnosis_date.or(n.report_date)
}

fn band_at_diagnosis(case: &Case) -> Option<AgeBand> {
    let birth = case.basic.birth_date?;
    age_on(birth, diagnosis_day(case)?).map(AgeBand::of_age)
}

fn entered_values(case: &Case, row: u64) -> [String; 19] {
    let n = &case.notification;
    let published = n.report_date.or(n.diagnosis_date);
    let address = if case.basic.residence.is_empty() { &case.basic.registered_address } else { &case.basic.residence };
    let municipality = todoke_refdata::municipality_by_lgcode(&address.municipality_code);
    let prefecture = todoke_refdata::prefecture_by_lgcode(&address.prefecture_code)
        .or_else(|| municipality.and_then(|m| todoke_refdata::prefecture(m.prefecture_number)));
    let residence = match (municipality, prefecture) {
        (Some(m), _) => m.name.to_string(),
        (None, Some(p)) => p.name.to_string(),
        (None, None) => String::new(),
    };
    let band = band_at_diagnosis(case).or(case.basic.reported_age_band).unwrap_or(AgeBand::Unknown);
    let sex = match case.basic.sex {
        None => "",
        Some(Sex::OtherOrUnknown) => "不明",
        s => format_sex(s),
    };
    let condition = match case.measures.current_status {
        Some(CurrentStatus::Died) => "死亡",
        Some(CurrentStatus::HospitalisedSevere) => "重症",
        _ => n.severity.map(|s| s.ja()).unwrap_or(""),
    };
    let travel = match (&n.infection_region.abroad, &n.infection_region.domestic) {
        (Some(_), _) => "1",
        (None, Some(_)) => "0",
        _ => "",
    };
    let contact = match n.infection_link {
        Some(YesNoUnknown::Yes) => "1",
        Some(YesNoUnknown::No) => "0",
        _ => "",
    };
    [
        row.to_string(),
        prefecture.map(|p| p.lgcode).unwrap_or("").to_string(),
        prefecture.map(|p| p.name).unwrap_or("").to_string(),
        String::new(),
        format_date(published),
        published.map(weekday_ja).unwrap_or("").to_string(),
        format_date(n.onset_date),
        residence,
        format_age_band(Some(band)).to_string(),
        sex.to_string(),
        String::new(),
        condition.to_string(),
        String::new(),
        travel.to_string(),
        String::new(),
        if ended(case.measures.current_status) { "1" } else { "" }.to_string(),
        format_date(n.diagnosis_date),
        String::new(),
        contact.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(age_on(d(1980, 5, 10), d(2020, 5, 9)), Some(39));
        assert_eq!(age_on(d(1980, 5, 10), d(2020, 5, 10)), Some(40));
        assert_eq!(age_on(d(2021, 1, 1), d(2020, 1, 1)), None);
        assert_eq!(crate::OpenDataColumn::ALL.len(), 19);
    }
}
