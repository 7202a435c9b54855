//! The columns of the municipal standard open-data patient list
//! (自治体標準オープンデータセット「陽性患者属性」), as Tokyo published it
//! (`130001_tokyo_covid19_patients.csv`).

/// One column of the patient list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenDataColumn {
    No,
    LocalGovernmentCode,
    PrefectureName,
    MunicipalityName,
    PublishedOn,
    Weekday,
    OnsetOn,
    Residence,
    AgeBand,
    Sex,
    Attribute,
    Condition,
    Symptoms,
    TravelFlag,
    Remarks,
    DischargedFlag,
    ConfirmedOn,
    Occupation,
    ContactFlag,
}

impl OpenDataColumn {
    /// Every column in the standard order: Tokyo's 16, then the three that
    /// later files added.
    pub const ALL: [OpenDataColumn; 19] = {
        use OpenDataColumn::*;
        [
            No,
            LocalGovernmentCode,
            PrefectureName,
            MunicipalityName,
            PublishedOn,
            Weekday,
            OnsetOn,
            Residence,
            AgeBand,
            Sex,
            Attribute,
            Condition,
            Symptoms,
            TravelFlag,
            Remarks,
            DischargedFlag,
            ConfirmedOn,
            Occupation,
            ContactFlag,
        ]
    };

    /// The header name.
    pub fn name(self) -> &'static str {
        use OpenDataColumn::*;
        match self {
            No => "No",
            LocalGovernmentCode => "全国地方公共団体コード",
            PrefectureName => "都道府県名",
            MunicipalityName => "市区町村名",
            PublishedOn => "公表_年月日",
            Weekday => "曜日",
            OnsetOn => "発症_年月日",
            Residence => "患者_居住地",
            AgeBand => "患者_年代",
            Sex => "患者_性別",
            Attribute => "患者_属性",
            Condition => "患者_状態",
            Symptoms => "患者_症状",
            TravelFlag => "患者_渡航歴の有無フラグ",
            Remarks => "備考",
            DischargedFlag => "退院済フラグ",
            ConfirmedOn => "確定_年月日",
            Occupation => "患者_職業",
            ContactFlag => "患者_接触歴の有無フラグ",
        }
    }

    /// Index in `ALL`.
    pub(crate) fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// Finds a column by header name. Spaces are ignored and a full-width
    /// underscore counts as "_"; a few spellings seen in published files are
    /// accepted (e.g. "患者_退院済フラグ").
    pub fn from_header(name: &str) -> Option<OpenDataColumn> {
        let norm: String = name
            .trim_start_matches('\u{feff}')
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{3000}' | '\t'))
            .map(|c| if c == '＿' { '_' } else { c })
            .collect();
        if let Some(c) = Self::ALL.iter().find(|c| c.name() == norm) {
            return Some(*c);
        }
        use OpenDataColumn::*;
        Some(match norm.as_str() {
            "患者_退院済フラグ" | "退院済みフラグ" => DischargedFlag,
            "患者_渡航歴の有無" => TravelFlag,
            "患者_接触歴の有無" => ContactFlag,
            "全国地方公共団体コード番号" => LocalGovernmentCode,
            _ => return None,
        })
    }
}

/// Which columns an export writes. Both write the columns in the standard
/// order; a file imported with its columns in another order is re-exported in
/// the standard order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OpenDataLayout {
    /// Tokyo's original 16 columns.
    Base16,
    /// The 16, then 確定_年月日, 患者_職業, 患者_接触歴の有無フラグ.
    Extended19,
}

impl OpenDataLayout {
    pub fn columns(self) -> &'static [OpenDataColumn] {
        match self {
            OpenDataLayout::Base16 => &OpenDataColumn::ALL[..16],
            OpenDataLayout::Extended19 => &OpenDataColumn::ALL[..],
        }
    }

    /// The header line's names, in order.
    pub fn header(self) -> Vec<&'static str> {
        self.columns().iter().map(|c| c.name()).collect()
    }
}
