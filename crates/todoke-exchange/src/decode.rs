//! Reading text whose encoding is not declared: UTF-8 (with or without a
//! byte-order mark) or Shift_JIS as Windows writes it (CP932), decoded as a
//! stream so that a file of any size is never held in memory.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use encoding_rs::{CoderResult, Decoder};

/// How much of the start of a file decides its encoding. The patient list's
/// header is Japanese, so a CP932 file shows invalid UTF-8 within its first
/// line; 64 KiB leaves room for files with long preambles.
const SNIFF_BYTES: usize = 64 * 1024;
const CHUNK: usize = 64 * 1024;

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DetectedEncoding {
    /// UTF-8 that started with a byte-order mark.
    Utf8Bom,
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// Shift_JIS / Windows-31J (CP932).
    ShiftJis,
    /// UTF-16 with a byte-order mark (what Excel calls "Unicode text").
    Utf16,
}

/// Counts the bytes read from the underlying input (for progress).
pub(crate) struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> CountingReader<R> {
    pub(crate) fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (CountingReader { inner, count: count.clone() }, count)
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Reads up to `SNIFF_BYTES`, decides the encoding, and returns a reader of
/// the whole input as UTF-8 (byte-order mark removed). Bytes that are not
/// valid in the detected encoding become U+FFFD.
/// The input as UTF-8: the sniffed head, then the rest, decoded.
pub(crate) type Utf8Reader<R> = DecodingReader<io::Chain<io::Cursor<Vec<u8>>, R>>;

pub(crate) fn utf8_reader<R: Read>(mut input: R) -> io::Result<(DetectedEncoding, Utf8Reader<R>)> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut input).take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    let (detected, decoder) = match encoding_rs::Encoding::for_bom(&head) {
        Some((enc, _)) if enc == encoding_rs::UTF_8 => (DetectedEncoding::Utf8Bom, enc.new_decoder_with_bom_removal()),
        Some((enc, _)) => (DetectedEncoding::Utf16, enc.new_decoder_with_bom_removal()),
        None if looks_like_utf8(&head) => (DetectedEncoding::Utf8, encoding_rs::UTF_8.new_decoder_without_bom_handling()),
        None => (DetectedEncoding::ShiftJis, encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling()),
    };
    let chained = io::Cursor::new(head).chain(input);
    Ok((detected, DecodingReader::new(chained, decoder)))
}

/// A whole small file as text, its encoding detected as for imports (BOM,
/// else valid UTF-8, else Shift_JIS); a byte-order mark is removed.
pub fn decode_text<R: Read>(input: R) -> io::Result<(DetectedEncoding, String)> {
    let (detected, mut reader) = utf8_reader(input)?;
    let mut text = String::new();
    reader.read_to_string(&mut text)?;
    Ok((detected, text))
}

/// Valid UTF-8, allowing a character cut off at the end of the sample.
fn looks_like_utf8(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// A `Read` of UTF-8 decoded chunk by chunk from another encoding.
pub(crate) struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    finished: bool,
}

impl<R: Read> DecodingReader<R> {
    fn new(inner: R, decoder: Decoder) -> Self {
        DecodingReader {
            inner,
            decoder,
            input: vec![0; CHUNK],
            in_start: 0,
            in_end: 0,
            // Room for any expansion of one input chunk (CP932 → UTF-8 is at most ×1.5 + replacement).
            output: vec![0; CHUNK * 3 + 16],
            out_start: 0,
            out_end: 0,
            eof: false,
            finished: false,
        }
    }

    /// Decodes more output; returns false when everything has been decoded.
    fn refill(&mut self) -> io::Result<bool> {
        loop {
            if self.finished {
                return Ok(false);
            }
            if self.in_start == self.in_end && !self.eof {
                let n = read_retrying(&mut self.inner, &mut self.input)?;
                self.in_start = 0;
                self.in_end = n;
                self.eof = n == 0;
            }
            let last = self.eof;
            let (result, read, written, _) = self.decoder.decode_to_utf8(&self.input[self.in_start..self.in_end], &mut self.output, last);
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            if last && result == CoderResult::InputEmpty {
                self.finished = true;
            }
            if written > 0 {
                return Ok(true);
            }
        }
    }
}

fn read_retrying<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_start == self.out_end && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (DetectedEncoding, String) {
        let (enc, mut r) = utf8_reader(bytes).unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        (enc, s)
    }

    #[test]
    fn detects_and_decodes() {
        assert_eq!(decode("\u{feff}東京都".as_bytes()), (DetectedEncoding::Utf8Bom, "東京都".into()));
        assert_eq!(decode("東京都".as_bytes()), (DetectedEncoding::Utf8, "東京都".into()));
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("東京都,①");
        assert_eq!(decode(&sjis), (DetectedEncoding::ShiftJis, "東京都,①".into()));
        assert_eq!(decode(b""), (DetectedEncoding::Utf8, String::new()));
        assert_eq!(decode(b"\xff\xfe\x71\x67"), (DetectedEncoding::Utf16, "東".into()));
    }

    #[test]
    fn decodes_across_chunk_boundaries() {
        // A CP932 text much longer than a chunk, with two-byte characters
        // straddling every boundary.
        let text: String = "あ,い\r\n".repeat(100_000);
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
        let padded: Vec<u8> = std::iter::once(b'x').chain(sjis.iter().copied()).collect();
        let (enc, out) = decode(&padded);
        assert_eq!(enc, DetectedEncoding::ShiftJis);
        assert_eq!(&out[1..], text);
        // And UTF-8 of the same length, cut inside a character by the sniff.
        let (enc, out) = decode(text.as_bytes());
        assert_eq!(enc, DetectedEncoding::Utf8);
        assert_eq!(out, text);
    }
}
