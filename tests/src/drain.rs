//! What the drain tests and the drain bench share: long in-flight work on each backend, and a
//! second connection to check what a drained database left behind.

use std::time::Duration;

use dbkit::sqlx::{self, AssertSqlSafe};
use dbkit::{Backend, Database, DatabaseConfig};

use crate::{server_url, unique_name};

/// A fresh database for `backend` (SQLite: a file, so that a second connection sees the same
/// data), or `None` when its server is not configured outside CI.
pub async fn fresh(backend: Backend) -> Option<(Database, String)> {
    let url = match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name("dbkit_drain")));
            format!("sqlite:{}", path.display())
        }
        _ => server_url(backend)?,
    };
    // A small pool, so that the counts in the reports are easy to reason about.
    let config = DatabaseConfig::from_url(&url).unwrap().pool_size(1).max_overflow(4);
    let db =
        Database::connect_with(config).await.unwrap_or_else(|e| panic!("cannot reach the {backend} test server: {e}"));
    Some((db, url))
}

/// A second, independent connection to the same database.
pub async fn second(url: &str) -> Database {
    Database::connect(url).await.unwrap()
}

/// Runs `sql` (a statement without results) on a session of its own.
pub async fn exec(db: &Database, sql: String) -> dbkit::Result<()> {
    match db.backend() {
        Backend::Postgres => {
            let mut s = db.session::<sqlx::Postgres>().await?;
            sqlx::query(AssertSqlSafe(sql)).execute(&mut *s).await?;
        }
        Backend::MySql => {
            let mut s = db.session::<sqlx::MySql>().await?;
            sqlx::query(AssertSqlSafe(sql)).execute(&mut *s).await?;
        }
        _ => {
            let mut s = db.session::<sqlx::Sqlite>().await?;
            sqlx::query(AssertSqlSafe(sql)).execute(&mut *s).await?;
        }
    }
    Ok(())
}

/// `SELECT COUNT(*) FROM table`.
pub async fn count(db: &Database, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db.backend() {
        Backend::Postgres => {
            let mut s = db.session::<sqlx::Postgres>().await.unwrap();
            sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut *s).await.unwrap()
        }
        Backend::MySql => {
            let mut s = db.session::<sqlx::MySql>().await.unwrap();
            sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut *s).await.unwrap()
        }
        _ => {
            let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
            sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut *s).await.unwrap()
        }
    }
}

/// A new table `(id INTEGER PRIMARY KEY)`.
pub async fn table(db: &Database) -> String {
    let name = unique_name("drain");
    exec(db, format!("CREATE TABLE {name} (id INTEGER PRIMARY KEY)")).await.unwrap();
    name
}

/// A long statement on `backend` (`pg_sleep`, `SLEEP`); `None` for SQLite, which has no sleep.
fn sleep_sql(backend: Backend, time: Duration) -> Option<String> {
    match backend {
        Backend::Postgres => Some(format!("SELECT pg_sleep({})", time.as_secs_f64())),
        Backend::MySql => Some(format!("SELECT SLEEP({})", time.as_secs_f64())),
        _ => None,
    }
}

/// Holds a session for `time`: one long statement on a server; on SQLite, the session held open
/// while the task sleeps. Runs on the session directly (not inside `cancellable`).
pub async fn long_session(db: &Database, time: Duration) -> dbkit::Result<()> {
    long_session_then(db, time, || {}).await
}

/// [`long_session`], calling `held` once the session is held: a session still connecting counts
/// as in flight too, and a drain that starts then refuses it, which is not the work a test of
/// "work already running" means.
pub async fn long_session_then(db: &Database, time: Duration, held: impl FnOnce()) -> dbkit::Result<()> {
    match (db.backend(), sleep_sql(db.backend(), time)) {
        (Backend::Postgres, Some(sql)) => {
            let mut s = db.session::<sqlx::Postgres>().await?;
            held();
            sqlx::query(AssertSqlSafe(sql)).execute(&mut *s).await?;
        }
        (Backend::MySql, Some(sql)) => {
            let mut s = db.session::<sqlx::MySql>().await?;
            held();
            sqlx::query(AssertSqlSafe(sql)).execute(&mut *s).await?;
        }
        _ => {
            let _session = db.session::<sqlx::Sqlite>().await?;
            held();
            tokio::time::sleep(time).await;
        }
    }
    Ok(())
}

/// How [`insert_then_work`] runs its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `Database::transaction`.
    Once,
    /// `Database::transaction_with`, retried whole under the default policy.
    Retried,
}

/// In one transaction (run as `unit` says): inserts `id` into `table`, calls `inserted`, then
/// works for `time` (a long statement, or holding the transaction open on SQLite) and commits.
pub async fn insert_then_work(
    db: &Database,
    unit: Unit,
    table: &str,
    id: i64,
    time: Duration,
    inserted: impl Fn() + Send,
) -> dbkit::Result<()> {
    let insert = format!("INSERT INTO {table} (id) VALUES ({id})");
    let sleep = sleep_sql(db.backend(), time);
    let policy = dbkit::retry::RetryPolicy::new();
    // Owns what it captures, so the future is `Send` (see `Database::transaction_with`).
    let work = async move |tx: &mut dbkit::DatabaseTransaction| {
        crate::execute_in(tx, &insert).await?;
        inserted();
        match &sleep {
            Some(sql) => {
                crate::execute_in(tx, sql).await?;
            }
            None => tokio::time::sleep(time).await,
        }
        Ok(())
    };
    match unit {
        Unit::Once => db.transaction(work).await,
        Unit::Retried => db.transaction_with(&policy, work).await,
    }
}

/// Waits (up to 10 s) until `db` has `n` sessions in flight.
pub async fn until_in_flight(db: &Database, n: usize) {
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while db.sessions_in_flight() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{} sessions in flight, expected {n}", db.sessions_in_flight());
}

/// Waits (up to 10 s) until `db`'s pool has at least `n` connections open. A session counts as in
/// flight from the moment it asks for a connection, so [`until_in_flight`] can return while the
/// last one is still connecting.
pub async fn until_connections(db: &Database, n: u32) {
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while db.connections_open() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{} connections open, expected {n}", db.connections_open());
}

/// Waits (up to 10 s) until `db`'s pool has no connection open; returns how many are.
pub async fn until_no_connections(db: &Database) -> u32 {
    let mut open = db.connections_open();
    for _ in 0..1000 {
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        open = db.connections_open();
    }
    open
}
