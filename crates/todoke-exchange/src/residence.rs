//! Placing a published residence (患者_居住地) on the map of local
//! governments, through `todoke-refdata`.
//!
//! Published residences are free text: a ward ("世田谷区"), a ward of the
//! publishing city ("中区" in Hamamatsu's file), "都内", another prefecture
//! ("神奈川県", "埼玉県川口市"), a foreign place ("湖北省武漢市"), or a word
//! ("調査中", "都外"). Only what can be placed unambiguously gets a code.

use std::collections::HashMap;

use todoke_refdata::{Municipality, Prefecture};

/// Codes for an `Address`: 2-digit prefecture number, 6-digit municipality code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Placed {
    pub prefecture_code: String,
    pub municipality_code: String,
}

impl Placed {
    fn prefecture(p: &Prefecture) -> Self {
        Placed { prefecture_code: p.code2(), municipality_code: String::new() }
    }
    fn municipality(m: &Municipality) -> Self {
        Placed { prefecture_code: format!("{:02}", m.prefecture_number), municipality_code: m.lgcode.to_string() }
    }
}

/// The publisher of a file row: the prefecture and, for a city's file, the city.
#[derive(Clone, Copy, Default)]
pub(crate) struct Publisher {
    pub prefecture: Option<&'static Prefecture>,
    pub municipality: Option<&'static Municipality>,
}

impl Publisher {
    /// From 全国地方公共団体コード (6-digit form) and the 都道府県名 / 市区町村名 columns.
    pub fn resolve(code: Option<&str>, prefecture_name: &str, municipality_name: &str) -> Publisher {
        let mut prefecture = None;
        let mut municipality = None;
        if let Some(code) = code {
            prefecture = todoke_refdata::prefecture_by_lgcode(code);
            if prefecture.is_none() {
                municipality = todoke_refdata::municipality_by_lgcode(code);
                prefecture = municipality.and_then(|m| todoke_refdata::prefecture(m.prefecture_number));
            }
        }
        if prefecture.is_none() {
            prefecture = todoke_refdata::prefecture_by_name(prefecture_name);
        }
        if municipality.is_none() {
            if let Some(p) = prefecture {
                municipality = todoke_refdata::municipality_by_name(p.number, municipality_name);
            }
        }
        Publisher { prefecture, municipality }
    }
}

fn place(text: &str, publisher: Publisher) -> Placed {
    let t: String = text.chars().filter(|c| !matches!(c, ' ' | '\u{3000}' | '\t')).collect();
    if t.is_empty() {
        return Placed::default();
    }
    if let Some((p, rest)) = todoke_refdata::prefecture_prefix(&t) {
        if rest.is_empty() {
            return Placed::prefecture(p);
        }
        return match todoke_refdata::municipality_by_name(p.number, rest) {
            Some(m) => Placed::municipality(m),
            None => Placed::prefecture(p),
        };
    }
    if let Some(p) = publisher.prefecture {
        let inside = match p.name.chars().last() {
            Some('都') => "都内",
            Some('道') => "道内",
            Some('府') => "府内",
            _ => "県内",
        };
        if t == inside || t == p.short {
            return Placed::prefecture(p);
        }
        if let Some(m) = todoke_refdata::municipality_by_name(p.number, &t) {
            return Placed::municipality(m);
        }
    }
    if let Some(city) = publisher.municipality {
        if matches!(t.as_str(), "市内" | "区内" | "町内" | "村内") {
            return Placed::municipality(city);
        }
        // A ward of the publishing designated city: "中区" in Hamamatsu's file.
        let ward = format!("{}{}", city.name, t);
        if let Some(m) = todoke_refdata::municipality_by_name(city.prefecture_number, &ward) {
            return Placed::municipality(m);
        }
    }
    if publisher.prefecture.is_none() {
        // No context: only a name that exists once in Japan.
        let mut found = todoke_refdata::municipalities().iter().filter(|m| m.name.chars().filter(|c| *c != ' ').eq(t.chars()));
        if let (Some(m), None) = (found.next(), found.next()) {
            return Placed::municipality(m);
        }
    }
    Placed::default()
}

/// Remembers placements: a file repeats a few hundred residences a million times.
#[derive(Default)]
pub(crate) struct ResidenceCache {
    map: HashMap<(String, u8, String), Placed>,
}

const CACHE_LIMIT: usize = 20_000;

impl ResidenceCache {
    pub fn place(&mut self, text: &str, publisher: Publisher) -> Placed {
        let key = (
            text.to_string(),
            publisher.prefecture.map_or(0, |p| p.number),
            publisher.municipality.map_or(String::new(), |m| m.lgcode.to_string()),
        );
        if let Some(p) = self.map.get(&key) {
            return p.clone();
        }
        let placed = place(text, publisher);
        if self.map.len() < CACHE_LIMIT {
            self.map.insert(key, placed.clone());
        }
        placed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str, p: Publisher) -> (String, String) {
        let x = place(text, p);
        (x.prefecture_code, x.municipality_code)
    }

    fn c(a: &str, b: &str) -> (String, String) {
        (a.into(), b.into())
    }

    #[test]
    fn places() {
        let tokyo = Publisher::resolve(Some("130001"), "東京都", "");
        assert_eq!(codes("世田谷区", tokyo), c("13", "131121"));
        assert_eq!(codes("都内", tokyo), c("13", ""));
        assert_eq!(codes("八王子市", tokyo), c("13", "132012"));
        assert_eq!(codes("神奈川県", tokyo), c("14", ""));
        assert_eq!(codes("埼玉県川口市", tokyo), c("11", "112038"));
        assert_eq!(codes("湖北省武漢市", tokyo), c("", ""));
        assert_eq!(codes("調査中", tokyo), c("", ""));
        assert_eq!(codes("都外", tokyo), c("", ""));
        assert_eq!(codes("", tokyo), c("", ""));
        let hamamatsu = Publisher::resolve(Some("221309"), "静岡県", "浜松市");
        assert_eq!(hamamatsu.municipality.unwrap().name, "浜松市");
        assert_eq!(codes("浜北区", hamamatsu), c("22", "221368"));
        assert_eq!(codes("市内", hamamatsu), c("22", "221309"));
        let by_name = Publisher::resolve(None, "北海道", "");
        assert_eq!(codes("札幌市中央区", by_name), c("01", "011011"));
        let nobody = Publisher::default();
        assert_eq!(codes("八王子市", nobody), c("13", "132012"));
        assert_eq!(codes("府中市", nobody), c("", ""));
    }
}
