//! Japanese family and given names with their katakana readings.
//!
//! Family-name weights are approximate holder counts in thousands, after the
//! published surname rankings (佐藤 ≈ 1.87 million, ...), so the mix of a
//! generated list looks like a real one. Given names come in three birth
//! cohorts, because 和子 and 陽翔 do not belong to the same generation.

use rand::Rng;

use todoke_domain::Sex;

/// (kanji, katakana, romaji for e-mail local parts, weight in thousands).
pub(crate) const FAMILY_NAMES: &[(&str, &str, &str, u32)] = &[
    ("佐藤", "サトウ", "sato", 1870),
    ("鈴木", "スズキ", "suzuki", 1790),
    ("高橋", "タカハシ", "takahashi", 1410),
    ("田中", "タナカ", "tanaka", 1330),
    ("伊藤", "イトウ", "ito", 1080),
    ("渡辺", "ワタナベ", "watanabe", 1070),
    ("山本", "ヤマモト", "yamamoto", 1070),
    ("中村", "ナカムラ", "nakamura", 1050),
    ("小林", "コバヤシ", "kobayashi", 1020),
    ("加藤", "カトウ", "kato", 890),
    ("吉田", "ヨシダ", "yoshida", 830),
    ("山田", "ヤマダ", "yamada", 810),
    ("佐々木", "ササキ", "sasaki", 680),
    ("山口", "ヤマグチ", "yamaguchi", 640),
    ("松本", "マツモト", "matsumoto", 630),
    ("井上", "イノウエ", "inoue", 610),
    ("木村", "キムラ", "kimura", 570),
    ("林", "ハヤシ", "hayashi", 540),
    ("斎藤", "サイトウ", "saito", 530),
    ("清水", "シミズ", "shimizu", 520),
    ("山崎", "ヤマザキ", "yamazaki", 480),
    ("森", "モリ", "mori", 470),
    ("池田", "イケダ", "ikeda", 440),
    ("橋本", "ハシモト", "hashimoto", 440),
    ("阿部", "アベ", "abe", 440),
    ("石川", "イシカワ", "ishikawa", 430),
    ("山下", "ヤマシタ", "yamashita", 420),
    ("中島", "ナカジマ", "nakajima", 410),
    ("石井", "イシイ", "ishii", 400),
    ("小川", "オガワ", "ogawa", 400),
    ("前田", "マエダ", "maeda", 390),
    ("岡田", "オカダ", "okada", 390),
    ("長谷川", "ハセガワ", "hasegawa", 380),
    ("藤田", "フジタ", "fujita", 380),
    ("後藤", "ゴトウ", "goto", 370),
    ("近藤", "コンドウ", "kondo", 370),
    ("村上", "ムラカミ", "murakami", 360),
    ("遠藤", "エンドウ", "endo", 340),
    ("青木", "アオキ", "aoki", 340),
    ("坂本", "サカモト", "sakamoto", 340),
    ("斉藤", "サイトウ", "saito", 330),
    ("福田", "フクダ", "fukuda", 330),
    ("太田", "オオタ", "ota", 330),
    ("西村", "ニシムラ", "nishimura", 320),
    ("藤井", "フジイ", "fujii", 320),
    ("金子", "カネコ", "kaneko", 310),
    ("岡本", "オカモト", "okamoto", 310),
    ("藤原", "フジワラ", "fujiwara", 310),
    ("中野", "ナカノ", "nakano", 300),
    ("三浦", "ミウラ", "miura", 300),
    ("原田", "ハラダ", "harada", 300),
    ("中川", "ナカガワ", "nakagawa", 300),
    ("松田", "マツダ", "matsuda", 300),
    ("竹内", "タケウチ", "takeuchi", 290),
    ("小野", "オノ", "ono", 290),
    ("田村", "タムラ", "tamura", 290),
    ("中山", "ナカヤマ", "nakayama", 280),
    ("和田", "ワダ", "wada", 280),
    ("石田", "イシダ", "ishida", 280),
    ("森田", "モリタ", "morita", 270),
    ("上田", "ウエダ", "ueda", 270),
    ("原", "ハラ", "hara", 270),
    ("内田", "ウチダ", "uchida", 260),
    ("柴田", "シバタ", "shibata", 260),
    ("酒井", "サカイ", "sakai", 260),
    ("宮崎", "ミヤザキ", "miyazaki", 250),
    ("横山", "ヨコヤマ", "yokoyama", 250),
    ("高木", "タカギ", "takagi", 250),
    ("安藤", "アンドウ", "ando", 250),
    ("宮本", "ミヤモト", "miyamoto", 240),
    ("大野", "オオノ", "ono", 240),
    ("小島", "コジマ", "kojima", 240),
    ("谷口", "タニグチ", "taniguchi", 230),
    ("今井", "イマイ", "imai", 230),
    ("工藤", "クドウ", "kudo", 230),
    ("高田", "タカダ", "takada", 230),
    ("増田", "マスダ", "masuda", 220),
    ("丸山", "マルヤマ", "maruyama", 220),
    ("杉山", "スギヤマ", "sugiyama", 220),
    ("村田", "ムラタ", "murata", 220),
    ("大塚", "オオツカ", "otsuka", 220),
    ("新井", "アライ", "arai", 210),
    ("小山", "コヤマ", "koyama", 210),
    ("平野", "ヒラノ", "hirano", 210),
    ("藤本", "フジモト", "fujimoto", 210),
    ("河野", "コウノ", "kono", 210),
    ("上野", "ウエノ", "ueno", 210),
    ("野口", "ノグチ", "noguchi", 200),
    ("武田", "タケダ", "takeda", 200),
    ("松井", "マツイ", "matsui", 200),
    ("千葉", "チバ", "chiba", 200),
    ("岩崎", "イワサキ", "iwasaki", 200),
    ("菅原", "スガワラ", "sugawara", 200),
    ("木下", "キノシタ", "kinoshita", 200),
    ("久保", "クボ", "kubo", 200),
    ("佐野", "サノ", "sano", 190),
    ("野村", "ノムラ", "nomura", 190),
    ("松尾", "マツオ", "matsuo", 190),
    ("市川", "イチカワ", "ichikawa", 190),
    ("菊地", "キクチ", "kikuchi", 190),
    ("杉本", "スギモト", "sugimoto", 190),
    ("古川", "フルカワ", "furukawa", 180),
    ("大西", "オオニシ", "onishi", 180),
    ("島田", "シマダ", "shimada", 180),
    ("水野", "ミズノ", "mizuno", 180),
    ("桜井", "サクライ", "sakurai", 180),
    ("高野", "タカノ", "takano", 180),
    ("渡部", "ワタナベ", "watanabe", 180),
    ("吉川", "ヨシカワ", "yoshikawa", 170),
    ("山内", "ヤマウチ", "yamauchi", 170),
    ("西田", "ニシダ", "nishida", 170),
    ("飯田", "イイダ", "iida", 170),
    ("菊池", "キクチ", "kikuchi", 170),
    ("西川", "ニシカワ", "nishikawa", 170),
    ("小松", "コマツ", "komatsu", 170),
    ("北村", "キタムラ", "kitamura", 170),
    ("安田", "ヤスダ", "yasuda", 170),
    ("五十嵐", "イガラシ", "igarashi", 170),
    ("川口", "カワグチ", "kawaguchi", 160),
    ("平田", "ヒラタ", "hirata", 160),
];

/// (kanji, katakana). Born before 1960.
const MALE_OLDER: &[(&str, &str)] = &[
    ("清", "キヨシ"),
    ("茂", "シゲル"),
    ("博", "ヒロシ"),
    ("実", "ミノル"),
    ("進", "ススム"),
    ("勇", "イサム"),
    ("弘", "ヒロシ"),
    ("正", "タダシ"),
    ("勝", "マサル"),
    ("修", "オサム"),
    ("明", "アキラ"),
    ("隆", "タカシ"),
    ("和夫", "カズオ"),
    ("正雄", "マサオ"),
    ("茂雄", "シゲオ"),
    ("武", "タケシ"),
    ("一郎", "イチロウ"),
    ("三郎", "サブロウ"),
    ("昭", "アキラ"),
    ("豊", "ユタカ"),
    ("稔", "ミノル"),
    ("幸雄", "ユキオ"),
    ("秀夫", "ヒデオ"),
    ("義男", "ヨシオ"),
    ("正義", "マサヨシ"),
    ("勝利", "カツトシ"),
    ("照夫", "テルオ"),
    ("敏夫", "トシオ"),
    ("健二", "ケンジ"),
    ("光男", "ミツオ"),
    ("久雄", "ヒサオ"),
    ("進一", "シンイチ"),
];

/// Born 1960–1989.
const MALE_MIDDLE: &[(&str, &str)] = &[
    ("誠", "マコト"),
    ("大輔", "ダイスケ"),
    ("拓也", "タクヤ"),
    ("健太", "ケンタ"),
    ("直樹", "ナオキ"),
    ("和也", "カズヤ"),
    ("達也", "タツヤ"),
    ("哲也", "テツヤ"),
    ("浩", "ヒロシ"),
    ("健一", "ケンイチ"),
    ("剛", "ツヨシ"),
    ("学", "マナブ"),
    ("聡", "サトシ"),
    ("亮", "リョウ"),
    ("大介", "ダイスケ"),
    ("慎一", "シンイチ"),
    ("隆之", "タカユキ"),
    ("秀樹", "ヒデキ"),
    ("洋平", "ヨウヘイ"),
    ("浩二", "コウジ"),
    ("智也", "トモヤ"),
    ("雄一", "ユウイチ"),
    ("裕介", "ユウスケ"),
    ("陽介", "ヨウスケ"),
    ("直人", "ナオト"),
    ("一", "ハジメ"),
    ("淳", "ジュン"),
    ("克也", "カツヤ"),
    ("康弘", "ヤスヒロ"),
    ("英明", "ヒデアキ"),
    ("伸也", "シンヤ"),
    ("祐一", "ユウイチ"),
];

/// Born 1990 or later.
const MALE_YOUNG: &[(&str, &str)] = &[
    ("翔", "ショウ"),
    ("蓮", "レン"),
    ("大翔", "ヒロト"),
    ("陽翔", "ハルト"),
    ("悠真", "ユウマ"),
    ("湊", "ミナト"),
    ("颯太", "ソウタ"),
    ("大和", "ヤマト"),
    ("陸", "リク"),
    ("樹", "イツキ"),
    ("悠斗", "ユウト"),
    ("蒼", "アオイ"),
    ("朝陽", "アサヒ"),
    ("結翔", "ユイト"),
    ("拓海", "タクミ"),
    ("翔太", "ショウタ"),
    ("大輝", "ダイキ"),
    ("颯", "ハヤテ"),
    ("陽太", "ヨウタ"),
    ("優斗", "ユウト"),
    ("海斗", "カイト"),
    ("蒼空", "ソラ"),
    ("律", "リツ"),
    ("奏太", "ソウタ"),
    ("新", "アラタ"),
    ("碧", "アオイ"),
    ("航", "ワタル"),
    ("瑛太", "エイタ"),
    ("隼人", "ハヤト"),
    ("涼太", "リョウタ"),
    ("悠人", "ハルト"),
    ("駿", "シュン"),
];

/// Born before 1960.
const FEMALE_OLDER: &[(&str, &str)] = &[
    ("和子", "カズコ"),
    ("洋子", "ヨウコ"),
    ("幸子", "サチコ"),
    ("節子", "セツコ"),
    ("京子", "キョウコ"),
    ("恵子", "ケイコ"),
    ("久子", "ヒサコ"),
    ("美代子", "ミヨコ"),
    ("悦子", "エツコ"),
    ("順子", "ジュンコ"),
    ("弘子", "ヒロコ"),
    ("久美子", "クミコ"),
    ("文子", "フミコ"),
    ("清子", "キヨコ"),
    ("光子", "ミツコ"),
    ("静子", "シズコ"),
    ("千代子", "チヨコ"),
    ("正子", "マサコ"),
    ("敏子", "トシコ"),
    ("春子", "ハルコ"),
    ("君子", "キミコ"),
    ("智子", "トモコ"),
    ("典子", "ノリコ"),
    ("美智子", "ミチコ"),
    ("信子", "ノブコ"),
    ("芳子", "ヨシコ"),
    ("良子", "ヨシコ"),
    ("昭子", "アキコ"),
    ("登美子", "トミコ"),
    ("照子", "テルコ"),
    ("和江", "カズエ"),
    ("絹子", "キヌコ"),
];

/// Born 1960–1989.
const FEMALE_MIDDLE: &[(&str, &str)] = &[
    ("裕子", "ユウコ"),
    ("直美", "ナオミ"),
    ("由美子", "ユミコ"),
    ("陽子", "ヨウコ"),
    ("真由美", "マユミ"),
    ("明美", "アケミ"),
    ("恵美", "エミ"),
    ("美穂", "ミホ"),
    ("香織", "カオリ"),
    ("愛", "アイ"),
    ("彩", "アヤ"),
    ("麻衣", "マイ"),
    ("舞", "マイ"),
    ("千尋", "チヒロ"),
    ("智美", "トモミ"),
    ("友美", "トモミ"),
    ("由紀", "ユキ"),
    ("理恵", "リエ"),
    ("沙織", "サオリ"),
    ("恵", "メグミ"),
    ("綾", "アヤ"),
    ("美香", "ミカ"),
    ("亜希子", "アキコ"),
    ("純子", "ジュンコ"),
    ("久美", "クミ"),
    ("真理", "マリ"),
    ("奈美", "ナミ"),
    ("淳子", "ジュンコ"),
    ("由佳", "ユカ"),
    ("美紀", "ミキ"),
    ("礼子", "レイコ"),
    ("朋子", "トモコ"),
];

/// Born 1990 or later.
const FEMALE_YOUNG: &[(&str, &str)] = &[
    ("陽菜", "ヒナ"),
    ("結衣", "ユイ"),
    ("葵", "アオイ"),
    ("凛", "リン"),
    ("結愛", "ユア"),
    ("芽依", "メイ"),
    ("美咲", "ミサキ"),
    ("桜", "サクラ"),
    ("紬", "ツムギ"),
    ("杏", "アン"),
    ("莉子", "リコ"),
    ("結菜", "ユイナ"),
    ("彩花", "アヤカ"),
    ("七海", "ナナミ"),
    ("美羽", "ミウ"),
    ("愛菜", "マナ"),
    ("花", "ハナ"),
    ("心春", "コハル"),
    ("陽葵", "ヒマリ"),
    ("澪", "ミオ"),
    ("楓", "カエデ"),
    ("咲良", "サクラ"),
    ("美月", "ミヅキ"),
    ("優奈", "ユウナ"),
    ("遥", "ハルカ"),
    ("真央", "マオ"),
    ("菜々子", "ナナコ"),
    ("萌", "モエ"),
    ("玲奈", "レイナ"),
    ("詩", "ウタ"),
    ("千夏", "チナツ"),
    ("琴音", "コトネ"),
];

/// Every given name of one sex, all cohorts (for tests and documentation).
pub fn given_names(sex: Sex) -> impl Iterator<Item = (&'static str, &'static str)> {
    let lists: [&'static [(&str, &str)]; 3] = match sex {
        Sex::Female => [FEMALE_OLDER, FEMALE_MIDDLE, FEMALE_YOUNG],
        _ => [MALE_OLDER, MALE_MIDDLE, MALE_YOUNG],
    };
    lists.into_iter().flatten().copied()
}

/// Every family name with its reading (for tests and documentation).
pub fn family_names() -> impl Iterator<Item = (&'static str, &'static str)> {
    FAMILY_NAMES.iter().map(|(k, r, _, _)| (*k, *r))
}

/// Cumulative weights over `FAMILY_NAMES`, for a binary-search pick.
pub(crate) struct FamilyNamePicker {
    cumulative: Vec<u32>,
}

impl FamilyNamePicker {
    pub(crate) fn new() -> Self {
        let mut total = 0;
        let cumulative = FAMILY_NAMES
            .iter()
            .map(|(_, _, _, w)| {
                total += w;
                total
            })
            .collect();
        FamilyNamePicker { cumulative }
    }

    /// Index into `FAMILY_NAMES`.
    pub(crate) fn pick<R: Rng>(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().expect("names");
        let x = rng.gen_range(0..total);
        self.cumulative.partition_point(|&c| c <= x)
    }
}

/// A given name fitting the sex and birth year. `OtherOrUnknown` draws from
/// either list.
pub(crate) fn given_name<R: Rng>(rng: &mut R, sex: Sex, birth_year: i32) -> (&'static str, &'static str) {
    let female = match sex {
        Sex::Female => true,
        Sex::Male => false,
        Sex::OtherOrUnknown => rng.gen_bool(0.5),
    };
    // Cohorts overlap a little at the edges, as real naming fashions do.
    let year = birth_year + rng.gen_range(-4..=4);
    let list = match (female, year) {
        (false, ..=1959) => MALE_OLDER,
        (false, 1960..=1989) => MALE_MIDDLE,
        (false, _) => MALE_YOUNG,
        (true, ..=1959) => FEMALE_OLDER,
        (true, 1960..=1989) => FEMALE_MIDDLE,
        (true, _) => FEMALE_YOUNG,
    };
    list[rng.gen_range(0..list.len())]
}

/// Family and given name separated by a full-width space (全角スペース), the
/// way the notification form writes them; used for kanji and kana alike.
pub(crate) fn full_name(family: &str, given: &str) -> String {
    let mut s = String::with_capacity(family.len() + given.len() + 3);
    s.push_str(family);
    s.push('\u{3000}');
    s.push_str(given);
    s
}
