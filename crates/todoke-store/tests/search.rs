//! The case list: text in every form a person types it, filters, sort, paging.

mod common;

use common::*;
use todoke_domain::*;
use todoke_store::{CaseQuery, CaseSummary, Desk, SortKey};
use uuid::Uuid;

struct Fixture {
    _t: TestDesk,
    ids: Vec<Uuid>,
}

impl std::ops::Deref for Fixture {
    type Target = Desk;
    fn deref(&self) -> &Desk {
        &self._t.desk
    }
}

/// Five people, plus enough filler that the "many matches" plan is used too.
fn fixture() -> Fixture {
    let mut t = new_desk();
    let mut people = vec![
        case("山田 太郎", "ヤマダ タロウ", "090-1234-5678", date(2022, 8, 3)),
        case("山本 花子", "やまもと はなこ", "03-3333-4444", date(2022, 8, 1)),
        case("髙橋 一郎", "ﾀｶﾊｼ ｲﾁﾛｳ", "０８０－９９９９－１１１１", date(2022, 7, 20)),
        case("小山田 優子", "オヤマダ ユウコ", "", date(2022, 8, 5)),
        case("SMITH John", "スミス ジョン", "+81 90 5555 6666", date(2022, 6, 30)),
    ];
    people[1].measures.current_status = Some(CurrentStatus::Hospitalised);
    people[2].notification.diagnosis_class = Some(DiagnosisClass::Suspected);
    people[3].notification.health_centre_confirmation =
        Some(todoke_domain::notification::Confirmation { on: date(2022, 8, 6), by: "hc".into() });
    people[4].jurisdiction.responsible_health_centre = "HC999".into();
    let ids = people.iter().map(|p| p.id).collect();
    for p in &people {
        t.desk.create_case(p, &actor()).unwrap();
    }
    // Filler: 3,000 cases whose kana all start with "ア" and whose names share "田中".
    let filler = (0..3000).map(|i| {
        let mut c = case(&format!("田中 {i}"), &format!("アオキ {i}"), "", date(2021, 1, 1) + chrono::Days::new(i % 365));
        c.basic.birth_date = Some(date(1950, 1, 1));
        c
    });
    t.desk.bulk_create(filler, &actor(), 1000, &mut |_| {}).unwrap();
    Fixture { _t: t, ids }
}

fn text(s: &str) -> CaseQuery {
    CaseQuery { text: Some(s.into()), limit: Some(50), ..Default::default() }
}

fn names(rows: &[CaseSummary]) -> Vec<&str> {
    rows.iter().map(|r| r.name.as_str()).collect()
}

#[test]
fn kana_prefix_in_any_script_and_width() {
    let f = fixture();
    // stored katakana, searched hiragana / half-width / katakana
    for q in ["やまだ", "ﾔﾏﾀﾞ", "ヤマダ", "やまだ た", "やまだた"] {
        assert_eq!(names(&f.search(&text(q)).unwrap()), ["山田 太郎"], "{q}");
    }
    // stored hiragana, searched katakana
    assert_eq!(names(&f.search(&text("ヤマモト")).unwrap()), ["山本 花子"]);
    // stored half-width, searched full-width hiragana
    assert_eq!(names(&f.search(&text("たかはし")).unwrap()), ["髙橋 一郎"]);
    // a prefix, not a substring: "やまだ" is inside "おやまだ" but does not start it
    assert_eq!(names(&f.search(&text("やま")).unwrap()), ["山田 太郎", "山本 花子"]);
}

#[test]
fn kanji_substring_anywhere_in_the_name() {
    let f = fixture();
    let rows = f.search(&text("山田")).unwrap();
    let mut found = names(&rows);
    found.sort();
    assert_eq!(found, ["小山田 優子", "山田 太郎"]);
    assert_eq!(names(&f.search(&text("優子")).unwrap()), ["小山田 優子"]);
    assert_eq!(names(&f.search(&text("橋")).unwrap()), ["髙橋 一郎"]);
    assert_eq!(names(&f.search(&text("山田 太郎")).unwrap()), ["山田 太郎"]);
    assert_eq!(f.count(&text("山")).unwrap(), 3);
    assert_eq!(f.count(&text("田")).unwrap(), 3002, "田中 ×3000 + 山田 + 小山田");
    assert!(f.search(&text("佐藤")).unwrap().is_empty());
    // Latin names match the written name too
    assert_eq!(names(&f.search(&text("smith")).unwrap()), ["SMITH John"]);
}

#[test]
fn phone_with_or_without_hyphens() {
    let f = fixture();
    for q in ["090-1234-5678", "09012345678", "090-1234", "０９０１２３４"] {
        assert_eq!(names(&f.search(&text(q)).unwrap()), ["山田 太郎"], "{q}");
    }
    assert_eq!(names(&f.search(&text("080-9999")).unwrap()), ["髙橋 一郎"]);
    assert_eq!(names(&f.search(&text("090-5555-6666")).unwrap()), ["SMITH John"], "+81 stored as 0");
    assert_eq!(names(&f.search(&text("03-3333")).unwrap()), ["山本 花子"]);
}

#[test]
fn case_id_and_id_prefix() {
    let f = fixture();
    let id = f.ids[3].to_string();
    assert_eq!(names(&f.search(&text(&id)).unwrap()), ["小山田 優子"]);
    assert_eq!(names(&f.search(&text(&id.to_uppercase())).unwrap()), ["小山田 優子"]);
    let without_hyphens: String = id.replace('-', "");
    assert_eq!(names(&f.search(&text(&without_hyphens)).unwrap()), ["小山田 優子"]);
    // UUIDv7s made close together share long prefixes: every case with the prefix matches
    for len in [6, 13, 20] {
        let rows = f.search(&text(&without_hyphens[..len])).unwrap();
        assert!(rows.iter().any(|r| r.id == f.ids[3]), "{len}");
        assert!(rows.iter().all(|r| r.id.to_string().replace('-', "").starts_with(&without_hyphens[..len])), "{len}");
    }
}

#[test]
fn many_matches_use_the_sort_index_and_stay_correct() {
    let f = fixture();
    // 3,000 filler readings start with "あ": more than the text-index threshold.
    let q = CaseQuery { text: Some("あおき".into()), limit: Some(10), ..Default::default() };
    let rows = f.search(&q).unwrap();
    assert_eq!(rows.len(), 10);
    assert!(rows.windows(2).all(|w| w[0].report_date >= w[1].report_date), "newest report first");
    assert_eq!(rows[0].report_date, Some(date(2021, 12, 31)));
    assert_eq!(f.count(&q).unwrap(), 3000);
    // the same rows as the text-driven plan gives (no limit = every match)
    let all = f.search(&CaseQuery { limit: None, ..q.clone() }).unwrap();
    assert_eq!(all.len(), 3000);
    assert_eq!(all[..10].iter().map(|r| r.id).collect::<Vec<_>>(), rows.iter().map(|r| r.id).collect::<Vec<_>>());
    // with an offset
    let page2 = f.search(&CaseQuery { offset: 10, ..q.clone() }).unwrap();
    assert_eq!(page2.iter().map(|r| r.id).collect::<Vec<_>>(), all[10..20].iter().map(|r| r.id).collect::<Vec<_>>());
    // a filter the name index does not hold: the many-matches plan tests the reading row by row
    let by_class = CaseQuery { diagnosis_class: Some(DiagnosisClass::Confirmed), ..q.clone() };
    let every = f.search(&CaseQuery { limit: None, ..by_class.clone() }).unwrap();
    assert_eq!(every.len(), 3000);
    let first = f.search(&by_class).unwrap();
    assert_eq!(first.iter().map(|r| r.id).collect::<Vec<_>>(), every[..10].iter().map(|r| r.id).collect::<Vec<_>>());
    // kanji, many matches
    let tanaka = f.search(&CaseQuery { text: Some("田中".into()), limit: Some(5), ..Default::default() }).unwrap();
    assert_eq!(tanaka.len(), 5);
}

#[test]
fn filters_combine() {
    let f = fixture();
    let base = CaseQuery { text: Some("山".into()), limit: Some(50), ..Default::default() };
    let q = CaseQuery { status: Some(CurrentStatus::Hospitalised), ..base.clone() };
    assert_eq!(names(&f.search(&q).unwrap()), ["山本 花子"]);
    let q = CaseQuery { diagnosis_class: Some(DiagnosisClass::Suspected), text: None, ..base.clone() };
    assert_eq!(names(&f.search(&q).unwrap()), ["髙橋 一郎"]);
    let q = CaseQuery { unconfirmed_only: true, ..base.clone() };
    assert_eq!(f.count(&q).unwrap(), 2, "小山田 is confirmed");
    let q = CaseQuery { report_from: Some(date(2022, 8, 2)), report_to: Some(date(2022, 8, 4)), text: None, ..base.clone() };
    assert_eq!(names(&f.search(&q).unwrap()), ["山田 太郎"]);
    let q = CaseQuery { diagnosis_from: Some(date(2022, 8, 5)), text: None, ..base.clone() };
    assert_eq!(names(&f.search(&q).unwrap()), ["小山田 優子"]);
    let q = CaseQuery { responsible_health_centre: Some("HC999".into()), text: None, ..base.clone() };
    assert_eq!(names(&f.search(&q).unwrap()), ["SMITH John"]);
}

#[test]
fn sort_limit_offset_and_count() {
    let f = fixture();
    let q = CaseQuery { report_from: Some(date(2022, 6, 1)), limit: Some(3), ..Default::default() };
    assert_eq!(names(&f.search(&q).unwrap()), ["小山田 優子", "山田 太郎", "山本 花子"]);
    assert_eq!(f.count(&q).unwrap(), 5);
    let asc = CaseQuery { ascending: true, ..q.clone() };
    assert_eq!(names(&f.search(&asc).unwrap()), ["SMITH John", "髙橋 一郎", "山本 花子"]);
    let paged = CaseQuery { offset: 3, ..q.clone() };
    assert_eq!(names(&f.search(&paged).unwrap()), ["髙橋 一郎", "SMITH John"]);
    let by_name = CaseQuery { sort: SortKey::Name, ascending: true, limit: None, ..q.clone() };
    assert_eq!(names(&f.search(&by_name).unwrap()), ["小山田 優子", "SMITH John", "髙橋 一郎", "山田 太郎", "山本 花子"]);
    for key in SortKey::ALL {
        let rows = f.search(&CaseQuery { sort: *key, limit: Some(7), ..Default::default() }).unwrap();
        assert_eq!(rows.len(), 7, "{key:?}");
        assert_eq!(SortKey::parse(key.code()), Some(*key));
    }
    assert_eq!(f.count(&CaseQuery::default()).unwrap(), 3005);
    assert_eq!(f.case_count().unwrap(), 3005);
}

#[test]
fn soft_deleted_cases_leave_the_list() {
    let mut f = fixture();
    let mut c = f._t.desk.get_case(f.ids[0]).unwrap().unwrap();
    c.deleted = Some(Deletion { on: date(2022, 9, 1), by: "hc".into(), reason: "重複登録".into() });
    f._t.desk.update_case(&c, &actor()).unwrap();
    assert!(f.search(&text("やまだ")).unwrap().is_empty());
    let deleted = CaseQuery { deleted_only: true, ..Default::default() };
    assert_eq!(names(&f.search(&deleted).unwrap()), ["山田 太郎"]);
    assert_eq!(f.case_count().unwrap(), 3004);
}

#[test]
fn summaries_carry_what_the_list_shows() {
    let f = fixture();
    let row = &f.search(&text("やまだたろう")).unwrap()[0];
    assert_eq!(row.id, f.ids[0]);
    assert_eq!(row.name_kana, "ヤマダ タロウ");
    assert_eq!(row.phone, "090-1234-5678");
    assert_eq!(row.sex, Some(Sex::Female));
    assert_eq!(row.current_status, Some(CurrentStatus::HomeRecovery));
    assert_eq!(row.diagnosis_class, Some(DiagnosisClass::Confirmed));
    assert_eq!(row.report_date, Some(date(2022, 8, 3)));
    assert_eq!((row.rev, row.pending_ops, row.confirmed, row.deleted), (1, 1, false, false));
}

#[test]
fn duplicates_by_reading_birth_date_and_sex() {
    let f = fixture();
    let dups = f.find_duplicates("やまだ たろう", date(1985, 5, 17), Sex::Female).unwrap();
    assert_eq!(names(&dups), ["山田 太郎"]);
    assert!(f.find_duplicates("やまだ たろう", date(1985, 5, 18), Sex::Female).unwrap().is_empty());
    assert!(f.find_duplicates("やまだ たろう", date(1985, 5, 17), Sex::Male).unwrap().is_empty());
    assert!(f.find_duplicates("", date(1985, 5, 17), Sex::Male).unwrap().is_empty());
}
