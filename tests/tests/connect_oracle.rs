//! Oracle: everything short of a live server is checked here; the live part runs where
//! `ORACLE_URL` (for example `oracle://app:secret@db:1521/FREEPDB1`) is set.

use dbkit::{Backend, Database, DatabaseConfig, ErrorCategory};
use dbkit_tests::{connect, server_url, unique_name};

#[test]
fn oracle_urls_parse_and_redact() {
    let config = DatabaseConfig::from_url("oracle://app:Top-Secret-1@db.internal:1522/FREEPDB1").unwrap();
    assert_eq!(config.backend(), Backend::Oracle);
    assert_eq!(config.redacted_url(), "oracle://app:***@db.internal:1522/FREEPDB1");
    assert!(!format!("{config:?}").contains("Top-Secret-1"));
}

#[tokio::test]
async fn without_a_reachable_server_connect_fails_clearly_and_never_shows_the_password() {
    if server_url(Backend::Oracle).is_some() {
        return; // the live tests below cover a reachable server
    }
    // Either Oracle Instant Client is missing (DPI-1047) or nothing listens on port 9: both are
    // errors that say so, classified, without the password.
    let config = DatabaseConfig::from_url("oracle://app:Top-Secret-1@127.0.0.1:9/FREEPDB1")
        .unwrap()
        .connect_timeout(std::time::Duration::from_secs(20));
    let err = Database::connect_with(config).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("Top-Secret-1"), "{shown}");
    assert!(shown.contains("DPI-") || shown.contains("ORA-"), "{shown}");
    assert_ne!(err.category(), ErrorCategory::Unknown, "{err}");
}

#[tokio::test]
async fn live_connect_health_info_and_a_round_trip() {
    let Some(db) = connect(Backend::Oracle).await else { return };
    db.health_check().await.unwrap();
    let info = db.info().await.unwrap();
    assert!(!info.server_version.is_empty());
    let table = unique_name("t").to_uppercase();
    let session = db.oracle().await.unwrap();
    let count: i64 = session
        .run(move |conn| {
            conn.execute(&format!("CREATE TABLE {table} (id NUMBER(19) PRIMARY KEY, name VARCHAR2(100))"), &[])?;
            conn.execute(&format!("INSERT INTO {table} (id, name) VALUES (:1, :2)"), &[&1_i64, &"one"])?;
            conn.commit()?;
            let n: i64 = conn.query_row_as(&format!("SELECT COUNT(*) FROM {table}"), &[])?;
            conn.execute(&format!("DROP TABLE {table} PURGE"), &[])?;
            Ok(n)
        })
        .await
        .unwrap();
    assert_eq!(count, 1);
    drop(session);
    assert_eq!(db.sessions_in_flight(), 0);
}

/// The pool's metrics on Oracle (ODPI-C's session pool): each session's wait and use timed, the
/// counts by state from ODPI-C, the limits as configured; and a pool timeout (`ORA-24457`) is a
/// `Timeout`, counted. Its control is the first session: it waits, and is not counted a timeout.
#[tokio::test]
async fn live_pool_metrics() {
    use metrics_util::debugging::DebugValue;
    let (snapshotter, _metrics) = dbkit_tests::record_metrics();
    let Some(db) = dbkit_tests::connect_configured(Backend::Oracle, |c: DatabaseConfig| {
        c.pool_size(1).max_overflow(0).pool_timeout(std::time::Duration::from_millis(300))
    })
    .await
    else {
        return;
    };
    let held = db.oracle().await.unwrap();
    let error = db.oracle().await.unwrap_err();
    assert_eq!(error.category(), ErrorCategory::Timeout, "{error}");
    drop(held);
    let snapshot = snapshotter.snapshot().into_vec();
    let pool_metric = |name: &str| {
        snapshot
            .iter()
            .filter(|(key, ..)| {
                key.key().name() == name
                    && key.key().labels().any(|l| l.key() == "db.client.connection.pool.name" && l.value() == db.name())
            })
            .map(|(.., value)| value)
            .collect::<Vec<&DebugValue>>()
    };
    let samples = |values: Vec<&DebugValue>| {
        values.iter().map(|v| if let DebugValue::Histogram(s) = v { s.len() } else { 0 }).sum::<usize>()
    };
    assert_eq!(pool_metric("db.client.connection.timeouts"), [&DebugValue::Counter(1)]);
    assert_eq!(samples(pool_metric("db.client.connection.wait_time")), 2, "both waits timed");
    assert_eq!(samples(pool_metric("db.client.connection.use_time")), 1, "the one session used");
    assert_eq!(pool_metric("db.client.connection.max"), [&DebugValue::Gauge(1.0.into())]);
    assert_eq!(pool_metric("db.client.connection.count").len(), 2, "idle and used");
}
