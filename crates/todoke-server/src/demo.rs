//! `todoke-server seed-demo`: a demo prefecture, two health centres, a clinic,
//! the prefecture's lab, the national lab (NIID), a recovery hotel, the
//! nation, and users (the lab has a reader and a granted corrector); plus
//! Tokyo's 世田谷区保健所, the health centre of the run command's demo desk.

use crate::accounts::{create_org, create_user, AdminError};
use crate::credentials::{otpauth_uri, random_bytes};
use crate::db::Db;

pub struct DemoUser {
    pub login: String,
    pub org: String,
    pub role: String,
    pub password: String,
    pub totp_secret: String,
}

pub const ORGS: &[(&str, &str, &str, Option<&str>)] = &[
    ("nation", "JP", "厚生労働省 (デモ)", None),
    ("prefecture", "P99", "デモ県", Some("JP")),
    ("health-centre", "HC9901", "デモ県中央保健所", Some("P99")),
    ("health-centre", "HC9902", "デモ県北保健所", Some("P99")),
    ("clinic", "CL990001", "デモ内科クリニック", Some("HC9901")),
    ("lab", "LAB99", "デモ県衛生研究所", Some("P99")),
    ("lab", "NIID", "国立感染症研究所 (デモ)", Some("JP")),
    ("facility", "FAC9901", "デモ県宿泊療養施設", Some("P99")),
    // The health centre of the demo desk that `scripts/run.sh` creates
    // (`todoke-cli init --org HC131121`), so that desk can sign in and sync.
    ("prefecture", "P13", "東京都", Some("JP")),
    ("health-centre", "HC131121", "世田谷区保健所", Some("P13")),
];

pub const USERS: &[(&str, &str, &str)] = &[
    ("chuo", "HC9901", "staff"),
    ("kita", "HC9902", "staff"),
    ("clinic", "CL990001", "staff"),
    ("ken", "P99", "staff"),
    ("lab", "LAB99", "viewer"),
    ("lab-fix", "LAB99", "corrector"),
    ("niid", "NIID", "viewer"),
    ("hotel", "FAC9901", "staff"),
    ("kuni", "JP", "viewer"),
    ("setagaya", "HC131121", "staff"),
];

pub fn seed(db: &Db) -> Result<Vec<DemoUser>, AdminError> {
    for (kind, code, name, parent) in ORGS {
        create_org(db, kind, code, name, *parent)?;
    }
    let mut users = Vec::new();
    for (login, org, role) in USERS {
        let password = format!("demo-{}", hex::encode(random_bytes::<6>()));
        let totp_secret = create_user(db, org, role, login, &password)?;
        users.push(DemoUser { login: login.to_string(), org: org.to_string(), role: role.to_string(), password, totp_secret });
    }
    Ok(users)
}

pub fn print_instructions(users: &[DemoUser]) {
    println!("デモ用の組織と利用者を作成しました / Demo organisations and users created.\n");
    for u in users {
        println!("  {:<7} org {:<9} role {:<9} password {}  {}", u.login, u.org, u.role, u.password, otpauth_uri(&u.totp_secret, &u.login));
    }
    println!(
        "\nサインイン / Sign in: add the otpauth:// URI to an authenticator app, then\n  \
         POST /api/auth/login {{\"login\":\"chuo\",\"password\":\"…\",\"otp\":\"123456\",\"device_id\":\"my-desk\"}}"
    );
}
