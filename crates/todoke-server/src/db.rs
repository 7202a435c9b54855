//! Storage: one small trait ([`Tx`]) over a transaction, with a SQLite and a
//! PostgreSQL implementation. Every query is written once, in the SQL both
//! speak (`$1` placeholders, BIGINT and TEXT columns), so both backends run the
//! same code and the same tests. Synchronous, like the desk's store: handlers
//! call it from a blocking thread.

use std::sync::{Arc, Mutex};

use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;
use rusqlite::types::{ToSqlOutput, ValueRef};

/// A value crossing the storage boundary.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    /// BLOB (SQLite) / BYTEA (PostgreSQL).
    Bytes(Vec<u8>),
}

impl Val {
    pub fn int(&self) -> Result<i64, DbError> {
        match self {
            Val::Int(i) => Ok(*i),
            other => Err(DbError::Type(format!("expected an integer, found {other:?}"))),
        }
    }
    pub fn text(&self) -> Result<String, DbError> {
        match self {
            Val::Text(s) => Ok(s.clone()),
            other => Err(DbError::Type(format!("expected text, found {other:?}"))),
        }
    }
    pub fn opt_text(&self) -> Result<Option<String>, DbError> {
        match self {
            Val::Null => Ok(None),
            _ => self.text().map(Some),
        }
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        v.map(Val::Text).unwrap_or(Val::Null)
    }
}

pub type Row = Vec<Val>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("column type: {0}")]
    Type(String),
    #[error(
        "このデータベースは新しい版のサーバーで作られています(スキーマ {found}、この版は {known} まで)。新しい版を使ってください。 / The database was written by a newer todoke-server (schema {found}; this binary knows up to {known}): run a newer binary."
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("unsupported database address {0:?} (a file path or postgres://…)")]
    BadUrl(String),
}

impl DbError {
    /// A unique or primary-key constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => e.extended_code == 2067 || e.extended_code == 1555,
            DbError::Postgres(e) => e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }
}

/// One open transaction. Dropped without commit: rolled back.
pub trait Tx {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError>;
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError>;
    /// Makes this transaction the only writer until it commits, so that
    /// sequence numbers follow commit order (SQLite: already so; PostgreSQL:
    /// a transaction-level advisory lock).
    fn lock_writers(&mut self) -> Result<(), DbError>;
    /// Streams the first column of every row, as bytes (BLOB / BYTEA), to
    /// `f` without collecting the rows: for scans of millions of rows.
    fn for_each_bytes(&mut self, sql: &str, params: &[Val], f: &mut dyn FnMut(&[u8])) -> Result<u64, DbError>;

    fn query_opt(&mut self, sql: &str, params: &[Val]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Inserts rows (see [`insert_rows`], [`upsert_rows`]); `tail` follows the values.
    fn insert_many(&mut self, table: &str, cols: &[&str], rows: &[Vec<Val>], tail: &str) -> Result<(), DbError> {
        insert_multi_row(self, table, cols, rows, tail)
    }
}

/// `INSERT INTO table (cols) VALUES (…), (…), …`: many rows in a few
/// statements (one round trip each on PostgreSQL; on SQLite, one cached
/// single-row statement run per row).
pub fn insert_rows(tx: &mut dyn Tx, table: &str, cols: &[&str], rows: &[Vec<Val>]) -> Result<(), DbError> {
    tx.insert_many(table, cols, rows, "")
}

/// [`insert_rows`] with an `ON CONFLICT …` clause after the rows (the SQL both
/// backends speak: `excluded.col` is the row that was refused).
pub fn upsert_rows(tx: &mut dyn Tx, table: &str, cols: &[&str], rows: &[Vec<Val>], on_conflict: &str) -> Result<(), DbError> {
    tx.insert_many(table, cols, rows, on_conflict)
}

/// Multi-row INSERTs chunked under both backends' limits on bound parameters.
fn insert_multi_row(tx: &mut (impl Tx + ?Sized), table: &str, cols: &[&str], rows: &[Vec<Val>], tail: &str) -> Result<(), DbError> {
    let per_chunk = (30_000 / cols.len().max(1)).max(1);
    for chunk in rows.chunks(per_chunk) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
        let mut params = Vec::with_capacity(chunk.len() * cols.len());
        for (i, row) in chunk.iter().enumerate() {
            debug_assert_eq!(row.len(), cols.len());
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..row.len() {
                if j > 0 {
                    sql.push_str(", ");
                }
                params.push(row[j].clone());
                sql.push('$');
                sql.push_str(&params.len().to_string());
            }
            sql.push(')');
        }
        if !tail.is_empty() {
            sql.push(' ');
            sql.push_str(tail);
        }
        tx.exec(&sql, &params)?;
    }
    Ok(())
}

type PgPool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// The server's database.
#[derive(Clone)]
pub enum Db {
    /// One connection: SQLite has a single writer anyway.
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(Arc<PgHandle>),
}

/// The pool, closed off the async threads: the `postgres` client blocks
/// while closing, which must not happen on a thread that drives tasks.
pub struct PgHandle(Option<PgPool>);

impl Drop for PgHandle {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::spawn(move || drop(pool)).join();
            }
        }
    }
}

/// PostgreSQL connections per server process.
pub const POOL_SIZE: u32 = 16;

const ADVISORY_WRITER_LOCK: i64 = 0x7464_6b65; // "tdke"

impl Db {
    /// `postgres://…` or a SQLite file path (`:memory:` for tests).
    pub fn open(url: &str) -> Result<Db, DbError> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let config = url.parse().map_err(|_| DbError::BadUrl(url.to_string()))?;
            let manager = PostgresConnectionManager::new(config, NoTls);
            let pool = r2d2::Pool::builder().max_size(POOL_SIZE).build(manager)?;
            Db::Postgres(Arc::new(PgHandle(Some(pool))))
        } else if url.is_empty() {
            return Err(DbError::BadUrl(url.to_string()));
        } else {
            let conn = rusqlite::Connection::open(url)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            Db::Sqlite(Arc::new(Mutex::new(conn)))
        };
        db.tx(|tx| crate::schema::migrate(tx))?;
        Ok(db)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgresql",
        }
    }

    /// Runs `f` in one transaction: committed if it returns Ok, rolled back otherwise.
    pub fn tx<T, E: From<DbError>>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        match self {
            Db::Sqlite(conn) => {
                let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(DbError::from)?;
                let mut wrapped = SqliteTx(&tx);
                let out = f(&mut wrapped)?;
                tx.commit().map_err(DbError::from)?;
                Ok(out)
            }
            Db::Postgres(pool) => {
                let mut client = pool.0.as_ref().expect("open pool").get().map_err(DbError::from)?;
                let tx = client.transaction().map_err(DbError::from)?;
                let mut wrapped = PgTx(Some(tx));
                let out = f(&mut wrapped)?;
                wrapped.0.take().expect("transaction present").commit().map_err(DbError::from)?;
                Ok(out)
            }
        }
    }
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

/// `$1` → `?1` (SQLite reads both, but `?N` binds by number without surprises).
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql))?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
                    other => return Err(DbError::Type(format!("unexpected SQLite value {other:?}"))),
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    /// No round trips to save: one prepared statement, run per row (a
    /// statement per row count would be prepared again and again).
    fn insert_many(&mut self, table: &str, cols: &[&str], rows: &[Vec<Val>], tail: &str) -> Result<(), DbError> {
        if rows.is_empty() {
            return Ok(());
        }
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let sql = format!("INSERT INTO {table} ({}) VALUES ({}) {tail}", cols.join(", "), marks.join(", "));
        let mut stmt = self.0.prepare_cached(&sql)?;
        for row in rows {
            debug_assert_eq!(row.len(), cols.len());
            stmt.execute(rusqlite::params_from_iter(row.iter()))?;
        }
        Ok(())
    }

    fn lock_writers(&mut self) -> Result<(), DbError> {
        Ok(()) // BEGIN IMMEDIATE and the one connection already make a single writer.
    }

    fn for_each_bytes(&mut self, sql: &str, params: &[Val], f: &mut dyn FnMut(&[u8])) -> Result<u64, DbError> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            f(r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?);
            n += 1;
        }
        Ok(n)
    }
}

struct PgTx<'a>(Option<postgres::Transaction<'a>>);

impl ToSql for Val {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(i) if *ty == Type::INT4 => (*i as i32).to_sql(ty, out),
            Val::Int(i) => i.to_sql(ty, out),
            Val::Text(s) => s.as_str().to_sql(ty, out),
            Val::Bytes(b) => b.as_slice().to_sql(ty, out),
        }
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// Parameters with their types stated, so a statement is one round trip
/// (no separate prepare): every integer is BIGINT, everything else TEXT.
fn typed(params: &[Val]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    params
        .iter()
        .map(|p| {
            let ty = match p {
                Val::Int(_) => Type::INT8,
                Val::Bytes(_) => Type::BYTEA,
                _ => Type::TEXT,
            };
            (p as &(dyn ToSql + Sync), ty)
        })
        .collect()
}

impl Tx for PgTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut rows = self.0.as_mut().expect("open").query_typed_raw(sql, typed(params))?;
        while rows.next()?.is_some() {}
        Ok(rows.rows_affected().unwrap_or(0))
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError> {
        let rows = self.0.as_mut().expect("open").query_typed(sql, &typed(params))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut row = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let ty = col.type_();
                row.push(if *ty == Type::INT8 {
                    r.get::<_, Option<i64>>(i).map(Val::Int).unwrap_or(Val::Null)
                } else if *ty == Type::INT4 {
                    r.get::<_, Option<i32>>(i).map(|v| Val::Int(v as i64)).unwrap_or(Val::Null)
                } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                    r.get::<_, Option<String>>(i).map(Val::Text).unwrap_or(Val::Null)
                } else if *ty == Type::BYTEA {
                    r.get::<_, Option<Vec<u8>>>(i).map(Val::Bytes).unwrap_or(Val::Null)
                } else if *ty == Type::BOOL {
                    r.get::<_, Option<bool>>(i).map(|b| Val::Int(b as i64)).unwrap_or(Val::Null)
                } else {
                    Val::Null // e.g. the void of pg_advisory_xact_lock()
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    fn lock_writers(&mut self) -> Result<(), DbError> {
        self.0.as_mut().expect("open").execute("SELECT pg_advisory_xact_lock($1)", &[&ADVISORY_WRITER_LOCK])?;
        Ok(())
    }

    fn for_each_bytes(&mut self, sql: &str, params: &[Val], f: &mut dyn FnMut(&[u8])) -> Result<u64, DbError> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut rows = self.0.as_mut().expect("open").query_typed_raw(sql, typed(params))?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            f(r.try_get::<_, &[u8]>(0)?);
            n += 1;
        }
        Ok(n)
    }
}
