//! A Force drain cancels a generated repository call that is waiting on the server: the call fails
//! with a classified error (a write's outcome is reported as unknown, never retried) and nothing it
//! was doing is committed. PostgreSQL and MariaDB, where a row lock makes the call wait.

use std::time::Duration;

use dbkit::prelude::*;
use dbkit::sqlx;
use dbkit_tests::server_url;

macro_rules! force_cancels_a_blocked_update {
    ($test:ident, $backend:ident, $driver:ty, $lock_sql:literal, $waiting_sql:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            #[derive(Debug, Clone, PartialEq, Repository)]
            #[database($backend)]
            #[repository(table = "drain_force_repo")]
            struct Counter {
                #[key]
                id: i64,
                value: i64,
            }

            let Some(url) = server_url(dbkit::Backend::from_scheme(stringify!($backend)).unwrap()) else { return };
            let db = Database::connect(&url).await.unwrap();
            let other = Database::connect(&url).await.unwrap();
            db.drop_table::<Counter>().await.unwrap();
            db.create_table::<Counter>().await.unwrap();
            let repo = CounterRepository::new(&db);
            repo.create(&NewCounter { id: 1, value: 0 }).await.unwrap();

            // Another database handle locks the row, so the update below waits on the server.
            let mut lock = other.begin::<$driver>().await.unwrap();
            sqlx::query($lock_sql).execute(&mut *lock).await.unwrap();

            let blocked = tokio::spawn({
                let repo = repo.clone();
                async move { repo.update(1, &CounterPatch { value: Some(99) }).await }
            });
            // Wait until the server shows the update waiting for the lock: it has been sent.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let mut probe = other.session::<$driver>().await.unwrap();
                let waiting: i64 = sqlx::query_scalar($waiting_sql).fetch_one(&mut *probe).await.unwrap();
                if waiting > 0 {
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "the update never reached the server");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(!blocked.is_finished(), "the update waits for the row lock");

            let report = db.drain(DrainMode::Force, Duration::from_secs(5)).await;
            assert!(report.finished_within_timeout, "{report:?}");
            let err = tokio::time::timeout(Duration::from_secs(5), blocked).await.unwrap().unwrap().unwrap_err();
            assert!(err.is_outcome_unknown(), "a cancelled write's outcome is unknown: {err}");
            assert!(!err.is_retryable());

            // Give the server time to notice its client went away (PostgreSQL checks every second,
            // see `client_connection_check_interval`), then release the lock: the cancelled update
            // must not apply.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            lock.rollback().await.unwrap();
            let check = CounterRepository::new(&other);
            assert_eq!(check.get(1).await.unwrap().unwrap().value, 0, "nothing half-written is committed");

            // A write started after the drain was never sent: it is refused, not "outcome unknown".
            let err = repo.create(&NewCounter { id: 2, value: 0 }).await.unwrap_err();
            assert!(matches!(err, dbkit::Error::Unavailable { .. }), "{err:?}");
            assert!(!err.is_outcome_unknown() && !err.is_retryable(), "{err}");
            assert_eq!(check.get(2).await.unwrap(), None);
            other.drop_table::<Counter>().await.unwrap();
        }
    };
}

force_cancels_a_blocked_update!(
    postgres,
    postgres,
    sqlx::Postgres,
    r#"SELECT * FROM "drain_force_repo" WHERE "id" = 1 FOR UPDATE"#,
    "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE%drain_force_repo%'"
);
force_cancels_a_blocked_update!(
    mariadb,
    mysql,
    sqlx::MySql,
    "SELECT * FROM `drain_force_repo` WHERE `id` = 1 FOR UPDATE",
    "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'UPDATE%drain_force_repo%' AND info NOT LIKE '%processlist%'"
);
