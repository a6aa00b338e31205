//! Table design from the model against a real ClickHouse (Debian's 18.16 in CI):
//! `#[repository(engine, order_by, partition_by, ttl)]` reach the server's `CREATE TABLE`,
//! `LowCardinality(String)` and `Enum8` columns round-trip and pass `verify_schema`, and a
//! `ReplacingMergeTree(version)` keeps the latest version of a row. Tables are `cht_design_*`.

use chrono::{DateTime, Utc};
use dbkit::prelude::*;
use dbkit::{Backend, ErrorCategory};
use dbkit_tests::connect;

/// A Rust enum stored as `Enum8`: `RowBinary` carries an enum as its `Int8` number, so the enum
/// serializes as that number (what `serde_repr` derives).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(i8)]
pub enum Source {
    Web = 1,
    App = 2,
}

impl serde::Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i8(*self as i8)
    }
}

impl<'de> serde::Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match <i8 as serde::Deserialize>::deserialize(deserializer)? {
            1 => Ok(Source::Web),
            2 => Ok(Source::App),
            other => Err(serde::de::Error::custom(format!("no Source numbered {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(
    table = "cht_design_events",
    engine = "ReplacingMergeTree(version)",
    order_by = "(user_id, event_time, id)",
    partition_by = "toYYYYMM(event_time)"
)]
pub struct UserEvent {
    #[key]
    pub id: u64,
    pub user_id: u64,
    #[column(sql_type = "LowCardinality(String)")]
    pub event_type: String,
    #[column(sql_type = "LowCardinality(String)")]
    pub country: Option<String>,
    #[column(sql_type = "Enum8('web' = 1, 'app' = 2)")]
    pub source: Source,
    #[column(sql_type = "Enum8('free' = 0, 'paid' = 1)")]
    pub plan: i8,
    pub event_data: serde_json::Value,
    pub event_time: DateTime<Utc>,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "cht_design_ttl", order_by = "(event_time, id)", ttl = "event_time + INTERVAL 90 DAY")]
pub struct Expiring {
    #[key]
    pub id: u64,
    pub event_time: DateTime<Utc>,
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

fn event(id: u64, version: u32, event_type: &str) -> NewUserEvent {
    NewUserEvent {
        id,
        user_id: 7,
        event_type: event_type.to_owned(),
        country: id.is_multiple_of(2).then(|| "NZ".to_owned()),
        source: if id.is_multiple_of(2) { Source::Web } else { Source::App },
        plan: 1,
        event_data: serde_json::json!({"id": id, "v": version}),
        event_time: at(1_700_000_000 + id as i64),
        version,
    }
}

#[tokio::test]
async fn the_model_lays_out_the_table() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    db.drop_table::<UserEvent>().await.unwrap();
    // On 18.16 `LowCardinality` needs an experimental setting, which dbkit sends with this DDL.
    db.create_table::<UserEvent>().await.unwrap();
    db.create_table::<UserEvent>().await.unwrap();
    assert!(db.verify_schema::<UserEvent>().await.unwrap().is_empty());

    // The raw crate, through the facade, on dbkit's own client: what the server made of it.
    let session: dbkit::ClickHouseSession = db.clickhouse().unwrap();
    let client: &dbkit::clickhouse::Client = session.client();
    let engine: String = client
        .query(
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'cht_design_events'",
        )
        .fetch_one()
        .await
        .unwrap();
    assert!(engine.starts_with("ReplacingMergeTree(version)"), "{engine}");
    assert!(engine.contains("PARTITION BY toYYYYMM(event_time)"), "{engine}");
    assert!(engine.contains("ORDER BY (user_id, event_time, id)"), "{engine}");
    let types: Vec<(String, String)> = client
        .query(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'cht_design_events' \
             AND name IN ('event_type', 'country', 'source', 'plan')",
        )
        .fetch_all()
        .await
        .unwrap();
    let types: Vec<(&str, &str)> = types.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    assert_eq!(
        types,
        [
            ("event_type", "LowCardinality(String)"),
            ("country", "LowCardinality(Nullable(String))"),
            ("source", "Enum8('web' = 1, 'app' = 2)"),
            ("plan", "Enum8('free' = 0, 'paid' = 1)"),
        ]
    );

    // Every column round-trips, the low-cardinality and enum ones included.
    let events = UserEventRepository::new(&db);
    let rows: Vec<NewUserEvent> = (1..=4).map(|id| event(id, 1, "view")).collect();
    assert_eq!(events.create_many(&rows).await.unwrap(), 4);
    let got = events.get(2).await.unwrap().expect("written");
    assert_eq!(
        (got.event_type.as_str(), got.country.as_deref(), got.source, got.plan),
        ("view", Some("NZ"), Source::Web, 1)
    );
    assert_eq!(events.get(3).await.unwrap().unwrap().country, None);
    let names: Vec<String> =
        client.query("SELECT toString(source) FROM cht_design_events ORDER BY id").fetch_all().await.unwrap();
    assert_eq!(names, ["app", "web", "app", "web"], "the server sees the enum's names");

    // `ReplacingMergeTree(version)`: a newer version of a row replaces it once parts merge.
    events.create_many(&[event(2, 5, "buy")]).await.unwrap();
    client.query("OPTIMIZE TABLE cht_design_events FINAL").execute().await.unwrap();
    assert_eq!(events.count().await.unwrap(), 4);
    let latest = events.get(2).await.unwrap().unwrap();
    assert_eq!((latest.version, latest.event_type.as_str()), (5, "buy"));
    drop(session);
    db.drop_table::<UserEvent>().await.unwrap();
}

/// `TTL` came with ClickHouse 19.6: on 18.16 the server refuses the DDL (a permanent error, the
/// statement as dbkit generated it); on a current server the table is created.
#[tokio::test]
async fn ttl_needs_clickhouse_19_6() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    db.drop_table::<Expiring>().await.unwrap();
    let created = db.create_table::<Expiring>().await;
    if db.server_version().starts_with("18.") {
        let error = created.unwrap_err();
        assert_eq!(error.category(), ErrorCategory::Permanent, "{error}");
        assert!(error.to_string().contains("TTL event_time + INTERVAL 90 DAY"), "{error}");
    } else {
        created.unwrap();
        assert!(db.verify_schema::<Expiring>().await.unwrap().is_empty());
        db.drop_table::<Expiring>().await.unwrap();
    }
}
