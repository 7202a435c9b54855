//! The desk's database key: 32 random bytes per desk, kept in the OS keyring
//! (or, for servers, CI and benchmarks, an environment variable or memory).
//! The key is never written to disk in clear and never printed.

use std::collections::HashMap;
use std::fmt;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The stable id of one desk (one local database), kept in `desk.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeskId(pub Uuid);

impl DeskId {
    /// A new id (UUIDv7).
    pub fn new() -> DeskId {
        DeskId(Uuid::now_v7())
    }
}

impl Default for DeskId {
    fn default() -> Self {
        DeskId::new()
    }
}

impl fmt::Display for DeskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A desk's 256-bit database key. Zeroed when dropped; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct DeskKey([u8; 32]);

impl DeskKey {
    pub fn from_bytes(bytes: [u8; 32]) -> DeskKey {
        DeskKey(bytes)
    }

    /// A fresh key from the operating system's random source.
    pub fn random() -> Result<DeskKey, KeyError> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(DeskKey(bytes))
    }

    /// Reads 64 hex digits (what `TODOKE_DESK_KEY` and the keyring hold).
    pub fn from_hex(text: &str) -> Result<DeskKey, String> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(format!("expected 64 hex digits, found {} characters", text.len()));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| "expected only hex digits 0-9, a-f".to_string())?;
        Ok(DeskKey(bytes))
    }

    /// The key as 64 hex digits, in a buffer that is zeroed when dropped.
    pub(crate) fn to_hex(&self) -> SecretText {
        SecretText(hex::encode(self.0))
    }
}

impl Drop for DeskKey {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for DeskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeskKey(<secret>)")
    }
}

/// Text holding key material: zeroed on drop, never shown.
pub(crate) struct SecretText(pub(crate) String);

impl Drop for SecretText {
    fn drop(&mut self) {
        // SAFETY: zero bytes are valid UTF-8.
        wipe(unsafe { self.0.as_bytes_mut() });
    }
}

fn wipe(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // Volatile so the compiler cannot drop the "dead" store.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Why a desk key could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeyError {
    /// The environment variable is set but is not 64 hex digits.
    #[error("{var} is set but is not a desk key ({reason}); it must be 64 hex digits (32 bytes)")]
    Malformed { var: String, reason: String },
    /// The OS keyring did not answer in time (locked, or waiting for a password prompt).
    #[error("the OS keyring did not answer within {seconds} s; unlock it (or set TODOKE_DESK_KEY) and try again")]
    KeyringTimeout { seconds: u64 },
    /// The OS keyring refused or failed.
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
}

impl KeyError {
    /// The same, in Japanese, for the UI.
    pub fn message_ja(&self) -> String {
        match self {
            KeyError::Malformed { var, reason } => {
                format!("{var} にデスクの鍵として使えない値が入っています（{reason}）。16進数64桁を指定してください。")
            }
            KeyError::KeyringTimeout { seconds } => format!(
                "OSのキーリングが{seconds}秒以内に応答しませんでした。キーリングのロックを解除するか TODOKE_DESK_KEY を設定して、もう一度実行してください。"
            ),
            KeyError::Keyring(m) => format!("OSのキーリングで問題が起きました: {m}"),
            KeyError::Random(m) => format!("OSから乱数を得られませんでした: {m}"),
        }
    }
}

/// Where a desk's key comes from. A provider hands out the same key for the
/// same desk every time; providers that can store keys create one on first use.
pub trait KeyProvider: Send + Sync {
    fn desk_key(&self, desk: &DeskId) -> Result<DeskKey, KeyError>;

    /// Keeps a small secret of this desk beside its key (the sync refresh
    /// token), or removes it (`None`). `Ok(false)`: this provider holds no
    /// secrets; the caller keeps it in the encrypted database instead.
    fn store_secret(&self, _desk: &DeskId, _name: &str, _value: Option<&str>) -> Result<bool, KeyError> {
        Ok(false)
    }

    /// A secret kept by [`KeyProvider::store_secret`].
    fn load_secret(&self, _desk: &DeskId, _name: &str) -> Result<Option<String>, KeyError> {
        Ok(None)
    }
}

/// Keys in memory, for tests and benchmarks: a random key per desk on first
/// use, or one fixed key for every desk.
#[derive(Default)]
pub struct MemoryKeys {
    keys: Mutex<HashMap<DeskId, DeskKey>>,
    secrets: Mutex<HashMap<(DeskId, String), String>>,
    fixed: Option<DeskKey>,
}

impl MemoryKeys {
    pub fn new() -> MemoryKeys {
        MemoryKeys::default()
    }

    /// The same key for every desk (a benchmark desk re-opened by a later run).
    pub fn fixed(key: [u8; 32]) -> MemoryKeys {
        MemoryKeys { keys: Mutex::default(), secrets: Mutex::default(), fixed: Some(DeskKey(key)) }
    }

    /// Sets the key of one desk (e.g. a wrong one, in tests).
    pub fn insert(&self, desk: DeskId, key: DeskKey) {
        self.keys.lock().expect("key map lock").insert(desk, key);
    }
}

impl KeyProvider for MemoryKeys {
    fn desk_key(&self, desk: &DeskId) -> Result<DeskKey, KeyError> {
        if let Some(k) = &self.fixed {
            return Ok(k.clone());
        }
        let mut keys = self.keys.lock().expect("key map lock");
        if let Some(k) = keys.get(desk) {
            return Ok(k.clone());
        }
        let k = DeskKey::random()?;
        keys.insert(*desk, k.clone());
        Ok(k)
    }

    fn store_secret(&self, desk: &DeskId, name: &str, value: Option<&str>) -> Result<bool, KeyError> {
        let mut secrets = self.secrets.lock().expect("secret map lock");
        match value {
            Some(v) => secrets.insert((*desk, name.to_string()), v.to_string()),
            None => secrets.remove(&(*desk, name.to_string())),
        };
        Ok(true)
    }

    fn load_secret(&self, desk: &DeskId, name: &str) -> Result<Option<String>, KeyError> {
        Ok(self.secrets.lock().expect("secret map lock").get(&(*desk, name.to_string())).cloned())
    }
}

/// The environment variable that holds a desk key as 64 hex digits.
pub const DESK_KEY_VAR: &str = "TODOKE_DESK_KEY";

/// One key for every desk from an environment variable (servers without a
/// keyring, CI). Read at each use so a malformed value gives a clear error there.
pub struct EnvKey {
    var: String,
}

impl EnvKey {
    /// Reads `TODOKE_DESK_KEY`.
    pub fn new() -> EnvKey {
        EnvKey::with_var(DESK_KEY_VAR)
    }

    /// Reads another variable (tests).
    pub fn with_var(var: &str) -> EnvKey {
        EnvKey { var: var.to_string() }
    }
}

impl Default for EnvKey {
    fn default() -> Self {
        EnvKey::new()
    }
}

impl KeyProvider for EnvKey {
    fn desk_key(&self, _desk: &DeskId) -> Result<DeskKey, KeyError> {
        let malformed = |reason: String| KeyError::Malformed { var: self.var.clone(), reason };
        let value = SecretText(std::env::var(&self.var).map_err(|_| malformed("not set or not UTF-8".into()))?);
        DeskKey::from_hex(&value.0).map_err(malformed)
    }
}

/// The OS keyring (Secret Service on Linux, Keychain on macOS, Credential
/// Manager on Windows): service `todoke-desk`, user = the desk id. Creates a
/// random key on first use.
///
/// Keyring calls can block indefinitely on a locked keyring waiting for a
/// prompt, so each runs on its own thread and gives up after `timeout`.
pub struct KeyringKeys {
    service: String,
    timeout: Duration,
}

/// The keyring service name under which desk keys are stored.
pub const KEYRING_SERVICE: &str = "todoke-desk";

impl KeyringKeys {
    pub fn new() -> KeyringKeys {
        KeyringKeys { service: KEYRING_SERVICE.to_string(), timeout: Duration::from_secs(10) }
    }

    /// Another service name (tests keep their entries apart) and time limit.
    pub fn with_service(service: &str, timeout: Duration) -> KeyringKeys {
        KeyringKeys { service: service.to_string(), timeout }
    }

    /// Removes a desk's key from the keyring (tests; a desk whose key is gone cannot be opened).
    pub fn delete(&self, desk: &DeskId) -> Result<(), KeyError> {
        let (service, user) = (self.service.clone(), desk.to_string());
        self.on_thread(move || {
            let entry = keyring::Entry::new(&service, &user).map_err(keyring_error)?;
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(keyring_error(e)),
            }
        })
    }

    fn on_thread<T: Send + 'static>(&self, work: impl FnOnce() -> Result<T, KeyError> + Send + 'static) -> Result<T, KeyError> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("todoke-keyring".into())
            .spawn(move || {
                let _ = tx.send(work());
            })
            .map_err(|e| KeyError::Keyring(e.to_string()))?;
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result,
            // The thread stays blocked in the keyring; it holds no lock of ours.
            Err(mpsc::RecvTimeoutError::Timeout) => Err(KeyError::KeyringTimeout { seconds: self.timeout.as_secs() }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(KeyError::Keyring("the keyring thread stopped".into())),
        }
    }
}

impl Default for KeyringKeys {
    fn default() -> Self {
        KeyringKeys::new()
    }
}

impl KeyProvider for KeyringKeys {
    fn desk_key(&self, desk: &DeskId) -> Result<DeskKey, KeyError> {
        let (service, user) = (self.service.clone(), desk.to_string());
        self.on_thread(move || {
            let entry = keyring::Entry::new(&service, &user).map_err(keyring_error)?;
            match entry.get_password() {
                Ok(text) => {
                    let text = SecretText(text);
                    DeskKey::from_hex(&text.0).map_err(|r| KeyError::Keyring(format!("the stored key for desk {user} is damaged ({r})")))
                }
                Err(keyring::Error::NoEntry) => {
                    let key = DeskKey::random()?;
                    entry.set_password(&key.to_hex().0).map_err(keyring_error)?;
                    Ok(key)
                }
                Err(e) => Err(keyring_error(e)),
            }
        })
    }

    /// Entry: service as for keys, user `<desk id>/<name>`.
    fn store_secret(&self, desk: &DeskId, name: &str, value: Option<&str>) -> Result<bool, KeyError> {
        let (service, user, value) = (self.service.clone(), format!("{desk}/{name}"), value.map(|v| SecretText(v.to_string())));
        self.on_thread(move || {
            let entry = keyring::Entry::new(&service, &user).map_err(keyring_error)?;
            match value {
                Some(v) => entry.set_password(&v.0).map_err(keyring_error)?,
                None => match entry.delete_credential() {
                    Ok(()) | Err(keyring::Error::NoEntry) => {}
                    Err(e) => return Err(keyring_error(e)),
                },
            }
            Ok(true)
        })
    }

    fn load_secret(&self, desk: &DeskId, name: &str) -> Result<Option<String>, KeyError> {
        let (service, user) = (self.service.clone(), format!("{desk}/{name}"));
        self.on_thread(move || {
            let entry = keyring::Entry::new(&service, &user).map_err(keyring_error)?;
            match entry.get_password() {
                Ok(v) => Ok(Some(v)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(keyring_error(e)),
            }
        })
    }
}

fn keyring_error(e: keyring::Error) -> KeyError {
    KeyError::Keyring(e.to_string())
}

/// `TODOKE_DESK_KEY` when it is set, else the OS keyring.
pub fn default_key_provider() -> Box<dyn KeyProvider> {
    if std::env::var_os(DESK_KEY_VAR).is_some() {
        Box::new(EnvKey::new())
    } else {
        Box::new(KeyringKeys::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_keyring_times_out_with_a_clear_error() {
        let keys = KeyringKeys::with_service("todoke-desk-test", Duration::from_millis(50));
        let err = keys
            .on_thread(|| {
                std::thread::sleep(Duration::from_secs(2));
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(err, KeyError::KeyringTimeout { .. }), "{err:?}");
        assert!(err.message_ja().contains("キーリング"));
    }

    #[test]
    fn hex_keys() {
        assert!(DeskKey::from_hex(&"0f".repeat(32)).is_ok());
        assert!(DeskKey::from_hex(&"0f".repeat(31)).unwrap_err().contains("64"));
        assert!(DeskKey::from_hex(&"zz".repeat(32)).is_err());
        assert_eq!(DeskKey::from_bytes([1; 32]).to_hex().0, "01".repeat(32));
    }
}
