//! Writes survive server faults without being applied twice.
//!
//! 32 tasks write 10 000 rows with caller-supplied keys through `exec::Call` (the path generated
//! repository methods take) while PostgreSQL is restarted twice (`pg_ctl restart -m fast`), or
//! while MariaDB is killed with SIGKILL and started again. The key column has no unique index, so a
//! write applied twice would show as a duplicate. Afterwards:
//!
//! - every acknowledged write is present exactly once;
//! - a write that failed with `Error::OutcomeUnknown` is present at most once;
//! - a write that failed otherwise is absent;
//! - every error is classified (not `ErrorCategory::Unknown`).
//!
//! The faults come from the test servers' harness (`dbkit-test-servers`), on the servers
//! `scripts/servers env` describes (`DBKIT_RUN_DIR` and the ports). The tests restart shared
//! servers: do not run them next to other suites that use the same servers.
//!
//! Also here: a connection lost after a write was sent (the session kills its own backend) ends the
//! call with `OutcomeUnknown` after one attempt, while the same fault during a read is retried.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dbkit::__private::{Call, CallOptions, Failure, OpKind, Operation};
use dbkit::retry::RetryPolicy;
use dbkit::sqlx::{self, AssertSqlSafe};
use dbkit::{Backend, Database, DatabaseConfig, Error, ErrorCategory};
use dbkit_test_servers::{Server, Servers};
use dbkit_tests::{server_url, servers, unique_name};

const ROWS: u64 = 10_000;

/// Held by every test here: a fault test restarts servers the other tests use.
static SERVERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const TASKS: usize = 32;

/// What happens to a server while the writes run.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Restarted on its data (PostgreSQL: `pg_ctl restart -m fast`).
    Restart(Server),
    /// SIGKILL, as a crash.
    Kill(Server),
    /// Started again on its data, after a kill.
    Start(Server),
}

async fn inject(servers: &Servers, fault: Fault) {
    let servers = servers.clone();
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || match fault {
        Fault::Restart(server) => server.restart(&servers),
        Fault::Kill(server) => server.kill(&servers),
        Fault::Start(server) => server.start(&servers),
    })
    .await
    .unwrap();
    if let Err(e) = result {
        panic!("{fault:?} failed: {e}");
    }
    eprintln!("fault: {fault:?} took {:?}", started.elapsed());
}

/// Patient enough to ride out a restart; counts retries.
fn fault_policy(retries: &Arc<AtomicU32>) -> RetryPolicy {
    let retries = Arc::clone(retries);
    RetryPolicy::new()
        .max_attempts(60)
        .base_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(500))
        .deadline(Duration::from_secs(45))
        .on_retry(move |_| {
            retries.fetch_add(1, Ordering::Relaxed);
        })
}

#[derive(Debug)]
enum Outcome {
    Acknowledged,
    Unknown(ErrorCategory),
    Failed(ErrorCategory, String),
}

fn outcome(result: dbkit::Result<()>) -> Outcome {
    match result {
        Ok(()) => Outcome::Acknowledged,
        Err(e) if e.is_outcome_unknown() => Outcome::Unknown(e.category()),
        Err(e) => Outcome::Failed(e.category(), e.to_string()),
    }
}

/// Checks the table against the outcomes and prints a summary.
fn check(name: &str, outcomes: &HashMap<u64, Outcome>, counts: &HashMap<u64, i64>, retries: u32) {
    let (mut acknowledged, mut unknown_present, mut unknown_absent, mut failed) = (0, 0, 0, 0);
    for key in 0..ROWS {
        let count = counts.get(&key).copied().unwrap_or(0);
        match &outcomes[&key] {
            Outcome::Acknowledged => {
                assert_eq!(count, 1, "{name}: acknowledged key {key} is present {count} times");
                acknowledged += 1;
            }
            Outcome::Unknown(category) => {
                assert!(count <= 1, "{name}: key {key} (outcome unknown) is present {count} times");
                assert_ne!(*category, ErrorCategory::Unknown, "{name}: key {key}");
                if count == 1 { unknown_present += 1 } else { unknown_absent += 1 }
            }
            Outcome::Failed(category, message) => {
                assert_eq!(count, 0, "{name}: key {key} failed ({message}) but is present {count} times");
                assert_ne!(*category, ErrorCategory::Unknown, "{name}: key {key}: {message}");
                failed += 1;
            }
        }
    }
    assert!(counts.keys().all(|k| *k < ROWS), "{name}: a key nobody wrote");
    eprintln!(
        "{name}: {acknowledged} acknowledged, {} outcome unknown ({unknown_present} applied, {unknown_absent} not), \
         {failed} failed, {retries} retries",
        unknown_present + unknown_absent
    );
    assert!(acknowledged as u64 > ROWS * 9 / 10, "{name}: too few writes succeeded");
}

macro_rules! fault_test {
    ($name:ident, $backend:expr, $driver:ty, $insert:literal, $faults:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(url) = server_url($backend) else { return };
            let Some(servers) = servers() else { return };
            let _servers = SERVERS.lock().await;
            let started = Instant::now();
            // A short pool timeout: while the server is down, acquiring fails fast (before anything
            // is sent) and the retry policy, not the pool, does the waiting.
            let config = DatabaseConfig::from_url(&url)
                .unwrap()
                .pool_size(8)
                .max_overflow(8)
                .pool_timeout(Duration::from_secs(2));
            let db = Database::connect_with(config).await.unwrap();
            let table = unique_name("faults");
            {
                let mut s = db.session::<$driver>().await.unwrap();
                let sql = format!("CREATE TABLE {table} (k BIGINT NOT NULL, v VARCHAR(40) NOT NULL)");
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *s).await.unwrap();
            }

            static INSERT: Operation = Operation::new("FaultRepository", "create", OpKind::Write, "INSERT", "faults");
            let retries = Arc::new(AtomicU32::new(0));
            let options = Arc::new(CallOptions::new().retry(fault_policy(&retries)));
            let next = Arc::new(AtomicU64::new(0));
            let done = Arc::new(AtomicU64::new(0));
            let insert = Arc::new(format!($insert, table = table));

            let workers: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (db, options, next, done, insert) =
                        (db.clone(), Arc::clone(&options), Arc::clone(&next), Arc::clone(&done), Arc::clone(&insert));
                    tokio::spawn(async move {
                        let mut outcomes = Vec::new();
                        loop {
                            let key = next.fetch_add(1, Ordering::Relaxed);
                            if key >= ROWS {
                                break outcomes;
                            }
                            let mut call = Call::new(&db, &options, &INSERT);
                            let result = loop {
                                let outcome = async {
                                    let mut s = call.session::<$driver>().await?;
                                    sqlx::query(AssertSqlSafe(insert.as_str()))
                                        .bind(key as i64)
                                        .bind(format!("value {key}"))
                                        .execute(&mut *s)
                                        .await
                                        .map_err(Failure::sent)?;
                                    Ok(())
                                }
                                .await;
                                if let Some(result) = call.finish(outcome).await {
                                    break result;
                                }
                            };
                            outcomes.push((key, outcome(result)));
                            done.fetch_add(1, Ordering::Relaxed);
                            // Paced (≤ 3 200 writes/s in all) so that the run outlasts both
                            // faults: every fault lands while writes are in flight.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    })
                })
                .collect();

            let faults = {
                let done = Arc::clone(&done);
                tokio::spawn(async move {
                    let faults: &[(u64, Fault)] = $faults;
                    for &(after, fault) in faults {
                        while done.load(Ordering::Relaxed) < after {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        let at = done.load(Ordering::Relaxed);
                        assert!(at < ROWS - 500, "the fault {fault:?} came after the writes ({at} done)");
                        inject(&servers, fault).await;
                    }
                })
            };

            let mut outcomes = HashMap::new();
            for worker in workers {
                outcomes.extend(worker.await.unwrap());
            }
            faults.await.unwrap();
            assert_eq!(outcomes.len() as u64, ROWS);

            let mut s = db.session::<$driver>().await.unwrap();
            let sql = format!("SELECT k, COUNT(*) FROM {table} GROUP BY k");
            let counts: HashMap<u64, i64> = sqlx::query_as::<_, (i64, i64)>(AssertSqlSafe(sql))
                .fetch_all(&mut *s)
                .await
                .unwrap()
                .into_iter()
                .map(|(k, n)| (k as u64, n))
                .collect();
            sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&mut *s).await.unwrap();
            check(stringify!($name), &outcomes, &counts, retries.load(Ordering::Relaxed));
            eprintln!("{}: {:?}", stringify!($name), started.elapsed());
        }
    };
}

fault_test!(
    postgres_restarted_twice_during_10_000_writes,
    Backend::Postgres,
    sqlx::Postgres,
    "INSERT INTO {table} (k, v) VALUES ($1, $2)",
    &[(2_500, Fault::Restart(Server::Postgres)), (6_500, Fault::Restart(Server::Postgres))]
);

fault_test!(
    mariadb_killed_and_restarted_during_10_000_writes,
    Backend::MySql,
    sqlx::MySql,
    "INSERT INTO {table} (k, v) VALUES (?, ?)",
    &[(3_000, Fault::Kill(Server::MariaDb)), (3_000, Fault::Start(Server::MariaDb))]
);

/// PostgreSQL restarted (`pg_ctl restart -m fast`) while the pool's one connection sat idle past
/// the ping window: the checkout's ping finds it dead and a new connection takes the write, which
/// succeeds; nothing is sent on the dead one. Control: without pre-ping, the same write goes out on
/// the dead connection and fails with a connection error, and the row is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_while_idle_is_noticed_by_the_ping_before_a_write_is_sent() {
    let Some(url) = server_url(Backend::Postgres) else { return };
    let Some(servers) = servers() else { return };
    let _servers = SERVERS.lock().await;
    for pre_ping in [true, false] {
        let config = DatabaseConfig::from_url(&url).unwrap().pool_size(1).max_overflow(0).pool_pre_ping(pre_ping);
        let db = Database::connect_with(config).await.unwrap();
        let table = unique_name("restart_idle");
        let mut s = db.session::<sqlx::Postgres>().await.unwrap();
        let before: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *s).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("CREATE TABLE {table} (k BIGINT NOT NULL)"))).execute(&mut *s).await.unwrap();
        drop(s);

        inject(&servers, Fault::Restart(Server::Postgres)).await;
        // A restart takes longer than the window; wait it out all the same.
        tokio::time::sleep(Duration::from_millis(700)).await;

        let mut s = db.session::<sqlx::Postgres>().await.unwrap();
        let insert = sqlx::query(AssertSqlSafe(format!("INSERT INTO {table} (k) VALUES (1)"))).execute(&mut *s).await;
        drop(s);
        if pre_ping {
            insert.expect("the ping replaced the dead connection before the write");
        } else {
            let error = Error::from(insert.expect_err("a write on the connection the restart killed"));
            assert_eq!(error.category(), ErrorCategory::Connection, "{error}");
        }
        let mut s = db.session::<sqlx::Postgres>().await.unwrap();
        let after: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *s).await.unwrap();
        assert_ne!(after, before, "a connection from before the restart is still in use");
        let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut *s)
            .await
            .unwrap();
        assert_eq!(rows, i64::from(pre_ping), "pre_ping = {pre_ping}");
        sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&mut *s).await.unwrap();
        drop(s);
        db.close().await;
    }
}

/// A connection lost after the statement was sent: a write is not run again and says its outcome
/// is unknown; a read is run again.
macro_rules! lost_after_send_tests {
    ($module:ident, $backend:expr, $driver:ty, $kill_self:literal, $seven:literal) => {
        mod $module {
            use super::*;

            async fn run(db: &Database, kind: &'static Operation, kill_first: u32) -> (dbkit::Result<i64>, u32) {
                let options = CallOptions::new().retry(RetryPolicy::new().base_delay(Duration::from_millis(5)));
                let mut call = Call::new(db, &options, kind);
                let mut attempts = 0;
                let result = loop {
                    attempts += 1;
                    let kill = attempts <= kill_first;
                    let outcome = async {
                        let mut s = call.session::<$driver>().await?;
                        if kill {
                            sqlx::query($kill_self).execute(&mut *s).await.map_err(Failure::sent)?;
                        }
                        let n: i64 = sqlx::query_scalar($seven).fetch_one(&mut *s).await.map_err(Failure::sent)?;
                        Ok(n)
                    }
                    .await;
                    if let Some(result) = call.finish(outcome).await {
                        break result;
                    }
                };
                (result, attempts)
            }

            static READ: Operation = Operation::new("LostRepository", "get", OpKind::Read, "SELECT", "lost");
            static WRITE: Operation = Operation::new("LostRepository", "create", OpKind::Write, "INSERT", "lost");

            #[tokio::test]
            async fn a_write_cut_off_after_sending_is_outcome_unknown_and_not_retried() {
                let _servers = SERVERS.lock().await;
                let Some(db) = dbkit_tests::connect($backend).await else { return };
                let (result, attempts) = run(&db, &WRITE, u32::MAX).await;
                let error = result.unwrap_err();
                assert_eq!(attempts, 1, "not retried: {error}");
                assert!(matches!(error, Error::OutcomeUnknown { .. }), "{error:?}");
                assert_eq!(error.category(), ErrorCategory::Connection, "{error}");
                assert!(!error.is_retryable());
                assert!(error.to_string().contains("may or may not have been applied"), "{error}");
            }

            #[tokio::test]
            async fn a_read_cut_off_after_sending_is_retried() {
                let _servers = SERVERS.lock().await;
                let Some(db) = dbkit_tests::connect($backend).await else { return };
                let (result, attempts) = run(&db, &READ, 1).await;
                assert_eq!(result.unwrap(), 7);
                assert_eq!(attempts, 2);
            }

            #[tokio::test]
            async fn with_retry_disabled_a_read_fails_at_once() {
                let _servers = SERVERS.lock().await;
                let Some(db) = dbkit_tests::connect($backend).await else { return };
                let disabled = CallOptions::new().retry(RetryPolicy::disabled());
                let mut call = Call::new(&db, &disabled, &READ);
                let outcome = async {
                    let mut s = call.session::<$driver>().await?;
                    sqlx::query($kill_self).execute(&mut *s).await.map_err(Failure::sent)?;
                    Ok(())
                }
                .await;
                let error = call.finish(outcome).await.expect("no retry").unwrap_err();
                assert_eq!(error.category(), ErrorCategory::Connection, "{error}");
                assert!(!error.is_outcome_unknown(), "a read's outcome is not in doubt");
            }
        }
    };
}

lost_after_send_tests!(
    postgres_lost,
    Backend::Postgres,
    sqlx::Postgres,
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT 7::int8"
);
lost_after_send_tests!(mariadb_lost, Backend::MySql, sqlx::MySql, "KILL CONNECTION_ID()", "SELECT 7");
