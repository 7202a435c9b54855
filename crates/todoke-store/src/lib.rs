//! The desk's local store: an encrypted SQLite (SQLCipher) database holding
//! the cases this desk may see, their observations, clusters, the outbox of
//! changes waiting for the server, and each case's change history.
//!
//! - **Encrypted at rest** (TARGETS S3): a random 256-bit key per desk, held
//!   by a [`KeyProvider`] (the OS keyring by default), given to SQLCipher raw.
//! - **Nothing entered is lost** (SYNC.md property 1): every change writes the
//!   record, one outbox operation and one history entry in a single durable
//!   transaction (`synchronous = FULL`).
//! - **Clocks don't decide** (property 9): ordering uses the local sequence
//!   `outbox.seq`; wall-clock times are for display.
//! - Searches run on indexes only; see [`search`] for the plan choice.
//!
//! This crate knows nothing of the UI, HTTP or Tauri; the domain rules
//! (validation, lifecycle) are applied by the caller before saving.

mod cases;
mod cluster;
mod desk;
mod desk_dir;
mod error;
mod history;
mod keys;
mod observation;
mod outbox;
mod record;
pub mod schema;
pub mod search;
mod search_key;
mod settings;

pub use cases::{CaseDetail, CaseIter, SavedCase};
pub use desk::{Desk, Durability};
pub use desk_dir::{resolve_desk_dir, DeskInfo, DESK_DIR_VAR};
pub use error::{Result, StoreError};
pub use history::HistoryEntry;
pub use keys::{
    default_key_provider, DeskId, DeskKey, EnvKey, KeyError, KeyProvider, KeyringKeys, MemoryKeys, DESK_KEY_VAR,
    KEYRING_SERVICE,
};
pub use outbox::{kind as op_kind, OpStatus, OutboxOp};
pub use search::{CaseQuery, CaseSummary, SortKey};
pub use settings::ORG_CODE;
