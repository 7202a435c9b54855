//! `todoke-bench --cases N --out FILE`: builds a desk of N generated cases
//! and measures TARGETS.md B1 (search), B2 (open a case), B3 (save an edit)
//! and B8 (CSV export), writing every figure to FILE as JSON.

mod measure;
mod scenarios;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde_json::json;

#[derive(Parser)]
#[command(about = "Desk benchmarks B1, B2, B3, B8")]
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
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let dir = args.desk.clone().unwrap_or_else(|| tmp.path().join("desk"));
    let started = Instant::now();
    let (mut desk, setup) = scenarios::prepare_desk(&dir, args.cases, args.seed)?;
    eprintln!("desk ready: {}", setup);
    let b1 = scenarios::b1_search(&desk, args.samples, args.seed)?;
    eprintln!("B1 done");
    let b2 = scenarios::b2_open(&mut desk, args.samples, args.seed)?;
    eprintln!("B2 done");
    let b3 = scenarios::b3_edit(&mut desk, args.samples, args.seed)?;
    eprintln!("B3 done");
    let b8 = scenarios::b8_export(&desk, tmp.path())?;
    eprintln!("B8 done");
    let report = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "measured_at": chrono::Utc::now().to_rfc3339(),
        "machine": measure::machine(),
        "cases": args.cases,
        "setup": setup,
        "B1_search": b1,
        "B2_open_case": b2,
        "B3_save_edit": b3,
        "B8_export": b8,
        "total_seconds": started.elapsed().as_secs_f64(),
    });
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
