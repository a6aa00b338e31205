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
    #[query("INSERT INTO events (id, user_id, event_type, event_time) VALUES (:id, 1, 'x', now())")]
    async fn insert(&self, id: u64) -> dbkit::Result<u64>;
}

fn main() {}
