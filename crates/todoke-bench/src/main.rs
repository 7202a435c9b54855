//! `todoke-bench --cases N --out FILE`: builds a desk of N generated cases
//! and measures TARGETS.md B1 (search), B2 (open a case), B3 (save an edit),
//! B8 (CSV export) and B4 (all 11 indicators), writing every figure to FILE
//! as JSON. `--only b4` runs one of them.

mod measure;
mod scenarios;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde_json::json;

#[derive(Parser)]
#[command(about = "Desk benchmarks B1, B2, B3, B8, B4")]
struct Args {
    /// Cases on the desk.
    #[arg(long, default_value_t = 1_000_000)]
    cases: usize,
    /// Where to write the figures (JSON).
    #[arg(long, default_value = "bench-results/desk.json")]
    out: PathBuf,
    /// Reuse (or create) the desk in this folder instead of a temporary one.
    #[arg(long)]
    desk: Option<PathBuf>,
    /// Samples per latency figure.
    #[arg(long, default_value_t = 1_000)]
    samples: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Run only these (comma-separated: b1,b2,b3,b8,b4); default all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let dir = args.desk.clone().unwrap_or_else(|| tmp.path().join("desk"));
    let started = Instant::now();
    let (mut desk, setup) = scenarios::prepare_desk(&dir, args.cases, args.seed)?;
    eprintln!("desk ready: {}", setup);
    let wants = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o.eq_ignore_ascii_case(name));
    let mut report = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "measured_at": chrono::Utc::now().to_rfc3339(),
        "machine": measure::machine(),
        "cases": args.cases,
        "setup": setup,
    });
    if wants("b1") {
        report["B1_search"] = scenarios::b1_search(&desk, args.samples, args.seed)?;
        eprintln!("B1 done");
    }
    if wants("b2") {
        report["B2_open_case"] = scenarios::b2_open(&mut desk, args.samples, args.seed)?;
        eprintln!("B2 done");
    }
    if wants("b3") {
        report["B3_save_edit"] = scenarios::b3_edit(&mut desk, args.samples, args.seed)?;
        eprintln!("B3 done");
    }
    if wants("b8") {
        report["B8_export"] = scenarios::b8_export(&desk, tmp.path())?;
        eprintln!("B8 done");
    }
    if wants("b4") {
        report["B4_reports"] = scenarios::b4_reports(&desk)?;
        eprintln!("B4 done");
    }
    report["total_seconds"] = json!(started.elapsed().as_secs_f64());
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
