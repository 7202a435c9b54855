//! Actions a desk's screens need besides entering and reporting: moving a
//! case between health centres, the tests tab (results go through the
//! lifecycle rules), turning a contact into a case of its own with the link
//! kept, the checks a form shows while it is typed in, the labels of every
//! code list, and the desk's state for the status bar.

use serde::{Deserialize, Serialize};
use todoke_domain::lifecycle::{self, next_report_kind, ReportKind, TestResultOutcome};
use todoke_domain::policy::ITEMS;
use todoke_domain::validate::{self, Context, Problem, RuleCode};
use todoke_domain::*;
use todoke_store::CaseSummary;
use uuid::Uuid;

use crate::error::DeskError;
use crate::service::{DeskService, SaveResult};

/// A coded value with its screen labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CodeLabel {
    pub code: String,
    pub ja: String,
    pub en: String,
}

/// The specimens the notification form allows for a test method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SpecimensOfMethod {
    pub method: String,
    pub specimens: Vec<String>,
}

/// Every code list a form offers, with labels in both UI languages, so the
/// UI never writes a label twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CodeLists {
    pub sex: Vec<CodeLabel>,
    pub diagnosis_class: Vec<CodeLabel>,
    pub symptom: Vec<CodeLabel>,
    pub risk_factor: Vec<CodeLabel>,
    pub yes_no_unknown: Vec<CodeLabel>,
    pub certainty: Vec<CodeLabel>,
    pub test_method: Vec<CodeLabel>,
    pub specimen: Vec<CodeLabel>,
    pub test_result: Vec<CodeLabel>,
    pub test_programme: Vec<CodeLabel>,
    pub severity: Vec<CodeLabel>,
    pub current_status: Vec<CodeLabel>,
    pub contact_kind: Vec<CodeLabel>,
    pub observation_source: Vec<CodeLabel>,
    pub age_band: Vec<CodeLabel>,
    pub origin: Vec<CodeLabel>,
    /// Why a person under follow-up needs attention today (follow-up list).
    pub concern: Vec<CodeLabel>,
    /// 都道府県: code = the 2-digit prefecture number ("13").
    pub prefecture: Vec<CodeLabel>,
    /// Items a policy may require: code = the item path ("basic.birth_date", "tests[].method").
    pub items: Vec<CodeLabel>,
    pub specimens_by_method: Vec<SpecimensOfMethod>,
}

fn labels<T: Labelled + Copy>(all: &[T], code: fn(&T) -> &'static str) -> Vec<CodeLabel> {
    all.iter().map(|v| CodeLabel { code: code(v).into(), ja: v.ja().into(), en: v.en().into() }).collect()
}

/// The labels of every code list (no desk needed).
pub fn code_lists() -> CodeLists {
    CodeLists {
        sex: labels(Sex::ALL, Sex::code),
        diagnosis_class: labels(DiagnosisClass::ALL, DiagnosisClass::code),
        symptom: labels(Symptom::ALL, Symptom::code),
        risk_factor: labels(RiskFactor::ALL, RiskFactor::code),
        yes_no_unknown: labels(YesNoUnknown::ALL, YesNoUnknown::code),
        certainty: labels(Certainty::ALL, Certainty::code),
        test_method: labels(TestMethod::ALL, TestMethod::code),
        specimen: labels(Specimen::ALL, Specimen::code),
        test_result: labels(TestResult::ALL, TestResult::code),
        test_programme: labels(TestProgramme::ALL, TestProgramme::code),
        severity: labels(Severity::ALL, Severity::code),
        current_status: labels(CurrentStatus::ALL, CurrentStatus::code),
        contact_kind: labels(ContactKind::ALL, ContactKind::code),
        observation_source: labels(ObservationSource::ALL, ObservationSource::code),
        age_band: labels(AgeBand::ALL, AgeBand::code),
        origin: labels(Origin::ALL, Origin::code),
        concern: labels(Concern::ALL, Concern::code),
        prefecture: todoke_refdata::prefectures()
            .iter()
            .map(|p| CodeLabel { code: p.code2(), ja: p.name.into(), en: p.english.into() })
            .collect(),
        items: ITEMS.iter().map(|i| CodeLabel { code: i.path.into(), ja: i.label_ja.into(), en: i.label_en.into() }).collect(),
        specimens_by_method: TestMethod::ALL
            .iter()
            .map(|m| SpecimensOfMethod {
                method: m.code().into(),
                specimens: m.allowed_specimens().iter().map(|s| s.code().into()).collect(),
            })
            .collect(),
    }
}

/// What a form shows while it is filled in: every problem by field, the
/// items to mark as required, and people who may already be cases.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FormCheck {
    pub problems: Vec<Problem>,
    /// Item paths required now ("tests[].method" for each test).
    pub required: Vec<String>,
    /// Item paths the law requires once known.
    pub required_once_known: Vec<String>,
    /// Cases with the same reading, birth date and sex (the case itself left out).
    pub possible_duplicates: Vec<CaseSummary>,
    /// What pressing 報告 would do now.
    pub next_report: ReportKind,
}

/// The desk as the status bar shows it. There is no server yet: `server` is
/// `None` and `online` false, and every change waits in the outbox.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeskStatus {
    pub login: String,
    pub org_code: String,
    pub desk_id: String,
    pub case_count: u64,
    /// Changes waiting to be sent (送信待ち).
    pub pending_changes: u64,
    pub server: Option<String>,
    pub online: bool,
}

/// What the tests tab saved.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TestsSaved {
    pub saved: SaveResult,
    /// One per test added or whose result was entered, in the order given.
    pub outcomes: Vec<TestResultOutcome>,
}

/// The encodings an export offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExportEncoding {
    /// UTF-8 with a byte-order mark (Excel reads it as UTF-8).
    Utf8Bom,
    /// Shift_JIS (Windows-31J).
    ShiftJis,
}

impl From<ExportEncoding> for todoke_exchange::Encoding {
    fn from(e: ExportEncoding) -> Self {
        match e {
            ExportEncoding::Utf8Bom => todoke_exchange::Encoding::Utf8Bom,
            ExportEncoding::ShiftJis => todoke_exchange::Encoding::ShiftJis,
        }
    }
}

impl DeskService {
    fn rules(&self) -> Context<'_> {
        Context::new(self.clock.today(), &self.policy)
    }

    /// The checks a form shows (nothing is saved).
    pub fn check_form(&self, case: &Case) -> Result<FormCheck, DeskError> {
        let ctx = self.rules();
        let b = &case.basic;
        let possible_duplicates = match (b.name_kana.trim().is_empty(), b.birth_date, b.sex) {
            (false, Some(birth), Some(sex)) => self
                .desk
                .find_duplicates(&b.name_kana, birth, sex)
                .map_err(DeskError::from)?
                .into_iter()
                .filter(|s| s.id != case.id)
                .collect(),
            _ => Vec::new(),
        };
        Ok(FormCheck {
            problems: validate::validate_case(case, &ctx),
            required: validate::required_items(case, &ctx).into_iter().map(String::from).collect(),
            required_once_known: validate::required_once_known_items(case, &ctx).into_iter().map(String::from).collect(),
            possible_duplicates,
            next_report: next_report_kind(case),
        })
    }

    /// A blank case for the surge-entry form: this desk's health centre as
    /// the responsible one, and one test with its id (so problems can name it).
    pub fn new_case_draft(&self) -> Case {
        let mut case = Case::default();
        case.jurisdiction.responsible_health_centre = self.actor.org_code.clone();
        case.tests.push(blank_test());
        case
    }

    /// A blank test record with its id, for the tests tab.
    pub fn new_test_draft(&self) -> TestRecord {
        blank_test()
    }

    /// A new case drafted from a contact of `case_id` (接触者 → 患者等): the
    /// contact's name, reading and phone, status 濃厚接触者, infected by the
    /// case. Save it with `create_case`, then [`DeskService::link_contact`].
    pub fn contact_case_draft(&self, case_id: Uuid, contact_id: Uuid) -> Result<Case, DeskError> {
        let source = self.get(case_id)?;
        let contact = find_contact(&source, contact_id)?;
        let mut case = self.new_case_draft();
        case.basic.name = contact.name.clone();
        case.basic.name_kana = contact.name_kana.clone();
        case.basic.phone = contact.phone.clone();
        case.measures.current_status = Some(CurrentStatus::CloseContact);
        case.investigation.infected_by_case = Some(case_id);
        if !source.jurisdiction.responsible_health_centre.is_empty() {
            case.jurisdiction.responsible_health_centre = source.jurisdiction.responsible_health_centre.clone();
        }
        Ok(case)
    }

    /// Records that a contact of `case_id` became the case `linked_case`
    /// (the link is kept both ways: the contact names the case, the case
    /// names who infected it when that was not known).
    pub fn link_contact(&mut self, case_id: Uuid, contact_id: Uuid, linked_case: Uuid) -> Result<SaveResult, DeskError> {
        let mut linked = self.get(linked_case)?;
        let mut case = self.get(case_id)?;
        find_contact(&case, contact_id)?;
        if let Some(c) = case.investigation.contacts.iter_mut().find(|c| c.id == contact_id) {
            c.linked_case = Some(linked_case);
        }
        let saved = self.update_case(case)?;
        if linked.investigation.infected_by_case.is_none() {
            linked.investigation.infected_by_case = Some(case_id);
            self.update_case(linked)?;
        }
        Ok(saved)
    }

    /// 担当保健所の変更: the previous one stays as a related health centre.
    pub fn transfer_responsible(&mut self, id: Uuid, health_centre: &str) -> Result<SaveResult, DeskError> {
        let hc = org_code(health_centre)?;
        let mut case = self.get(id)?;
        if lifecycle::transfer_responsible(&mut case, &hc).is_none() {
            return Err(DeskError::bad_input(
                format!("{hc} は既に担当保健所です。"),
                format!("{hc} is already the responsible health centre."),
            ));
        }
        self.update_case(case)
    }

    /// 関係保健所の追加.
    pub fn add_related_health_centre(&mut self, id: Uuid, health_centre: &str) -> Result<SaveResult, DeskError> {
        let hc = org_code(health_centre)?;
        let mut case = self.get(id)?;
        if !lifecycle::add_related(&mut case, &hc) {
            return Err(DeskError::bad_input(
                format!("{hc} は既に担当保健所か関係保健所です。"),
                format!("{hc} is already the responsible or a related health centre."),
            ));
        }
        self.update_case(case)
    }

    /// The tests tab (up to four entered at once): new tests are added and
    /// new or changed results recorded through the lifecycle rules (a
    /// positive result turns a suspected notification into a confirmed one);
    /// other edits of a test are kept as entered. Tests not in `tests` are
    /// left as they are. Refused with every problem, nothing saved.
    pub fn save_tests(&mut self, id: Uuid, tests: Vec<TestRecord>) -> Result<TestsSaved, DeskError> {
        let mut case = self.get(id)?;
        let now = self.clock.now();
        let mut outcomes = Vec::new();
        let mut problems: Vec<Problem> = Vec::new();
        {
            let ctx = self.rules();
            for mut test in tests {
                if test.id.is_nil() {
                    test.id = Uuid::now_v7();
                }
                let Some(i) = case.tests.iter().position(|t| t.id == test.id) else {
                    test.entered_at.get_or_insert(now);
                    match lifecycle::add_test(&mut case, test, &ctx) {
                        Ok(o) => outcomes.push(o),
                        Err(p) => problems.extend(p),
                    }
                    continue;
                };
                let before = case.tests[i].clone();
                let (result, result_on) = (test.result, test.result_on);
                test.result = before.result;
                test.result_on = before.result_on;
                test.entered_at = before.entered_at;
                case.tests[i] = test;
                if (result, result_on) == (before.result, before.result_on) {
                    continue;
                }
                match result {
                    Some(r) => match lifecycle::record_test_result(&mut case, before.id, r, result_on.unwrap_or(ctx.today), &ctx) {
                        Ok(o) => outcomes.push(o),
                        Err(p) => problems.extend(p),
                    },
                    None => {
                        case.tests[i].result = None;
                        case.tests[i].result_on = result_on;
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(DeskError::invalid(problems));
        }
        let saved = self.update_case(case)?;
        Ok(TestsSaved { saved, outcomes })
    }

    /// 集団感染 known to this desk.
    pub fn clusters(&self) -> Result<Vec<Cluster>, DeskError> {
        self.desk.clusters().map_err(DeskError::from)
    }

    /// The desk for the status bar.
    pub fn status(&self) -> Result<DeskStatus, DeskError> {
        Ok(DeskStatus {
            login: self.actor.login.clone(),
            org_code: self.actor.org_code.clone(),
            desk_id: self.desk.id().0.to_string(),
            case_count: self.desk.case_count().map_err(DeskError::from)?,
            pending_changes: self.pending_changes()?,
            server: None,
            online: false,
        })
    }
}

fn blank_test() -> TestRecord {
    TestRecord { id: Uuid::now_v7(), ..TestRecord::default() }
}

fn find_contact(case: &Case, contact_id: Uuid) -> Result<&Contact, DeskError> {
    case.investigation.contacts.iter().find(|c| c.id == contact_id).ok_or_else(|| {
        DeskError::invalid(vec![Problem::new(
            format!("investigation.contacts[{contact_id}]"),
            RuleCode::ItemNotFound,
            "指定された接触者が見つかりません。画面を更新して、もう一度選んでください。",
            "The contact was not found. Refresh the screen and choose it again.",
        )])
    })
}

/// An organisation code as typed: trimmed, not empty.
fn org_code(text: &str) -> Result<String, DeskError> {
    let code = text.trim();
    if code.is_empty() {
        return Err(DeskError::invalid(vec![Problem::new(
            "jurisdiction.responsible_health_centre",
            RuleCode::Required,
            "保健所コードが入力されていません。保健所コードを入力してください。",
            "The health centre code is missing. Enter the health centre code.",
        )]));
    }
    Ok(code.to_string())
}

/// How a desktop session stands, for its header and lock screen (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionInfo {
    pub version: String,
    pub desk_dir: String,
    /// A desk exists in `desk_dir` (else the first start creates one).
    pub initialised: bool,
    /// The database is closed and its key out of memory until unlocked.
    pub locked: bool,
    /// Inactivity before the session locks itself.
    pub lock_after_secs: u32,
    /// Where the key comes from: "env" (TODOKE_DESK_KEY, automation) or "keyring".
    pub key_source: String,
    /// Where exports are suggested to go.
    pub export_dir: String,
}

/// Progress of a long action (import, export), as items or bytes done of a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}
