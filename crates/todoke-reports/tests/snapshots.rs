//! Every indicator on a fixed generated data set (insta snapshots of the CSV).
//! Review changes with `cargo insta review`; a changed snapshot is a changed
//! published figure and needs a reason.

use chrono::NaiveDate;
use todoke_domain::Cluster;
use todoke_reports::{compute, Breakdown, Granularity, HeaderLang, Indicator, ReportOptions, ReportRow};
use todoke_synth::{Generator, GeneratorConfig};

fn data() -> (Vec<ReportRow>, Vec<Cluster>) {
    let generator = Generator::new(GeneratorConfig { seed: 7, cases: 3_000, ..GeneratorConfig::default() });
    let clusters = generator.clusters();
    let rows = generator.filter_map(|g| ReportRow::from_case(&g.case)).collect();
    (rows, clusters)
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn every_indicator() {
    let (rows, clusters) = data();
    // Four ministry weeks (Wednesday to Tuesday) in the summer 2022 wave.
    let opts = ReportOptions { from: Some(d("2022-07-27")), to: Some(d("2022-08-23")), ..ReportOptions::default() };
    for indicator in Indicator::ALL {
        let table = compute(indicator, &rows, &clusters, &opts);
        let mut text = format!("{} / {}\n", table.title_ja, table.title_en);
        text.push_str(&table.to_csv(HeaderLang::Key));
        insta::assert_snapshot!(format!("{:02}-{}", indicator.number(), indicator.slug()), text);
    }
}

#[test]
fn weekly_trends_by_prefecture() {
    let (rows, clusters) = data();
    let opts = ReportOptions {
        from: Some(d("2022-07-27")),
        to: Some(d("2022-08-23")),
        by: Some(Granularity::Week),
        breakdown: Breakdown::Prefecture,
        ..ReportOptions::default()
    };
    let mut text = String::new();
    for indicator in [Indicator::NewPositives, Indicator::NewPositivesPer100k, Indicator::SevereTrend, Indicator::RequiringCareTrend] {
        text.push_str(&format!("# {}\n", indicator.slug()));
        // The published form: Japanese headers and labels.
        text.push_str(&compute(indicator, &rows, &clusters, &opts).to_csv(HeaderLang::Ja));
    }
    insta::assert_snapshot!(text);
}

#[test]
fn json_shape() {
    let (rows, clusters) = data();
    let opts = ReportOptions { from: Some(d("2022-08-17")), to: Some(d("2022-08-23")), ..ReportOptions::default() };
    let table = compute(Indicator::NewPositivesBySexAge, &rows, &clusters, &opts);
    insta::assert_snapshot!(table.to_json());
}

#[test]
fn suppression_holds_on_generated_tables() {
    let (rows, clusters) = data();
    for by in [Granularity::Day, Granularity::Week] {
        let opts = ReportOptions { from: Some(d("2022-01-05")), to: Some(d("2022-09-20")), by: Some(by), ..ReportOptions::default() };
        for indicator in [
            Indicator::NewPositivesBySexAge,
            Indicator::PositivesBySexAgeCumulative,
            Indicator::SevereBySexAge,
            Indicator::DeathsBySexAgeCumulative,
        ] {
            let t = compute(indicator, &rows, &clusters, &opts);
            let first = t.column("under_10").unwrap();
            // Every block of four rows: three sexes and the total.
            for block in t.rows.chunks(4) {
                let hidden = |r: &Vec<todoke_reports::Cell>, j: usize| matches!(r[j], todoke_reports::Cell::Suppressed);
                for r in &block[..3] {
                    let n = (first..first + 11).filter(|&j| hidden(r, j)).count();
                    assert_ne!(n, 1, "{indicator:?} {r:?}");
                    for j in first..first + 11 {
                        if let Some(c) = r[j].count() {
                            assert!(!(1..=4).contains(&c), "{indicator:?}: small cell published {r:?}");
                        }
                    }
                }
                for j in first..first + 11 {
                    assert_ne!(block[..3].iter().filter(|r| hidden(r, j)).count(), 1, "{indicator:?} column {j}");
                }
            }
        }
    }
}
