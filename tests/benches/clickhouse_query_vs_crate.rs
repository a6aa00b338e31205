//! The seed's activity query (`get_user_activity`, activity per user per day over a range) as a
//! generated `#[dbkit::queries]` method against the same statement through the `clickhouse` crate
//! directly, on the ClickHouse of `scripts/servers env` (18.16 here): the same SQL, the same
//! values bound the same way, decoded into the same shape. Each round times one call of each side
//! back to back, alternating which goes first; the figure is the median per-round ratio with its
//! interquartile range.
//!
//! ```text
//! eval "$(bash scripts/servers env)"
//! taskset -c 1 cargo bench -p dbkit-tests --bench clickhouse_query_vs_crate
//! ```

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use dbkit::clickhouse;
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "bench_user_events")]
pub struct UserEvent {
    #[key]
    pub id: u64,
    pub user_id: i64,
    pub event_type: String,
    pub event_data: serde_json::Value,
    pub event_time: DateTime<Utc>,
}

#[dbkit::queries]
impl UserEventRepository {
    #[query(
        "SELECT user_id, toDate(event_time) AS day, count() AS activity_count
         FROM bench_user_events
         WHERE event_time BETWEEN :start AND :end
         GROUP BY user_id, toDate(event_time)
         ORDER BY day DESC, user_id"
    )]
    pub async fn get_user_activity(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> dbkit::Result<Vec<(i64, NaiveDate, u64)>>;
}

/// The crate's side of the same rows.
#[derive(clickhouse::Row, serde::Deserialize)]
#[clickhouse(crate = "dbkit::clickhouse")]
struct Activity {
    user_id: i64,
    #[serde(with = "clickhouse::serde::chrono::date")]
    day: NaiveDate,
    activity_count: u64,
}

/// What dbkit sends on 18.16: the instants as seconds, converted by `toDateTime`.
const SQL: &str = "SELECT user_id, toDate(event_time) AS day, count() AS activity_count
         FROM bench_user_events
         WHERE event_time BETWEEN toDateTime(?) AND toDateTime(?)
         GROUP BY user_id, toDate(event_time)
         ORDER BY day DESC, user_id";

const ROUNDS: usize = 2_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Ok(url) = std::env::var("DBKIT_TEST_CLICKHOUSE_URL") else {
        eprintln!("skipped: run `eval \"$(bash scripts/servers env)\"` first");
        return;
    };
    let db = Database::connect(&url).await.unwrap();
    db.drop_table::<UserEvent>().await.unwrap();
    db.create_table::<UserEvent>().await.unwrap();
    let events = UserEventRepository::new(&db);
    let start = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    let rows: Vec<NewUserEvent> = (0..10_000_u64)
        .map(|i| NewUserEvent {
            id: i,
            user_id: (i % 50) as i64,
            event_type: "view".into(),
            event_data: serde_json::json!({ "n": i }),
            event_time: start + chrono::Duration::minutes(i as i64 * 7),
        })
        .collect();
    events.create_many(&rows).await.unwrap();
    let (from, to) = (start, start + chrono::Duration::days(30));
    let session = db.clickhouse().unwrap();
    let client = session.client().clone();
    let raw = async || {
        let rows: Vec<Activity> =
            client.query(SQL).bind(from.timestamp()).bind(to.timestamp()).fetch_all().await.unwrap();
        rows.into_iter().map(|r| (r.user_id, r.day, r.activity_count)).collect::<Vec<_>>()
    };
    assert_eq!(events.get_user_activity(from, to).await.unwrap(), raw().await, "the same rows");
    let paired = dbkit_tests::paired!(ROUNDS, events.get_user_activity(from, to).await.unwrap(), raw().await);
    println!("{}", paired.report("clickhouse/get_user_activity", "dbkit", "crate"));
    drop(session);
    db.drop_table::<UserEvent>().await.unwrap();
}
