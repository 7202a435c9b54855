//! Todoke's domain: the record of an infectious-disease case as the law
//! (感染症法) and the ministry's rules define it, and the rules that hold for it.
//!
//! This crate is pure: it does no I/O, knows no database, no network, no UI.
//! Everything a desk, the server or a report needs to decide is decided here.

pub mod age;
pub mod case;
pub mod cluster;
pub mod codes;
pub mod diff;
pub mod followup;
pub mod kana;
pub mod lifecycle;
pub mod notification;
pub mod observation;
pub mod org;
pub mod policy;
pub mod validate;
pub mod wareki;

pub use case::*;
pub use cluster::*;
pub use codes::*;
pub use notification::*;
pub use observation::*;
pub use org::*;
