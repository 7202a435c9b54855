//! The actions of a desk: create and edit cases, report, confirm, set the
//! status, add observations, search, open. Each one validates with the
//! domain's rules first and writes nothing when anything is wrong.

use std::path::{Path, PathBuf};

use todoke_domain::followup::{self, FollowUpAssessment};
use todoke_domain::lifecycle;
use todoke_domain::policy::Policy;
use todoke_domain::validate::{self, Context, Problem, Severity};
use todoke_domain::{Actor, Case, CurrentStatus, Observation};
use todoke_store::{CaseDetail, CaseQuery, CaseSummary, Desk, KeyProvider};
use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::error::{DeskError, ErrorCode};

/// The outcome of a save: the case as stored, and warnings that did not stop it.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SaveResult {
    pub case: Case,
    pub warnings: Vec<Problem>,
    /// Cases that look like the same person (kana + birth date + sex).
    pub possible_duplicates: Vec<CaseSummary>,
}

pub struct DeskService {
    pub(crate) desk: Desk,
    pub(crate) policy: Policy,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) actor: Actor,
    dir: PathBuf,
}

impl DeskService {
    /// Creates a new desk in `dir` (its key goes to `keys`).
    /// The actor's organisation becomes the desk's own.
    pub fn init(dir: &Path, keys: &dyn KeyProvider, actor: Actor) -> Result<Self, DeskError> {
        let mut desk = Desk::init(dir, keys).map_err(DeskError::from)?;
        if !actor.org_code.is_empty() {
            desk.set_setting(todoke_store::ORG_CODE, &actor.org_code).map_err(DeskError::from)?;
        }
        Ok(Self::with(desk, dir, actor))
    }

    /// Opens an existing desk.
    /// An actor without an organisation acts for the desk's own.
    pub fn open(dir: &Path, keys: &dyn KeyProvider, mut actor: Actor) -> Result<Self, DeskError> {
        let desk = Desk::open(dir, keys).map_err(DeskError::from)?;
        if actor.org_code.is_empty() {
            actor.org_code = desk.setting(todoke_store::ORG_CODE).map_err(DeskError::from)?.unwrap_or_default();
        }
        Ok(Self::with(desk, dir, actor))
    }

    fn with(desk: Desk, dir: &Path, actor: Actor) -> Self {
        DeskService { desk, policy: Policy::default_rules(), clock: Box::new(SystemClock), actor, dir: dir.to_path_buf() }
    }

    /// Replaces the clock (tests, scripted sessions).
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
    }

    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &Desk {
        &self.desk
    }

    pub fn store_mut(&mut self) -> &mut Desk {
        &mut self.desk
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    fn context(&self) -> Context<'_> {
        Context { today: self.clock.today(), policy: &self.policy }
    }

    /// Splits problems into errors (refuse) and warnings (save, then show).
    fn check(&self, case: &Case) -> Result<Vec<Problem>, DeskError> {
        let problems = validate::validate_case(case, &self.context());
        let (errors, warnings): (Vec<_>, Vec<_>) =
            problems.into_iter().partition(|p| p.severity == Severity::Error);
        if errors.is_empty() {
            Ok(warnings)
        } else {
            let mut all = errors;
            all.extend(warnings);
            Err(DeskError::invalid(all))
        }
    }

    /// Validates a case without saving it (for inline checks in forms).
    pub fn validate(&self, case: &Case) -> Vec<Problem> {
        validate::validate_case(case, &self.context())
    }

    /// Items required for this case under the rules in force.
    pub fn required_items(&self, case: &Case) -> Vec<&'static str> {
        validate::required_items(case, &self.context())
    }

    /// Enters a new case. Assigns ids where missing; refuses with every
    /// problem when anything is wrong.
    pub fn create_case(&mut self, mut case: Case) -> Result<SaveResult, DeskError> {
        if case.id.is_nil() {
            case.id = Uuid::now_v7();
        }
        assign_item_ids(&mut case, self.clock.now());
        if case.origin.is_none() {
            case.origin = Some(todoke_domain::Origin::Entered);
        }
        let warnings = self.check(&case)?;
        if self.desk.open_case(case.id).map_err(DeskError::from)?.is_some() {
            return Err(DeskError::bad_input(
                format!("ID {} の症例は既にあります。編集には case edit を使ってください。", case.id),
                format!("A case with id {} already exists. Use case edit to change it.", case.id),
            ));
        }
        let possible_duplicates = self.duplicates_of(&case)?;
        case.updated_at = Some(self.clock.now());
        self.desk.create_case(&case, &self.actor).map_err(DeskError::from)?;
        Ok(SaveResult { case, warnings, possible_duplicates })
    }

    /// Replaces a case with an edited version; only changed fields are sent.
    pub fn update_case(&mut self, mut case: Case) -> Result<SaveResult, DeskError> {
        let current = self.get(case.id)?;
        assign_item_ids(&mut case, self.clock.now());
        if case.origin.is_none() {
            case.origin = current.origin;
        }
        let warnings = self.check(&case)?;
        case.updated_at = Some(self.clock.now());
        self.desk.update_case(&case, &self.actor).map_err(DeskError::from)?;
        Ok(SaveResult { case, warnings, possible_duplicates: Vec::new() })
    }

    /// The case alone.
    pub fn get(&self, id: Uuid) -> Result<Case, DeskError> {
        self.open_case(id).map(|d| d.case)
    }

    /// The case with its observations, history and pending changes.
    pub fn open_case(&self, id: Uuid) -> Result<CaseDetail, DeskError> {
        self.desk
            .open_case(id)
            .map_err(DeskError::from)?
            .ok_or_else(|| DeskError::not_found(&id.to_string()))
    }

    /// Finds a case by full id or an unambiguous id prefix.
    pub fn resolve_id(&self, id_or_prefix: &str) -> Result<Uuid, DeskError> {
        if let Ok(id) = Uuid::parse_str(id_or_prefix.trim()) {
            return Ok(id);
        }
        let q = CaseQuery { text: Some(id_or_prefix.trim().to_string()), limit: Some(2), ..Default::default() };
        let hits = self.desk.search(&q).map_err(DeskError::from)?;
        let hits: Vec<_> = hits.into_iter().filter(|h| h.id.to_string().starts_with(id_or_prefix.trim())).collect();
        match hits.as_slice() {
            [one] => Ok(one.id),
            [] => Err(DeskError::not_found(id_or_prefix)),
            _ => Err(DeskError::bad_input(
                format!("ID「{id_or_prefix}」に当てはまる症例が複数あります。もっと長く指定してください。"),
                format!("More than one case matches \"{id_or_prefix}\". Give more of the ID."),
            )),
        }
    }

    /// 報告: submits the notification (DOMAIN.md §4.3).
    pub fn report(&mut self, id: Uuid) -> Result<(SaveResult, lifecycle::ReportOutcome), DeskError> {
        let mut case = self.get(id)?;
        let today = self.clock.today();
        let outcome = lifecycle::report(&mut case, &self.actor, today, &self.context()).map_err(DeskError::invalid)?;
        let saved = self.update_case(case)?;
        Ok((saved, outcome))
    }

    /// 保健所確認済.
    pub fn confirm(&mut self, id: Uuid) -> Result<SaveResult, DeskError> {
        let mut case = self.get(id)?;
        let today = self.clock.today();
        lifecycle::confirm_by_health_centre(&mut case, &self.actor, today, &self.context()).map_err(DeskError::invalid)?;
        self.update_case(case)
    }

    /// 現在のステータス.
    pub fn set_status(&mut self, id: Uuid, status: CurrentStatus) -> Result<SaveResult, DeskError> {
        let mut case = self.get(id)?;
        let today = self.clock.today();
        lifecycle::set_status(&mut case, status, today).map_err(DeskError::invalid)?;
        self.update_case(case)
    }

    /// Saves many edited cases in one durable transaction (bulk status
    /// updates, corrections across a list). Every case is validated first;
    /// if any has an error, nothing is saved and every problem is returned,
    /// each path prefixed with the case's id.
    pub fn update_cases(&mut self, cases: Vec<Case>) -> Result<Vec<Problem>, DeskError> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let now = self.clock.now();
        let mut ready = Vec::with_capacity(cases.len());
        for mut case in cases {
            assign_item_ids(&mut case, now);
            for p in self.validate(&case) {
                let p = Problem { path: format!("{}:{}", case.id, p.path), ..p };
                if p.severity == Severity::Error { errors.push(p) } else { warnings.push(p) }
            }
            case.updated_at = Some(now);
            ready.push(case);
        }
        if !errors.is_empty() {
            errors.extend(warnings);
            return Err(DeskError::invalid(errors));
        }
        self.desk.update_cases(&ready, &self.actor).map_err(DeskError::from)?;
        Ok(warnings)
    }

    /// Sets the same status on many cases at once (one transaction).
    pub fn set_status_many(&mut self, ids: &[Uuid], status: CurrentStatus) -> Result<Vec<Problem>, DeskError> {
        let today = self.clock.today();
        let mut cases = Vec::with_capacity(ids.len());
        for id in ids {
            let mut case = self.get(*id)?;
            lifecycle::set_status(&mut case, status, today).map_err(DeskError::invalid)?;
            cases.push(case);
        }
        self.update_cases(cases)
    }

    /// Enables patient self-report (本人入力) for a case.
    pub fn enable_self_report(&mut self, id: Uuid) -> Result<SaveResult, DeskError> {
        let mut case = self.get(id)?;
        followup::enable_self_report(&mut case);
        self.update_case(case)
    }

    /// Issues an exposure-notification processing number (処理番号): eight
    /// random digits; the saved edit is the issuance's log entry.
    pub fn issue_processing_number(&mut self, id: Uuid) -> Result<String, DeskError> {
        let mut case = self.get(id)?;
        let number = format!("{:08}", Uuid::new_v4().as_u128() % 100_000_000);
        followup::issue_processing_number(&mut case, &number, self.clock.today()).map_err(DeskError::invalid)?;
        self.update_case(case)?;
        Ok(number)
    }

    /// Everyone under daily follow-up with what concerns them today, those
    /// a nurse should call first.
    pub fn follow_up_list(&self) -> Result<Vec<(CaseSummary, FollowUpAssessment)>, DeskError> {
        let today = self.clock.today();
        let mut out = Vec::new();
        for status in [CurrentStatus::HomeRecovery, CurrentStatus::HotelRecovery, CurrentStatus::AwaitingAdmission, CurrentStatus::AwaitingHotel] {
            let q = CaseQuery { status: Some(status), ..Default::default() };
            for summary in self.search(&q)? {
                let detail = self.open_case(summary.id)?;
                let assessment = followup::assess(&detail.case, &detail.observations, today);
                out.push((summary, assessment));
            }
        }
        out.sort_by_key(|(s, a)| (!a.needs_call, a.concerns.is_empty(), std::cmp::Reverse(a.concerns.len()), s.id));
        Ok(out)
    }

    /// 健康観察: appends an observation (never edits one).
    pub fn add_observation(&mut self, id: Uuid, mut obs: Observation) -> Result<Observation, DeskError> {
        self.get(id)?;
        obs.case_id = id;
        if obs.id.is_nil() {
            obs.id = Uuid::now_v7();
        }
        if obs.entered_by.is_empty() {
            obs.entered_by = self.actor.login.clone();
        }
        let problems = validate::validate_observation(&obs, &self.context());
        if problems.iter().any(|p| p.severity == Severity::Error) {
            return Err(DeskError::invalid(problems));
        }
        self.desk.add_observation(&obs, &self.actor).map_err(DeskError::from)?;
        Ok(obs)
    }

    pub fn search(&self, q: &CaseQuery) -> Result<Vec<CaseSummary>, DeskError> {
        self.desk.search(q).map_err(DeskError::from)
    }

    pub fn count(&self, q: &CaseQuery) -> Result<u64, DeskError> {
        self.desk.count(q).map_err(DeskError::from)
    }

    /// Changes whenever anything was committed to the desk, here or by another
    /// process (`todoke-cli`, a sync run): the window polls it to refresh its list.
    pub fn change_marker(&self) -> Result<u64, DeskError> {
        self.desk.change_marker().map_err(DeskError::from)
    }

    /// Changes waiting to be sent to the server.
    pub fn pending_changes(&self) -> Result<u64, DeskError> {
        self.desk.outbox_pending_count().map_err(DeskError::from)
    }

    fn duplicates_of(&self, case: &Case) -> Result<Vec<CaseSummary>, DeskError> {
        let b = &case.basic;
        match (b.name_kana.trim().is_empty(), b.birth_date, b.sex) {
            (false, Some(birth), Some(sex)) => self
                .desk
                .find_duplicates(&b.name_kana, birth, sex)
                .map(|v| v.into_iter().filter(|s| s.id != case.id).collect())
                .map_err(DeskError::from),
            _ => Ok(Vec::new()),
        }
    }
}

/// List items need ids of their own so edits of different items merge; a
/// new test also records when it was entered ("the newest test" is shown on
/// the notification).
fn assign_item_ids(case: &mut Case, now: chrono::DateTime<chrono::Utc>) {
    for t in &mut case.tests {
        if t.id.is_nil() {
            t.id = Uuid::now_v7();
        }
        if t.entered_at.is_none() {
            t.entered_at = Some(now);
        }
    }
    for b in &mut case.investigation.behaviour {
        if b.id.is_nil() {
            b.id = Uuid::now_v7();
        }
    }
    for c in &mut case.investigation.contacts {
        if c.id.is_nil() {
            c.id = Uuid::now_v7();
        }
    }
    for l in &mut case.investigation.clusters {
        if l.id.is_nil() {
            l.id = Uuid::now_v7();
        }
    }
}

impl From<todoke_store::StoreError> for DeskError {
    fn from(e: todoke_store::StoreError) -> Self {
        use todoke_store::StoreError as S;
        let code = match &e {
            S::NotFound { .. } => ErrorCode::NotFound,
            S::NotInitialised { .. } => ErrorCode::NotInitialised,
            S::AlreadyInitialised { .. } => ErrorCode::AlreadyInitialised,
            S::WrongKey => ErrorCode::WrongKey,
            S::Key(_) => ErrorCode::Keyring,
            _ => ErrorCode::Storage,
        };
        DeskError::new(code, e.message_ja(), e.to_string())
    }
}
