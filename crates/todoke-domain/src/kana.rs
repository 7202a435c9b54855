//! フリガナ search: a key under which hiragana, katakana, half-width katakana
//! and full-width letters all meet (DOMAIN.md §3.1).
//!
//! The desk stores `search_key(name_kana)` next to the name and searches by
//! prefix on it, so the same function must fold both the stored reading and
//! what the user types. It runs once per keystroke and once per imported row:
//! one pass, no allocation besides the output.

/// Folds a name or reading into its search key:
///
/// - hiragana → katakana (やまだ → ヤマダ; ゝゞ → ヽヾ);
/// - half-width katakana → full-width, joining a following voiced or
///   semi-voiced mark (ｶﾞ → ガ, ﾊﾟ → パ, ｳﾞ → ヴ); combining marks
///   (U+3099, U+309A, as decomposed input carries them) are joined the same way;
/// - full-width ASCII → ASCII (ＡＢＣ → ABC), then ASCII → lowercase;
/// - spaces of any width and the name separator 「・」 are removed
///   (ジョン・スミス and ジョン スミス are one person to a searcher);
/// - the long-vowel mark ー is kept (ｰ becomes ー); small kana stay small.
///
/// Kanji and anything else pass through unchanged.
pub fn search_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            // Voiced / semi-voiced marks: join with what came before if it can take them.
            '\u{FF9E}' | '\u{3099}' | '\u{309B}' => push_mark(&mut out, Mark::Voiced, c),
            '\u{FF9F}' | '\u{309A}' | '\u{309C}' => push_mark(&mut out, Mark::SemiVoiced, c),
            c if c.is_whitespace() => {}
            '・' | '･' => {}
            // Hiragana ぁ..ゖ and the iteration marks ゝゞ.
            '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => {
                out.push(char::from_u32(c as u32 + 0x60).unwrap_or(c));
            }
            '\u{FF61}'..='\u{FF9D}' => out.push(HALF_WIDTH_KATAKANA[(c as u32 - 0xFF61) as usize]),
            // Full-width ASCII ！..～.
            '\u{FF01}'..='\u{FF5E}' => {
                let a = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
                out.push(a.to_ascii_lowercase());
            }
            c if c.is_ascii_uppercase() => out.push(c.to_ascii_lowercase()),
            c => out.push(c),
        }
    }
    out
}

/// True when `s` holds at least one kana and nothing but kana (hiragana,
/// katakana of either width, voiced marks, the long-vowel mark), spaces and
/// the separator 「・」: what a フリガナ field may contain.
pub fn is_kana(s: &str) -> bool {
    let mut any = false;
    for c in s.chars() {
        match c {
            '\u{3041}'..='\u{3096}' | '\u{3099}'..='\u{309E}' => any = true,
            // Katakana ァ..ヺ, ー, ヽヾ (but not the middle dot, counted below).
            '\u{30A1}'..='\u{30FA}' | '\u{30FC}'..='\u{30FE}' => any = true,
            // Half-width katakana ｦ..ﾟ (ｰ included).
            '\u{FF66}'..='\u{FF9F}' => any = true,
            '・' | '･' => {}
            c if c.is_whitespace() => {}
            _ => return false,
        }
    }
    any
}

#[derive(Clone, Copy)]
enum Mark {
    Voiced,
    SemiVoiced,
}

/// Joins a voiced or semi-voiced mark to the kana just pushed, or keeps the
/// mark (as its full-width spacing form) when nothing can take it.
fn push_mark(out: &mut String, mark: Mark, original: char) {
    if let Some(last) = out.chars().next_back() {
        if let Some(joined) = join_mark(last, mark) {
            out.pop();
            out.push(joined);
            return;
        }
    }
    out.push(match (mark, original) {
        (Mark::Voiced, '\u{FF9E}') => '゛',
        (Mark::SemiVoiced, '\u{FF9F}') => '゜',
        _ => original,
    });
}

/// The voiced (ガ) or semi-voiced (パ) form of a full-width katakana.
fn join_mark(c: char, mark: Mark) -> Option<char> {
    let code = c as u32;
    match mark {
        Mark::Voiced => match c {
            // In カ行, サ行, タ行 and ハ行 the voiced form is the next code point.
            'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ' | 'タ' | 'チ' | 'ツ' | 'テ' | 'ト' | 'ハ' | 'ヒ' | 'フ'
            | 'ヘ' | 'ホ' => char::from_u32(code + 1),
            'ウ' => Some('ヴ'),
            'ワ' => Some('ヷ'),
            'ヰ' => Some('ヸ'),
            'ヱ' => Some('ヹ'),
            'ヲ' => Some('ヺ'),
            'ヽ' => Some('ヾ'),
            _ => None,
        },
        Mark::SemiVoiced => match c {
            'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => char::from_u32(code + 2),
            _ => None,
        },
    }
}

/// Full-width forms of U+FF61..=U+FF9D, in code-point order.
const HALF_WIDTH_KATAKANA: [char; 61] = [
    '。', '「', '」', '、', '・', 'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ', // FF61..FF6F
    'ー', 'ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク', 'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', // FF70..FF7F
    'タ', 'チ', 'ツ', 'テ', 'ト', 'ナ', 'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ', 'フ', 'ヘ', 'ホ', 'マ', // FF80..FF8F
    'ミ', 'ム', 'メ', 'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ', 'ル', 'レ', 'ロ', 'ワ', 'ン', // FF90..FF9D
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voiced_forms_follow_the_code_point_pattern() {
        for (plain, voiced) in [('カ', 'ガ'), ('ソ', 'ゾ'), ('チ', 'ヂ'), ('ツ', 'ヅ'), ('ト', 'ド'), ('ホ', 'ボ')] {
            assert_eq!(join_mark(plain, Mark::Voiced), Some(voiced));
        }
        for (plain, semi) in [('ハ', 'パ'), ('ヒ', 'ピ'), ('フ', 'プ'), ('ヘ', 'ペ'), ('ホ', 'ポ')] {
            assert_eq!(join_mark(plain, Mark::SemiVoiced), Some(semi));
        }
        assert_eq!(join_mark('ア', Mark::Voiced), None);
        assert_eq!(join_mark('カ', Mark::SemiVoiced), None);
    }

    #[test]
    fn half_width_table_is_aligned() {
        assert_eq!(HALF_WIDTH_KATAKANA[(0xFF71 - 0xFF61) as usize], 'ア');
        assert_eq!(HALF_WIDTH_KATAKANA[(0xFF76 - 0xFF61) as usize], 'カ');
        assert_eq!(HALF_WIDTH_KATAKANA[(0xFF8A - 0xFF61) as usize], 'ハ');
        assert_eq!(HALF_WIDTH_KATAKANA[(0xFF9D - 0xFF61) as usize], 'ン');
    }
}
