//! フリガナ search keys: hiragana, katakana, half-width and full-width meet.

use todoke_domain::kana::{is_kana, search_key};

#[test]
fn hiragana_katakana_and_half_width_give_one_key() {
    let key = search_key("やまだ たろう");
    assert_eq!(key, "ヤマダタロウ");
    assert_eq!(search_key("ヤマダ タロウ"), key);
    assert_eq!(search_key("ﾔﾏﾀﾞ ﾀﾛｳ"), key);
    assert_eq!(search_key("ヤマダ　タロウ"), key, "full-width space");
    assert_eq!(search_key("やまだ\tﾀﾛｳ"), key, "mixed");
}

#[test]
fn half_width_voiced_marks_join_their_kana() {
    assert_eq!(search_key("ｶﾞｷﾞｸﾞｹﾞｺﾞ"), "ガギグゲゴ");
    assert_eq!(search_key("ｻﾞｼﾞｽﾞｾﾞｿﾞ ﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞ"), "ザジズゼゾダヂヅデド");
    assert_eq!(search_key("ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"), "バビブベボパピプペポ");
    assert_eq!(search_key("ｳﾞｧｲｵﾘﾝ"), "ヴァイオリン");
    assert_eq!(search_key("ﾜﾀﾅﾍﾞ ｹﾝｲﾁ"), search_key("わたなべ けんいち"));
}

#[test]
fn decomposed_voiced_marks_join_too() {
    // As some input methods and macOS file names produce them.
    assert_eq!(search_key("カ\u{3099}ッコウ"), "ガッコウ");
    assert_eq!(search_key("は\u{309A}ん"), "パン");
}

#[test]
fn a_stray_voiced_mark_is_kept_not_lost() {
    assert_eq!(search_key("ｱﾞ"), "ア゛");
    assert_eq!(search_key("ﾞ"), "゛");
}

#[test]
fn full_width_letters_and_digits_become_lowercase_ascii() {
    assert_eq!(search_key("ＡＢＣ"), "abc");
    assert_eq!(search_key("ＡＢＣ"), search_key("abc"));
    assert_eq!(search_key("Ｓｍｉｔｈ　Ｊｏｈｎ"), "smithjohn");
    assert_eq!(search_key("０９０－１２３４"), "090-1234");
}

#[test]
fn long_vowel_marks_are_kept_and_small_kana_stay_small() {
    assert_eq!(search_key("ｺｰﾋｰ"), "コーヒー");
    assert_eq!(search_key("こーひー"), "コーヒー");
    assert_ne!(search_key("キョウコ"), search_key("キヨウコ"));
    assert_eq!(search_key("ｷｮｳｺ"), "キョウコ");
}

#[test]
fn the_name_separator_is_ignored_like_a_space() {
    assert_eq!(search_key("ジョン・スミス"), search_key("じょん すみす"));
    assert_eq!(search_key("ｼﾞｮﾝ･ｽﾐｽ"), "ジョンスミス");
}

#[test]
fn kanji_pass_through_so_prefixes_of_keys_are_prefixes_of_names() {
    assert_eq!(search_key("山田 花子"), "山田花子");
    let stored = search_key("ヤマダ ハナコ");
    assert!(stored.starts_with(&search_key("やまだ は")));
    assert!(stored.starts_with(&search_key("ﾔﾏﾀﾞ")));
}

#[test]
fn is_kana_accepts_readings_and_refuses_anything_else() {
    for reading in ["やまだ はなこ", "ヤマダ　ハナコ", "ﾔﾏﾀﾞ ﾊﾅｺ", "ジョン・スミス", "コーヒー", "ゔぁ"]
    {
        assert!(is_kana(reading), "{reading}");
    }
    for other in ["", "  ", "山田", "Yamada", "やまだ1", "・"] {
        assert!(!is_kana(other), "{other:?}");
    }
}
