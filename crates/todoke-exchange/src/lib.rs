//! Files in and out: cases from and to CSV, streaming.
//!
//! - **Import** of the municipal standard open-data patient list
//!   (自治体標準オープンデータセット「陽性患者属性」, Tokyo's
//!   `130001_tokyo_covid19_patients.csv` layout): [`read_opendata`].
//! - **Export** of the same list: [`write_opendata`] (all 19 columns),
//!   [`write_opendata_layout`] (16 or 19); and of the full case
//!   list for staff: [`write_cases_csv`].
//!
//! This crate turns bytes into `Case`s and `Case`s into bytes. It does not
//! know the database: an import hands each case to a callback, an export
//! takes any iterator of cases. Memory does not grow with the file: one row
//! at a time, bounded row size, capped report lists.
//!
//! # Encodings
//! Import detects: a byte-order mark means UTF-8 (or UTF-16); otherwise
//! text that is valid UTF-8 is UTF-8 and anything else is Shift_JIS as
//! Windows writes it (CP932; encoding_rs's `SHIFT_JIS` is that). Export
//! writes UTF-8 with a byte-order mark or Shift_JIS ([`Encoding`]), CRLF
//! line ends, fields quoted only when they hold `,` `"` CR or LF. Characters
//! Shift_JIS cannot hold (𠮷, emoji) are written as 〓 and listed in
//! [`ExportReport::unmappable`] — never as HTML numeric references, which is
//! what encoding_rs's convenience `encode` would do. NEC/IBM extensions (①,
//! Ⅱ, ㈱, 髙) are CP932 and kept; JIS-style look-alikes that CP932 lacks
//! (〜 wave dash as macOS types it, ‖, —, ¢, £, ¬, ¦) are written as the CP932
//! character with the same glyph (～, ∥, ―, ￠, ￡, ￢, ￤).
//!
//! # Decisions on import
//! - Each good row is an anonymous, historical case: `origin =
//!   OpenDataImport`, a new UUIDv7, no name, class 患者（確定例）, every
//!   published value kept in `Case::publication`.
//! - **Dates.** 診断日 and 報告日 (and 提出日, 受理日) are 確定_年月日 when the
//!   file has it, else 公表_年月日. Confirmation is the day the doctor
//!   diagnosed and, by law, notified "immediately"; publication is usually a
//!   day later. The publication date itself is kept in
//!   `Publication::published_on`, which is what the input-rate comparison
//!   (published vs entered per day) needs.
//! - Refused: unreadable dates, dates after `today` or before 2019-12-01,
//!   onset after confirmation or publication, confirmation after publication,
//!   a missing publication date, unknown 年代 / 性別 / 退院済フラグ values, a
//!   malformed 全国地方公共団体コード, a wrong number of columns, an over-long
//!   cell (over 32,767 characters, Excel's limit) or an unclosed quote.
//! - **Status.** 退院済フラグ = 1 → 療養解除; 患者_状態 = 死亡 → 死亡 (wins).
//!   Otherwise no status: the file does not say.
//! - **Places.** 患者_居住地 is kept as the residence text and placed through
//!   `todoke-refdata` when that is unambiguous: a municipality of the
//!   publisher's prefecture, a ward of the publishing city, "都内"/"県内", a
//!   prefecture name (+ municipality). Foreign places and words ("調査中",
//!   "都外") get no code.
//! - Values are read in several spellings. The spelling read is kept for
//!   年代, 性別, 曜日 and the dates (`Publication::age_text`, `sex_text`,
//!   `weekday`, `published_on_text`, `onset_text`, `confirmed_on_text`; a
//!   date's text only when it was not the ISO form) and written back on
//!   export (see below). A value without a kept spelling is written in the
//!   one spelling of the "written" column; `曜日` then from the date:
//!
//! | column | written | also accepted |
//! |---|---|---|
//! | dates | `2020-01-24` | `2020/1/24`, `2020-1-24`, `2020年1月24日`, full-width digits, a trailing time |
//! | 患者_年代 | `10歳未満`, `10代` … `80代`, `90歳以上`, `不明`, empty | `N0歳代`/`N0才代`, `90代`, `100歳以上`, `100代`, `10才未満`, `非公表`, `調査中`, `-`/`'-`/`―`/`ー`/`−` (→ 不明) |
//! | 患者_性別 | `男性`, `女性`, `不明`, empty | `男`, `女`, `その他`, `非公表`, `調査中`, dashes (→ 不明) |
//! | 退院済フラグ | as read; `1` or empty for entered cases and changed statuses | `1`, `0`, empty, `○`, `〇`, `済`, `×` |
//! | 発症_年月日 | a date or empty | `不明`, `調査中`, `非公表`, `無症状`, dashes (→ empty) |
//!
//! # Decisions on export
//! - The open-data list holds positives only (`DiagnosisClass::is_positive`);
//!   soft-deleted cases are left out of both exports. Both are counted.
//! - Imported cases are written from their publication data (structured
//!   values win where the case has them, so corrections show); entered
//!   cases from their record, without name, address, occupation or free
//!   text (see [`write_opendata_layout`]).
//! - **Kept spellings.** 年代, 性別, 曜日, 公表_年月日, 発症_年月日 and
//!   確定_年月日 of an imported case are written as published ("100歳以上",
//!   "90代", "'-", "―", "2020/1/24", "金曜日", "不明" …) while that text
//!   still reads as the case's current value (曜日: the weekday of the
//!   publication date). When the value was edited since (the band, sex,
//!   onset or a date no longer matches what the text says) or no text was
//!   kept (entered cases, cases imported before the text was kept), the
//!   value is written in the standard spelling.
//!
//! # Round trip
//! A file in the standard column order ([`OpenDataLayout`]) whose values
//! are in accepted spellings exports byte for byte as it was imported
//! (UTF-8 with BOM or Shift_JIS, CRLF) by [`write_opendata_layout`] with the
//! layout that [`ImportReport::layout`] names — provided each 曜日 is the
//! publication date's weekday (a wrong one is written corrected, with a
//! warning on import), each 曜日 is filled in (an empty one is written as
//! the date's weekday), and cells are quoted only where the writer quotes
//! them (when they hold `,` `"` CR or LF). The layout is a property of
//! the file, not of a case: a store that wants to give a 16-column file back
//! must remember it per import. Columns in another order are written
//! back in the standard order; unknown columns are not kept.
//!
//! # Spreadsheets
//! The staff list guards cells against formula injection
//! ([`guard_formula`]); the open-data export does not (see there why).

mod csv_reader;
mod csv_writer;
mod decode;
mod error;
mod opendata_columns;
mod opendata_export;
mod opendata_import;
mod opendata_values;
mod residence;
mod staff_csv;
mod table_csv;

pub use decode::{decode_text, DetectedEncoding};
pub use error::ExchangeError;
pub use opendata_columns::{OpenDataColumn, OpenDataLayout};
pub use opendata_export::{write_opendata, write_opendata_layout, ExportReport, Unmappable, MAX_REPORTED_UNMAPPABLE};
pub use opendata_import::{
    read_opendata, ImportProgress, ImportReport, ImportWarning, RowError, EARLIEST_DATE, MAX_REPORTED_ERRORS, MAX_REPORTED_WARNINGS,
};
pub use staff_csv::{guard_formula, write_cases_csv, STAFF_CSV_HEADER};
pub use table_csv::write_table_csv;

/// Limits of the reader: longer cells, rows with more fields or more bytes are refused.
pub mod limits {
    pub use crate::csv_reader::{MAX_FIELDS, MAX_FIELD_CHARS, MAX_RECORD_BYTES};
}

/// The encoding an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8 with a byte-order mark (so that Excel reads it as UTF-8).
    Utf8Bom,
    /// Shift_JIS as Windows writes it (Windows-31J / CP932).
    ShiftJis,
}
