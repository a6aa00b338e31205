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
    #[query("SELECT count() FROM events WHERE event_time >= :since")]
    async fn count_since(&self, since: &str) -> dbkit::Result<u64>;
}

fn main() {}
