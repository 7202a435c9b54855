//! Public reference data: the 47 prefectures (都道府県), the 1,916
//! municipalities and wards (市区町村), and the 2020 census population of each
//! prefecture.
//!
//! The CSV files are embedded in the binary (`include_str!`) and parsed once,
//! lazily, on first use; every accessor then hands out `&'static` data.
//! Nothing here does I/O.
//!
//! # Sources
//!
//! | file | source | licence |
//! |---|---|---|
//! | `data/prefectures.csv` | code4fukui/localgovjp, `20211101/prefjp-utf8.csv` | CC0 |
//! | `data/municipalities.csv` | code4fukui/localgovjp, `20211101/localgovjp-utf8.csv` | CC0 |
//! | `data/population_2020_census.csv` | Statistics Bureau of Japan, 令和2年国勢調査 (2020 census), prefecture totals | facts |
//!
//! Local-government codes (全国地方公共団体コード) are the 6-digit form with
//! the check digit, as strings ("130001" for Tokyo, "131016" for Chiyoda):
//! leading zeros matter ("010006" is Hokkaido).

use std::sync::OnceLock;

const PREFECTURES_CSV: &str = include_str!("../data/prefectures.csv");
const MUNICIPALITIES_CSV: &str = include_str!("../data/municipalities.csv");
const POPULATION_CSV: &str = include_str!("../data/population_2020_census.csv");

/// 都道府県 — a prefecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefecture {
    /// 1..=47, the JIS X 0401 number (the first two digits of its codes).
    pub number: u8,
    /// Full name with its suffix: "北海道", "東京都", "京都府", "青森県".
    pub name: &'static str,
    /// Reading in hiragana: "とうきょうと".
    pub kana: &'static str,
    /// Name without the 都/府/県 suffix: "東京", "京都" ("北海道" keeps its name).
    pub short: &'static str,
    /// "Tokyo".
    pub english: &'static str,
    /// 6-digit 全国地方公共団体コード of the prefecture: "130001".
    pub lgcode: &'static str,
    /// ISO 3166-2 code: "JP-13".
    pub iso: &'static str,
}

impl Prefecture {
    /// The two-digit number as used in `Address::prefecture_code` ("01", "13").
    pub fn code2(&self) -> String {
        format!("{:02}", self.number)
    }
}

/// 市区町村 — a municipality, or a ward (区) of a designated city.
///
/// Wards of designated cities are listed after their city and named with a
/// space: "札幌市 中央区". Tokyo's special wards (特別区) are plain: "千代田区".
#[derive(Debug, Clone, PartialEq)]
pub struct Municipality {
    pub prefecture_number: u8,
    pub name: &'static str,
    /// Reading in hiragana, with a space before a ward's reading like the name.
    pub kana: &'static str,
    /// 6-digit 全国地方公共団体コード: "131016".
    pub lgcode: &'static str,
    pub lat: f64,
    pub lng: f64,
}

struct Tables {
    prefectures: Vec<Prefecture>,
    municipalities: Vec<Municipality>,
    /// Index into `municipalities`: prefecture number → range (the file is
    /// ordered by prefecture).
    ranges: [(usize, usize); 48],
    population: [u64; 48],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(load)
}

/// Splits one CSV line into fields. Quoted fields are returned with their
/// quotes; none of the fields read here is ever quoted (a test checks).
fn split_line(line: &'static str) -> Vec<&'static str> {
    let mut fields = Vec::with_capacity(10);
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                fields.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(&line[start..]);
    fields
}

fn rows(csv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    csv.strip_prefix('\u{feff}').unwrap_or(csv).lines().skip(1).map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty()).map(split_line)
}

fn load() -> Tables {
    // The embedded files are fixed at build time; the tests prove they parse,
    // so a failure here is a build defect, not a runtime condition.
    let prefectures: Vec<Prefecture> = rows(PREFECTURES_CSV)
        .map(|f| Prefecture {
            number: f[0].parse().expect("prefectures.csv: pid"),
            name: f[1],
            kana: f[2],
            short: f[3],
            english: f[5],
            lgcode: f[8],
            iso: f[9],
        })
        .collect();
    let municipalities: Vec<Municipality> = rows(MUNICIPALITIES_CSV)
        .map(|f| Municipality {
            prefecture_number: f[0].parse().expect("municipalities.csv: pid"),
            name: f[3],
            kana: f[4],
            lat: f[5].parse().expect("municipalities.csv: lat"),
            lng: f[6].parse().expect("municipalities.csv: lng"),
            lgcode: f[9],
        })
        .collect();
    let mut ranges = [(0usize, 0usize); 48];
    for (i, m) in municipalities.iter().enumerate() {
        let r = &mut ranges[m.prefecture_number as usize];
        if r.1 == 0 {
            *r = (i, i + 1);
        } else {
            debug_assert_eq!(r.1, i, "municipalities.csv must be ordered by prefecture");
            r.1 = i + 1;
        }
    }
    let mut population = [0u64; 48];
    for f in rows(POPULATION_CSV) {
        let n: usize = f[0].parse().expect("population csv: pid");
        population[n] = f[4].parse().expect("population csv: population");
    }
    Tables { prefectures, municipalities, ranges, population }
}

/// The 47 prefectures, in number order (北海道 first, 沖縄県 last).
pub fn prefectures() -> &'static [Prefecture] {
    &tables().prefectures
}

/// Every municipality and ward, ordered by prefecture then code.
pub fn municipalities() -> &'static [Municipality] {
    &tables().municipalities
}

/// The municipalities and wards of one prefecture (empty for an unknown number).
pub fn municipalities_of(prefecture_number: u8) -> &'static [Municipality] {
    let t = tables();
    match t.ranges.get(prefecture_number as usize) {
        Some(&(a, b)) => &t.municipalities[a..b],
        None => &[],
    }
}

/// Population of a prefecture in the 2020 census (令和2年国勢調査); 0 for a
/// number that is not a prefecture.
pub fn population_2020(prefecture_number: u8) -> u64 {
    tables().population.get(prefecture_number as usize).copied().unwrap_or(0)
}

/// Population of Japan in the 2020 census: 126,146,099.
pub fn population_2020_total() -> u64 {
    tables().population.iter().sum()
}

/// A prefecture by its number (1..=47).
pub fn prefecture(number: u8) -> Option<&'static Prefecture> {
    prefectures().get((number as usize).checked_sub(1)?)
}

/// A prefecture by its 6-digit code ("130001"), or by the 2-digit number
/// as a string ("13").
pub fn prefecture_by_lgcode(code: &str) -> Option<&'static Prefecture> {
    let code = code.trim();
    match code.len() {
        2 => prefecture(code.parse().ok()?),
        _ => prefectures().iter().find(|p| p.lgcode == code),
    }
}

/// A prefecture by name, with or without its 都/道/府/県 suffix ("東京都",
/// "東京"; "京都府", "京都"). Surrounding spaces are ignored.
pub fn prefecture_by_name(name: &str) -> Option<&'static Prefecture> {
    let name = name.trim_matches(is_space);
    if name.is_empty() {
        return None;
    }
    prefectures().iter().find(|p| p.name == name || p.short == name)
}

/// The prefecture whose full name `text` starts with ("神奈川県川崎市" →
/// 神奈川県), with the rest of the text.
pub fn prefecture_prefix(text: &str) -> Option<(&'static Prefecture, &str)> {
    let text = text.trim_start_matches(is_space);
    prefectures().iter().find_map(|p| text.strip_prefix(p.name).map(|rest| (p, rest)))
}

/// A municipality or ward by its 6-digit code ("131016").
pub fn municipality_by_lgcode(code: &str) -> Option<&'static Municipality> {
    let code = code.trim();
    let pref: u8 = code.get(..2)?.parse().ok()?;
    municipalities_of(pref).iter().find(|m| m.lgcode == code)
}

/// A municipality or ward within a prefecture by name. Spaces (half- and
/// full-width) are ignored, so "札幌市中央区" and "札幌市 中央区" both find the
/// ward.
pub fn municipality_by_name(prefecture_number: u8, name: &str) -> Option<&'static Municipality> {
    let wanted: String = name.chars().filter(|c| !is_space(*c)).collect();
    if wanted.is_empty() {
        return None;
    }
    municipalities_of(prefecture_number).iter().find(|m| m.name.chars().filter(|c| !is_space(*c)).eq(wanted.chars()))
}

/// The check digit of a 5-digit local-government code (JIS X 0402 / 総務省
/// 全国地方公共団体コード): "13101" → '6'.
pub fn lgcode_check_digit(five: &str) -> Option<char> {
    let b = five.as_bytes();
    if b.len() != 5 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b.iter().zip([6u32, 5, 4, 3, 2]).map(|(d, w)| (d - b'0') as u32 * w).sum();
    // 11 minus the remainder, ones digit only (so remainder 0 gives 1, 1 gives 0).
    let digit = (11 - sum % 11) % 10;
    char::from_digit(digit, 10)
}

/// True for a 6-digit code whose last digit is the check digit of the first five.
pub fn is_valid_lgcode(code: &str) -> bool {
    code.len() == 6 && code.is_char_boundary(5) && lgcode_check_digit(&code[..5]) == code[5..].chars().next()
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\u{3000}' || c == '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_totals() {
        assert_eq!(prefectures().len(), 47);
        assert_eq!(municipalities().len(), 1916);
        assert_eq!(population_2020_total(), 126_146_099);
        let by_pref: u64 = (1..=47).map(population_2020).sum();
        assert_eq!(by_pref, 126_146_099);
        assert_eq!(population_2020(0), 0);
        assert_eq!(population_2020(48), 0);
        assert_eq!(population_2020(13), 14_047_594);
    }

    #[test]
    fn tokyo() {
        let t = prefecture(13).unwrap();
        assert_eq!(t.name, "東京都");
        assert_eq!(t.short, "東京");
        assert_eq!(t.kana, "とうきょうと");
        assert_eq!(t.english, "Tokyo");
        assert_eq!(t.lgcode, "130001");
        assert_eq!(t.iso, "JP-13");
        assert_eq!(t.code2(), "13");
        assert_eq!(prefecture_by_lgcode("130001"), Some(t));
        assert_eq!(prefecture_by_lgcode("13"), Some(t));
        assert_eq!(prefecture_by_name("東京都"), Some(t));
        assert_eq!(prefecture_by_name(" 東京 "), Some(t));
        assert_eq!(municipalities_of(13).len(), 62);
    }

    #[test]
    fn names_with_and_without_suffix() {
        assert_eq!(prefecture_by_name("北海道").unwrap().number, 1);
        assert_eq!(prefecture_by_name("京都府").unwrap().number, 26);
        assert_eq!(prefecture_by_name("京都").unwrap().number, 26);
        assert_eq!(prefecture_by_name("大阪").unwrap().number, 27);
        assert_eq!(prefecture_by_name("沖縄県").unwrap().lgcode, "470007");
        assert_eq!(prefecture_by_name(""), None);
        assert_eq!(prefecture_by_name("東京都千代田区"), None);
        let (p, rest) = prefecture_prefix("神奈川県川崎市").unwrap();
        assert_eq!((p.number, rest), (14, "川崎市"));
        assert!(prefecture_prefix("湖北省武漢市").is_none());
    }

    #[test]
    fn municipalities_by_code_and_name() {
        let chiyoda = municipality_by_lgcode("131016").unwrap();
        assert_eq!((chiyoda.name, chiyoda.kana, chiyoda.prefecture_number), ("千代田区", "ちよだく", 13));
        assert_eq!(municipality_by_name(13, "千代田区"), Some(chiyoda));
        assert_eq!(municipality_by_name(1, "札幌市中央区").unwrap().lgcode, "011011");
        assert_eq!(municipality_by_name(1, "札幌市　中央区").unwrap().lgcode, "011011");
        // Same name in two prefectures: 府中市 (Tokyo, Hiroshima).
        assert_eq!(municipality_by_name(13, "府中市").unwrap().lgcode, "132063");
        assert_eq!(municipality_by_name(34, "府中市").unwrap().lgcode, "342084");
        assert_eq!(municipality_by_name(13, "札幌市"), None);
        assert_eq!(municipality_by_name(99, "札幌市"), None);
        assert_eq!(municipality_by_lgcode("x"), None);
        assert_eq!(municipality_by_lgcode("991234"), None);
    }

    #[test]
    fn every_row_is_well_formed() {
        for (i, p) in prefectures().iter().enumerate() {
            assert_eq!(p.number as usize, i + 1);
            assert!(is_valid_lgcode(p.lgcode), "{}", p.lgcode);
            assert!(p.lgcode.starts_with(&p.code2()));
            assert_eq!(p.iso, format!("JP-{:02}", p.number));
            assert!(!p.name.contains('"') && !p.english.is_empty());
        }
        for m in municipalities() {
            assert!(is_valid_lgcode(m.lgcode), "{} {}", m.name, m.lgcode);
            assert!(m.lgcode.starts_with(&format!("{:02}", m.prefecture_number)));
            assert!(!m.name.is_empty() && !m.name.contains('"') && !m.kana.contains('"'));
            assert!((20.0..46.0).contains(&m.lat) && (122.0..154.0).contains(&m.lng), "{}", m.name);
        }
    }

    #[test]
    fn check_digit() {
        assert_eq!(lgcode_check_digit("13101"), Some('6'));
        assert_eq!(lgcode_check_digit("01000"), Some('6'));
        assert_eq!(lgcode_check_digit("1310"), None);
        assert!(is_valid_lgcode("130001"));
        assert!(!is_valid_lgcode("130002"));
        assert!(!is_valid_lgcode("13000"));
    }
}
