//! The indicators on small hand-built data sets, checked by hand.

use chrono::{NaiveDate, Weekday};
use todoke_domain::{AgeBand, Case, Cluster, Confirmation, CurrentStatus, DiagnosisClass, Sex};
use todoke_reports::{compute, Area, Breakdown, Granularity, HeaderLang, Indicator, ReportOptions, ReportRow};
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn row(n: u128, on: &str) -> ReportRow {
    ReportRow {
        id: Uuid::from_u128(n),
        positive: true,
        positive_on: Some(d(on)),
        prefecture: 13,
        municipality: 131016,
        health_centre: "HC131016".into(),
        sex: Some(Sex::Male),
        age_band: AgeBand::Forties,
        status: Some(CurrentStatus::RecoveryEnded),
        status_updated_on: None,
        severe: false,
        admission_date: None,
        discharge_date: None,
        recovery_ended_on: None,
        death_date: None,
        died: false,
        clusters: Vec::new(),
    }
}

fn opts(from: &str, to: &str, by: Granularity) -> ReportOptions {
    ReportOptions { from: Some(d(from)), to: Some(d(to)), by: Some(by), ..ReportOptions::default() }
}

fn csv(i: Indicator, rows: &[ReportRow], clusters: &[Cluster], o: &ReportOptions) -> String {
    compute(i, rows, clusters, o).to_csv(HeaderLang::Key)
}

#[test]
fn a_row_from_a_case_counts_unconfirmed_positives_on_the_diagnosis_date() {
    let mut case = Case { id: Uuid::from_u128(1), ..Case::default() };
    case.notification.diagnosis_class = Some(DiagnosisClass::Confirmed);
    case.notification.diagnosis_date = Some(d("2022-01-03"));
    case.notification.report_date = Some(d("2022-01-04"));
    case.basic.birth_date = Some(d("1980-06-01"));
    case.basic.residence.prefecture_code = "14".into();
    case.basic.residence.municipality_code = "141003".into();
    case.measures.icu = true;
    let r = ReportRow::from_case(&case).unwrap();
    assert!(r.positive, "no health-centre confirmation needed");
    assert_eq!(r.positive_on, Some(d("2022-01-03")));
    assert_eq!((r.prefecture, r.municipality), (14, 141003));
    assert_eq!(r.age_band, AgeBand::Forties);
    assert!(r.severe);

    case.notification.health_centre_confirmation = Some(Confirmation { on: d("2022-01-05"), by: "hc".into() });
    assert!(ReportRow::from_case(&case).unwrap().positive);

    case.notification.diagnosis_class = Some(DiagnosisClass::Suspected);
    assert!(!ReportRow::from_case(&case).unwrap().positive, "suspected patients are not positives");

    case.notification.diagnosis_date = None;
    assert_eq!(ReportRow::from_case(&case).unwrap().positive_on, Some(d("2022-01-04")), "falls back to the report date");

    case.deleted = Some(todoke_domain::Deletion { on: d("2022-01-06"), by: "x".into(), reason: "test".into() });
    assert!(ReportRow::from_case(&case).is_none());
}

#[test]
fn new_positives_daily_weekly_and_by_area() {
    // 2022-01-05 is a Wednesday.
    let mut rows = vec![row(1, "2022-01-04"), row(2, "2022-01-05"), row(3, "2022-01-05"), row(4, "2022-01-11"), row(5, "2022-01-12")];
    rows.push(ReportRow { prefecture: 14, health_centre: "HC141003".into(), ..row(6, "2022-01-06") });
    rows.push(ReportRow { positive: false, ..row(7, "2022-01-06") });

    let daily = csv(Indicator::NewPositives, &rows, &[], &opts("2022-01-05", "2022-01-07", Granularity::Day));
    assert_eq!(daily, "date,new_positives\n2022-01-05,2\n2022-01-06,1\n2022-01-07,0\n");

    // Weekly, Wednesday to Tuesday: the range widens to whole weeks.
    let weekly = csv(Indicator::NewPositives, &rows, &[], &opts("2022-01-06", "2022-01-12", Granularity::Week));
    assert_eq!(weekly, "week_start,week_end,new_positives\n2022-01-05,2022-01-11,4\n2022-01-12,2022-01-18,1\n");

    // Monday weeks cut differently.
    let monday = ReportOptions { week_start: Weekday::Mon, ..opts("2022-01-03", "2022-01-09", Granularity::Week) };
    assert_eq!(csv(Indicator::NewPositives, &rows, &[], &monday), "week_start,week_end,new_positives\n2022-01-03,2022-01-09,4\n");

    let tokyo = ReportOptions { area: Area::Prefecture(13), ..opts("2022-01-05", "2022-01-07", Granularity::Day) };
    assert_eq!(csv(Indicator::NewPositives, &rows, &[], &tokyo), "date,new_positives\n2022-01-05,2\n2022-01-06,0\n2022-01-07,0\n");

    let by_pref = ReportOptions { breakdown: Breakdown::Prefecture, ..opts("2022-01-06", "2022-01-06", Granularity::Day) };
    assert_eq!(
        csv(Indicator::NewPositives, &rows, &[], &by_pref),
        "date,prefecture_code,prefecture,new_positives\n2022-01-06,13,Tokyo,0\n2022-01-06,14,Kanagawa,1\n"
    );
}

#[test]
fn cumulative_positives_and_per_100k() {
    let rows = vec![row(1, "2021-12-01"), row(2, "2022-01-05"), row(3, "2022-01-06"), row(4, "2022-01-06")];
    let o = opts("2022-01-05", "2022-01-06", Granularity::Day);
    // The positive before the range is in the cumulative count.
    assert_eq!(csv(Indicator::PositivesCumulative, &rows, &[], &o), "date,cumulative_positives\n2022-01-05,2\n2022-01-06,4\n");

    let pop = todoke_refdata::population_2020(13);
    let t = compute(Indicator::NewPositivesPer100k, &rows, &[], &o);
    let last = t.rows.last().unwrap();
    assert_eq!(last[3].count(), Some(pop as i64));
    assert_eq!(last[4].count(), Some(2));
    let per = serde_json::to_value(&last[5]).unwrap().as_f64().unwrap();
    assert!((per - (200_000.0 / pop as f64 * 100.0).round() / 100.0).abs() < 1e-9, "{per}");
}

#[test]
fn severe_counts_the_hospital_stay_of_cases_with_icu_ventilator_or_ecmo() {
    let severe = |n, adm: &str, dis: Option<&str>, status| ReportRow {
        severe: true,
        admission_date: Some(d(adm)),
        discharge_date: dis.map(d),
        status: Some(status),
        ..row(n, adm)
    };
    let rows = vec![
        severe(1, "2022-01-03", Some("2022-01-06"), CurrentStatus::RecoveryEnded), // 3, 4, 5
        severe(2, "2022-01-05", None, CurrentStatus::HospitalisedSevere),          // 5 onwards
        ReportRow { admission_date: Some(d("2022-01-04")), status: Some(CurrentStatus::Hospitalised), ..row(3, "2022-01-04") }, // not severe
        // Died on the 5th: severe on the 4th only.
        ReportRow { died: true, death_date: Some(d("2022-01-05")), ..severe(4, "2022-01-04", None, CurrentStatus::Died) },
    ];
    let o = opts("2022-01-02", "2022-01-07", Granularity::Day);
    assert_eq!(
        csv(Indicator::SevereTrend, &rows, &[], &o),
        "date,severe\n2022-01-02,0\n2022-01-03,1\n2022-01-04,2\n2022-01-05,2\n2022-01-06,1\n2022-01-07,1\n"
    );
    let deaths = csv(Indicator::DeathsCumulative, &rows, &[], &o);
    assert!(deaths.contains("2022-01-05,1,1\n") && deaths.ends_with("2022-01-07,0,1\n"), "{deaths}");
}

#[test]
fn requiring_care_follows_status_and_end_dates() {
    let rows = vec![
        ReportRow { status: Some(CurrentStatus::HomeRecovery), ..row(1, "2022-01-03") }, // from the 3rd, ongoing
        ReportRow { recovery_ended_on: Some(d("2022-01-05")), ..row(2, "2022-01-02") },  // 2nd–4th
        ReportRow { status_updated_on: Some(d("2022-01-04")), ..row(3, "2022-01-03") },  // 3rd only
        row(4, "2022-01-03"),                                                            // ended, no date: never counted
    ];
    let o = opts("2022-01-01", "2022-01-06", Granularity::Day);
    assert_eq!(
        csv(Indicator::RequiringCareTrend, &rows, &[], &o),
        "date,requiring_care\n2022-01-01,0\n2022-01-02,1\n2022-01-03,3\n2022-01-04,2\n2022-01-05,1\n2022-01-06,1\n"
    );
}

#[test]
fn deaths_before_the_range_are_cumulative_not_new() {
    let dead = |n, on: &str| ReportRow { died: true, death_date: Some(d(on)), status: Some(CurrentStatus::Died), ..row(n, "2021-12-01") };
    let rows = vec![dead(1, "2021-12-20"), dead(2, "2022-01-02"), dead(3, "2022-01-02")];
    let o = opts("2022-01-01", "2022-01-02", Granularity::Day);
    assert_eq!(csv(Indicator::DeathsCumulative, &rows, &[], &o), "date,deaths,cumulative_deaths\n2022-01-01,0,1\n2022-01-02,2,3\n");
}

#[test]
fn sex_age_tables_are_suppressed_with_totals_published() {
    // Men in their 40s: 6; men in their 20s: 2 (primary); women in their 40s: 7; women 20s: 0.
    let mut rows = Vec::new();
    let mut n = 0;
    for (sex, band, count) in [(Sex::Male, AgeBand::Forties, 6), (Sex::Male, AgeBand::Twenties, 2), (Sex::Female, AgeBand::Forties, 7)] {
        for _ in 0..count {
            n += 1;
            rows.push(ReportRow { sex: Some(sex), age_band: band, ..row(n, "2022-01-06") });
        }
    }
    let o = opts("2022-01-05", "2022-01-11", Granularity::Week);
    let t = csv(Indicator::NewPositivesBySexAge, &rows, &[], &o);
    // Row 男 has one small cell (2) → its smallest other non-zero cell (6) is hidden; column 40s
    // then has one hidden cell → 7; column 20s has one hidden cell and no other non-zero cell →
    // a zero (女20s). Now every line has 0 or 2 hidden cells; totals are all published.
    assert_eq!(
        t,
        "week_start,week_end,sex,under_10,10s,20s,30s,40s,50s,60s,70s,80s,90_plus,unknown,total\n\
         2022-01-05,2022-01-11,male,0,0,*,0,*,0,0,0,0,0,0,8\n\
         2022-01-05,2022-01-11,female,0,0,*,0,*,0,0,0,0,0,0,7\n\
         2022-01-05,2022-01-11,other_unknown,0,0,0,0,0,0,0,0,0,0,0,0\n\
         2022-01-05,2022-01-11,total,0,0,2,0,13,0,0,0,0,0,0,15\n"
    );
}

#[test]
fn clusters_by_week_and_setting() {
    let c = |n: u128, setting: &str, onset: Option<&str>| Cluster {
        id: Uuid::from_u128(1000 + n),
        name: format!("c{n}"),
        setting: setting.into(),
        first_onset: onset.map(d),
        ..Cluster::default()
    };
    let clusters = vec![c(1, "飲食店", Some("2021-12-30")), c(2, "学校", None), c(3, "飲食店", Some("2022-01-13"))];
    let link = |k: u128| vec![Uuid::from_u128(1000 + k)];
    let rows = vec![
        ReportRow { clusters: link(1), ..row(1, "2022-01-05") },
        ReportRow { clusters: link(2), ..row(2, "2022-01-06") }, // cluster 2 occurs on its first member's date
        ReportRow { clusters: link(2), ..row(3, "2022-01-13") },
        ReportRow { clusters: link(3), ..row(4, "2022-01-14") },
    ];
    let o = opts("2022-01-05", "2022-01-18", Granularity::Week);
    assert_eq!(
        csv(Indicator::Clusters, &rows, &clusters, &o),
        "week_start,week_end,setting,new_clusters,cumulative_clusters,cases\n\
         2022-01-05,2022-01-11,学校,1,1,1\n\
         2022-01-05,2022-01-11,飲食店,0,1,1\n\
         2022-01-05,2022-01-11,total,1,2,2\n\
         2022-01-12,2022-01-18,学校,0,1,1\n\
         2022-01-12,2022-01-18,飲食店,1,2,1\n\
         2022-01-12,2022-01-18,total,1,3,2\n"
    );
}

#[test]
fn indicators_are_named_and_parsed() {
    for i in Indicator::ALL {
        assert_eq!(Indicator::parse(i.slug()).unwrap(), i);
        assert_eq!(Indicator::parse(&i.number().to_string()).unwrap(), i);
        assert_eq!(Indicator::parse(i.title_ja()).unwrap(), i);
    }
    assert!(Indicator::parse("nope").is_err());
    assert_eq!(Area::parse("東京都"), Area::Prefecture(13));
    assert_eq!(Area::parse("13"), Area::Prefecture(13));
    assert_eq!(Area::parse("130001"), Area::Prefecture(13));
    assert_eq!(Area::parse("131016"), Area::Municipality(131016));
    assert_eq!(Area::parse("HC131016"), Area::HealthCentre("HC131016".into()));
}

#[test]
fn an_empty_desk_gives_empty_tables() {
    for i in Indicator::ALL {
        let empty = compute(i, &[], &[], &ReportOptions::default());
        assert!(empty.rows.is_empty());
        // Same columns as with data: a consumer's CSV header does not change.
        let one = compute(i, &[row(1, "2022-01-05")], &[], &ReportOptions::default());
        assert_eq!(empty.columns, one.columns, "{i:?}");
    }
}

#[test]
fn compute_all_is_compute_of_each() {
    let rows = vec![
        row(1, "2022-01-04"),
        row(2, "2022-01-12"),
        ReportRow { severe: true, admission_date: Some(d("2022-01-05")), ..row(3, "2022-01-05") },
    ];
    let opts = ReportOptions::default();
    let all = todoke_reports::compute_all(&rows, &[], &opts);
    let each: Vec<_> = Indicator::ALL.iter().map(|&i| compute(i, &rows, &[], &opts)).collect();
    assert_eq!(all, each);
}
