//! S3: the desk database is encrypted at rest and opens only with its key.

mod common;

use common::*;
use todoke_store::{Desk, DeskKey, EnvKey, KeyError, KeyProvider, KeyringKeys, MemoryKeys, StoreError};

const NAME: &str = "秘密山 花子";
const KANA: &str = "ヒミツヤマ ハナコ";

fn desk_with_patient() -> TestDesk {
    let mut t = new_desk();
    t.desk.create_case(&case(NAME, KANA, "090-1111-2222", date(2022, 8, 1)), &actor()).expect("create");
    t
}

#[test]
fn database_file_cannot_be_read_without_the_key() {
    let t = desk_with_patient();
    let db = t.dir.path().join("desk.db");
    drop(t.desk); // closes and checkpoints the WAL into desk.db

    let plain = rusqlite::Connection::open(&db).expect("sqlite opens any file lazily");
    let err = plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).unwrap_err();
    assert!(err.to_string().contains("file is not a database"), "{err}");

    for file in ["desk.db", "desk.db-wal"] {
        let Ok(bytes) = std::fs::read(t.dir.path().join(file)) else { continue };
        assert!(!bytes.starts_with(b"SQLite format 3"), "{file} has a clear SQLite header");
        for needle in [NAME, KANA, "09011112222", "090-1111-2222"] {
            assert!(!contains(&bytes, needle.as_bytes()), "{file} holds {needle} in clear");
        }
    }
}

/// The check above is meaningful: decrypted, the same database holds the
/// patient's name, reading and phone as bytes a search finds (the searchable
/// columns are stored as they are; only the documents are compressed).
#[test]
fn decrypted_the_database_shows_the_patient() {
    let dir = tempfile::tempdir().unwrap();
    let key = [9u8; 32];
    let mut desk = Desk::init(dir.path(), &MemoryKeys::fixed(key)).unwrap();
    desk.create_case(&case(NAME, KANA, "090-1111-2222", date(2022, 8, 1)), &actor()).unwrap();
    drop(desk);
    let conn = rusqlite::Connection::open(dir.path().join("desk.db")).unwrap();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let plain = dir.path().join("plain.db");
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{hex}'\"; ATTACH DATABASE '{}' AS plaintext KEY ''; SELECT sqlcipher_export('plaintext'); DETACH DATABASE plaintext;",
        plain.display()
    ))
    .unwrap();
    let bytes = std::fs::read(&plain).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3"));
    for needle in [NAME, KANA, "09011112222", "090-1111-2222"] {
        assert!(contains(&bytes, needle.as_bytes()), "the decrypted copy lacks {needle}");
    }
}

#[test]
fn desk_json_holds_no_personal_data_and_no_key() {
    let t = desk_with_patient();
    let text = std::fs::read_to_string(t.dir.path().join("desk.json")).expect("desk.json");
    assert!(!text.contains("秘密山") && !text.contains("key"), "{text}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(value["desk_id"], t.desk.id().to_string());
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn wrong_key_is_a_clear_error() {
    let t = desk_with_patient();
    let id = t.desk.id();
    drop(t.desk);
    let other = MemoryKeys::new();
    other.insert(id, DeskKey::random().unwrap());
    let err = Desk::open(t.dir.path(), &other).err().expect("must not open");
    assert!(matches!(err, StoreError::WrongKey), "{err:?}");
    assert_eq!(err.code(), "wrong_key");
    assert_eq!(err.message_ja(), "鍵が違うか、デスクのデータベースが壊れています。");
    // the right key still opens it
    let desk = Desk::open(t.dir.path(), &t.keys).expect("right key");
    assert_eq!(desk.case_count().unwrap(), 1);
}

#[test]
fn open_needs_an_initialised_desk_and_init_refuses_twice() {
    let dir = tempfile::tempdir().unwrap();
    let keys = MemoryKeys::new();
    assert!(matches!(Desk::open(dir.path(), &keys), Err(StoreError::NotInitialised { .. })));
    let desk = Desk::init(dir.path(), &keys).unwrap();
    drop(desk);
    assert!(matches!(Desk::init(dir.path(), &keys), Err(StoreError::AlreadyInitialised { .. })));
}

#[test]
fn env_key_opens_and_rejects_malformed_values() {
    let var = "TODOKE_TEST_DESK_KEY_ENC";
    std::env::set_var(var, "ab".repeat(32));
    let keys = EnvKey::with_var(var);
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desk::init(dir.path(), &keys).unwrap();
    desk.create_case(&case(NAME, KANA, "", date(2022, 8, 1)), &actor()).unwrap();
    drop(desk);
    assert_eq!(Desk::open(dir.path(), &keys).unwrap().case_count().unwrap(), 1);

    std::env::set_var(var, "cd".repeat(32));
    assert!(matches!(Desk::open(dir.path(), &keys), Err(StoreError::WrongKey)));

    for bad in ["xyz", &"g".repeat(64), &"ab".repeat(31)] {
        std::env::set_var(var, bad);
        let err = keys.desk_key(&desk_id()).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { .. }), "{err:?}");
        assert!(err.to_string().contains(var) && !err.to_string().contains(bad), "{err}");
    }
    std::env::remove_var(var);
    assert!(matches!(keys.desk_key(&desk_id()), Err(KeyError::Malformed { .. })));
}

fn desk_id() -> todoke_store::DeskId {
    todoke_store::DeskId::new()
}

#[test]
fn memory_keys_give_one_key_per_desk() {
    let keys = MemoryKeys::new();
    let (a, b) = (desk_id(), desk_id());
    assert_eq!(keys.desk_key(&a).unwrap(), keys.desk_key(&a).unwrap());
    assert_ne!(keys.desk_key(&a).unwrap(), keys.desk_key(&b).unwrap());
    let fixed = MemoryKeys::fixed([7; 32]);
    assert_eq!(fixed.desk_key(&a).unwrap(), fixed.desk_key(&b).unwrap());
    assert_eq!(format!("{:?}", fixed.desk_key(&a).unwrap()), "DeskKey(<secret>)");
}

/// Uses the real Secret Service. Run it in a throw-away session keyring:
///
/// ```sh
/// dbus-run-session -- sh -c 'export XDG_DATA_HOME=$(mktemp -d); \
///   echo -n todoke-test | gnome-keyring-daemon --components=secrets --unlock >/dev/null; \
///   cargo test -p todoke-store --test encryption keyring -- --ignored'
/// ```
///
/// The password must not be empty: with an empty one gnome-keyring creates
/// no "login" collection, there is no default collection, and every store
/// fails with "no result found". `XDG_DATA_HOME` keeps the test keyring out
/// of the user's own.
#[test]
#[ignore = "needs a Secret Service: run with --ignored in a keyring session (see doc comment)"]
fn keyring_keys_create_once_and_reopen() {
    let keys = KeyringKeys::with_service("todoke-desk-test", std::time::Duration::from_secs(10));
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desk::init(dir.path(), &keys).expect("init with the keyring");
    let id = desk.id();
    desk.create_case(&case(NAME, KANA, "", date(2022, 8, 1)), &actor()).unwrap();
    drop(desk);
    let first = keys.desk_key(&id).unwrap();
    assert_eq!(first, keys.desk_key(&id).unwrap(), "the same key every time");
    assert_eq!(Desk::open(dir.path(), &keys).expect("reopen").case_count().unwrap(), 1);
    keys.delete(&id).unwrap();
    // A desk whose key is gone cannot be opened (a new random key is made and does not fit).
    assert!(matches!(Desk::open(dir.path(), &keys), Err(StoreError::WrongKey)));
    keys.delete(&id).unwrap();
}
