//! Data-quality lists for the checkers (地方衛生研究所, 国立感染症研究所) and for
//! the health centre's own follow-up: each a list of case ids with the reason.
//!
//! Cases stream through a [`QualityChecker`] one at a time (with their
//! observations), so a desk of any size is checked in one pass; only the
//! duplicate keys are held until the end.

use std::collections::{BTreeSet, HashMap};

use chrono::{Days, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use todoke_domain::kana::search_key;
use todoke_domain::validate::{validate_case, Context, RuleCode};
use todoke_domain::{Case, Labelled, Observation};
use uuid::Uuid;

use crate::table::{Cell, Column, Table};

/// The lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityList {
    /// 必須項目の未入力 (by the policy in force).
    MissingRequired,
    /// 日付の矛盾 (validation errors on dates).
    InconsistentDates,
    /// 保健所未確認の届出 older than N days.
    Unconfirmed,
    /// ステータス未更新 for N days while the person still needs care.
    StaleStatus,
    /// 重複の可能性 (same kana, birth date and sex).
    ProbableDuplicate,
    /// 健康観察の未報告日 (self-report enabled, days without an observation).
    ObservationGap,
}

impl QualityList {
    pub const ALL: [QualityList; 6] = [
        QualityList::MissingRequired,
        QualityList::InconsistentDates,
        QualityList::Unconfirmed,
        QualityList::StaleStatus,
        QualityList::ProbableDuplicate,
        QualityList::ObservationGap,
    ];

    /// The stable code (as serialised).
    pub fn code(&self) -> &'static str {
        match self {
            QualityList::MissingRequired => "missing_required",
            QualityList::InconsistentDates => "inconsistent_dates",
            QualityList::Unconfirmed => "unconfirmed",
            QualityList::StaleStatus => "stale_status",
            QualityList::ProbableDuplicate => "probable_duplicate",
            QualityList::ObservationGap => "observation_gap",
        }
    }

    pub fn ja(&self) -> &'static str {
        match self {
            QualityList::MissingRequired => "必須項目の未入力",
            QualityList::InconsistentDates => "日付の矛盾",
            QualityList::Unconfirmed => "保健所未確認",
            QualityList::StaleStatus => "ステータス未更新",
            QualityList::ProbableDuplicate => "重複の可能性",
            QualityList::ObservationGap => "健康観察の未報告",
        }
    }

    pub fn en(&self) -> &'static str {
        match self {
            QualityList::MissingRequired => "Missing required items",
            QualityList::InconsistentDates => "Inconsistent dates",
            QualityList::Unconfirmed => "Not confirmed by the health centre",
            QualityList::StaleStatus => "Status not updated",
            QualityList::ProbableDuplicate => "Probable duplicates",
            QualityList::ObservationGap => "Gaps in self-reported observations",
        }
    }
}

/// One case on one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityIssue {
    pub list: QualityList,
    pub case_id: Uuid,
    pub reason_ja: String,
    pub reason_en: String,
}

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityOptions {
    /// A reported notification unconfirmed for more than this many days is listed.
    pub unconfirmed_days: u32,
    /// A care status unchanged for more than this many days is listed.
    pub stale_status_days: u32,
}

impl Default for QualityOptions {
    fn default() -> Self {
        QualityOptions { unconfirmed_days: 3, stale_status_days: 10 }
    }
}

/// The date rules whose errors are "inconsistent dates".
const DATE_RULES: &[RuleCode] = &[
    RuleCode::ReportBeforeDiagnosis,
    RuleCode::OnsetAfterDiagnosis,
    RuleCode::InfectionAfterOnset,
    RuleCode::InfectionAfterDiagnosis,
    RuleCode::ResultBeforeCollection,
    RuleCode::DischargeBeforeAdmission,
    RuleCode::EventAfterDeath,
    RuleCode::FutureDate,
    RuleCode::BirthAfterEvent,
    RuleCode::DoseDateOrder,
    RuleCode::DepartureAfterEntry,
];

/// Checks cases one at a time; [`QualityChecker::finish`] returns every list.
pub struct QualityChecker<'a> {
    ctx: Context<'a>,
    opts: QualityOptions,
    issues: Vec<QualityIssue>,
    /// (kana key, birth date, sex) → case ids.
    people: HashMap<(String, NaiveDate, &'static str), Vec<Uuid>>,
}

impl<'a> QualityChecker<'a> {
    /// `ctx.today` is the day the lists are made; `ctx.policy` decides required items.
    pub fn new(ctx: Context<'a>, opts: QualityOptions) -> QualityChecker<'a> {
        QualityChecker { ctx, opts, issues: Vec::new(), people: HashMap::new() }
    }

    /// Checks one case (soft-deleted cases are skipped) with its observations.
    pub fn add(&mut self, case: &Case, observations: &[Observation]) {
        if case.deleted.is_some() {
            return;
        }
        let id = case.id;
        let problems = validate_case(case, &self.ctx);
        let missing: Vec<&str> = problems.iter().filter(|p| p.rule == RuleCode::Required).map(|p| p.path.as_str()).collect();
        if !missing.is_empty() {
            let list = missing.join(", ");
            self.push(QualityList::MissingRequired, id, format!("未入力: {list}"), format!("missing: {list}"));
        }
        let dates: Vec<_> = problems.iter().filter(|p| p.is_error() && DATE_RULES.contains(&p.rule)).collect();
        if !dates.is_empty() {
            let ja: Vec<String> = dates.iter().map(|p| format!("{} [{}]: {}", p.path, p.rule, p.message_ja)).collect();
            let en: Vec<String> = dates.iter().map(|p| format!("{} [{}]: {}", p.path, p.rule, p.message_en)).collect();
            self.push(QualityList::InconsistentDates, id, ja.join(" / "), en.join(" / "));
        }

        let n = &case.notification;
        if let (Some(reported), None) = (n.report_date, &n.health_centre_confirmation) {
            let days = (self.ctx.today - reported).num_days();
            if days > i64::from(self.opts.unconfirmed_days) {
                self.push(
                    QualityList::Unconfirmed,
                    id,
                    format!("報告日 {reported} から{days}日未確認"),
                    format!("unconfirmed {days} days after the report on {reported}"),
                );
            }
        }

        if let Some(status) = case.measures.current_status.filter(|s| s.requires_care()) {
            if let Some(since) = case.measures.status_updated_on.or(n.report_date).or(n.diagnosis_date) {
                let days = (self.ctx.today - since).num_days();
                if days > i64::from(self.opts.stale_status_days) {
                    self.push(
                        QualityList::StaleStatus,
                        id,
                        format!("「{}」のまま{days}日更新なし（{since}から）", status.ja()),
                        format!("\"{}\" unchanged for {days} days (since {since})", status.en()),
                    );
                }
            }
        }

        let kana = search_key(&case.basic.name_kana);
        if let (false, Some(birth), Some(sex)) = (kana.is_empty(), case.basic.birth_date, case.basic.sex) {
            self.people.entry((kana, birth, sex.code())).or_default().push(id);
        }

        self.observation_gaps(case, observations);
    }

    /// Days without a (not superseded) observation, from the first observation
    /// to today while the person is still followed, else to the last one.
    fn observation_gaps(&mut self, case: &Case, observations: &[Observation]) {
        if !case.follow_up.self_report_enabled {
            return;
        }
        let jst = FixedOffset::east_opt(9 * 3600).expect("JST");
        let superseded: BTreeSet<Uuid> = observations.iter().filter_map(|o| o.supersedes).collect();
        let days: BTreeSet<NaiveDate> = observations
            .iter()
            .filter(|o| !superseded.contains(&o.id))
            .filter_map(|o| o.observed_at.map(|at| at.with_timezone(&jst).date_naive()))
            .collect();
        let (Some(&first), Some(&last)) = (days.first(), days.last()) else { return };
        let followed = todoke_domain::followup::under_follow_up(case) && case.measures.current_status.is_some_and(|s| s.requires_care());
        let end = if followed { self.ctx.today.max(last) } else { last };
        let mut missing = Vec::new();
        let mut d = first;
        while d <= end {
            if !days.contains(&d) {
                missing.push(d);
            }
            d = d + Days::new(1);
        }
        if missing.is_empty() {
            return;
        }
        let shown: Vec<String> = missing.iter().take(10).map(NaiveDate::to_string).collect();
        let more = if missing.len() > 10 { " …" } else { "" };
        self.push(
            QualityList::ObservationGap,
            case.id,
            format!("報告のない日が{}日: {}{more}", missing.len(), shown.join(", ")),
            format!("{} day(s) without a report: {}{more}", missing.len(), shown.join(", ")),
        );
    }

    fn push(&mut self, list: QualityList, case_id: Uuid, reason_ja: String, reason_en: String) {
        self.issues.push(QualityIssue { list, case_id, reason_ja, reason_en });
    }

    /// Every issue, by list and then case id.
    pub fn finish(mut self) -> Vec<QualityIssue> {
        for ((kana, birth, sex), ids) in std::mem::take(&mut self.people) {
            if ids.len() < 2 {
                continue;
            }
            for &id in &ids {
                let others: Vec<String> = ids.iter().filter(|o| **o != id).map(Uuid::to_string).collect();
                self.push(
                    QualityList::ProbableDuplicate,
                    id,
                    format!("フリガナ {kana}・生年月日 {birth}・性別が同じ: {}", others.join(", ")),
                    format!("same kana {kana}, birth date {birth} and sex ({sex}) as {}", others.join(", ")),
                );
            }
        }
        self.issues.sort_by_key(|a| (a.list, a.case_id));
        self.issues
    }
}

/// The lists as one table: list, case id, reason.
pub fn quality_table(issues: &[QualityIssue]) -> Table {
    let mut t = Table::new(
        "データ品質",
        "Data quality",
        vec![
            Column::new("list", "区分", "List"),
            Column::new("case_id", "症例ID", "Case id"),
            Column::new("reason_ja", "理由", "Reason (ja)"),
            Column::new("reason_en", "Reason", "Reason"),
        ],
    );
    for i in issues {
        t.rows.push(vec![
            Cell::label(i.list.code(), i.list.ja(), i.list.en()),
            Cell::text(i.case_id.to_string()),
            Cell::text(i.reason_ja.clone()),
            Cell::text(i.reason_en.clone()),
        ]);
    }
    t
}
