//! Checks of a case and of a health observation (DOMAIN.md §4.1–4.2 and the
//! value constraints of the notification form).
//!
//! Every check runs and every problem is returned at once, each naming the
//! field (`path`), the rule (a stable code the UI and other crates match on,
//! never the message) and what to do, in Japanese and English.
//!
//! Paths are the serde field paths of the record, as `diff` uses them:
//! `basic.birth_date`, `tests[<id>].result_on` for items of keyed lists.
//! Vaccine doses have no id; they are keyed by dose number:
//! `notification.vaccinations[2].date` is the second dose.
//!
//! Which items are required is not decided here but by the [`Policy`] period
//! in force on the case's diagnosis date (else its report date, else today).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::age::{age_at, is_minor};
use crate::case::{Case, TestRecord};
use crate::codes::*;
use crate::kana::is_kana;
use crate::observation::Observation;
use crate::policy::{item, ItemCheck, ItemDef, NotifiableScope, Policy, RulePeriod};

/// What the checks need besides the record: the date today (nothing may be
/// later) and the rules.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub today: NaiveDate,
    pub policy: &'a Policy,
}

impl<'a> Context<'a> {
    pub fn new(today: NaiveDate, policy: &'a Policy) -> Self {
        Context { today, policy }
    }

    /// The period whose rules hold for the case (see [`rules_date`]).
    pub fn period_for(&self, case: &Case) -> &'a RulePeriod {
        self.policy.period_on(rules_date(case, self.today))
    }
}

/// The date whose rules hold for a case: its diagnosis date, else its report
/// date, else today.
pub fn rules_date(case: &Case, today: NaiveDate) -> NaiveDate {
    case.notification.diagnosis_date.or(case.notification.report_date).unwrap_or(today)
}

/// Error blocks reporting and confirmation; a warning is shown and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ProblemSeverity {
    Error,
    Warning,
}

/// The same as [`ProblemSeverity`], under the short name. Prefer the long one
/// where `codes::Severity` (重症度, the notification's severity) is in scope.
pub use ProblemSeverity as Severity;

macro_rules! rule_codes {
    ($($(#[$meta:meta])* $variant:ident = $code:literal, $severity:ident;)+) => {
        /// The rule a problem breaks. Serialised as a stable snake_case code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum RuleCode {
            $($(#[$meta])* #[serde(rename = $code)] $variant,)+
        }
        impl RuleCode {
            /// Every rule.
            pub const ALL: &'static [RuleCode] = &[$(RuleCode::$variant,)+];
            /// The stable code.
            pub fn code(&self) -> &'static str {
                match self { $(RuleCode::$variant => $code,)+ }
            }
            /// Whether breaking the rule is an error or a warning.
            pub fn severity(&self) -> ProblemSeverity {
                match self { $(RuleCode::$variant => ProblemSeverity::$severity,)+ }
            }
            /// Reads a code.
            pub fn parse(code: &str) -> Option<RuleCode> {
                match code { $($code => Some(RuleCode::$variant),)+ _ => None }
            }
        }
    };
}

rule_codes! {
    /// An item the policy in force requires is missing.
    Required = "required", Error;
    /// An item the law requires once known is not entered yet.
    RequiredOnceKnown = "required_once_known", Warning;
    /// 報告日 < 診断日 (the ministry's check).
    ReportBeforeDiagnosis = "report_before_diagnosis", Error;
    /// 発病日 > 診断日.
    OnsetAfterDiagnosis = "onset_after_diagnosis", Error;
    /// 推定感染日 > 発病日.
    InfectionAfterOnset = "infection_after_onset", Error;
    /// 推定感染日 > 診断日.
    InfectionAfterDiagnosis = "infection_after_diagnosis", Error;
    /// 結果判明日 < 検体採取日.
    ResultBeforeCollection = "result_before_collection", Error;
    /// 退院日 < 入院日.
    DischargeBeforeAdmission = "discharge_before_admission", Error;
    /// A date after the date of death on an item that is not death-related.
    EventAfterDeath = "event_after_death", Error;
    /// Dead before the first visit, but the class is not a deceased class.
    DeceasedClassRequired = "deceased_class_required", Error;
    /// A date of death, but the current status is not 死亡.
    StatusNotDied = "status_not_died", Warning;
    /// A date later than today.
    FutureDate = "future_date", Error;
    /// 生年月日 after another date of the case.
    BirthAfterEvent = "birth_after_event", Error;
    /// An age over 130.
    AgeOutOfRange = "age_out_of_range", Error;
    /// 入院中（重症） or 重症 without ICU, ventilator or ECMO recorded.
    SevereWithoutIcu = "severe_without_icu", Warning;
    /// A temperature outside 30.0–45.0 °C.
    TemperatureOutOfRange = "temperature_out_of_range", Error;
    /// SpO2 above 100 % (or below 50 % in an observation).
    Spo2OutOfRange = "spo2_out_of_range", Error;
    /// A specimen the form does not allow for the test method.
    SpecimenNotAllowedForMethod = "specimen_not_allowed_for_method", Error;
    /// 「その他」 chosen without saying what.
    OtherDetailMissing = "other_detail_missing", Warning;
    /// 「なし」 chosen together with symptoms.
    SymptomsNoneWithOthers = "symptoms_none_with_others", Error;
    /// 無症状病原体保有者 with symptoms or an onset date.
    AsymptomaticWithSymptoms = "asymptomatic_with_symptoms", Warning;
    /// A confirmed class, tests entered, none of them positive.
    PositiveTestMissing = "positive_test_missing", Warning;
    /// A vaccine dose numbered 0 or over 10.
    DoseNumberInvalid = "dose_number_invalid", Error;
    /// The same dose number twice.
    DoseNumberDuplicate = "dose_number_duplicate", Error;
    /// A later dose dated before an earlier one.
    DoseDateOrder = "dose_date_order", Error;
    /// 保護者 entered for an adult.
    GuardianForAdult = "guardian_for_adult", Warning;
    /// 出国日 after 入国日.
    DepartureAfterEntry = "departure_after_entry", Error;
    /// フリガナ that is not kana.
    NotKana = "not_kana", Warning;
    /// Outside the notifiable scope of the period: counted as a total, not notified.
    OutsideNotifiableScope = "outside_notifiable_scope", Warning;
    /// The notification has not been reported (lifecycle).
    NotReported = "not_reported", Error;
    /// Only the responsible health centre may do this (lifecycle).
    NotResponsibleHealthCentre = "not_responsible_health_centre", Error;
    /// The item named does not exist in the case (lifecycle).
    ItemNotFound = "item_not_found", Error;
    /// A processing number (処理番号) was already issued for this case.
    ProcessingNumberIssued = "processing_number_issued", Error;
    /// A processing number that is not 8 digits.
    ProcessingNumberInvalid = "processing_number_invalid", Error;
}

impl std::fmt::Display for RuleCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One thing wrong or missing in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Problem {
    /// The field: `basic.birth_date`, `tests[<id>].result_on`.
    pub path: String,
    pub rule: RuleCode,
    pub severity: ProblemSeverity,
    pub message_ja: String,
    pub message_en: String,
}

impl Problem {
    /// A problem with the rule's own severity.
    pub fn new(path: impl Into<String>, rule: RuleCode, message_ja: impl Into<String>, message_en: impl Into<String>) -> Self {
        Problem { path: path.into(), rule, severity: rule.severity(), message_ja: message_ja.into(), message_en: message_en.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == ProblemSeverity::Error
    }
}

/// Whether any of the problems is an error.
pub fn has_errors(problems: &[Problem]) -> bool {
    problems.iter().any(Problem::is_error)
}

/// Every problem of the case: missing required items (by the policy in
/// force), inconsistent dates, impossible values.
///
/// Open-data imports (`Origin::OpenDataImport`) are anonymous historical rows
/// carrying only what was published: required-item and notifiable-scope
/// checks are skipped for them, consistency checks are not.
pub fn validate_case(case: &Case, ctx: &Context) -> Vec<Problem> {
    let mut out = Vec::new();
    let rules_on = rules_date(case, ctx.today);
    let period = ctx.policy.period_on(rules_on);
    let imported = case.origin == Some(Origin::OpenDataImport);

    if !imported {
        check_required(case, period, rules_on, &mut out);
        check_scope(case, period, rules_on, &mut out);
    }
    let events = event_dates(case);
    check_future(&events, ctx.today, &mut out);
    check_birth(case, &events, rules_on, &mut out);
    check_death(case, &events, &mut out);
    check_notification_dates(case, &mut out);
    check_tests(case, &mut out);
    check_measures(case, &mut out);
    check_form_values(case, rules_on, &mut out);
    check_vaccinations(case, &mut out);
    out
}

/// The items the policy in force requires of this case now (the UI marks
/// them). Paths as in [`crate::policy::ITEMS`]; empty for open-data imports.
pub fn required_items(case: &Case, ctx: &Context) -> Vec<&'static str> {
    applicable_items(case, ctx, |p| &p.required_items)
}

/// The items the law requires once known that apply to this case (the UI
/// marks them differently from [`required_items`]).
pub fn required_once_known_items(case: &Case, ctx: &Context) -> Vec<&'static str> {
    applicable_items(case, ctx, |p| &p.required_once_known)
}

fn applicable_items(case: &Case, ctx: &Context, list: fn(&RulePeriod) -> &Vec<String>) -> Vec<&'static str> {
    if case.origin == Some(Origin::OpenDataImport) {
        return Vec::new();
    }
    let rules_on = rules_date(case, ctx.today);
    list(ctx.policy.period_on(rules_on)).iter().filter_map(|p| item(p)).filter(|i| i.applies_to(case, rules_on)).map(|i| i.path).collect()
}

/// Checks a health observation: when it was made (required, not in the
/// future), temperature 30.0–45.0 °C, SpO2 50–100 %.
pub fn validate_observation(o: &Observation, ctx: &Context) -> Vec<Problem> {
    let mut out = Vec::new();
    match o.observed_at {
        None => out.push(Problem::new(
            "observed_at",
            RuleCode::Required,
            "観察日時が入力されていません。観察した日時を入力してください。",
            "The observation time is missing. Enter when the observation was made.",
        )),
        Some(at) if at.date_naive() > ctx.today => out.push(Problem::new(
            "observed_at",
            RuleCode::FutureDate,
            format!("観察日時（{}）が未来の日付になっています。今日以前の日時にしてください。", ja(at.date_naive())),
            format!("The observation time ({}) is in the future. Use a time up to today.", en(at.date_naive())),
        )),
        Some(_) => {}
    }
    if let Some(t) = o.temperature {
        if !(30.0..=45.0).contains(&t) {
            out.push(Problem::new(
                "temperature",
                RuleCode::TemperatureOutOfRange,
                format!("体温 {t}℃ はあり得ない値です。30.0～45.0℃の範囲で入力してください。"),
                format!("A temperature of {t} °C is impossible. Enter a value between 30.0 and 45.0 °C."),
            ));
        }
    }
    if let Some(s) = o.spo2 {
        if !(50..=100).contains(&s) {
            out.push(Problem::new(
                "spo2",
                RuleCode::Spo2OutOfRange,
                format!("SpO2 {s}% はあり得ない値です。50～100%の範囲で入力してください。"),
                format!("An SpO2 of {s} % is impossible. Enter a value between 50 and 100 %."),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Required items.

fn check_required(case: &Case, period: &RulePeriod, rules_on: NaiveDate, out: &mut Vec<Problem>) {
    for (paths, rule) in [(&period.required_items, RuleCode::Required), (&period.required_once_known, RuleCode::RequiredOnceKnown)] {
        for def in paths.iter().filter_map(|p| item(p)) {
            match def.check {
                ItemCheck::Case { applies, present } => {
                    if applies(case, rules_on) && !present(case) {
                        out.push(missing(def.path.to_string(), def, None, rule));
                    }
                }
                ItemCheck::Test { applies, present } => {
                    for t in case.tests.iter().filter(|t| applies(t) && !present(t)) {
                        let field = def.path.trim_start_matches("tests[].");
                        out.push(missing(format!("tests[{}].{field}", t.id), def, Some(t), rule));
                    }
                }
            }
        }
    }
}

fn missing(path: String, def: &ItemDef, test: Option<&TestRecord>, rule: RuleCode) -> Problem {
    let (label_ja, label_en) = match test {
        Some(t) => (format!("{}の{}", test_ja(t), def.label_ja), format!("the {} of {}", def.label_en, test_en(t))),
        None => (def.label_ja.to_string(), format!("the {}", def.label_en)),
    };
    if rule == RuleCode::RequiredOnceKnown {
        return Problem::new(
            path,
            rule,
            format!("{label_ja}が未入力です。判明したら入力してください（法令で届出が必要な項目です）。"),
            format!("{} is not entered yet. Enter it once known (the law requires it).", cap(&label_en)),
        );
    }
    if def.path == "tests" {
        return Problem::new(
            path,
            rule,
            "診断方法（検査）が入力されていません。検査方法・検体・検体採取日を含む検査記録を1件以上入力してください。",
            "The diagnosis method is missing. Enter at least one test with its method, specimen and collection date.",
        );
    }
    Problem::new(
        path,
        rule,
        format!("{label_ja}が入力されていません。{}を入力してください。", def.label_ja),
        format!("{} is missing. Enter the {}.", cap(&label_en), def.label_en),
    )
}

fn check_scope(case: &Case, period: &RulePeriod, rules_on: NaiveDate, out: &mut Vec<Problem>) {
    if period.is_notifiable(case, rules_on) {
        return;
    }
    let (message_ja, message_en) = match &period.notifiable_scope {
        NotifiableScope::Limited { any_of } => (
            format!(
                "「{}」（{}～）の期間では、発生届の対象は{}です。この患者はいずれにも該当しません。年齢・入院の必要性・重症化リスク・妊娠の入力を確認し、該当しなければ発生届ではなく総数報告で計上してください。",
                period.name_ja,
                ja(period.from),
                any_of.iter().map(|c| c.label_ja()).collect::<Vec<_>>().join("、"),
            ),
            format!(
                "Under \"{}\" (from {}), only cases {} are notified, and this case is none of these. Check age, need for admission, risk factors and pregnancy; if none applies, count the case in the daily totals instead of notifying it.",
                period.name_en,
                en(period.from),
                any_of.iter().map(|c| c.label_en()).collect::<Vec<_>>().join(", or "),
            ),
        ),
        _ => (
            format!("「{}」（{}～）の期間では、個別の発生届は行いません。", period.name_ja, ja(period.from)),
            format!("Under \"{}\" (from {}), cases are not notified individually.", period.name_en, en(period.from)),
        ),
    };
    out.push(Problem::new("notification", RuleCode::OutsideNotifiableScope, message_ja, message_en));
}

// ---------------------------------------------------------------------------
// Dates.

/// A dated entry of the case.
struct Event {
    path: String,
    date: NaiveDate,
    label_ja: String,
    label_en: String,
    /// May lie after the date of death: reporting, post-mortem diagnosis
    /// (検案) and testing, administration.
    after_death_ok: bool,
}

fn event_dates(case: &Case) -> Vec<Event> {
    let mut events = Vec::new();
    let mut add = |path: String, date: Option<NaiveDate>, label_ja: String, label_en: String, after_death_ok: bool| {
        if let Some(date) = date {
            events.push(Event { path, date, label_ja, label_en, after_death_ok });
        }
    };
    macro_rules! field {
        ($path:literal, $value:expr, $ja:literal, $en:literal, $ok:expr) => {
            add($path.to_string(), $value, $ja.to_string(), $en.to_string(), $ok)
        };
    }
    let n = &case.notification;
    field!("notification.report_date", n.report_date, "報告日", "report date", true);
    field!("notification.submitted_on", n.submitted_on, "提出日", "submission date", true);
    field!("notification.received_on", n.received_on, "受理日", "receipt date", true);
    // A person dead at the first visit is seen (and diagnosed) after death.
    field!("notification.first_visit_date", n.first_visit_date, "初診日", "first visit date", true);
    field!("notification.diagnosis_date", n.diagnosis_date, "診断日", "diagnosis date", true);
    field!("notification.estimated_infection_date", n.estimated_infection_date, "推定感染日", "estimated infection date", false);
    field!("notification.onset_date", n.onset_date, "発病日", "onset date", false);
    field!("notification.death_date", n.death_date, "死亡日", "date of death", true);
    field!(
        "notification.admission_date_at_notification",
        n.admission_date_at_notification,
        "届出時点の入院日",
        "admission date at notification",
        false
    );
    field!(
        "notification.health_centre_confirmation.on",
        n.health_centre_confirmation.as_ref().map(|c| c.on),
        "保健所確認日",
        "health-centre confirmation date",
        true
    );
    for v in &n.vaccinations {
        add(
            format!("notification.vaccinations[{}].date", v.dose),
            v.date,
            format!("ワクチン{}回目の接種日", v.dose),
            format!("date of vaccine dose {}", v.dose),
            false,
        );
    }
    if let Some(abroad) = &n.infection_region.abroad {
        field!("notification.infection_region.abroad.departure_date", abroad.departure_date, "出国日", "date of departure", false);
        field!("notification.infection_region.abroad.entry_date", abroad.entry_date, "入国日", "date of entry", false);
    }
    for t in &case.tests {
        // Post-mortem swabs and autopsy material are tested after death.
        add(format!("tests[{}].collected_on", t.id), t.collected_on, "検体採取日".into(), "specimen collection date".into(), true);
        add(format!("tests[{}].result_on", t.id), t.result_on, "結果判明日".into(), "result date".into(), true);
    }
    let m = &case.measures;
    field!("measures.admission_date", m.admission_date, "入院日", "admission date", false);
    field!("measures.discharge_date", m.discharge_date, "退院日", "discharge date", false);
    field!("measures.recovery_ended_on", m.recovery_ended_on, "療養解除日", "date recovery ended", false);
    field!("measures.status_updated_on", m.status_updated_on, "ステータス更新日", "status update date", true);
    for b in &case.investigation.behaviour {
        add(format!("investigation.behaviour[{}].date", b.id), b.date, "行動歴の日付".into(), "behaviour history date".into(), false);
    }
    for c in &case.investigation.contacts {
        add(
            format!("investigation.contacts[{}].last_contact_date", c.id),
            c.last_contact_date,
            "接触者の最終接触日".into(),
            "last contact date".into(),
            false,
        );
    }
    let f = &case.follow_up;
    field!(
        "follow_up.processing_number_issued_on",
        f.processing_number_issued_on,
        "処理番号の発行日",
        "processing number issue date",
        false
    );
    if let Some(p) = &case.publication {
        field!("publication.published_on", p.published_on, "公表日", "publication date", true);
        field!("publication.confirmed_on", p.confirmed_on, "確定日", "confirmation date", true);
    }
    field!("deleted.on", case.deleted.as_ref().map(|d| d.on), "削除日", "deletion date", true);
    events
}

fn check_future(events: &[Event], today: NaiveDate, out: &mut Vec<Problem>) {
    for e in events.iter().filter(|e| e.date > today) {
        out.push(Problem::new(
            e.path.clone(),
            RuleCode::FutureDate,
            format!("{}（{}）が未来の日付になっています。今日（{}）以前の日付にしてください。", e.label_ja, ja(e.date), ja(today)),
            format!("The {} ({}) is in the future. Use a date up to today ({}).", e.label_en, en(e.date), en(today)),
        ));
    }
}

fn check_birth(case: &Case, events: &[Event], rules_on: NaiveDate, out: &mut Vec<Problem>) {
    let Some(birth) = case.basic.birth_date else { return };
    if let Some(e) = events.iter().filter(|e| e.date < birth).min_by_key(|e| e.date) {
        out.push(Problem::new(
            "basic.birth_date",
            RuleCode::BirthAfterEvent,
            format!(
                "生年月日（{}）が{}（{}）より後になっています。生年月日を確認し、正しい日付にしてください。",
                ja(birth),
                e.label_ja,
                ja(e.date)
            ),
            format!("The date of birth ({}) is after the {} ({}). Check the date of birth.", en(birth), e.label_en, en(e.date)),
        ));
    }
    if let Some(age) = age_at(birth, rules_on).filter(|a| a.years > MAX_AGE) {
        out.push(Problem::new(
            "basic.birth_date",
            RuleCode::AgeOutOfRange,
            format!(
                "生年月日（{}）から計算した年齢が{}歳になり、あり得ない値です。生年月日（和暦の元号など）を確認してください。",
                ja(birth),
                age.years
            ),
            format!("The date of birth ({}) gives an age of {} years, which is impossible. Check the date of birth.", en(birth), age.years),
        ));
    }
}

/// Oldest age accepted (the oldest person on record lived to 122).
const MAX_AGE: u32 = 130;

fn check_death(case: &Case, events: &[Event], out: &mut Vec<Problem>) {
    let n = &case.notification;
    let Some(death) = n.death_date else { return };
    for e in events.iter().filter(|e| !e.after_death_ok && e.date > death) {
        out.push(Problem::new(
            e.path.clone(),
            RuleCode::EventAfterDeath,
            format!(
                "{}（{}）が死亡日（{}）より後になっています。死亡に関する項目以外は死亡日以前の日付にしてください。",
                e.label_ja,
                ja(e.date),
                ja(death)
            ),
            format!(
                "The {} ({}) is after the date of death ({}). Only death-related entries may be later; use a date up to the date of death.",
                e.label_en,
                en(e.date),
                en(death)
            ),
        ));
    }
    let dead_at_first_visit = n.first_visit_date.is_some_and(|v| death < v);
    if dead_at_first_visit && n.diagnosis_class.is_some_and(|c| !c.is_deceased()) {
        out.push(Problem::new(
            "notification.diagnosis_class",
            RuleCode::DeceasedClassRequired,
            format!(
                "死亡日（{}）が初診日（{}）より前です。初診時に死亡していた場合、類型は「感染症死亡者の死体」または「感染症死亡疑い者の死体」を選んでください。",
                ja(death),
                ja(n.first_visit_date.unwrap_or(death))
            ),
            format!(
                "The date of death ({}) is before the first visit ({}). For a person dead at the first visit, choose \"Deceased patient\" or \"Suspected deceased\" as the diagnosis class.",
                en(death),
                en(n.first_visit_date.unwrap_or(death))
            ),
        ));
    }
    if case.measures.current_status.is_some_and(|s| s != CurrentStatus::Died) {
        out.push(Problem::new(
            "measures.current_status",
            RuleCode::StatusNotDied,
            "死亡日が入力されていますが、現在のステータスが「死亡」になっていません。ステータスを「死亡」に更新してください。",
            "A date of death is entered but the current status is not \"Died\". Update the status to \"Died\".",
        ));
    }
}

fn check_notification_dates(case: &Case, out: &mut Vec<Problem>) {
    let n = &case.notification;
    // The report dates belong to the class they were reported for. After a
    // suspected case turns confirmed, the old report date stands until the
    // confirmed notification is reported (which sets a new one): not an error.
    let dates_belong_to_class = n.reported_class.is_none() || n.reported_class == n.diagnosis_class;
    if let (Some(report), Some(diagnosis), true) = (n.report_date, n.diagnosis_date, dates_belong_to_class) {
        if report < diagnosis {
            out.push(Problem::new(
                "notification.report_date",
                RuleCode::ReportBeforeDiagnosis,
                format!(
                    "報告日（{}）が診断日（{}）より前になっています。診断日以降の日付にしてください（診断日の誤りであれば診断日を修正してください）。",
                    ja(report),
                    ja(diagnosis)
                ),
                format!(
                    "The report date ({}) is before the diagnosis date ({}). A report must be on or after the diagnosis date; if the diagnosis date is wrong, correct it.",
                    en(report),
                    en(diagnosis)
                ),
            ));
        }
    }
    if let (Some(onset), Some(diagnosis)) = (n.onset_date, n.diagnosis_date) {
        if onset > diagnosis {
            out.push(Problem::new(
                "notification.onset_date",
                RuleCode::OnsetAfterDiagnosis,
                format!(
                    "発病日（{}）が診断日（{}）より後になっています。発病日は診断日以前の日付にしてください。",
                    ja(onset),
                    ja(diagnosis)
                ),
                format!(
                    "The onset date ({}) is after the diagnosis date ({}). Use an onset date on or before the diagnosis date.",
                    en(onset),
                    en(diagnosis)
                ),
            ));
        }
    }
    if let Some(infection) = n.estimated_infection_date {
        if let Some(onset) = n.onset_date.filter(|o| infection > *o) {
            out.push(Problem::new(
                "notification.estimated_infection_date",
                RuleCode::InfectionAfterOnset,
                format!(
                    "推定感染日（{}）が発病日（{}）より後になっています。推定感染日は発病日以前の日付にしてください。",
                    ja(infection),
                    ja(onset)
                ),
                format!(
                    "The estimated infection date ({}) is after the onset date ({}). Use an infection date on or before the onset date.",
                    en(infection),
                    en(onset)
                ),
            ));
        }
        if let Some(diagnosis) = n.diagnosis_date.filter(|d| infection > *d) {
            out.push(Problem::new(
                "notification.estimated_infection_date",
                RuleCode::InfectionAfterDiagnosis,
                format!(
                    "推定感染日（{}）が診断日（{}）より後になっています。推定感染日は診断日以前の日付にしてください。",
                    ja(infection),
                    ja(diagnosis)
                ),
                format!(
                    "The estimated infection date ({}) is after the diagnosis date ({}). Use an infection date on or before the diagnosis date.",
                    en(infection),
                    en(diagnosis)
                ),
            ));
        }
    }
    if let Some(abroad) = &n.infection_region.abroad {
        if let (Some(departure), Some(entry)) = (abroad.departure_date, abroad.entry_date) {
            if departure > entry {
                out.push(Problem::new(
                    "notification.infection_region.abroad.entry_date",
                    RuleCode::DepartureAfterEntry,
                    format!("入国日（{}）が出国日（{}）より前になっています。出国日と入国日を確認してください。", ja(entry), ja(departure)),
                    format!("The date of entry ({}) is before the date of departure ({}). Check both dates.", en(entry), en(departure)),
                ));
            }
        }
    }
}

fn check_tests(case: &Case, out: &mut Vec<Problem>) {
    for t in &case.tests {
        if let (Some(collected), Some(result_on)) = (t.collected_on, t.result_on) {
            if result_on < collected {
                out.push(Problem::new(
                    format!("tests[{}].result_on", t.id),
                    RuleCode::ResultBeforeCollection,
                    format!(
                        "{}の結果判明日（{}）が検体採取日（{}）より前になっています。結果判明日は検体採取日以降の日付にしてください。",
                        test_ja(t),
                        ja(result_on),
                        ja(collected)
                    ),
                    format!(
                        "The result date ({}) of {} is before its specimen collection date ({}). Use a result date on or after the collection date.",
                        en(result_on),
                        test_en(t),
                        en(collected)
                    ),
                ));
            }
        }
        if let (Some(method), Some(specimen)) = (t.method, t.specimen) {
            if !method.allowed_specimens().contains(&specimen) {
                let allowed_ja = method.allowed_specimens().iter().map(|s| s.ja()).collect::<Vec<_>>().join("・");
                let allowed_en = method.allowed_specimens().iter().map(|s| s.en().to_lowercase()).collect::<Vec<_>>().join(", ");
                out.push(Problem::new(
                    format!("tests[{}].specimen", t.id),
                    RuleCode::SpecimenNotAllowedForMethod,
                    format!("{}では検体「{}」は使えません。{}のいずれかを選んでください。", method.ja(), specimen.ja(), allowed_ja),
                    format!(
                        "{} is not an allowed specimen for a {}. Choose one of: {}.",
                        specimen.en(),
                        method.en().to_lowercase(),
                        allowed_en
                    ),
                ));
            }
        }
        if t.specimen == Some(Specimen::Other) && t.specimen_other.trim().is_empty() {
            out.push(other_missing(format!("tests[{}].specimen_other", t.id), "検体", "specimen"));
        }
    }
    let positive_class = matches!(
        case.notification.diagnosis_class,
        Some(DiagnosisClass::Confirmed | DiagnosisClass::AsymptomaticCarrier | DiagnosisClass::Deceased)
    );
    if positive_class && !case.tests.is_empty() && !case.tests.iter().any(|t| t.result == Some(TestResult::Positive)) {
        let class = case.notification.diagnosis_class.expect("checked above");
        out.push(Problem::new(
            "tests",
            RuleCode::PositiveTestMissing,
            format!("類型が「{}」ですが、陽性の検査結果がありません。陽性となった検査の結果を入力してください。", class.ja()),
            format!("The diagnosis class is \"{}\" but no test is positive. Enter the result of the positive test.", class.en()),
        ));
    }
}

fn check_measures(case: &Case, out: &mut Vec<Problem>) {
    let m = &case.measures;
    if let (Some(admission), Some(discharge)) = (m.admission_date, m.discharge_date) {
        if discharge < admission {
            out.push(Problem::new(
                "measures.discharge_date",
                RuleCode::DischargeBeforeAdmission,
                format!(
                    "退院日（{}）が入院日（{}）より前になっています。退院日は入院日以降の日付にしてください。",
                    ja(discharge),
                    ja(admission)
                ),
                format!(
                    "The discharge date ({}) is before the admission date ({}). Use a discharge date on or after admission.",
                    en(discharge),
                    en(admission)
                ),
            ));
        }
    }
    if m.current_status == Some(CurrentStatus::HospitalisedSevere) && !m.is_severe() {
        out.push(Problem::new(
            "measures.current_status",
            RuleCode::SevereWithoutIcu,
            "ステータスが「入院中（重症）」ですが、ICU入室・人工呼吸器・ECMOのいずれも記録されていません。重症はこれらのいずれかによる管理を指します。該当するものを記録するか、ステータスを見直してください。",
            "The status is \"Hospitalised (severe)\" but no ICU stay, ventilator or ECMO is recorded. Severe means managed with one of these: record it, or correct the status.",
        ));
    }
    if case.notification.severity == Some(crate::codes::Severity::Severe) && !m.is_severe() {
        out.push(Problem::new(
            "notification.severity",
            RuleCode::SevereWithoutIcu,
            "重症度が「重症」ですが、ICU入室・人工呼吸器・ECMOのいずれも記録されていません。該当するものを記録するか、重症度を見直してください。",
            "The severity is \"Severe\" but no ICU stay, ventilator or ECMO is recorded. Record it, or correct the severity.",
        ));
    }
}

fn check_form_values(case: &Case, rules_on: NaiveDate, out: &mut Vec<Problem>) {
    let n = &case.notification;
    if let Some(s) = n.spo2_room_air.filter(|s| *s > 100) {
        out.push(Problem::new(
            "notification.spo2_room_air",
            RuleCode::Spo2OutOfRange,
            format!("SpO2（室内気）{s}% はあり得ない値です。0～100%の範囲で入力してください。"),
            format!("An SpO2 (room air) of {s} % is impossible. Enter a value between 0 and 100 %."),
        ));
    }
    if n.symptoms.contains(&Symptom::None) && n.symptoms.iter().any(|s| *s != Symptom::None) {
        out.push(Problem::new(
            "notification.symptoms",
            RuleCode::SymptomsNoneWithOthers,
            "症状で「なし」と他の症状が同時に選ばれています。どちらか一方にしてください。",
            "Symptoms has \"None\" together with other symptoms. Choose either \"None\" or the symptoms.",
        ));
    }
    if n.diagnosis_class == Some(DiagnosisClass::AsymptomaticCarrier) {
        if n.symptoms.iter().any(|s| *s != Symptom::None) {
            out.push(Problem::new(
                "notification.symptoms",
                RuleCode::AsymptomaticWithSymptoms,
                "類型が「無症状病原体保有者」ですが、症状が入力されています。症状があれば類型を「患者（確定例）」にしてください。",
                "The class is \"Asymptomatic carrier\" but symptoms are entered. If there are symptoms, the class is \"Confirmed patient\".",
            ));
        }
        if n.onset_date.is_some() {
            out.push(Problem::new(
                "notification.onset_date",
                RuleCode::AsymptomaticWithSymptoms,
                "類型が「無症状病原体保有者」ですが、発病日が入力されています。発病していれば類型を「患者（確定例）」にしてください。",
                "The class is \"Asymptomatic carrier\" but an onset date is entered. If the disease has set in, the class is \"Confirmed patient\".",
            ));
        }
    }
    if n.symptoms.contains(&Symptom::Other) && n.symptoms_other.trim().is_empty() {
        out.push(other_missing("notification.symptoms_other".into(), "症状", "symptoms"));
    }
    if n.risk_factors.contains(&RiskFactor::Other) && n.risk_factors_other.trim().is_empty() {
        out.push(other_missing("notification.risk_factors_other".into(), "重症化リスク因子", "risk factors"));
    }
    if n.infection_route.other.is_some() && n.infection_route.other_detail.trim().is_empty() {
        out.push(other_missing("notification.infection_route.other_detail".into(), "感染経路", "infection route"));
    }
    let b = &case.basic;
    if !b.name_kana.trim().is_empty() && !is_kana(&b.name_kana) {
        out.push(Problem::new(
            "basic.name_kana",
            RuleCode::NotKana,
            format!("フリガナ「{}」にかな以外の文字が含まれています。ひらがなかカタカナで入力してください。", b.name_kana),
            format!("The name reading \"{}\" contains characters other than kana. Enter it in hiragana or katakana.", b.name_kana),
        ));
    }
    let has_guardian = b.guardian.as_ref().is_some_and(|g| !g.name.trim().is_empty());
    if let (true, Some(birth)) = (has_guardian, b.birth_date) {
        if is_minor(birth, rules_on) == Some(false) {
            out.push(Problem::new(
                "basic.guardian",
                RuleCode::GuardianForAdult,
                "保護者は患者が未成年の場合のみ記入する項目ですが、成年の患者に入力されています。生年月日と保護者欄を確認してください。",
                "A guardian is entered for an adult; the form asks for a guardian of minors only. Check the date of birth and the guardian.",
            ));
        }
    }
}

fn other_missing(path: String, what_ja: &str, what_en: &str) -> Problem {
    Problem::new(
        path,
        RuleCode::OtherDetailMissing,
        format!("{what_ja}で「その他」が選ばれていますが、内容が入力されていません。具体的な内容を入力してください。"),
        format!("The {what_en} entry \"Other\" is not described. Enter what it is."),
    )
}

fn check_vaccinations(case: &Case, out: &mut Vec<Problem>) {
    let doses = &case.notification.vaccinations;
    for (i, v) in doses.iter().enumerate() {
        let path = format!("notification.vaccinations[{}]", v.dose);
        if v.dose == 0 || v.dose > MAX_DOSE {
            out.push(Problem::new(
                format!("{path}.dose"),
                RuleCode::DoseNumberInvalid,
                format!("ワクチンの接種回数「{}回目」は正しくありません。1～{MAX_DOSE}回目で入力してください。", v.dose),
                format!("Vaccine dose number {} is not valid. Use 1 to {MAX_DOSE}.", v.dose),
            ));
        } else if doses[..i].iter().any(|earlier| earlier.dose == v.dose) {
            out.push(Problem::new(
                format!("{path}.dose"),
                RuleCode::DoseNumberDuplicate,
                format!("ワクチン{}回目が2回入力されています。重複を削除するか回数を直してください。", v.dose),
                format!("Vaccine dose {} is entered twice. Remove the duplicate or correct the dose number.", v.dose),
            ));
        }
        if v.age_at_dose.is_some_and(|a| a > MAX_AGE as u16) {
            out.push(Problem::new(
                format!("{path}.age_at_dose"),
                RuleCode::AgeOutOfRange,
                format!("ワクチン{}回目の接種時年齢{}歳はあり得ない値です。年齢を確認してください。", v.dose, v.age_at_dose.unwrap_or(0)),
                format!("An age of {} at vaccine dose {} is impossible. Check the age.", v.age_at_dose.unwrap_or(0), v.dose),
            ));
        }
    }
    // A later dose cannot precede an earlier one.
    for v in doses {
        let Some(date) = v.date else { continue };
        let earlier_later = doses.iter().filter(|e| e.dose < v.dose).filter_map(|e| e.date.map(|d| (e.dose, d))).find(|(_, d)| *d > date);
        if let Some((earlier, earlier_date)) = earlier_later {
            out.push(Problem::new(
                format!("notification.vaccinations[{}].date", v.dose),
                RuleCode::DoseDateOrder,
                format!(
                    "ワクチン{}回目の接種日（{}）が{}回目の接種日（{}）より前になっています。接種日か回数を確認してください。",
                    v.dose,
                    ja(date),
                    earlier,
                    ja(earlier_date)
                ),
                format!(
                    "Vaccine dose {} ({}) is dated before dose {} ({}). Check the dates and dose numbers.",
                    v.dose,
                    en(date),
                    earlier,
                    en(earlier_date)
                ),
            ));
        }
    }
}

/// Highest vaccine dose number accepted (the form has 1–3; later revisions more).
const MAX_DOSE: u8 = 10;

// ---------------------------------------------------------------------------
// Wording.

/// 「2021年8月10日」.
fn ja(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// "2021-08-10".
fn en(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// 「検査記録（2021年8月10日採取）」.
fn test_ja(t: &TestRecord) -> String {
    match t.collected_on {
        Some(d) => format!("検査記録（{}採取）", ja(d)),
        None => "検査記録（採取日未入力）".to_string(),
    }
}

/// "the test collected on 2021-08-10".
fn test_en(t: &TestRecord) -> String {
    match t.collected_on {
        Some(d) => format!("the test collected on {}", en(d)),
        None => "the test with no collection date".to_string(),
    }
}

fn cap(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
