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
    session
        .query(&format!("INSERT INTO {table} SELECT number, toString(number) FROM system.numbers LIMIT 1000"))
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

#[tokio::test]
async fn the_server_is_the_one_the_run_names() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    let version = db.info().await.unwrap().server_version;
    // scripts/test runs this binary once per ClickHouse server and names each one's version.
    if let Ok(expected) = std::env::var("DBKIT_TEST_CLICKHOUSE_VERSION") {
        assert!(version.starts_with(&expected), "expected ClickHouse {expected}*, the server is {version}");
    }
}

/// A row the `clickhouse` crate checks against the names and types the server sends
/// (`RowBinaryWithNamesAndTypes`), which dbkit's own client leaves off for 18.16's sake.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, serde::Serialize, serde::Deserialize)]
struct Validated {
    id: u64,
    name: String,
    maybe: Option<i32>,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    at: chrono::DateTime<chrono::Utc>,
}

/// The same columns with a wrong type for `id`.
#[derive(Debug, clickhouse::Row, serde::Deserialize)]
struct Mistyped {
    #[allow(dead_code)] // read only to fail
    id: i32,
}

#[tokio::test]
async fn validated_rows_work_where_the_server_sends_names_and_types() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    let old = db.info().await.unwrap().server_version.starts_with("18.");
    let client = db.clickhouse().unwrap().clone().with_validation(true);
    let table = unique_name("validated");
    client
        .query(&format!(
            "CREATE TABLE {table} (id UInt64, name String, maybe Nullable(Int32), at DateTime) \
             ENGINE = MergeTree() ORDER BY id"
        ))
        .execute()
        .await
        .unwrap();
    let select = format!("SELECT ?fields FROM {table} ORDER BY id");
    if old {
        // 18.16 has no `RowBinaryWithNamesAndTypes` (scripts/CLICKHOUSE-NOTES.md).
        let err: Error = client.query(&select).fetch_all::<Validated>().await.unwrap_err().into();
        assert!(err.to_string().contains("Code: 73"), "{err}");
    } else {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let rows = [
            Validated { id: 1, name: "one".into(), maybe: Some(-1), at },
            Validated { id: 2, name: "Ünïcödé 🦀".into(), maybe: None, at },
        ];
        let mut insert = client.insert::<Validated>(&table).await.unwrap();
        for row in &rows {
            insert.write(row).await.unwrap();
        }
        insert.end().await.unwrap();
        assert_eq!(client.query(&select).fetch_all::<Validated>().await.unwrap(), rows);
        let err = client.query(&format!("SELECT id FROM {table}")).fetch_all::<Mistyped>().await.unwrap_err();
        assert!(err.to_string().contains("UInt64"), "a wrong Rust type is reported: {err}");
    }
    client.query(&format!("DROP TABLE {table}")).execute().await.unwrap();
}
