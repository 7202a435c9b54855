//! Latency percentiles, resident memory and machine facts.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Collects durations and summarises them as milliseconds.
#[derive(Default)]
pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.0.push(t.elapsed());
        out
    }

    pub fn summary(&mut self) -> Value {
        self.0.sort();
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        let pct = |p: f64| {
            let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
            ms(self.0[i])
        };
        if self.0.is_empty() {
            return json!({ "samples": 0 });
        }
        json!({
            "samples": self.0.len(),
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "max_ms": ms(*self.0.last().expect("non-empty")),
        })
    }
}

/// Resident set size of this process, in MiB (Linux).
pub fn rss_mib() -> f64 {
    status_kib("VmRSS:") / 1024.0
}

fn status_kib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// Samples RSS on a thread while `f` runs; returns f's value and the peak.
pub fn with_peak_rss<T>(f: impl FnOnce() -> T) -> (T, f64) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let sampler = std::thread::spawn(move || {
        let mut peak = 0.0f64;
        while !flag.load(Ordering::Relaxed) {
            peak = peak.max(rss_mib());
            std::thread::sleep(Duration::from_millis(20));
        }
        peak.max(rss_mib())
    });
    let out = f();
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap_or(0.0);
    (out, peak)
}

pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    // The machine is shared: the load average says how quiet it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({
        "load_average_1_5_15": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "os": std::env::consts::OS,
    })
}

/// CPU time (user + system) this process has used so far, in seconds
/// (Linux, clock ticks of 10 ms).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
