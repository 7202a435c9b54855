//! Times raw SQL on a measured desk: `probe DIR "SQL" [cache_kib]` (`"!SQL; SQL"` runs a batch).
use std::time::Instant;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let conn = rusqlite::Connection::open(std::path::Path::new(&a[1]).join("desk.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "03".repeat(32))).unwrap();
    let cache: i64 = a.get(3).map(|s| s.parse().unwrap()).unwrap_or(65536);
    conn.execute_batch(&format!("PRAGMA cache_size = -{cache};")).unwrap();
    if let Some(batch) = a[2].strip_prefix('!') {
        let t = Instant::now();
        conn.execute_batch(batch).unwrap();
        println!("batch in {:.1} s", t.elapsed().as_secs_f64());
        return;
    }
    for round in 0..3 {
        let t = Instant::now();
        let mut s = conn.prepare(&a[2]).unwrap();
        let n = s.query_map([], |_| Ok(())).unwrap().count();
        println!("round {round}: {n} rows in {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    }
}
