//! Event ingestion through `XRepository::inserter` against a real ClickHouse (Debian's 18.16 in
//! CI): many small inserts from many tasks land exactly once, batched; a row is acknowledged only
//! once written; a drain flushes the rows still queued (and the control, the crate's own inserter
//! without dbkit's drain hook, loses them); the period writes a lone row; a force drain abandons
//! its `INSERT`; JSON payloads come back as they went in.
//!
//! Each test has its own table (`cht_ingest_*`), so they run in parallel.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dbkit::prelude::*;
use dbkit::{Backend, Error, InserterOptions};
use dbkit_tests::connect;

/// The seed's `user_events`, once per test table.
macro_rules! user_events {
    ($model:ident, $table:literal) => {
        #[derive(Debug, Clone, PartialEq, Repository)]
        #[database(clickhouse)]
        #[repository(
                    table = $table,
                    order_by = "(user_id, event_time, id)",
                    partition_by = "toYYYYMM(event_time)"
                )]
        pub struct $model {
            #[key]
            pub id: u64,
            pub user_id: u64,
            #[column(sql_type = "LowCardinality(String)")]
            pub event_type: String,
            pub event_data: serde_json::Value,
            pub event_time: DateTime<Utc>,
        }
    };
}

user_events!(ManyEvent, "cht_ingest_many");
user_events!(DrainEvent, "cht_ingest_drain");
user_events!(ControlEvent, "cht_ingest_control");
user_events!(PeriodEvent, "cht_ingest_period");
user_events!(ForceEvent, "cht_ingest_force");

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}

macro_rules! event {
    ($new:ident, $id:expr) => {{
        let id: u64 = $id;
        $new {
            id,
            user_id: id % 97,
            event_type: ["click", "view", "buy"][(id % 3) as usize].to_owned(),
            event_data: serde_json::json!({"page": format!("/p/{id}"), "n": id, "tags": ["a", null], "ü": true}),
            event_time: now(),
        }
    }};
}

async fn count(db: &Database, table: &str) -> u64 {
    let session = db.clickhouse().unwrap();
    session.client().query(&format!("SELECT count() FROM {table}")).fetch_one::<u64>().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_thousand_inserts_from_many_tasks_land_exactly_once() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    db.drop_table::<ManyEvent>().await.unwrap();
    db.create_table::<ManyEvent>().await.unwrap();
    let events = ManyEventRepository::new(&db);
    // Every task waits for its row, so an INSERT ends when all of them have one in it (or at the
    // period): a thousand INSERTs of a hundred rows' worth each would be the naive alternative.
    let inserter = events.inserter(InserterOptions::new().max_rows(1_000).period(Duration::from_millis(100))).unwrap();

    const TASKS: u64 = 1_000;
    const PER_TASK: u64 = 100;
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let inserter = inserter.clone();
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    inserter.insert(event!(NewManyEvent, task * PER_TASK + i)).await?;
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();

    // Acknowledged means written: no flush, no wait, before counting.
    let session = db.clickhouse().unwrap();
    let (rows, ids, min, max): (u64, u64, u64, u64) = session
        .client()
        .query("SELECT count(), uniqExact(id), min(id), max(id) FROM cht_ingest_many")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!((rows, ids, min, max), (TASKS * PER_TASK, TASKS * PER_TASK, 0, TASKS * PER_TASK - 1));
    // Batched: far fewer parts than rows (each INSERT makes at least one).
    let inserts: u64 = session
        .client()
        .query("SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'cht_ingest_many'")
        .fetch_one()
        .await
        .unwrap();
    assert!(inserts <= 1_000, "{inserts} parts for 100 000 rows");
    eprintln!("100 000 acknowledged inserts from {TASKS} tasks in {elapsed:?}; {inserts} active parts");

    // The JSON payload comes back as it went in.
    let first = events.get(4_242).await.unwrap().expect("written");
    assert_eq!(first.event_data, serde_json::json!({"page": "/p/4242", "n": 4242, "tags": ["a", null], "ü": true}));
    assert_eq!(first.event_type, "click");
    db.drop_table::<ManyEvent>().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_drain_flushes_the_rows_still_queued() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    db.drop_table::<DrainEvent>().await.unwrap();
    db.create_table::<DrainEvent>().await.unwrap();
    // No period and a size never reached: nothing would be written before the drain.
    let inserter =
        DrainEventRepository::new(&db).inserter(InserterOptions::new().max_rows(1_000_000).period(None)).unwrap();
    let waiting: Vec<_> = (0..500)
        .map(|id| {
            let inserter = inserter.clone();
            tokio::spawn(async move { inserter.insert(event!(NewDrainEvent, id)).await })
        })
        .collect();
    for id in 500..5_000 {
        inserter.send(event!(NewDrainEvent, id)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(waiting.iter().all(|t| !t.is_finished()), "nothing acknowledged before the drain");
    let other = Database::connect(&dbkit_tests::server_url(Backend::ClickHouse).unwrap()).await.unwrap();
    assert_eq!(count(&other, "cht_ingest_drain").await, 0, "nothing written before the drain");

    let report = db.drain(DrainMode::Graceful, Duration::from_secs(20)).await;
    assert!(report.finished_within_timeout, "{report}");
    assert_eq!(report.at_start.sessions_in_flight, 1, "the inserter is in flight: {report}");
    assert_eq!(report.at_end.sessions_in_flight, 0, "{report}");
    for task in waiting {
        task.await.unwrap().expect("acknowledged by the drain's flush");
    }
    assert_eq!(count(&other, "cht_ingest_drain").await, 5_000, "every queued row written");

    // After the drain, new rows are refused rather than queued and lost.
    let error = inserter.insert(event!(NewDrainEvent, 9_999)).await.unwrap_err();
    assert!(matches!(error, Error::Unavailable { .. }), "{error:?}");
    let error = inserter.send(event!(NewDrainEvent, 9_999)).await.unwrap_err();
    assert!(matches!(error, Error::Unavailable { .. }), "{error:?}");
    let session = other.clickhouse().unwrap();
    session.client().query("DROP TABLE cht_ingest_drain").execute().await.unwrap();
}

/// The control: the same rows through the `clickhouse` crate's own inserter (as dbkit re-exports
/// it), which nothing tells about the drain, are lost when the process goes on to exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_without_the_drain_hook_the_queued_rows_are_lost() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    db.drop_table::<ControlEvent>().await.unwrap();
    db.create_table::<ControlEvent>().await.unwrap();

    #[derive(dbkit::clickhouse::Row, serde::Serialize)]
    #[clickhouse(crate = "dbkit::clickhouse")]
    struct Raw {
        id: u64,
        user_id: u64,
        event_type: String,
        event_data: String,
        #[serde(with = "dbkit::clickhouse::serde::chrono::datetime")]
        event_time: DateTime<Utc>,
    }
    let client = db.clickhouse().unwrap().client().clone();
    let mut raw = client.inserter::<Raw>("cht_ingest_control").with_max_rows(1_000_000).with_period(None);
    for id in 0..5_000u64 {
        let row = Raw { id, user_id: id % 97, event_type: "view".into(), event_data: "{}".into(), event_time: now() };
        raw.write(&row).await.unwrap();
        raw.commit().await.unwrap();
    }
    let report = db.drain(DrainMode::Graceful, Duration::from_secs(5)).await;
    assert!(report.finished_within_timeout);
    assert_eq!(report.at_start.sessions_in_flight, 0, "the drain does not know about it");
    drop(raw); // the process exits: the INSERT is cut off

    let other = Database::connect(&dbkit_tests::server_url(Backend::ClickHouse).unwrap()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&other, "cht_ingest_control").await, 0, "the queued rows are lost");
    let session = other.clickhouse().unwrap();
    session.client().query("DROP TABLE cht_ingest_control").execute().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_period_writes_a_lone_row() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    db.drop_table::<PeriodEvent>().await.unwrap();
    db.create_table::<PeriodEvent>().await.unwrap();
    let period = Duration::from_millis(300);
    let inserter =
        PeriodEventRepository::new(&db).inserter(InserterOptions::new().max_rows(1_000_000).period(period)).unwrap();

    // A row sent without acknowledgement is written within about a period, with no other row
    // behind it and no flush.
    inserter.send(event!(NewPeriodEvent, 1)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while count(&db, "cht_ingest_period").await < 1 {
        assert!(Instant::now() < deadline, "the sent row was not written by the period");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // An acknowledged row waits for the period, not for a size that never comes.
    let started = Instant::now();
    inserter.insert(event!(NewPeriodEvent, 2)).await.unwrap();
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "acknowledged after {waited:?}");
    assert_eq!(count(&db, "cht_ingest_period").await, 2);

    // `flush` writes now.
    inserter.send(event!(NewPeriodEvent, 3)).await.unwrap();
    inserter.flush().await.unwrap();
    assert_eq!(count(&db, "cht_ingest_period").await, 3);
    db.drop_table::<PeriodEvent>().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_drain_abandons_the_insert() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    db.drop_table::<ForceEvent>().await.unwrap();
    db.create_table::<ForceEvent>().await.unwrap();
    let inserter =
        ForceEventRepository::new(&db).inserter(InserterOptions::new().max_rows(1_000_000).period(None)).unwrap();
    let waiting: Vec<_> = (0..200)
        .map(|id| {
            let inserter = inserter.clone();
            tokio::spawn(async move { inserter.insert(event!(NewForceEvent, id)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let report = db.drain(DrainMode::Force, Duration::from_secs(10)).await;
    assert!(report.finished_within_timeout, "{report}");
    for task in waiting {
        let error = task.await.unwrap().unwrap_err();
        assert!(matches!(error, Error::Unavailable { state: "closed", .. }), "{error:?}");
    }
    let other = Database::connect(&dbkit_tests::server_url(Backend::ClickHouse).unwrap()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&other, "cht_ingest_force").await, 0, "no row of the cut-off INSERT is kept");
    let session = other.clickhouse().unwrap();
    session.client().query("DROP TABLE cht_ingest_force").execute().await.unwrap();
}
