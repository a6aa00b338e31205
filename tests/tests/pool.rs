//! dbkit's pool under PostgreSQL and MariaDB (issue 18), against the real servers: a connection
//! used within the last half second is handed out without a ping, one idle longer is pinged (and a
//! dead one replaced before a statement is sent on it), a connection left unclean — a statement
//! cancelled mid-flight, a transaction dropped open, a connection that failed — is never handed out
//! as it is, and `pool_size`, `idle_timeout`, `pool_recycle` and `pool_timeout` hold.
//!
//! Which connection served a statement is asked of the server (`pg_backend_pid()`,
//! `CONNECTION_ID()`); pings and resets are read from the pool's metrics, through an in-process
//! recorder.

use std::collections::BTreeSet;
use std::time::Duration;

use dbkit::sqlx::{self, AssertSqlSafe};
use dbkit::{Backend, Database, DatabaseConfig, ErrorCategory};
use dbkit_tests::{record_metrics, server_url, unique_name};
use metrics_util::debugging::{DebugValue, Snapshotter};

/// The pool's ping window, and a margin past it.
const PAST_THE_WINDOW: Duration = Duration::from_millis(700);

/// The value of counter `name` of the pool named `pool` (0 before it is first incremented).
fn counter(snapshotter: &Snapshotter, name: &str, pool: &str) -> u64 {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| {
            key.key().name() == name
                && key.key().labels().any(|l| l.key() == "db.client.connection.pool.name" && l.value() == pool)
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

/// Connects a database named `name`, configured by `adjust`; `None` without a test server.
async fn connect(
    backend: Backend,
    name: &str,
    adjust: impl FnOnce(DatabaseConfig) -> DatabaseConfig,
) -> Option<Database> {
    let url = server_url(backend)?;
    Some(Database::connect_named(name, adjust(DatabaseConfig::from_url(&url).unwrap())).await.unwrap())
}

/// Waits up to 10 s for `done`, checking every 20 ms; whether it came.
async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..500 {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

macro_rules! pool_tests {
    ($module:ident, $backend:expr, $driver:ty, pid: $pid:literal, sleep: $sleep:literal, kill: $kill:literal) => {
        mod $module {
            use super::*;

            /// The server's id of the connection `db` hands out next.
            async fn pid(db: &Database) -> i64 {
                let mut session = db.session::<$driver>().await.unwrap();
                sqlx::query_scalar($pid).fetch_one(&mut *session).await.unwrap()
            }

            /// Ends connection `pid` from the server side, through another database handle.
            async fn kill(pid: i64) {
                let killer = connect($backend, "killer", |c| c.pool_size(1)).await.unwrap();
                let mut session = killer.session::<$driver>().await.unwrap();
                sqlx::query(AssertSqlSafe(format!($kill, pid))).execute(&mut *session).await.unwrap();
                drop(session);
                killer.close().await;
            }

            /// Waits until the `pool_size` connections the pool opens in the background are open
            /// and back in it, so which connection is handed out next is the test's to decide.
            async fn settled(db: &Database, open: u32) {
                assert!(eventually(async || db.connections_open() == open).await, "{open} connections never opened");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn a_sequential_caller_reuses_one_connection_and_pings_only_past_the_window() {
                let (metrics, _guard) = record_metrics();
                let Some(db) = connect($backend, "sequential", |c| c.pool_size(2).max_overflow(3)).await else {
                    return;
                };
                settled(&db, 2).await;
                let mut pids = BTreeSet::new();
                for _ in 0..100 {
                    pids.insert(pid(&db).await);
                }
                assert_eq!(pids.len(), 1, "100 calls in a row used {} connections", pids.len());
                assert_eq!(
                    counter(&metrics, "dbkit.connection.pings", "sequential"),
                    0,
                    "a recently used connection was pinged"
                );
                assert_eq!(db.connections_open(), 2, "a sequential caller grew the pool");

                // Control: idle past the window, the same connection is pinged first.
                tokio::time::sleep(PAST_THE_WINDOW).await;
                assert!(pids.contains(&pid(&db).await));
                assert_eq!(counter(&metrics, "dbkit.connection.pings", "sequential"), 1);

                // Control: two sessions at once are two connections, which the check tells apart.
                let (mut a, mut b) = (db.session::<$driver>().await.unwrap(), db.session::<$driver>().await.unwrap());
                let pid_a: i64 = sqlx::query_scalar($pid).fetch_one(&mut *a).await.unwrap();
                let pid_b: i64 = sqlx::query_scalar($pid).fetch_one(&mut *b).await.unwrap();
                assert_ne!(pid_a, pid_b);
                drop((a, b));
                db.close().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn without_pre_ping_nothing_is_pinged() {
                let (metrics, _guard) = record_metrics();
                let Some(db) = connect($backend, "no_ping", |c| c.pool_size(1).pool_pre_ping(false)).await else {
                    return;
                };
                pid(&db).await;
                tokio::time::sleep(PAST_THE_WINDOW).await;
                pid(&db).await;
                assert_eq!(counter(&metrics, "dbkit.connection.pings", "no_ping"), 0);
                db.close().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn a_dead_connection_idle_past_the_window_is_replaced_before_a_statement_is_sent() {
                let (metrics, _guard) = record_metrics();
                let Some(db) = connect($backend, "dead_idle", |c| c.pool_size(1).max_overflow(1)).await else {
                    return;
                };
                settled(&db, 1).await;
                let dead = pid(&db).await;
                kill(dead).await;
                tokio::time::sleep(PAST_THE_WINDOW).await;
                // The ping finds it dead; a new connection serves the statement.
                let served = pid(&db).await;
                assert_ne!(served, dead);
                assert_eq!(counter(&metrics, "dbkit.connection.pings", "dead_idle"), 1);
                db.close().await;

                // Control: without pre-ping the dead connection is handed out, and the statement
                // fails on it.
                let db =
                    connect($backend, "dead_idle_no_ping", |c| c.pool_size(1).max_overflow(1).pool_pre_ping(false))
                        .await
                        .unwrap();
                settled(&db, 1).await;
                let dead = pid(&db).await;
                kill(dead).await;
                tokio::time::sleep(PAST_THE_WINDOW).await;
                let mut session = db.session::<$driver>().await.unwrap();
                let failed = sqlx::query_scalar::<_, i64>($pid).fetch_one(&mut *session).await;
                let error = dbkit::Error::from(failed.expect_err("a statement on a killed connection"));
                assert_eq!(error.category(), ErrorCategory::Connection, "{error}");
                drop(session);
                db.close().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn a_connection_that_failed_is_never_handed_out_again() {
                let Some(db) = connect($backend, "failed", |c| c.pool_size(1).max_overflow(1)).await else { return };
                settled(&db, 1).await;
                let mut session = db.session::<$driver>().await.unwrap();
                let dead: i64 = sqlx::query_scalar($pid).fetch_one(&mut *session).await.unwrap();
                kill(dead).await;
                assert!(sqlx::query_scalar::<_, i64>($pid).fetch_one(&mut *session).await.is_err());
                drop(session);
                // Within the ping window: only the failure itself can keep it out of the pool.
                // Returned as it was, it would be the next one handed out, and this would fail.
                let served = pid(&db).await;
                assert_ne!(served, dead);
                db.close().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn a_cancelled_statement_never_hands_out_its_connection_dirty() {
                let (metrics, _guard) = record_metrics();
                let Some(db) = connect($backend, "cancelled", |c| c.pool_size(1).max_overflow(1)).await else {
                    return;
                };
                settled(&db, 1).await;
                // Control: a statement that finished leaves its connection clean.
                let first = pid(&db).await;
                assert_eq!(counter(&metrics, "dbkit.connection.resets", "cancelled"), 0);

                let mut session = db.session::<$driver>().await.unwrap();
                let cancelled: i64 = sqlx::query_scalar($pid).fetch_one(&mut *session).await.unwrap();
                assert_eq!(cancelled, first);
                let sleeping = sqlx::query($sleep).execute(&mut *session);
                assert!(tokio::time::timeout(Duration::from_millis(200), sleeping).await.is_err());
                drop(session);
                assert_eq!(counter(&metrics, "dbkit.connection.resets", "cancelled"), 1);
                // Handed out at once, it would be the next one (idle connections are taken last in,
                // first out), and its reply to the sleep would come first.
                let next = pid(&db).await;
                assert_ne!(next, cancelled, "a connection with a reply owed was handed out");
                // Reset once the reply has come, and pooled again.
                assert!(eventually(async || pid(&db).await == cancelled).await, "the reset connection never came back");
                db.close().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn a_transaction_dropped_open_is_rolled_back_before_its_connection_is_reused() {
                let Some(db) = connect($backend, "dropped", |c| c.pool_size(1).max_overflow(1)).await else { return };
                let table = unique_name("pool_dropped");
                let mut session = db.session::<$driver>().await.unwrap();
                sqlx::query(AssertSqlSafe(format!("CREATE TABLE {table} (n INTEGER)")))
                    .execute(&mut *session)
                    .await
                    .unwrap();
                drop(session);

                let mut tx = db.begin::<$driver>().await.unwrap();
                let held: i64 = sqlx::query_scalar($pid).fetch_one(&mut *tx).await.unwrap();
                sqlx::query(AssertSqlSafe(format!("INSERT INTO {table} (n) VALUES (1)")))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                drop(tx);
                // Back in the pool once the ROLLBACK is through: one of two connections held at once.
                let back = eventually(async || {
                    let (mut a, mut b) =
                        (db.session::<$driver>().await.unwrap(), db.session::<$driver>().await.unwrap());
                    let pid_a: i64 = sqlx::query_scalar($pid).fetch_one(&mut *a).await.unwrap();
                    let pid_b: i64 = sqlx::query_scalar($pid).fetch_one(&mut *b).await.unwrap();
                    pid_a == held || pid_b == held
                });
                assert!(back.await, "the connection never came back");
                let mut session = db.session::<$driver>().await.unwrap();
                let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&mut *session)
                    .await
                    .unwrap();
                assert_eq!(rows, 0, "the dropped transaction's insert is visible");
                sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&mut *session).await.unwrap();
                drop(session);
                db.close().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn pool_size_connections_stay_open_and_idle_overflow_is_closed() {
                let Some(db) = connect($backend, "sizes", |c| {
                    c.pool_size(2).max_overflow(3).idle_timeout(Duration::from_millis(300))
                })
                .await
                else {
                    return;
                };
                assert!(eventually(async || db.connections_open() == 2).await, "pool_size connections were not opened");
                let mut held = Vec::new();
                for _ in 0..5 {
                    held.push(db.session::<$driver>().await.unwrap());
                }
                assert_eq!(db.connections_open(), 5);
                drop(held);
                assert!(eventually(async || db.connections_open() == 2).await, "idle overflow was not closed");
                tokio::time::sleep(Duration::from_millis(700)).await;
                assert_eq!(db.connections_open(), 2, "connections below pool_size were closed");
                db.close().await;

                // Control: with no idle timeout the overflow stays.
                let db = connect($backend, "sizes_kept", |c| c.pool_size(2).max_overflow(3).idle_timeout(None))
                    .await
                    .unwrap();
                let mut held = Vec::new();
                for _ in 0..5 {
                    held.push(db.session::<$driver>().await.unwrap());
                }
                drop(held);
                tokio::time::sleep(Duration::from_millis(700)).await;
                assert_eq!(db.connections_open(), 5);
                db.close().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn pool_recycle_replaces_a_connection_past_its_age() {
                let Some(db) = connect($backend, "recycle", |c| {
                    c.pool_size(1).max_overflow(0).pool_recycle(Duration::from_millis(400))
                })
                .await
                else {
                    return;
                };
                let old = pid(&db).await;
                tokio::time::sleep(Duration::from_millis(800)).await;
                assert_ne!(pid(&db).await, old);
                db.close().await;

                // Control: without a recycle age, the same connection serves.
                let db = connect($backend, "recycle_off", |c| c.pool_size(1).max_overflow(0).pool_recycle(None))
                    .await
                    .unwrap();
                let old = pid(&db).await;
                tokio::time::sleep(Duration::from_millis(800)).await;
                assert_eq!(pid(&db).await, old);
                db.close().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn a_caller_waits_pool_timeout_for_a_connection_then_fails_with_a_timeout() {
                let Some(db) = connect($backend, "timeout", |c| {
                    c.pool_size(1).max_overflow(0).pool_timeout(Duration::from_millis(200))
                })
                .await
                else {
                    return;
                };
                let held = db.session::<$driver>().await.unwrap();
                let error = db.session::<$driver>().await.expect_err("the only connection is held");
                assert_eq!(error.category(), ErrorCategory::Timeout, "{error}");
                // Control: once it is back, the next caller gets it.
                drop(held);
                pid(&db).await;
                db.close().await;
            }
        }
    };
}

pool_tests!(postgres, Backend::Postgres, sqlx::Postgres,
    pid: "SELECT pg_backend_pid()::BIGINT", sleep: "SELECT pg_sleep(2)", kill: "SELECT pg_terminate_backend({})");
pool_tests!(mariadb, Backend::MySql, sqlx::MySql,
    pid: "SELECT CAST(CONNECTION_ID() AS SIGNED)", sleep: "SELECT SLEEP(2)", kill: "KILL CONNECTION {}");
