//! Desk settings kept inside the encrypted database (`meta` table): which
//! organisation this desk works for, and other small facts. Not personal data,
//! but kept encrypted all the same so that a stolen file says nothing.

use rusqlite::{params, OptionalExtension};

use crate::desk::Desk;
use crate::error::Result;

/// The organisation code (health centre, clinic …) this desk works for.
pub const ORG_CODE: &str = "org_code";

impl Desk {
    /// A setting's value, if set.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
    }

    /// Removes a setting.
    pub fn delete_setting(&mut self, key: &str) -> Result<()> {
        self.conn.execute("DELETE FROM meta WHERE key = ?1", params![key])?;
        Ok(())
    }

    /// Sets a setting (durably, like every other write).
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

impl Desk {
    /// Space used by each table and index, largest first, in MiB (from
    /// SQLite's `dbstat`), for capacity planning.
    pub fn space_by_object(&self) -> Result<Vec<(String, f64)>> {
        let mut stmt = self.conn.prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as f64 / 1048576.0)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
