//! An immediate drain refuses new sessions and closes the idle connections at once, without
//! waiting for the sessions in flight; those finish undisturbed, and their connections are closed
//! when they come back rather than pooled. Run on SQLite, PostgreSQL and MariaDB.

use std::time::Duration;

use dbkit::{Backend, DatabaseState, DrainMode, Error};
use dbkit_tests::drain::*;

macro_rules! immediate_tests {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn closes_idle_connections_now_and_does_not_wait_for_work_in_flight() {
                let Some((db, _)) = fresh($backend).await else { return };
                // Three connections open: two of them go back to the pool idle, one stays busy.
                let busy = {
                    let a = long_session(&db, Duration::from_millis(200));
                    let b = long_session(&db, Duration::from_millis(200));
                    let c = long_session(&db, Duration::from_millis(200));
                    let (a, b, c) = tokio::join!(a, b, c);
                    (a.unwrap(), b.unwrap(), c.unwrap());
                    // Let the three get back to the pool.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    tokio::spawn({
                        let db = db.clone();
                        async move { long_session(&db, Duration::from_secs(2)).await }
                    })
                };
                until_in_flight(&db, 1).await;

                let report = db.drain(DrainMode::Immediate, Duration::from_secs(5)).await;

                assert!(!busy.is_finished(), "did not wait for the work in flight: {report}");
                assert!(report.finished_within_timeout, "{report}");
                assert_eq!(report.mode, DrainMode::Immediate);
                assert_eq!(report.at_start.sessions_in_flight, 1, "{report}");
                assert!(report.at_start.connections_open >= 3, "{report}");
                assert_eq!(report.at_end.sessions_in_flight, 1, "{report}");
                assert_eq!(report.at_end.connections_open, 1, "only the busy one is left: {report}");
                assert!(report.elapsed < Duration::from_millis(1500), "{report}");
                assert_eq!(db.state(), DatabaseState::Closed);

                let refused = long_session(&db, Duration::ZERO).await.unwrap_err();
                assert!(matches!(&refused, Error::Unavailable { .. }), "{refused:?}");

                // The work in flight is not disturbed; its connection is closed when it comes back.
                busy.await.unwrap().unwrap();
                assert_eq!(db.sessions_in_flight(), 0);
                assert_eq!(until_no_connections(&db).await, 0);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_caller_waiting_for_a_connection_is_refused_not_left_hanging() {
                let Some((db, _)) = fresh($backend).await else { return };
                // Every connection busy (pool of 5), and one more caller waiting for one.
                let held = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let mut busy = Vec::new();
                for _ in 0..db.config().max_connections() {
                    let (db, held) = (db.clone(), held.clone());
                    busy.push(tokio::spawn(async move {
                        long_session_then(&db, Duration::from_millis(1500), || {
                            held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        })
                        .await
                    }));
                }
                let max = db.config().max_connections() as usize;
                // Held, not only asked for: a session still connecting when the drain starts is
                // refused, which is not the work in flight this test means.
                let all_held = tokio::time::timeout(Duration::from_secs(10), async {
                    while held.load(std::sync::atomic::Ordering::SeqCst) < max {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                });
                assert!(all_held.await.is_ok(), "the busy sessions never all got a connection");
                let waiting = tokio::spawn({
                    let db = db.clone();
                    async move { long_session(&db, Duration::ZERO).await }
                });
                until_in_flight(&db, max + 1).await;

                db.drain(DrainMode::Immediate, Duration::from_secs(5)).await;

                let refused = tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("still waiting");
                let refused = refused.unwrap().unwrap_err();
                assert!(matches!(&refused, Error::Unavailable { .. }), "{refused:?}");
                for b in busy {
                    b.await.unwrap().unwrap();
                }
                assert_eq!(until_no_connections(&db).await, 0);
            }
        }
    };
}

immediate_tests!(sqlite, Backend::Sqlite);
immediate_tests!(postgres, Backend::Postgres);
immediate_tests!(mariadb, Backend::MySql);
