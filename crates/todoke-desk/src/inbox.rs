//! 同期の窓口 — what the desktop app shows of sync: the account, the status bar's
//! figures, the conflicts inbox and the refused changes with the case each belongs
//! to, sign-out. Built on the calls in `sync.rs`; the app only displays these.

use std::path::Path;

use serde::Serialize;
use todoke_store::{KeyProvider, OutboxCounts, RejectedOp, StoredConflict};
use todoke_sync::credentials::{self, ACCESS_SECRET, REFRESH_SECRET};
use uuid::Uuid;

use crate::error::{DeskError, ErrorCode};
use crate::service::DeskService;
use crate::sync::{SyncProgress, SyncReport};

/// Desk setting: when the last sync finished without error (RFC 3339, display only).
const LAST_SYNC: &str = "sync.last_ok";

/// Who this desk is signed in as (nothing secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Account {
    pub server: String,
    pub login: String,
    pub org: String,
    pub role: String,
}

impl From<credentials::SignIn> for Account {
    fn from(s: credentials::SignIn) -> Account {
        Account { server: s.server, login: s.login, org: s.org, role: s.role }
    }
}

/// The status bar's view of sync.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncOverview {
    /// None: not signed in (sync is off).
    pub account: Option<Account>,
    pub outbox: OutboxCounts,
    /// Changes not yet answered by the server (pending + sent).
    pub unsent: u64,
    pub open_conflicts: u64,
    pub rejected: u64,
    /// When the last sync finished without error (RFC 3339); None: never (the first sync is a full download).
    pub last_sync: Option<String>,
}

/// A sync's progress, sent to the window as it moves on (a progress bar).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum SyncStep {
    Pushing { sent: u64, remaining: u64 },
    Pulling { pages: u64, changes: u64, more: bool },
    Waiting { millis: u64, attempt: u32 },
}

impl From<&SyncProgress> for SyncStep {
    fn from(p: &SyncProgress) -> SyncStep {
        match *p {
            SyncProgress::Pushing { sent, remaining } => SyncStep::Pushing { sent, remaining },
            SyncProgress::Pulling { pages, changes, more } => SyncStep::Pulling { pages, changes, more },
            SyncProgress::Waiting { millis, attempt } => SyncStep::Waiting { millis, attempt },
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncSummary {
    pub applied: u64,
    pub conflicts: u64,
    pub rejected: u64,
    pub changes_pulled: u64,
    pub cases_removed: u64,
    /// Changes still waiting for an answer.
    pub unsent: u64,
}

impl From<SyncReport> for SyncSummary {
    fn from(r: SyncReport) -> SyncSummary {
        SyncSummary {
            applied: r.applied,
            conflicts: r.conflicts,
            rejected: r.rejected,
            changes_pulled: r.changes_pulled,
            cases_removed: r.cases_removed,
            unsent: r.unsent,
        }
    }
}

/// One conflict in the inbox: both values, both authors, and whose case it is.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictItem {
    pub conflict: StoredConflict,
    /// The case it belongs to, if this desk has it.
    pub case_id: Option<Uuid>,
    /// The case's name as this desk shows it (empty if the desk does not have it).
    pub case_name: String,
}

/// A change the server refused for good, with its reason and case.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RejectedItem {
    pub op: RejectedOp,
    pub case_id: Option<Uuid>,
    pub case_name: String,
}

/// Which value a person keeps (the app's side of [`crate::Keep`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum KeepSide {
    Mine,
    Theirs,
}

impl DeskService {
    /// Signed in as whom, what waits to be sent, conflicts, refusals, last sync.
    pub fn sync_overview(&self, keys: &dyn KeyProvider) -> Result<SyncOverview, DeskError> {
        let status = self.sync_status(keys)?;
        Ok(SyncOverview {
            account: status.signed_in.map(Account::from),
            unsent: status.outbox.unsent(),
            outbox: status.outbox,
            open_conflicts: status.open_conflicts as u64,
            rejected: status.rejected as u64,
            last_sync: self.desk.setting(LAST_SYNC)?,
        })
    }

    /// [`DeskService::sync_now`], then notes when it finished (the status bar's "last sync").
    pub fn sync_and_note(
        &mut self,
        keys: &dyn KeyProvider,
        progress: Box<dyn FnMut(&SyncProgress) + Send>,
    ) -> Result<SyncSummary, DeskError> {
        let report = self.sync_now(keys, progress)?;
        let at = self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.desk.set_setting(LAST_SYNC, &at)?;
        Ok(report.into())
    }

    fn case_of(&self, entity: &str, entity_id: &str) -> (Option<Uuid>, String) {
        let id = if entity == "case" { Uuid::parse_str(entity_id).ok() } else { None };
        let name = id.and_then(|id| self.desk.open_case(id).ok().flatten()).map(|d| d.case.basic.name).unwrap_or_default();
        (id, name)
    }

    /// Open conflicts, each with its case.
    pub fn conflict_inbox(&self) -> Result<Vec<ConflictItem>, DeskError> {
        Ok(self
            .conflicts(true)?
            .into_iter()
            .map(|c| {
                let (case_id, case_name) = self.case_of(&c.entity, &c.entity_id);
                ConflictItem { conflict: c, case_id, case_name }
            })
            .collect())
    }

    /// Refused changes, each with its case.
    pub fn rejected_inbox(&self) -> Result<Vec<RejectedItem>, DeskError> {
        Ok(self
            .rejected_ops()?
            .into_iter()
            .map(|op| {
                let (case_id, case_name) = self.case_of(&op.entity, &op.entity_id);
                RejectedItem { op, case_id, case_name }
            })
            .collect())
    }

    /// Keeps this desk's value or the server's for an open conflict (queued; the next sync sends it).
    pub fn keep_side(&mut self, conflict_id: Uuid, side: KeepSide) -> Result<Uuid, DeskError> {
        self.resolve_conflict(conflict_id, if side == KeepSide::Mine { crate::Keep::Mine } else { crate::Keep::Theirs })
    }

    /// Signs out: first tries to send what waits, then forgets the tokens. Whatever
    /// could not be sent stays queued (SYNC.md 1: through logouts) and goes with the
    /// next sign-in; the answer is how many changes stay queued. The server and ID stay
    /// as settings (the sign-in form offers them again).
    pub fn sign_out(&mut self, keys: &dyn KeyProvider) -> Result<u64, DeskError> {
        if credentials::session(&self.desk, keys)?.is_some() && self.desk.outbox_counts()?.unsent() > 0 {
            // Offline or refused: the changes stay queued; signing out goes on.
            let _ = self.sync_now(keys, Box::new(|_| {}));
        }
        let id = self.desk.id();
        for name in [REFRESH_SECRET, ACCESS_SECRET] {
            keys.store_secret(&id, name, None).map_err(|e| DeskError::new(ErrorCode::Storage, e.message_ja(), e.to_string()))?;
            self.desk.delete_setting(name)?;
        }
        self.desk.delete_setting(LAST_SYNC)?;
        Ok(self.desk.outbox_counts()?.unsent())
    }

    /// Whether [`DeskService::wipe`] may erase this desk: signed out, nothing unsent.
    pub fn check_wipe(&self, keys: &dyn KeyProvider) -> Result<(), DeskError> {
        if credentials::session(&self.desk, keys)?.is_some() {
            return Err(DeskError::bad_input("先にサインアウトしてください。", "Sign out first."));
        }
        let unsent = self.desk.outbox_counts()?.unsent();
        if unsent > 0 {
            return Err(DeskError::bad_input(
                format!("送信されていない変更が {unsent} 件あります。端末のデータは消去しません。"),
                format!("{unsent} changes were never sent. The desk's data is not erased."),
            ));
        }
        Ok(())
    }

    /// Removes the desk's files (database and settings) after sign-out: the next
    /// start creates an empty desk. Refused while anything is unsent.
    pub fn wipe(self, keys: &dyn KeyProvider) -> Result<(), DeskError> {
        self.check_wipe(keys)?;
        let dir = self.dir().to_path_buf();
        drop(self);
        remove_desk_files(&dir)
    }
}

/// The files `todoke-store` keeps in a desk folder (`desk.db` with its SQLite
/// journal files, `desk.json`).
fn remove_desk_files(dir: &Path) -> Result<(), DeskError> {
    for name in ["desk.db", "desk.db-wal", "desk.db-shm", "desk.db-journal", "desk.json"] {
        match std::fs::remove_file(dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(DeskError::io("erasing the desk", e)),
        }
    }
    Ok(())
}

/// Where one change of a case stands with the server (its history row's badge).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangeState {
    pub op_id: Uuid,
    pub status: todoke_store::OpStatus,
}

impl DeskService {
    /// The outbox state of each change in a case's history that is still in the outbox.
    pub fn change_states(&self, case_id: Uuid) -> Result<Vec<ChangeState>, DeskError> {
        let detail = self.open_case(case_id)?;
        let mut states = Vec::new();
        for op_id in detail.history.iter().filter_map(|h| h.op_id) {
            if let Some(op) = self.desk.outbox_op(op_id)? {
                states.push(ChangeState { op_id, status: op.status });
            }
        }
        Ok(states)
    }
}
