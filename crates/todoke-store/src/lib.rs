//! The desk's local store: an encrypted SQLite (SQLCipher) database holding
//! the cases this desk may see, their observations, clusters, the outbox of
//! changes waiting for the server, and each case's change history.
//!
//! - **Encrypted at rest** (TARGETS S3): a random 256-bit key per desk, held
//!   by a [`KeyProvider`] (the OS keyring by default), given to SQLCipher raw.
//!   `desk.json` beside the database holds only the desk id, its creation
//!   time and the schema version.
//! - **Nothing entered is lost** (SYNC.md property 1): every change writes the
//!   record, one outbox operation and one history entry in a single durable
//!   transaction (`synchronous = FULL`, see [`Durability`]); a kill -9 test
//!   checks that they are never split.
//! - **Clocks don't decide** (property 9): ordering uses the local sequence
//!   `outbox.seq`; wall-clock times are for display.
//! - Searches run on indexes only; see [`search`] for the plan choice and
//!   [`schema`] for the layout.
//! - The JSON documents (cases, observations, outbox payloads) are stored
//!   compressed (zstd with a fixed dictionary, tagged by format; plain JSON
//!   rows are read too): a generated case's document shrinks from ~3.7 kB to
//!   ~0.6 kB. A full scan ([`Desk::iter_cases`]) reads them in row order and
//!   parses them on worker threads.
//!
//! This crate knows nothing of the UI, HTTP or Tauri; the domain rules
//! (validation, lifecycle) are applied by the caller before saving.
//!
//! # Measured
//! `cargo run --release -p todoke-store --example store_measure -- 1000000 DIR`
//! on the 2-core VM, 1,000,000 synthetic cases (44 family names, 28 given
//! names: far more name collisions than real data), 64 MiB page cache:
//!
//! | what | figure |
//! |---|---|
//! | bulk create (record + op + history per case) | ~4,100 cases/s (1M in 244 s), CPU-bound (page encryption of many index pages); database 3.5 GiB |
//! | B1 search, 4,900 queries of 29 kinds, limit 50 | p50 1.6 ms, p95 14.4 ms; worst kind: a full written name shared by ~2,500 cases, p95 36 ms (cold pages) |
//! | B2 open a case (4 tests, 14 observations, contacts, history) | p95 0.19 ms |
//! | B3 one edit, own transaction, `FULL` | p50 0.65–0.8 ms, p95 0.9–1.1 ms (`NORMAL`: p95 0.58 ms) |
//! | B3 back-to-back edits, each its own transaction | ~1,050/s `FULL`, ~1,400/s `NORMAL` |
//! | B3 [`Desk::update_cases`], 100 edits per transaction | ~2,150 edits/s `FULL` |
//! | stream every case ([`Desk::iter_cases`]) | 1M in 7.5 s |
//!
//! With `todoke-bench` (generated cases with ~6 observations each, 200,000
//! cases, 2-core VM shared with other builds): database 7.2 kB per case
//! (17.9 kB before the documents were compressed: case document 4,488 →
//! 667 B, observations 2,802 → 1,312 B, outbox 8,367 → 2,767 B); a full CSV
//! export ~3.4–3.7 s (17–18 s per million; 36–51 s before).
//!
//! `NORMAL` saves half a millisecond per edit here and is not needed for
//! B3's latency; bulk edits reach 2,000/s by sharing a transaction, which
//! keeps every edit atomic with its op, so `FULL` stays the default.

mod cases;
mod cluster;
mod codec;
mod desk;
mod desk_dir;
mod error;
mod history;
mod keys;
mod observation;
mod outbox;
mod published;
mod record;
pub mod schema;
pub mod search;
mod search_key;
mod settings;
mod sync_apply;

pub use cases::{CaseDetail, CaseIter, SavedCase};
pub use desk::{Desk, Durability};
pub use desk_dir::{resolve_desk_dir, DeskInfo, DESK_DIR_VAR};
pub use error::{Result, StoreError};
pub use history::HistoryEntry;
pub use keys::{
    default_key_provider, DeskId, DeskKey, EnvKey, KeyError, KeyProvider, KeyringKeys, MemoryKeys, DESK_KEY_VAR, KEYRING_SERVICE,
};
pub use outbox::{kind as op_kind, OpStatus, OutboxOp};
pub use published::PublishedImport;
pub use search::{CaseQuery, CaseSummary, SortKey};
pub use settings::ORG_CODE;
pub use sync_apply::{AckSummary, OutboxCounts, PageApplied, RejectedOp, StoredConflict, KIND_CONFLICT_RESOLVE};
