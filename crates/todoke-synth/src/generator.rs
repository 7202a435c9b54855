//! The streaming generator: one case at a time, in diagnosis-date order.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use todoke_domain::*;

use crate::clinical::{self, CourseInput, Setting, TestKind};
use crate::clusters::{self, ClusterPlan};
use crate::config::{ConfigError, GeneratorConfig, HealthCentreDef};
use crate::curve::Schedule;
use crate::ids::{self, CaseIds};
use crate::names::{self, FamilyNamePicker, FAMILY_NAMES};
use crate::observations::{self, ObservationInput};
use crate::person;
use crate::places::{Institution, Places};

/// One generated case with its health observations.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Generated {
    pub case: Case,
    pub observations: Vec<Observation>,
}

/// Deterministic stream of synthetic cases: the same configuration (seed
/// included) always yields the same cases, ids and observations.
///
/// Cases come in diagnosis-date order. Memory stays flat whatever the size:
/// only the day counts, the places and the few links to cases not yet
/// generated (household members who will become cases) are kept.
pub struct Generator {
    end: NaiveDate,
    total: u64,
    next: u64,
    day: usize,
    rng: ChaCha8Rng,
    ids: CaseIds,
    /// Same keystream, read ahead for household links (keeps `ids`' cache).
    link_ids: CaseIds,
    schedule: Schedule,
    places: Places,
    surnames: FamilyNamePicker,
    clusters: Vec<ClusterPlan>,
    /// Household members a case named as contacts who become case `index`.
    pending: HashMap<u64, HouseholdLink>,
    phone_salt: u64,
}

/// What a case knows about a household member who will be diagnosed later.
struct HouseholdLink {
    source: Uuid,
    source_phone: String,
    source_family: usize,
    source_given: (&'static str, &'static str),
    given: (&'static str, &'static str),
    sex: Sex,
    age: u32,
    place: usize,
    residence: Address,
    registered: Address,
    contact_date: NaiveDate,
}

/// Separate keystreams per purpose, so adding a field to cases does not move
/// the curve, the places or the ids.
fn stream(seed: u64, n: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(n);
    rng
}

impl Generator {
    /// A generator for the configuration.
    ///
    /// # Panics
    /// When the configuration is unusable (start after end, an unknown
    /// prefecture, an empty region); use [`Generator::try_new`] to handle that.
    pub fn new(config: GeneratorConfig) -> Generator {
        match Generator::try_new(config) {
            Ok(g) => g,
            Err(e) => panic!("invalid generator configuration: {e}"),
        }
    }

    /// A generator for the configuration, or why the configuration is unusable.
    pub fn try_new(config: GeneratorConfig) -> Result<Generator, ConfigError> {
        if config.start > config.end {
            return Err(ConfigError::StartAfterEnd { start: config.start, end: config.end });
        }
        let places = Places::new(&mut stream(config.seed, 1), &config)?;
        let schedule = Schedule::new(&mut stream(config.seed, 2), config.start, config.end, config.cases, config.surge_at_end);
        let clusters = clusters::plan(&mut stream(config.seed, 3), &schedule, &places, config.end);
        let phone_salt: u64 = stream(config.seed, 5).gen();
        Ok(Generator {
            end: config.end,
            total: config.cases as u64,
            next: 0,
            day: 0,
            rng: stream(config.seed, 0),
            ids: CaseIds::new(stream(config.seed, 4)),
            link_ids: CaseIds::new(stream(config.seed, 4)),
            schedule,
            places,
            surnames: FamilyNamePicker::new(),
            clusters,
            pending: HashMap::new(),
            phone_salt,
        })
    }

    /// The named clusters (集団感染) that generated cases link to. Known from
    /// the start: it does not depend on how far the stream has been read.
    pub fn clusters(&self) -> Vec<Cluster> {
        self.clusters.iter().map(|p| p.cluster.clone()).collect()
    }

    /// Health centres the cases are assigned to: the configured ones, plus
    /// invented ones for municipalities none of them covers.
    pub fn health_centres(&self) -> &[HealthCentreDef] {
        &self.places.health_centres
    }

    /// Every organisation generated cases refer to: prefectures, health
    /// centres, clinics and hospitals, recovery hotels.
    pub fn organisations(&self) -> Vec<Organisation> {
        let mut out = Vec::new();
        let mut prefs: Vec<u8> = self.places.places.iter().map(|p| p.pref_number).collect();
        prefs.dedup();
        for n in &prefs {
            if let Some(p) = todoke_refdata::prefecture(*n) {
                out.push(Organisation {
                    code: format!("PF{}", p.lgcode),
                    kind: OrgKind::Prefecture,
                    name: p.name.to_string(),
                    parent: None,
                });
            }
        }
        let pref_org = |n: u8| todoke_refdata::prefecture(n).map(|p| format!("PF{}", p.lgcode));
        for hc in &self.places.health_centres {
            out.push(Organisation {
                code: hc.code.clone(),
                kind: OrgKind::HealthCentre,
                name: hc.name.clone(),
                parent: pref_org(hc.prefecture_number),
            });
        }
        for place in &self.places.places {
            let hc = &self.places.health_centres[place.hc].code;
            for inst in place.clinics.iter().chain(&place.hospitals) {
                out.push(Organisation {
                    code: inst.code.clone(),
                    kind: OrgKind::Clinic,
                    name: inst.name.clone(),
                    parent: Some(hc.clone()),
                });
            }
        }
        for n in &prefs {
            for hotel in self.places.hotels.get(n).into_iter().flatten() {
                out.push(Organisation {
                    code: hotel.code.clone(),
                    kind: OrgKind::Facility,
                    name: hotel.name.clone(),
                    parent: pref_org(*n),
                });
            }
        }
        out
    }

    fn make(&mut self, index: u64) -> Generated {
        while self.schedule.first_index(self.day + 1) <= index {
            self.day += 1;
        }
        let day = self.day;
        let end = self.end;
        let diagnosis = self.schedule.date(day);
        let id = self.ids.id(index, diagnosis);
        let link = self.pending.remove(&index);
        let rng = &mut self.rng;

        // --- who and where -------------------------------------------------
        let mut cluster = None;
        if link.is_none() {
            for (k, c) in self.clusters.iter().enumerate() {
                if diagnosis >= c.from && diagnosis <= c.to && c.members < c.cap && rng.gen_bool(c.share) {
                    cluster = Some(k);
                    break;
                }
            }
        }
        let member = cluster.map(|k| {
            self.clusters[k].members += 1;
            self.clusters[k].kind.member(rng)
        });
        let place_index = match (&link, cluster) {
            (Some(l), _) => l.place,
            (None, Some(k)) if rng.gen_bool(0.7) => self.clusters[k].place,
            (None, Some(k)) => self.places.neighbour(rng, self.clusters[k].place),
            (None, None) => self.places.pick(rng),
        };
        let (sex, age, family, given) = match &link {
            Some(l) => (l.sex, l.age, l.source_family, l.given),
            None => {
                let sex = person::sex(rng);
                let age = member.as_ref().map(|m| m.age).unwrap_or_else(|| person::age(rng));
                let family = self.surnames.pick(rng);
                let given = names::given_name(rng, sex, diagnosis.year() - age as i32);
                (sex, age, family, given)
            }
        };
        let birth = person::birth_date(rng, age, diagnosis);
        let (family_kanji, family_kana, family_romaji, _) = FAMILY_NAMES[family];
        let place = &self.places.places[place_index];
        let hc = &self.places.health_centres[place.hc];
        let occupation = member.as_ref().and_then(|m| m.occupation).unwrap_or_else(|| person::occupation(rng, age));
        let facility_resident = member.as_ref().is_some_and(|m| m.facility_resident);

        let (residence, registered) = match &link {
            Some(l) => (l.residence.clone(), l.registered.clone()),
            None => {
                let residence = Address {
                    prefecture_code: place.pref_code.clone(),
                    municipality_code: place.lgcode.to_string(),
                    postal_code: place.postal_code(rng),
                    text: place.street_address(rng),
                    phone: String::new(),
                };
                // Students and workers away from home keep their family's address.
                let registered = if (18..30).contains(&age) && rng.gen_bool(0.08) {
                    let other = &self.places.places[self.places.pick(rng)];
                    Address {
                        prefecture_code: other.pref_code.clone(),
                        municipality_code: other.lgcode.to_string(),
                        postal_code: other.postal_code(rng),
                        text: other.street_address(rng),
                        phone: String::new(),
                    }
                } else {
                    residence.clone()
                };
                (residence, registered)
            }
        };

        // --- diagnosis and dates --------------------------------------------
        let class = clinical::diagnosis_class(rng, age);
        let deceased = class.is_deceased();
        let first_suspected = class == DiagnosisClass::Confirmed && rng.gen_bool(0.06);
        let back = if deceased { 0 } else { [0, 0, 0, 0, 0, 1, 1, 1, 2, 2][rng.gen_range(0..10)] };
        let collected = (diagnosis - Days::new(back)).max(birth);
        let symptomatic = class != DiagnosisClass::AsymptomaticCarrier && !(deceased && rng.gen_bool(0.5));
        let onset = symptomatic.then(|| {
            let max_back = 3.min(5 - back);
            (collected - Days::new(rng.gen_range(0..=max_back))).max(birth)
        });
        let infection = (onset.unwrap_or(collected) - Days::new(rng.gen_range(2..=6))).max(birth);
        let report = if deceased { diagnosis } else { (diagnosis + Days::new(rng.gen_bool(0.3) as u64)).min(end) };
        let course = clinical::course(rng, &CourseInput { age, class, diagnosis, report, onset, collected, end, facility_resident });
        let last_day = course.death.unwrap_or(end);

        // --- clinic and doctor ----------------------------------------------
        let clinic_place = if rng.gen_bool(0.8) { place_index } else { self.places.neighbour(rng, place_index) };
        let clinic_place_ref = &self.places.places[clinic_place];
        let clinic: &Institution = if course.setting == Setting::DeadOnArrival {
            &clinic_place_ref.hospitals[0]
        } else {
            &clinic_place_ref.clinics[rng.gen_range(0..clinic_place_ref.clinics.len())]
        };
        let clinic_hc = &self.places.health_centres[clinic_place_ref.hc].code;
        let doctor_sex = if rng.gen_bool(0.75) { Sex::Male } else { Sex::Female };
        let doctor_family = FAMILY_NAMES[self.surnames.pick(rng)].0;
        let doctor_year = rng.gen_range(1950..1992);
        let doctor_given = names::given_name(rng, doctor_sex, doctor_year).0;
        let doctor = Doctor {
            name: names::full_name(doctor_family, doctor_given),
            institution_code: clinic.code.clone(),
            institution_name: clinic.name.clone(),
            institution_address: clinic.address.clone(),
            institution_phone: clinic.phone.clone(),
            out_of_hours_phone: if rng.gen_bool(0.3) { person::mobile(rng) } else { String::new() },
        };
        let doctor_login = format!("{}-dr{}", clinic.code.to_ascii_lowercase(), rng.gen_range(1..=3));

        // --- tests ----------------------------------------------------------
        let pregnant = sex == Sex::Female && (20..45).contains(&age) && rng.gen_bool(0.02);
        let programme = if pregnant && rng.gen_bool(0.5) {
            TestProgramme::PrenatalSupport
        } else if rng.gen_bool(0.1) {
            TestProgramme::Private
        } else {
            TestProgramme::Administrative
        };
        let main_kind = if deceased { TestKind::PcrNasopharyngeal } else { TestKind::pick(rng) };
        let (main_result_on, main_result) = match class {
            DiagnosisClass::Suspected if diagnosis + Days::new(3) > end => (None, None),
            DiagnosisClass::Suspected => (Some(diagnosis), Some(TestResult::Unknown)),
            _ => (Some(diagnosis), Some(TestResult::Positive)),
        };
        let mut tests = Vec::with_capacity(4);
        tests.push(clinical::test_record(rng, main_kind, collected, main_result_on, main_result, programme, &clinic.name));
        let wanted = [1, 1, 1, 1, 1, 2, 2, 2, 3, 4][rng.gen_range(0..10)];
        let mut attempts = 0;
        while tests.len() < wanted && attempts < 6 {
            attempts += 1;
            match rng.gen_range(0..3) {
                // An earlier negative screening test.
                0 => {
                    let c = collected - Days::new(rng.gen_range(3..=10));
                    if c <= birth {
                        continue;
                    }
                    let r = c + Days::new(rng.gen_range(0..=1));
                    let kind = TestKind::pick(rng);
                    tests.push(clinical::test_record(
                        rng,
                        kind,
                        c,
                        Some(r),
                        Some(TestResult::Negative),
                        TestProgramme::Administrative,
                        &clinic.name,
                    ));
                }
                // A PCR confirming an antigen result on the same specimen day.
                1 if main_kind != TestKind::PcrNasopharyngeal && main_result == Some(TestResult::Positive) => {
                    tests.push(clinical::test_record(
                        rng,
                        TestKind::PcrNasopharyngeal,
                        collected,
                        Some(diagnosis),
                        Some(TestResult::Positive),
                        programme,
                        &clinic.name,
                    ));
                }
                // A retest later in the course.
                _ if class.is_positive() && !deceased => {
                    let c = diagnosis + Days::new(rng.gen_range(5..=14));
                    let r = c + Days::new(rng.gen_range(0..=1));
                    if r > last_day || course.discharge.is_some_and(|d| c > d) {
                        continue;
                    }
                    let result = if rng.gen_bool(0.6) { TestResult::Negative } else { TestResult::Positive };
                    let institution = match course.setting {
                        Setting::Hospital => clinic_place_ref.hospitals[0].name.as_str(),
                        _ => clinic.name.as_str(),
                    };
                    tests.push(clinical::test_record(
                        rng,
                        TestKind::PcrNasopharyngeal,
                        c,
                        Some(r),
                        Some(result),
                        TestProgramme::Administrative,
                        institution,
                    ));
                }
                _ => {}
            }
        }
        tests.sort_by_key(|t| (t.collected_on, t.result_on));

        // --- notification ---------------------------------------------------
        let mut reports = Vec::with_capacity(2);
        if first_suspected {
            reports.push(ReportEvent { class: DiagnosisClass::Suspected, reported_on: collected, by: doctor_login.clone() });
        }
        reports.push(ReportEvent { class, reported_on: report, by: doctor_login });
        let confirmation = rng.gen_bool(0.4).then(|| Confirmation {
            on: (report + Days::new(rng.gen_range(0..=3))).min(end).min(last_day.max(report)),
            by: format!("{}-staff{:02}", hc.code.to_ascii_lowercase(), rng.gen_range(1..=12)),
        });
        let (risk_factors, risk_other) = clinical::risk_factors(rng, age);
        const OMICRON: NaiveDate = clinical::date(2022, 1, 1);
        let before_omicron = diagnosis < OMICRON;
        let (symptoms, symptoms_other) = clinical::symptoms(rng, class, &course, onset.is_some(), before_omicron);
        let spo2 = match course.severity {
            Some(Severity::Mild) | None => rng.gen_range(96..=99),
            Some(Severity::ModerateI) => rng.gen_range(94..=95),
            Some(Severity::ModerateII) => rng.gen_range(90..=93),
            Some(Severity::Severe) => rng.gen_range(85..=92),
        };
        let health_worker = occupation == "医療従事者" || occupation == "介護職員";
        let vaccinations = clinical::vaccinations(rng, birth, collected, health_worker);

        let household_size: u32 = match age {
            0..=17 => rng.gen_range(2..=4),
            18..=29 => rng.gen_range(0..=2),
            30..=64 => rng.gen_range(0..=3),
            _ if facility_resident => 0,
            _ => rng.gen_range(0..=2),
        };
        let abroad = !deceased && link.is_none() && cluster.is_none() && rng.gen_bool(0.004);
        let household_linked = link.is_some();
        let infection_link = if household_linked || cluster.is_some() {
            YesNoUnknown::Yes
        } else if rng.gen_bool(0.45) {
            YesNoUnknown::No
        } else {
            YesNoUnknown::Unknown
        };
        let infection_route = InfectionRoute {
            droplet: Some(match infection_link {
                YesNoUnknown::Yes if rng.gen_bool(0.3) => Certainty::Confirmed,
                YesNoUnknown::Yes => Certainty::Presumed,
                _ if rng.gen_bool(0.6) => Certainty::Presumed,
                _ => Certainty::Unknown,
            }),
            contact: Some(if household_linked { Certainty::Presumed } else { Certainty::Unknown }),
            other: None,
            other_detail: String::new(),
        };
        let infection_region = if abroad {
            const COUNTRIES: &[(&str, &str)] = &[
                ("アメリカ合衆国", "ニューヨーク州"),
                ("フィリピン", "マニラ"),
                ("大韓民国", "ソウル"),
                ("ベトナム", "ホーチミン"),
                ("インドネシア", "バリ島"),
                ("英国", "ロンドン"),
                ("フランス", "パリ"),
                ("タイ", "バンコク"),
            ];
            let (country, detail) = COUNTRIES[rng.gen_range(0..COUNTRIES.len())];
            let entry = (infection + Days::new(rng.gen_range(0..=3))).min(collected);
            let departure = (entry - Days::new(rng.gen_range(5..=21))).max(birth);
            InfectionRegion {
                certainty: Some(Certainty::Presumed),
                domestic: None,
                abroad: Some(AbroadRegion {
                    country: country.to_string(),
                    detail: format!("{}（観光・業務）", detail),
                    entry_date: Some(entry),
                    departure_date: Some(departure),
                }),
            }
        } else {
            InfectionRegion {
                certainty: Some(if infection_link == YesNoUnknown::Yes { Certainty::Presumed } else { Certainty::Unknown }),
                domestic: Some(DomesticRegion {
                    prefecture_code: place.pref_lgcode.to_string(),
                    municipality_code: place.lgcode.to_string(),
                }),
                abroad: None,
            }
        };
        // Oxygen from 中等症Ⅱ on; antivirals for the at-risk with symptoms.
        let treatment_needed = matches!(course.severity, Some(Severity::ModerateII | Severity::Severe))
            || (!risk_factors.is_empty() && onset.is_some() && !deceased && rng.gen_bool(0.3));
        let admitted_at_notification = course.admission.is_some_and(|a| a <= report);
        let mut remarks = String::new();
        if programme == TestProgramme::PrenatalSupport {
            remarks.push_str("妊婦支援事業");
        } else if abroad {
            remarks.push_str("海外渡航歴あり");
        }
        let notification = Notification {
            diagnosis_class: Some(class),
            report_date: Some(report),
            submitted_on: Some(report),
            received_on: Some(report),
            reported_class: Some(class),
            reports,
            health_centre_confirmation: confirmation,
            doctor,
            symptoms,
            symptoms_other,
            risk_factors,
            risk_factors_other: risk_other,
            pregnancy: if sex == Sex::Female && (12..55).contains(&age) { Some(pregnant) } else { Some(false) },
            immunosuppression: Some(rng.gen_bool(0.01 + 0.003 * (age / 10) as f64)),
            spo2_room_air: (!deceased).then_some(spo2),
            vaccinations,
            first_visit_date: Some(collected),
            diagnosis_date: Some(diagnosis),
            estimated_infection_date: (!deceased).then_some(infection),
            onset_date: onset,
            death_date: course.death,
            infection_route,
            infection_region,
            infection_link: Some(infection_link),
            severity: course.severity,
            admission_needed: Some(course.admission_needed),
            treatment_or_oxygen_needed: Some(treatment_needed),
            admitted_at_notification: Some(admitted_at_notification),
            admission_date_at_notification: if admitted_at_notification { course.admission } else { None },
            special_case_care: Some(rng.gen_bool(0.005)),
            remarks,
        };

        // --- measures -------------------------------------------------------
        let hospital = if course.admission.is_some() {
            let hp = &self.places.places[self.places.neighbour(rng, place_index)].hospitals;
            hp[rng.gen_range(0..hp.len())].name.clone()
        } else {
            String::new()
        };
        let (chest_xray, ct) = if course.setting == Setting::Hospital && course.admission.is_some() {
            if course.severe {
                ("両側びまん性浸潤影".to_string(), "両肺野に広範なすりガラス影と浸潤影".to_string())
            } else {
                ("右下肺野に淡い浸潤影".to_string(), "両側胸膜直下にすりガラス影".to_string())
            }
        } else {
            (String::new(), String::new())
        };
        let family_doctor =
            if age >= 60 && rng.gen_bool(0.4) { place.clinics[rng.gen_range(0..place.clinics.len())].name.clone() } else { String::new() };
        let measures = Measures {
            current_status: Some(course.status),
            status_updated_on: Some(course.status_on),
            admission_date: course.admission,
            discharge_date: course.discharge,
            hospital: hospital.clone(),
            chest_xray,
            ct,
            icu: course.icu,
            ventilator: course.ventilator,
            ecmo: course.ecmo,
            recovery_ended_on: course.recovery_ended,
            emergency_hospital: if course.severe && rng.gen_bool(0.5) { hospital } else { String::new() },
            family_doctor,
        };

        // --- investigation --------------------------------------------------
        let mut contacts = Vec::new();
        if let Some(l) = &link {
            contacts.push(Contact {
                id: ids::v7_on(rng, report),
                name: names::full_name(FAMILY_NAMES[l.source_family].0, l.source_given.0),
                name_kana: names::full_name(FAMILY_NAMES[l.source_family].1, l.source_given.1),
                kind: Some(ContactKind::Household),
                last_contact_date: Some(l.contact_date.min(diagnosis)),
                phone: l.source_phone.clone(),
                linked_case: Some(l.source),
                note: "先に陽性となった同居家族".to_string(),
            });
        }
        let can_link = class.is_positive() && !deceased;
        let link_slot = if can_link && household_size > 0 && rng.gen_bool(0.35) { Some(rng.gen_range(0..household_size)) } else { None };
        for h in 0..household_size {
            let (m_sex, m_age) = household_member(rng, age);
            let m_given = names::given_name(rng, m_sex, diagnosis.year() - m_age as i32);
            let mut contact = Contact {
                id: ids::v7_on(rng, report),
                name: names::full_name(family_kanji, m_given.0),
                name_kana: names::full_name(family_kana, m_given.1),
                kind: Some(ContactKind::Household),
                last_contact_date: Some(diagnosis),
                phone: String::new(),
                linked_case: None,
                note: String::new(),
            };
            if link_slot == Some(h) {
                let ahead = rng.gen_range(1..=4);
                let t = day + ahead;
                if t < self.schedule.days() && self.schedule.count(t) > 0 {
                    let j = self.schedule.first_index(t) + rng.gen_range(0..self.schedule.count(t) as u64);
                    if j > index && j < self.total && !self.pending.contains_key(&j) {
                        let target_date = self.schedule.date(t);
                        contact.linked_case = Some(self.link_ids.id(j, target_date));
                        contact.phone = person::unique_mobile(j, self.phone_salt);
                        contact.note = "後日陽性".to_string();
                        self.pending.insert(
                            j,
                            HouseholdLink {
                                source: id,
                                source_phone: person::unique_mobile(index, self.phone_salt),
                                source_family: family,
                                source_given: given,
                                given: m_given,
                                sex: m_sex,
                                age: m_age,
                                place: place_index,
                                residence: residence.clone(),
                                registered: registered.clone(),
                                contact_date: diagnosis,
                            },
                        );
                    }
                }
            }
            contacts.push(contact);
        }
        let others = rng.gen_range(0..=2);
        for _ in 0..others {
            let kind = match (age, occupation) {
                (0..=5, _) => ContactKind::School,
                (6..=17, _) => {
                    if rng.gen_bool(0.8) {
                        ContactKind::School
                    } else {
                        ContactKind::Other
                    }
                }
                (_, "医療従事者") => ContactKind::Medical,
                (_, "介護職員") => ContactKind::Facility,
                (65.., _) => {
                    if rng.gen_bool(0.5) {
                        ContactKind::Facility
                    } else {
                        ContactKind::Other
                    }
                }
                _ => {
                    if rng.gen_bool(0.6) {
                        ContactKind::Workplace
                    } else {
                        ContactKind::Dining
                    }
                }
            };
            let c_family = FAMILY_NAMES[self.surnames.pick(rng)];
            let c_sex = person::sex(rng);
            let c_year = rng.gen_range(1950..2015);
            let c_given = names::given_name(rng, c_sex, c_year);
            let date = (diagnosis - Days::new(rng.gen_range(1..=3))).max(birth);
            contacts.push(Contact {
                id: ids::v7_on(rng, report),
                name: names::full_name(c_family.0, c_given.0),
                name_kana: names::full_name(c_family.1, c_given.1),
                kind: Some(kind),
                last_contact_date: Some(date),
                phone: if rng.gen_bool(0.6) { person::mobile(rng) } else { String::new() },
                linked_case: None,
                note: String::new(),
            });
        }
        let mut behaviour = Vec::new();
        if let Some(k) = cluster {
            let c = &self.clusters[k];
            behaviour.push(BehaviourEntry {
                id: ids::v7_on(rng, report),
                date: Some(infection.max(c.from - Days::new(5)).min(diagnosis)),
                place: c.kind.behaviour_place().to_string(),
                note: String::new(),
            });
        }
        for _ in 0..rng.gen_range(0..=2) {
            const PLACES: &[&str] = &[
                "通勤（電車）",
                "スーパーマーケット",
                "飲食店（会食4名）",
                "親族宅",
                "スポーツジム",
                "カラオケ店",
                "医療機関受診",
                "ドラッグストア",
                "職場の会議",
                "友人宅",
            ];
            let d = (infection + Days::new(rng.gen_range(0..=2))).min(diagnosis);
            behaviour.push(BehaviourEntry {
                id: ids::v7_on(rng, report),
                date: Some(d),
                place: PLACES[rng.gen_range(0..PLACES.len())].to_string(),
                note: if rng.gen_bool(0.5) { "マスク着用".to_string() } else { String::new() },
            });
        }
        let clusters_links =
            cluster.map(|k| vec![ClusterLink { id: ids::v7_on(rng, report), cluster_id: self.clusters[k].cluster.id }]).unwrap_or_default();
        let notes = if household_linked {
            "同居家族からの感染と推定".to_string()
        } else if let Some(k) = cluster {
            format!("{}の関連事例", self.clusters[k].cluster.name)
        } else {
            String::new()
        };
        let investigation =
            Investigation { behaviour, contacts, clusters: clusters_links, infected_by_case: link.as_ref().map(|l| l.source), notes };

        // --- person ---------------------------------------------------------
        let phone = person::unique_mobile(index, self.phone_salt);
        // The age of majority fell from 20 to 18 on 2022-04-01.
        let minor = todoke_domain::age::is_minor(birth, diagnosis) == Some(true);
        let guardian = minor.then(|| {
            let g_sex = if rng.gen_bool(0.6) { Sex::Female } else { Sex::Male };
            let g_year = diagnosis.year() - age as i32 - rng.gen_range(25..=40);
            let g_given = names::given_name(rng, g_sex, g_year);
            Guardian { name: names::full_name(family_kanji, g_given.0), address: residence.text.clone(), phone: person::mobile(rng) }
        });
        let email = if (18..70).contains(&age) && rng.gen_bool(0.3) {
            format!("{}.{:04}@example.jp", family_romaji, rng.gen_range(0..10_000))
        } else {
            String::new()
        };
        let basic = BasicInfo {
            name: names::full_name(family_kanji, given.0),
            name_kana: names::full_name(family_kana, given.1),
            birth_date: Some(birth),
            sex: Some(sex),
            reported_age_band: None,
            registered_address: registered,
            residence,
            phone,
            email,
            occupation: occupation.to_string(),
            guardian,
            welfare_coordination_needed: Some(age >= 75 && rng.gen_bool(0.2)),
            lives_with_high_risk: Some(rng.gen_bool(if age >= 65 { 0.4 } else { 0.12 })),
            id_management_note: if rng.gen_bool(0.005) { format!("{}発生届・未入力", hc.name) } else { String::new() },
        };

        let related = if clinic_hc != &hc.code { vec![clinic_hc.clone()] } else { Vec::new() };
        let hotel = (course.setting == Setting::Hotel)
            .then(|| self.places.hotels.get(&place.pref_number))
            .flatten()
            .map(|list| list[rng.gen_range(0..list.len())].code.clone())
            .unwrap_or_default();
        let jurisdiction = Jurisdiction {
            responsible_health_centre: hc.code.clone(),
            related_health_centres: related,
            reporting_clinic: clinic.code.clone(),
            facility: hotel,
        };

        let outside_care = matches!(course.setting, Setting::Home | Setting::Hotel | Setting::Facility);
        let self_report = outside_care && rng.gen_bool(0.6);
        let processing_number_issued =
            (outside_care && class.is_positive() && rng.gen_bool(0.03)).then(|| (report + Days::new(rng.gen_range(0..=2))).min(last_day));
        let follow_up = FollowUp {
            self_report_enabled: self_report,
            processing_number: processing_number_issued.map(|_| format!("{:08}", rng.gen_range(0..100_000_000u32))),
            processing_number_issued_on: processing_number_issued,
        };

        // --- observations ---------------------------------------------------
        let staff_login = match course.setting {
            Setting::Hotel => format!("{}-nurse", jurisdiction.facility.to_ascii_lowercase()),
            _ => format!("{}-staff{:02}", hc.code.to_ascii_lowercase(), rng.gen_range(1..=12)),
        };
        let source = if self_report {
            ObservationSource::Patient
        } else if course.setting == Setting::Hotel {
            ObservationSource::Nurse
        } else {
            ObservationSource::HealthCentre
        };
        let observations = match course.followed {
            Some((from, to)) => observations::observations(
                rng,
                &ObservationInput {
                    case_id: id,
                    from,
                    to: to.min(last_day),
                    onset,
                    fever: notification.symptoms.contains(&Symptom::Fever),
                    cough: notification.symptoms.contains(&Symptom::Cough),
                    fatigue: notification.symptoms.contains(&Symptom::GeneralFatigue),
                    deteriorating: course.setting == Setting::Hospital,
                    source,
                    staff_login: &staff_login,
                },
            ),
            None => Vec::new(),
        };

        let last_touch = [Some(course.status_on), notification.health_centre_confirmation.as_ref().map(|c| c.on)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(report)
            .min(end);
        let (_, updated_at) = clinical::office_time(rng, last_touch);
        let mut case = Case {
            id,
            origin: Some(Origin::Generated),
            basic,
            jurisdiction,
            notification,
            tests,
            underlying_diseases: String::new(),
            measures,
            investigation,
            follow_up,
            publication: None,
            deleted: None,
            updated_at: Some(updated_at),
        };
        case.underlying_diseases = clinical::underlying_diseases(&case.notification.risk_factors, &case.notification.risk_factors_other);
        Generated { case, observations }
    }
}

/// Sex and age of someone living with a case of age `age`.
fn household_member<R: Rng>(rng: &mut R, age: u32) -> (Sex, u32) {
    let sex = if rng.gen_bool(0.5) { Sex::Male } else { Sex::Female };
    let age = match (age, rng.gen_range(0..4)) {
        // A parent.
        (0..=17, 0..=2) | (18..=29, 0..=1) => (age + rng.gen_range(24..=40)).min(100),
        // A child.
        (30.., 0..=1) => age.saturating_sub(rng.gen_range(24..=38)),
        // A spouse.
        (20.., _) => (age + rng.gen_range(0..=10)).saturating_sub(5).max(18),
        // A sibling.
        _ => (age + rng.gen_range(0..=8)).saturating_sub(4),
    };
    (sex, age)
}

impl Iterator for Generator {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        if self.next >= self.total {
            return None;
        }
        let index = self.next;
        self.next += 1;
        Some(self.make(index))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.total - self.next) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Generator {}
