//! ClickHouse has no `delete`: a mutation is an asynchronous `ALTER TABLE … DELETE`.
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
pub struct Event {
    #[key]
    pub id: u64,
    pub name: String,
}

async fn remove(events: &EventRepository) -> dbkit::Result<bool> {
    events.delete(1).await
}

fn main() {
    let _ = remove;
}
