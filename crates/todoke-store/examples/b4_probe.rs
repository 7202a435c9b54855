use std::time::Instant;
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let keys = todoke_store::MemoryKeys::fixed([7u8; 32]);
    let desk = todoke_store::Desk::open(&dir, &keys).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let rows = desk.report_rows().unwrap();
        let b = t.elapsed().as_secs_f64();
        println!("rows {} in {b:.3}s", rows.len());
    }
}
