//! A graceful drain refuses new sessions from its first moment (and health says "draining"), lets
//! the sessions in flight finish, then closes every connection; past its timeout it returns and
//! says so, without cutting the work short. The manager drains every database at once. Run on
//! SQLite, PostgreSQL and MariaDB.

use std::time::Duration;

use dbkit::{Backend, DatabaseConfig, DatabaseManager, DatabaseState, DrainMode, Error, ErrorCategory, HealthStatus};
use dbkit_tests::drain::*;

macro_rules! graceful_tests {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn lets_sessions_in_flight_finish_then_closes_everything() {
                let Some((db, _)) = fresh($backend).await else { return };
                let long = tokio::spawn({
                    let db = db.clone();
                    async move { long_session(&db, Duration::from_millis(1500)).await }
                });
                let short = tokio::spawn({
                    let db = db.clone();
                    async move { long_session(&db, Duration::from_millis(700)).await }
                });
                until_in_flight(&db, 2).await;
                until_connections(&db, 2).await;

                let report = db.drain(DrainMode::Graceful, Duration::from_secs(10)).await;

                // The drain returned only once both had released their sessions (the report says so), and
                // neither was disturbed; the tasks themselves end right after.
                assert_eq!(report.at_end.sessions_in_flight, 0, "{report}");
                let ended = Duration::from_secs(2);
                tokio::time::timeout(ended, long).await.expect("the long session ended").unwrap().unwrap();
                tokio::time::timeout(ended, short).await.expect("the short session ended").unwrap().unwrap();
                assert_eq!(report.mode, DrainMode::Graceful);
                assert_eq!(report.at_start.sessions_in_flight, 2, "{report}");
                assert!(report.at_start.connections_open >= 2, "{report}");
                assert_eq!(report.at_end.sessions_in_flight, 0, "{report}");
                assert_eq!(report.at_end.connections_open, 0, "{report}");
                assert!(report.finished_within_timeout, "{report}");
                assert!(report.elapsed < Duration::from_secs(10), "{report}");
                assert_eq!(db.state(), DatabaseState::Closed);
                assert_eq!(db.connections_open(), 0);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_new_session_after_the_drain_starts_is_refused() {
                let Some((db, _)) = fresh($backend).await else { return };
                let manager = DatabaseManager::new();
                manager.insert(db.clone()).unwrap();
                // Long enough that the checks below finish well before it, even on a loaded machine.
                let work = tokio::spawn({
                    let db = db.clone();
                    async move { long_session(&db, Duration::from_secs(5)).await }
                });
                until_in_flight(&db, 1).await;

                let drain = tokio::spawn({
                    let db = db.clone();
                    async move { db.drain(DrainMode::Graceful, Duration::from_secs(10)).await }
                });
                while db.state() == DatabaseState::Open {
                    tokio::task::yield_now().await;
                }

                // Health says so first; then sessions and transactions are refused, clearly.
                let health = manager.health().await;
                assert_eq!(health.get(db.name()).unwrap().status, HealthStatus::Draining, "{health:?}");
                assert!(!health.is_healthy());
                let refused = long_session(&db, Duration::ZERO).await.unwrap_err();
                assert!(matches!(&refused, Error::Unavailable { state: "draining", .. }), "{refused:?}");
                assert_eq!(refused.category(), ErrorCategory::Connection);
                assert_eq!(
                    refused.to_string(),
                    format!("database `{}` is draining: no new sessions are handed out", db.name())
                );
                assert!(matches!(db.health_check().await, Err(Error::Unavailable { .. })));
                assert!(!drain.is_finished(), "the drain waits for the session in flight");

                let report = drain.await.unwrap();
                work.await.unwrap().unwrap();
                assert!(report.finished_within_timeout, "{report}");
                assert_eq!(report.at_start.sessions_in_flight, 1, "{report}");
                let refused = long_session(&db, Duration::ZERO).await.unwrap_err();
                assert!(matches!(&refused, Error::Unavailable { state: "closed", .. }), "{refused:?}");
                assert_eq!(manager.health().await.get(db.name()).unwrap().status, HealthStatus::Closed);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn past_its_timeout_it_returns_says_so_and_leaves_the_work_alone() {
                let Some((db, _)) = fresh($backend).await else { return };
                let work = tokio::spawn({
                    let db = db.clone();
                    async move { long_session(&db, Duration::from_secs(3)).await }
                });
                until_in_flight(&db, 1).await;

                let report = db.drain(DrainMode::Graceful, Duration::from_millis(500)).await;

                assert!(!report.finished_within_timeout, "{report}");
                assert!(!work.is_finished(), "returned at the timeout, not after the work: {report}");
                assert_eq!(report.at_end.sessions_in_flight, 1, "{report}");
                assert!(report.at_end.connections_open >= 1, "{report}");
                assert_eq!(db.state(), DatabaseState::Closed);
                // Graceful cancels nothing: the work finishes, and its connection is closed, not pooled.
                work.await.unwrap().unwrap();
                assert_eq!(db.sessions_in_flight(), 0);
                assert_eq!(until_no_connections(&db).await, 0);
            }
        }
    };
}

graceful_tests!(sqlite, Backend::Sqlite);
graceful_tests!(postgres, Backend::Postgres);
graceful_tests!(mariadb, Backend::MySql);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_drains_every_database_at_once_and_reports_each() {
    let manager = DatabaseManager::new();
    let mut databases = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        if let Some((db, _)) = fresh(backend).await {
            manager.insert(db.clone()).unwrap();
            databases.push(db);
        }
    }
    manager.register("idle", DatabaseConfig::sqlite_memory()).unwrap();
    manager.connect_all().await.unwrap();

    // 1.5 s of work in each: one after the other would take 1.5 s per database.
    let mut work = Vec::new();
    for db in &databases {
        let db = db.clone();
        work.push(tokio::spawn(async move { long_session(&db, Duration::from_millis(1500)).await }));
    }
    for db in &databases {
        until_in_flight(db, 1).await;
    }

    let drain = tokio::spawn(async move {
        let report = manager.drain(DrainMode::Graceful, Duration::from_secs(10)).await;
        (manager, report)
    });
    // Every database says draining before any finishes.
    for db in &databases {
        while db.state() == DatabaseState::Open {
            tokio::task::yield_now().await;
        }
        assert_eq!(db.state(), DatabaseState::Draining);
    }
    let (manager, report) = drain.await.unwrap();
    for w in work {
        w.await.unwrap().unwrap();
    }

    assert!(report.finished_within_timeout, "{report}");
    assert_eq!(report.databases.len(), databases.len() + 1, "{report}");
    assert_eq!(report.at_start.sessions_in_flight, databases.len(), "{report}");
    assert_eq!(report.at_end, dbkit::DrainCounts::default(), "{report}");
    let sequential = Duration::from_millis(1500) * databases.len() as u32;
    if databases.len() > 1 {
        assert!(report.elapsed < sequential, "drained one after the other? {report}");
    }
    for db in &report.databases {
        assert!(db.finished_within_timeout, "{report}");
        assert_eq!(db.at_end.connections_open, 0, "{report}");
    }
    assert!(report.to_string().starts_with("graceful drain of "), "{report}");
    let health = manager.health().await;
    assert!(health.databases.iter().all(|d| d.status == HealthStatus::Closed), "{health:?}");
    manager.disconnect_all().await;
}
