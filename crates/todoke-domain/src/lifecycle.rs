//! What happens to a notification over time (DOMAIN.md §4.3–4.4): reporting
//! (報告), test results turning a suspected patient into a confirmed one,
//! health-centre confirmation (保健所確認済), status changes, and moving the
//! case between health centres.
//!
//! The report dates belong to a diagnosis class. A suspected patient reported
//! at specimen collection keeps its report date when a negative result is
//! added (an edit of the same notification); a positive result makes the
//! class confirmed with the result date as diagnosis date, and the next
//! report is a new notification with a new report date:
//!
//! ```text
//! report(suspected)            → NewReport, report date D1
//! record_test_result(negative) → class unchanged; next report is an Edit, date stays D1
//! record_test_result(positive) → class Confirmed, diagnosis date = result date
//! report(confirmed)            → NewReport, report date D2
//! ```
//!
//! Every refusal is a list of [`Problem`]s, like a validation, so the UI shows
//! one kind of message with a field and a rule code.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::{Case, TestRecord};
use crate::codes::*;
use crate::notification::{Confirmation, ReportEvent};
use crate::org::Actor;
use crate::validate::{has_errors, validate_case, Context, Problem, RuleCode};

/// Whether pressing "report" makes a new notification or edits the one
/// already reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// First report for this diagnosis class: the report, submission and
    /// receipt dates are set to the day of the report.
    NewReport,
    /// The class was reported before: an edit of that notification, its
    /// dates unchanged.
    Edit,
}

/// What a report did, for the screen (the dates are shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportOutcome {
    pub kind: ReportKind,
    pub class: DiagnosisClass,
    pub report_date: NaiveDate,
    pub submitted_on: NaiveDate,
    pub received_on: NaiveDate,
    /// Warnings that did not block the report.
    pub warnings: Vec<Problem>,
}

/// What pressing "report" now would do.
pub fn next_report_kind(case: &Case) -> ReportKind {
    let n = &case.notification;
    match n.diagnosis_class {
        Some(class) if n.reported_class == Some(class) && n.report_date.is_some() => ReportKind::Edit,
        _ => ReportKind::NewReport,
    }
}

/// 報告: submits the notification. Refused with every problem when the case,
/// as it would be reported, has errors (so a report date before the
/// diagnosis date is refused). A first report of the class sets the report,
/// submission and receipt dates to `today` and clears an earlier
/// health-centre confirmation (it belonged to another notification); an edit
/// keeps them. Every report is recorded in `notification.reports`.
pub fn report(case: &mut Case, actor: &Actor, today: NaiveDate, ctx: &Context) -> Result<ReportOutcome, Vec<Problem>> {
    let ctx = Context::new(today, ctx.policy);
    let kind = next_report_kind(case);
    let mut candidate = case.clone();
    let n = &mut candidate.notification;
    if let (ReportKind::NewReport, Some(class)) = (kind, n.diagnosis_class) {
        n.report_date = Some(today);
        n.submitted_on = Some(today);
        n.received_on = Some(today);
        n.reported_class = Some(class);
        n.health_centre_confirmation = None;
    }
    let problems = validate_case(&candidate, &ctx);
    if has_errors(&problems) {
        return Err(problems);
    }
    let n = &mut candidate.notification;
    let (Some(class), Some(report_date), Some(submitted_on), Some(received_on)) =
        (n.diagnosis_class, n.report_date, n.submitted_on, n.received_on)
    else {
        // A class is required by every policy period and validation passed;
        // a hand-written policy without it still must not report.
        return Err(vec![Problem::new(
            "notification.diagnosis_class",
            RuleCode::Required,
            "類型が入力されていません。類型を入力してください。",
            "The diagnosis class is missing. Enter the diagnosis class.",
        )]);
    };
    n.reports.push(ReportEvent { class, reported_on: today, by: actor.login.clone() });
    *case = candidate;
    Ok(ReportOutcome { kind, class, report_date, submitted_on, received_on, warnings: problems })
}

/// What entering a test result did to the notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TestResultOutcome {
    pub class_before: Option<DiagnosisClass>,
    pub class_after: Option<DiagnosisClass>,
    /// Set when the result changed the class (the result date).
    pub diagnosis_date_set: Option<NaiveDate>,
    /// What the next report will be: a new notification after a class
    /// change, else an edit (if the class was reported).
    pub next_report: ReportKind,
}

/// Enters the result of an existing test (検査結果の追加). A positive result
/// on a suspected notification makes it confirmed (a suspected deceased one
/// deceased) with the result date as diagnosis date; the report date changes
/// only when the confirmed notification is reported. A negative or unknown
/// result changes nothing else.
///
/// Refused when the test does not exist, or when the result date is in the
/// future or before the specimen was collected.
pub fn record_test_result(
    case: &mut Case,
    test_id: Uuid,
    result: TestResult,
    result_on: NaiveDate,
    ctx: &Context,
) -> Result<TestResultOutcome, Vec<Problem>> {
    let Some(index) = case.tests.iter().position(|t| t.id == test_id) else {
        return Err(vec![Problem::new(
            format!("tests[{test_id}]"),
            RuleCode::ItemNotFound,
            "指定された検査記録が見つかりません。画面を更新して、もう一度選んでください。",
            "The test record was not found. Refresh the screen and choose it again.",
        )]);
    };
    let mut candidate = case.clone();
    let test = &mut candidate.tests[index];
    test.result = Some(result);
    test.result_on = Some(result_on);
    let outcome = apply_result(&mut candidate, result, result_on);
    refuse_test_errors(&candidate, test_id, ctx)?;
    *case = candidate;
    Ok(outcome)
}

/// Adds a test record (up to four are entered at once; call once for each).
/// A positive result on a suspected notification confirms it as in
/// [`record_test_result`]. Refused when the test itself has errors (e.g. a
/// specimen the method does not allow, a result before the collection).
pub fn add_test(case: &mut Case, test: TestRecord, ctx: &Context) -> Result<TestResultOutcome, Vec<Problem>> {
    let id = test.id;
    // A result entered without a date was known today at the latest.
    let result = test.result.map(|r| (r, test.result_on.unwrap_or(ctx.today)));
    let mut candidate = case.clone();
    candidate.tests.push(test);
    let outcome = match result {
        Some((result, on)) => apply_result(&mut candidate, result, on),
        None => TestResultOutcome {
            class_before: candidate.notification.diagnosis_class,
            class_after: candidate.notification.diagnosis_class,
            diagnosis_date_set: None,
            next_report: next_report_kind(&candidate),
        },
    };
    refuse_test_errors(&candidate, id, ctx)?;
    *case = candidate;
    Ok(outcome)
}

fn apply_result(case: &mut Case, result: TestResult, on: NaiveDate) -> TestResultOutcome {
    let n = &mut case.notification;
    let class_before = n.diagnosis_class;
    let confirmed = match (class_before, result) {
        (Some(DiagnosisClass::Suspected), TestResult::Positive) => Some(DiagnosisClass::Confirmed),
        (Some(DiagnosisClass::SuspectedDeceased), TestResult::Positive) => Some(DiagnosisClass::Deceased),
        _ => None,
    };
    if let Some(class) = confirmed {
        n.diagnosis_class = Some(class);
        n.diagnosis_date = Some(on);
    }
    TestResultOutcome {
        class_before,
        class_after: n.diagnosis_class,
        diagnosis_date_set: confirmed.map(|_| on),
        next_report: next_report_kind(case),
    }
}

/// Refuses with the errors of one test (other problems of the case are the
/// report's business).
fn refuse_test_errors(case: &Case, test_id: Uuid, ctx: &Context) -> Result<(), Vec<Problem>> {
    let prefix = format!("tests[{test_id}]");
    let errors: Vec<Problem> = validate_case(case, ctx).into_iter().filter(|p| p.is_error() && p.path.starts_with(&prefix)).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// 保健所確認済: the responsible health centre found nothing missing or
/// wrong. Refused unless the actor belongs to the responsible health centre,
/// the current class has been reported, and the case has no errors.
/// Statistics never wait for this flag; it tracks quality.
pub fn confirm_by_health_centre(case: &mut Case, actor: &Actor, today: NaiveDate, ctx: &Context) -> Result<(), Vec<Problem>> {
    let mut refusals = Vec::new();
    let responsible = &case.jurisdiction.responsible_health_centre;
    if responsible.trim().is_empty() || *responsible != actor.org_code {
        refusals.push(Problem::new(
            "jurisdiction.responsible_health_centre",
            RuleCode::NotResponsibleHealthCentre,
            "保健所確認は担当保健所だけが行えます。担当保健所を確認するか、担当保健所に確認を依頼してください。",
            "Only the responsible health centre can confirm a notification. Check the responsible health centre or ask it to confirm.",
        ));
    }
    if next_report_kind(case) == ReportKind::NewReport {
        refusals.push(Problem::new(
            "notification.report_date",
            RuleCode::NotReported,
            "この類型の発生届はまだ報告されていません。報告されてから保健所確認をしてください。",
            "The notification for this diagnosis class has not been reported yet. Confirm it after it is reported.",
        ));
    }
    let problems = validate_case(case, &Context::new(today, ctx.policy));
    if has_errors(&problems) {
        refusals.extend(problems.into_iter().filter(Problem::is_error));
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    case.notification.health_centre_confirmation = Some(Confirmation { on: today, by: actor.login.clone() });
    Ok(())
}

/// Sets the current status (現在のステータス) and the day it was set.
/// 死亡 needs the date of death first (use [`record_death`] to set both):
/// death statistics count by that date, and a status without it cannot be
/// counted.
pub fn set_status(case: &mut Case, status: CurrentStatus, today: NaiveDate) -> Result<(), Vec<Problem>> {
    if status == CurrentStatus::Died && case.notification.death_date.is_none() {
        return Err(vec![Problem::new(
            "notification.death_date",
            RuleCode::Required,
            "ステータスを「死亡」にするには死亡日が必要です。死亡日を入力してください。",
            "The status \"Died\" needs the date of death. Enter the date of death.",
        )]);
    }
    case.measures.current_status = Some(status);
    case.measures.status_updated_on = Some(today);
    Ok(())
}

/// Records a death: the date of death and the status 死亡. The diagnosis
/// class stays as notified. Refused for a date after today.
pub fn record_death(case: &mut Case, death_date: NaiveDate, today: NaiveDate) -> Result<(), Vec<Problem>> {
    if death_date > today {
        return Err(vec![Problem::new(
            "notification.death_date",
            RuleCode::FutureDate,
            "死亡日が未来の日付になっています。今日以前の日付にしてください。",
            "The date of death is in the future. Use a date up to today.",
        )]);
    }
    case.notification.death_date = Some(death_date);
    set_status(case, CurrentStatus::Died, today)
}

/// Makes `new_hc` the responsible health centre (担当保健所); the previous one
/// stays as a related health centre (関係保健所) so it keeps seeing the case.
/// Returns the previous one, `None` when nothing changed.
pub fn transfer_responsible(case: &mut Case, new_hc: &str) -> Option<String> {
    let j = &mut case.jurisdiction;
    if j.responsible_health_centre == new_hc {
        return None;
    }
    let previous = std::mem::replace(&mut j.responsible_health_centre, new_hc.to_string());
    j.related_health_centres.retain(|hc| hc != new_hc);
    if !previous.is_empty() && !j.related_health_centres.contains(&previous) {
        j.related_health_centres.push(previous.clone());
    }
    Some(previous)
}

/// Adds a related health centre (関係保健所). False when it is already
/// related or responsible.
pub fn add_related(case: &mut Case, hc: &str) -> bool {
    let j = &mut case.jurisdiction;
    if hc.trim().is_empty() || j.responsible_health_centre == hc || j.related_health_centres.iter().any(|r| r == hc) {
        return false;
    }
    j.related_health_centres.push(hc.to_string());
    true
}

/// Whether a new positive belongs to an existing case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CourseDecision {
    /// Same course of care: edit the existing notification.
    EditExisting,
    /// Another institution, or weeks later: a case of its own.
    NewCase,
}

/// Decides whether a new positive test, reported by `institution`, is an
/// edit of `existing` (same institution, within the policy's
/// `same_course_days` of the existing case's latest test or diagnosis) or a
/// new case. "Additional registration" freezing the earlier notification is
/// not offered: within one course the one record is edited.
pub fn classify_new_positive(existing: &Case, new_test: &TestRecord, institution: &str, ctx: &Context) -> CourseDecision {
    if existing.deleted.is_some() {
        return CourseDecision::NewCase;
    }
    let institution = institution.trim();
    let same_institution = !institution.is_empty()
        && (existing.jurisdiction.reporting_clinic == institution
            || existing.notification.doctor.institution_code == institution
            || existing.tests.iter().any(|t| t.institution == institution));
    if !same_institution {
        return CourseDecision::NewCase;
    }
    let new_date = new_test.collected_on.or(new_test.result_on).unwrap_or(ctx.today);
    let n = &existing.notification;
    let anchor = existing.tests.iter().flat_map(|t| [t.collected_on, t.result_on]).chain([n.diagnosis_date, n.report_date]).flatten().max();
    let Some(anchor) = anchor else {
        // Nothing dated yet: the same institution is following the same course.
        return CourseDecision::EditExisting;
    };
    let days = ctx.policy.period_on(new_date).same_course_days;
    if (new_date - anchor).num_days().unsigned_abs() <= u64::from(days) {
        CourseDecision::EditExisting
    } else {
        CourseDecision::NewCase
    }
}
