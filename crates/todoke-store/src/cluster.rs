//! 集団感染 — clusters: small named records that cases link to. Edits are
//! sent as field changes, like cases.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use todoke_domain::diff::value_changes;
use todoke_domain::{Actor, Cluster};
use uuid::Uuid;

use crate::cases::Now;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::outbox::{base_versions, insert_op, kind, NewOp};

/// A stored cluster with its local revision.
pub(crate) fn load_cluster(conn: &Connection, id: Uuid) -> Result<Option<(Cluster, i64)>> {
    let row = conn
        .prepare_cached("SELECT doc, rev FROM cluster WHERE id = ?1")?
        .query_row([id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .optional()?;
    row.map(|(doc, rev)| {
        let cluster =
            serde_json::from_str(&doc).map_err(|e| StoreError::Corrupt { what: "cluster", id: id.to_string(), message: e.to_string() })?;
        Ok((cluster, rev))
    })
    .transpose()
}

impl Desk {
    /// Creates or edits a cluster ("cluster.create" with the whole record,
    /// or "cluster.update" with field changes); an unchanged cluster writes
    /// nothing. Returns the local revision.
    pub fn upsert_cluster(&mut self, cluster: &Cluster, _actor: &Actor) -> Result<i64> {
        if cluster.id.is_nil() {
            return Err(StoreError::Validation("the cluster has no id".into()));
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = Now::new();
        let id = cluster.id.to_string();
        let new_json = serde_json::to_value(cluster).expect("a Cluster serialises");
        let (kind, payload, base, rev) = match load_cluster(&tx, cluster.id)? {
            None => (kind::CLUSTER_CREATE, format!("{{\"cluster\":{new_json}}}"), "{}".to_string(), 1),
            Some((current, rev)) => {
                let old_json = serde_json::to_value(&current).expect("a Cluster serialises");
                let changes = value_changes(&old_json, &new_json);
                if changes.is_empty() {
                    return Ok(rev);
                }
                let payload = serde_json::json!({ "changes": changes }).to_string();
                (kind::CLUSTER_UPDATE, payload, base_versions(&tx, "cluster", &id, &changes)?, rev + 1)
            }
        };
        let seq = insert_op(
            &tx,
            &NewOp {
                op_id: Uuid::now_v7(),
                entity: "cluster",
                entity_id: id.clone(),
                case_id: None,
                kind,
                payload,
                base_versions: base,
                created_at: &now.text,
            },
        )?;
        tx.prepare_cached(
            "INSERT INTO cluster (id, rev, changed_seq, name, doc) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, changed_seq = excluded.changed_seq,
                 name = excluded.name, doc = excluded.doc",
        )?
        .execute(params![id, rev, seq, cluster.name, new_json.to_string()])?;
        tx.commit()?;
        Ok(rev)
    }

    /// One cluster.
    pub fn cluster(&self, id: Uuid) -> Result<Option<Cluster>> {
        Ok(load_cluster(&self.conn, id)?.map(|(c, _)| c))
    }

    /// Every cluster on the desk, by name.
    pub fn clusters(&self) -> Result<Vec<Cluster>> {
        let mut stmt = self.conn.prepare_cached("SELECT id, doc FROM cluster ORDER BY name, id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (id, doc) = row?;
            serde_json::from_str(&doc).map_err(|e| StoreError::Corrupt { what: "cluster", id, message: e.to_string() })
        })
        .collect()
    }
}
