//! The sync engine: push the outbox, pull pages, retry with back-off.
//!
//! Invariants (SYNC.md):
//! - an op leaves "pending/sent" only by a server answer (applied, conflict,
//!   rejected) — never by a time-out, a crash or a sign-out (property 1);
//!   re-sending is harmless, the op id makes it idempotent (2);
//! - a push batch the server refuses as a whole is split until the one op
//!   it refuses is found; that op is parked as rejected with the server's
//!   words, and the ops behind it go on (7);
//! - each pulled page is applied with its cursor in one store transaction;
//!   no failure resets the cursor, so a broken line resumes where it
//!   stopped and a time-out never restarts the download (7, 8);
//! - a `scope_left` page is applied only once the case's edits are answered (6).

use std::borrow::BorrowMut;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde::Serialize;
use todoke_protocol::{Change, Op, OpResult, OpStatus, PullRequest, PushRequest};
use todoke_store::{Desk, OutboxOp};
use uuid::Uuid;

use crate::error::SyncError;
use crate::transport::{PullAhead, Transport, TransportError};

#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Ops per push (the server takes up to 1000).
    pub push_batch: usize,
    /// Changes per pulled page (the server allows 1–2000).
    pub pull_limit: u32,
    /// Transient failures in a row before `sync` gives up for now (the
    /// changes stay queued; the next sync carries on).
    pub max_retries: u32,
    /// First back-off delay; doubles per failure up to `max_delay`, with full jitter.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Seed of the jitter (the simulation fixes it; the product uses entropy).
    pub jitter_seed: Option<u64>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            push_batch: 200,
            pull_limit: 500,
            max_retries: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            jitter_seed: None,
        }
    }
}

/// Page cache during an initial download, and the desk's usual one (MiB).
const INITIAL_SYNC_CACHE_MIB: u32 = 512;
const DESK_CACHE_MIB: u32 = 64;

/// Where a sync stands (for a progress bar).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Progress {
    Pushing { sent: u64, remaining: u64 },
    Pulling { pages: u64, changes: u64, more: bool },
    Waiting { millis: u64, attempt: u32 },
}

/// Called as a sync moves on (a progress bar).
pub type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// What one `sync` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    pub applied: u64,
    pub conflicts: u64,
    pub rejected: u64,
    pub pages: u64,
    pub changes_pulled: u64,
    pub cases_removed: u64,
    pub retries: u64,
    /// Ops still waiting for an answer at the end.
    pub unsent: u64,
}

/// Owns its desk (`D = Desk`) or borrows it (`D = &mut Desk`, as the desk service does).
pub struct SyncEngine<T: Transport, D: BorrowMut<Desk> = Desk> {
    desk: D,
    transport: T,
    desk_id: String,
    scope: String,
    opts: SyncOptions,
    rng: rand::rngs::StdRng,
    progress: Option<ProgressFn>,
    crash_next_apply: Option<usize>,
    /// The next page, fetched while this one is applied, and the request it answers.
    ahead: Option<(PullRequest, PullAhead)>,
    /// Every back-off delay chosen (inspected by tests).
    pub delays: Vec<Duration>,
}

fn wire_op(op: &OutboxOp) -> Op {
    Op {
        op_id: op.op_id,
        seq: op.seq,
        entity: op.entity.clone(),
        entity_id: op.entity_id.clone(),
        kind: op.kind.clone(),
        payload: op.payload.clone(),
        base_versions: serde_json::from_value(op.base_versions.clone()).unwrap_or_default(),
    }
}

impl<T: Transport, D: BorrowMut<Desk>> SyncEngine<T, D> {
    /// `scope`: the name the cursor is saved under (the signed-in organisation).
    pub fn new(desk: D, transport: T, scope: &str, opts: SyncOptions) -> SyncEngine<T, D> {
        let rng = match opts.jitter_seed {
            Some(s) => rand::rngs::StdRng::seed_from_u64(s),
            None => rand::rngs::StdRng::from_entropy(),
        };
        let desk_id = desk.borrow().id().to_string();
        SyncEngine {
            desk,
            transport,
            desk_id,
            scope: scope.to_string(),
            opts,
            rng,
            progress: None,
            crash_next_apply: None,
            ahead: None,
            delays: Vec::new(),
        }
    }

    pub fn on_progress(&mut self, f: ProgressFn) {
        self.progress = Some(f);
    }

    pub fn desk(&self) -> &Desk {
        self.desk.borrow()
    }

    pub fn desk_mut(&mut self) -> &mut Desk {
        self.desk.borrow_mut()
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn into_desk(self) -> D {
        self.desk
    }

    /// Fault injection (simulation): the next page is applied up to `after`
    /// changes and then dropped uncommitted, as if the desk had crashed.
    #[doc(hidden)]
    pub fn crash_next_apply(&mut self, after: usize) {
        self.crash_next_apply = Some(after);
    }

    fn report(&mut self, p: Progress) {
        if let Some(f) = self.progress.as_mut() {
            f(&p);
        }
    }

    /// Full-jitter exponential back-off: uniform in [0, min(max, base·2^n)],
    /// at least the server's Retry-After.
    fn delay(&mut self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let cap = self.opts.base_delay.saturating_mul(1u32 << attempt.min(16)).min(self.opts.max_delay);
        let jittered = Duration::from_millis(self.rng.gen_range(0..=cap.as_millis() as u64));
        let d = retry_after.map_or(jittered, |r| r.max(jittered));
        self.delays.push(d);
        d
    }

    /// Runs a request with retries on transient failures.
    async fn retrying<R>(
        &mut self,
        report: &mut SyncReport,
        mut call: impl AsyncFnMut(&T) -> Result<R, TransportError>,
    ) -> Result<Result<R, TransportError>, SyncError> {
        let mut attempt = 0;
        loop {
            match call(&self.transport).await {
                Err(e) if e.is_transient() => {
                    if attempt >= self.opts.max_retries {
                        return Err(match e {
                            TransportError::Busy { .. } => SyncError::offline("server busy"),
                            TransportError::Server(s) | TransportError::Network(s) => SyncError::offline(&s),
                            _ => unreachable!(),
                        });
                    }
                    let retry_after = if let TransportError::Busy { retry_after } = &e { *retry_after } else { None };
                    let d = self.delay(attempt, retry_after);
                    self.report(Progress::Waiting { millis: d.as_millis() as u64, attempt });
                    self.transport.pause(d).await;
                    attempt += 1;
                    report.retries += 1;
                }
                Err(TransportError::Unauthorized) => return Err(SyncError::sign_in_needed()),
                other => return Ok(other),
            }
        }
    }

    /// Sends unanswered ops, oldest first, until none are left (or the
    /// server cannot be reached: they stay queued).
    pub async fn push_all(&mut self, report: &mut SyncReport) -> Result<(), SyncError> {
        let mut batch = self.opts.push_batch.max(1);
        let mut sent = 0u64;
        // Ops parked locally in this run (refused as a whole request) are skipped after.
        loop {
            let ops = self.desk.borrow_mut().outbox_pending(batch)?;
            if ops.is_empty() {
                return Ok(());
            }
            let ids: Vec<Uuid> = ops.iter().map(|o| o.op_id).collect();
            self.desk.borrow_mut().mark_ops_sent(&ids)?;
            let req = PushRequest {
                version: todoke_protocol::PROTOCOL_VERSION,
                desk_id: self.desk_id.clone(),
                ops: ops.iter().map(wire_op).collect(),
            };
            let answer = match self.retrying(report, async |t: &T| t.push(&req).await).await {
                Ok(a) => a,
                Err(e) => {
                    self.desk.borrow_mut().note_send_error(&ids, &e.code)?;
                    return Err(e);
                }
            };
            match answer {
                Ok(res) => {
                    let sum = self.desk.borrow_mut().record_op_results(&res.results)?;
                    report.applied += sum.applied as u64;
                    report.conflicts += sum.conflicts as u64;
                    report.rejected += sum.rejected as u64;
                    // An op the server did not answer stays queued; never loop on it.
                    if res.results.iter().all(|r| !ids.contains(&r.op_id)) {
                        return Err(SyncError::offline("no answer for the ops sent"));
                    }
                    sent += res.results.len() as u64;
                    let remaining = self.desk.borrow_mut().outbox_pending_count()?;
                    self.report(Progress::Pushing { sent, remaining });
                    batch = self.opts.push_batch.max(1);
                }
                Err(TransportError::Refused(body)) if ops.len() > 1 => {
                    // Find the op the server refuses: halve until it stands alone.
                    let _ = body;
                    batch = (ops.len() / 2).max(1);
                }
                Err(TransportError::Refused(body)) => {
                    let parked = OpResult {
                        op_id: ops[0].op_id,
                        status: OpStatus::Rejected { code: body.code, message_ja: body.message_ja, message_en: body.message_en },
                    };
                    let sum = self.desk.borrow_mut().record_op_results(&[parked])?;
                    report.rejected += sum.rejected as u64;
                    batch = self.opts.push_batch.max(1);
                }
                Err(e) => return Err(SyncError::offline(&format!("{e:?}"))),
            }
        }
    }

    /// Pulls and applies one page; returns whether more is waiting.
    pub async fn pull_page(&mut self, report: &mut SyncReport) -> Result<bool, SyncError> {
        let req = PullRequest { cursor: self.desk.borrow_mut().sync_cursor(&self.scope)?, limit: Some(self.opts.pull_limit) };
        // A page read ahead counts only if it answers the saved cursor; if
        // anything went wrong with it, the page is pulled again in turn.
        let ahead = match self.ahead.take() {
            Some((asked, pulling)) if asked == req => pulling.await.ok().and_then(Result::ok),
            Some((_, pulling)) => {
                pulling.abort();
                None
            }
            None => None,
        };
        let page = match ahead {
            Some(p) => p,
            None => match self.retrying(report, async |t: &T| t.pull(&req).await).await? {
                Ok(p) => p,
                Err(TransportError::Refused(b)) => return Err(SyncError::refused(&b.code, &b.message_ja, &b.message_en)),
                Err(e) => return Err(SyncError::offline(&format!("{e:?}"))),
            },
        };
        // Cases leaving the scope: their edits go first (SYNC.md property 6).
        let leaving: Vec<Uuid> =
            page.changes.iter().filter_map(|c| if let Change::ScopeLeft { case_id, .. } = c { Some(*case_id) } else { None }).collect();
        if !leaving.is_empty() && !self.desk.borrow_mut().cases_with_unanswered_ops(&leaving)?.is_empty() {
            self.push_all(report).await?;
            if !self.desk.borrow_mut().cases_with_unanswered_ops(&leaving)?.is_empty() {
                return Err(SyncError::offline("edits of a case leaving this desk are not yet answered"));
            }
        }
        if let Some(after) = self.crash_next_apply.take() {
            self.desk.borrow_mut().apply_pull_page_then_crash(&page, after)?;
            return Err(SyncError::crashed());
        }
        // The next page travels while this one is applied (its cursor is
        // saved only with it, by the apply below).
        if page.has_more && leaving.is_empty() {
            let next = PullRequest { cursor: Some(page.next_cursor.clone()), limit: req.limit };
            if let Some(pulling) = self.transport.pull_ahead(&next) {
                self.ahead = Some((next, pulling));
            }
        }
        let (changes, more) = (page.changes.len() as u64, page.has_more);
        let done = self.desk.borrow_mut().apply_pulled(&self.scope, page)?;
        report.pages += 1;
        report.changes_pulled += changes;
        report.cases_removed += done.scope_left as u64;
        self.report(Progress::Pulling { pages: report.pages, changes: report.changes_pulled, more });
        Ok(more)
    }

    /// Push, pull until caught up, push again (answers pulled meanwhile may
    /// have queued nothing new, but a resolution queued during the pull is sent).
    pub async fn sync(&mut self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let result = self.sync_into(&mut report).await;
        report.unsent = self.desk.borrow_mut().outbox_pending_count()?;
        result.map(|_| report)
    }

    async fn sync_into(&mut self, report: &mut SyncReport) -> Result<(), SyncError> {
        self.push_all(report).await?;
        // The initial download fills every index at random: a big page cache
        // meanwhile (SQLite fills it only as pages are read), the usual one after.
        let initial = self.desk.borrow_mut().sync_cursor(&self.scope)?.is_none();
        let reconcile_key = format!("sync.reconcile.{}", self.scope);
        if initial {
            self.desk.borrow_mut().set_cache_mib(INITIAL_SYNC_CACHE_MIB)?;
            // Remembered until the download is complete (it may take several syncs).
            self.desk.borrow_mut().set_setting(&reconcile_key, "1")?;
        }
        let pulled = async {
            while self.pull_page(report).await? {}
            Ok::<(), SyncError>(())
        }
        .await;
        if let Some((_, pulling)) = self.ahead.take() {
            pulling.abort();
        }
        if initial {
            self.desk.borrow_mut().set_cache_mib(DESK_CACHE_MIB)?;
        }
        pulled?;
        // A snapshot holds only what is in scope now: own cases that left the
        // scope before it are not in it, and no scope_left follows for them.
        if self.desk.borrow_mut().setting(&reconcile_key)?.is_some() {
            report.cases_removed += self.desk.borrow_mut().remove_unreceived_cases()? as u64;
            self.desk.borrow_mut().delete_setting(&reconcile_key)?;
        }
        self.push_all(report).await
    }
}
