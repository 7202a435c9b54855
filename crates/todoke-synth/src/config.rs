//! What to generate: seed, size, region, period and health centres.

use chrono::NaiveDate;

/// Where the generated cases live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Region {
    /// One prefecture by number (13 = 東京都).
    Prefecture(u8),
    /// Several prefectures; cases are spread in proportion to their 2020
    /// census population.
    Prefectures(Vec<u8>),
}

impl Region {
    /// The prefecture numbers, without duplicates, in the given order.
    pub fn prefecture_numbers(&self) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        let list: &[u8] = match self {
            Region::Prefecture(n) => std::slice::from_ref(n),
            Region::Prefectures(v) => v,
        };
        for &n in list {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }
}

impl Default for Region {
    /// 東京都 and 神奈川県.
    fn default() -> Self {
        Region::Prefectures(vec![13, 14])
    }
}

/// A health centre (保健所) of the deployment, with the municipalities whose
/// residents it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCentreDef {
    /// Organisation code, e.g. "HC131121".
    pub code: String,
    /// e.g. "世田谷区保健所".
    pub name: String,
    pub prefecture_number: u8,
    /// 6-digit local-government codes of the municipalities (and wards) it covers.
    pub municipality_codes: Vec<String>,
}

impl HealthCentreDef {
    /// Invented health centres covering every municipality of the region: one
    /// per Tokyo special ward, per designated city (covering its wards) and
    /// per other city; towns and villages share one per county-like code
    /// block ("東京都瑞穂保健所" for 瑞穂町, 日の出町, ...). Codes are "HC" and
    /// the 6-digit code of the first municipality covered.
    pub fn invent(region: &Region) -> Vec<HealthCentreDef> {
        region.prefecture_numbers().into_iter().flat_map(crate::places::invent_health_centres).collect()
    }
}

/// What to generate. `Default` is 10,000 cases in 東京都 and 神奈川県 from
/// 2020-03-01 to 2022-09-25 (the eve of the switch to total-count reporting),
/// seed 42, with invented health centres.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    pub seed: u64,
    /// How many cases the iterator yields.
    pub cases: usize,
    pub region: Region,
    /// First possible diagnosis date.
    pub start: NaiveDate,
    /// Last possible date of anything: the "today" of the generated data.
    pub end: NaiveDate,
    /// Health centres to assign cases to. Municipalities of the region that no
    /// entry covers get an invented health centre (as `HealthCentreDef::invent`),
    /// so an empty list means "invent them all".
    pub health_centres: Vec<HealthCentreDef>,
    /// The last wave peaks at `end` instead of having passed: a desk in the
    /// middle of a surge, with cases in every stage (demo desks).
    pub surge_at_end: bool,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        let region = Region::default();
        GeneratorConfig {
            seed: 42,
            cases: 10_000,
            health_centres: HealthCentreDef::invent(&region),
            region,
            start: NaiveDate::from_ymd_opt(2020, 3, 1).expect("date"),
            end: NaiveDate::from_ymd_opt(2022, 9, 25).expect("date"),
            surge_at_end: false,
        }
    }
}

/// A configuration the generator cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("start date {start} is after end date {end} / 開始日が終了日より後です")]
    StartAfterEnd { start: NaiveDate, end: NaiveDate },
    #[error("the region names no prefecture / 地域に都道府県がありません")]
    EmptyRegion,
    #[error("{0} is not a prefecture number (1–47) / 都道府県番号ではありません")]
    UnknownPrefecture(u8),
}
