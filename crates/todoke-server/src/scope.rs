//! 管轄 — who may see and change a case (DOMAIN.md §2). The one place that
//! decides; every handler asks here.
//!
//! A case is visible to its responsible (担当) and related (関係) health
//! centres, the clinic that reported it, and every organisation over those
//! health centres (the prefecture). A local lab reads (for quality checks) what
//! the prefecture over it sees. The nation sees aggregates only.

use std::collections::{BTreeSet, HashMap};

use todoke_domain::case::Jurisdiction;

use crate::db::{DbError, Tx};

/// 組織の種別.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Nation,
    Prefecture,
    HealthCentre,
    Clinic,
    Lab,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [OrgKind::Nation, OrgKind::Prefecture, OrgKind::HealthCentre, OrgKind::Clinic, OrgKind::Lab];

    pub fn code(self) -> &'static str {
        match self {
            OrgKind::Nation => "nation",
            OrgKind::Prefecture => "prefecture",
            OrgKind::HealthCentre => "health-centre",
            OrgKind::Clinic => "clinic",
            OrgKind::Lab => "lab",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// A staff member's role within their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Enters and edits what the organisation may.
    Staff,
    /// Reads only.
    Viewer,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Staff, Role::Viewer].into_iter().find(|r| r.code() == s)
    }
}

/// The signed-in caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub staff_id: String,
    pub login: String,
    pub org: String,
    pub org_kind: OrgKind,
    pub org_parent: Option<String>,
    pub role: Role,
    pub device_id: String,
    pub session_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    Read,
    Write,
}

/// Organisation → (parent, parent's kind), as read so far in one unit of work.
pub type Parents = HashMap<String, Option<(String, String)>>;

/// The organisations a case with this jurisdiction is visible to.
pub fn case_orgs(tx: &mut dyn Tx, j: &Jurisdiction) -> Result<BTreeSet<String>, DbError> {
    case_orgs_cached(tx, j, &mut Parents::new())
}

/// [`case_orgs`], remembering the organisation tree in `parents` (a push
/// batch asks about the same few health centres again and again).
pub fn case_orgs_cached(tx: &mut dyn Tx, j: &Jurisdiction, parents: &mut Parents) -> Result<BTreeSet<String>, DbError> {
    let mut orgs = BTreeSet::new();
    let centres = std::iter::once(&j.responsible_health_centre).chain(j.related_health_centres.iter());
    for hc in centres.filter(|c| !c.is_empty()) {
        orgs.insert(hc.clone());
        let mut current = hc.clone();
        // Up the tree, short of the nation (it sees aggregates only); bounded,
        // so that a cycle in bad data cannot hang a request.
        for _ in 0..8 {
            let up = match parents.get(&current) {
                Some(known) => known.clone(),
                None => {
                    let row = tx.query_opt(
                        "SELECT o.parent, p.kind FROM org o JOIN org p ON p.code = o.parent WHERE o.code = $1",
                        &[current.as_str().into()],
                    )?;
                    let up = match row {
                        Some(r) => Some((r[0].text()?, r[1].text()?)),
                        None => None,
                    };
                    parents.insert(current.clone(), up.clone());
                    up
                }
            };
            let Some((parent, kind)) = up else { break };
            if kind == OrgKind::Nation.code() {
                break;
            }
            orgs.insert(parent.clone());
            current = parent;
        }
    }
    if !j.reporting_clinic.is_empty() {
        orgs.insert(j.reporting_clinic.clone());
    }
    Ok(orgs)
}

/// What `who` may do with a case visible to `orgs`.
pub fn case_access(who: &Principal, orgs: &BTreeSet<String>) -> Access {
    let seen = match who.org_kind {
        OrgKind::Nation => false,
        OrgKind::Lab => return if who.org_parent.as_ref().is_some_and(|p| orgs.contains(p)) { Access::Read } else { Access::None },
        OrgKind::Prefecture | OrgKind::HealthCentre | OrgKind::Clinic => orgs.contains(&who.org),
    };
    match (seen, who.role) {
        (false, _) => Access::None,
        (true, Role::Viewer) => Access::Read,
        (true, Role::Staff) => Access::Write,
    }
}

/// Whose change log `who` pulls: none for the nation (aggregates only).
pub fn pull_scope(who: &Principal) -> Option<String> {
    match who.org_kind {
        OrgKind::Nation => None,
        OrgKind::Lab => who.org_parent.clone(),
        _ => Some(who.org.clone()),
    }
}

/// Counts without personal data: the nation and prefectures.
pub fn may_see_aggregates(who: &Principal) -> bool {
    matches!(who.org_kind, OrgKind::Nation | OrgKind::Prefecture)
}

/// Whose cases a report (aggregates, suppressed) covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    /// The nation: every case.
    Everything,
    /// A prefecture or a health centre: the cases visible to it.
    Org(String),
}

/// Reports: the nation over everything, a prefecture or health centre over
/// its own scope; clinics and labs get none (`None`: refused).
pub fn report_scope(who: &Principal) -> Option<ReportScope> {
    match who.org_kind {
        OrgKind::Nation => Some(ReportScope::Everything),
        OrgKind::Prefecture | OrgKind::HealthCentre => Some(ReportScope::Org(who.org.clone())),
        OrgKind::Clinic | OrgKind::Lab => None,
    }
}

/// How a write to an existing case is admitted (SYNC.md property 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The case is in the writer's scope.
    InScope,
    /// The case has left the writer's scope (a transfer), but the writer's
    /// organisation saw it at the version the edit was made against: the
    /// edit is taken under the usual per-field rule, and the writer is told
    /// nothing of the case's current values.
    LeftScope,
    Refused,
}

/// May `who` write to the case now visible to `orgs`, with an edit made
/// against what was there at `seen_at` (the highest base version the edit
/// names; 0 for a new fact such as an observation)? A desk pushes its
/// pending edits of a case before it removes it, so edits made while its
/// organisation could still write are never refused for lack of access.
/// The organisations a case left, and the change that took it away, are in
/// `case_access_left`; the role rules are [`case_access`]'s.
pub fn write_admission(
    tx: &mut dyn Tx,
    who: &Principal,
    case_id: &str,
    orgs: &BTreeSet<String>,
    seen_at: i64,
) -> Result<Admission, DbError> {
    if case_access(who, orgs) >= Access::Write {
        return Ok(Admission::InScope);
    }
    let left: BTreeSet<String> = tx
        .query("SELECT org FROM case_access_left WHERE case_id = $1 AND until_seq >= $2", &[case_id.into(), seen_at.into()])?
        .iter()
        .map(|r| r[0].text())
        .collect::<Result<_, _>>()?;
    Ok(if case_access(who, &left) >= Access::Write { Admission::LeftScope } else { Admission::Refused })
}

/// Notes that a case left `org`'s scope at change `seq`.
pub fn note_scope_left(tx: &mut dyn Tx, case_id: &str, org: &str, seq: i64) -> Result<(), DbError> {
    tx.exec(
        "INSERT INTO case_access_left (case_id, org, until_seq) VALUES ($1, $2, $3)
         ON CONFLICT (case_id, org) DO UPDATE SET until_seq = excluded.until_seq",
        &[case_id.into(), org.into(), seq.into()],
    )?;
    Ok(())
}
