//! Statistics tables as spreadsheet CSV: the same writer as the case lists
//! (CRLF, UTF-8 with BOM or Shift_JIS, 〓 for characters Shift_JIS lacks),
//! every cell guarded against formulas ([`crate::guard_formula`]): counts and
//! dates never start with `=`, `+` or `@`, but a health-centre name or a
//! cluster name typed by a person may. A plain negative number (a difference
//! column: `-3`, `-0.5`) is a value, not a formula, and stays a number.

use std::io::Write;

use crate::csv_writer::CsvWriter;
use crate::{guard_formula, Encoding, ExchangeError};

/// Writes `rows` (the first is the header); returns how many cells lost a
/// character to 〓 (Shift_JIS only).
pub fn write_table_csv<W: Write, R: AsRef<str>>(
    out: W,
    encoding: Encoding,
    rows: impl IntoIterator<Item = impl IntoIterator<Item = R>>,
) -> Result<u64, ExchangeError> {
    let mut w = CsvWriter::new(out, encoding)?;
    let mut replaced = 0u64;
    for row in rows {
        for cell in row {
            let cell = cell.as_ref();
            if is_negative_number(cell) {
                w.field(cell);
            } else {
                w.field(&guard_formula(cell));
            }
        }
        w.end_row()?;
        replaced += w.take_replaced().len() as u64;
    }
    w.finish()?;
    Ok(replaced)
}

/// `-` then digits, with at most one `.` between digits.
fn is_negative_number(cell: &str) -> bool {
    let Some(rest) = cell.strip_prefix('-') else { return false };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, "1"));
    !int.is_empty() && !frac.is_empty() && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_crlf_csv_with_bom_or_shift_jis_and_guarded() {
        let rows = [vec!["日付", "保健所", "件数"], vec!["2022-08-19", "=HYPERLINK(\"x\")", "5"], vec!["2022-08-20", "𠮷野, 北", "0"]];
        let mut utf8 = Vec::new();
        assert_eq!(write_table_csv(&mut utf8, Encoding::Utf8Bom, rows.clone()).unwrap(), 0);
        let expected = "\u{feff}日付,保健所,件数\r\n2022-08-19,\"'=HYPERLINK(\"\"x\"\")\",5\r\n2022-08-20,\"𠮷野, 北\",0\r\n";
        assert_eq!(String::from_utf8(utf8).unwrap(), expected);
        let mut sjis = Vec::new();
        assert_eq!(write_table_csv(&mut sjis, Encoding::ShiftJis, rows).unwrap(), 1, "𠮷 is not in CP932");
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&sjis);
        assert!(!bad);
        assert_eq!(text, expected.trim_start_matches('\u{feff}').replace('𠮷', "〓"));
    }

    #[test]
    fn negative_numbers_stay_numbers_but_formulas_starting_with_minus_do_not() {
        let rows = [vec!["-3", "-0.5", "-1+1", "-", "-.5", "-2-1", "-A1"]];
        let mut out = Vec::new();
        write_table_csv(&mut out, Encoding::Utf8Bom, rows).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\u{feff}-3,-0.5,'-1+1,'-,'-.5,'-2-1,'-A1\r\n");
    }
}
