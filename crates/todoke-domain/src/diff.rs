//! Field-level changes between two versions of a record: what the outbox
//! sends and what sync merges, so that edits of different fields (or of
//! different items of a list) never overwrite each other.
//!
//! A record is compared as its JSON form (serde), walked into **field
//! paths**:
//! - objects by key: `basic.name`, `notification.infection_route.droplet`;
//! - lists whose items are all objects with a unique `"id"` (tests,
//!   contacts, behaviour, cluster links) item by item, keyed by that id:
//!   `tests[0190a6e4-…].result`, so that two desks editing different tests
//!   both keep their edit;
//! - every other list (symptoms, related health centres, vaccine doses,
//!   report events) is one field whose value is the whole list;
//! - a value that changes kind (null ↔ object, e.g. `deleted`) is one change
//!   of the whole value at that path.
//!
//! An **added list item is one change carrying the whole item** (`old` =
//! null): an item is added atomically, and since ids are unique two desks'
//! additions never collide. A **removed item** is a change at `list[id]` with
//! `new` = null. When the surviving items end up in a different order than
//! the new version (a reorder, or an insertion not at the end), one more
//! change at `list[]` carries the old and new order as lists of ids.
//!
//! Field names are serde field names (snake_case): they never contain `.`,
//! `[` or `]`, which is what makes the path syntax unambiguous.
//! `updated_at` (top level) is display-only and never part of a diff.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::case::Case;

/// One field's change: the path (see the module docs), its value before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldChange {
    pub path: String,
    pub old: Value,
    pub new: Value,
}

/// Why a list of changes could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiffError {
    #[error("malformed field path {0:?}")]
    BadPath(String),
    /// The path goes through something that is not an object or list (or a list item that is gone).
    #[error("field path {0:?} does not exist in the record")]
    NoSuchField(String),
    /// The result is not a valid record (a change put a wrong type in a field).
    #[error("the changed record is not valid: {0}")]
    Invalid(String),
}

/// Top-level fields that never appear in a diff.
const SKIPPED: &[&str] = &["updated_at"];

/// The field changes that turn `old` into `new` (`updated_at` aside).
pub fn changes(old: &Case, new: &Case) -> Vec<FieldChange> {
    value_changes(&to_value(old), &to_value(new))
}

/// Applies changes to a case: `apply(old, &changes(old, new)) == new` except
/// for `updated_at`, which keeps `case`'s value (the caller stamps it).
///
/// Applying does not compare `old` values with what is there: deciding
/// whether a change still applies (merge or conflict) is the caller's job.
pub fn apply(case: &Case, changes: &[FieldChange]) -> Result<Case, DiffError> {
    let mut value = to_value(case);
    apply_to_value(&mut value, changes)?;
    serde_json::from_value(value).map_err(|e| DiffError::Invalid(e.to_string()))
}

fn to_value(case: &Case) -> Value {
    serde_json::to_value(case).expect("a Case always serialises to JSON")
}

/// [`changes`] for any record in JSON form (clusters and other entities).
pub fn value_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let o = without_skipped(o);
            let n = without_skipped(n);
            diff_objects("", &o, &n, &mut out);
        }
        _ => diff_values("", old, new, &mut out),
    }
    out
}

/// [`apply`] for any record in JSON form.
pub fn apply_to_value(value: &mut Value, changes: &[FieldChange]) -> Result<(), DiffError> {
    for change in changes {
        let segments = parse_path(&change.path)?;
        set_at(value, &segments, &change.new, &change.path)?;
    }
    Ok(())
}

fn without_skipped(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter().filter(|(k, _)| !SKIPPED.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn diff_values(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => diff_objects(path, o, n, out),
        (Value::Array(o), Value::Array(n)) if is_keyed_list(o) && is_keyed_list(n) => diff_keyed(path, o, n, out),
        _ => out.push(FieldChange { path: path.to_string(), old: old.clone(), new: new.clone() }),
    }
}

fn diff_objects(path: &str, old: &Map<String, Value>, new: &Map<String, Value>, out: &mut Vec<FieldChange>) {
    for (key, o) in old {
        let n = new.get(key).unwrap_or(&Value::Null);
        diff_values(&join(path, key), o, n, out);
    }
    for (key, n) in new.iter().filter(|(k, _)| !old.contains_key(*k)) {
        diff_values(&join(path, key), &Value::Null, n, out);
    }
}

/// The id of a list item, when it is an object with a string `"id"`.
fn item_id(v: &Value) -> Option<&str> {
    v.as_object()?.get("id")?.as_str()
}

fn find<'a>(list: &'a [Value], id: &str) -> Option<&'a Value> {
    list.iter().find(|v| item_id(v) == Some(id))
}

/// A list diffed item by item: every item an object with a unique id (an
/// empty list qualifies, so adding the first test is an item change too).
fn is_keyed_list(items: &[Value]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().all(|v| item_id(v).is_some_and(|id| seen.insert(id)))
}

fn diff_keyed(path: &str, old: &[Value], new: &[Value], out: &mut Vec<FieldChange>) {
    for o in old {
        let id = item_id(o).expect("keyed list");
        let item_path = format!("{path}[{id}]");
        match find(new, id) {
            Some(n) => diff_values(&item_path, o, n, out),
            None => out.push(FieldChange { path: item_path, old: o.clone(), new: Value::Null }),
        }
    }
    for n in new {
        let id = item_id(n).expect("keyed list");
        if find(old, id).is_none() {
            out.push(FieldChange { path: format!("{path}[{id}]"), old: Value::Null, new: n.clone() });
        }
    }
    diff_order(path, old, new, out);
}

/// Emits an order change when applying the item changes (removals, then
/// additions appended) would not reproduce `new`'s order.
fn diff_order(path: &str, old: &[Value], new: &[Value], out: &mut Vec<FieldChange>) {
    let ids = |list: &[Value]| -> Vec<String> { list.iter().filter_map(item_id).map(str::to_string).collect() };
    let (old_ids, new_ids) = (ids(old), ids(new));
    let mut expected: Vec<String> = old_ids.iter().filter(|id| new_ids.contains(id)).cloned().collect();
    expected.extend(new_ids.iter().filter(|id| !old_ids.contains(id)).cloned());
    if expected != new_ids {
        out.push(FieldChange { path: format!("{path}[]"), old: Value::from(old_ids), new: Value::from(new_ids) });
    }
}

/// One step of a path: an object key, optionally followed by a list item id
/// (`Some(id)`) or the list's order (`Some("")`).
#[derive(Debug)]
struct Segment<'a> {
    key: &'a str,
    item: Option<&'a str>,
}

fn parse_path(path: &str) -> Result<Vec<Segment<'_>>, DiffError> {
    let bad = || DiffError::BadPath(path.to_string());
    if path.is_empty() {
        return Err(bad());
    }
    path.split('.')
        .map(|part| match part.split_once('[') {
            None if !part.is_empty() && !part.contains(']') => Ok(Segment { key: part, item: None }),
            Some((key, rest)) if !key.is_empty() => match rest.strip_suffix(']') {
                Some(id) if !id.contains(['[', ']']) => Ok(Segment { key, item: Some(id) }),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        })
        .collect()
}

fn set_at(target: &mut Value, path: &[Segment<'_>], new: &Value, full: &str) -> Result<(), DiffError> {
    let missing = || DiffError::NoSuchField(full.to_string());
    let (seg, rest) = path.split_first().ok_or_else(missing)?;
    if target.is_null() {
        // A field that was null and gains a sub-field (only from merges: our
        // own diffs replace null objects whole).
        *target = Value::Object(Map::new());
    }
    let object = target.as_object_mut().ok_or_else(missing)?;
    match seg.item {
        None if rest.is_empty() => {
            object.insert(seg.key.to_string(), new.clone());
            Ok(())
        }
        None => set_at(object.entry(seg.key.to_string()).or_insert(Value::Null), rest, new, full),
        Some(id) => {
            let list = object.entry(seg.key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
            if list.is_null() {
                *list = Value::Array(Vec::new());
            }
            let list = list.as_array_mut().ok_or_else(missing)?;
            set_in_list(list, id, rest, new, full)
        }
    }
}

fn set_in_list(list: &mut Vec<Value>, id: &str, rest: &[Segment<'_>], new: &Value, full: &str) -> Result<(), DiffError> {
    if id.is_empty() {
        return reorder(list, new, full);
    }
    let pos = list.iter().position(|v| item_id(v) == Some(id));
    match (pos, rest.is_empty()) {
        (Some(i), false) => set_at(&mut list[i], rest, new, full),
        (None, false) => Err(DiffError::NoSuchField(full.to_string())),
        (Some(i), true) if new.is_null() => {
            list.remove(i);
            Ok(())
        }
        (Some(i), true) => {
            list[i] = new.clone();
            Ok(())
        }
        (None, true) if new.is_null() => Ok(()),
        (None, true) => {
            list.push(new.clone());
            Ok(())
        }
    }
}

/// Puts the listed ids first in the given order; items not listed (added
/// elsewhere meanwhile) keep their relative order after them.
fn reorder(list: &mut [Value], order: &Value, full: &str) -> Result<(), DiffError> {
    let order = order.as_array().ok_or_else(|| DiffError::Invalid(format!("{full}: order must be a list of ids")))?;
    let rank = |v: &Value| -> usize { item_id(v).and_then(|id| order.iter().position(|o| o.as_str() == Some(id))).unwrap_or(order.len()) };
    list.sort_by_key(rank);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::*;
    use crate::codes::*;
    use chrono::NaiveDate;
    use uuid::Uuid;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn test_record(n: u128, result: Option<TestResult>) -> TestRecord {
        TestRecord {
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n),
            collected_on: date(2022, 8, 1),
            method: Some(TestMethod::NucleicAcid),
            specimen: Some(Specimen::Saliva),
            result,
            ..Default::default()
        }
    }

    fn base() -> Case {
        let mut c = Case { id: Uuid::from_u128(1), ..Default::default() };
        c.basic.name = "山田 太郎".into();
        c.basic.name_kana = "ヤマダ タロウ".into();
        c.basic.birth_date = date(1980, 4, 1);
        c.basic.sex = Some(Sex::Male);
        c.notification.diagnosis_class = Some(DiagnosisClass::Suspected);
        c.notification.symptoms = vec![Symptom::Fever];
        c.jurisdiction.related_health_centres = vec!["HC1".into()];
        c.tests = vec![test_record(1, None), test_record(2, Some(TestResult::Negative))];
        c.investigation.contacts = vec![Contact { id: Uuid::from_u128(10), name: "山田 花子".into(), ..Default::default() }];
        c
    }

    fn roundtrip(old: &Case, new: &Case) -> Vec<FieldChange> {
        let ch = changes(old, new);
        let applied = apply(old, &ch).expect("applies");
        assert_eq!(applied, Case { updated_at: old.updated_at, ..new.clone() }, "changes: {ch:#?}");
        ch
    }

    fn paths(ch: &[FieldChange]) -> Vec<&str> {
        ch.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn equal_cases_have_no_changes() {
        let c = base();
        assert!(changes(&c, &c.clone()).is_empty());
    }

    #[test]
    fn updated_at_is_not_a_change() {
        let old = base();
        let new = Case { updated_at: Some(chrono::Utc::now()), ..old.clone() };
        assert!(changes(&old, &new).is_empty());
    }

    #[test]
    fn scalar_fields_are_paths() {
        let old = base();
        let mut new = old.clone();
        new.basic.name = "山田 太朗".into();
        new.notification.infection_route.droplet = Some(Certainty::Presumed);
        let ch = roundtrip(&old, &new);
        assert_eq!(paths(&ch), ["basic.name", "notification.infection_route.droplet"]);
        assert_eq!(ch[1].old, Value::Null);
        assert_eq!(ch[1].new, Value::from("presumed"));
    }

    #[test]
    fn list_items_are_keyed_by_id() {
        let old = base();
        let mut new = old.clone();
        new.tests[0].result = Some(TestResult::Positive);
        let ch = roundtrip(&old, &new);
        assert_eq!(paths(&ch), [format!("tests[{}].result", old.tests[0].id)]);
    }

    #[test]
    fn scalar_lists_are_one_field() {
        let old = base();
        let mut new = old.clone();
        new.notification.symptoms.push(Symptom::Cough);
        new.jurisdiction.related_health_centres.clear();
        let ch = roundtrip(&old, &new);
        assert_eq!(paths(&ch), ["jurisdiction.related_health_centres", "notification.symptoms"]);
        assert_eq!(ch[1].new, serde_json::json!(["fever", "cough"]));
    }

    #[test]
    fn added_item_is_one_change_with_the_whole_item() {
        let old = base();
        let mut new = old.clone();
        let t = test_record(3, Some(TestResult::Positive));
        new.tests.push(t.clone());
        let ch = roundtrip(&old, &new);
        assert_eq!(paths(&ch), [format!("tests[{}]", t.id)]);
        assert_eq!(ch[0].old, Value::Null);
        assert_eq!(ch[0].new, serde_json::to_value(&t).unwrap());
    }

    #[test]
    fn first_item_of_an_empty_list() {
        let mut old = base();
        old.tests.clear();
        let mut new = old.clone();
        new.tests.push(test_record(5, None));
        let ch = roundtrip(&old, &new);
        assert_eq!(ch.len(), 1);
        assert!(ch[0].path.starts_with("tests["));
    }

    #[test]
    fn removed_item_is_null() {
        let old = base();
        let mut new = old.clone();
        let gone = new.tests.remove(0);
        let ch = roundtrip(&old, &new);
        assert_eq!(paths(&ch), [format!("tests[{}]", gone.id)]);
        assert_eq!(ch[0].new, Value::Null);
    }

    #[test]
    fn reorder_and_insert_in_the_middle() {
        let old = base();
        let mut new = old.clone();
        new.tests.reverse();
        new.tests.insert(1, test_record(9, None));
        let ch = roundtrip(&old, &new);
        assert!(paths(&ch).contains(&"tests[]"));
    }

    #[test]
    fn option_struct_null_to_value_is_one_change() {
        let old = base();
        let mut new = old.clone();
        new.deleted = Some(Deletion { on: date(2022, 9, 1).unwrap(), by: "staff".into(), reason: "重複".into() });
        new.notification.health_centre_confirmation =
            Some(crate::notification::Confirmation { on: date(2022, 9, 1).unwrap(), by: "hc".into() });
        let ch = roundtrip(&old, &new);
        assert_eq!(paths(&ch), ["deleted", "notification.health_centre_confirmation"]);
        // and back
        roundtrip(&new, &old);
    }

    #[test]
    fn many_realistic_edits_roundtrip_both_ways() {
        let a = base();
        let mut variants = vec![a.clone(), Case::default()];
        let mut b = a.clone();
        b.notification.diagnosis_class = Some(DiagnosisClass::Confirmed);
        b.notification.report_date = date(2022, 8, 3);
        b.tests[0].result = Some(TestResult::Positive);
        b.tests[0].result_on = date(2022, 8, 2);
        b.measures.current_status = Some(CurrentStatus::HomeRecovery);
        b.investigation.contacts[0].kind = Some(ContactKind::Household);
        b.investigation.contacts.push(Contact { id: Uuid::from_u128(11), name: "山田 次郎".into(), ..Default::default() });
        b.investigation.behaviour.push(BehaviourEntry {
            id: Uuid::from_u128(20),
            date: date(2022, 7, 30),
            place: "飲食店".into(),
            note: String::new(),
        });
        b.notification.vaccinations.push(crate::notification::VaccineDose { dose: 1, ..Default::default() });
        variants.push(b.clone());
        let mut c = b.clone();
        c.tests.clear();
        c.investigation.contacts.remove(0);
        c.basic.guardian = Some(Guardian { name: "保護者".into(), ..Default::default() });
        c.publication = Some(Publication { number: "12".into(), ..Default::default() });
        c.notification.infection_region.domestic =
            Some(crate::notification::DomesticRegion { prefecture_code: "13".into(), municipality_code: "131016".into() });
        variants.push(c);
        let mut d = a.clone();
        d.id = Uuid::from_u128(2);
        d.tests.swap(0, 1);
        d.investigation.clusters.push(ClusterLink { id: Uuid::from_u128(30), cluster_id: Uuid::from_u128(31) });
        variants.push(d);
        for old in &variants {
            for new in &variants {
                roundtrip(old, new);
            }
        }
    }

    #[test]
    fn changes_survive_json() {
        let old = base();
        let mut new = old.clone();
        new.tests[1].institution = "○○クリニック".into();
        let ch = changes(&old, &new);
        let back: Vec<FieldChange> = serde_json::from_str(&serde_json::to_string(&ch).unwrap()).unwrap();
        assert_eq!(apply(&old, &back).unwrap(), new);
    }

    #[test]
    fn concurrent_edits_of_different_items_merge() {
        let old = base();
        let mut mine = old.clone();
        mine.tests[0].result = Some(TestResult::Positive);
        let mut theirs = old.clone();
        theirs.tests[1].institution = "保健所".into();
        theirs.tests.push(test_record(7, None));
        let merged = apply(&apply(&old, &changes(&old, &theirs)).unwrap(), &changes(&old, &mine)).unwrap();
        assert_eq!(merged.tests[0].result, Some(TestResult::Positive));
        assert_eq!(merged.tests[1].institution, "保健所");
        assert_eq!(merged.tests.len(), 3);
    }

    #[test]
    fn bad_paths_are_refused() {
        let c = base();
        for path in ["", "basic..name", "tests[x", "tests]x", "[x]", "basic.name.first"] {
            let ch = [FieldChange { path: path.into(), old: Value::Null, new: Value::from(1) }];
            assert!(apply(&c, &ch).is_err(), "{path}");
        }
        let wrong_type = [FieldChange { path: "basic.birth_date".into(), old: Value::Null, new: Value::from(12) }];
        assert!(matches!(apply(&c, &wrong_type), Err(DiffError::Invalid(_))));
        let gone = [FieldChange { path: "tests[nope].result".into(), old: Value::Null, new: Value::from("positive") }];
        assert!(matches!(apply(&c, &gone), Err(DiffError::NoSuchField(_))));
    }
}
