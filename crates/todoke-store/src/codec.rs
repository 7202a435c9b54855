//! How JSON documents are stored: `case_doc.doc`, `observation.doc` and
//! `outbox.payload` hold a BLOB whose first byte says what follows:
//!
//! | tag | rest |
//! |---|---|
//! | `0` | the JSON itself (UTF-8) |
//! | `1` | the JSON compressed with zstd and the fixed dictionary [`DICT_V1`] |
//!
//! A TEXT value (a row written before documents were packed) is plain JSON,
//! so every older row stays readable.
//!
//! Why a dictionary: a case is ~3.7 kB of JSON whose keys and common values
//! repeat in every document but hardly within one, so zstd on its own gets
//! only ~2.3×; with a dictionary trained on generated cases and
//! observations (`json-v1.zdict`, 32 KiB) a case packs to ~0.6 kB (~6×) and
//! an observation from ~310 to ~90 bytes, and decompressing costs ~3 µs per
//! case. The dictionary only helps the ratio: any JSON packs and unpacks
//! correctly with it, whatever its content.
//!
//! **`json-v1.zdict` must never change**: rows packed with it need it to be
//! read. A better dictionary gets a new tag (and a new file) beside it.

use std::cell::RefCell;
use std::sync::OnceLock;

use rusqlite::types::ValueRef;
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// The dictionary of tag 1 (see the module docs: never change it).
const DICT_V1: &[u8] = include_bytes!("json-v1.zdict");

const TAG_PLAIN: u8 = 0;
const TAG_ZSTD_V1: u8 = 1;

/// zstd level: 3 packs a case in ~10 µs (level 1 is hardly faster with a dictionary).
const LEVEL: i32 = 3;

/// Documents shorter than this are stored plain (nothing to gain).
const MIN_PACKED: usize = 64;

/// The largest document unpacked (a guard against a damaged length field).
const MAX_DOC: usize = 64 << 20;

fn encoder_dict() -> &'static EncoderDictionary<'static> {
    static D: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    D.get_or_init(|| EncoderDictionary::copy(DICT_V1, LEVEL))
}

fn decoder_dict() -> &'static DecoderDictionary<'static> {
    static D: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    D.get_or_init(|| DecoderDictionary::copy(DICT_V1))
}

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The stored form of a JSON document.
pub(crate) fn pack(json: &str) -> Vec<u8> {
    if json.len() >= MIN_PACKED {
        let packed = COMPRESSOR.with(|c| -> std::io::Result<Vec<u8>> {
            let mut c = c.borrow_mut();
            if c.is_none() {
                *c = Some(zstd::bulk::Compressor::with_prepared_dictionary(encoder_dict())?);
            }
            let packed = c.as_mut().expect("set above").compress(json.as_bytes())?;
            let mut out = Vec::with_capacity(1 + packed.len());
            out.push(TAG_ZSTD_V1);
            out.extend_from_slice(&packed);
            Ok(out)
        });
        // zstd fails only on resource exhaustion; plain JSON is always a valid stored form.
        if let Ok(out) = packed {
            if out.len() < json.len() + 1 {
                return out;
            }
        }
    }
    let mut out = Vec::with_capacity(json.len() + 1);
    out.push(TAG_PLAIN);
    out.extend_from_slice(json.as_bytes());
    out
}

/// The JSON bytes of a stored document, unpacked into `buf` when needed.
/// Errors are a message for [`crate::StoreError::Corrupt`].
pub(crate) fn unpack<'a>(value: ValueRef<'a>, buf: &'a mut Vec<u8>) -> Result<&'a [u8], String> {
    match value {
        ValueRef::Text(json) => Ok(json),
        ValueRef::Blob([TAG_PLAIN, json @ ..]) => Ok(json),
        ValueRef::Blob([TAG_ZSTD_V1, packed @ ..]) => {
            let size = zstd::zstd_safe::get_frame_content_size(packed)
                .ok()
                .flatten()
                .filter(|&n| n as usize <= MAX_DOC)
                .ok_or_else(|| "packed document has no valid size".to_string())? as usize;
            buf.clear();
            buf.reserve(size);
            DECOMPRESSOR
                .with(|d| -> std::io::Result<()> {
                    let mut d = d.borrow_mut();
                    if d.is_none() {
                        *d = Some(zstd::bulk::Decompressor::with_prepared_dictionary(decoder_dict())?);
                    }
                    let n = d.as_mut().expect("set above").decompress_to_buffer(packed, buf)?;
                    if n != size {
                        return Err(std::io::Error::other("packed document is truncated"));
                    }
                    Ok(())
                })
                .map_err(|e| format!("cannot unpack the stored document: {e}"))?;
            Ok(buf.as_slice())
        }
        ValueRef::Blob([tag, ..]) => Err(format!("unknown document format {tag}")),
        ValueRef::Blob([]) => Err("empty stored document".into()),
        other => Err(format!("stored document is {:?}, not JSON", other.data_type())),
    }
}

/// Parses a stored document.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(value: ValueRef<'_>) -> Result<T, String> {
    let mut buf = Vec::new();
    from_json(unpack(value, &mut buf)?)
}

/// Parses unpacked JSON: checks it is UTF-8 once, as a whole, then parses it
/// as text (`from_slice` would check every string separately: ~12% slower).
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    let json = std::str::from_utf8(json).map_err(|e| format!("stored document is not UTF-8: {e}"))?;
    serde_json::from_str(json).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_unpacks_every_form() {
        let json = r#"{"basic":{"name":"山田 太郎","name_kana":"ヤマダ タロウ","phone":"090-1111-2222"},"notification":{"report_date":"2022-08-01"}}"#;
        let packed = pack(json);
        assert_eq!(packed[0], TAG_ZSTD_V1);
        assert!(packed.len() < json.len(), "{} vs {}", packed.len(), json.len());
        assert!(!packed.windows("山田".len()).any(|w| w == "山田".as_bytes()));
        let mut buf = Vec::new();
        assert_eq!(unpack(ValueRef::Blob(&packed), &mut buf).unwrap(), json.as_bytes());
        // short documents are stored plain; TEXT rows (older desks) read as they are
        let short = pack("{}");
        assert_eq!(short, b"\0{}");
        assert_eq!(unpack(ValueRef::Blob(&short), &mut buf).unwrap(), b"{}");
        assert_eq!(unpack(ValueRef::Text(json.as_bytes()), &mut buf).unwrap(), json.as_bytes());
        // damage is an error, never a panic
        assert!(unpack(ValueRef::Blob(&packed[..packed.len() - 3]), &mut buf).is_err());
        assert!(unpack(ValueRef::Blob(&[9, 1, 2]), &mut buf).is_err());
        assert!(unpack(ValueRef::Blob(&[]), &mut buf).is_err());
        assert!(unpack(ValueRef::Null, &mut buf).is_err());
        // any JSON, whatever its content, round-trips
        let big: String = (0..5000).map(|i| format!("{{\"k{i}\":\"値{}\"}}", i * 7919 % 1013)).collect();
        assert_eq!(unpack(ValueRef::Blob(&pack(&big)), &mut buf).unwrap(), big.as_bytes());
    }
}
