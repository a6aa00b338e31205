//! ClickHouse connects over HTTP (both URL forms), answers health checks, reports its version,
//! runs statements through counted sessions, and works with the old server Debian ships (18.16)
//! as with current ones.

use dbkit::{Backend, Database, DatabaseConfig, DatabaseState, Error, ErrorCategory};
use dbkit_tests::{connect, server_url, unique_name};

#[tokio::test]
async fn connects_and_answers_health_checks() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    assert_eq!(db.backend(), Backend::ClickHouse);
    db.health_check().await.unwrap();
    let info = db.info().await.unwrap();
    assert!(info.server_version.chars().next().is_some_and(|c| c.is_ascii_digit()), "{info:?}");
    assert_eq!(info.state, DatabaseState::Open);
}

#[tokio::test]
async fn the_clickhouse_scheme_names_the_database_in_the_path() {
    let Some(url) = server_url(Backend::ClickHouse) else { return };
    let http = url::Url::parse(&url).unwrap();
    let alt = format!("clickhouse://default@{}:{}/dbkit", http.host_str().unwrap(), http.port().unwrap());
    let db = Database::connect(&alt).await.unwrap();
    let session = db.clickhouse().unwrap();
    let current: String = session.query("SELECT currentDatabase()").fetch_one().await.unwrap();
    assert_eq!(current, "dbkit");
}

#[tokio::test]
async fn statements_run_through_counted_sessions() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    let table = unique_name("events");
    let session = db.clickhouse().unwrap();
    assert_eq!(db.sessions_in_flight(), 1);
    session
        .query(&format!("CREATE TABLE {table} (id UInt64, name String) ENGINE = MergeTree() ORDER BY id"))
        .execute()
        .await
        .unwrap();
    session.query(&format!("INSERT INTO {table} SELECT number, toString(number) FROM system.numbers LIMIT 1000"))
        .execute()
        .await
        .unwrap();
    let (count, name): (u64, String) = session
        .query(&format!("SELECT count(), max(name) FROM {table} WHERE id >= ?"))
        .bind(10_u64)
        .fetch_one()
        .await
        .unwrap();
    assert_eq!((count, name.as_str()), (990, "999"));
    session.query(&format!("DROP TABLE {table}")).execute().await.unwrap();
    drop(session);
    assert_eq!(db.sessions_in_flight(), 0);
}

#[tokio::test]
async fn server_errors_are_reported_and_classified() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    let session = db.clickhouse().unwrap();
    let err: Error = session.query("SELECT * FROM no_such_table_here").execute().await.unwrap_err().into();
    assert!(err.to_string().contains("no_such_table_here"), "{err}");
    assert_eq!(err.category(), ErrorCategory::Permanent, "{err}");
}

#[tokio::test]
async fn a_wrong_password_never_shows_up() {
    let Some(url) = server_url(Backend::ClickHouse) else { return };
    let config = DatabaseConfig::from_url(&url).unwrap().password("ch-Secret-77");
    let err = Database::connect_with(config).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("ch-Secret-77"), "{shown}");
    assert_eq!(err.category(), ErrorCategory::Permanent, "{err}");
}

#[tokio::test]
async fn a_sqlx_session_on_clickhouse_is_refused() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    let err = db.session::<dbkit::sqlx::Postgres>().await.unwrap_err();
    assert!(matches!(err, Error::BackendMismatch { .. }), "{err}");
    let sqlite = Database::connect("sqlite::memory:").await.unwrap();
    assert!(matches!(sqlite.clickhouse().unwrap_err(), Error::BackendMismatch { .. }));
}

#[tokio::test]
async fn a_transaction_on_clickhouse_is_refused_before_the_closure_runs() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    let mut ran = false;
    let err = db
        .transaction(async |_| {
            ran = true;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TransactionsUnsupported { backend: Backend::ClickHouse, .. }), "{err:?}");
    assert_eq!(err.category(), ErrorCategory::Permanent);
    assert!(!ran);
    assert_eq!(db.sessions_in_flight(), 0);
}
