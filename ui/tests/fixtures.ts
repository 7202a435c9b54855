// Test data shaped by the generated bindings (a change of a Rust type breaks these at compile time).
import type { Case, CaseSummary, CodeLists, FormCheck, Problem, TestRecord } from "../src/lib/bindings";

export const TEST_ID = "0190a6e4-0000-7000-8000-000000000001";

export function blankTest(): TestRecord {
  return {
    id: TEST_ID, collected_on: null, result_on: null, method: null, specimen: null, specimen_other: "",
    result: null, programme: null, institution: "", entered_at: null,
  };
}

export function blankCase(): Case {
  const address = { prefecture_code: "", municipality_code: "", postal_code: "", text: "", phone: "" };
  return {
    id: "00000000-0000-0000-0000-000000000000",
    origin: null,
    basic: {
      name: "", name_kana: "", birth_date: null, sex: null, reported_age_band: null, registered_address: { ...address },
      residence: { ...address }, phone: "", email: "", occupation: "", guardian: null, welfare_coordination_needed: null,
      lives_with_high_risk: null, id_management_note: "",
    },
    jurisdiction: { responsible_health_centre: "HC131121", related_health_centres: [], reporting_clinic: "", facility: "" },
    notification: {
      diagnosis_class: null, report_date: null, submitted_on: null, received_on: null, reported_class: null, reports: [],
      health_centre_confirmation: null,
      doctor: { name: "", institution_code: "", institution_name: "", institution_address: "", institution_phone: "", out_of_hours_phone: "" },
      symptoms: [], symptoms_other: "", risk_factors: [], risk_factors_other: "", pregnancy: null, immunosuppression: null,
      spo2_room_air: null, vaccinations: [], first_visit_date: null, diagnosis_date: null, estimated_infection_date: null,
      onset_date: null, death_date: null, infection_route: { droplet: null, contact: null, other: null, other_detail: "" },
      infection_region: { certainty: null, domestic: null, abroad: null }, infection_link: null, severity: null,
      admission_needed: null, treatment_or_oxygen_needed: null, admitted_at_notification: null,
      admission_date_at_notification: null, special_case_care: null, remarks: "",
    },
    tests: [blankTest()],
    underlying_diseases: "",
    measures: {
      current_status: null, status_updated_on: null, admission_date: null, discharge_date: null, hospital: "", chest_xray: "",
      ct: "", icu: false, ventilator: false, ecmo: false, recovery_ended_on: null, emergency_hospital: "", family_doctor: "",
    },
    investigation: { behaviour: [], contacts: [], clusters: [], infected_by_case: null, notes: "" },
    follow_up: { self_report_enabled: false, processing_number: null, processing_number_issued_on: null },
    publication: null,
    deleted: null,
    updated_at: null,
  };
}

const l = (code: string, ja: string, en: string) => ({ code, ja, en });

export const codeLists: CodeLists = {
  sex: [l("male", "男", "Male"), l("female", "女", "Female")],
  diagnosis_class: [l("confirmed", "患者（確定例）", "Confirmed patient"), l("suspected", "疑似症患者", "Suspected patient")],
  symptom: [], risk_factor: [], yes_no_unknown: [], certainty: [],
  test_method: [l("nucleic_acid", "核酸増幅法", "Nucleic-acid amplification"), l("antigen_qualitative", "抗原定性検査", "Qualitative antigen test")],
  specimen: [l("saliva", "唾液", "Saliva"), l("nasal_swab", "鼻腔拭い液", "Nasal swab")],
  test_result: [l("positive", "陽性", "Positive"), l("negative", "陰性", "Negative")],
  test_programme: [], severity: [],
  current_status: [l("home_recovery", "自宅療養中", "Home recovery"), l("hospitalised", "入院中", "Hospitalised")],
  contact_kind: [], observation_source: [], age_band: [], origin: [],
  concern: [
    l("no_report", "本日の報告なし", "No report today"), l("fever", "発熱（38.0℃以上）", "Fever (38.0 °C or higher)"),
    l("high_risk", "重症化リスクあり", "At risk of severe disease"),
  ],
  prefecture: [l("13", "東京都", "Tokyo")],
  items: [l("basic.name", "氏名", "name"), l("basic.birth_date", "生年月日", "date of birth"), l("basic.phone", "電話番号", "phone")],
  specimens_by_method: [{ method: "antigen_qualitative", specimens: ["nasal_swab"] }],
};

export const REQUIRED = [
  "notification.diagnosis_class", "basic.name", "basic.sex", "basic.birth_date", "basic.residence",
  "tests", "tests[].method", "tests[].specimen", "tests[].collected_on",
];

export function problem(path: string, rule: Problem["rule"], ja: string, en: string): Problem {
  return { path, rule, severity: "error", message_ja: ja, message_en: en };
}

export function formCheck(problems: Problem[] = [], possible_duplicates: CaseSummary[] = []): FormCheck {
  return { problems, required: REQUIRED, required_once_known: ["basic.phone"], possible_duplicates, next_report: "new_report" };
}

export function summary(i: number): CaseSummary {
  return {
    id: `0190a6e4-0000-7000-8000-${String(i).padStart(12, "0")}`, name: `患者${i}`, name_kana: `カンジャ${i}`, phone: "",
    birth_date: "1980-01-01", sex: "male", diagnosis_class: "confirmed", current_status: "home_recovery",
    report_date: "2026-11-01", diagnosis_date: "2026-11-01", status_updated_on: null, responsible_health_centre: "HC131121",
    confirmed: false, deleted: false, rev: 1, pending_ops: 1,
  };
}
