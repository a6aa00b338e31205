use chrono::{DateTime, Utc};
use dbkit::prelude::*;

#[derive(Repository)]
#[database(clickhouse)]
pub struct Event {
    #[key]
    pub id: u64,
    pub name: String,
    #[column(on_update = "now()")]
    pub seen_at: DateTime<Utc>,
}

fn main() {}
