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
    #[query("SELECT count() FROM events WHERE user_id IN (:ids)")]
    async fn count_of(&self, ids: Vec<i64>) -> dbkit::Result<u64>;
}

fn main() {}
