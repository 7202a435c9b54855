//! The desk session of this window: the open `DeskService` (or none while locked), who
//! is at the desk, and the inactivity lock. The database connection lives behind a
//! mutex and is used only from blocking threads (SQLite and the keyring block).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tauri::{AppHandle, Emitter};
use todoke_desk::{DeskError, DeskService, ErrorCode, SessionInfo};
use todoke_domain::Actor;
use todoke_store::KeyProvider;

/// When the process started, for the start-up time (TARGETS B9).
#[derive(Clone, Copy)]
pub struct StartClock {
    at: Instant,
}

impl StartClock {
    pub fn now() -> StartClock {
        StartClock { at: Instant::now() }
    }
}

/// The person at this desk until staff sign-in exists: $TODOKE_USER, else the OS user;
/// the organisation from $TODOKE_ORG, else the one the desk was created for.
pub fn local_actor() -> Actor {
    let login = std::env::var("TODOKE_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "desk".into());
    let org_code = std::env::var("TODOKE_ORG").unwrap_or_default();
    Actor { login, org_code }
}

#[derive(Clone)]
pub struct Session(Arc<Inner>);

struct Inner {
    dir: PathBuf,
    actor: Actor,
    lock_after: Duration,
    started: StartClock,
    desk: Mutex<Option<DeskService>>,
    /// A second connection to the same desk for sync, so a slow line never holds up the
    /// window's calls; its mutex also keeps two syncs from overlapping.
    sync_desk: Mutex<Option<DeskService>>,
    last_activity: Mutex<Instant>,
    ready_reported: AtomicBool,
}

/// SQLite page cache of the window's desk (TARGETS B9: idle memory).
const DESK_CACHE_MIB: u32 = 16;

/// Event sent to the window when the session locks itself.
pub const LOCKED_EVENT: &str = "session-locked";

fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in one command must not lock the user out of the desk for good.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    pub fn new(dir: PathBuf, actor: Actor, lock_after: Duration, started: StartClock) -> Session {
        Session(Arc::new(Inner {
            dir,
            actor,
            lock_after,
            started,
            desk: Mutex::new(None),
            sync_desk: Mutex::new(None),
            last_activity: Mutex::new(Instant::now()),
            ready_reported: AtomicBool::new(false),
        }))
    }

    pub fn info(&self) -> SessionInfo {
        let i = &self.0;
        SessionInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            desk_dir: i.dir.display().to_string(),
            initialised: i.dir.join("desk.json").is_file(),
            locked: lock_ignoring_poison(&i.desk).is_none(),
            lock_after_secs: u32::try_from(i.lock_after.as_secs()).unwrap_or(u32::MAX),
            key_source: if std::env::var_os(todoke_store::DESK_KEY_VAR).is_some() { "env" } else { "keyring" }.into(),
            export_dir: dirs::document_dir().or_else(dirs::home_dir).unwrap_or_else(|| i.dir.clone()).display().to_string(),
        }
    }

    /// Opens the desk, creating it on the first start (its key goes to the OS keyring,
    /// or comes from TODOKE_DESK_KEY). Blocking: call from a blocking thread.
    pub fn open(&self) -> Result<SessionInfo, DeskError> {
        {
            let mut desk = lock_ignoring_poison(&self.0.desk);
            if desk.is_none() {
                let keys = todoke_store::default_key_provider();
                let actor = self.0.actor.clone();
                let opened = match DeskService::open(&self.0.dir, keys.as_ref(), actor.clone()) {
                    Err(e) if e.code == ErrorCode::NotInitialised => DeskService::init(&self.0.dir, keys.as_ref(), actor),
                    other => other,
                }?;
                // A desk window needs a modest page cache; the CLI's bulk work sets its own.
                opened.store().set_cache_mib(DESK_CACHE_MIB).map_err(DeskError::from)?;
                *desk = Some(opened);
            }
        }
        self.touch();
        Ok(self.info())
    }

    /// Closes the database; the key leaves memory with it.
    pub fn lock(&self) -> SessionInfo {
        lock_ignoring_poison(&self.0.desk).take();
        // Waits for a running sync to finish (its answers are written in one go).
        lock_ignoring_poison(&self.0.sync_desk).take();
        self.info()
    }

    pub fn touch(&self) {
        *lock_ignoring_poison(&self.0.last_activity) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        lock_ignoring_poison(&self.0.last_activity).elapsed()
    }

    /// Runs a desk action on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DeskError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DeskService) -> Result<T, DeskError> + Send + 'static,
    {
        let session = self.clone();
        tauri::async_runtime::spawn_blocking(move || {
            session.touch();
            let result = {
                let mut desk = lock_ignoring_poison(&session.0.desk);
                desk.as_mut().ok_or_else(DeskError::locked).and_then(f)
            };
            // A long import or export is activity too.
            session.touch();
            result
        })
        .await
        .map_err(|e| DeskError::new(ErrorCode::Storage, format!("内部エラー: {e}"), format!("Internal error: {e}")))?
    }

    /// Runs a background read the window does on its own (status bar, change polling):
    /// not activity, so it never keeps an idle desk from locking.
    pub async fn run_passive<T, F>(&self, f: F) -> Result<T, DeskError>
    where
        T: Send + 'static,
        F: FnOnce(&DeskService) -> Result<T, DeskError> + Send + 'static,
    {
        let session = self.clone();
        tauri::async_runtime::spawn_blocking(move || {
            let desk = lock_ignoring_poison(&session.0.desk);
            desk.as_ref().ok_or_else(DeskError::locked).and_then(f)
        })
        .await
        .map_err(|e| DeskError::new(ErrorCode::Storage, format!("内部エラー: {e}"), format!("Internal error: {e}")))?
    }

    /// Runs a sync on the desk's second connection (opened on first use), on a blocking
    /// thread; background work, so not activity. While another sync runs this one
    /// answers `busy` at once instead of queueing behind it.
    pub async fn run_sync<T, F>(&self, f: F) -> Result<T, DeskError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DeskService, &dyn KeyProvider) -> Result<T, DeskError> + Send + 'static,
    {
        let session = self.clone();
        tauri::async_runtime::spawn_blocking(move || {
            let mut sync_desk = match session.0.sync_desk.try_lock() {
                Ok(g) => g,
                Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Err(DeskError::busy_syncing()),
            };
            if lock_ignoring_poison(&session.0.desk).is_none() {
                return Err(DeskError::locked());
            }
            let keys = todoke_store::default_key_provider();
            if sync_desk.is_none() {
                let opened = DeskService::open(&session.0.dir, keys.as_ref(), session.0.actor.clone())?;
                opened.store().set_cache_mib(DESK_CACHE_MIB).map_err(DeskError::from)?;
                *sync_desk = Some(opened);
            }
            let desk = sync_desk.as_mut().ok_or_else(DeskError::locked)?;
            f(desk, keys.as_ref())
        })
        .await
        .map_err(|e| DeskError::new(ErrorCode::Storage, format!("内部エラー: {e}"), format!("Internal error: {e}")))?
    }

    /// Runs a desk action that needs the key provider (sign-in, sign-out) as activity.
    pub async fn run_with_keys<T, F>(&self, f: F) -> Result<T, DeskError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DeskService, &dyn KeyProvider) -> Result<T, DeskError> + Send + 'static,
    {
        self.run(move |d| f(d, todoke_store::default_key_provider().as_ref())).await
    }

    /// Signs out (sending what waits first; what cannot be sent stays queued), then, if
    /// asked, erases the desk's files (refused while anything is unsent); the window then
    /// opens a new, empty desk. Answers how many changes stay queued.
    pub async fn sign_out(&self, wipe: bool) -> Result<u64, DeskError> {
        let session = self.clone();
        tauri::async_runtime::spawn_blocking(move || {
            let keys = todoke_store::default_key_provider();
            let mut sync_desk = lock_ignoring_poison(&session.0.sync_desk);
            let mut desk = lock_ignoring_poison(&session.0.desk);
            let unsent = desk.as_mut().ok_or_else(DeskError::locked)?.sign_out(keys.as_ref())?;
            if wipe {
                desk.as_ref().ok_or_else(DeskError::locked)?.check_wipe(keys.as_ref())?;
                sync_desk.take();
                desk.take().ok_or_else(DeskError::locked)?.wipe(keys.as_ref())?;
            }
            Ok(unsent)
        })
        .await
        .map_err(|e| DeskError::new(ErrorCode::Storage, format!("内部エラー: {e}"), format!("Internal error: {e}")))?
    }

    /// Runs a blocking session step (open) off the main thread.
    pub async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&Session) -> T + Send + 'static) -> Result<T, DeskError> {
        let session = self.clone();
        tauri::async_runtime::spawn_blocking(move || f(&session))
            .await
            .map_err(|e| DeskError::new(ErrorCode::Storage, format!("内部エラー: {e}"), format!("Internal error: {e}")))
    }

    /// The UI shows the case list: record the start-up time once (TARGETS B9). With
    /// $TODOKE_READY_FILE set, it is also written there as JSON for the benchmark.
    pub fn ui_ready(&self) -> u128 {
        let ms = self.0.started.at.elapsed().as_millis();
        if !self.0.ready_reported.swap(true, Ordering::SeqCst) {
            if let Some(path) = std::env::var_os("TODOKE_READY_FILE") {
                let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
                let json = format!("{{\"ready_ms_since_main\":{ms},\"ready_unix_ms\":{unix_ms},\"pid\":{}}}\n", std::process::id());
                let tmp = PathBuf::from(&path).with_extension("tmp");
                if std::fs::write(&tmp, json).and_then(|_| std::fs::rename(&tmp, &path)).is_err() {
                    eprintln!("todoke-desktop: cannot write TODOKE_READY_FILE");
                }
            }
        }
        ms
    }
}

/// Locks the desk after `lock_after` without activity (the UI reports keys and clicks
/// through `touch`; every command counts too), and tells the window.
pub fn watch_inactivity(session: Session, app: AppHandle) {
    let tick = (session.0.lock_after / 4).clamp(Duration::from_millis(200), Duration::from_secs(5));
    std::thread::Builder::new()
        .name("inactivity-lock".into())
        .spawn(move || loop {
            std::thread::sleep(tick);
            let open = lock_ignoring_poison(&session.0.desk).is_some();
            if open && session.idle_for() >= session.0.lock_after {
                let info = session.lock();
                let _ = app.emit(LOCKED_EVENT, info);
            }
        })
        .expect("the inactivity-lock thread starts");
}
