//! 健康観察 — observations are append-only: added, never edited or removed
//! (a correction is a new observation that supersedes).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use todoke_domain::{Actor, Observation};

use crate::cases::Now;
use crate::codec;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::outbox::{insert_op, kind, NewOp};

/// Sortable UTC text of when it was observed (offsets differ between entries).
pub(crate) fn observed_key(obs: &Observation) -> Option<String> {
    obs.observed_at.map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Writes an observation and its "observation.add" op.
pub(crate) fn write_observation(conn: &Connection, obs: &Observation, now: &Now) -> Result<()> {
    if obs.id.is_nil() || obs.case_id.is_nil() {
        return Err(StoreError::Validation("the observation has no id or no case id".into()));
    }
    let case_id = obs.case_id.to_string();
    let exists = conn.prepare_cached("SELECT 1 FROM case_record WHERE id = ?1")?.query_row([&case_id], |_| Ok(())).optional()?;
    if exists.is_none() {
        return Err(StoreError::NotFound { what: "case", id: case_id });
    }
    let doc = serde_json::to_string(obs).expect("an Observation serialises");
    insert_op(
        conn,
        &NewOp {
            op_id: uuid::Uuid::now_v7(),
            entity: "observation",
            entity_id: obs.id.to_string(),
            case_id: Some(obs.case_id),
            kind: kind::OBSERVATION_ADD,
            payload: format!("{{\"observation\":{doc}}}"),
            base_versions: "{}".into(),
            created_at: &now.text,
        },
    )?;
    conn.prepare_cached("INSERT INTO observation (id, case_id, observed_at, doc) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![obs.id.to_string(), case_id, observed_key(obs), codec::pack(&doc)])
        .map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
                StoreError::AlreadyExists { what: "observation", id: obs.id.to_string() }
            }
            _ => e.into(),
        })?;
    Ok(())
}

pub(crate) fn load_observations(conn: &Connection, case_id: &str) -> Result<Vec<Observation>> {
    let mut stmt = conn.prepare_cached("SELECT id, doc FROM observation WHERE case_id = ?1 ORDER BY observed_at, rid")?;
    let rows = stmt.query_map([case_id], |r| Ok((r.get::<_, String>(0)?, codec::parse::<Observation>(r.get_ref(1)?))))?;
    rows.map(|row| {
        let (id, obs) = row?;
        obs.map_err(|message| StoreError::Corrupt { what: "observation", id, message })
    })
    .collect()
}

impl Desk {
    /// Appends a health observation to a case, with its "observation.add" op.
    /// The actor is recorded by the observation itself (`entered_by`).
    pub fn add_observation(&mut self, obs: &Observation, _actor: &Actor) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_observation(&tx, obs, &Now::new())?;
        tx.commit()?;
        Ok(())
    }

    /// Appends many observations, `batch_size` per transaction.
    pub fn bulk_add_observations(&mut self, observations: impl IntoIterator<Item = Observation>, batch_size: usize) -> Result<usize> {
        let mut observations = observations.into_iter().peekable();
        let mut written = 0;
        while observations.peek().is_some() {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = Now::new();
            for obs in observations.by_ref().take(batch_size.max(1)) {
                write_observation(&tx, &obs, &now)?;
                written += 1;
            }
            tx.commit()?;
        }
        Ok(written)
    }
}
