//! Opening and creating a desk: the folder, the key, the encrypted
//! connection and its settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::desk_dir::{create_dir, DeskInfo, DB_FILE};
use crate::error::{Result, StoreError};
use crate::keys::{DeskId, DeskKey, KeyProvider, SecretText};
use crate::schema::{migrate, SCHEMA_VERSION};

/// The page cache of an open desk (KiB): SQLite fills it only as pages are
/// read, so an idle desk stays small.
pub(crate) const CACHE_KIB: i64 = 64 * 1024;

/// What a committed change survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: the WAL is fsynced at every commit; a change the
    /// UI reported as saved survives a crash of the app, of the OS, and a
    /// power cut. The default.
    PowerLoss,
    /// `synchronous = NORMAL`: no fsync at commit (only at checkpoints); a
    /// change survives the app being killed, but the last commits before a
    /// power cut or OS crash can be lost (the database stays consistent).
    /// For re-creatable bulk work only (demo data, benchmarks of the rest).
    ProcessCrash,
}

/// One desk: its encrypted database and its id. Reads take `&self`, writes
/// `&mut self` (one connection; callers that share a desk across threads
/// put it behind a mutex).
pub struct Desk {
    pub(crate) conn: Connection,
    dir: PathBuf,
    info: DeskInfo,
}

impl Desk {
    /// Creates a desk in `dir` (made if missing): a new desk id in
    /// `desk.json`, a new key from `keys`, an empty encrypted database.
    pub fn init(dir: &Path, keys: &dyn KeyProvider) -> Result<Desk> {
        if DeskInfo::read(dir)?.is_some() || dir.join(DB_FILE).exists() {
            return Err(StoreError::AlreadyInitialised { dir: dir.to_path_buf() });
        }
        create_dir(dir)?;
        let info = DeskInfo { desk_id: DeskId::new(), created_at: chrono::Utc::now(), schema_version: SCHEMA_VERSION };
        // desk.json first: a crash before the database exists leaves a folder
        // that `open` reports as not initialised, never a database without its id.
        info.write(dir)?;
        let key = keys.desk_key(&info.desk_id)?;
        let conn = open_encrypted(&dir.join(DB_FILE), &key, true)?;
        Desk::ready(conn, dir, info)
    }

    /// Opens the desk in `dir` with its key from `keys`, migrating an older schema.
    pub fn open(dir: &Path, keys: &dyn KeyProvider) -> Result<Desk> {
        let not_init = || StoreError::NotInitialised { dir: dir.to_path_buf() };
        let info = DeskInfo::read(dir)?.ok_or_else(not_init)?;
        let db = dir.join(DB_FILE);
        if !db.exists() {
            return Err(not_init());
        }
        let key = keys.desk_key(&info.desk_id)?;
        let conn = open_encrypted(&db, &key, false)?;
        Desk::ready(conn, dir, info)
    }

    fn ready(mut conn: Connection, dir: &Path, mut info: DeskInfo) -> Result<Desk> {
        let version = migrate(&mut conn)?;
        if info.schema_version != version {
            info.schema_version = version;
            info.write(dir)?;
        }
        Ok(Desk { conn, dir: dir.to_path_buf(), info })
    }

    /// This desk's stable id.
    pub fn id(&self) -> DeskId {
        self.info.desk_id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn info(&self) -> &DeskInfo {
        &self.info
    }

    /// Sets how durable a commit is. The default, [`Durability::PowerLoss`],
    /// is what "saved" promises; see [`Durability`] before choosing less.
    pub fn set_durability(&self, durability: Durability) -> Result<()> {
        let level = match durability {
            Durability::PowerLoss => "FULL",
            Durability::ProcessCrash => "NORMAL",
        };
        self.conn.pragma_update(None, "synchronous", level)?;
        Ok(())
    }

    /// Sets the page cache size (default 64 MiB). A bigger cache keeps more
    /// of a large desk decrypted in memory (faster repeated searches) at the
    /// cost of resident memory; SQLite fills it only as pages are read.
    pub fn set_cache_mib(&self, mib: u32) -> Result<()> {
        self.conn.execute_batch(&format!("PRAGMA cache_size = -{};", i64::from(mib) * 1024))?;
        Ok(())
    }

    /// A number that changes whenever anything was committed to this desk, by this
    /// connection or any other (the CLI, another window, a sync run): SQLite's
    /// `data_version` (other connections' commits) plus this connection's change
    /// count. Cheap (no table is read); a window polls it to refresh what it shows.
    /// Compare for equality only: it is not a sequence.
    pub fn change_marker(&self) -> Result<u64> {
        let others: i64 = self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok((others as u64).wrapping_add(self.conn.total_changes()))
    }

    /// Refreshes the query planner's statistics (after a large import).
    pub fn optimize(&self) -> Result<()> {
        self.conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA optimize;")?;
        Ok(())
    }

    /// SQLite's own consistency check: `["ok"]` when all is well.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        // SQLite's advice: let it refresh stale statistics before closing.
        let _ = self.conn.execute_batch("PRAGMA optimize;");
    }
}

/// Opens (or creates) an SQLCipher database with a raw 256-bit key and
/// checks the key by reading the schema.
///
/// Settings, and why:
/// - raw key (`x'…'`): the key is already 256 random bits, so SQLCipher's
///   PBKDF2 (256,000 rounds, ~0.1–0.3 s) would add nothing but open time (B2);
/// - `journal_mode = WAL`: readers never block the writer; one fsync per commit;
/// - `synchronous = FULL`: with WAL, NORMAL can lose the last commits on power
///   loss, and the UI says "saved" after commit (SYNC.md property 1). FULL
///   still meets B3 (see the crate docs for the measured figures);
/// - `foreign_keys`, `busy_timeout` (another process may hold the write lock
///   briefly), a 64 MiB page cache (decrypting a page costs more than reading it),
///   `analysis_limit` so the `PRAGMA optimize` run at close stays quick on a big desk.
pub(crate) fn open_encrypted(path: &Path, key: &DeskKey, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    // A wrong key is reported as `WrongKey`; SQLCipher's own stderr log would only add noise.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let statement = SecretText(format!("PRAGMA key = \"x'{}'\";", key.to_hex().0));
    conn.execute_batch(&statement.0)?;
    drop(statement);
    check_key(&conn)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    debug_assert_eq!(mode.to_ascii_lowercase(), "wal");
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA analysis_limit = 400;",
    )?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB};"))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// A wrong key (or a damaged file) shows as "file is not a database" on the first read.
fn check_key(conn: &Connection) -> Result<()> {
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) =>
        {
            Err(StoreError::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}
