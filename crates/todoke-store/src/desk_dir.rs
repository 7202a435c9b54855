//! The desk folder: `desk.json` (clear text, no personal data: the desk id,
//! when it was made, the schema version) beside the encrypted `desk.db`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::keys::DeskId;

/// The environment variable naming the desk folder.
pub const DESK_DIR_VAR: &str = "TODOKE_DESK_DIR";
pub(crate) const INFO_FILE: &str = "desk.json";
pub(crate) const DB_FILE: &str = "desk.db";

/// The desk folder: `--desk DIR`, else `$TODOKE_DESK_DIR`, else the
/// platform's data folder (`~/.local/share/todoke/desk` on Linux).
pub fn resolve_desk_dir(cli_arg: Option<&Path>) -> PathBuf {
    if let Some(dir) = cli_arg {
        return dir.to_path_buf();
    }
    match std::env::var_os(DESK_DIR_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("todoke").join("desk"),
    }
}

/// What `desk.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskInfo {
    pub desk_id: DeskId,
    pub created_at: DateTime<Utc>,
    /// The schema version the database was last migrated to (informative:
    /// the database's own `user_version` is what counts).
    pub schema_version: i64,
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io { path: path.to_path_buf(), message: e.to_string() }
}

impl DeskInfo {
    pub(crate) fn read(dir: &Path) -> Result<Option<DeskInfo>> {
        let path = dir.join(INFO_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| io_error(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// Writes atomically (temporary file, fsync, rename).
    pub(crate) fn write(&self, dir: &Path) -> Result<()> {
        use std::io::Write;
        let path = dir.join(INFO_FILE);
        let tmp = dir.join(format!("{INFO_FILE}.tmp"));
        let text = serde_json::to_vec_pretty(self).expect("DeskInfo serialises");
        let mut file = std::fs::File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
        file.write_all(&text).and_then(|_| file.sync_all()).map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))
    }
}

pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))
}
