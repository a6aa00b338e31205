//! The data: users (MySQL/MariaDB, PostgreSQL or SQLite) and their activity events (ClickHouse,
//! or the users' database when there is no ClickHouse). Each struct is the table; dbkit generates
//! its repository, the `NewX` and `XPatch` request bodies (`serde`), and the cache (`cache`).

use chrono::{DateTime, NaiveDate, Utc};
use dbkit::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user, as stored and as returned by the API.
#[derive(Debug, Clone, PartialEq, Repository, Serialize, Deserialize, ToSchema)]
#[database(sqlite, mysql, postgres)]
#[repository(table = "users", serde, cache(ttl = "5m"))]
pub(crate) struct User {
    #[key(auto)]
    pub(crate) id: i64,
    #[unique]
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) full_name: Option<String>,
    #[column(default = "CURRENT_TIMESTAMP")]
    pub(crate) created_at: DateTime<Utc>,
    #[column(default = "CURRENT_TIMESTAMP", on_update = "CURRENT_TIMESTAMP")]
    pub(crate) updated_at: DateTime<Utc>,
}

/// An activity event in ClickHouse: ordered for per-user scans, a partition per month.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(
    table = "user_events",
    engine = "MergeTree",
    order_by = "(user_id, event_time, id)",
    partition_by = "toYYYYMM(event_time)"
)]
pub(crate) struct UserEvent {
    #[key]
    pub(crate) id: u64,
    pub(crate) user_id: i64,
    pub(crate) event_type: String,
    pub(crate) event_data: serde_json::Value,
    pub(crate) event_time: DateTime<Utc>,
}

#[dbkit::queries]
impl UserEventRepository {
    /// Seed 000's `get_user_activity`: events per user per day, every value bound.
    #[query(
        "SELECT user_id, toDate(event_time) AS day, count() AS activity_count
         FROM user_events
         WHERE event_time BETWEEN :start AND :end
         GROUP BY user_id, toDate(event_time)
         ORDER BY day DESC, user_id"
    )]
    pub(crate) async fn activity(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> dbkit::Result<Vec<(i64, NaiveDate, u64)>>;
}

/// The same events where there is no ClickHouse: in the users' database.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, mysql, postgres)]
#[repository(table = "user_events")]
pub(crate) struct LocalEvent {
    #[key(auto)]
    pub(crate) id: i64,
    pub(crate) user_id: i64,
    pub(crate) event_type: String,
    pub(crate) event_data: serde_json::Value,
    pub(crate) event_time: DateTime<Utc>,
}

#[dbkit::queries]
impl LocalEventRepository {
    /// The same activity, in SQL every one of the three runs (`date(…)` is a function on SQLite
    /// and MySQL, a cast on PostgreSQL).
    #[query(
        "SELECT user_id, date(event_time) AS day, COUNT(*) AS activity_count
         FROM user_events
         WHERE event_time BETWEEN :start AND :end
         GROUP BY user_id, date(event_time)
         ORDER BY day DESC, user_id"
    )]
    pub(crate) async fn activity(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> dbkit::Result<Vec<(i64, NaiveDate, i64)>>;
}
