use chrono::{DateTime, Utc};
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "events")]
pub struct Event {
    #[key]
    pub id: u64,
    pub user_id: i64,
    pub event_type: String,
    pub event_time: DateTime<Utc>,
}

#[dbkit::queries]
impl EventRepository {
    #[query("SELECT user_id, count() FROM events GROUP BY user_id")]
    async fn counts(&self) -> dbkit::Result<Vec<(i64, i32)>>;
}

fn main() {}
