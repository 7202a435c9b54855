//! A CSV record reader (RFC 4180, read leniently) that knows the physical
//! line each record starts on and never holds more than one bounded record.
//!
//! Written here rather than taken from the `csv` crate because imports report
//! errors by physical line and must stay within fixed memory whatever the
//! input: an unterminated quote in a 1 GB file must not become a 1 GB field.

use std::io::{self, BufRead};

/// Excel's limit for the characters of one cell; a longer field is an error.
pub const MAX_FIELD_CHARS: usize = 32_767;
/// Fields kept per record; more is an error.
pub const MAX_FIELDS: usize = 1_000;
/// Bytes kept per record; more is an error.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Why a record could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordProblem {
    /// Field at this index (0-based) is longer than `MAX_FIELD_CHARS`.
    FieldTooLong(usize),
    TooManyFields,
    RecordTooLong,
    /// The input ended inside a quoted field.
    UnterminatedQuote,
}

#[derive(Debug, Default)]
pub struct Record {
    /// Physical line (1-based) the record starts on.
    pub line: u64,
    fields: Vec<Vec<u8>>,
    len: usize,
    /// Fields seen, including those past `MAX_FIELDS`.
    pub field_count: usize,
    pub problem: Option<RecordProblem>,
    bytes: usize,
    /// Characters in the field being read.
    chars: usize,
}

impl Record {
    pub fn len(&self) -> usize {
        self.len
    }

    /// A field as text (input is UTF-8 by construction; anything else is
    /// replaced rather than trusted).
    pub fn field(&self, i: usize) -> std::borrow::Cow<'_, str> {
        match self.fields.get(i).filter(|_| i < self.len) {
            Some(f) => String::from_utf8_lossy(f),
            None => std::borrow::Cow::Borrowed(""),
        }
    }

    /// A record made of one empty field: a blank line.
    pub fn is_blank(&self) -> bool {
        self.field_count == 1 && self.len == 1 && self.fields[0].is_empty() && self.problem.is_none()
    }

    fn clear(&mut self) {
        self.len = 0;
        self.field_count = 0;
        self.problem = None;
        self.bytes = 0;
    }

    fn start_field(&mut self) {
        self.field_count += 1;
        if self.len >= MAX_FIELDS {
            self.problem.get_or_insert(RecordProblem::TooManyFields);
            return;
        }
        if self.fields.len() == self.len {
            self.fields.push(Vec::new());
        }
        self.fields[self.len].clear();
        self.len += 1;
        self.chars = 0;
    }

    fn push(&mut self, b: u8) {
        if self.field_count > MAX_FIELDS {
            return;
        }
        self.bytes += 1;
        if self.bytes > MAX_RECORD_BYTES {
            self.problem.get_or_insert(RecordProblem::RecordTooLong);
            return;
        }
        let idx = self.len - 1;
        if self.problem == Some(RecordProblem::FieldTooLong(idx)) {
            self.bytes -= 1;
            return;
        }
        // Characters counted at their first byte; stop at a character start
        // so that what is kept stays valid UTF-8.
        if b & 0xC0 != 0x80 {
            if self.chars >= MAX_FIELD_CHARS {
                self.problem.get_or_insert(RecordProblem::FieldTooLong(idx));
                self.bytes -= 1;
                return;
            }
            self.chars += 1;
        }
        self.fields[idx].push(b);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

pub struct CsvReader<R> {
    inner: R,
    line: u64,
    prev_cr: bool,
    done: bool,
}

impl<R: BufRead> CsvReader<R> {
    pub fn new(inner: R) -> Self {
        CsvReader { inner, line: 1, prev_cr: false, done: false }
    }

    /// Reads the next record into `rec`; false at the end of input.
    pub fn read_record(&mut self, rec: &mut Record) -> io::Result<bool> {
        rec.clear();
        if self.done {
            return Ok(false);
        }
        let mut state = State::StartField;
        let mut started = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                self.done = true;
                if !started {
                    return Ok(false);
                }
                if state == State::Quoted {
                    rec.problem.get_or_insert(RecordProblem::UnterminatedQuote);
                }
                return Ok(true);
            }
            let mut consumed = 0;
            let mut finished = false;
            for &b in buf {
                consumed += 1;
                let prev_cr = self.prev_cr;
                self.prev_cr = b == b'\r';
                if !started {
                    // The LF of a CRLF that ended the previous record.
                    if b == b'\n' && prev_cr {
                        continue;
                    }
                    started = true;
                    rec.line = self.line;
                    rec.start_field();
                }
                let newline = b == b'\r' || (b == b'\n' && !prev_cr);
                if newline {
                    self.line += 1;
                }
                match state {
                    State::StartField | State::Unquoted | State::QuoteInQuoted => match b {
                        b'"' if state == State::StartField => state = State::Quoted,
                        b'"' if state == State::QuoteInQuoted => {
                            rec.push(b'"');
                            state = State::Quoted;
                        }
                        b',' => {
                            rec.start_field();
                            state = State::StartField;
                        }
                        b'\r' | b'\n' => {
                            finished = true;
                            break;
                        }
                        _ => {
                            rec.push(b);
                            state = State::Unquoted;
                        }
                    },
                    State::Quoted => match b {
                        b'"' => state = State::QuoteInQuoted,
                        _ => rec.push(b),
                    },
                }
            }
            self.inner.consume(consumed);
            if finished {
                return Ok(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &str) -> Vec<(u64, Vec<String>, Option<RecordProblem>)> {
        let mut r = CsvReader::new(input.as_bytes());
        let mut rec = Record::default();
        let mut out = vec![];
        while r.read_record(&mut rec).unwrap() {
            out.push((rec.line, (0..rec.len()).map(|i| rec.field(i).into_owned()).collect(), rec.problem));
        }
        out
    }

    fn v(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lines_and_quotes() {
        let got = records("a,b\r\n\"x,\"\"y\"\"\r\nz\",2\r\n\r\nlast,\nlf,\"\"\rcr,1");
        assert_eq!(
            got,
            vec![
                (1, v(&["a", "b"]), None),
                (2, v(&["x,\"y\"\r\nz", "2"]), None),
                (4, v(&[""]), None),
                (5, v(&["last", ""]), None),
                (6, v(&["lf", ""]), None),
                (7, v(&["cr", "1"]), None),
            ]
        );
    }

    #[test]
    fn lenient_quotes_and_unterminated() {
        let got = records("a\"b,\"c\"d\n\"open,\nnever closed");
        assert_eq!(got[0], (1, v(&["a\"b", "cd"]), None));
        assert_eq!(got[1], (2, v(&["open,\nnever closed"]), Some(RecordProblem::UnterminatedQuote)));
    }

    #[test]
    fn limits_keep_memory_bounded() {
        let long = "あ".repeat(MAX_FIELD_CHARS + 10);
        let got = records(&format!("x,{long}\nnext\n"));
        assert_eq!(got[0].2, Some(RecordProblem::FieldTooLong(1)));
        assert_eq!(got[0].1[1].chars().count(), MAX_FIELD_CHARS);
        assert_eq!(got[1], (2, v(&["next"]), None));
        let many = ",".repeat(MAX_FIELDS + 5);
        let got = records(&format!("{many}\nok\n"));
        assert_eq!(got[0].2, Some(RecordProblem::TooManyFields));
        assert_eq!(got[0].1.len(), MAX_FIELDS);
        assert_eq!(got[1].0, 2);
    }
}
