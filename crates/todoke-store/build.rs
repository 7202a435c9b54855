//! Turns `TODOKE_KEYRING_TESTS=1` into the `keyring_tests` cfg, so the tests
//! that need a real OS keyring are `#[ignore]`d unless asked for.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(keyring_tests)");
    println!("cargo::rerun-if-env-changed=TODOKE_KEYRING_TESTS");
    if std::env::var("TODOKE_KEYRING_TESTS").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=keyring_tests");
    }
}
