//! The `todoke-server` command line: serve, admin, seed-demo, audit verify.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::credentials::otpauth_uri;
use crate::{accounts, audit, demo, transport, AppState, Db};

#[derive(Parser)]
#[command(name = "todoke-server", version, about = "Todoke central server (届け 中央サーバー)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// SQLite file path or postgres://user@host/db
        #[arg(long)]
        db: String,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Development only: plain HTTP on a non-loopback address.
        #[arg(long)]
        allow_insecure_http: bool,
        /// Requests served at once; beyond it the server answers 429 + Retry-After.
        #[arg(long, default_value_t = crate::DEFAULT_CONCURRENCY)]
        max_concurrent: usize,
    },
    /// Organisations, users and devices.
    Admin {
        #[arg(long)]
        db: String,
        #[command(subcommand)]
        action: Admin,
    },
    /// A demo prefecture, two health centres, a clinic, labs, a facility and users.
    SeedDemo {
        #[arg(long)]
        db: String,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: Audit,
    },
}

#[derive(Subcommand)]
enum Admin {
    CreateOrg {
        /// prefecture, health-centre, clinic, lab, facility, nation. A lab's parent is a
        /// prefecture (地方衛生研究所) or the nation (国立感染症研究所); a facility's
        /// (宿泊療養施設) a prefecture or a health centre.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        parent: Option<String>,
    },
    /// Prints the TOTP secret once, as an otpauth:// URI and a QR code.
    CreateUser {
        #[arg(long)]
        org: String,
        /// staff, viewer, or corrector (labs only: may correct notification, tests, measures)
        #[arg(long)]
        role: String,
        #[arg(long)]
        login: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Also unlocks the account and ends its sessions.
    ResetPassword {
        #[arg(long)]
        login: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// New TOTP secret; also unlocks the account and ends its sessions.
    ResetOtp {
        #[arg(long)]
        login: String,
    },
    /// A new role (e.g. corrector: grants a lab user corrections; viewer takes them back); ends the user's sessions.
    SetRole {
        #[arg(long)]
        login: String,
        /// staff, viewer, or corrector (labs only)
        #[arg(long)]
        role: String,
    },
    DisableUser {
        #[arg(long)]
        login: String,
    },
    /// A lost terminal: its sessions end and it cannot sign in again.
    DisableDevice {
        #[arg(long)]
        device: String,
    },
}

#[derive(Subcommand)]
enum Audit {
    /// Checks the hash chain; exit status 1 if an entry was altered or removed.
    Verify {
        #[arg(long)]
        db: String,
    },
}

pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

type Error = Box<dyn std::error::Error>;

fn read_password() -> Result<String, Error> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn show_secret(login: &str, secret: &str) -> Result<(), Error> {
    let uri = otpauth_uri(secret, login);
    println!("ワンタイムパスワードの設定 (一度だけ表示) / One-time password setup (shown once):\n{uri}\n");
    let code = qrcode::QrCode::new(uri.as_bytes())?;
    println!("{}", code.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build());
    std::io::stdout().flush()?;
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Serve { db, listen, tls_cert, tls_key, allow_insecure_http, max_concurrent } => {
            // Refuse before opening anything.
            transport::check_listen(listen, tls_cert.is_some(), allow_insecure_http)?;
            let db = Db::open(&db)?;
            crate::stat::spawn_background(db.clone(), crate::stat::BACKGROUND_EVERY);
            let mut state = AppState::new(db);
            state.limiter = Arc::new(tokio::sync::Semaphore::new(max_concurrent));
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let tls = tls_cert.as_deref().zip(tls_key.as_deref());
            runtime.block_on(transport::serve(crate::app(state), listen, tls, allow_insecure_http))?;
        }
        Command::Admin { db, action } => {
            let db = Db::open(&db)?;
            match action {
                Admin::CreateOrg { kind, code, name, parent } => {
                    accounts::create_org(&db, &kind, &code, &name, parent.as_deref())?;
                    println!("created organisation {code}");
                }
                Admin::CreateUser { org, role, login, .. } => {
                    let password = read_password()?;
                    let secret = accounts::create_user(&db, &org, &role, &login, &password)?;
                    show_secret(&login, &secret)?;
                }
                Admin::ResetPassword { login, .. } => {
                    let password = read_password()?;
                    accounts::reset_password(&db, &login, &password)?;
                    println!("password reset; account unlocked; sessions ended");
                }
                Admin::ResetOtp { login } => {
                    let secret = accounts::reset_otp(&db, &login)?;
                    show_secret(&login, &secret)?;
                }
                Admin::SetRole { login, role } => {
                    accounts::set_role(&db, &login, &role)?;
                    println!("user {login} now has role {role}; sessions ended");
                }
                Admin::DisableUser { login } => {
                    accounts::disable_user(&db, &login)?;
                    println!("user {login} disabled; sessions ended");
                }
                Admin::DisableDevice { device } => {
                    accounts::disable_device(&db, &device)?;
                    println!("device {device} disabled; sessions ended");
                }
            }
        }
        Command::SeedDemo { db } => {
            let db = Db::open(&db)?;
            let users = demo::seed(&db)?;
            demo::print_instructions(&users);
        }
        Command::Audit { action: Audit::Verify { db } } => {
            let db = Db::open(&db)?;
            match db.tx(|tx| audit::verify(tx))? {
                Ok(n) => println!("audit log intact: {n} entries"),
                Err(problem) => {
                    println!("AUDIT LOG TAMPERED: {problem}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
