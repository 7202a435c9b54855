//! 監査ログ — every read and write of personal data: who, when, which record,
//! which device. Hash-chained: each entry stores the previous entry's hash,
//! and `audit_head` the last one, so an edited, deleted or truncated entry is
//! detected by [`verify`].

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::db::{insert_rows, DbError, Tx};
use crate::schema::next_values;
use crate::scope::Principal;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[allow(clippy::too_many_arguments)]
fn entry_hash(prev: &str, seq: i64, at: &str, staff: &str, org: &str, device: &str, action: &str, entity: &str, entity_id: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, &seq.to_string(), at, staff, org, device, action, entity, entity_id] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// Appends one entry in the caller's transaction.
pub fn append(tx: &mut dyn Tx, at: DateTime<Utc>, who: &Principal, action: &str, entity: &str, entity_id: &str) -> Result<(), DbError> {
    append_raw(tx, at, &who.login, &who.org, &who.device_id, action, entity, entity_id)
}

#[allow(clippy::too_many_arguments)]
pub fn append_raw(
    tx: &mut dyn Tx,
    at: DateTime<Utc>,
    staff: &str,
    org: &str,
    device: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
) -> Result<(), DbError> {
    let mut entries = Entries::default();
    entries.add_raw(at, staff, org, device, action, entity, entity_id);
    entries.write(tx)
}

/// Entries gathered during a unit of work (a push batch, a pull page) and
/// chained when it ends: the chain head is locked only from [`Entries::write`]
/// to commit, and all of them go in one statement.
#[derive(Default)]
pub struct Entries(Vec<[String; 7]>);

impl Entries {
    pub fn add(&mut self, at: DateTime<Utc>, who: &Principal, action: &str, entity: &str, entity_id: &str) {
        self.add_raw(at, &who.login, &who.org, &who.device_id, action, entity, entity_id)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_raw(&mut self, at: DateTime<Utc>, staff: &str, org: &str, device: &str, action: &str, entity: &str, entity_id: &str) {
        let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
        self.0.push([at, staff.into(), org.into(), device.into(), action.into(), entity.into(), entity_id.into()]);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Chains and writes the entries in the caller's transaction.
    pub fn write(self, tx: &mut dyn Tx) -> Result<(), DbError> {
        if self.0.is_empty() {
            return Ok(());
        }
        // Taking the numbers locks the counter row to commit: appenders queue here.
        let last = next_values(tx, "audit", self.0.len() as i64)?;
        let mut seq = last - self.0.len() as i64;
        let mut prev = match tx.query_opt("SELECT hash FROM audit_head WHERE id = 1", &[])? {
            Some(r) => r[0].text()?,
            None => GENESIS.to_string(),
        };
        let mut rows = Vec::with_capacity(self.0.len());
        for [at, staff, org, device, action, entity, entity_id] in self.0 {
            seq += 1;
            let hash = entry_hash(&prev, seq, &at, &staff, &org, &device, &action, &entity, &entity_id);
            let prev_hash = std::mem::replace(&mut prev, hash.clone());
            rows.push(vec![
                seq.into(),
                at.into(),
                staff.into(),
                org.into(),
                device.into(),
                action.into(),
                entity.into(),
                entity_id.into(),
                prev_hash.into(),
                hash.into(),
            ]);
        }
        insert_rows(tx, "audit", &["seq", "at", "staff", "org", "device", "action", "entity", "entity_id", "prev_hash", "hash"], &rows)?;
        if tx.exec("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", &[seq.into(), prev.clone().into()])? == 0 {
            tx.exec("INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)", &[seq.into(), prev.into()])?;
        }
        Ok(())
    }
}

/// The first break in the chain, if any; otherwise the number of entries.
pub fn verify(tx: &mut dyn Tx) -> Result<Result<u64, String>, DbError> {
    let rows = tx.query("SELECT seq, at, staff, org, device, action, entity, entity_id, prev_hash, hash FROM audit ORDER BY seq", &[])?;
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1;
    for r in &rows {
        let seq = r[0].int()?;
        let t = |i: usize| r[i].text();
        if seq != expected_seq {
            return Ok(Err(format!("entry {expected_seq} is missing (next is {seq})")));
        }
        if t(8)? != prev {
            return Ok(Err(format!("entry {seq} does not follow entry {}: an entry was removed or replaced", seq - 1)));
        }
        let hash = entry_hash(&prev, seq, &t(1)?, &t(2)?, &t(3)?, &t(4)?, &t(5)?, &t(6)?, &t(7)?);
        if hash != t(9)? {
            return Ok(Err(format!("entry {seq} was altered (its hash does not match its content)")));
        }
        prev = hash;
        expected_seq += 1;
    }
    let head = tx.query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    match head {
        None if rows.is_empty() => Ok(Ok(0)),
        None => Ok(Err("the chain head is missing".into())),
        Some(h) if h[0].int()? != expected_seq - 1 || h[1].text()? != prev => {
            Ok(Err(format!("the log ends at entry {} but the chain head is entry {}: entries were removed", expected_seq - 1, h[0].int()?)))
        }
        Some(_) => Ok(Ok(rows.len() as u64)),
    }
}
