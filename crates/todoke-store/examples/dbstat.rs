//! Space per table and index of a desk (uses the dbstat virtual table).
//! `cargo run --release -p todoke-store --example dbstat -- DIR HEXKEY`
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let conn = rusqlite::Connection::open(std::path::Path::new(&args[1]).join("desk.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", args[2])).unwrap();
    let mut s = conn.prepare("SELECT name, count(*), sum(pgsize)/1048576.0 FROM dbstat GROUP BY name ORDER BY 3 DESC").unwrap();
    let rows = s.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, f64>(2)?))).unwrap();
    for r in rows {
        let (name, pages, mib) = r.unwrap();
        println!("{name:<28} {pages:>9} pages {mib:>9.1} MiB");
    }
}
