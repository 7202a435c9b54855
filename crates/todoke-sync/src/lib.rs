//! 同期エンジン — the desk's side of SYNC.md: push the outbox, pull the
//! server's changes, sign in. Core crate: no Tauri, no terminal.
//!
//! - [`SyncEngine`] pushes the outbox in batches (oldest first; a refused op
//!   is parked, never blocks the ops behind it), pulls pages and applies
//!   each with its cursor in one store transaction, under the desk's pending
//!   edits. Transient failures retry with exponential back-off and jitter
//!   (429 `Retry-After` honoured); no failure ever resets the cursor.
//! - [`Transport`] is the wire, behind a small trait: [`HttpTransport`]
//!   (reqwest, HTTPS or loopback HTTP) in the product, a fault-injecting one
//!   in the simulation (`tests/sim.rs`).
//! - [`credentials`]: sign-in and the refresh token, kept by the desk's key
//!   provider (OS keyring), never logged.

#![allow(async_fn_in_trait)]

pub mod credentials;
mod engine;
mod error;
mod transport;

pub use engine::{Progress, ProgressFn, SyncEngine, SyncOptions, SyncReport};
pub use error::{SyncError, SyncErrorKind};
pub use transport::{HttpTransport, PullAhead, Transport, TransportError};
