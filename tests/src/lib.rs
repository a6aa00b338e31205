//! Support for dbkit's integration tests: where the test servers are, and what to do when one is
//! not configured.
//!
//! `scripts/test` starts the servers and exports `DBKIT_TEST_<BACKEND>_URL`. A test asks for its
//! server with [`server_url`]: when the variable is unset it is skipped with a message, except
//! under `CI=true`, where it fails, so a CI run can never pass by testing nothing.
//!
//! Oracle is the exception: no Oracle server can be started here, so its live suite runs where
//! `ORACLE_URL` is set and is skipped (also under CI) where it is not.

use dbkit::Backend;

pub mod drain;
pub mod paired;

/// The environment variable that holds the test server URL for `backend`.
pub fn url_variable(backend: Backend) -> String {
    match backend {
        Backend::Oracle => "ORACLE_URL".to_owned(),
        _ => format!("DBKIT_TEST_{}_URL", backend.name().to_ascii_uppercase()),
    }
}

/// Whether this is a CI run (`CI=true`), where a missing server is a failure.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The URL of the test server for `backend`, or `None` (after printing why) when it is not
/// configured and this is not CI. Panics under CI when the variable is unset.
pub fn server_url(backend: Backend) -> Option<String> {
    if backend == Backend::Sqlite {
        return Some("sqlite::memory:".to_owned());
    }
    let variable = url_variable(backend);
    match std::env::var(&variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if is_ci() && backend != Backend::Oracle => {
            panic!("{variable} is not set under CI=true: run the tests with scripts/test")
        }
        _ => {
            eprintln!("skipped: {variable} is not set (run the tests with scripts/test)");
            None
        }
    }
}

/// The URL of `backend`'s read replica (`DBKIT_TEST_POSTGRES_REPLICA_URL`, a streaming standby;
/// `DBKIT_TEST_MYSQL_REPLICA_URL`, a GTID replica), or `None` (after printing why) when it is not
/// configured and this is not CI. Panics under CI when the variable is unset.
pub fn replica_url(backend: Backend) -> Option<String> {
    let variable = format!("DBKIT_TEST_{}_REPLICA_URL", backend.name().to_ascii_uppercase());
    match std::env::var(&variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if is_ci() => panic!("{variable} is not set under CI=true: run the tests with scripts/test"),
        _ => {
            eprintln!("skipped: {variable} is not set (run the tests with scripts/test)");
            None
        }
    }
}

/// The Redis test server's URL (`DBKIT_TEST_REDIS_URL`), or `None` (after printing why) when it
/// is not configured and this is not CI. Panics under CI when the variable is unset.
pub fn redis_url() -> Option<String> {
    const VARIABLE: &str = "DBKIT_TEST_REDIS_URL";
    match std::env::var(VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if is_ci() => panic!("{VARIABLE} is not set under CI=true: run the tests with scripts/test"),
        _ => {
            eprintln!("skipped: {VARIABLE} is not set (run the tests with scripts/test)");
            None
        }
    }
}

/// The test servers `scripts/servers env` describes, for the tests that stop and restart them;
/// `None` (after printing why) when they are not configured and this is not CI.
pub fn servers() -> Option<dbkit_test_servers::Servers> {
    match std::env::var("DBKIT_RUN_DIR") {
        Ok(dir) if !dir.is_empty() => {
            Some(dbkit_test_servers::Servers::from_env().expect("DBKIT_* describe the test servers"))
        }
        _ if is_ci() => panic!("DBKIT_RUN_DIR is not set under CI=true: eval \"$(scripts/servers env)\""),
        _ => {
            eprintln!("skipped: DBKIT_RUN_DIR is not set (eval \"$(scripts/servers env)\")");
            None
        }
    }
}

/// Connects to the test server for `backend`, or returns `None` when it is not configured (see
/// [`server_url`]). A configured server that cannot be reached fails the test.
pub async fn connect(backend: Backend) -> Option<dbkit::Database> {
    let url = server_url(backend)?;
    Some(
        dbkit::Database::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the {backend} test server ({}): {e}", url_variable(backend))),
    )
}

/// A name unique to this process and call, for tables and files that tests running in parallel
/// must not share.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Like [`connect`], with the configuration adjusted by `adjust` first.
pub async fn connect_configured(
    backend: Backend,
    adjust: impl FnOnce(dbkit::DatabaseConfig) -> dbkit::DatabaseConfig,
) -> Option<dbkit::Database> {
    let url = server_url(backend)?;
    let config = adjust(dbkit::DatabaseConfig::from_url(&url).expect("the test server URL parses"));
    Some(
        dbkit::Database::connect_with(config)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the {backend} test server ({}): {e}", url_variable(backend))),
    )
}

/// Runs the raw statement `sql` in the unit of work `tx`, whatever its backend: on SQLite through
/// the unit's rusqlite connection (dbkit's native engine), on PostgreSQL and MySQL through sqlx.
/// Returns the rows it changed.
pub async fn execute_in(tx: &mut dbkit::DatabaseTransaction, sql: &str) -> dbkit::Result<u64> {
    use dbkit::sqlx::AssertSqlSafe;
    match tx.backend() {
        Backend::Sqlite => {
            let conn = tx.sqlite()?;
            // A statement that returns rows (`SELECT 1`) is run as a query; its rows are dropped.
            let mut statement = conn.prepare(sql)?;
            if statement.column_count() > 0 {
                let mut rows = statement.query([])?;
                while rows.next()?.is_some() {}
                Ok(0)
            } else {
                Ok(statement.execute([])? as u64)
            }
        }
        Backend::Postgres => Ok(dbkit::sqlx::query(AssertSqlSafe(sql.to_owned()))
            .execute(tx.sqlx::<dbkit::sqlx::Postgres>()?)
            .await?
            .rows_affected()),
        Backend::MySql => Ok(dbkit::sqlx::query(AssertSqlSafe(sql.to_owned()))
            .execute(tx.sqlx::<dbkit::sqlx::MySql>()?)
            .await?
            .rows_affected()),
        other => unreachable!("{other} has no raw SQL units in these tests"),
    }
}

/// A metrics recorder for this thread until the guard drops (leaked: a test's worth of memory, so
/// the guard can borrow it for `'static`), and what reads it. Install it before connecting: a
/// database registers its handles when it connects. A snapshot takes what it reports (counters
/// restart from 0, histograms are emptied).
pub fn record_metrics() -> (metrics_util::debugging::Snapshotter, metrics::LocalRecorderGuard<'static>) {
    let recorder: &'static metrics_util::debugging::DebuggingRecorder =
        Box::leak(Box::new(metrics_util::debugging::DebuggingRecorder::new()));
    (recorder.snapshotter(), metrics::set_default_local_recorder(recorder))
}
