//! Conflicts provoked on purpose succeed after retry, and nothing is applied twice: a deadlock
//! (two transactions locking two rows in opposite order) on PostgreSQL and MariaDB, a PostgreSQL
//! SERIALIZABLE write-skew conflict, and a single write that times out waiting for a lock.
//!
//! The transactions run through `Database::transaction_with` inside `tokio::spawn`, which also
//! proves its future is `Send`; the single writes run through `exec::Call`, the path generated
//! repository methods take.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbkit::__private::{Call, CallOptions, Failure, OpKind, Operation};
use dbkit::retry::RetryPolicy;
use dbkit::sqlx::{self, AssertSqlSafe};
use dbkit::{Backend, Database, ErrorCategory};
use dbkit_tests::{connect, unique_name};
use tokio::sync::Barrier;

/// What the retry hook saw: (category, rolled back) of each retried error.
type Seen = Arc<Mutex<Vec<(ErrorCategory, bool, String)>>>;

fn policy(seen: &Seen) -> RetryPolicy {
    let seen = Arc::clone(seen);
    RetryPolicy::new()
        .max_attempts(10)
        .base_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(200))
        .deadline(Duration::from_secs(30))
        .on_retry(move |event| {
            seen.lock().unwrap().push((event.error.category(), event.error.is_rolled_back(), event.error.to_string()));
        })
}

macro_rules! conflict_tests {
    ($module:ident, $backend:expr, $driver:ty, $deadlock_setup:expr, $lock_timeout_setup:expr, $hold:expr) => {
        mod $module {
            use super::*;

            async fn exec(db: &Database, sql: String) {
                let mut s = db.session::<$driver>().await.unwrap();
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *s).await.unwrap();
            }

            async fn values(db: &Database, table: &str) -> Vec<(i64, i64)> {
                let mut s = db.session::<$driver>().await.unwrap();
                let sql = format!("SELECT CAST(id AS SIGNED_INT), CAST(n AS SIGNED_INT) FROM {table} ORDER BY id");
                let sql = sql.replace("SIGNED_INT", if $backend == Backend::Postgres { "BIGINT" } else { "SIGNED" });
                sqlx::query_as(AssertSqlSafe(sql)).fetch_all(&mut *s).await.unwrap()
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_deadlock_succeeds_after_retrying_the_victim_s_transaction() {
                let Some(db) = connect($backend).await else { return };
                let table = unique_name("deadlock");
                exec(&db, format!("CREATE TABLE {table} (id INT PRIMARY KEY, n INT NOT NULL)")).await;
                exec(&db, format!("INSERT INTO {table} VALUES (1, 0), (2, 0)")).await;

                let seen = Seen::default();
                let policy = policy(&seen);
                let barrier = Arc::new(Barrier::new(2));
                let runs = Arc::new(AtomicU32::new(0));
                let spawn = |first: i32, second: i32| {
                    let (db, policy, barrier, runs, table) =
                        (db.clone(), policy.clone(), Arc::clone(&barrier), Arc::clone(&runs), table.clone());
                    tokio::spawn(async move {
                        let mut mine = 0;
                        // `async move`: a spawned transaction's closure owns its captures (see
                        // `transaction_with`).
                        db.transaction_with(&policy, async move |tx| {
                            mine += 1;
                            runs.fetch_add(1, Ordering::SeqCst);
                            if let Some(setup) = $deadlock_setup {
                                sqlx::query(setup).execute(tx.sqlx::<$driver>()?).await?;
                            }
                            let lock = |id| AssertSqlSafe(format!("UPDATE {table} SET n = n + 1 WHERE id = {id}"));
                            sqlx::query(lock(first)).execute(tx.sqlx::<$driver>()?).await?;
                            if mine == 1 {
                                // Both hold their first row before either asks for its second.
                                barrier.wait().await;
                            }
                            sqlx::query(lock(second)).execute(tx.sqlx::<$driver>()?).await?;
                            Ok(mine)
                        })
                        .await
                    })
                };
                let (a, b) = (spawn(1, 2), spawn(2, 1));
                let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());

                let seen = seen.lock().unwrap().clone();
                assert_eq!(seen.len(), 1, "exactly one victim, retried once: {seen:?}");
                assert_eq!((seen[0].0, seen[0].1), (ErrorCategory::Transient, true), "{seen:?}");
                assert!(seen[0].2.to_lowercase().contains("deadlock"), "{seen:?}");
                assert_eq!(a + b, 3, "one transaction ran once, the victim twice");
                assert_eq!(runs.load(Ordering::SeqCst), 3);
                // Each transaction's increments applied exactly once.
                assert_eq!(values(&db, &table).await, [(1, 2), (2, 2)]);
                exec(&db, format!("DROP TABLE {table}")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_write_that_timed_out_on_a_lock_is_retried_and_applied_once() {
                let Some(db) = connect($backend).await else { return };
                let table = unique_name("lockwait");
                exec(&db, format!("CREATE TABLE {table} (id INT PRIMARY KEY, n INT NOT NULL)")).await;
                exec(&db, format!("INSERT INTO {table} VALUES (1, 0)")).await;

                // Another transaction holds the row for a while.
                let mut holder = db.begin::<$driver>().await.unwrap();
                sqlx::query(AssertSqlSafe(format!("UPDATE {table} SET n = n + 1 WHERE id = 1")))
                    .execute(&mut *holder)
                    .await
                    .unwrap();
                let release = tokio::spawn(async move {
                    tokio::time::sleep($hold).await;
                    holder.commit().await.unwrap();
                });

                static UPDATE: Operation =
                    Operation::new("CounterRepository", "add", OpKind::Write, "UPDATE", "counters");
                let seen = Seen::default();
                let options = CallOptions::new().retry(policy(&seen).max_attempts(30));
                let mut call = Call::new(&db, &options, &UPDATE);
                let updated = loop {
                    let outcome = async {
                        let mut s = call.session::<$driver>().await?;
                        sqlx::query($lock_timeout_setup).execute(&mut *s).await.map_err(Failure::sent)?;
                        let sql = AssertSqlSafe(format!("UPDATE {table} SET n = n + 10 WHERE id = 1"));
                        let done = sqlx::query(sql).execute(&mut *s).await.map_err(Failure::sent)?;
                        Ok(done.rows_affected())
                    }
                    .await;
                    if let Some(result) = call.finish(outcome).await {
                        break result;
                    }
                };
                release.await.unwrap();
                assert_eq!(updated.unwrap(), 1);
                let seen = seen.lock().unwrap().clone();
                assert!(!seen.is_empty(), "the first attempt waited on the lock and timed out");
                for (category, rolled_back, message) in &seen {
                    assert_eq!((*category, *rolled_back), (ErrorCategory::Timeout, true), "{message}");
                }
                assert_eq!(values(&db, &table).await, [(1, 11)], "the holder's +1 and the write's +10, once");
                exec(&db, format!("DROP TABLE {table}")).await;
            }
        }
    };
}

conflict_tests!(
    postgres,
    Backend::Postgres,
    sqlx::Postgres,
    // The test role is a superuser; a short deadlock_timeout keeps the test quick.
    Some("SET LOCAL deadlock_timeout = '100ms'"),
    "SELECT set_config('lock_timeout', '100ms', false)",
    Duration::from_millis(500)
);

conflict_tests!(
    mariadb,
    Backend::MySql,
    sqlx::MySql,
    // InnoDB detects deadlocks at once.
    None::<&'static str>,
    "SET SESSION innodb_lock_wait_timeout = 1",
    Duration::from_millis(1500)
);

/// Write skew under SERIALIZABLE: each transaction reads what the other writes; PostgreSQL
/// aborts one with 40001, which runs again and succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_serializable_conflict_succeeds_after_retry() {
    let Some(db) = connect(Backend::Postgres).await else { return };
    let table = unique_name("serializable");
    {
        let mut s = db.session::<sqlx::Postgres>().await.unwrap();
        sqlx::query(AssertSqlSafe(format!("CREATE TABLE {table} (kind TEXT NOT NULL, n BIGINT NOT NULL)")))
            .execute(&mut *s)
            .await
            .unwrap();
        sqlx::query(AssertSqlSafe(format!("INSERT INTO {table} VALUES ('a', 1), ('b', 1)")))
            .execute(&mut *s)
            .await
            .unwrap();
    }

    let seen = Seen::default();
    let policy = policy(&seen);
    let barrier = Arc::new(Barrier::new(2));
    let spawn = |read: &'static str, write: &'static str| {
        let (db, policy, barrier, table) = (db.clone(), policy.clone(), Arc::clone(&barrier), table.clone());
        // Owned: a spawned transaction's closure must not capture references, not even
        // `&'static` ones (see `transaction_with`).
        let (read, write) = (read.to_owned(), write.to_owned());
        tokio::spawn(async move {
            let mut runs = 0;
            db.transaction_with(&policy, async move |tx| {
                runs += 1;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                    .execute(tx.sqlx::<sqlx::Postgres>()?)
                    .await?;
                let sql = AssertSqlSafe(format!("SELECT COUNT(*) FROM {table} WHERE kind = $1"));
                let count: i64 =
                    sqlx::query_scalar(sql).bind(read.as_str()).fetch_one(tx.sqlx::<sqlx::Postgres>()?).await?;
                if runs == 1 {
                    // Both have read before either writes.
                    barrier.wait().await;
                }
                let sql = AssertSqlSafe(format!("INSERT INTO {table} VALUES ($1, $2)"));
                sqlx::query(sql).bind(write.as_str()).bind(count).execute(tx.sqlx::<sqlx::Postgres>()?).await?;
                Ok(runs)
            })
            .await
        })
    };
    let (a, b) = (spawn("a", "b"), spawn("b", "a"));
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0].0, seen[0].1), (ErrorCategory::Transient, true), "{seen:?}");
    assert!(seen[0].2.contains("could not serialize"), "{seen:?}");
    assert_eq!(a + b, 3, "one ran once, the other twice");

    let mut s = db.session::<sqlx::Postgres>().await.unwrap();
    let rows: Vec<(String, i64)> =
        sqlx::query_as(AssertSqlSafe(format!("SELECT kind, n FROM {table} ORDER BY kind, n")))
            .fetch_all(&mut *s)
            .await
            .unwrap();
    // The winner saw one row of its kind; the retried one, running after it, saw two.
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows.iter().map(|(_, n)| n).sum::<i64>(), 1 + 1 + 1 + 2, "{rows:?}");
    sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&mut *s).await.unwrap();
}

/// The transaction retry's future is `Send` whenever the closure's is: it can be spawned from
/// generic code, not only from a concrete test.
#[test]
fn transaction_with_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    async fn generic(db: Database, policy: RetryPolicy) -> dbkit::Result<i64> {
        db.transaction_with(&policy, async |tx| {
            Ok(tx.sqlite()?.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))?)
        })
        .await
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let future = generic(db, RetryPolicy::new());
        assert_send(&future);
        assert_eq!(tokio::spawn(future).await.unwrap().unwrap(), 1);
    });
}
