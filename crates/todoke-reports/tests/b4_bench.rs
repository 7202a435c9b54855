//! B4 (TARGETS.md): all eleven standard indicators, with suppression, over N
//! rows. Not a timed test: the small run proves it works; the full size is
//! run by hand and prints seconds:
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/todoke-target TODOKE_B4_ROWS=1000000 \
//!   cargo test --release -p todoke-reports --test b4_bench -- --ignored --nocapture
//! ```
//!
//! Rows come from the synthetic generator (up to 200,000 distinct cases,
//! then repeated with fresh ids: the shape of the data is what costs, not
//! its uniqueness). Only `compute_all` is timed; building rows is reported
//! separately (on a desk it is the cost of reading the cases, on a server of
//! reading indexed columns).

use std::time::Instant;

use todoke_reports::{compute_all, ReportOptions, ReportRow};
use todoke_synth::{Generator, GeneratorConfig};
use uuid::Uuid;

fn rows(n: usize) -> (Vec<ReportRow>, Vec<todoke_domain::Cluster>, f64) {
    let start = Instant::now();
    let distinct = n.min(200_000);
    let generator = Generator::new(GeneratorConfig { seed: 4, cases: distinct, ..GeneratorConfig::default() });
    let clusters = generator.clusters();
    let base: Vec<ReportRow> = generator.filter_map(|g| ReportRow::from_case(&g.case)).collect();
    let mut out = Vec::with_capacity(n);
    let mut k = 0u128;
    while out.len() < n {
        for r in &base {
            if out.len() == n {
                break;
            }
            k += 1;
            out.push(ReportRow { id: Uuid::from_u128(k), ..r.clone() });
        }
    }
    (out, clusters, start.elapsed().as_secs_f64())
}

fn run(n: usize) -> f64 {
    let (rows, clusters, build) = rows(n);
    let opts = ReportOptions::default();
    let start = Instant::now();
    let tables = compute_all(&rows, &clusters, &opts);
    let secs = start.elapsed().as_secs_f64();
    if std::env::var("TODOKE_B4_EACH").is_ok() {
        for i in todoke_reports::Indicator::ALL {
            let t = Instant::now();
            todoke_reports::compute(i, &rows, &clusters, &opts);
            println!("  {:<34} {:.3} s", i.slug(), t.elapsed().as_secs_f64());
        }
    }
    let cells: usize = tables.iter().map(|t| t.rows.len() * t.columns.len()).sum();
    let row_bytes = std::mem::size_of::<ReportRow>();
    println!(
        "B4 rows={n} row_bytes={row_bytes} indicators={} cells={cells} compute_all_seconds={secs:.3} (building rows: {build:.1} s)",
        tables.len()
    );
    assert_eq!(tables.len(), 11);
    assert!(tables.iter().all(|t| !t.rows.is_empty()));
    secs
}

#[test]
fn b4_small() {
    run(20_000);
}

#[test]
#[ignore = "benchmark: run by hand with --release (see the module doc)"]
fn b4_full() {
    let n = std::env::var("TODOKE_B4_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    run(n);
}
