//! The full case list for staff (患者一覧), opened in a spreadsheet.

use std::borrow::Cow;
use std::io::Write;

use todoke_domain::{Case, Labelled};

use crate::opendata_export::{age_on, diagnosis_day, write_rows, ExportReport};
use crate::opendata_values::format_date;
use crate::{Encoding, ExchangeError};

/// Columns of the staff case list, in order.
pub const STAFF_CSV_HEADER: [&str; 22] = [
    "ID",
    "由来",
    "氏名",
    "フリガナ",
    "生年月日",
    "診断時年齢",
    "性別",
    "年代",
    "類型",
    "報告日",
    "診断日",
    "発病日",
    "現在のステータス",
    "ステータス更新日",
    "担当保健所",
    "保健所確認済",
    "保健所確認日",
    "電話",
    "居住地_都道府県",
    "居住地_市区町村",
    "居住地_住所",
    "ID管理情報",
];

/// Guards a cell against spreadsheet formula injection (CSV injection).
///
/// A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return,
/// which some spreadsheets skip before reading one of those) is run as a
/// formula when the file is opened: a name typed as `=HYPERLINK(...)` by a
/// patient or a clinic could then send data elsewhere or run a command on
/// the staff desk. Prefixing `'` makes the spreadsheet show the text as
/// text. Applied to the staff list, which staff open in Excel; not to the
/// open-data export, which must reproduce published values exactly and is
/// read by programs.
pub fn guard_formula(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Writes the staff case list: one row per case (soft-deleted cases left
/// out), header in Japanese, coded values as their Japanese labels, dates as
/// `YYYY-MM-DD`, CRLF line ends, every cell guarded by `guard_formula`.
///
/// This writes personal data: the caller records the export in the audit log.
pub fn write_cases_csv<W: Write>(out: W, encoding: Encoding, cases: impl IntoIterator<Item = Case>) -> Result<ExportReport, ExchangeError> {
    write_rows(out, encoding, &STAFF_CSV_HEADER, cases, |case, _row, cells| {
        let b = &case.basic;
        let n = &case.notification;
        let age = b.birth_date.zip(diagnosis_day(case)).and_then(|(birth, on)| age_on(birth, on));
        let band = age.map(todoke_domain::AgeBand::of_age).or(b.reported_age_band);
        let address = if b.residence.is_empty() { &b.registered_address } else { &b.residence };
        let municipality = todoke_refdata::municipality_by_lgcode(&address.municipality_code);
        let prefecture = todoke_refdata::prefecture_by_lgcode(&address.prefecture_code)
            .or_else(|| municipality.and_then(|m| todoke_refdata::prefecture(m.prefecture_number)));
        let row = [
            case.id.to_string(),
            ja(case.origin),
            b.name.clone(),
            b.name_kana.clone(),
            format_date(b.birth_date),
            age.map(|a| a.to_string()).unwrap_or_default(),
            ja(b.sex),
            ja(band),
            ja(n.diagnosis_class),
            format_date(n.report_date),
            format_date(n.diagnosis_date),
            format_date(n.onset_date),
            ja(case.measures.current_status),
            format_date(case.measures.status_updated_on),
            case.jurisdiction.responsible_health_centre.clone(),
            if n.health_centre_confirmation.is_some() { "済" } else { "" }.to_string(),
            format_date(n.health_centre_confirmation.as_ref().map(|c| c.on)),
            if b.phone.is_empty() { address.phone.clone() } else { b.phone.clone() },
            prefecture.map(|p| p.name).unwrap_or("").to_string(),
            municipality.map(|m| m.name).unwrap_or("").to_string(),
            address.text.clone(),
            b.id_management_note.clone(),
        ];
        for cell in row {
            cells.push(match guard_formula(&cell) {
                Cow::Borrowed(_) => cell,
                Cow::Owned(guarded) => guarded,
            });
        }
    })
}

fn ja<T: Labelled>(value: Option<T>) -> String {
    value.map(|v| v.ja()).unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards() {
        for (cell, want) in [
            ("=1+1", "'=1+1"),
            ("+81 90-1234-5678", "'+81 90-1234-5678"),
            ("-", "'-"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=cmd", "'\t=cmd"),
            ("山田 太郎", "山田 太郎"),
            ("090-1234-5678", "090-1234-5678"),
            ("", ""),
            ("＝全角", "＝全角"),
        ] {
            assert_eq!(guard_formula(cell), want, "{cell:?}");
        }
    }
}
