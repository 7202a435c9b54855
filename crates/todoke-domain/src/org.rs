//! Organisations and staff as the domain sees them (who may see a case is
//! decided from these).

use serde::{Deserialize, Serialize};

use crate::codes::OrgKind;

/// A health centre, clinic, prefecture office, lab, facility or the nation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Organisation {
    pub code: String,
    pub kind: OrgKind,
    pub name: String,
    /// The organisation above this one (a health centre's prefecture).
    pub parent: Option<String>,
}

/// Who is acting: recorded on every report, confirmation and edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Actor {
    pub login: String,
    pub org_code: String,
}
