#![allow(dead_code)]

use chrono::NaiveDate;
use todoke_domain::Case;
use todoke_exchange::{read_opendata, ImportReport};
use uuid::Uuid;

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Imports everything, collecting the cases.
pub fn import(bytes: &[u8]) -> (Vec<Case>, ImportReport) {
    let mut cases = vec![];
    let report = read_opendata(
        bytes,
        today(),
        |c| {
            cases.push(c);
            Ok::<(), std::convert::Infallible>(())
        },
        |_| {},
    )
    .expect("import");
    (cases, report)
}

/// The cases with their generated ids removed, for comparing two imports.
pub fn without_ids(cases: &[Case]) -> Vec<Case> {
    cases.iter().cloned().map(|c| Case { id: Uuid::nil(), ..c }).collect()
}

pub fn lines_of(report: &ImportReport) -> Vec<u64> {
    let mut lines: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
    lines.dedup();
    lines
}
