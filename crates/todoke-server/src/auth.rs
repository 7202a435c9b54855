//! Staff sign-in: ID + password (argon2id) + one-time password (TOTP), a
//! 15-minute access token and a refresh token bound to the device, both
//! stored hashed. A rotated refresh token presented again revokes its whole
//! device session (token family) — except the one rotated away last,
//! presented again by its own device within [`REFRESH_GRACE_SECS`]: its
//! answer was lost on the line, and the desk gets a fresh pair (the pair it
//! never received is rotated away in turn). Five failures lock the account until an administrator
//! resets it. Logout and `admin disable-device` revoke.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::routing::post;
use axum::{Json, Router};

use crate::extract::Body;
use todoke_protocol::{LoginRequest, RefreshRequest, TokenResponse};
use uuid::Uuid;

use crate::credentials::{new_token, token_hash, totp_match, verify_password};
use crate::db::Tx;
use crate::scope::{OrgKind, Principal, Role};
use crate::{audit, ApiError, AppState, ACCESS_TTL_SECS, MAX_FAILURES, REFRESH_TTL_SECS};

/// How long the refresh token rotated away last still gets a fresh pair
/// when its own device presents it again (a lost answer, not a replay).
/// The grace never extends itself: it runs from the rotation whose answer was lost.
pub const REFRESH_GRACE_SECS: i64 = 300;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/auth/login", post(login)).route("/api/auth/refresh", post(refresh)).route("/api/auth/logout", post(logout))
}

fn check_device_id(device_id: &str) -> Result<(), ApiError> {
    if device_id.is_empty() || device_id.len() > 100 {
        return Err(ApiError::invalid("device_id", "length", "端末IDは1〜100文字です。", "device_id must be 1–100 characters."));
    }
    Ok(())
}

async fn login(State(state): State<AppState>, Body(req): Body<LoginRequest>) -> Result<Json<TokenResponse>, ApiError> {
    check_device_id(&req.device_id)?;
    let login = req.login.clone();
    let account = state
        .run(move |db| {
            db.tx(|tx| {
                Ok::<_, ApiError>(tx.query_opt(
                    "SELECT s.id, s.password_hash, s.totp_secret, s.failures, s.disabled, s.last_otp_step, s.org, s.role
                     FROM staff s WHERE s.login = $1",
                    &[login.as_str().into()],
                )?)
            })
        })
        .await?;
    let Some(row) = account else {
        // Same work as for a real account, so timing does not tell which logins exist.
        let _ = tokio::task::spawn_blocking(|| verify_password("x", crate::credentials::DUMMY_HASH.as_str())).await;
        return Err(ApiError::BadCredentials);
    };
    let (staff_id, hash, secret) = (row[0].text()?, row[1].text()?, row[2].text()?);
    let (failures, disabled, last_step) = (row[3].int()?, row[4].int()?, row[5].int()?);
    let (org, role) = (row[6].text()?, row[7].text()?);
    if disabled != 0 {
        return Err(ApiError::BadCredentials);
    }
    if failures >= MAX_FAILURES {
        return Err(ApiError::Locked);
    }
    let password = req.password.clone();
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(ApiError::internal)?;
    let now = state.now();
    let step = totp_match(&secret, req.otp.trim(), now.timestamp()).filter(|s| *s > last_step);

    let device_id = req.device_id.clone();
    let outcome = state
        .run(move |db| {
            db.tx(|tx| {
                let Some(step) = step.filter(|_| password_ok) else {
                    tx.exec("UPDATE staff SET failures = failures + 1 WHERE id = $1", &[staff_id.as_str().into()])?;
                    return Ok(Err(if failures + 1 >= MAX_FAILURES { ApiError::Locked } else { ApiError::BadCredentials }));
                };
                let device = tx.query_opt("SELECT disabled FROM device WHERE id = $1", &[device_id.as_str().into()])?;
                match device {
                    Some(d) if d[0].int()? != 0 => return Ok(Err(ApiError::Forbidden)),
                    Some(_) => {}
                    None => {
                        tx.exec("INSERT INTO device (id, disabled) VALUES ($1, 0)", &[device_id.as_str().into()])?;
                    }
                }
                tx.exec("UPDATE staff SET failures = 0, last_otp_step = $1 WHERE id = $2", &[step.into(), staff_id.as_str().into()])?;
                let (access, refresh) = (new_token(), new_token());
                tx.exec(
                    "INSERT INTO session (id, staff_id, device_id, access_hash, access_expires, refresh_hash, refresh_expires, revoked)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
                    &[
                        Uuid::now_v7().to_string().into(),
                        staff_id.as_str().into(),
                        device_id.as_str().into(),
                        token_hash(&access).into(),
                        (now.timestamp() + ACCESS_TTL_SECS).into(),
                        token_hash(&refresh).into(),
                        (now.timestamp() + REFRESH_TTL_SECS).into(),
                    ],
                )?;
                let org_code = org.clone();
                audit::append_raw(tx, now, &req.login, &org_code, &device_id, "login", "staff", &staff_id)?;
                Ok::<_, ApiError>(Ok(TokenResponse {
                    access_token: access,
                    expires_in: ACCESS_TTL_SECS,
                    refresh_token: refresh,
                    org,
                    role,
                }))
            })
        })
        .await?;
    outcome.map(Json)
}

async fn refresh(State(state): State<AppState>, Body(req): Body<RefreshRequest>) -> Result<Json<TokenResponse>, ApiError> {
    check_device_id(&req.device_id)?;
    let now = state.now();
    let tokens = state
        .run(move |db| {
            db.tx(|tx| {
                let row = tx.query_opt(
                    "SELECT se.id, se.device_id, se.refresh_expires, se.revoked, s.disabled, d.disabled, s.org, s.role
                     FROM session se JOIN staff s ON s.id = se.staff_id JOIN device d ON d.id = se.device_id
                     WHERE se.refresh_hash = $1",
                    &[token_hash(&req.refresh_token).into()],
                )?;
                let Some(row) = row else {
                    if let Some(tokens) = regrant_lost_rotation(tx, &req, now.timestamp())? {
                        return Ok(Ok(tokens));
                    }
                    // A refresh token that was already rotated away: someone replayed it
                    // (stolen, or copied with the desk). The whole family — the device
                    // session — ends; both parties sign in again.
                    let reused = tx.query_opt(
                        "SELECT se.id, s.login, s.org, se.device_id, s.id FROM refresh_used u JOIN session se ON se.id = u.session_id
                         JOIN staff s ON s.id = se.staff_id WHERE u.hash = $1",
                        &[token_hash(&req.refresh_token).into()],
                    )?;
                    if let Some(r) = reused {
                        tx.exec("UPDATE session SET revoked = 1 WHERE id = $1", &[r[0].clone()])?;
                        audit::append_raw(
                            tx,
                            now,
                            &r[1].text()?,
                            &r[2].text()?,
                            &r[3].text()?,
                            "refresh_reuse_revoked",
                            "session",
                            &r[0].text()?,
                        )?;
                    }
                    return Ok(Err(ApiError::Unauthenticated));
                };
                let valid = row[1].text()? == req.device_id
                    && row[2].int()? > now.timestamp()
                    && row[3].int()? == 0
                    && row[4].int()? == 0
                    && row[5].int()? == 0;
                if !valid {
                    return Ok(Err(ApiError::Unauthenticated));
                }
                // Rotation: the old refresh token stops working, and is remembered so
                // that a replay of it is recognised.
                tx.exec(
                    "INSERT INTO refresh_used (hash, session_id) VALUES ($1, $2)",
                    &[token_hash(&req.refresh_token).into(), row[0].clone()],
                )?;
                let (access, refresh) = (new_token(), new_token());
                tx.exec(
                    "UPDATE session SET access_hash = $1, access_expires = $2, refresh_hash = $3, refresh_expires = $4 WHERE id = $5",
                    &[
                        token_hash(&access).into(),
                        (now.timestamp() + ACCESS_TTL_SECS).into(),
                        token_hash(&refresh).into(),
                        (now.timestamp() + REFRESH_TTL_SECS).into(),
                        row[0].clone(),
                    ],
                )?;
                tx.exec(
                    "INSERT INTO refresh_rotation (session_id, prev_hash, rotated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (session_id) DO UPDATE SET prev_hash = excluded.prev_hash, rotated_at = excluded.rotated_at",
                    &[row[0].clone(), token_hash(&req.refresh_token).into(), now.timestamp().into()],
                )?;
                Ok::<_, ApiError>(Ok(TokenResponse {
                    access_token: access,
                    expires_in: ACCESS_TTL_SECS,
                    refresh_token: refresh,
                    org: row[6].text()?,
                    role: row[7].text()?,
                }))
            })
        })
        .await?;
    tokens.map(Json)
}

/// The refresh token rotated away last, presented again by the session's own
/// device within the grace: the answer of that rotation was lost. A fresh
/// pair replaces the one never received (whose refresh token is remembered
/// as used: presented later, it is a replay). `None`: not such a case.
fn regrant_lost_rotation(tx: &mut dyn Tx, req: &RefreshRequest, now: i64) -> Result<Option<TokenResponse>, ApiError> {
    let row = tx.query_opt(
        "SELECT se.id, se.device_id, r.rotated_at, se.revoked, s.disabled, d.disabled, s.org, s.role, se.refresh_hash, se.refresh_expires
         FROM refresh_rotation r JOIN session se ON se.id = r.session_id JOIN staff s ON s.id = se.staff_id
         JOIN device d ON d.id = se.device_id WHERE r.prev_hash = $1",
        &[token_hash(&req.refresh_token).into()],
    )?;
    let Some(row) = row else { return Ok(None) };
    let within_grace = matches!(row[2], crate::db::Val::Int(rotated_at) if now - rotated_at <= REFRESH_GRACE_SECS);
    let live = row[1].text()? == req.device_id && row[3].int()? == 0 && row[4].int()? == 0 && row[5].int()? == 0 && row[9].int()? > now;
    if !(within_grace && live) {
        return Ok(None);
    }
    tx.exec("INSERT INTO refresh_used (hash, session_id) VALUES ($1, $2)", &[row[8].clone(), row[0].clone()])?;
    let (access, refresh) = (new_token(), new_token());
    tx.exec(
        "UPDATE session SET access_hash = $1, access_expires = $2, refresh_hash = $3 WHERE id = $4",
        &[token_hash(&access).into(), (now + ACCESS_TTL_SECS).into(), token_hash(&refresh).into(), row[0].clone()],
    )?;
    Ok(Some(TokenResponse {
        access_token: access,
        expires_in: ACCESS_TTL_SECS,
        refresh_token: refresh,
        org: row[6].text()?,
        role: row[7].text()?,
    }))
}

async fn logout(State(state): State<AppState>, who: Principal) -> Result<StatusCode, ApiError> {
    state
        .run(move |db| {
            db.tx(|tx| {
                tx.exec("UPDATE session SET revoked = 1 WHERE id = $1", &[who.session_id.as_str().into()])?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller behind `Authorization: Bearer <access token>`, or 401.
impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Principal, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?
            .trim()
            .to_string();
        let now = state.now().timestamp();
        state.run(move |db| db.tx(|tx| principal(tx, &token, now))).await
    }
}

fn principal(tx: &mut dyn Tx, token: &str, now: i64) -> Result<Principal, ApiError> {
    let row = tx
        .query_opt(
            "SELECT se.id, se.device_id, se.access_expires, se.revoked, s.disabled, d.disabled, s.id, s.login, s.org, s.role, o.kind, o.parent
             FROM session se JOIN staff s ON s.id = se.staff_id JOIN device d ON d.id = se.device_id JOIN org o ON o.code = s.org
             WHERE se.access_hash = $1",
            &[token_hash(token).into()],
        )?
        .ok_or(ApiError::Unauthenticated)?;
    if row[2].int()? <= now || row[3].int()? != 0 || row[4].int()? != 0 || row[5].int()? != 0 {
        return Err(ApiError::Unauthenticated);
    }
    Ok(Principal {
        session_id: row[0].text()?,
        device_id: row[1].text()?,
        staff_id: row[6].text()?,
        login: row[7].text()?,
        org: row[8].text()?,
        role: Role::parse(&row[9].text()?).ok_or_else(|| ApiError::internal("bad role in staff table"))?,
        org_kind: OrgKind::parse(&row[10].text()?).ok_or_else(|| ApiError::internal("bad org kind"))?,
        org_parent: row[11].opt_text()?,
    })
}
