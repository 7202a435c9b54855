//! One complete example case: every item of the notification form
//! (NOTIFICATION_FORM.md) filled in, consistently, for `todoke-cli case
//! template` and for documentation.
//!
//! The story: a 66-year-old restaurant owner in 世田谷区 with hypertension and
//! diabetes dines with friends in 渋谷区 during the sixth wave, develops fever,
//! tests negative on an antigen test but positive by PCR, is admitted with
//! moderate (II) pneumonia, and is discharged eleven days later.
//!
//! Left empty on purpose, because filling them would contradict the story or
//! the rules: 保護者 (an adult), 死亡年月日 (he survived), 国外 region (infected
//! in Japan), 宿泊療養施設, cluster links (the dinner is not a named cluster),
//! ID管理情報, publication and deletion (not notification items).

use chrono::{DateTime, NaiveDate, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use todoke_domain::*;

use crate::ids;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

/// JST wall-clock time as UTC.
fn jst(date: NaiveDate, h: u32, min: u32) -> DateTime<Utc> {
    let ms = ids::jst_millis(date, (h * 3600 + min * 60) * 1000);
    DateTime::from_timestamp_millis(ms as i64).expect("in range")
}

/// A complete, realistic case with every notification item filled in. Ids
/// are UUIDv7 derived from `id_seed` (same seed, same ids); everything else
/// is fixed.
pub fn sample_case(id_seed: u64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(id_seed);
    let mut id_on = |date: NaiveDate, h: u32| -> Uuid { ids::v7_at(&mut rng, ids::jst_millis(date, h * 3_600_000)) };

    let onset = d(2022, 1, 20);
    let collected = d(2022, 1, 22);
    let diagnosis = d(2022, 1, 23);
    let admission = d(2022, 1, 23);
    let discharge = d(2022, 2, 2);

    let case_id = id_on(diagnosis, 10);
    let friend_case = id_on(d(2022, 1, 21), 11);
    let wife_case = id_on(d(2022, 1, 25), 9);

    let home = Address {
        prefecture_code: "13".into(),
        municipality_code: "131121".into(),
        postal_code: "154-0004".into(),
        text: "東京都世田谷区太子堂2-3-4".into(),
        phone: "03-3421-5678".into(),
    };

    let clinic_name = "三軒茶屋内科クリニック";
    let hospital_name = "目黒総合病院";
    let test = |id: Uuid,
                collected_on: NaiveDate,
                result_on: NaiveDate,
                method: TestMethod,
                specimen: Specimen,
                result: TestResult,
                institution: &str,
                entered: DateTime<Utc>| TestRecord {
        id,
        collected_on: Some(collected_on),
        result_on: Some(result_on),
        method: Some(method),
        specimen: Some(specimen),
        specimen_other: String::new(),
        result: Some(result),
        programme: Some(TestProgramme::Administrative),
        institution: institution.into(),
        entered_at: Some(entered),
    };
    let tests = vec![
        // Workplace screening before symptoms.
        test(
            id_on(d(2022, 1, 18), 14),
            d(2022, 1, 18),
            d(2022, 1, 18),
            TestMethod::AntigenQuantitative,
            Specimen::Saliva,
            TestResult::Negative,
            "世田谷区PCR検査センター",
            jst(d(2022, 1, 18), 14, 30),
        ),
        // At the clinic: a false-negative rapid test, and the PCR sent out.
        test(
            id_on(collected, 11),
            collected,
            collected,
            TestMethod::AntigenQualitative,
            Specimen::NasalSwab,
            TestResult::Negative,
            clinic_name,
            jst(collected, 11, 20),
        ),
        test(
            id_on(diagnosis, 9),
            collected,
            diagnosis,
            TestMethod::NucleicAcid,
            Specimen::NasopharyngealSwab,
            TestResult::Positive,
            clinic_name,
            jst(diagnosis, 9, 40),
        ),
        // In hospital, before discharge.
        test(
            id_on(d(2022, 2, 1), 15),
            d(2022, 1, 31),
            d(2022, 2, 1),
            TestMethod::NucleicAcid,
            Specimen::NasopharyngealSwab,
            TestResult::Negative,
            hospital_name,
            jst(d(2022, 2, 1), 15, 5),
        ),
    ];

    let doctor_login = "cl13112101-dr1".to_string();
    let notification = Notification {
        diagnosis_class: Some(DiagnosisClass::Confirmed),
        report_date: Some(diagnosis),
        submitted_on: Some(diagnosis),
        received_on: Some(diagnosis),
        reported_class: Some(DiagnosisClass::Confirmed),
        reports: vec![
            ReportEvent { class: DiagnosisClass::Suspected, reported_on: collected, by: doctor_login.clone() },
            ReportEvent { class: DiagnosisClass::Confirmed, reported_on: diagnosis, by: doctor_login },
        ],
        health_centre_confirmation: Some(Confirmation { on: d(2022, 1, 24), by: "hc131121-staff03".into() }),
        doctor: Doctor {
            name: "高橋\u{3000}誠一".into(),
            institution_code: "CL13112101".into(),
            institution_name: clinic_name.into(),
            institution_address: "東京都世田谷区三軒茶屋1-2-3 三茶メディカルビル2階".into(),
            institution_phone: "03-3412-3456".into(),
            out_of_hours_phone: "090-9876-5432".into(),
        },
        symptoms: vec![
            Symptom::Fever,
            Symptom::Cough,
            Symptom::OtherAcuteRespiratory,
            Symptom::PneumoniaImaging,
            Symptom::GeneralFatigue,
            Symptom::Headache,
            Symptom::SmellTasteLoss,
            Symptom::Other,
        ],
        symptoms_other: "食欲不振".into(),
        risk_factors: vec![
            RiskFactor::Hypertension,
            RiskFactor::Diabetes,
            RiskFactor::Dyslipidaemia,
            RiskFactor::Smoking,
            RiskFactor::Other,
        ],
        risk_factors_other: "睡眠時無呼吸症候群".into(),
        pregnancy: Some(false),
        immunosuppression: Some(false),
        spo2_room_air: Some(93),
        vaccinations: vec![
            VaccineDose {
                dose: 1,
                status: Some(YesNoUnknown::Yes),
                age_at_dose: Some(65),
                manufacturer: "ファイザー社".into(),
                vaccine_type: "mRNAワクチン（コミナティ）".into(),
                date: Some(d(2021, 6, 5)),
            },
            VaccineDose {
                dose: 2,
                status: Some(YesNoUnknown::Yes),
                age_at_dose: Some(66),
                manufacturer: "ファイザー社".into(),
                vaccine_type: "mRNAワクチン（コミナティ）".into(),
                date: Some(d(2021, 6, 26)),
            },
            // The booster was booked for February.
            VaccineDose { dose: 3, status: Some(YesNoUnknown::No), ..VaccineDose::default() },
        ],
        first_visit_date: Some(collected),
        diagnosis_date: Some(diagnosis),
        estimated_infection_date: Some(d(2022, 1, 17)),
        onset_date: Some(onset),
        death_date: None,
        infection_route: InfectionRoute {
            droplet: Some(Certainty::Presumed),
            contact: Some(Certainty::Unknown),
            other: Some(Certainty::Unknown),
            other_detail: "換気の悪い店内でのエアロゾル感染の可能性".into(),
        },
        infection_region: InfectionRegion {
            certainty: Some(Certainty::Presumed),
            domestic: Some(DomesticRegion { prefecture_code: "130001".into(), municipality_code: "131130".into() }),
            abroad: None,
        },
        infection_link: Some(YesNoUnknown::Yes),
        severity: Some(Severity::ModerateII),
        admission_needed: Some(true),
        treatment_or_oxygen_needed: Some(true),
        admitted_at_notification: Some(true),
        admission_date_at_notification: Some(admission),
        special_case_care: Some(false),
        remarks: "1月17日に渋谷区内の飲食店で会食（4名）、同席者1名が先に陽性。届出当日に目黒総合病院へ入院調整済み。".into(),
    };

    let contact =
        |id: Uuid, name: &str, kana: &str, kind: ContactKind, last: NaiveDate, phone: &str, linked: Option<Uuid>, note: &str| Contact {
            id,
            name: name.into(),
            name_kana: kana.into(),
            kind: Some(kind),
            last_contact_date: Some(last),
            phone: phone.into(),
            linked_case: linked,
            note: note.into(),
        };
    let contacts = vec![
        contact(
            id_on(diagnosis, 16),
            "佐藤\u{3000}恵子",
            "サトウ\u{3000}ケイコ",
            ContactKind::Household,
            diagnosis,
            "090-2345-6789",
            Some(wife_case),
            "妻。1月25日に陽性判明",
        ),
        contact(
            id_on(diagnosis, 16),
            "佐藤\u{3000}春子",
            "サトウ\u{3000}ハルコ",
            ContactKind::Household,
            diagnosis,
            "03-3421-5678",
            None,
            "母（92歳）。健康観察中",
        ),
        contact(
            id_on(diagnosis, 16),
            "田中\u{3000}誠",
            "タナカ\u{3000}マコト",
            ContactKind::Dining,
            d(2022, 1, 17),
            "080-3456-7890",
            Some(friend_case),
            "会食の同席者。1月21日に陽性（感染源と推定）",
        ),
        contact(
            id_on(diagnosis, 16),
            "鈴木\u{3000}美香",
            "スズキ\u{3000}ミカ",
            ContactKind::Workplace,
            d(2022, 1, 20),
            "070-4567-8901",
            None,
            "店舗従業員。マスク着用、濃厚接触非該当",
        ),
    ];
    let behaviour = vec![
        BehaviourEntry {
            id: id_on(diagnosis, 17),
            date: Some(d(2022, 1, 17)),
            place: "渋谷区内の飲食店（会食4名、約3時間）".into(),
            note: "会話時マスクなし".into(),
        },
        BehaviourEntry {
            id: id_on(diagnosis, 17),
            date: Some(d(2022, 1, 19)),
            place: "自営の飲食店（世田谷区太子堂）".into(),
            note: "終日勤務、マスク着用".into(),
        },
    ];

    Case {
        id: case_id,
        origin: Some(Origin::Generated),
        basic: BasicInfo {
            name: "佐藤\u{3000}健一".into(),
            name_kana: "サトウ\u{3000}ケンイチ".into(),
            birth_date: Some(d(1955, 6, 14)),
            sex: Some(Sex::Male),
            reported_age_band: None,
            registered_address: home.clone(),
            residence: home,
            phone: "090-1234-5678".into(),
            email: "k.sato@example.jp".into(),
            occupation: "自営業（飲食店経営）".into(),
            guardian: None,
            welfare_coordination_needed: Some(false),
            lives_with_high_risk: Some(true),
            id_management_note: String::new(),
        },
        jurisdiction: Jurisdiction {
            responsible_health_centre: "HC131121".into(),
            related_health_centres: vec!["HC131105".into()],
            reporting_clinic: "CL13112101".into(),
            facility: String::new(),
        },
        notification,
        tests,
        underlying_diseases: "高血圧（内服治療中）、2型糖尿病（HbA1c 7.2%）、脂質異常症、睡眠時無呼吸症候群".into(),
        measures: Measures {
            current_status: Some(CurrentStatus::RecoveryEnded),
            status_updated_on: Some(discharge),
            admission_date: Some(admission),
            discharge_date: Some(discharge),
            hospital: hospital_name.into(),
            chest_xray: "両側下肺野に淡い浸潤影".into(),
            ct: "両側胸膜直下に多発するすりガラス影（COVID-19肺炎として典型的）".into(),
            icu: false,
            ventilator: false,
            ecmo: false,
            recovery_ended_on: Some(discharge),
            emergency_hospital: hospital_name.into(),
            family_doctor: "太子堂内科クリニック".into(),
        },
        investigation: Investigation {
            behaviour,
            contacts,
            clusters: Vec::new(),
            infected_by_case: Some(friend_case),
            notes: "会食の同席者4名中3名が陽性。店舗の換気状況を確認済み。".into(),
        },
        follow_up: FollowUp {
            self_report_enabled: true,
            processing_number: Some("48213967".into()),
            processing_number_issued_on: Some(d(2022, 1, 24)),
        },
        publication: None,
        deleted: None,
        updated_at: Some(jst(discharge, 17, 15)),
    }
}
