//! Coded values of the case record, each with its screen label in Japanese
//! and English. Serialised as stable snake_case codes; labels are for people.

use serde::{Deserialize, Serialize};

/// Something with a label for the screen in both UI languages.
pub trait Labelled {
    fn ja(&self) -> &'static str;
    fn en(&self) -> &'static str;
}

macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal, $ja:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant,)+
        }
        impl $name {
            /// Every value, in form order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            /// The stable code used in JSON, CSV and the database.
            pub fn code(&self) -> &'static str { match self { $($name::$variant => $code,)+ } }
            /// Parses a code, a Japanese label or an English label.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $(if s == $code || s == $ja || s.eq_ignore_ascii_case($en) { return Some($name::$variant); })+
                None
            }
        }
        impl Labelled for $name {
            fn ja(&self) -> &'static str { match self { $($name::$variant => $ja,)+ } }
            fn en(&self) -> &'static str { match self { $($name::$variant => $en,)+ } }
        }
    };
}

coded_enum! {
    /// 性別. The form allows 男/女; other/unknown must be storable for follow-up records.
    Sex {
        Male = "male", "男", "Male";
        Female = "female", "女", "Female";
        OtherOrUnknown = "other_unknown", "その他・不明", "Other / unknown";
    }
}

coded_enum! {
    /// 類型 (診断(検案)した者(死体)の類型) — diagnosis class of the notification.
    DiagnosisClass {
        Confirmed = "confirmed", "患者（確定例）", "Confirmed patient";
        AsymptomaticCarrier = "asymptomatic_carrier", "無症状病原体保有者", "Asymptomatic carrier";
        Suspected = "suspected", "疑似症患者", "Suspected patient";
        Deceased = "deceased", "感染症死亡者の死体", "Deceased patient";
        SuspectedDeceased = "suspected_deceased", "感染症死亡疑い者の死体", "Suspected deceased";
    }
}

impl DiagnosisClass {
    /// Counted as a positive (陽性者) in the statistics.
    pub fn is_positive(&self) -> bool {
        matches!(self, Self::Confirmed | Self::AsymptomaticCarrier | Self::Deceased)
    }
    pub fn is_suspected(&self) -> bool {
        matches!(self, Self::Suspected | Self::SuspectedDeceased)
    }
    pub fn is_deceased(&self) -> bool {
        matches!(self, Self::Deceased | Self::SuspectedDeceased)
    }
}

coded_enum! {
    /// 症状 — symptoms on the notification (checklist).
    Symptom {
        Fever = "fever", "発熱", "Fever";
        Cough = "cough", "咳", "Cough";
        OtherAcuteRespiratory = "other_acute_respiratory", "咳以外の急性呼吸器症状", "Other acute respiratory symptoms";
        PneumoniaImaging = "pneumonia_imaging", "肺炎像", "Pneumonia on imaging";
        SeverePneumonia = "severe_pneumonia", "重篤な肺炎", "Severe pneumonia";
        Ards = "ards", "急性呼吸窮迫症候群", "ARDS";
        MultiOrganFailure = "multi_organ_failure", "多臓器不全", "Multi-organ failure";
        GeneralFatigue = "general_fatigue", "全身倦怠感", "General fatigue";
        Headache = "headache", "頭痛", "Headache";
        NauseaVomiting = "nausea_vomiting", "嘔気・嘔吐", "Nausea / vomiting";
        Diarrhoea = "diarrhoea", "下痢", "Diarrhoea";
        Conjunctivitis = "conjunctivitis", "結膜炎", "Conjunctivitis";
        SmellTasteLoss = "smell_taste_loss", "嗅覚・味覚障害", "Loss of smell / taste";
        Other = "other", "その他", "Other";
        None = "none", "なし", "None";
    }
}

coded_enum! {
    /// 重症化リスク因子 — risk factors for severe disease (checklist).
    RiskFactor {
        Malignancy = "malignancy", "悪性腫瘍", "Malignancy";
        Copd = "copd", "慢性閉塞性肺疾患（COPD）", "COPD";
        ChronicKidneyDisease = "chronic_kidney_disease", "慢性腎臓病", "Chronic kidney disease";
        Hypertension = "hypertension", "高血圧", "Hypertension";
        Diabetes = "diabetes", "糖尿病", "Diabetes";
        Dyslipidaemia = "dyslipidaemia", "脂質異常症", "Dyslipidaemia";
        Obesity = "obesity", "肥満（BMI30以上）", "Obesity (BMI ≥ 30)";
        Smoking = "smoking", "喫煙歴", "Smoking history";
        Other = "other", "その他", "Other";
    }
}

coded_enum! {
    /// 有/無/不明.
    YesNoUnknown {
        Yes = "yes", "有", "Yes";
        No = "no", "無", "No";
        Unknown = "unknown", "不明", "Unknown";
    }
}

coded_enum! {
    /// 確定/推定/不明 — how certain an infection route or region is.
    Certainty {
        Confirmed = "confirmed", "確定", "Confirmed";
        Presumed = "presumed", "推定", "Presumed";
        Unknown = "unknown", "不明", "Unknown";
    }
}

coded_enum! {
    /// 診断方法 — test method.
    TestMethod {
        Isolation = "isolation", "分離・同定による病原体の検出", "Isolation / identification";
        NucleicAcid = "nucleic_acid", "核酸増幅法（PCR法・LAMP法など）", "Nucleic-acid amplification (PCR, LAMP, ...)";
        AntigenQualitative = "antigen_qualitative", "抗原定性検査", "Qualitative antigen test";
        AntigenQuantitative = "antigen_quantitative", "抗原定量検査", "Quantitative antigen test";
    }
}

coded_enum! {
    /// 検体 — specimen.
    Specimen {
        Sputum = "sputum", "喀痰", "Sputum";
        TrachealAspirate = "tracheal_aspirate", "気管吸引液", "Tracheal aspirate";
        BronchoalveolarLavage = "bronchoalveolar_lavage", "肺胞洗浄液", "Bronchoalveolar lavage";
        ThroatSwab = "throat_swab", "咽頭拭い液", "Throat swab";
        NasalAspirate = "nasal_aspirate", "鼻腔吸引液", "Nasal aspirate";
        NasalSwab = "nasal_swab", "鼻腔拭い液", "Nasal swab";
        NasopharyngealSwab = "nasopharyngeal_swab", "鼻咽頭拭い液", "Nasopharyngeal swab";
        Stool = "stool", "便", "Stool";
        Saliva = "saliva", "唾液", "Saliva";
        Autopsy = "autopsy", "剖検材料", "Autopsy material";
        Other = "other", "その他", "Other";
    }
}

impl TestMethod {
    /// Specimens the notification form allows for this method.
    pub fn allowed_specimens(&self) -> &'static [Specimen] {
        use Specimen::*;
        match self {
            TestMethod::Isolation | TestMethod::NucleicAcid => Specimen::ALL,
            TestMethod::AntigenQualitative => &[NasalSwab, NasopharyngealSwab],
            TestMethod::AntigenQuantitative => &[NasalSwab, NasopharyngealSwab, Saliva],
        }
    }
}

coded_enum! {
    /// 検査結果.
    TestResult {
        Positive = "positive", "陽性", "Positive";
        Negative = "negative", "陰性", "Negative";
        Unknown = "unknown", "不明", "Unknown";
    }
}

coded_enum! {
    /// 検査の区分: administrative tests are reported whatever the result.
    TestProgramme {
        Administrative = "administrative", "行政検査", "Administrative test";
        Private = "private", "自由診療", "Private test";
        PrenatalSupport = "prenatal_support", "妊婦支援事業", "Prenatal test programme";
    }
}

coded_enum! {
    /// 重症度 at notification.
    Severity {
        Mild = "mild", "軽症", "Mild";
        ModerateI = "moderate_1", "中等症Ⅰ", "Moderate I";
        ModerateII = "moderate_2", "中等症Ⅱ", "Moderate II";
        Severe = "severe", "重症", "Severe";
    }
}

coded_enum! {
    /// 現在のステータス.
    CurrentStatus {
        CloseContact = "close_contact", "濃厚接触者", "Close contact";
        AwaitingAdmission = "awaiting_admission", "入院調整中", "Awaiting admission";
        Hospitalised = "hospitalised", "入院中", "Hospitalised";
        HospitalisedSevere = "hospitalised_severe", "入院中（重症）", "Hospitalised (severe)";
        AwaitingHotel = "awaiting_hotel", "宿泊療養調整中", "Awaiting hotel recovery";
        HotelRecovery = "hotel_recovery", "宿泊療養中", "Hotel recovery";
        HomeRecovery = "home_recovery", "自宅療養中", "Home recovery";
        SocialWelfareFacility = "welfare_facility", "社会福祉施設等療養中", "Recovering in a welfare facility";
        RecoveryEnded = "recovery_ended", "療養解除", "Recovery ended";
        Died = "died", "死亡", "Died";
        Other = "other", "その他", "Other";
    }
}

impl CurrentStatus {
    /// 入院治療等を要する者: hospitalised, awaiting a bed or recovering elsewhere.
    pub fn requires_care(&self) -> bool {
        use CurrentStatus::*;
        matches!(
            self,
            AwaitingAdmission | Hospitalised | HospitalisedSevere | AwaitingHotel | HotelRecovery | HomeRecovery | SocialWelfareFacility
        )
    }
}

coded_enum! {
    /// 接触の種類 — kind of contact.
    ContactKind {
        Household = "household", "同居家族", "Household";
        Workplace = "workplace", "職場", "Workplace";
        School = "school", "学校・保育", "School / childcare";
        Medical = "medical", "医療機関", "Medical setting";
        Facility = "facility", "施設", "Care facility";
        Dining = "dining", "会食", "Dining";
        Other = "other", "その他", "Other";
    }
}

coded_enum! {
    /// 健康観察の入力者 — who entered a health observation.
    ObservationSource {
        Patient = "patient", "本人", "Patient";
        Nurse = "nurse", "看護師", "Nurse";
        HealthCentre = "health_centre", "保健所", "Health centre";
    }
}

coded_enum! {
    /// 年代 — the published age groups.
    AgeBand {
        Under10 = "under_10", "10歳未満", "Under 10";
        Teens = "10s", "10代", "10s";
        Twenties = "20s", "20代", "20s";
        Thirties = "30s", "30代", "30s";
        Forties = "40s", "40代", "40s";
        Fifties = "50s", "50代", "50s";
        Sixties = "60s", "60代", "60s";
        Seventies = "70s", "70代", "70s";
        Eighties = "80s", "80代", "80s";
        NinetyPlus = "90_plus", "90歳以上", "90 and over";
        Unknown = "unknown", "不明", "Unknown";
    }
}

impl AgeBand {
    /// The band of an age in whole years.
    pub fn of_age(years: u32) -> AgeBand {
        use AgeBand::*;
        match years {
            0..=9 => Under10,
            10..=19 => Teens,
            20..=29 => Twenties,
            30..=39 => Thirties,
            40..=49 => Forties,
            50..=59 => Fifties,
            60..=69 => Sixties,
            70..=79 => Seventies,
            80..=89 => Eighties,
            _ => NinetyPlus,
        }
    }
}

coded_enum! {
    /// Where a record came from.
    Origin {
        Entered = "entered", "入力", "Entered";
        OpenDataImport = "open_data_import", "オープンデータ取込", "Open-data import";
        Generated = "generated", "デモデータ", "Generated demo data";
    }
}

coded_enum! {
    /// Kinds of organisation (DOMAIN.md §2).
    OrgKind {
        Nation = "nation", "国", "Nation";
        Prefecture = "prefecture", "都道府県・保健所設置市・特別区", "Prefecture / city HQ";
        HealthCentre = "health_centre", "保健所", "Health centre";
        Clinic = "clinic", "医療機関", "Clinic";
        Lab = "lab", "地方衛生研究所・国立感染症研究所", "Laboratory";
        Facility = "facility", "宿泊療養施設", "Recovery facility";
    }
}

coded_enum! {
    /// Why a nurse should call a person in home or hotel recovery (DOMAIN.md §4.5).
    Concern {
        NoReport = "no_report", "本日の報告なし", "No report today";
        Fever = "fever", "発熱（38.0℃以上）", "Fever (38.0 °C or higher)";
        LowSpo2 = "low_spo2", "SpO2低下（93%以下）", "Low SpO2 (93 % or less)";
        Breathlessness = "breathlessness", "息苦しさあり", "Breathlessness";
        HighRisk = "high_risk", "重症化リスクあり", "At risk of severe disease";
    }
}
