//! Measures the store at size: bulk create, search (B1), open (B2), edit (B3)
//! and a full scan, on a real encrypted desk of synthetic cases.
//!
//! ```sh
//! cargo run --release -p todoke-store --example store_measure -- 1000000 /var/tmp/measure-desk
//! ```
//! The desk folder is reused when it exists (delete it to regenerate).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use todoke_domain::*;
use todoke_store::{CaseQuery, Desk, MemoryKeys, SortKey};
use uuid::Uuid;

const SURNAMES: &[(&str, &str, u32)] = &[
    ("佐藤", "サトウ", 190),
    ("鈴木", "スズキ", 180),
    ("高橋", "タカハシ", 140),
    ("田中", "タナカ", 135),
    ("伊藤", "イトウ", 110),
    ("渡辺", "ワタナベ", 110),
    ("山本", "ヤマモト", 110),
    ("中村", "ナカムラ", 105),
    ("小林", "コバヤシ", 100),
    ("加藤", "カトウ", 90),
    ("吉田", "ヨシダ", 85),
    ("山田", "ヤマダ", 80),
    ("佐々木", "ササキ", 70),
    ("山口", "ヤマグチ", 65),
    ("松本", "マツモト", 63),
    ("井上", "イノウエ", 60),
    ("木村", "キムラ", 58),
    ("林", "ハヤシ", 55),
    ("斎藤", "サイトウ", 55),
    ("清水", "シミズ", 54),
    ("山崎", "ヤマザキ", 50),
    ("森", "モリ", 48),
    ("池田", "イケダ", 45),
    ("橋本", "ハシモト", 45),
    ("阿部", "アベ", 44),
    ("石川", "イシカワ", 43),
    ("山下", "ヤマシタ", 42),
    ("中島", "ナカジマ", 41),
    ("石井", "イシイ", 40),
    ("小川", "オガワ", 39),
    ("前田", "マエダ", 38),
    ("岡田", "オカダ", 37),
    ("長谷川", "ハセガワ", 36),
    ("藤田", "フジタ", 35),
    ("後藤", "ゴトウ", 34),
    ("近藤", "コンドウ", 33),
    ("村上", "ムラカミ", 32),
    ("遠藤", "エンドウ", 31),
    ("青木", "アオキ", 30),
    ("坂本", "サカモト", 30),
    ("鬼塚", "オニツカ", 2),
    ("勅使河原", "テシガワラ", 1),
    ("小鳥遊", "タカナシ", 1),
    ("五十嵐", "イガラシ", 15),
];
const GIVEN: &[(&str, &str)] = &[
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("優子", "ユウコ"),
    ("翔太", "ショウタ"),
    ("美咲", "ミサキ"),
    ("健", "ケン"),
    ("陽菜", "ヒナ"),
    ("大輔", "ダイスケ"),
    ("さくら", "サクラ"),
    ("誠", "マコト"),
    ("愛", "アイ"),
    ("蓮", "レン"),
    ("結衣", "ユイ"),
    ("拓也", "タクヤ"),
    ("彩", "アヤ"),
    ("直樹", "ナオキ"),
    ("恵子", "ケイコ"),
    ("浩", "ヒロシ"),
    ("由美", "ユミ"),
    ("悠真", "ユウマ"),
    ("葵", "アオイ"),
    ("和夫", "カズオ"),
    ("幸子", "サチコ"),
    ("隆", "タカシ"),
    ("明美", "アケミ"),
    ("湊", "ミナト"),
    ("凛", "リン"),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn surname(rng: &mut Rng) -> (&'static str, &'static str) {
    let total: u32 = SURNAMES.iter().map(|s| s.2).sum();
    let mut x = rng.below(total as u64) as u32;
    for (k, r, w) in SURNAMES {
        if x < *w {
            return (k, r);
        }
        x -= w;
    }
    (SURNAMES[0].0, SURNAMES[0].1)
}

fn make_case(rng: &mut Rng) -> Case {
    let (sk, sr) = surname(rng);
    let (gk, gr) = GIVEN[rng.below(GIVEN.len() as u64) as usize];
    let start = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    let report = start + chrono::Days::new(rng.below(1000));
    let mut c = Case { id: Uuid::now_v7(), origin: Some(Origin::Generated), ..Default::default() };
    c.basic.name = format!("{sk} {gk}");
    c.basic.name_kana = format!("{sr} {gr}");
    c.basic.birth_date = NaiveDate::from_ymd_opt(1930 + rng.below(90) as i32, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32);
    c.basic.sex = Some(if rng.below(2) == 0 { Sex::Male } else { Sex::Female });
    c.basic.phone =
        if rng.below(10) < 8 { format!("0{}0-{:04}-{:04}", 7 + rng.below(3), rng.below(10000), rng.below(10000)) } else { String::new() };
    c.basic.residence.text = "東京都世田谷区太子堂1-2-3".into();
    c.basic.residence.municipality_code = "131121".into();
    c.jurisdiction.responsible_health_centre = format!("HC13{:04}", rng.below(30));
    c.notification.diagnosis_class = Some(DiagnosisClass::ALL[rng.below(3) as usize]);
    c.notification.diagnosis_date = Some(report);
    c.notification.report_date = Some(report);
    c.notification.onset_date = Some(report - chrono::Days::new(rng.below(4)));
    c.notification.symptoms = vec![Symptom::Fever, Symptom::Cough];
    c.notification.doctor.name = "医師 次郎".into();
    c.notification.doctor.institution_name = "○○クリニック".into();
    if rng.below(3) > 0 {
        c.notification.health_centre_confirmation = Some(todoke_domain::notification::Confirmation { on: report, by: "hc".into() });
    }
    c.measures.current_status = Some(CurrentStatus::ALL[rng.below(CurrentStatus::ALL.len() as u64) as usize]);
    c.measures.status_updated_on = Some(report + chrono::Days::new(rng.below(10)));
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

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

fn report(name: &str, v: Vec<Duration>) {
    let n = v.len();
    println!("{name:<34} n={n:<5} p50={:>7.3} ms  p95={:>7.3} ms  max={:>8.3} ms", pct(v.clone(), 0.5), pct(v.clone(), 0.95), pct(v, 1.0));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(100_000);
    let dir = PathBuf::from(args.get(2).cloned().unwrap_or_else(|| format!("/var/tmp/todoke-measure-{n}")));
    let keys = MemoryKeys::fixed([3; 32]);
    let actor = Actor { login: "measure".into(), org_code: "HC131121".into() };
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut desk = if dir.join("desk.db").exists() {
        let t = Instant::now();
        let d = Desk::open(&dir, &keys).unwrap();
        println!("open existing desk: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
        d
    } else {
        let mut desk = Desk::init(&dir, &keys).unwrap();
        let sample = make_case(&mut rng);
        println!("doc size of a generated case: {} bytes", serde_json::to_string(&sample).unwrap().len());
        let t = Instant::now();
        let mut last = Instant::now();
        let cases = (0..n).map(|_| make_case(&mut rng));
        desk.bulk_create(cases, &actor, 2000, &mut |done| {
            if last.elapsed() > Duration::from_secs(15) {
                println!("  {done} cases, {:.0}/s", done as f64 / t.elapsed().as_secs_f64());
                last = Instant::now();
            }
        })
        .unwrap();
        let secs = t.elapsed().as_secs_f64();
        println!("bulk_create {n}: {secs:.1} s = {:.0} cases/s", n as f64 / secs);
        let t = Instant::now();
        desk.optimize().unwrap();
        println!("optimize (ANALYZE): {:.1} s", t.elapsed().as_secs_f64());
        desk
    };
    if let Ok(mib) = std::env::var("CACHE_MIB") {
        desk.set_cache_mib(mib.parse().unwrap()).unwrap();
        println!("page cache: {mib} MiB");
    }
    let size =
        std::fs::metadata(dir.join("desk.db")).unwrap().len() + std::fs::metadata(dir.join("desk.db-wal")).map(|m| m.len()).unwrap_or(0);
    println!("database size: {:.0} MiB", size as f64 / 1048576.0);

    if let Ok(text) = std::env::var("EXPLAIN_TEXT") {
        let q = CaseQuery { text: Some(text), limit: Some(50), ..Default::default() };
        println!("{}", desk.explain_search(&q).unwrap().join("\n"));
        for _ in 0..3 {
            let t = Instant::now();
            let n = desk.search(&q).unwrap().len();
            println!("{n} rows in {:.2} ms", t.elapsed().as_secs_f64() * 1000.0);
        }
        return;
    }
    // Sample real people for the queries.
    let t = Instant::now();
    let total = desk.case_count().unwrap();
    println!("case_count: {total} in {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    let mut people = Vec::new();
    for _ in 0..40 {
        let q = CaseQuery {
            limit: Some(10),
            offset: rng.below(total.saturating_sub(10)) as usize,
            sort: SortKey::LastChange,
            ..Default::default()
        };
        people.extend(desk.search(&q).unwrap());
    }

    type MakeText = Box<dyn Fn(&todoke_store::CaseSummary) -> String>;
    let kinds: Vec<(&str, MakeText)> = vec![
        ("kana 1 char (hiragana)", Box::new(|c| hira(&c.name_kana.chars().take(1).collect::<String>()))),
        ("kana 2 chars", Box::new(|c| c.name_kana.chars().take(2).collect())),
        ("kana 3 chars (katakana)", Box::new(|c| c.name_kana.chars().take(3).collect())),
        ("kana full name (hiragana)", Box::new(|c| hira(&c.name_kana))),
        ("kanji family name", Box::new(|c| c.name.split(' ').next().unwrap().to_string())),
        ("kanji given name", Box::new(|c| c.name.split(' ').nth(1).unwrap().to_string())),
        ("kanji 1 char", Box::new(|c| c.name.chars().take(1).collect())),
        ("kanji full name", Box::new(|c| c.name.clone())),
        ("phone full", Box::new(|c| c.phone.clone())),
        ("phone 7 digits", Box::new(|c| c.phone.chars().take(8).collect())),
        ("id prefix 13", Box::new(|c| c.id.to_string()[..13].to_string())),
        ("id full", Box::new(|c| c.id.to_string())),
    ];
    let mut all = Vec::new();
    if std::env::var_os("EXPLAIN").is_some() {
        for (name, make) in &kinds {
            for filtered in [false, true] {
                let mut q = CaseQuery { text: Some(make(&people[0])), limit: Some(50), ..Default::default() };
                if filtered {
                    q.status = Some(CurrentStatus::HomeRecovery);
                    q.report_from = NaiveDate::from_ymd_opt(2021, 1, 1);
                }
                println!("{name} {:?} filtered={filtered}:\n  {}", q.text, desk.explain_search(&q).unwrap().join("\n  "));
            }
        }
    }
    for (name, make) in &kinds {
        for filtered in [false, true] {
            let mut lat = Vec::new();
            for p in people.iter().take(200) {
                let text = make(p);
                if text.is_empty() {
                    continue;
                }
                let mut q = CaseQuery { text: Some(text), limit: Some(50), ..Default::default() };
                if filtered {
                    q.status = Some(CurrentStatus::HomeRecovery);
                    q.report_from = NaiveDate::from_ymd_opt(2021, 1, 1);
                }
                let t = Instant::now();
                let rows = desk.search(&q).unwrap();
                lat.push(t.elapsed());
                assert!(filtered || !rows.is_empty(), "{name}: {:?} found nothing", q.text);
            }
            all.extend(lat.iter().copied());
            report(&format!("B1 {name}{}", if filtered { " +filters" } else { "" }), lat);
        }
    }
    for (name, q) in [
        ("list: newest 50", CaseQuery { limit: Some(50), ..Default::default() }),
        ("list: status, newest 50", CaseQuery { status: Some(CurrentStatus::Died), limit: Some(50), ..Default::default() }),
        ("list: unconfirmed, 50", CaseQuery { unconfirmed_only: true, limit: Some(50), ..Default::default() }),
        ("list: by name, 50", CaseQuery { sort: SortKey::Name, ascending: true, limit: Some(50), ..Default::default() }),
        (
            "list: hc + date range",
            CaseQuery {
                responsible_health_centre: Some("HC130007".into()),
                report_from: NaiveDate::from_ymd_opt(2021, 6, 1),
                report_to: NaiveDate::from_ymd_opt(2021, 6, 30),
                limit: Some(50),
                ..Default::default()
            },
        ),
    ] {
        let lat: Vec<Duration> = (0..50)
            .map(|_| {
                let t = Instant::now();
                desk.search(&q).unwrap();
                t.elapsed()
            })
            .collect();
        all.extend(lat.iter().copied());
        report(&format!("B1 {name}"), lat);
    }
    report("B1 ALL", all);
    let t = Instant::now();
    let c = desk.count(&CaseQuery { status: Some(CurrentStatus::HomeRecovery), ..Default::default() }).unwrap();
    println!("count(status=home_recovery) = {c} in {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);

    // B2: fill some cases with 4 tests, contacts, 14 observations, some history.
    let ids: Vec<Uuid> = people.iter().take(100).map(|p| p.id).collect();
    for id in &ids {
        let mut c = desk.get_case(*id).unwrap().unwrap();
        while c.tests.len() < 4 {
            let mut t = c.tests[0].clone();
            t.id = Uuid::now_v7();
            c.tests.push(t);
        }
        c.investigation.contacts = (0..3)
            .map(|i| Contact { id: Uuid::now_v7(), name: format!("接触 {i}"), kind: Some(ContactKind::Household), ..Default::default() })
            .collect();
        desk.update_case(&c, &actor).unwrap();
        c.measures.hospital = "○○病院".into();
        desk.update_case(&c, &actor).unwrap();
        let obs: Vec<Observation> = (0..14)
            .map(|d| Observation {
                id: Uuid::now_v7(),
                case_id: *id,
                observed_at: Some(chrono::DateTime::parse_from_rfc3339(&format!("2022-08-{:02}T09:00:00+09:00", d + 1)).unwrap()),
                temperature: Some(36.5),
                spo2: Some(97),
                ..Default::default()
            })
            .collect();
        desk.bulk_add_observations(obs, 100).unwrap();
    }
    let lat: Vec<Duration> = (0..500)
        .map(|i| {
            let t = Instant::now();
            let d = desk.open_case(ids[i % ids.len()]).unwrap().unwrap();
            assert_eq!(d.observations.len(), 14);
            t.elapsed()
        })
        .collect();
    report("B2 open_case (4 tests, 14 obs)", lat);

    // B3: single durable edits, then the same many in one transaction.
    for durability in [todoke_store::Durability::PowerLoss, todoke_store::Durability::ProcessCrash, todoke_store::Durability::PowerLoss] {
        desk.set_durability(durability).unwrap();
        let mut lat = Vec::new();
        for (i, p) in people.iter().cycle().take(300).enumerate() {
            let mut c = desk.get_case(p.id).unwrap().unwrap();
            c.basic.email = format!("m{i}-{durability:?}@example.jp");
            let t = Instant::now();
            desk.update_case(&c, &actor).unwrap();
            lat.push(t.elapsed());
        }
        report(&format!("B3 update_case ({durability:?})"), lat);
        let t = Instant::now();
        for (i, p) in people.iter().cycle().take(2000).enumerate() {
            let mut c = desk.get_case(p.id).unwrap().unwrap();
            c.basic.occupation = format!("職業{i}-{durability:?}");
            desk.update_case(&c, &actor).unwrap();
        }
        println!("B3 2000 edits back to back, each its own txn ({durability:?}): {:.0} edits/s", 2000.0 / t.elapsed().as_secs_f64());
    }
    desk.set_durability(todoke_store::Durability::PowerLoss).unwrap();
    let batch: Vec<Case> = people
        .iter()
        .take(400)
        .enumerate()
        .map(|(i, p)| {
            let mut c = desk.get_case(p.id).unwrap().unwrap();
            c.basic.occupation = format!("職{i}");
            c
        })
        .collect();
    let t = Instant::now();
    for chunk in batch.chunks(100) {
        desk.update_cases(chunk, &actor).unwrap();
    }
    println!("B3 update_cases, 100 edits per txn (PowerLoss): {:.0} edits/s", batch.len() as f64 / t.elapsed().as_secs_f64());

    let t = Instant::now();
    let mut k = 0usize;
    for c in desk.iter_cases().unwrap() {
        k += c.unwrap().basic.name.len();
    }
    println!("iter_cases over {total}: {:.1} s ({k})", t.elapsed().as_secs_f64());
}

fn hira(s: &str) -> String {
    s.chars().map(|c| if ('ァ'..='ヶ').contains(&c) { char::from_u32(c as u32 - 0x60).unwrap() } else { c }).collect()
}
