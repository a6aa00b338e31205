use dbkit::prelude::*;

#[derive(Repository)]
#[database(clickhouse)]
#[repository(ttl = "")]
pub struct UserEvent {
    #[key]
    pub id: u64,
    pub at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
