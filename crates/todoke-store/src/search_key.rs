//! Normalised keys for searching names and phone numbers.
//!
//! Names fold through `todoke_domain::kana::search_key`, the one definition
//! of how names compare (hiragana, katakana, half- and full-width alike);
//! changing it means re-indexing stored keys with a migration.

/// The search key of a name or reading (see `todoke_domain::kana::search_key`).
pub(crate) fn search_key(text: &str) -> String {
    todoke_domain::kana::search_key(text)
}

/// Digits only (full-width digits folded); `+81` becomes a leading `0`.
pub(crate) fn phone_key(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| match c {
            '０'..='９' | '＋' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect();
    let trimmed = folded.trim_start();
    let digits: String = folded.chars().filter(char::is_ascii_digit).collect();
    match (trimmed.starts_with('+'), digits.strip_prefix("81")) {
        (true, Some(rest)) => format!("0{rest}"),
        _ => digits,
    }
}

/// Whether the text reads as a phone number being typed (digits and separators only).
pub(crate) fn looks_like_phone(text: &str) -> bool {
    let mut digits = 0;
    for c in text.chars() {
        match c {
            '0'..='9' | '０'..='９' => digits += 1,
            '-' | '－' | 'ー' | '(' | ')' | '（' | '）' | '+' | '＋' | ' ' | '　' => {}
            _ => return false,
        }
    }
    digits >= 2
}

/// The canonical (hyphenated, lower-case) prefix of a case id being typed,
/// when the text can be one: hex digits, optionally with the hyphens.
pub(crate) fn id_prefix(text: &str) -> Option<String> {
    let text = text.trim().to_ascii_lowercase();
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() < 4 || hex.len() > 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = String::with_capacity(36);
    for (i, c) in hex.chars().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        out.push(c);
    }
    // Hyphens typed anywhere but where an id has them: not an id (a phone number).
    let typed_hyphens_fit = !text.contains('-') || out.starts_with(text.trim_end_matches('-'));
    typed_hyphens_fit.then_some(out)
}

/// Whether the (folded) text has characters other than kana, ASCII and the
/// long-vowel mark: such a query is matched anywhere in the written name.
pub(crate) fn has_non_kana(key: &str) -> bool {
    key.chars().any(|c| !(c.is_ascii() || matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A1}'..='\u{30FE}')))
}

/// Index entries for substring search of a written name: the bigram that
/// starts at each character, and the last character alone. A query of one
/// character finds every gram starting with it; a longer query looks up its
/// first bigram and checks the whole name.
pub(crate) fn name_grams(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut grams: Vec<String> = (0..chars.len()).map(|i| chars[i..(i + 2).min(chars.len())].iter().collect()).collect();
    grams.sort();
    grams.dedup();
    grams
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kana_forms_compare_equal() {
        let k = search_key("ヤマダ タロウ");
        assert_eq!(search_key("やまだ　たろう"), k);
        assert_eq!(search_key("ﾔﾏﾀﾞ ﾀﾛｳ"), k);
        assert_eq!(search_key("ﾊﾟﾋﾟﾌﾟ"), search_key("ぱぴぷ"));
        assert_eq!(search_key("ＳＭＩＴＨ・ジョン"), search_key("smith じょん"));
    }

    #[test]
    fn phone_digits() {
        assert_eq!(phone_key("090-1234-5678"), "09012345678");
        assert_eq!(phone_key("(03) 1234 5678"), "0312345678");
        assert_eq!(phone_key("＋81 90 1234 5678"), "09012345678");
        assert!(looks_like_phone("090-12"));
        assert!(!looks_like_phone("0190a"));
    }

    #[test]
    fn id_prefixes() {
        assert_eq!(id_prefix("0190A6E4b").as_deref(), Some("0190a6e4-b"));
        assert_eq!(id_prefix("0190a6e4-b7").as_deref(), Some("0190a6e4-b7"));
        assert_eq!(id_prefix("abc"), None);
        assert_eq!(id_prefix("090-1234"), None);
        assert_eq!(id_prefix("やまだ"), None);
    }

    #[test]
    fn grams() {
        assert_eq!(name_grams("山田太郎"), ["太郎", "山田", "田太", "郎"]);
        assert_eq!(name_grams("林"), ["林"]);
        assert!(has_non_kana("山田"));
        assert!(!has_non_kana(&search_key("やまだー")));
        assert!(!has_non_kana("ヤマダ"));
    }
}
