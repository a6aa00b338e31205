//! A force drain closes everything now: work running inside `Database::transaction` or
//! `Database::cancellable` is cancelled with a clear error and its open transaction rolls back
//! (checked from a second connection), a transaction held elsewhere cannot commit any more, and
//! work dbkit cannot reach is waited for only up to the timeout. Run on SQLite, PostgreSQL and
//! MariaDB.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dbkit::shutdown::Shutdown;
use dbkit::sqlx::{self, AssertSqlSafe};
use dbkit::{Backend, Database, DatabaseManager, DatabaseState, DrainMode, Error, ErrorCategory};
use dbkit_tests::drain::{self, *};

/// Begins a transaction outside `cancellable` and inserts `id` into `table`; the caller holds it.
async fn held_insert(db: &Database, table: &str, id: i64) -> Box<dyn FnOnce() -> HeldCommit + Send> {
    let insert = format!("INSERT INTO {table} (id) VALUES ({id})");
    macro_rules! held {
        ($driver:ty) => {{
            let mut tx = db.begin::<$driver>().await.unwrap();
            sqlx::query(AssertSqlSafe(insert)).execute(&mut *tx).await.unwrap();
            Box::new(move || -> HeldCommit { Box::pin(async move { tx.commit().await }) })
        }};
    }
    match db.backend() {
        Backend::Postgres => held!(sqlx::Postgres),
        Backend::MySql => held!(sqlx::MySql),
        _ => held!(sqlx::Sqlite),
    }
}

type HeldCommit = std::pin::Pin<Box<dyn Future<Output = dbkit::Result<()>> + Send>>;

macro_rules! force_tests {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cancels_a_transaction_in_flight_and_it_rolls_back() {
                cancels_a_unit_in_flight(Unit::Once).await;
            }

            /// The same through `transaction_with`: the force drain cuts the unit where it stands
            /// and it is not run again.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cancels_a_retried_unit_of_work_in_flight_and_it_rolls_back() {
                cancels_a_unit_in_flight(Unit::Retried).await;
            }

            async fn cancels_a_unit_in_flight(unit: Unit) {
                let Some((db, url)) = fresh($backend).await else { return };
                let table = table(&db).await;
                let inserted = Arc::new(AtomicBool::new(false));
                let work = tokio::spawn({
                    let (db, table, inserted) = (db.clone(), table.clone(), Arc::clone(&inserted));
                    async move {
                        insert_then_work(&db, unit, &table, 1, Duration::from_secs(2), move || {
                            inserted.store(true, Ordering::SeqCst)
                        })
                        .await
                    }
                });
                while !inserted.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }

                let report = db.drain(DrainMode::Force, Duration::from_secs(5)).await;
                // The drain cut the unit rather than wait for it: the work had seconds left to run.
                assert!(report.elapsed < Duration::from_secs(1), "the drain waited for the work: {report}");

                // The work failed at once with a clear, classified error: it did not run to its end.
                // Within a second, though the work had seconds left to run.
                let error = tokio::time::timeout(Duration::from_secs(1), work)
                    .await
                    .unwrap_or_else(|_| panic!("the work did not end with the drain: {report}"))
                    .unwrap()
                    .unwrap_err();
                assert!(matches!(&error, Error::Unavailable { state: "closed", .. }), "{error:?}");
                assert_eq!(error.category(), ErrorCategory::Connection);
                assert!(report.finished_within_timeout, "{report}");
                assert_eq!(report.mode, DrainMode::Force);
                assert_eq!(report.at_start.sessions_in_flight, 1, "{report}");
                assert_eq!(report.at_end.sessions_in_flight, 0, "{report}");
                assert_eq!(report.at_end.connections_open, 0, "{report}");
                assert_eq!(db.state(), DatabaseState::Closed);

                // From a second connection: nothing was committed, and the row is free to write
                // (were the forced transaction still open or committed, this insert would block or
                // clash).
                let other = second(&url).await;
                drain::exec(&other, format!("INSERT INTO {table} (id) VALUES (1)")).await.unwrap();
                assert_eq!(count(&other, &table).await, 1);
                other.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cancels_long_statements_run_inside_cancellable() {
                let Some((db, _)) = fresh($backend).await else { return };
                let work = tokio::spawn({
                    let db = db.clone();
                    async move {
                        let inner = db.clone();
                        db.cancellable(async move { long_session(&inner, Duration::from_secs(3)).await }).await
                    }
                });
                until_in_flight(&db, 1).await;

                let report = db.drain(DrainMode::Force, Duration::from_secs(5)).await;

                // Within a second, though the work had seconds left to run.
                let error = tokio::time::timeout(Duration::from_secs(1), work)
                    .await
                    .unwrap_or_else(|_| panic!("the work did not end with the drain: {report}"))
                    .unwrap()
                    .unwrap_err();
                assert!(matches!(&error, Error::Unavailable { state: "closed", .. }), "{error:?}");
                assert!(report.finished_within_timeout, "{report}");
                assert_eq!(report.at_end.sessions_in_flight, 0, "{report}");
                assert_eq!(report.at_end.connections_open, 0, "{report}");
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_transaction_held_elsewhere_cannot_commit_after_it_starts() {
                let Some((db, url)) = fresh($backend).await else { return };
                let table = table(&db).await;
                let commit = held_insert(&db, &table, 7).await;

                let drain = tokio::spawn({
                    let db = db.clone();
                    async move { db.drain(DrainMode::Force, Duration::from_secs(5)).await }
                });
                db.cancelled().await;

                let refused = commit().await.unwrap_err();
                assert!(matches!(&refused, Error::Unavailable { state: "closed", .. }), "{refused:?}");
                // The transaction was the last session in flight: the drain finishes now.
                let report = drain.await.unwrap();
                assert!(report.finished_within_timeout, "{report}");
                assert_eq!(report.at_end.sessions_in_flight, 0, "{report}");

                let other = second(&url).await;
                assert_eq!(count(&other, &table).await, 0, "a refused commit wrote nothing");
                other.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn work_it_cannot_reach_is_waited_for_only_up_to_the_timeout() {
                let Some((db, _)) = fresh($backend).await else { return };
                // A statement on a session held directly, outside `cancellable`: dbkit cannot
                // interrupt it.
                let held = Arc::new(tokio::sync::Notify::new());
                let work = tokio::spawn({
                    let (db, held) = (db.clone(), held.clone());
                    async move { long_session_then(&db, Duration::from_secs(2), || held.notify_one()).await }
                });
                held.notified().await;

                let report = db.drain(DrainMode::Force, Duration::from_millis(500)).await;

                assert!(!report.finished_within_timeout, "{report}");
                assert!(!work.is_finished(), "{report}");
                assert_eq!(report.at_end.sessions_in_flight, 1, "{report}");
                assert!(long_session(&db, Duration::ZERO).await.is_err());
                // It ends on its own; its connection is closed, not pooled.
                let _ = work.await.unwrap();
                assert_eq!(db.sessions_in_flight(), 0);
                assert_eq!(until_no_connections(&db).await, 0);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_shutdown_whose_drain_times_out_forces_the_rest() {
                let Some((db, _)) = fresh($backend).await else { return };
                let manager = Arc::new(DatabaseManager::new());
                manager.insert(db.clone()).unwrap();
                let work = tokio::spawn({
                    let db = db.clone();
                    async move {
                        let inner = db.clone();
                        db.cancellable(async move { long_session(&inner, Duration::from_secs(3)).await }).await
                    }
                });
                until_in_flight(&db, 1).await;

                let report = Shutdown::new(Arc::clone(&manager)).timeout(Duration::from_millis(300)).drain().await;

                assert!(!report.drain.finished_within_timeout, "{report}");
                let forced = report.forced.as_ref().expect("a force drain followed");
                assert!(forced.finished_within_timeout, "{report}");
                assert_eq!(forced.at_end.sessions_in_flight, 0, "{report}");
                assert!(report.to_string().contains("\nthen force drain of 1 database(s)"), "{report}");
                let error = work.await.unwrap().unwrap_err();
                assert!(matches!(&error, Error::Unavailable { state: "closed", .. }), "{error:?}");
                assert!(manager.get(db.name()).is_err(), "disconnected");
            }
        }
    };
}

force_tests!(sqlite, Backend::Sqlite);
force_tests!(postgres, Backend::Postgres);
force_tests!(mariadb, Backend::MySql);
