//! Writing CSV rows for spreadsheets: CRLF line ends, fields quoted only when
//! they must be, UTF-8 with a byte-order mark or Shift_JIS (CP932).
//!
//! encoding_rs's convenience `encode` turns characters that Shift_JIS cannot
//! hold into HTML numeric references ("&#134071;"), which would be published
//! as if they were data. Here every such character becomes 〓 (the geta mark,
//! the Japanese printing convention for a missing glyph) and is counted, so
//! the user is told which cells lost something.

use std::io::{self, Write};
use std::sync::OnceLock;

use encoding_rs::EncoderResult;

use crate::Encoding;

/// 〓 in CP932.
const GETA_SJIS: [u8; 2] = [0x81, 0xAC];

/// Characters that JIS-based sources (macOS, Linux, web forms) produce where
/// Windows has a look-alike of its own: encoded as the CP932 character with
/// the same glyph instead of being lost. 〜 (wave dash, as macOS types it) is
/// the common one: "10時〜12時".
fn cp932_lookalike(c: char) -> Option<char> {
    Some(match c {
        '\u{301C}' => '\u{FF5E}', // 〜 WAVE DASH → ～ FULLWIDTH TILDE
        '\u{2016}' => '\u{2225}', // ‖ DOUBLE VERTICAL LINE → ∥ PARALLEL TO
        '\u{2014}' => '\u{2015}', // — EM DASH → ― HORIZONTAL BAR
        '\u{00A2}' => '\u{FFE0}', // ¢
        '\u{00A3}' => '\u{FFE1}', // £
        '\u{00AC}' => '\u{FFE2}', // ¬
        '\u{00A6}' => '\u{FFE4}', // ¦
        _ => return None,
    })
}

pub(crate) struct CsvWriter<W: Write> {
    out: io::BufWriter<W>,
    /// CP932 table when writing Shift_JIS.
    sjis: Option<&'static [u16]>,
    row: Vec<u8>,
    scratch: String,
    fields_in_row: usize,
    /// Columns (0-based) of the current row in which a character was replaced.
    pub replaced: Vec<usize>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W, encoding: Encoding) -> io::Result<Self> {
        let mut out = io::BufWriter::with_capacity(256 * 1024, out);
        let sjis = match encoding {
            Encoding::Utf8Bom => {
                out.write_all("\u{feff}".as_bytes())?;
                None
            }
            Encoding::ShiftJis => Some(cp932_table()),
        };
        Ok(CsvWriter { out, sjis, row: Vec::with_capacity(1024), scratch: String::new(), fields_in_row: 0, replaced: vec![] })
    }

    /// Appends one field to the current row.
    pub fn field(&mut self, value: &str) {
        if self.fields_in_row > 0 {
            self.row.push(b',');
        }
        let column = self.fields_in_row;
        self.fields_in_row += 1;
        let text: &str = if value.contains([',', '"', '\r', '\n']) {
            self.scratch.clear();
            self.scratch.push('"');
            for c in value.chars() {
                if c == '"' {
                    self.scratch.push('"');
                }
                self.scratch.push(c);
            }
            self.scratch.push('"');
            &self.scratch
        } else {
            value
        };
        match self.sjis {
            None => self.row.extend_from_slice(text.as_bytes()),
            Some(_) if text.is_ascii() => self.row.extend_from_slice(text.as_bytes()),
            Some(table) => {
                if encode_sjis(table, text, &mut self.row) {
                    self.replaced.push(column);
                }
            }
        }
    }

    /// Ends the current row with CRLF and hands it to the output.
    pub fn end_row(&mut self) -> io::Result<()> {
        self.row.extend_from_slice(b"\r\n");
        self.out.write_all(&self.row)?;
        self.row.clear();
        self.fields_in_row = 0;
        Ok(())
    }

    /// Clears what `end_row` reported, for the next row.
    pub fn take_replaced(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.replaced)
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// CP932 bytes of every BMP character, taken once from encoding_rs's
/// `SHIFT_JIS` (which is CP932): 0 = not in CP932, below 0x100 = one byte,
/// else lead byte << 8 | trail byte. Look-alikes are folded in. A table
/// lookup per character keeps a million-row export within B8's 10 s, where
/// encoding_rs's encoder (a search per kanji) took most of the time.
fn cp932_table() -> &'static [u16] {
    static TABLE: OnceLock<Vec<u16>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![0u16; 0x10000];
        let mut encoder = encoding_rs::SHIFT_JIS.new_encoder();
        let mut out = [0u8; 8];
        for cp in 0x80u32..0x10000 {
            let Some(c) = char::from_u32(cp) else { continue };
            let mut utf8 = [0u8; 4];
            let (result, _, written) = encoder.encode_from_utf8_without_replacement(c.encode_utf8(&mut utf8), &mut out, true);
            if result == EncoderResult::InputEmpty {
                table[cp as usize] = match written {
                    1 => out[0] as u16,
                    2 => (out[0] as u16) << 8 | out[1] as u16,
                    _ => 0,
                };
            }
        }
        for cp in 0x80u32..0x10000 {
            if table[cp as usize] == 0 {
                if let Some(alike) = char::from_u32(cp).and_then(cp932_lookalike) {
                    table[cp as usize] = table[alike as usize];
                }
            }
        }
        table
    })
}

/// Encodes `text` as CP932 onto `out`; true if a character had to be replaced.
fn encode_sjis(table: &[u16], text: &str, out: &mut Vec<u8>) -> bool {
    let mut replaced = false;
    // CP932 never takes more bytes than UTF-8 for the same text.
    out.reserve(text.len());
    for c in text.chars() {
        let cp = c as u32;
        if cp < 0x80 {
            out.push(cp as u8);
            continue;
        }
        match table.get(cp as usize).copied().unwrap_or(0) {
            0 => {
                out.extend_from_slice(&GETA_SJIS);
                replaced = true;
            }
            v @ 1..=0xFF => out.push(v as u8),
            v => out.extend_from_slice(&[(v >> 8) as u8, v as u8]),
        }
    }
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(encoding: Encoding, rows: &[&[&str]]) -> (Vec<u8>, Vec<Vec<usize>>) {
        let mut buf = vec![];
        let mut replaced = vec![];
        {
            let mut w = CsvWriter::new(&mut buf, encoding).unwrap();
            for row in rows {
                for f in *row {
                    w.field(f);
                }
                w.end_row().unwrap();
                replaced.push(w.take_replaced());
            }
            w.finish().unwrap();
        }
        (buf, replaced)
    }

    #[test]
    fn quoting_and_line_ends() {
        let (out, _) = write(Encoding::Utf8Bom, &[&["a", "b,c", "say \"hi\"", "two\nlines", ""]]);
        assert_eq!(String::from_utf8(out).unwrap(), "\u{feff}a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n");
    }

    #[test]
    fn geta_for_what_cp932_cannot_hold() {
        let (out, replaced) = write(Encoding::ShiftJis, &[&["吉田", "𠮷野家", "①Ⅱ㈱", "😀,x"]]);
        let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(&out);
        assert!(!had_errors);
        assert_eq!(text, "吉田,〓野家,①Ⅱ㈱,\"〓,x\"\r\n");
        assert_eq!(replaced, vec![vec![1, 3]]);
        assert!(!out.windows(2).any(|w| w == b"&#"));
    }

    #[test]
    fn table_agrees_with_encoding_rs() {
        let text = "東京都世田谷区太子堂①㈱Ⅱ髙﨑ｱｲｳ¥‾～－ー漢字かなカナ𪚲";
        let (expected, _, had_errors) = encoding_rs::SHIFT_JIS.encode(&text[..text.len() - 4]);
        assert!(!had_errors);
        let mut ours = vec![];
        assert!(!encode_sjis(cp932_table(), &text[..text.len() - 4], &mut ours));
        assert_eq!(ours, &expected[..]);
        let mut ours = vec![];
        assert!(encode_sjis(cp932_table(), text, &mut ours));
        assert!(ours.ends_with(&GETA_SJIS));
        // Every mapped BMP character's bytes decode to a character that
        // encodes to the same bytes (itself, or its CP932 look-alike).
        let table = cp932_table();
        let mut mapped = 0;
        for cp in 0x80u32..0x10000 {
            let v = table[cp as usize];
            if v == 0 {
                continue;
            }
            mapped += 1;
            let bytes = if v < 0x100 { vec![v as u8] } else { vec![(v >> 8) as u8, v as u8] };
            let (back, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(&bytes);
            assert!(!had_errors, "U+{cp:04X}");
            let mut again = vec![];
            assert!(!encode_sjis(table, &back, &mut again));
            assert_eq!(again, bytes, "U+{cp:04X}");
        }
        assert!(mapped > 7000, "{mapped}");
    }

    #[test]
    fn jis_lookalikes_are_kept() {
        let (out, replaced) = write(Encoding::ShiftJis, &[&["10時〜12時", "‖—¢£¬¦", "～∥―"]]);
        let (text, _, _) = encoding_rs::SHIFT_JIS.decode(&out);
        assert_eq!(text, "10時～12時,∥―￠￡￢￤,～∥―\r\n");
        assert_eq!(replaced, vec![Vec::<usize>::new()]);
    }
}
