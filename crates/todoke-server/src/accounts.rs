//! Organisations, staff accounts and devices: what `todoke-server admin` does.
//! Every change is written to the audit chain in its own transaction: who
//! (`admin:<operating-system user>`, on which host), what, to which record.

use uuid::Uuid;

use crate::credentials::{hash_password, new_totp_secret};
use crate::db::{Db, DbError, Tx};
use crate::scope::{OrgKind, Role};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("unknown organisation kind {0:?} (nation, prefecture, health-centre, clinic, lab, facility)")]
    BadKind(String),
    #[error("unknown role {0:?} (staff, viewer, corrector)")]
    BadRole(String),
    #[error("a {kind} needs a parent of kind {expected} (--parent)")]
    BadParent { kind: &'static str, expected: String },
    #[error("the role {role} is not for a {kind} (corrector: labs only)")]
    RoleNotForOrg { role: &'static str, kind: &'static str },
    #[error("organisation {0:?} already exists")]
    OrgExists(String),
    #[error("no organisation {0:?}")]
    NoOrg(String),
    #[error("login {0:?} already exists")]
    LoginExists(String),
    #[error("no user {0:?}")]
    NoUser(String),
    #[error("the password must be at least 12 characters")]
    WeakPassword,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The administrator as the audit log names them: the operating-system user
/// running the command, and the host.
fn operator() -> (String, String) {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "unknown".into());
    (format!("admin:{user}"), host)
}

fn audit_admin(tx: &mut dyn Tx, action: &str, entity: &str, entity_id: &str) -> Result<(), DbError> {
    let (who, host) = operator();
    crate::audit::append_raw(tx, chrono::Utc::now(), &who, "-", &host, &format!("admin.{action}"), entity, entity_id)
}

pub fn create_org(db: &Db, kind: &str, code: &str, name: &str, parent: Option<&str>) -> Result<(), AdminError> {
    let kind = OrgKind::parse(kind).ok_or_else(|| AdminError::BadKind(kind.into()))?;
    db.tx(|tx| {
        audit_admin(tx, "create-org", "org", code)?;
        let parent_kind = match parent {
            Some(p) => Some(org_kind(tx, p)?.ok_or_else(|| AdminError::NoOrg(p.into()))?),
            None => None,
        };
        // A lab reads what its parent sees, a facility hangs under the area that places residents there.
        if let Some(allowed) = kind.parent_kinds() {
            if !parent_kind.is_some_and(|k| allowed.contains(&k)) {
                let expected = allowed.iter().map(|k| k.code()).collect::<Vec<_>>().join(" or ");
                return Err(AdminError::BadParent { kind: kind.code(), expected });
            }
        }
        match tx.exec(
            "INSERT INTO org (code, kind, name, parent) VALUES ($1, $2, $3, $4)",
            &[code.into(), kind.code().into(), name.into(), parent.map(str::to_string).into()],
        ) {
            Err(e) if e.is_unique_violation() => Err(AdminError::OrgExists(code.into())),
            other => other.map(|_| ()).map_err(AdminError::from),
        }
    })
}

pub fn org_kind(tx: &mut dyn Tx, code: &str) -> Result<Option<OrgKind>, DbError> {
    Ok(tx
        .query_opt("SELECT kind FROM org WHERE code = $1", &[code.into()])?
        .and_then(|r| r[0].text().ok())
        .and_then(|k| OrgKind::parse(&k)))
}

/// Creates a user; returns the TOTP secret (base32), to be shown once.
pub fn create_user(db: &Db, org: &str, role: &str, login: &str, password: &str) -> Result<String, AdminError> {
    let role = Role::parse(role).ok_or_else(|| AdminError::BadRole(role.into()))?;
    check_password(password)?;
    let hash = hash_password(password);
    let secret = new_totp_secret();
    db.tx(|tx| {
        let kind = org_kind(tx, org)?.ok_or_else(|| AdminError::NoOrg(org.into()))?;
        if !role.fits(kind) {
            return Err(AdminError::RoleNotForOrg { role: role.code(), kind: kind.code() });
        }
        audit_admin(tx, "create-user", "staff", login)?;
        match tx.exec(
            "INSERT INTO staff (id, login, org, role, password_hash, totp_secret, failures, disabled, last_otp_step)
             VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0)",
            &[Uuid::now_v7().to_string().into(), login.into(), org.into(), role.code().into(), hash.into(), secret.as_str().into()],
        ) {
            Err(e) if e.is_unique_violation() => Err(AdminError::LoginExists(login.into())),
            other => other.map(|_| ()).map_err(AdminError::from),
        }
    })?;
    Ok(secret)
}

fn check_password(password: &str) -> Result<(), AdminError> {
    if password.chars().count() < 12 {
        return Err(AdminError::WeakPassword);
    }
    Ok(())
}

fn update_user(db: &Db, action: &str, login: &str, sql: &str, params: Vec<crate::db::Val>) -> Result<(), AdminError> {
    db.tx(|tx| {
        audit_admin(tx, action, "staff", login)?;
        let mut all = params;
        all.push(login.into());
        if tx.exec(sql, &all)? == 0 {
            return Err(AdminError::NoUser(login.into()));
        }
        // Whatever changed, the user's sessions end.
        tx.exec("UPDATE session SET revoked = 1 WHERE staff_id = (SELECT id FROM staff WHERE login = $1)", &[login.into()])?;
        Ok(())
    })
}

/// New password; also unlocks the account.
pub fn reset_password(db: &Db, login: &str, password: &str) -> Result<(), AdminError> {
    check_password(password)?;
    update_user(
        db,
        "reset-password",
        login,
        "UPDATE staff SET password_hash = $1, failures = 0 WHERE login = $2",
        vec![hash_password(password).into()],
    )
}

/// New TOTP secret (returned, to be shown once); also unlocks the account.
pub fn reset_otp(db: &Db, login: &str) -> Result<String, AdminError> {
    let secret = new_totp_secret();
    update_user(
        db,
        "reset-otp",
        login,
        "UPDATE staff SET totp_secret = $1, failures = 0, last_otp_step = 0 WHERE login = $2",
        vec![secret.as_str().into()],
    )?;
    Ok(secret)
}

/// A new role, e.g. `corrector` to grant a lab user corrections (DOMAIN.md
/// §2 "corrections where granted") or `viewer` to take them back. The user's
/// sessions end, so the change holds from the next sign-in.
pub fn set_role(db: &Db, login: &str, role: &str) -> Result<(), AdminError> {
    let role = Role::parse(role).ok_or_else(|| AdminError::BadRole(role.into()))?;
    let kind = db.tx(|tx| {
        let org =
            tx.query_opt("SELECT org FROM staff WHERE login = $1", &[login.into()])?.ok_or_else(|| AdminError::NoUser(login.into()))?;
        org_kind(tx, &org[0].text()?)?.ok_or_else(|| AdminError::NoUser(login.into()))
    })?;
    if !role.fits(kind) {
        return Err(AdminError::RoleNotForOrg { role: role.code(), kind: kind.code() });
    }
    update_user(db, "set-role", login, "UPDATE staff SET role = $1 WHERE login = $2", vec![role.code().into()])
}

pub fn disable_user(db: &Db, login: &str) -> Result<(), AdminError> {
    update_user(db, "disable-user", login, "UPDATE staff SET disabled = 1 WHERE login = $1", vec![])
}

/// A lost or stolen terminal: its sessions end and it cannot sign in again.
pub fn disable_device(db: &Db, device_id: &str) -> Result<(), AdminError> {
    db.tx(|tx| {
        audit_admin(tx, "disable-device", "device", device_id)?;
        if tx.exec("UPDATE device SET disabled = 1 WHERE id = $1", &[device_id.into()])? == 0 {
            tx.exec("INSERT INTO device (id, disabled) VALUES ($1, 1)", &[device_id.into()])?;
        }
        tx.exec("UPDATE session SET revoked = 1 WHERE device_id = $1", &[device_id.into()])?;
        Ok(())
    })
}
