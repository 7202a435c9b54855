//! The benchmark scenarios, each on the same real encrypted desk.

use std::path::Path;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use todoke_desk::{DeskService, ExportFormat};
use todoke_domain::{Actor, CurrentStatus, Observation, ObservationSource};
use todoke_exchange::Encoding;
use todoke_store::{CaseQuery, CaseSummary, MemoryKeys};
use uuid::Uuid;

use crate::measure::{rss_mib, with_peak_rss, Latencies};

type R<T> = Result<T, Box<dyn std::error::Error>>;

fn actor() -> Actor {
    Actor { login: "bench".into(), org_code: "HC131121".into() }
}

/// Opens the desk in `dir`, generating `cases` cases first when it is new.
pub fn prepare_desk(dir: &Path, cases: usize, seed: u64) -> R<(DeskService, Value)> {
    // A fixed key: the benchmark desk holds only synthetic data.
    let keys = MemoryKeys::fixed([7u8; 32]);
    if dir.join("desk.db").exists() {
        let desk = DeskService::open(dir, &keys, actor())?;
        let n = desk.store().case_count()?;
        return Ok((desk, json!({ "reused_desk": true, "cases_on_desk": n })));
    }
    let mut desk = DeskService::init(dir, &keys, actor())?;
    let t = Instant::now();
    let mut last = Instant::now();
    let n = desk.generate(cases, seed, 730, &mut |done, total| {
        if last.elapsed().as_secs() >= 10 {
            eprintln!("  generated {done}/{total}");
            last = Instant::now();
        }
    })?;
    let secs = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(dir.join("desk.db")).map(|m| m.len()).unwrap_or(0);
    Ok((
        desk,
        json!({
            "generated_cases": n,
            "generate_seconds": round(secs),
            "generate_cases_per_second": (n as f64 / secs).round(),
            "database_mib": round(size as f64 / 1048576.0),
        }),
    ))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A random sample of cases on the desk (by random id prefixes, cheap on any size).
fn sample(desk: &DeskService, n: usize, rng: &mut ChaCha8Rng) -> R<Vec<CaseSummary>> {
    let mut out = Vec::with_capacity(n);
    let mut q = CaseQuery { limit: Some(n), ..Default::default() };
    q.offset = rng.gen_range(0..desk.store().case_count()?.saturating_sub(n as u64).max(1)) as usize;
    out.extend(desk.search(&q)?);
    out.shuffle(rng);
    Ok(out)
}

fn to_hiragana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// B1: what a person types into the search box, with and without filters;
/// a page of 50 results, as the list shows.
pub fn b1_search(desk: &DeskService, samples: usize, seed: u64) -> R<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let people = sample(desk, samples.min(2_000), &mut rng)?;
    type Query = fn(&CaseSummary) -> Option<String>;
    let kinds: [(&str, Query); 5] = [
        ("kana_prefix_katakana", |c| Some(c.name_kana.chars().take(3).collect())),
        ("kana_prefix_hiragana", |c| Some(to_hiragana(&c.name_kana.chars().take(4).collect::<String>()))),
        ("kanji_substring", |c| {
            let given: String = c.name.split_whitespace().nth(1).unwrap_or(&c.name).to_string();
            Some(given)
        }),
        ("phone", |c| if c.phone.is_empty() { None } else { Some(c.phone.clone()) }),
        ("case_id_prefix", |c| Some(c.id.to_string()[..13].to_string())),
    ];
    let mut out = serde_json::Map::new();
    let mut all = Latencies::default();
    for (kind, make) in kinds {
        let mut lat = Latencies::default();
        let mut hits = 0usize;
        for (i, c) in people.iter().cycle().take(samples).enumerate() {
            let Some(text) = make(c) else { continue };
            let mut q = CaseQuery { text: Some(text), limit: Some(50), ..Default::default() };
            if i % 2 == 1 {
                // Half of the searches also filter, as staff do.
                q.status = Some(CurrentStatus::HomeRecovery);
                q.report_from = Some(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"));
            }
            let t = Instant::now();
            let rows = desk.search(&q)?;
            let d = t.elapsed();
            lat.0.push(d);
            all.0.push(d);
            hits += usize::from(!rows.is_empty());
        }
        let mut s = lat.summary();
        s["queries_with_hits"] = json!(hits);
        out.insert(kind.to_string(), s);
    }
    out.insert("all".into(), all.summary());
    out.insert("target".into(), json!("p95 <= 20 ms"));
    Ok(Value::Object(out))
}

/// B2: open a case with everything: at least 4 tests, 14 observations,
/// contacts and history.
pub fn b2_open(desk: &mut DeskService, samples: usize, seed: u64) -> R<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 2);
    let people = sample(desk, 200.min(samples), &mut rng)?;
    let ids: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    for id in &ids {
        fill_case(desk, *id)?;
    }
    let mut lat = Latencies::default();
    let mut shape = json!({});
    for i in 0..samples {
        let id = ids[i % ids.len()];
        let detail = lat.time(|| desk.open_case(id))?;
        if i == 0 {
            shape = json!({
                "tests": detail.case.tests.len(),
                "observations": detail.observations.len(),
                "contacts": detail.case.investigation.contacts.len(),
                "history_entries": detail.history.len(),
            });
        }
    }
    let mut s = lat.summary();
    s["case_shape"] = shape;
    s["target"] = json!("p95 <= 5 ms");
    Ok(s)
}

/// Gives a case 4+ tests, 14 observations, contacts and some history.
fn fill_case(desk: &mut DeskService, id: Uuid) -> R<()> {
    let mut case = desk.get(id)?;
    let template = todoke_synth::sample_case(id.as_u128() as u64);
    while case.tests.len() < 4 {
        let mut t = template.tests[case.tests.len() % template.tests.len()].clone();
        t.id = Uuid::now_v7();
        t.collected_on = case.notification.diagnosis_date;
        t.result_on = case.notification.diagnosis_date;
        case.tests.push(t);
    }
    if case.investigation.contacts.is_empty() {
        case.investigation.contacts = template.investigation.contacts.clone();
    }
    case.basic.occupation = "会社員".into();
    desk.update_case(case.clone())?;
    let have = desk.open_case(id)?.observations.len();
    let start = case.notification.diagnosis_date.unwrap_or_else(|| chrono::NaiveDate::from_ymd_opt(2021, 1, 1).expect("date"));
    for day in have..14 {
        let at = start + chrono::Days::new(day as u64);
        let obs = Observation {
            observed_at: Some(at.and_hms_opt(9, 0, 0).expect("time").and_local_timezone(jst()).single().expect("jst")),
            temperature: Some(36.5 + (day % 3) as f32 * 0.3),
            spo2: Some(97),
            source: Some(ObservationSource::Patient),
            ..Default::default()
        };
        desk.add_observation(id, obs)?;
    }
    Ok(())
}

fn jst() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(9 * 3600).expect("offset")
}

/// B3: save an edit (record + outbox entry, one durable transaction), one
/// at a time as a person saves, and many in a row.
pub fn b3_edit(desk: &mut DeskService, samples: usize, seed: u64) -> R<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 3);
    let people = sample(desk, samples.min(2_000), &mut rng)?;
    let mut single = Latencies::default();
    for (i, p) in people.iter().cycle().take(samples).enumerate() {
        let mut case = desk.get(p.id)?;
        case.basic.phone = format!("090-{:04}-{:04}", i % 10_000, (i * 7) % 10_000);
        single.time(|| desk.update_case(case))?;
    }
    // Back to back: each edit its own durable transaction, as a person saves.
    let n = (samples * 2).min(10_000);
    let cases: Vec<_> = people.iter().cycle().take(n).map(|p| desk.get(p.id)).collect::<Result<_, _>>()?;
    let t = Instant::now();
    for (i, mut case) in cases.clone().into_iter().enumerate() {
        case.basic.email = format!("bench{i}@example.jp");
        desk.update_case(case)?;
    }
    let one_by_one = n as f64 / t.elapsed().as_secs_f64();
    // Bulk: a list edit (e.g. a status change over many cases) saved 100 per
    // transaction; each edit still writes its own outbox entry and history row.
    let t = Instant::now();
    for (chunk_no, chunk) in cases.chunks(100).enumerate() {
        let edited: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut c = desk.get(c.id)?;
                c.basic.email = format!("bulk{chunk_no}-{i}@example.jp");
                Ok(c)
            })
            .collect::<Result<_, todoke_desk::DeskError>>()?;
        desk.update_cases(edited)?;
    }
    let bulk = n as f64 / t.elapsed().as_secs_f64();
    let mut s = single.summary();
    s["edits"] = json!(n);
    s["one_by_one_edits_per_second"] = json!(one_by_one.round());
    s["bulk_edits_per_second_100_per_transaction"] = json!(bulk.round());
    s["durability"] = json!("synchronous=FULL (each commit survives power loss)");
    s["target"] = json!("p95 <= 5 ms; bulk >= 2,000 edits/s");
    Ok(s)
}

/// B8: export every case, UTF-8 with BOM and Shift_JIS; time and peak memory.
pub fn b8_export(desk: &DeskService, tmp: &Path) -> R<Value> {
    let mut out = serde_json::Map::new();
    for (name, format, encoding) in [
        ("cases_utf8_bom", ExportFormat::Cases, Encoding::Utf8Bom),
        ("cases_shift_jis", ExportFormat::Cases, Encoding::ShiftJis),
        ("opendata_shift_jis", ExportFormat::OpenData, Encoding::ShiftJis),
    ] {
        let path = tmp.join(format!("{name}.csv"));
        let before = rss_mib();
        let t = Instant::now();
        let (summary, peak) = with_peak_rss(|| desk.export(&path, format, encoding, &mut |_, _| {}));
        let summary = summary?;
        let secs = t.elapsed().as_secs_f64();
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        std::fs::remove_file(&path).ok();
        out.insert(
            name.into(),
            json!({
                "cases": summary.cases,
                "seconds": round(secs),
                "file_mib": round(size as f64 / 1048576.0),
                "rss_before_mib": round(before),
                "rss_peak_mib": round(peak),
                "rss_growth_mib": round(peak - before),
            }),
        );
    }
    out.insert("target".into(), json!("<= 10 s, memory flat"));
    Ok(Value::Object(out))
}
