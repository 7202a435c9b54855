//! A million rows through both directions with memory watched (B8).
//!
//! Ignored by default (a timing belongs to the benchmark, not the test run);
//! run by hand in release:
//! `cargo test --release -p todoke-exchange --test scale -- --ignored --nocapture`.
//! Each check runs in this process; run one at a time (`--test-threads=1`)
//! so that the peak-memory figures are its own.

mod common;

use std::io::{self, Read};
use std::time::Instant;

use chrono::NaiveDate;
use todoke_domain::*;
use todoke_exchange::{read_opendata, write_cases_csv, write_opendata, Encoding};
use uuid::Uuid;

const N: u64 = 1_000_000;

/// Resident memory now and at its peak, in MiB (Linux).
fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn case(i: u64) -> Case {
    let day = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap() + chrono::Days::new(i % 300);
    let mut c = Case { id: Uuid::now_v7(), origin: Some(Origin::Entered), ..Case::default() };
    c.basic.name = format!("山田 太郎{i}");
    c.basic.name_kana = "ヤマダ タロウ".into();
    c.basic.birth_date = NaiveDate::from_ymd_opt(1950 + (i % 70) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32);
    c.basic.sex = Some(if i % 2 == 0 { Sex::Male } else { Sex::Female });
    c.basic.phone = "090-1234-5678".into();
    c.basic.residence = Address {
        prefecture_code: "13".into(),
        municipality_code: "131121".into(),
        text: if i % 1000 == 0 { "世田谷区𠮷野1-2-3".into() } else { "世田谷区太子堂1-2-3".into() },
        ..Address::default()
    };
    c.notification.diagnosis_class = Some(DiagnosisClass::Confirmed);
    c.notification.diagnosis_date = Some(day);
    c.notification.report_date = Some(day);
    c.notification.onset_date = Some(day - chrono::Days::new(2));
    c.measures.current_status = Some(CurrentStatus::HomeRecovery);
    c.jurisdiction.responsible_health_centre = "HC-131121".into();
    c
}

struct Counter(u64);
impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
#[ignore = "a million rows: run by hand in release"]
fn exports_a_million_cases_in_flat_memory() {
    for (what, encoding) in [("opendata utf8", Encoding::Utf8Bom), ("opendata sjis", Encoding::ShiftJis)] {
        let (before, _) = memory_mib();
        let start = Instant::now();
        let mut out = Counter(0);
        let report = write_opendata(&mut out, encoding, (0..N).map(case)).unwrap();
        let (after, peak) = memory_mib();
        println!(
            "{what}: {N} rows, {} MB, {:.2} s, rss {before}→{after} MiB, peak {peak} MiB",
            out.0 / 1_000_000,
            start.elapsed().as_secs_f64()
        );
        assert_eq!(report.cases, N);
        assert!(after < before + 64, "memory grew: {before} → {after} MiB");
    }
    for (what, encoding) in [("staff utf8", Encoding::Utf8Bom), ("staff sjis", Encoding::ShiftJis)] {
        let (before, _) = memory_mib();
        let start = Instant::now();
        let mut out = Counter(0);
        let report = write_cases_csv(&mut out, encoding, (0..N).map(case)).unwrap();
        let (after, peak) = memory_mib();
        println!(
            "{what}: {N} rows, {} MB, {:.2} s, rss {before}→{after} MiB, peak {peak} MiB, {} cells with 〓",
            out.0 / 1_000_000,
            start.elapsed().as_secs_f64(),
            report.unmappable_total
        );
        assert_eq!(report.cases, N);
        if encoding == Encoding::ShiftJis {
            assert_eq!(report.unmappable_total, N / 1000);
        }
        assert!(after < before + 64, "memory grew: {before} → {after} MiB");
    }
}

/// A Shift_JIS patient list of `rows` rows, generated as it is read.
struct GeneratedFile {
    rows: u64,
    next: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for GeneratedFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.next > self.rows {
                return Ok(0);
            }
            let text = if self.next == 0 {
                "No,全国地方公共団体コード,都道府県名,市区町村名,公表_年月日,曜日,発症_年月日,患者_居住地,患者_年代,患者_性別,患者_属性,患者_状態,患者_症状,患者_渡航歴の有無フラグ,備考,退院済フラグ\r\n".to_string()
            } else {
                let i = self.next;
                let bad = i % 100_000 == 0;
                format!(
                    "{i},130001,東京都,,2021-0{}-1{},{},,世田谷区,{}0代,{},会社員,,,,,1\r\n",
                    1 + i % 9,
                    i % 10,
                    "",
                    if bad { "十" } else { ["1", "2", "3", "4"][(i % 4) as usize] },
                    if i % 2 == 0 { "男性" } else { "女性" }
                )
            };
            self.buf = encoding_rs::SHIFT_JIS.encode(&text).0.into_owned();
            self.pos = 0;
            self.next += 1;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
#[ignore = "a million rows: run by hand in release"]
fn imports_a_million_rows_in_flat_memory() {
    let (before, _) = memory_mib();
    let start = Instant::now();
    let mut count = 0u64;
    let report = read_opendata(
        GeneratedFile { rows: N, next: 0, buf: vec![], pos: 0 },
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        |c| {
            count += 1;
            std::hint::black_box(c);
            Ok::<(), std::convert::Infallible>(())
        },
        |_| {},
    )
    .unwrap();
    let (after, peak) = memory_mib();
    println!("import sjis: {N} rows, {:.2} s, rss {before}→{after} MiB, peak {peak} MiB", start.elapsed().as_secs_f64());
    assert_eq!(report.rows_read, N);
    assert_eq!(report.rejected, N / 100_000);
    assert_eq!(count, N - N / 100_000);
    assert!(after < before + 64, "memory grew: {before} → {after} MiB");
}
