//! Sign-in (ID + password + one-time password + device id) and the tokens.
//!
//! Both tokens are kept by the desk's key provider (the OS keyring: service `todoke-desk`, user
//! `<desk id>/sync.refresh_token`, `…/sync.access_token`); a provider without a secret store
//! (`TODOKE_DESK_KEY` for automation) keeps it inside the SQLCipher-encrypted
//! desk database instead — never on disk in clear, never logged or printed.
//! What is not secret (server, login, organisation, device id) is a desk setting.

use std::time::Duration;

use serde::Serialize;
use todoke_protocol::{LoginRequest, TokenResponse};
use todoke_store::{Desk, KeyProvider};

use crate::error::{SyncError, SyncErrorKind};
use crate::transport::{post_login, TransportError};

pub const REFRESH_SECRET: &str = "sync.refresh_token";
pub const ACCESS_SECRET: &str = "sync.access_token";
const ACCESS_EXPIRES: &str = "sync.access_expires";
const SERVER: &str = "sync.server";
const LOGIN: &str = "sync.login";
const ORG: &str = "sync.org";
const ROLE: &str = "sync.role";
const DEVICE: &str = "sync.device_id";

/// Who this desk is signed in as (nothing secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignIn {
    pub server: String,
    pub login: String,
    pub org: String,
    pub role: String,
    pub device_id: String,
}

fn store_err(e: todoke_store::StoreError) -> SyncError {
    e.into()
}

fn key_err(e: todoke_store::KeyError) -> SyncError {
    SyncError::new(SyncErrorKind::Store, "keyring", e.message_ja(), e.to_string())
}

/// The device id of this desk: its desk id (stable, not personal).
pub fn device_id(desk: &Desk) -> String {
    format!("desk-{}", desk.id())
}

/// Signs in and keeps the sign-in: returns it and the access token.
pub async fn login(
    desk: &mut Desk,
    keys: &dyn KeyProvider,
    server: &str,
    login: &str,
    password: &str,
    otp: &str,
) -> Result<(SignIn, String), SyncError> {
    let device = device_id(desk);
    let req = LoginRequest { login: login.into(), password: password.into(), otp: otp.into(), device_id: device.clone() };
    let tokens = match post_login(server, &req, Duration::from_secs(30)).await {
        Ok(t) => t,
        Err(TransportError::Unauthorized) => {
            return Err(SyncError::new(
                SyncErrorKind::SignInNeeded,
                "bad_credentials",
                "ID、パスワード、またはワンタイムパスワードが違います。確かめてもう一度入力してください。",
                "The ID, password or one-time password is wrong. Check them and try again.",
            ))
        }
        Err(TransportError::Refused(b)) => return Err(SyncError::refused(&b.code, &b.message_ja, &b.message_en)),
        Err(e) => return Err(SyncError::offline(&format!("{e:?}"))),
    };
    let sign_in = SignIn {
        server: server.trim_end_matches('/').into(),
        login: login.into(),
        org: tokens.org.clone(),
        role: tokens.role.clone(),
        device_id: device,
    };
    for (k, v) in
        [(SERVER, &sign_in.server), (LOGIN, &sign_in.login), (ORG, &sign_in.org), (ROLE, &sign_in.role), (DEVICE, &sign_in.device_id)]
    {
        desk.set_setting(k, v).map_err(store_err)?;
    }
    keep_tokens(desk, keys, &tokens)?;
    Ok((sign_in, tokens.access_token))
}

fn keep_secret(desk: &mut Desk, keys: &dyn KeyProvider, name: &str, value: &str) -> Result<(), SyncError> {
    if !keys.store_secret(&desk.id(), name, Some(value)).map_err(key_err)? {
        desk.set_setting(name, value).map_err(store_err)?;
    }
    Ok(())
}

fn load_secret(desk: &Desk, keys: &dyn KeyProvider, name: &str) -> Result<Option<String>, SyncError> {
    match keys.load_secret(&desk.id(), name).map_err(key_err)? {
        Some(v) => Ok(Some(v)),
        None => desk.setting(name).map_err(store_err),
    }
}

/// Keeps new tokens: the refresh token first (it rotates: the old one no
/// longer works), then the access token and when it expires. Reusing a valid
/// access token means a sync refreshes at most every 15 minutes: fewer
/// rotations that a lost answer on a bad line could break.
pub fn keep_tokens(desk: &mut Desk, keys: &dyn KeyProvider, tokens: &TokenResponse) -> Result<(), SyncError> {
    keep_secret(desk, keys, REFRESH_SECRET, &tokens.refresh_token)?;
    keep_secret(desk, keys, ACCESS_SECRET, &tokens.access_token)?;
    let expires =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64) + tokens.expires_in - 60;
    desk.set_setting(ACCESS_EXPIRES, &expires.to_string()).map_err(store_err)
}

/// A kept access token that is still good for a minute or more.
pub fn access_token(desk: &Desk, keys: &dyn KeyProvider) -> Result<Option<String>, SyncError> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let expires: i64 = desk.setting(ACCESS_EXPIRES).map_err(store_err)?.and_then(|s| s.parse().ok()).unwrap_or(0);
    if expires <= now {
        return Ok(None);
    }
    load_secret(desk, keys, ACCESS_SECRET)
}

/// The kept sign-in and refresh token, if any.
pub fn session(desk: &Desk, keys: &dyn KeyProvider) -> Result<Option<(SignIn, String)>, SyncError> {
    let get = |k: &str| desk.setting(k).map_err(store_err);
    let (Some(server), Some(login), Some(device_id)) = (get(SERVER)?, get(LOGIN)?, get(DEVICE)?) else { return Ok(None) };
    let Some(refresh) = load_secret(desk, keys, REFRESH_SECRET)? else { return Ok(None) };
    let sign_in = SignIn { server, login, org: get(ORG)?.unwrap_or_default(), role: get(ROLE)?.unwrap_or_default(), device_id };
    Ok(Some((sign_in, refresh)))
}
