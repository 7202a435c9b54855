//! 同期 — sign in, sync, conflicts and refused changes: the calls the CLI
//! and the desktop app share. Blocking (each runs its own small async
//! runtime), like every other desk action: callers use a blocking thread.

use serde::Serialize;
use serde_json::Value;
use todoke_store::{KeyProvider, OutboxCounts, RejectedOp, StoredConflict};
use todoke_sync::credentials::{self, SignIn};
use todoke_sync::{HttpTransport, SyncEngine, SyncError, SyncErrorKind, SyncOptions};
use uuid::Uuid;

pub use todoke_sync::{Progress as SyncProgress, SyncReport};

use crate::error::{DeskError, ErrorCode};
use crate::service::DeskService;

/// Which value a person keeps for a conflicting field.
#[derive(Debug, Clone, PartialEq)]
pub enum Keep {
    /// The value this desk's side wrote (the one the server did not take).
    Mine,
    /// The value the server kept.
    Theirs,
    /// Another value altogether.
    Value(Value),
}

/// Where this desk stands with the server.
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    pub signed_in: Option<SignIn>,
    pub outbox: OutboxCounts,
    pub open_conflicts: usize,
    pub rejected: usize,
}

impl From<SyncError> for DeskError {
    fn from(e: SyncError) -> DeskError {
        let code = match e.kind {
            SyncErrorKind::Offline => ErrorCode::Offline,
            SyncErrorKind::SignInNeeded => ErrorCode::SignInNeeded,
            SyncErrorKind::Refused => ErrorCode::SyncRefused,
            SyncErrorKind::Store | SyncErrorKind::Crashed => ErrorCode::Storage,
        };
        DeskError::new(code, e.message_ja, e.message_en)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, DeskError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| DeskError::io("async runtime", e))
}

/// Per request: a slow line fails one request (retried), never the whole sync.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl DeskService {
    /// Signs in to the central server (ID, password, one-time password); the
    /// refresh token goes to `keys` (the OS keyring), never to a log.
    pub fn sync_login(
        &mut self,
        keys: &dyn KeyProvider,
        server: &str,
        login: &str,
        password: &str,
        otp: &str,
    ) -> Result<SignIn, DeskError> {
        let rt = runtime()?;
        let (sign_in, _access) = rt.block_on(credentials::login(&mut self.desk, keys, server, login, password, otp))?;
        Ok(sign_in)
    }

    /// Pushes every queued change and pulls until caught up. Nothing queued
    /// is lost when it fails: the error says what to do, the next sync goes on.
    pub fn sync_now(&mut self, keys: &dyn KeyProvider, progress: Box<dyn FnMut(&SyncProgress) + Send>) -> Result<SyncReport, DeskError> {
        self.sync_with(keys, SyncOptions::default(), progress)
    }

    /// [`DeskService::sync_now`] with chosen batch sizes and retry limits.
    pub fn sync_with(
        &mut self,
        keys: &dyn KeyProvider,
        opts: SyncOptions,
        progress: Box<dyn FnMut(&SyncProgress) + Send>,
    ) -> Result<SyncReport, DeskError> {
        let Some((sign_in, refresh)) = credentials::session(&self.desk, keys)? else {
            return Err(SyncError::sign_in_needed().into());
        };
        let rt = runtime()?;
        let access = credentials::access_token(&self.desk, keys)?;
        let transport = HttpTransport::new(&sign_in.server, &sign_in.device_id, access.clone(), Some(refresh), REQUEST_TIMEOUT)
            .map_err(|e| DeskError::from(SyncError::offline(&format!("{e:?}"))))?;
        if access.is_none() {
            // Refresh tokens rotate: keep the new ones before anything else happens.
            match rt.block_on(transport.refresh_now()) {
                Ok(tokens) => credentials::keep_tokens(&mut self.desk, keys, &tokens)?,
                Err(todoke_sync::TransportError::Unauthorized) | Err(todoke_sync::TransportError::Refused(_)) => {
                    return Err(SyncError::sign_in_needed().into())
                }
                Err(e) => return Err(SyncError::offline(&format!("{e:?}")).into()),
            }
        }
        let before = transport.last_refresh();
        let mut engine = SyncEngine::new(&mut self.desk, transport, &sign_in.org, opts);
        engine.on_progress(progress);
        let result = rt.block_on(engine.sync());
        let latest = engine.transport().last_refresh();
        drop(engine);
        if let Some(tokens) = latest.filter(|t| Some(t) != before.as_ref()) {
            credentials::keep_tokens(&mut self.desk, keys, &tokens)?;
        }
        Ok(result?)
    }

    /// Signed in as whom, what waits to be sent, conflicts and refusals.
    pub fn sync_status(&self, keys: &dyn KeyProvider) -> Result<SyncStatus, DeskError> {
        Ok(SyncStatus {
            signed_in: credentials::session(&self.desk, keys)?.map(|(s, _)| s),
            outbox: self.desk.outbox_counts()?,
            open_conflicts: self.desk.conflicts(true)?.len(),
            rejected: self.desk.rejected_ops()?.len(),
        })
    }

    /// Conflicts this desk knows of (`open_only`: those awaiting a person).
    pub fn conflicts(&self, open_only: bool) -> Result<Vec<StoredConflict>, DeskError> {
        Ok(self.desk.conflicts(open_only)?)
    }

    /// Queues a person's choice for a conflict ("conflict.resolve", sent by the next sync).
    pub fn resolve_conflict(&mut self, conflict_id: Uuid, keep: Keep) -> Result<Uuid, DeskError> {
        let Some(c) = self.desk.conflicts(false)?.into_iter().find(|c| c.conflict_id == conflict_id) else {
            return Err(DeskError::new(
                ErrorCode::NotFound,
                format!("競合 {conflict_id} はこの端末にありません。todoke-cli conflicts で一覧を確かめてください。"),
                format!("No conflict {conflict_id} on this desk. List them with todoke-cli conflicts."),
            ));
        };
        if c.status != "open" {
            return Err(DeskError::bad_input("この競合は既に解決されています。", "This conflict is already resolved."));
        }
        let value = match keep {
            Keep::Mine => c.client_value,
            Keep::Theirs => c.server_value,
            Keep::Value(v) => v,
        };
        Ok(self.desk.queue_conflict_resolution(conflict_id, value)?)
    }

    /// Changes the server refused for good, with its reasons.
    pub fn rejected_ops(&self) -> Result<Vec<RejectedOp>, DeskError> {
        Ok(self.desk.rejected_ops()?)
    }
}
