//! 管轄 — who may see and change a case, and which of its fields (DOMAIN.md
//! §2). The one place that decides; every handler asks here.
//!
//! A case is visible to its responsible (担当) and related (関係) health
//! centres, the clinic that reported it, the facility (宿泊療養施設) it is
//! placed in (`jurisdiction.facility`, if that code is a facility), and every
//! organisation over those health centres: the prefecture, and at the top the
//! nation. The nation's own users see aggregates only; its row in
//! `case_access` is what a national lab reads.
//!
//! | caller | sees | view | may |
//! |---|---|---|---|
//! | health centre, prefecture, clinic | cases visible to its organisation | whole record | staff: create, edit, observe |
//! | lab (地方衛生研究所, parent a prefecture; 国立感染症研究所, parent the nation) | what its parent sees | pseudonymised | role `corrector`: correct [`LAB_CORRECTABLE`] fields |
//! | facility (宿泊療養施設) | its residents | resident | staff: add observations |
//! | nation | aggregates only | — | — |

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use todoke_domain::case::Jurisdiction;
use todoke_protocol::{Change, ConflictRecord};

use crate::db::{DbError, Tx};

/// 組織の種別.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Nation,
    Prefecture,
    HealthCentre,
    Clinic,
    /// 地方衛生研究所 (parent: a prefecture) or 国立感染症研究所 (parent: the nation).
    Lab,
    /// 宿泊療養施設 (parent: a prefecture or a health centre).
    Facility,
}

impl OrgKind {
    pub const ALL: [OrgKind; 6] =
        [OrgKind::Nation, OrgKind::Prefecture, OrgKind::HealthCentre, OrgKind::Clinic, OrgKind::Lab, OrgKind::Facility];

    pub fn code(self) -> &'static str {
        match self {
            OrgKind::Nation => "nation",
            OrgKind::Prefecture => "prefecture",
            OrgKind::HealthCentre => "health-centre",
            OrgKind::Clinic => "clinic",
            OrgKind::Lab => "lab",
            OrgKind::Facility => "facility",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.code() == s)
    }

    /// The kinds an organisation of this kind may hang under (`None`: any, or none).
    pub fn parent_kinds(self) -> Option<&'static [OrgKind]> {
        match self {
            OrgKind::Lab => Some(&[OrgKind::Prefecture, OrgKind::Nation]),
            OrgKind::Facility => Some(&[OrgKind::Prefecture, OrgKind::HealthCentre]),
            _ => None,
        }
    }
}

/// A staff member's role within their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Enters and edits what the organisation may.
    Staff,
    /// Reads only.
    Viewer,
    /// Labs only: reads, and corrects the fields of [`LAB_CORRECTABLE`] (granted by an administrator).
    Corrector,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Staff, Role::Viewer, Role::Corrector];

    pub fn code(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Viewer => "viewer",
            Role::Corrector => "corrector",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }

    /// May an organisation of `kind` have users with this role?
    pub fn fits(self, kind: OrgKind) -> bool {
        self != Role::Corrector || kind == OrgKind::Lab
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

/// What a caller may do with one case, weakest first. `Observe` and
/// `Correct` are side by side, not one above the other: ask
/// [`Access::may_add_observation`] and [`Access::may_edit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    /// Sees it (in the caller's [`View`]).
    Read,
    /// Sees it and adds health observations (a facility's staff).
    Observe,
    /// Sees it and corrects the fields [`may_change_field`] allows (a granted lab).
    Correct,
    /// Sees, edits and creates everything (health centre, prefecture, clinic staff).
    Write,
}

impl Access {
    pub fn may_add_observation(self) -> bool {
        matches!(self, Access::Observe | Access::Write)
    }

    pub fn may_edit(self) -> bool {
        matches!(self, Access::Correct | Access::Write)
    }
}

/// The organisation tree as read so far in one unit of work (a push batch
/// asks about the same few organisations again and again).
#[derive(Debug, Default)]
pub struct Parents {
    /// Organisation → (parent, parent's kind).
    up: HashMap<String, Option<(String, String)>>,
    /// Organisation → its kind (None: no such organisation).
    kinds: HashMap<String, Option<String>>,
}

impl Parents {
    pub fn new() -> Parents {
        Parents::default()
    }
}

/// The organisations a case with this jurisdiction is visible to.
pub fn case_orgs(tx: &mut dyn Tx, j: &Jurisdiction) -> Result<BTreeSet<String>, DbError> {
    case_orgs_cached(tx, j, &mut Parents::new())
}

/// [`case_orgs`], remembering the organisation tree in `parents`.
pub fn case_orgs_cached(tx: &mut dyn Tx, j: &Jurisdiction, parents: &mut Parents) -> Result<BTreeSet<String>, DbError> {
    let mut orgs = BTreeSet::new();
    let centres = std::iter::once(&j.responsible_health_centre).chain(j.related_health_centres.iter());
    for hc in centres.filter(|c| !c.is_empty()) {
        orgs.insert(hc.clone());
        let mut current = hc.clone();
        // Up the tree to the top (the nation, whose national lab reads it);
        // bounded, so that a cycle in bad data cannot hang a request.
        for _ in 0..8 {
            let up = match parents.up.get(&current) {
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
                    parents.up.insert(current.clone(), up.clone());
                    up
                }
            };
            let Some((parent, _)) = up else { break };
            if !orgs.insert(parent.clone()) {
                break;
            }
            current = parent;
        }
    }
    if !j.reporting_clinic.is_empty() {
        orgs.insert(j.reporting_clinic.clone());
    }
    // Only a facility is placed as a facility: any other code there opens nothing.
    if !j.facility.is_empty() {
        let kind = match parents.kinds.get(&j.facility) {
            Some(known) => known.clone(),
            None => {
                let kind = tx
                    .query_opt("SELECT kind FROM org WHERE code = $1", &[j.facility.as_str().into()])?
                    .map(|r| r[0].text())
                    .transpose()?;
                parents.kinds.insert(j.facility.clone(), kind.clone());
                kind
            }
        };
        if kind.as_deref() == Some(OrgKind::Facility.code()) {
            orgs.insert(j.facility.clone());
        }
    }
    Ok(orgs)
}

/// What `who` may do with a case visible to `orgs`.
pub fn case_access(who: &Principal, orgs: &BTreeSet<String>) -> Access {
    let seen = match who.org_kind {
        OrgKind::Nation => false,
        OrgKind::Lab => who.org_parent.as_ref().is_some_and(|p| orgs.contains(p)),
        OrgKind::Prefecture | OrgKind::HealthCentre | OrgKind::Clinic | OrgKind::Facility => orgs.contains(&who.org),
    };
    if !seen {
        return Access::None;
    }
    match (who.org_kind, who.role) {
        (_, Role::Viewer) => Access::Read,
        (OrgKind::Lab, Role::Corrector) => Access::Correct,
        (OrgKind::Lab, _) => Access::Read,
        (OrgKind::Facility, Role::Staff) => Access::Observe,
        (_, Role::Staff) => Access::Write,
        // A corrector outside a lab cannot be created; if one is, it reads.
        (_, Role::Corrector) => Access::Read,
    }
}

/// May `who`, with `access` to a record of `entity`, change the field at `path`?
pub fn may_change_field(who: &Principal, access: Access, entity: &str, path: &str) -> bool {
    match access {
        Access::Write => true,
        Access::Correct => {
            let p = normalise(path);
            entity == "case" && LAB_CORRECTABLE.iter().any(|c| within(&p, c)) && view(who).rules(entity).fully_shown(&p)
        }
        _ => false,
    }
}

/// Whose change log `who` pulls: none for the nation (aggregates only); a
/// lab reads its parent's (a prefecture's, or the nation's for the NIID).
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
    /// The cases visible to this organisation.
    Org(String),
}

/// Reports: the nation over everything; a prefecture or health centre over
/// its own scope; a lab over its parent's (its area, for quality checks).
/// Clinics and facilities get none (`None`: refused).
pub fn report_scope(who: &Principal) -> Option<ReportScope> {
    match who.org_kind {
        OrgKind::Nation => Some(ReportScope::Everything),
        OrgKind::Prefecture | OrgKind::HealthCentre => Some(ReportScope::Org(who.org.clone())),
        OrgKind::Lab => who.org_parent.clone().map(ReportScope::Org),
        OrgKind::Clinic | OrgKind::Facility => None,
    }
}

// ---------------------------------------------------------------------------
// Views: which fields of a record a caller sees.

/// Which fields of the records it may read a caller is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Everything (health centre, prefecture, clinic).
    Full,
    /// Labs (quality checks): no direct identifiers (name, contact details,
    /// address text, free-text notes, contacts' identities); dates, codes,
    /// sex, birth date and municipality kept, which the checks need.
    Pseudonymised,
    /// Facilities: what caring for a resident needs (name, birth date, sex,
    /// phone, underlying diseases, onset, symptoms, status), nothing else.
    Resident,
}

/// A lab sees everything of a case but these (field paths; `[*]` = every item).
pub const LAB_HIDDEN: &[&str] = &[
    "basic.name",
    "basic.name_kana",
    "basic.registered_address.postal_code",
    "basic.registered_address.text",
    "basic.registered_address.phone",
    "basic.residence.postal_code",
    "basic.residence.text",
    "basic.residence.phone",
    "basic.phone",
    "basic.email",
    "basic.guardian",
    "basic.id_management_note",
    "notification.remarks",
    "investigation.behaviour[*].note",
    "investigation.contacts[*].name",
    "investigation.contacts[*].name_kana",
    "investigation.contacts[*].phone",
    "investigation.contacts[*].note",
    "investigation.notes",
    "follow_up.processing_number",
];

/// What a granted lab (role `corrector`) may correct: notification items,
/// tests and measures (the quality checks' subjects), as far as it sees them.
pub const LAB_CORRECTABLE: &[&str] = &["notification", "tests", "measures", "basic.sex"];

/// A facility sees only these fields of its residents' cases.
pub const RESIDENT_SHOWN: &[&str] = &[
    "id",
    "deleted",
    "updated_at",
    "jurisdiction",
    "basic.name",
    "basic.name_kana",
    "basic.birth_date",
    "basic.sex",
    "basic.phone",
    "underlying_diseases",
    "notification.onset_date",
    "notification.symptoms",
    "measures.current_status",
    "measures.status_updated_on",
    "measures.recovery_ended_on",
    "measures.emergency_hospital",
    "measures.family_doctor",
    "follow_up.self_report_enabled",
];

/// What `who` is shown of the records it reads.
pub fn view(who: &Principal) -> View {
    match who.org_kind {
        OrgKind::Lab => View::Pseudonymised,
        OrgKind::Facility => View::Resident,
        _ => View::Full,
    }
}

/// Shown: paths inside an `allow` pattern and not inside a `deny` one.
struct Rules {
    allow: &'static [&'static str],
    deny: &'static [&'static str],
}

const EVERYTHING: Rules = Rules { allow: &[""], deny: &[] };
const NOTHING: Rules = Rules { allow: &[], deny: &[] };

impl View {
    fn rules(self, entity: &str) -> Rules {
        match (self, entity) {
            (View::Full, _) => EVERYTHING,
            (View::Pseudonymised, "case") => Rules { allow: &[""], deny: LAB_HIDDEN },
            (View::Pseudonymised, "observation") => Rules { allow: &[""], deny: &["note"] },
            // Clusters name places and events, not people.
            (View::Pseudonymised, _) => EVERYTHING,
            (View::Resident, "case") => Rules { allow: RESIDENT_SHOWN, deny: &[] },
            // The facility's nurses enter these themselves.
            (View::Resident, "observation") => EVERYTHING,
            (View::Resident, _) => NOTHING,
        }
    }
}

/// Is the field path `inner` the path `outer` or inside it? (`""` holds everything.)
fn within(inner: &str, outer: &str) -> bool {
    outer.is_empty() || inner == outer || (inner.starts_with(outer) && matches!(inner.as_bytes().get(outer.len()), Some(b'.') | Some(b'[')))
}

/// A field path with every list-item key as `*`: `tests[0190…].result` → `tests[*].result`.
fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_key = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                in_key = true;
                out.push_str("[*");
            }
            ']' => {
                in_key = false;
                out.push(']');
            }
            _ if in_key => {}
            _ => out.push(ch),
        }
    }
    out
}

impl Rules {
    fn covered(&self, p: &str) -> bool {
        self.allow.iter().any(|a| within(p, a)) && !self.deny.iter().any(|d| within(p, d))
    }

    /// Nothing at or under `p` is shown.
    fn hidden(&self, p: &str) -> bool {
        self.deny.iter().any(|d| within(p, d)) || !(self.allow.iter().any(|a| within(p, a) || within(a, p)))
    }

    /// Everything at and under `p` is shown.
    fn fully_shown(&self, p: &str) -> bool {
        self.covered(p) && !self.deny.iter().any(|d| within(d, p))
    }

    /// The value at (normalised) path `p` as shown; `None`: not shown at all.
    fn prune(&self, p: &str, v: Value) -> Option<Value> {
        if self.hidden(p) {
            return None;
        }
        if self.fully_shown(p) {
            return Some(v);
        }
        match v {
            Value::Object(map) => Some(Value::Object(
                map.into_iter()
                    .filter_map(|(k, child)| {
                        let cp = if p.is_empty() { k.clone() } else { format!("{p}.{k}") };
                        self.prune(&cp, child).map(|c| (k, c))
                    })
                    .collect(),
            )),
            Value::Array(items) => {
                let ip = format!("{p}[*]");
                Some(Value::Array(items.into_iter().filter_map(|i| self.prune(&ip, i)).collect()))
            }
            Value::Null => Some(Value::Null),
            other => self.covered(p).then_some(other),
        }
    }
}

/// A record's document as `who` is shown it (`None`: not at all).
pub fn shown_doc(who: &Principal, entity: &str, doc: Value) -> Option<Value> {
    view(who).rules(entity).prune("", doc)
}

/// A change as `who` is shown it: documents and values pruned to its view,
/// field changes and conflicts it may not see left out (`None`: nothing left).
pub fn shown_change(who: &Principal, change: Change) -> Option<Change> {
    let v = view(who);
    if v == View::Full {
        return Some(change);
    }
    match change {
        Change::Put { server_seq, entity, entity_id, case_id, doc, field_versions } => {
            let rules = v.rules(&entity);
            let doc = rules.prune("", doc)?;
            let field_versions = field_versions.into_iter().filter(|(p, _)| !rules.hidden(&normalise(p))).collect();
            Some(Change::Put { server_seq, entity, entity_id, case_id, doc, field_versions })
        }
        Change::Patch { server_seq, entity, entity_id, case_id, changes, op_id } => {
            let rules = v.rules(&entity);
            let changes: Vec<_> = changes
                .into_iter()
                .filter_map(|mut c| {
                    let p = normalise(&c.path);
                    c.new = rules.prune(&p, c.new)?;
                    c.old = rules.prune(&p, c.old).unwrap_or(Value::Null);
                    Some(c)
                })
                .collect();
            (!changes.is_empty()).then_some(Change::Patch { server_seq, entity, entity_id, case_id, changes, op_id })
        }
        Change::Conflict { server_seq, conflict } => {
            shown_conflict(who, conflict).map(|conflict| Change::Conflict { server_seq, conflict })
        }
        left @ Change::ScopeLeft { .. } => Some(left),
    }
}

/// A conflict as `who` is shown it: only on fields it sees, values pruned.
pub fn shown_conflict(who: &Principal, mut c: ConflictRecord) -> Option<ConflictRecord> {
    let rules = view(who).rules(&c.entity);
    let p = normalise(&c.field);
    if rules.hidden(&p) {
        return None;
    }
    c.server_value = rules.prune(&p, c.server_value).unwrap_or(Value::Null);
    c.client_value = rules.prune(&p, c.client_value).unwrap_or(Value::Null);
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn who(kind: OrgKind, role: Role) -> Principal {
        Principal {
            staff_id: "s".into(),
            login: "l".into(),
            org: "O".into(),
            org_kind: kind,
            org_parent: Some("P".into()),
            role,
            device_id: "d".into(),
            session_id: "x".into(),
        }
    }

    #[test]
    fn paths_normalise_list_keys() {
        assert_eq!(normalise("investigation.contacts[0190-ab].name"), "investigation.contacts[*].name");
        assert_eq!(normalise("tests[]"), "tests[*]");
        assert_eq!(normalise("basic.name"), "basic.name");
    }

    #[test]
    fn views_prune_documents_and_changes() {
        let doc = json!({
            "id": "c", "basic": {"name": "山田", "sex": "male", "residence": {"text": "1-2-3", "municipality_code": "13101"}},
            "investigation": {"notes": "n", "contacts": [{"id": "k", "name": "佐藤", "kind": "household"}]},
            "measures": {"current_status": "hotel_recovery", "hospital": "H"}
        });
        let lab = shown_doc(&who(OrgKind::Lab, Role::Viewer), "case", doc.clone()).unwrap();
        assert_eq!(
            lab,
            json!({"id": "c", "basic": {"sex": "male", "residence": {"municipality_code": "13101"}},
                   "investigation": {"contacts": [{"id": "k", "kind": "household"}]},
                   "measures": {"current_status": "hotel_recovery", "hospital": "H"}})
        );
        let hotel = shown_doc(&who(OrgKind::Facility, Role::Staff), "case", doc.clone()).unwrap();
        assert_eq!(hotel, json!({"id": "c", "basic": {"name": "山田", "sex": "male"}, "measures": {"current_status": "hotel_recovery"}}));
        assert_eq!(shown_doc(&who(OrgKind::HealthCentre, Role::Staff), "case", doc.clone()), Some(doc));
        assert_eq!(shown_doc(&who(OrgKind::Facility, Role::Staff), "cluster", json!({"id": "x"})), None);

        let patch = Change::Patch {
            server_seq: 1,
            entity: "case".into(),
            entity_id: "c".into(),
            case_id: uuid::Uuid::nil(),
            changes: vec![
                todoke_domain::diff::FieldChange { path: "basic.name".into(), old: json!("a"), new: json!("b") },
                todoke_domain::diff::FieldChange {
                    path: "investigation.contacts[k]".into(),
                    old: Value::Null,
                    new: json!({"id": "k", "name": "佐藤", "phone": "090"}),
                },
            ],
            op_id: None,
        };
        let Some(Change::Patch { changes, .. }) = shown_change(&who(OrgKind::Lab, Role::Viewer), patch.clone()) else { panic!() };
        assert_eq!(changes.len(), 1);
        assert_eq!((changes[0].path.as_str(), &changes[0].new), ("investigation.contacts[k]", &json!({"id": "k"})));
        let Some(Change::Patch { changes, .. }) = shown_change(&who(OrgKind::Facility, Role::Staff), patch) else { panic!() };
        assert_eq!(changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), ["basic.name"]);
    }

    #[test]
    fn who_may_change_what() {
        let orgs: BTreeSet<String> = ["HC".to_string(), "P".to_string(), "O".to_string()].into();
        let corrector = who(OrgKind::Lab, Role::Corrector);
        let access = case_access(&corrector, &orgs);
        assert_eq!(access, Access::Correct);
        assert!(access.may_edit() && !access.may_add_observation() && access < Access::Write);
        assert!(may_change_field(&corrector, access, "case", "notification.onset_date"));
        assert!(may_change_field(&corrector, access, "case", "tests[abc].result"));
        assert!(!may_change_field(&corrector, access, "case", "notification"), "would overwrite what it cannot see");
        assert!(!may_change_field(&corrector, access, "case", "basic.name"));
        assert!(!may_change_field(&corrector, access, "case", "jurisdiction.responsible_health_centre"));
        assert_eq!(case_access(&who(OrgKind::Lab, Role::Viewer), &orgs), Access::Read);
        let nurse = case_access(&who(OrgKind::Facility, Role::Staff), &orgs);
        assert!(nurse.may_add_observation() && !nurse.may_edit());
        assert_eq!(case_access(&who(OrgKind::Facility, Role::Staff), &BTreeSet::new()), Access::None);
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
/// `case_access_left`; the role rules are [`case_access`]'s, and `allowed`
/// says which access the write needs. Returns the access it is made with.
pub fn write_admission(
    tx: &mut dyn Tx,
    who: &Principal,
    case_id: &str,
    orgs: &BTreeSet<String>,
    seen_at: i64,
    allowed: fn(Access) -> bool,
) -> Result<(Admission, Access), DbError> {
    let now = case_access(who, orgs);
    if allowed(now) {
        return Ok((Admission::InScope, now));
    }
    let left: BTreeSet<String> = tx
        .query("SELECT org FROM case_access_left WHERE case_id = $1 AND until_seq >= $2", &[case_id.into(), seen_at.into()])?
        .iter()
        .map(|r| r[0].text())
        .collect::<Result<_, _>>()?;
    let then = case_access(who, &left);
    Ok(if allowed(then) { (Admission::LeftScope, then) } else { (Admission::Refused, now) })
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
