//! A published table: titles in Japanese and English, columns, rows of cells.
//! Serialises to JSON (serde) and to CSV ([`Table::to_csv`]).

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

/// One column: a stable key for programs, labels for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub key: &'static str,
    pub ja: String,
    pub en: String,
}

impl Column {
    pub fn new(key: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Column {
        Column { key, ja: ja.into(), en: en.into() }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A coded value (sex, "total", a prefecture): the code in JSON and in
    /// CSV with key headers, else the label in the header's language.
    Label {
        code: &'static str,
        ja: &'static str,
        en: &'static str,
    },
    /// A name in both languages that is not a fixed code (an area's name).
    /// JSON and key-header CSV: the Japanese.
    Name {
        ja: String,
        en: String,
    },
    /// Written as an ISO date (`2022-08-19`).
    Date(NaiveDate),
    Count(i64),
    /// A rate, rounded to two decimals.
    Decimal(f64),
    /// A whole percentage.
    Percent(i64),
    /// Not published (small-cell rule). JSON `null`, CSV `*`.
    Suppressed,
    /// Nothing to show (e.g. a rate over a zero denominator). JSON `null`, CSV empty.
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The count, when the cell is a published count.
    pub fn count(&self) -> Option<i64> {
        match self {
            Cell::Count(n) => Some(*n),
            _ => None,
        }
    }

    pub fn label(code: &'static str, ja: &'static str, en: &'static str) -> Cell {
        Cell::Label { code, ja, en }
    }

    /// "計" / "Total".
    pub fn total() -> Cell {
        Cell::label("total", "計", "Total")
    }

    /// The cell as CSV writes it: labels in `lang`, suppressed `*`, dates ISO.
    pub fn csv(&self, lang: HeaderLang) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Label { code, ja, en } => match lang {
                HeaderLang::Ja => ja.to_string(),
                HeaderLang::En => en.to_string(),
                HeaderLang::Key => code.to_string(),
            },
            Cell::Name { ja, en } => match lang {
                HeaderLang::En => en.clone(),
                HeaderLang::Ja | HeaderLang::Key => ja.clone(),
            },
            Cell::Date(d) => d.to_string(),
            Cell::Count(n) | Cell::Percent(n) => n.to_string(),
            Cell::Decimal(x) => format!("{x:.2}"),
            Cell::Suppressed => "*".into(),
            Cell::Empty => String::new(),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Text(t) => s.serialize_str(t),
            Cell::Label { code, .. } => s.serialize_str(code),
            Cell::Name { ja, .. } => s.serialize_str(ja),
            Cell::Date(d) => s.serialize_str(&d.to_string()),
            Cell::Count(n) | Cell::Percent(n) => s.serialize_i64(*n),
            Cell::Decimal(x) => s.serialize_f64((x * 100.0).round() / 100.0),
            Cell::Suppressed | Cell::Empty => s.serialize_none(),
        }
    }
}

/// A table as published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub title_ja: String,
    pub title_en: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// How the figures were made (definitions, approximations), for the reader.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Which language the CSV header is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderLang {
    Ja,
    En,
    /// Column keys (`date`, `new_positives`): for programs.
    Key,
}

impl Table {
    pub fn new(title_ja: impl Into<String>, title_en: impl Into<String>, columns: Vec<Column>) -> Table {
        Table { title_ja: title_ja.into(), title_en: title_en.into(), columns, rows: Vec::new(), notes: Vec::new() }
    }

    /// The index of a column by key.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.key == key)
    }

    /// CSV (RFC 4180, `\n` line ends, no BOM): a header row, then the rows.
    /// Suppressed cells are `*`, empty cells empty; headers and labels in `header`'s language.
    pub fn to_csv(&self, header: HeaderLang) -> String {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
        let head = self.columns.iter().map(|c| match header {
            HeaderLang::Ja => c.ja.as_str(),
            HeaderLang::En => c.en.as_str(),
            HeaderLang::Key => c.key,
        });
        w.write_record(head).expect("writing to memory");
        for row in &self.rows {
            w.write_record(row.iter().map(|c| c.csv(header))).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("cells are UTF-8")
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("tables serialise")
    }
}
