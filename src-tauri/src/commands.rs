//! Tauri commands: one-line translations between the web UI and `todoke-desk`.
//! Arguments keep their snake_case names (as in the generated TypeScript bindings).
//! Errors reach the UI as `DeskError {code, message_ja, message_en, problems}`.

use std::path::PathBuf;

use tauri::{AppHandle, Emitter, State};
use todoke_desk::{
    Account, ChangeState, CodeLists, ConflictItem, DeskError, DeskStatus, ExportEncoding, ExportFormat, ExportSummary, FormCheck,
    ImportSummary, KeepSide, Progress, RejectedItem, SaveResult, SessionInfo, SyncOverview, SyncStep, SyncSummary, TestsSaved,
};
use todoke_desk::{InputRateView, PublishedImportSummary, ReportRequest, ReportView};
use todoke_domain::followup::FollowUpAssessment;
use todoke_domain::lifecycle::ReportOutcome;
use todoke_domain::validate::Problem;
use todoke_domain::{Case, Cluster, CurrentStatus, Observation, TestRecord};
use todoke_store::{CaseDetail, CaseQuery, CaseSummary};
use uuid::Uuid;

use crate::session::Session;

type Answer<T> = Result<T, DeskError>;

/// Event carrying `Progress` of an import or export.
const PROGRESS_EVENT: &str = "progress";

/// Event carrying `SyncStep`s of a running sync.
const SYNC_PROGRESS_EVENT: &str = "sync-progress";

#[tauri::command(rename_all = "snake_case")]
pub fn session_info(session: State<'_, Session>) -> SessionInfo {
    session.info()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn open_desk(session: State<'_, Session>) -> Answer<SessionInfo> {
    session.blocking(Session::open).await?
}

#[tauri::command(rename_all = "snake_case")]
pub fn lock(session: State<'_, Session>) -> SessionInfo {
    session.lock()
}

#[tauri::command(rename_all = "snake_case")]
pub fn touch(session: State<'_, Session>) {
    session.touch()
}

#[tauri::command(rename_all = "snake_case")]
pub fn ui_ready(session: State<'_, Session>) -> u64 {
    u64::try_from(session.ui_ready()).unwrap_or(u64::MAX)
}

#[tauri::command(rename_all = "snake_case")]
pub fn code_lists() -> CodeLists {
    todoke_desk::code_lists()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn desk_status(session: State<'_, Session>) -> Answer<DeskStatus> {
    session.run_passive(|d| d.status()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn search_cases(session: State<'_, Session>, query: CaseQuery) -> Answer<Vec<CaseSummary>> {
    session.run(move |d| d.search(&query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn count_cases(session: State<'_, Session>, query: CaseQuery) -> Answer<u64> {
    session.run(move |d| d.count(&query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn open_case(session: State<'_, Session>, id: Uuid) -> Answer<CaseDetail> {
    session.run(move |d| d.open_case(id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn new_case_draft(session: State<'_, Session>) -> Answer<Case> {
    session.run(|d| Ok(d.new_case_draft())).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn new_test_draft(session: State<'_, Session>) -> Answer<TestRecord> {
    session.run(|d| Ok(d.new_test_draft())).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn contact_case_draft(session: State<'_, Session>, case_id: Uuid, contact_id: Uuid) -> Answer<Case> {
    session.run(move |d| d.contact_case_draft(case_id, contact_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn check_form(session: State<'_, Session>, case: Case) -> Answer<FormCheck> {
    session.run(move |d| d.check_form(&case)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_case(session: State<'_, Session>, case: Case) -> Answer<SaveResult> {
    session.run(move |d| d.create_case(case)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_case(session: State<'_, Session>, case: Case) -> Answer<SaveResult> {
    session.run(move |d| d.update_case(case)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn report(session: State<'_, Session>, id: Uuid) -> Answer<(SaveResult, ReportOutcome)> {
    session.run(move |d| d.report(id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn confirm(session: State<'_, Session>, id: Uuid) -> Answer<SaveResult> {
    session.run(move |d| d.confirm(id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_status(session: State<'_, Session>, id: Uuid, status: CurrentStatus) -> Answer<SaveResult> {
    session.run(move |d| d.set_status(id, status)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_status_many(session: State<'_, Session>, ids: Vec<Uuid>, status: CurrentStatus) -> Answer<Vec<Problem>> {
    session.run(move |d| d.set_status_many(&ids, status)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn enable_self_report(session: State<'_, Session>, id: Uuid) -> Answer<SaveResult> {
    session.run(move |d| d.enable_self_report(id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn issue_processing_number(session: State<'_, Session>, id: Uuid) -> Answer<String> {
    session.run(move |d| d.issue_processing_number(id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn follow_up_list(session: State<'_, Session>) -> Answer<Vec<(CaseSummary, FollowUpAssessment)>> {
    session.run(|d| d.follow_up_list()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn change_marker(session: State<'_, Session>) -> Answer<u64> {
    session.run_passive(|d| d.change_marker()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_observation(session: State<'_, Session>, id: Uuid, observation: Observation) -> Answer<Observation> {
    session.run(move |d| d.add_observation(id, observation)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_tests(session: State<'_, Session>, id: Uuid, tests: Vec<TestRecord>) -> Answer<TestsSaved> {
    session.run(move |d| d.save_tests(id, tests)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn transfer_responsible(session: State<'_, Session>, id: Uuid, health_centre: String) -> Answer<SaveResult> {
    session.run(move |d| d.transfer_responsible(id, &health_centre)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_related_health_centre(session: State<'_, Session>, id: Uuid, health_centre: String) -> Answer<SaveResult> {
    session.run(move |d| d.add_related_health_centre(id, &health_centre)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn link_contact(session: State<'_, Session>, case_id: Uuid, contact_id: Uuid, linked_case: Uuid) -> Answer<SaveResult> {
    session.run(move |d| d.link_contact(case_id, contact_id, linked_case)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn clusters(session: State<'_, Session>) -> Answer<Vec<Cluster>> {
    session.run(|d| d.clusters()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn import_opendata(app: AppHandle, session: State<'_, Session>, path: PathBuf) -> Answer<ImportSummary> {
    session.run(move |d| d.import_opendata(&path, &mut |done, total| progress(&app, done, total))).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn export_cases(
    app: AppHandle,
    session: State<'_, Session>,
    path: PathBuf,
    format: ExportFormat,
    encoding: ExportEncoding,
) -> Answer<ExportSummary> {
    session.run(move |d| d.export(&path, format, encoding.into(), &mut |done, total| progress(&app, done, total))).await
}

fn progress(app: &AppHandle, done: u64, total: u64) {
    let _ = app.emit(PROGRESS_EVENT, Progress { done, total });
}

// ---------------------------------------------------------------- reports (統計)
// The Reports screen: indicators, quality lists, CSV and chart exports.

#[tauri::command(rename_all = "snake_case")]
pub async fn report_views(session: State<'_, Session>, request: ReportRequest) -> Answer<Vec<ReportView>> {
    session.run(move |d| d.report_views(&request)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn quality_view(session: State<'_, Session>) -> Answer<ReportView> {
    session.run(|d| d.quality_view()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn export_report(
    session: State<'_, Session>,
    path: PathBuf,
    request: ReportRequest,
    encoding: ExportEncoding,
    english: bool,
) -> Answer<u64> {
    session.run(move |d| d.export_report(&path, &request, encoding, english)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn import_published_counts(session: State<'_, Session>, path: PathBuf) -> Answer<PublishedImportSummary> {
    session.run(move |d| d.import_published(&path)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn input_rate_view(session: State<'_, Session>, request: ReportRequest) -> Answer<InputRateView> {
    session.run(move |d| d.input_rate_view(&request)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn input_rate_reasons(
    session: State<'_, Session>,
    area: String,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Answer<ReportView> {
    session.run(move |d| d.input_rate_reasons(&area, from, to)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_chart_png(path: PathBuf, png: Vec<u8>) -> Answer<()> {
    todoke_desk::write_png(&path, &png)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_chart_pdf(path: PathBuf, png: Vec<u8>, title: String) -> Answer<()> {
    todoke_desk::write_chart_pdf(&path, &png, &title)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sync_login(session: State<'_, Session>, server: String, login: String, password: String, otp: String) -> Answer<Account> {
    session.run_with_keys(move |d, keys| d.sync_login(keys, &server, &login, &password, &otp).map(Account::from)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sync_now(app: AppHandle, session: State<'_, Session>) -> Answer<SyncSummary> {
    session.run_sync(move |d, keys| d.sync_and_note(keys, Box::new(move |p| drop(app.emit(SYNC_PROGRESS_EVENT, SyncStep::from(p)))))).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sync_overview(session: State<'_, Session>) -> Answer<SyncOverview> {
    session.run_passive(|d| d.sync_overview(todoke_store::default_key_provider().as_ref())).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn conflict_inbox(session: State<'_, Session>) -> Answer<Vec<ConflictItem>> {
    session.run(|d| d.conflict_inbox()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn rejected_inbox(session: State<'_, Session>) -> Answer<Vec<RejectedItem>> {
    session.run(|d| d.rejected_inbox()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn resolve_conflict(session: State<'_, Session>, conflict_id: Uuid, keep: KeepSide) -> Answer<Uuid> {
    session.run(move |d| d.keep_side(conflict_id, keep)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sign_out(session: State<'_, Session>, wipe: bool) -> Answer<u64> {
    session.sign_out(wipe).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn change_states(session: State<'_, Session>, id: Uuid) -> Answer<Vec<ChangeState>> {
    session.run_passive(move |d| d.change_states(id)).await
}

/// The server the sign-in form offers: $TODOKE_SERVER_URL (scripts/run.sh sets it).
#[tauri::command(rename_all = "snake_case")]
pub fn default_server_url() -> Option<String> {
    std::env::var("TODOKE_SERVER_URL").ok().filter(|u| !u.is_empty())
}
