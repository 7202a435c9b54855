//! Shared test fixtures: realistic cases and a fresh desk in a temp folder.
#![allow(dead_code)]

use chrono::NaiveDate;
use tempfile::TempDir;
use todoke_domain::*;
use todoke_store::{Desk, MemoryKeys};
use uuid::Uuid;

pub fn actor() -> Actor {
    Actor { login: "hc-staff-01".into(), org_code: "HC131121".into() }
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A case as a health centre would enter it.
pub fn case(name: &str, kana: &str, phone: &str, report: NaiveDate) -> Case {
    let mut c = Case { id: Uuid::now_v7(), origin: Some(Origin::Entered), ..Default::default() };
    c.basic.name = name.into();
    c.basic.name_kana = kana.into();
    c.basic.phone = phone.into();
    c.basic.birth_date = Some(date(1985, 5, 17));
    c.basic.sex = Some(Sex::Female);
    c.basic.residence.text = "東京都世田谷区太子堂1-2-3".into();
    c.jurisdiction.responsible_health_centre = "HC131121".into();
    c.notification.diagnosis_class = Some(DiagnosisClass::Confirmed);
    c.notification.diagnosis_date = Some(report);
    c.notification.report_date = Some(report);
    c.notification.symptoms = vec![Symptom::Fever, Symptom::Cough];
    c.measures.current_status = Some(CurrentStatus::HomeRecovery);
    c.measures.status_updated_on = Some(report);
    c.tests = vec![TestRecord {
        id: Uuid::now_v7(),
        collected_on: Some(report),
        result_on: Some(report),
        method: Some(TestMethod::NucleicAcid),
        specimen: Some(Specimen::Saliva),
        result: Some(TestResult::Positive),
        programme: Some(TestProgramme::Administrative),
        ..Default::default()
    }];
    c
}

/// A desk in a new temporary folder, with its in-memory keys.
pub struct TestDesk {
    pub dir: TempDir,
    pub keys: MemoryKeys,
    pub desk: Desk,
}

pub fn new_desk() -> TestDesk {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = MemoryKeys::new();
    let desk = Desk::init(dir.path(), &keys).expect("init desk");
    TestDesk { dir, keys, desk }
}
