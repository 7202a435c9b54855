//! Bad input: bad rows are reported by line and skipped; files that are not
//! patient lists fail cleanly; nothing panics.

mod common;

use common::*;
use todoke_exchange::{read_opendata, ExchangeError, ImportReport};

fn try_import(bytes: &[u8]) -> Result<(usize, ImportReport), ExchangeError> {
    let mut n = 0;
    let report = read_opendata(
        bytes,
        today(),
        |_| {
            n += 1;
            Ok::<(), std::convert::Infallible>(())
        },
        |_| {},
    )?;
    Ok((n, report))
}

const HEADER: &str = "No,全国地方公共団体コード,都道府県名,市区町村名,公表_年月日,曜日,発症_年月日,患者_居住地,患者_年代,患者_性別,患者_属性,患者_状態,患者_症状,患者_渡航歴の有無フラグ,備考,退院済フラグ";

fn one_row(row: &str) -> ImportReport {
    let (_, report) = try_import(format!("{HEADER}\r\n{row}\r\n").as_bytes()).unwrap();
    report
}

#[test]
fn bad_rows_are_reported_by_physical_line_and_good_rows_import() {
    let (cases, report) = import(&fixture("bad_rows.csv"));
    assert_eq!(lines_of(&report), vec![5, 9, 12], "{:#?}", report.errors);
    assert_eq!(report.errors.len(), 3);
    assert_eq!((report.rows_read, report.imported, report.rejected), (12, 9, 3));
    assert_eq!(cases.len(), 9);
    // The row spanning lines 2-3 imported with its line break.
    assert_eq!(cases[0].publication.as_ref().unwrap().remarks, "1行目\r\n2行目");

    let date = &report.errors[0];
    assert_eq!(date.column.as_deref(), Some("公表_年月日"));
    assert_eq!(date.value, "2020/02/30");
    assert!(date.message_ja.contains("日付"), "{}", date.message_ja);
    assert!(date.message_en.contains("Not a date"), "{}", date.message_en);

    let age = &report.errors[1];
    assert_eq!(age.column.as_deref(), Some("患者_年代"));
    assert_eq!(age.value, "二十代");
    assert!(age.message_ja.contains("年代"));
    assert!(age.message_en.contains("age group"));

    let columns = &report.errors[2];
    assert_eq!(columns.column, None);
    assert!(columns.message_ja.contains("15") && columns.message_ja.contains("16"), "{}", columns.message_ja);
    assert!(columns.message_en.contains("15 columns"), "{}", columns.message_en);
}

#[test]
fn every_rule_names_its_column() {
    let cases = [
        ("1,130001,東京都,,2030-01-01,火,,都内,20代,男性,,,,,,", "公表_年月日", "future"),
        ("1,130001,東京都,,2019-01-01,火,,都内,20代,男性,,,,,,", "公表_年月日", "before 2019-12-01"),
        ("1,130001,東京都,,,,,都内,20代,男性,,,,,,", "公表_年月日", "missing"),
        ("1,130001,東京都,,2020-04-01,水,2020-04-02,都内,20代,男性,,,,,,", "発症_年月日", "after the publication"),
        ("1,130001,東京都,,2020-04-01,水,2020/13/01,都内,20代,男性,,,,,,", "発症_年月日", "Not a date"),
        ("1,130001,東京都,,2020-04-01,水,,都内,20代,M,,,,,,", "患者_性別", "Not a sex"),
        ("1,130001,東京都,,2020-04-01,水,,都内,20代,男性,,,,,,2", "退院済フラグ", "1, 0 or empty"),
        ("1,TOKYO,東京都,,2020-04-01,水,,都内,20代,男性,,,,,,", "全国地方公共団体コード", "6 digits"),
    ];
    for (row, column, en) in cases {
        let report = one_row(row);
        assert_eq!(report.imported, 0, "{row}");
        assert_eq!(report.errors.len(), 1, "{row}: {:?}", report.errors);
        let e = &report.errors[0];
        assert_eq!((e.line, e.column.as_deref()), (2, Some(column)), "{row}");
        assert!(e.message_en.contains(en), "{row}: {}", e.message_en);
        assert!(!e.message_ja.is_empty() && !e.message_ja.is_ascii());
    }
}

#[test]
fn all_errors_of_a_row_are_listed() {
    let report = one_row("1,130001,東京都,,2020-04-01,水,2020-04-09,都内,二十代,M,,,,,,x");
    let columns: Vec<_> = report.errors.iter().map(|e| e.column.clone().unwrap()).collect();
    assert_eq!(columns, ["発症_年月日", "患者_年代", "患者_性別", "退院済フラグ"]);
    assert_eq!(report.rejected, 1);
}

#[test]
fn onset_after_confirmation_is_refused() {
    let header = "No,公表_年月日,発症_年月日,確定_年月日,患者_年代,患者_性別";
    let (_, report) =
        try_import(format!("{header}\n1,2020-04-05,2020-04-04,2020-04-03,20代,男性\n2,2020-04-05,,2020-04-06,20代,男性\n").as_bytes())
            .unwrap();
    assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
    assert_eq!(report.errors[0].column.as_deref(), Some("発症_年月日"));
    assert!(report.errors[0].message_en.contains("confirmation"));
    assert_eq!((report.errors[1].line, report.errors[1].column.as_deref()), (3, Some("確定_年月日")));
}

#[test]
fn not_a_patient_list() {
    for input in [
        "名前,住所\n山田,東京\n".as_bytes().to_vec(),
        b"a,b,c\n1,2,3\n".to_vec(),
        encoding_rs::SHIFT_JIS.encode("検査日,件数\n2020-01-01,3\n").0.into_owned(),
    ] {
        match try_import(&input) {
            Err(e @ ExchangeError::NotOpenData { .. }) => {
                assert_eq!(e.code(), "not_open_data");
                assert!(e.message_ja().contains("公表_年月日"), "{}", e.message_ja());
                assert!(e.message_en().contains("missing column"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn empty_inputs() {
    for input in ["", "\u{feff}", "\r\n\r\n", "\n"] {
        match try_import(input.as_bytes()) {
            Err(e @ ExchangeError::Empty) => assert_eq!(e.code(), "empty_file"),
            other => panic!("{input:?}: {other:?}"),
        }
    }
    let (n, report) = try_import(format!("{HEADER}\r\n").as_bytes()).unwrap();
    assert_eq!((n, report.rows_read), (0, 0));
    // Blank and comma-only lines are skipped, with one warning.
    let report = one_row(",,,,,,,,,,,,,,,\r\n\r\n1,130001,東京都,,2020-04-01,水,,都内,20代,男性,,,,,,");
    assert_eq!((report.rows_read, report.imported), (1, 1));
    assert_eq!(report.warnings.len(), 1);
    assert!(report.warnings[0].message_en.contains("2 empty row"));
}

#[test]
fn random_bytes_never_panic() {
    // A small xorshift: deterministic, no dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let header = HEADER.as_bytes();
    for round in 0..300 {
        let len = (next() % 4000) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 3 == 0 {
            // Random rows under a real header: must import or report, per row.
            let mut with_header = header.to_vec();
            with_header.extend_from_slice(b"\r\n");
            for b in bytes.iter_mut() {
                // Bias towards CSV structure.
                *b = match *b % 8 {
                    0 => b',',
                    1 => b'\n',
                    2 => b'"',
                    _ => *b,
                };
            }
            with_header.extend_from_slice(&bytes);
            bytes = with_header;
        }
        match try_import(&bytes) {
            Ok((n, report)) => {
                assert_eq!(n as u64, report.imported);
                assert_eq!(report.imported + report.rejected, report.rows_read);
                for e in &report.errors {
                    assert!(e.line >= 2 && !e.message_ja.is_empty() && !e.message_en.is_empty());
                }
            }
            Err(e) => assert!(matches!(e.code(), "not_open_data" | "empty_file" | "bad_header"), "{e:?}"),
        }
    }
}

#[test]
fn ten_megabyte_field_is_refused_cleanly() {
    let big = "あ".repeat(10 * 1024 * 1024 / 3);
    let good = "2,130001,東京都,,2020-04-01,水,,都内,20代,男性,,,,,,";
    let input = format!("{HEADER}\r\n1,130001,東京都,,2020-04-01,水,,都内,20代,男性,,,,,{big},\r\n{good}\r\n");
    let (n, report) = try_import(input.as_bytes()).unwrap();
    assert_eq!((n, report.rejected), (1, 1));
    let e = &report.errors[0];
    assert_eq!((e.line, e.column.as_deref()), (2, Some("備考")));
    assert!(e.message_en.contains("32767"), "{}", e.message_en);
    assert!(e.value.chars().count() <= 101);

    // The same field quoted and never closed: one error, the rest swallowed.
    let input = format!("{HEADER}\r\n{good}\r\n1,130001,東京都,,2020-04-01,水,,都内,20代,男性,,,,,\"{big}\r\n{good}\r\n");
    let (n, report) = try_import(input.as_bytes()).unwrap();
    assert_eq!(n, 1);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 3);

    // A 10 MB header line.
    let input = format!("No,{big}\r\n");
    match try_import(input.as_bytes()) {
        Err(e @ ExchangeError::BadHeader { .. }) => assert!(e.message_en().contains("too long")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failing_receiver_stops_the_import_with_its_line() {
    let mut seen = 0;
    let result = read_opendata(
        &fixture("tokyo_patients_30.csv")[..],
        today(),
        |_| {
            seen += 1;
            if seen == 3 {
                Err(std::io::Error::other("disk full"))
            } else {
                Ok(())
            }
        },
        |_| {},
    );
    match result {
        Err(e @ ExchangeError::Sink { line: 4, .. }) => {
            assert_eq!(e.code(), "sink");
            assert!(e.message_en().contains("disk full"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unreadable_bytes_are_replaced_with_a_warning() {
    // Valid UTF-8 for more than the part that decides the encoding, then a
    // row with bytes that are not UTF-8.
    let row = "1,130001,東京都,,2020-04-01,水,,都内,20代,男性,,,,,";
    let mut input = format!("{HEADER}\r\n");
    for _ in 0..2000 {
        input.push_str(row);
        input.push_str(",\r\n");
    }
    let mut input = input.into_bytes();
    input.extend_from_slice(row.as_bytes());
    input.extend_from_slice(b"\xff\xfe,\r\n");
    let (n, report) = try_import(&input).unwrap();
    assert_eq!(report.encoding, todoke_exchange::DetectedEncoding::Utf8);
    assert_eq!(n, 2001);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert_eq!(report.warnings[0].line, Some(2002));
    // A small file with the same bytes is read as Shift_JIS as a whole.
    let small = [format!("{HEADER}\r\n{row}").as_bytes(), b"\xff\xfe,\r\n"].concat();
    assert!(matches!(try_import(&small), Err(ExchangeError::NotOpenData { .. })));
}

#[test]
fn error_lists_are_capped() {
    let mut input = format!("{HEADER}\r\n");
    let rows = todoke_exchange::MAX_REPORTED_ERRORS + 50;
    for i in 0..rows {
        input.push_str(&format!("{i},130001,東京都,,2020-04-01,水,,都内,二十代,男性,,,,,,\r\n"));
    }
    let (n, report) = try_import(input.as_bytes()).unwrap();
    assert_eq!(n, 0);
    assert_eq!(report.errors.len(), todoke_exchange::MAX_REPORTED_ERRORS);
    assert_eq!(report.errors_total, rows as u64);
    assert_eq!(report.rejected, rows as u64);
    assert_eq!(report.errors.last().unwrap().line, todoke_exchange::MAX_REPORTED_ERRORS as u64 + 1);
}
