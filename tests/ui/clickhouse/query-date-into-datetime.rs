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
    #[query("SELECT toDate(event_time) AS day FROM events GROUP BY day")]
    async fn days(&self) -> dbkit::Result<Vec<DateTime<Utc>>>;
}

fn main() {}
