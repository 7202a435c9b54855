//! Space used per table and index of a desk (needs the desk's key in
//! TODOKE_DESK_KEY): `cargo run --release -p todoke-store --example table_sizes -- DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: table_sizes DESK_DIR")?;
    let desk = todoke_store::Desk::open(std::path::Path::new(&dir), &todoke_store::EnvKey::new())?;
    for (name, mib) in desk.space_by_object()? {
        println!("{mib:>10.1} MiB  {name}");
    }
    Ok(())
}
