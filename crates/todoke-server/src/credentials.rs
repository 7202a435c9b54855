//! Secrets of a staff sign-in: argon2id password hashes, TOTP (RFC 6238,
//! HMAC-SHA1, 30 s, 6 digits) and opaque tokens stored as SHA-256 hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const TOTP_STEP: i64 = 30;
pub const TOTP_DIGITS: u32 = 6;

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("the OS random source works");
    b
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes is a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2id hashes any password").to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// A new TOTP secret (160 bits), base32 as authenticator apps read it.
pub fn new_totp_secret() -> String {
    data_encoding::BASE32_NOPAD.encode(&random_bytes::<20>())
}

pub fn otpauth_uri(secret: &str, login: &str) -> String {
    format!("otpauth://totp/Todoke:{login}?secret={secret}&issuer=Todoke&algorithm=SHA1&digits=6&period=30")
}

/// HOTP (RFC 4226) of `counter` with `digits` digits.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let code = u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]);
    format!("{:0width$}", code % 10u32.pow(digits), width = digits as usize)
}

/// The TOTP step a code matches, within one step of `unix_time` either side.
pub fn totp_match(secret_b32: &str, code: &str, unix_time: i64) -> Option<i64> {
    let key = data_encoding::BASE32_NOPAD.decode(secret_b32.as_bytes()).ok()?;
    let now = unix_time.div_euclid(TOTP_STEP);
    (now - 1..=now + 1).find(|step| *step >= 0 && constant_time_eq(hotp(&key, *step as u64, TOTP_DIGITS).as_bytes(), code.as_bytes()))
}

/// The current code (for tests and the demo).
pub fn totp_now(secret_b32: &str, unix_time: i64) -> String {
    let key = data_encoding::BASE32_NOPAD.decode(secret_b32.as_bytes()).expect("a secret we made");
    hotp(&key, unix_time.div_euclid(TOTP_STEP) as u64, TOTP_DIGITS)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh opaque token (256 bits, hex).
pub fn new_token() -> String {
    hex::encode(random_bytes::<32>())
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A hash to verify against when the login does not exist.
pub static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password("no such account"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_test_vectors() {
        // RFC 6238 appendix B: key "12345678901234567890", 8 digits, 30 s steps.
        let key = b"12345678901234567890";
        for (t, expected) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(hotp(key, t / 30, 8), expected, "t = {t}");
        }
    }

    #[test]
    fn totp_accepts_one_step_of_drift_and_no_more() {
        let secret = new_totp_secret();
        let t = 1_700_000_000;
        let code = totp_now(&secret, t);
        assert_eq!(totp_match(&secret, &code, t), Some(t / 30));
        assert!(totp_match(&secret, &code, t + 30).is_some());
        assert!(totp_match(&secret, &code, t + 90).is_none());
        assert!(totp_match(&secret, "000000x", t).is_none());
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
    }
}
