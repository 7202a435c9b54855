//! Opens our Shift_JIS export in a real spreadsheet (LibreOffice Calc,
//! headless) and checks that the Japanese survives.
//!
//! Ignored by default: it needs `soffice` (Debian: `apt-get install
//! --no-install-recommends libreoffice-calc-nogui`). Run with
//! `cargo test -p todoke-exchange --test spreadsheet -- --ignored`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use todoke_exchange::{write_opendata_layout, Encoding, OpenDataLayout};

fn soffice(profile: &Path, args: &[&str]) {
    let status = Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore"])
        .args(args)
        .status()
        .expect("soffice not found: apt-get install --no-install-recommends libreoffice-calc-nogui");
    assert!(status.success(), "soffice {args:?}");
}

#[test]
#[ignore = "needs LibreOffice (soffice)"]
fn shift_jis_export_opens_in_libreoffice_calc() {
    let (mut cases, _) = import(&fixture("tokyo_patients_30.csv"));
    // Text from NEC/IBM extensions and a macOS wave dash.
    if let Some(p) = cases[3].publication.as_mut() {
        p.remarks = "髙島屋①〜③㈱, \"引用\"".into();
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("patients.csv");
    let mut out = vec![];
    let report = write_opendata_layout(&mut out, Encoding::ShiftJis, OpenDataLayout::Base16, cases).unwrap();
    assert_eq!(report.unmappable_total, 0);
    std::fs::write(&csv, &out).unwrap();
    let profile = dir.path().join("profile");

    // CSV (Shift_JIS) → xlsx → CSV (UTF-8), as a user opening and saving it would.
    let outdir = dir.path().join("xlsx");
    soffice(&profile, &["--infilter=CSV:44,34,64", "--convert-to", "xlsx", "--outdir", outdir.to_str().unwrap(), csv.to_str().unwrap()]);
    let xlsx = outdir.join("patients.xlsx");
    assert!(xlsx.exists());
    let backdir = dir.path().join("back");
    soffice(
        &profile,
        &["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", backdir.to_str().unwrap(), xlsx.to_str().unwrap()],
    );
    let back = std::fs::read_to_string(backdir.join("patients.csv")).unwrap();

    let (ours, _, _) = encoding_rs::SHIFT_JIS.decode(&out);
    let ours = ours.replace("\r\n", "\n");
    assert!(back.starts_with("No,全国地方公共団体コード,都道府県名,市区町村名,公表_年月日,曜日,発症_年月日,患者_居住地"));
    assert!(back.contains("\"髙島屋①～③㈱, \"\"引用\"\"\""), "{back}");
    assert!(back.contains("湖北省武漢市") && back.contains("10歳未満") && back.contains("タクシー運転手"));
    // Cell for cell the same as what we wrote.
    assert_eq!(back, ours);
}
