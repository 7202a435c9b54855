//! Where cases live and are treated: real municipalities (from
//! `todoke-refdata`), invented health centres, clinics, hospitals and
//! recovery hotels tied to them, and plausible street addresses.

use std::collections::HashMap;

use rand::Rng;
use todoke_refdata::{municipalities_of, population_2020, prefecture, Municipality};

use crate::config::{ConfigError, GeneratorConfig, HealthCentreDef};
use crate::names::FAMILY_NAMES;

/// A clinic, hospital or hotel: enough to fill the notification header.
#[derive(Debug, Clone)]
pub(crate) struct Institution {
    pub code: String,
    pub name: String,
    pub address: String,
    pub phone: String,
}

/// A municipality (or ward) cases can live in.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub pref_number: u8,
    /// "13".
    pub pref_code: String,
    /// 6-digit code of the prefecture ("130001").
    pub pref_lgcode: &'static str,
    pub lgcode: &'static str,
    /// "東京都世田谷区", "神奈川県横浜市鶴見区": the start of an address.
    pub address_prefix: String,
    /// "世田谷", "鶴見": for naming things after the place.
    pub base: String,
    /// Index into `Places::health_centres`.
    pub hc: usize,
    pub clinics: Vec<Institution>,
    pub hospitals: Vec<Institution>,
    /// "港区", "横浜市港北区".
    pub name: String,
    /// Who runs public schools and the like: the city for a ward of a
    /// designated city ("横浜市"), else the place itself.
    pub operator: String,
    area_code: &'static str,
    /// First three digits of the place's postal codes.
    postal_head: u16,
}

pub(crate) struct Places {
    pub places: Vec<Place>,
    cumulative: Vec<f64>,
    pub health_centres: Vec<HealthCentreDef>,
    /// Recovery hotels (宿泊療養施設), per prefecture number.
    pub hotels: HashMap<u8, Vec<Institution>>,
}

/// Relative size of a municipality by kind, for want of municipal populations
/// in the reference data: a Tokyo special ward or a ward of a designated city
/// is big, a city middling, a town small, a village tiny. Within Tokyo and
/// Kanagawa this reproduces the real split (23 wards ≈ 2/3 of Tokyo, Yokohama
/// ≈ 2/5 of Kanagawa) to a few percent.
fn size_weight(m: &Municipality) -> f64 {
    let name = m.name;
    if name.contains(' ') {
        8.0
    } else if name.ends_with('区') {
        10.0
    } else if name.ends_with('市') {
        5.0
    } else if name.ends_with('町') {
        0.8
    } else {
        0.2
    }
}

/// Designated cities are listed with their wards; people live in the wards.
fn has_wards(m: &Municipality, all: &[Municipality]) -> bool {
    all.iter().any(|w| w.name.len() > m.name.len() && w.name.starts_with(m.name) && w.name.as_bytes()[m.name.len()] == b' ')
}

fn base_name(name: &str) -> String {
    let last = name.rsplit(' ').next().unwrap_or(name);
    let trimmed = last.trim_end_matches(['市', '区', '町', '村']);
    if trimmed.is_empty() {
        last.to_string()
    } else {
        trimmed.to_string()
    }
}

pub(crate) fn invent_health_centres(pref_number: u8) -> Vec<HealthCentreDef> {
    let Some(pref) = prefecture(pref_number) else { return Vec::new() };
    let mut out: Vec<HealthCentreDef> = Vec::new();
    let mut by_city: HashMap<&str, usize> = HashMap::new();
    let mut by_block: HashMap<&str, usize> = HashMap::new();
    for m in municipalities_of(pref_number) {
        let code = m.lgcode.to_string();
        if let Some((city, _)) = m.name.split_once(' ') {
            if let Some(&i) = by_city.get(city) {
                out[i].municipality_codes.push(code);
                continue;
            }
        }
        if m.name.ends_with('市') || m.name.ends_with('区') {
            by_city.insert(m.name, out.len());
            out.push(HealthCentreDef {
                code: format!("HC{}", m.lgcode),
                name: format!("{}保健所", m.name.replace(' ', "")),
                prefecture_number: pref_number,
                municipality_codes: vec![code],
            });
        } else {
            let block = &m.lgcode[..4];
            if let Some(&i) = by_block.get(block) {
                out[i].municipality_codes.push(code);
            } else {
                by_block.insert(block, out.len());
                out.push(HealthCentreDef {
                    code: format!("HC{}", m.lgcode),
                    name: format!("{}{}保健所", pref.name, base_name(m.name)),
                    prefecture_number: pref_number,
                    municipality_codes: vec![code],
                });
            }
        }
    }
    out
}

const TOWNS: &[&str] = &[
    "本町",
    "中央",
    "栄町",
    "緑町",
    "旭町",
    "宮前",
    "東町",
    "西町",
    "南町",
    "北町",
    "幸町",
    "富士見",
    "桜町",
    "若葉",
    "松が丘",
    "青葉台",
    "泉町",
    "寿町",
    "末広町",
    "錦町",
    "仲町",
    "新町",
    "元町",
    "大和町",
    "日の出町",
    "昭和町",
    "住吉町",
    "弥生町",
    "曙町",
    "城山",
    "中町",
    "大町",
    "千歳町",
    "平和台",
    "希望が丘",
    "緑が丘",
    "花園",
    "宮本町",
    "天神町",
    "八幡町",
];

const BUILDINGS: &[&str] = &["ハイツ", "コーポ", "グリーンコート", "メゾン", "パークハイム", "サンライズ", "レジデンス", "ハイム"];

impl Place {
    /// Appends a street address in this place: "東京都世田谷区本町2-3-4".
    pub(crate) fn push_street_address<R: Rng>(&self, rng: &mut R, out: &mut String) {
        use std::fmt::Write;
        out.push_str(&self.address_prefix);
        out.push_str(TOWNS[rng.gen_range(0..TOWNS.len())]);
        let _ = write!(out, "{}-{}-{}", rng.gen_range(1..=5), rng.gen_range(1..=30), rng.gen_range(1..=20));
        if rng.gen_bool(0.35) {
            let b = BUILDINGS[rng.gen_range(0..BUILDINGS.len())];
            let _ = write!(out, " {}{} {}0{}", self.base, b, rng.gen_range(1..=8), rng.gen_range(1..=9));
        }
    }

    pub(crate) fn street_address<R: Rng>(&self, rng: &mut R) -> String {
        let mut s = String::with_capacity(64);
        self.push_street_address(rng, &mut s);
        s
    }

    /// A postal code of the place ("154-0004" style).
    pub(crate) fn postal_code<R: Rng>(&self, rng: &mut R) -> String {
        format!("{:03}-{:02}{:02}", self.postal_head, rng.gen_range(0..100), rng.gen_range(0..100) / 10 * 10)
    }

    /// A landline number with the place's area code: "03-5432-1234".
    pub(crate) fn landline<R: Rng>(&self, rng: &mut R) -> String {
        let digits_left = 10 - self.area_code.len();
        let middle = digits_left - 4;
        let m = rng.gen_range(10u32.pow(middle as u32 - 1)..10u32.pow(middle as u32));
        format!("{}-{}-{:04}", self.area_code, m, rng.gen_range(0..10_000))
    }
}

impl Places {
    pub(crate) fn new<R: Rng>(rng: &mut R, config: &GeneratorConfig) -> Result<Places, ConfigError> {
        let prefs = config.region.prefecture_numbers();
        if prefs.is_empty() {
            return Err(ConfigError::EmptyRegion);
        }
        let mut health_centres: Vec<HealthCentreDef> = Vec::new();
        let mut hc_of: HashMap<String, usize> = HashMap::new();
        for hc in &config.health_centres {
            let i = health_centres.len();
            for code in &hc.municipality_codes {
                hc_of.entry(code.clone()).or_insert(i);
            }
            health_centres.push(hc.clone());
        }

        let mut places = Vec::new();
        let mut cumulative = Vec::new();
        let mut hotels = HashMap::new();
        let mut acc = 0.0;
        for &n in &prefs {
            let pref = prefecture(n).ok_or(ConfigError::UnknownPrefecture(n))?;
            let munis = municipalities_of(n);
            let invented = invent_health_centres(n);
            let population = population_2020(n) as f64;
            let residential: Vec<&Municipality> = munis.iter().filter(|m| !has_wards(m, munis)).collect();
            let total_weight: f64 = residential.iter().map(|m| size_weight(m)).sum();
            let first_place = places.len();
            for m in residential {
                // A ward is covered by an entry naming it or its city.
                let city_code = m.name.split_once(' ').and_then(|(city, _)| munis.iter().find(|c| c.name == city)).map(|c| c.lgcode);
                let configured = hc_of.get(m.lgcode).or_else(|| city_code.and_then(|c| hc_of.get(c)));
                let hc = match configured {
                    Some(&i) => i,
                    None => {
                        // Not covered by the configuration: use (or add) the invented one.
                        let def = invented
                            .iter()
                            .find(|d| d.municipality_codes.iter().any(|c| c == m.lgcode))
                            .expect("invented health centres cover every municipality");
                        match health_centres.iter().position(|h| h.code == def.code) {
                            Some(i) => i,
                            None => {
                                health_centres.push(def.clone());
                                health_centres.len() - 1
                            }
                        }
                    }
                };
                hc_of.insert(m.lgcode.to_string(), hc);
                let base = base_name(m.name);
                let address_prefix = format!("{}{}", pref.name, m.name.replace(' ', ""));
                let (lo, hi) = postal_range(n);
                let mut place = Place {
                    pref_number: n,
                    pref_code: pref.code2(),
                    pref_lgcode: pref.lgcode,
                    lgcode: m.lgcode,
                    address_prefix,
                    base,
                    hc,
                    clinics: Vec::new(),
                    hospitals: Vec::new(),
                    name: m.name.replace(' ', ""),
                    operator: m.name.split(' ').next().unwrap_or(m.name).to_string(),
                    area_code: area_code(n, m.name),
                    postal_head: rng.gen_range(lo..=hi),
                };
                place.clinics = invent_clinics(rng, &place);
                place.hospitals = invent_hospitals(rng, &place, pref.short);
                acc += population * size_weight(m) / total_weight;
                cumulative.push(acc);
                places.push(place);
            }
            // Three recovery hotels per prefecture, in its busiest places.
            let mut list = Vec::new();
            for k in 0..3 {
                let p = &places[first_place + (k * 7) % (places.len() - first_place)];
                list.push(Institution {
                    code: format!("FA{}{:02}", p.lgcode, k + 1),
                    name: format!("{}宿泊療養施設（{}）", pref.short, p.base),
                    address: p.street_address(rng),
                    phone: p.landline(rng),
                });
            }
            hotels.insert(n, list);
        }
        Ok(Places { places, cumulative, health_centres, hotels })
    }

    /// A place drawn in proportion to its (estimated) population.
    pub(crate) fn pick<R: Rng>(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().expect("places");
        let x = rng.gen_range(0.0..total);
        self.cumulative.partition_point(|&c| c <= x).min(self.places.len() - 1)
    }

    /// A place in the same prefecture as `near`, sometimes `near` itself.
    pub(crate) fn neighbour<R: Rng>(&self, rng: &mut R, near: usize) -> usize {
        let n = self.places[near].pref_number;
        for _ in 0..4 {
            let p = self.pick(rng);
            if self.places[p].pref_number == n {
                return p;
            }
        }
        near
    }
}

fn invent_clinics<R: Rng>(rng: &mut R, place: &Place) -> Vec<Institution> {
    const PATTERNS: &[&str] = &[
        "{b}内科クリニック",
        "{b}駅前クリニック",
        "{b}ファミリークリニック",
        "{b}中央医院",
        "{b}こどもクリニック",
        "{b}呼吸器内科クリニック",
        "{s}内科医院",
        "{s}クリニック",
        "{b}みなみ内科",
        "{b}発熱外来センター",
        "{s}医院",
        "{b}耳鼻咽喉科",
    ];
    let start = rng.gen_range(0..PATTERNS.len());
    (0..4)
        .map(|k| {
            let pattern = PATTERNS[(start + k * 5) % PATTERNS.len()];
            let surname = FAMILY_NAMES[rng.gen_range(0..40)].0;
            Institution {
                code: format!("CL{}{:02}", place.lgcode, k + 1),
                name: pattern.replace("{b}", &place.base).replace("{s}", surname),
                address: place.street_address(rng),
                phone: place.landline(rng),
            }
        })
        .collect()
}

fn invent_hospitals<R: Rng>(rng: &mut R, place: &Place, pref_short: &str) -> Vec<Institution> {
    let names =
        [format!("{}総合病院", place.base), format!("{}立{}医療センター", pref_short, place.base), format!("{}記念病院", place.base)];
    let start = rng.gen_range(0..names.len());
    (0..2)
        .map(|k| Institution {
            code: format!("HP{}{:02}", place.lgcode, k + 1),
            name: names[(start + k) % names.len()].clone(),
            address: place.street_address(rng),
            phone: place.landline(rng),
        })
        .collect()
}

/// Area code of the main landline exchange (ward or capital), as dialled
/// domestically.
fn area_code(pref: u8, name: &str) -> &'static str {
    match (pref, name) {
        (13, n) if n.ends_with('区') => "03",
        (14, n) if n.starts_with("横浜市") => "045",
        (14, n) if n.starts_with("川崎市") => "044",
        (14, n) if n.starts_with("相模原市") => "042",
        (27, n) if n.starts_with("大阪市") => "06",
        _ => AREA_CODES.get(pref as usize).copied().unwrap_or("03"),
    }
}

const AREA_CODES: [&str; 48] = [
    "03", "011", "017", "019", "022", "018", "023", "024", "029", "028", "027", "048", "043", "042", "046", "025", "076", "076", "0776",
    "055", "026", "058", "054", "052", "059", "077", "075", "072", "078", "0742", "073", "0857", "0852", "086", "082", "083", "088", "087",
    "089", "088", "092", "0952", "095", "096", "097", "0985", "099", "098",
];

/// First three digits of postal codes used in each prefecture.
fn postal_range(pref: u8) -> (u16, u16) {
    const RANGES: [(u16, u16); 48] = [
        (100, 208),
        (40, 99),
        (30, 39),
        (20, 29),
        (980, 989),
        (10, 19),
        (990, 999),
        (960, 979),
        (300, 319),
        (320, 329),
        (370, 379),
        (330, 369),
        (260, 299),
        (100, 208),
        (210, 259),
        (940, 959),
        (930, 939),
        (920, 929),
        (910, 919),
        (400, 409),
        (380, 399),
        (500, 509),
        (410, 439),
        (440, 498),
        (510, 519),
        (520, 529),
        (600, 629),
        (530, 599),
        (650, 679),
        (630, 639),
        (640, 649),
        (680, 689),
        (690, 699),
        (700, 719),
        (720, 739),
        (740, 759),
        (770, 779),
        (760, 769),
        (790, 799),
        (780, 789),
        (800, 839),
        (840, 849),
        (850, 859),
        (860, 869),
        (870, 879),
        (880, 889),
        (890, 899),
        (900, 909),
    ];
    RANGES.get(pref as usize).copied().unwrap_or((100, 208))
}
