//! Each SQL backend connects, answers health checks, reports its info, commits, rolls back (on
//! request, on error, and when a transaction is dropped) and always returns its connection.
//! Run identically on SQLite (memory and file), PostgreSQL and MariaDB.

use std::time::Duration;

use dbkit::sqlx;
use dbkit::{Backend, Database, DatabaseConfig, DatabaseState, Error, ErrorCategory};
use dbkit_tests::{connect, unique_name};

/// Stamps out the shared behaviour tests for one backend. `$connect` yields `Option<Database>`
/// (None: server not configured outside CI).
macro_rules! sql_backend_tests {
    ($module:ident, $driver:ty, $connect:expr) => {
        mod $module {
            use super::*;

            async fn db() -> Option<Database> {
                $connect.await
            }

            #[tokio::test]
            async fn connects_and_answers_health_checks() {
                let Some(db) = db().await else { return };
                db.health_check().await.unwrap();
                let info = db.info().await.unwrap();
                assert_eq!(info.backend, db.backend());
                assert!(!info.server_version.is_empty());
                assert!(info.pool_size >= 1, "{info:?}");
                assert_eq!(info.pool_max, db.config().max_connections());
                assert_eq!(info.state, DatabaseState::Open);
                assert_eq!(info.sessions_in_flight, 0);
            }

            #[tokio::test]
            async fn commit_keeps_rollback_discards_drop_discards() {
                let Some(db) = db().await else { return };
                let table = unique_name("tx");
                let mut s = db.session::<$driver>().await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE TABLE {table} (n INTEGER NOT NULL)")))
                    .execute(&mut *s)
                    .await
                    .unwrap();
                drop(s);

                // Commit on success.
                db.transaction(async |tx| {
                    dbkit_tests::execute_in(tx, &format!("INSERT INTO {table} VALUES (1)")).await?;
                    Ok(())
                })
                .await
                .unwrap();

                // Roll back when the closure fails.
                let err = db
                    .transaction::<()>(async |tx| {
                        dbkit_tests::execute_in(tx, &format!("INSERT INTO {table} VALUES (2)")).await?;
                        dbkit_tests::execute_in(tx, "SELECT * FROM no_such_table_anywhere").await?;
                        Ok(())
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.category(), ErrorCategory::Permanent, "{err}");

                // Explicit rollback.
                let mut tx = db.begin::<$driver>().await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {table} VALUES (3)")))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.rollback().await.unwrap();

                // Dropped without commit: rolled back.
                let mut tx = db.begin::<$driver>().await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {table} VALUES (4)")))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                drop(tx);

                // Another connection sees only the committed row.
                let mut s = db.session::<$driver>().await.unwrap();
                let rows: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(
                    format!("SELECT CAST(n AS SIGNED_INT) FROM {table} ORDER BY n")
                        .replace("SIGNED_INT", signed_int(db.backend())),
                ))
                .fetch_all(&mut *s)
                .await
                .unwrap();
                assert_eq!(rows, vec![1]);
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&mut *s).await.unwrap();
                drop(s);
                assert_eq!(db.sessions_in_flight(), 0);
            }

            #[tokio::test]
            async fn connections_are_always_returned() {
                let Some(db) = db().await else { return };
                let max = db.config().max_connections() as usize;
                // Twice the pool's size in sessions, errors and drops: none may leak.
                for i in 0..2 * max {
                    let mut s = db.session::<$driver>().await.unwrap();
                    if i % 2 == 0 {
                        let _ = sqlx::query("SELECT broken syntax here").execute(&mut *s).await.unwrap_err();
                    }
                    let tx = db.begin::<$driver>().await.unwrap();
                    drop(tx);
                }
                assert_eq!(db.sessions_in_flight(), 0);
                let info = db.info().await.unwrap();
                assert!(info.pool_size as usize <= max, "{info:?}");
                db.health_check().await.unwrap();
            }

            #[tokio::test]
            async fn a_session_of_another_backend_is_refused() {
                let Some(db) = db().await else { return };
                let other = if db.backend() == Backend::Sqlite {
                    db.session::<sqlx::Postgres>().await.map(drop)
                } else {
                    db.session::<sqlx::Sqlite>().await.map(drop)
                };
                let err = other.unwrap_err();
                assert!(matches!(err, Error::BackendMismatch { .. }), "{err}");
                assert_eq!(err.category(), ErrorCategory::Permanent);
            }

            #[tokio::test]
            async fn close_refuses_new_sessions() {
                let Some(db) = db().await else { return };
                db.close().await;
                assert_eq!(db.state(), DatabaseState::Closed);
                let err = db.session::<$driver>().await.unwrap_err();
                assert!(err.to_string().contains("closed"), "{err}");
                assert!(db.health_check().await.is_err());
            }
        }
    };
}

fn signed_int(backend: Backend) -> &'static str {
    match backend {
        Backend::MySql => "SIGNED",
        _ => "BIGINT",
    }
}

async fn sqlite_file() -> Option<Database> {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name("dbkit_connect")));
    Some(Database::connect_with(DatabaseConfig::sqlite_file(&path)).await.unwrap())
}

sql_backend_tests!(sqlite_memory, sqlx::Sqlite, connect(Backend::Sqlite));
sql_backend_tests!(sqlite_on_disk, sqlx::Sqlite, sqlite_file());
sql_backend_tests!(postgres, sqlx::Postgres, connect(Backend::Postgres));
sql_backend_tests!(mariadb, sqlx::MySql, connect(Backend::MySql));

#[tokio::test]
async fn sqlite_memory_is_one_database_across_pooled_connections() {
    let db = Database::connect_with(DatabaseConfig::sqlite_memory().pool_size(3)).await.unwrap();
    let mut a = db.session::<sqlx::Sqlite>().await.unwrap();
    let mut b = db.session::<sqlx::Sqlite>().await.unwrap();
    sqlx::query("CREATE TABLE shared (n INTEGER)").execute(&mut *a).await.unwrap();
    sqlx::query("INSERT INTO shared VALUES (7)").execute(&mut *a).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT n FROM shared").fetch_one(&mut *b).await.unwrap();
    assert_eq!(n, 7);

    // Two in-memory databases are separate.
    let other = Database::connect("sqlite::memory:").await.unwrap();
    let mut c = other.session::<sqlx::Sqlite>().await.unwrap();
    assert!(sqlx::query("SELECT n FROM shared").fetch_one(&mut *c).await.is_err());
}

#[tokio::test]
async fn sqlite_file_is_tuned() {
    let db = sqlite_file().await.unwrap();
    let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *s).await.unwrap();
    assert_eq!(journal.to_lowercase(), "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *s).await.unwrap();
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut *s).await.unwrap();
    assert_eq!(busy, 5000);
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *s).await.unwrap();
    assert_eq!(sync, 1, "NORMAL");
}

#[tokio::test]
async fn postgres_is_tuned() {
    let Some(url) = dbkit_tests::server_url(Backend::Postgres) else { return };
    let config = DatabaseConfig::from_url(&url)
        .unwrap()
        .application_name("orders-api")
        .command_timeout(Duration::from_millis(1500));
    let db = Database::connect_with(config).await.unwrap();
    let mut s = db.session::<sqlx::Postgres>().await.unwrap();
    let name: String = sqlx::query_scalar("SHOW application_name").fetch_one(&mut *s).await.unwrap();
    assert_eq!(name, "orders-api");
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout").fetch_one(&mut *s).await.unwrap();
    assert_eq!(timeout, "1500ms");
    let err = sqlx::query("SELECT pg_sleep(5)").execute(&mut *s).await.unwrap_err();
    assert_eq!(Error::from(err).category(), ErrorCategory::Timeout);
}

#[tokio::test]
async fn mariadb_is_tuned() {
    let Some(url) = dbkit_tests::server_url(Backend::MySql) else { return };
    let config = DatabaseConfig::from_url(&url).unwrap().command_timeout(Duration::from_secs(1));
    let db = Database::connect_with(config).await.unwrap();
    assert_eq!(db.mysql_flavor(), Some(dbkit::MySqlFlavor::MariaDb));
    let mut s = db.session::<sqlx::MySql>().await.unwrap();
    let (charset, tz, mode): (String, String, String) =
        sqlx::query_as("SELECT @@character_set_connection, @@session.time_zone, @@session.sql_mode")
            .fetch_one(&mut *s)
            .await
            .unwrap();
    assert_eq!(charset, "utf8mb4");
    assert_eq!(tz, "+00:00");
    assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");
    let timeout: f64 = sqlx::query_scalar("SELECT @@session.max_statement_time").fetch_one(&mut *s).await.unwrap();
    assert_eq!(timeout, 1.0);
}

#[tokio::test]
async fn a_wrong_password_is_a_classified_error_that_never_shows_the_password() {
    for backend in [Backend::Postgres, Backend::MySql] {
        let Some(url) = dbkit_tests::server_url(backend) else { continue };
        let config = DatabaseConfig::from_url(&url).unwrap().password("not-the-Password-42");
        let err = Database::connect_with(config).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("not-the-Password-42"), "{shown}");
        assert!(!shown.contains("dbkit:dbkit@"), "{shown}");
        assert_ne!(err.category(), ErrorCategory::Unknown, "{backend}: {err}");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_a_connection_error() {
    // Port 9 (discard) on loopback: nothing listens there on a test machine.
    for url in ["postgres://u:secret-pw@127.0.0.1:9/db", "mysql://u:secret-pw@127.0.0.1:9/db"] {
        let config = DatabaseConfig::from_url(url).unwrap().connect_timeout(Duration::from_secs(5));
        let err = Database::connect_with(config).await.unwrap_err();
        assert_eq!(err.category(), ErrorCategory::Connection, "{url}: {err}");
        assert!(!format!("{err} {err:?}").contains("secret-pw"));
    }
}

#[tokio::test]
async fn sessions_and_transactions_can_be_used_from_spawned_tasks() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let task = tokio::spawn({
        let db = db.clone();
        async move {
            db.transaction::<i64>(async |tx| {
                tx.sqlite()?.execute("CREATE TABLE spawned (n INTEGER)", [])?;
                tx.sqlite()?.execute("INSERT INTO spawned VALUES (?1)", [5_i64])?;
                Ok(tx.sqlite()?.query_row("SELECT n FROM spawned", [], |row| row.get(0))?)
            })
            .await
        }
    });
    assert_eq!(task.await.unwrap().unwrap(), 5);
    let task = tokio::spawn(async move {
        let mut s = db.session::<sqlx::Sqlite>().await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM spawned").fetch_one(&mut *s).await?;
        Ok::<i64, dbkit::Error>(n)
    });
    assert_eq!(task.await.unwrap().unwrap(), 1);
}

#[tokio::test]
async fn a_transaction_names_no_driver_and_refuses_raw_sql_of_another() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let err = db
        .transaction(async |tx| {
            assert_eq!(tx.backend(), Backend::Sqlite);
            tx.sqlite()?.execute("CREATE TABLE kept (n INTEGER)", [])?;
            // The control above runs; the wrong driver is an error, and the transaction rolls back.
            tx.sqlx::<sqlx::Postgres>()?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, dbkit::Error::BackendMismatch { expected, actual: Backend::Sqlite, .. } if expected == &[Backend::Postgres]),
        "{err:?}"
    );
    let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'kept'").fetch_one(&mut *s).await.unwrap();
    assert_eq!(tables, 0, "rolled back");
}

/// A SQLite unit of work runs on dbkit's native engine: raw sqlx on it is an error that says what
/// to write instead, and raw SQL through `tx.sqlite()` runs in the unit (rolled back with it).
#[tokio::test]
async fn a_sqlite_unit_is_the_native_engines_and_says_so_to_raw_sqlx() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let err = db
        .transaction(async |tx| {
            tx.sqlite()?.execute("CREATE TABLE native_unit (n INTEGER)", [])?;
            tx.sqlx::<sqlx::Sqlite>()?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(&err, dbkit::Error::SqliteUnitIsNative { .. }), "{err:?}");
    assert!(err.to_string().contains("tx.sqlite()"), "{err}");
    let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'native_unit'")
        .fetch_one(&mut *s)
        .await
        .unwrap();
    assert_eq!(tables, 0, "the unit rolled back, its raw statement with it");
}
