//! The wire between a desk and the central server (SYNC.md), versioned.
//!
//! Plain serde types, no I/O. Field changes are the domain's own
//! [`FieldChange`] (the shape the desk's outbox already holds), never a copy.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use todoke_domain::diff::FieldChange;

/// Version of this wire format; a server refuses what it does not speak.
pub const PROTOCOL_VERSION: u32 = 1;

fn default_version() -> u32 {
    PROTOCOL_VERSION
}

/// A `null` or absent map is an empty map (creations carry no base versions).
fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, i64>, D::Error> {
    Ok(Option::<BTreeMap<String, i64>>::deserialize(d)?.unwrap_or_default())
}

/// POST /api/sync/push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    #[serde(default = "default_version")]
    pub version: u32,
    pub desk_id: String,
    pub ops: Vec<Op>,
}

/// One queued operation, as the desk's outbox holds it (`todoke_store::outbox::OutboxOp`
/// without the desk-local bookkeeping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// Client-generated UUIDv7: the server applies each op once.
    pub op_id: Uuid,
    /// The desk's local sequence (ordering within a desk; clocks never order).
    pub seq: i64,
    /// "case", "observation", …
    pub entity: String,
    pub entity_id: String,
    /// "case.create" `{"case": …}`, "case.update" `{"changes": [FieldChange…]}`,
    /// "observation.add" `{"observation": …}`.
    pub kind: String,
    pub payload: Value,
    /// For updates: field path → the server version the desk last saw it at (0 = never).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub base_versions: BTreeMap<String, i64>,
}

/// Operation kinds the server understands.
pub mod kind {
    pub const CASE_CREATE: &str = "case.create";
    pub const CASE_UPDATE: &str = "case.update";
    pub const OBSERVATION_ADD: &str = "observation.add";
    /// entity "conflict", entity_id the conflict id, payload `{"value": …}`: the
    /// chosen value is written to the field and the conflict closes.
    pub const CONFLICT_RESOLVE: &str = "conflict.resolve";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<OpResult>,
}

/// What became of one op. Re-sending an op returns the same result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpResult {
    pub op_id: Uuid,
    #[serde(flatten)]
    pub status: OpStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OpStatus {
    /// Every change written (or already equal); `server_seq` orders it.
    Applied { server_seq: i64 },
    /// The fields not listed were written; each listed field kept the server's
    /// value and a conflict record (both values, both authors) awaits a person.
    Conflict { server_seq: i64, conflicts: Vec<FieldConflict> },
    /// Refused for good: the desk parks it and shows the reason.
    Rejected { code: String, message_ja: String, message_en: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: String,
    /// `null` when `withheld`.
    pub server_value: Value,
    pub client_value: Value,
    pub conflict_id: Uuid,
    /// The case has left the pushing desk's scope (a transfer): the edit was
    /// recorded as a conflict for those who see the case now, and the value it
    /// met is not told to a desk that may no longer see it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub withheld: bool,
    /// When the kept value reached the server (RFC 3339; display only: clocks never order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_at: Option<String>,
    /// When this value reached the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_at: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// GET /api/sync/pull?cursor=&limit= . No cursor: initial download.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PullRequest {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Opaque checkpoint: save it in the transaction that applies this page.
    pub next_cursor: String,
    pub has_more: bool,
}

/// One change the desk applies.
///
/// Read through [`ChangeFields`]: serde's own reading of an internally
/// tagged enum first copies every value into a buffer (a page of whole
/// records twice over); a flat struct reads each value once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "ChangeFields")]
pub enum Change {
    /// The whole current record (initial download; a case entering the desk's scope).
    Put {
        server_seq: i64,
        entity: String,
        entity_id: String,
        case_id: Uuid,
        doc: Value,
        /// Field path → server version, to become the desk's `field_version`.
        field_versions: BTreeMap<String, i64>,
    },
    /// Field changes written at `server_seq`.
    Patch { server_seq: i64, entity: String, entity_id: String, case_id: Uuid, changes: Vec<FieldChange>, op_id: Option<Uuid> },
    /// The case left the desk's scope (e.g. a transfer of 担当保健所): push
    /// pending edits of it, then remove its personal data locally.
    ScopeLeft { server_seq: i64, case_id: Uuid },
    /// A conflict recorded, or its resolution (`status` "resolved").
    Conflict { server_seq: i64, conflict: ConflictRecord },
}

/// Two values for one field where the second writer had not seen the first:
/// the server kept `server_value`; a person chooses (op "conflict.resolve").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRecord {
    pub conflict_id: Uuid,
    pub entity: String,
    pub entity_id: String,
    pub case_id: Uuid,
    pub field: String,
    /// The version the losing writer had seen.
    pub base_seq: i64,
    pub server_value: Value,
    pub client_value: Value,
    /// `login@org/device` of each writer.
    pub server_author: String,
    pub client_author: String,
    /// "open", "resolved" or "superseded".
    pub status: String,
    /// When each value reached the server (RFC 3339, UTC; display only —
    /// server sequence numbers order changes, clocks never do). Absent for
    /// conflicts recorded before the server kept times.
    #[serde(default)]
    pub server_at: Option<String>,
    #[serde(default)]
    pub client_at: Option<String>,
}

/// Every field of every kind of [`Change`], as they come.
#[derive(Deserialize)]
struct ChangeFields {
    kind: String,
    server_seq: i64,
    entity: Option<String>,
    entity_id: Option<String>,
    case_id: Option<Uuid>,
    #[serde(default, deserialize_with = "present")]
    doc: Option<Value>,
    field_versions: Option<BTreeMap<String, i64>>,
    changes: Option<Vec<FieldChange>>,
    op_id: Option<Uuid>,
    conflict: Option<ConflictRecord>,
}

/// A field that is there, `null` included.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl TryFrom<ChangeFields> for Change {
    type Error = String;

    fn try_from(f: ChangeFields) -> Result<Change, String> {
        fn need<T>(v: Option<T>, kind: &str, field: &str) -> Result<T, String> {
            v.ok_or_else(|| format!("missing field `{field}` of a `{kind}` change"))
        }
        let kind = f.kind.as_str();
        Ok(match kind {
            "put" => Change::Put {
                server_seq: f.server_seq,
                entity: need(f.entity, kind, "entity")?,
                entity_id: need(f.entity_id, kind, "entity_id")?,
                case_id: need(f.case_id, kind, "case_id")?,
                doc: need(f.doc, kind, "doc")?,
                field_versions: need(f.field_versions, kind, "field_versions")?,
            },
            "patch" => Change::Patch {
                server_seq: f.server_seq,
                entity: need(f.entity, kind, "entity")?,
                entity_id: need(f.entity_id, kind, "entity_id")?,
                case_id: need(f.case_id, kind, "case_id")?,
                changes: need(f.changes, kind, "changes")?,
                op_id: f.op_id,
            },
            "scope_left" => Change::ScopeLeft { server_seq: f.server_seq, case_id: need(f.case_id, kind, "case_id")? },
            "conflict" => Change::Conflict { server_seq: f.server_seq, conflict: need(f.conflict, kind, "conflict")? },
            other => return Err(format!("unknown change kind `{other}`")),
        })
    }
}

impl Change {
    pub fn server_seq(&self) -> i64 {
        match self {
            Change::Put { server_seq, .. }
            | Change::Patch { server_seq, .. }
            | Change::ScopeLeft { server_seq, .. }
            | Change::Conflict { server_seq, .. } => *server_seq,
        }
    }
}

/// POST /api/auth/login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
    /// The 6-digit one-time password (TOTP, RFC 6238).
    pub otp: String,
    pub device_id: String,
}

/// Tokens: a short-lived access token and a refresh token bound to the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub org: String,
    pub role: String,
}

/// POST /api/auth/refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub device_id: String,
}

/// Every refusal, in both languages; `code` is for programs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message_ja: String,
    pub message_en: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_results_are_tagged_by_status() {
        let r = OpResult { op_id: Uuid::nil(), status: OpStatus::Applied { server_seq: 7 } };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v, serde_json::json!({"op_id": Uuid::nil(), "status": "applied", "server_seq": 7}));
        let back: OpResult = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn an_outbox_op_reads_as_a_wire_op() {
        // The desk writes base_versions "{}" for creations; absent or null mean the same.
        for base in [serde_json::json!({}), Value::Null] {
            let v = serde_json::json!({"op_id": Uuid::nil(), "seq": 1, "entity": "case", "entity_id": "x",
                "kind": "case.update", "payload": {"changes": [{"path": "basic.name", "old": "a", "new": "b"}]},
                "base_versions": base, "status": "pending", "attempts": 0});
            let op: Op = serde_json::from_value(v).unwrap();
            assert!(op.base_versions.is_empty());
        }
    }

    #[test]
    fn changes_read_back_as_written() {
        let case_id = Uuid::now_v7();
        let changes = vec![
            Change::Put {
                server_seq: 3,
                entity: "case".into(),
                entity_id: case_id.to_string(),
                case_id,
                doc: serde_json::json!({"id": case_id, "basic": {"name": "届 太郎"}, "x": null}),
                field_versions: [("basic".to_string(), 3)].into(),
            },
            Change::Patch {
                server_seq: 4,
                entity: "case".into(),
                entity_id: case_id.to_string(),
                case_id,
                changes: vec![FieldChange { path: "basic.name".into(), old: Value::Null, new: "x".into() }],
                op_id: None,
            },
            Change::ScopeLeft { server_seq: 5, case_id },
        ];
        let text = serde_json::to_string(&changes).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Change>>(&text).unwrap(), changes);
        let err = serde_json::from_str::<Change>(r#"{"kind":"put","server_seq":1,"entity":"case"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `entity_id`"), "{err}");
        assert!(serde_json::from_str::<Change>(r#"{"kind":"nope","server_seq":1}"#).is_err());
    }

    #[test]
    fn a_push_request_without_version_is_version_1() {
        let r: PushRequest = serde_json::from_str(r#"{"desk_id":"d","ops":[]}"#).unwrap();
        assert_eq!(r.version, PROTOCOL_VERSION);
    }
}
