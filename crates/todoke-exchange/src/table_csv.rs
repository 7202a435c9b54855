//! Statistics tables as spreadsheet CSV: the same writer as the case lists
//! (CRLF, UTF-8 with BOM or Shift_JIS, 〓 for characters Shift_JIS lacks),
//! every cell guarded against formulas ([`crate::guard_formula`]): counts and
//! dates never start with `=`, `+`, `-` or `@`, but a health-centre name or a
//! cluster name typed by a person may.

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
            w.field(&guard_formula(cell.as_ref()));
        }
        w.end_row()?;
        replaced += w.take_replaced().len() as u64;
    }
    w.finish()?;
    Ok(replaced)
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
}
